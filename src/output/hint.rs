//! Hints: the commands s3up suggests, worded so that they work when pasted.
//!
//! Every suggested command goes through [`suggest`], which adds the options
//! that say where this run's journals and uploads are; a bare `` `s3up …` ``
//! in a message would drop them. A leaf within `output`: every other
//! module here words its hints with it.

use std::sync::OnceLock;

/// The options that say where this run's journals and uploads are
/// (`--endpoint-url`, `--profile`, `--region`, `--path-style`,
/// `--journal-dir`, as given on the command line), each with a leading
/// space: every command s3up suggests carries them, so it works when pasted.
static AGAIN: OnceLock<String> = OnceLock::new();

/// Records the options every suggested command must carry; see [`AGAIN`].
pub fn set_again_options(options: String) {
    let _ = AGAIN.set(options);
}

/// The options every suggested command must carry, each with a leading space.
pub(crate) fn again_options() -> &'static str {
    AGAIN.get().map_or("", String::as_str)
}

/// A command to suggest, quoted: `` `s3up ARGS OPTIONS` ``.
pub fn suggest(args: &str) -> String {
    format!("`s3up {args}{}`", again_options())
}

/// `s` as one shell word: quoted when it holds anything but plain characters.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_words_are_quoted_for_the_shell() {
        assert_eq!(quote("/tmp/a.bin"), "/tmp/a.bin");
        assert_eq!(quote("my file"), "'my file'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
