//! Hints: the commands s3up suggests, worded so that they work when pasted.
//!
//! Every suggested command goes through [`suggest`], which adds the options
//! that say where this run's journals and uploads are; a bare `` `s3up …` ``
//! in a message would drop them. A leaf within `output`: every other
//! module here words its hints with it.

use std::path::PathBuf;
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

/// Where a `--via` run's token came from. A suggested `resume` or `abort`
/// (which need the token again, since the journal never holds it) names the
/// same source, never the token itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    /// `--token-file PATH` (absolute, so the command works from anywhere).
    File(PathBuf),
    /// The S3UP_TOKEN environment variable.
    Env,
    /// `--token TOKEN` on the command line, which is never repeated.
    CommandLine,
}

static TOKEN: OnceLock<TokenSource> = OnceLock::new();

/// Records where this run's token came from; see [`TokenSource`].
pub fn set_token_source(source: TokenSource) {
    let _ = TOKEN.set(source);
}

/// A command to suggest, quoted: `` `s3up ARGS OPTIONS` ``, and for a
/// `resume` or `abort ID` in a run that used a token, that token's source.
pub fn suggest(args: &str) -> String {
    let (option, words) = token_hint(args, TOKEN.get());
    format!("`s3up {args}{}{option}`{words}", again_options())
}

/// What a suggested command adds for the token: an option inside the
/// command, or words after it.
fn token_hint(args: &str, source: Option<&TokenSource>) -> (String, &'static str) {
    let first = args.split(' ').next().unwrap_or("");
    let takes_token = (first == "resume" || first == "abort") && !args.contains("--remote");
    match source.filter(|_| takes_token) {
        Some(TokenSource::File(path)) => (
            format!(" --token-file {}", quote(&path.display().to_string())),
            "",
        ),
        Some(TokenSource::Env) => (String::new(), " (with S3UP_TOKEN set, as now)"),
        Some(TokenSource::CommandLine) => (
            String::new(),
            " (with the token in S3UP_TOKEN or in a --token-file FILE)",
        ),
        None => (String::new(), ""),
    }
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

    #[test]
    fn resume_and_abort_name_the_token_source_not_the_token() {
        let file = TokenSource::File(PathBuf::from("/home/a/my token"));
        assert_eq!(
            token_hint("resume 983d7831e981", Some(&file)),
            (" --token-file '/home/a/my token'".to_string(), "")
        );
        assert_eq!(
            token_hint("abort 983d7831e981", Some(&TokenSource::Env)).1,
            " (with S3UP_TOKEN set, as now)"
        );
        assert!(token_hint("resume", Some(&TokenSource::CommandLine))
            .1
            .contains("S3UP_TOKEN"));
        // Commands that take no token, or none used, get nothing.
        assert_eq!(token_hint("list-pending", Some(&file)), (String::new(), ""));
        assert_eq!(
            token_hint("abort --remote s3://b --older-than 7d", Some(&file)),
            (String::new(), "")
        );
        assert_eq!(token_hint("resume x", None), (String::new(), ""));
    }
}
