//! The key policy: which object keys a caller may name, and the key a caller
//! gets when it names none.
//!
//! Every route that takes a key (create, list, sign, batch, complete, abort,
//! object status) checks it here, so no caller can reach, finish or abort an
//! upload outside its own prefix. A key is refused, quoting it, when it:
//! - is empty, or longer than S3's 1,024 bytes;
//! - starts with `/` (an absolute path in most tools that mirror a bucket);
//! - has a `..` segment (a path escape in those same tools);
//! - has a control character (log and header injection);
//! - does not start with the caller's scope: `--prefix` followed by the
//!   caller's own prefix (403, not 400: the key is well formed, just not theirs).
//!
//! Prefixes are compared as strings, so each one is normalised to end in `/`:
//! otherwise a caller holding `alice` could write `alice2/…`.

use super::error::ApiError;

use crate::s3::MAX_KEY_BYTES;

/// Hex digits of randomness in a default key: 64 bits, enough that two
/// uploads of the same file name never collide in practice.
const RANDOM_ID_HEX: usize = 16;

/// `p` as a prefix: without a leading `/`, and ending in `/` unless empty.
pub fn normalize_prefix(p: &str) -> String {
    let p = p.trim_start_matches('/');
    if p.is_empty() || p.ends_with('/') {
        p.to_string()
    } else {
        format!("{p}/")
    }
}

/// Checks `key`'s form (400) and that it lies in `scope` (403).
pub fn check(key: &str, scope: &str) -> Result<(), ApiError> {
    check_form(key)?;
    if !key.starts_with(scope) {
        return Err(ApiError::forbidden(format!(
            "key '{}' is outside what this token may write: keys must start with '{scope}'",
            quoted(key)
        )));
    }
    Ok(())
}

/// The checks of a key's form alone.
pub fn check_form(key: &str) -> Result<(), ApiError> {
    let bad = |why: &str| {
        Err(ApiError::bad_request(
            "bad_key",
            format!("key '{}' {why}", quoted(key)),
        ))
    };
    if key.is_empty() {
        return bad("is empty: pass the key that create returned, as ?key=");
    }
    if key.len() > MAX_KEY_BYTES {
        return bad(&format!(
            "is longer than S3's {MAX_KEY_BYTES}-byte limit: use a shorter name"
        ));
    }
    if key.starts_with('/') {
        return bad("starts with '/': keys are relative, write it without the leading '/'");
    }
    if key.chars().any(char::is_control) {
        return bad("contains a control character: remove it");
    }
    // Backslashes too: tools that mirror a bucket on Windows (aws-cli,
    // rclone) take them for path separators.
    if key.split(['/', '\\']).any(|segment| segment == "..") {
        return bad("has a '..' segment: name the key without '..'");
    }
    // A POST-form upload (/s3/params) has the store replace `${filename}` in
    // the key with the uploaded file's name, which the uploader chooses.
    if key.contains("${") {
        return bad("contains '${', which stores replace in POST uploads: remove it");
    }
    Ok(())
}

/// The key a caller gets when it names none, as Companion's default
/// `getKey` makes it: a random id, `-`, and the file name; here under the
/// caller's scope, with the file name made safe to be one key segment.
pub fn default_key(scope: &str, filename: &str) -> Result<String, ApiError> {
    let name: String = filename
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| if c == '/' || c == '\\' { '_' } else { c })
        .collect();
    if name.is_empty() {
        return Err(ApiError::bad_request(
            "bad_filename",
            format!(
                "filename '{}' has nothing left once control characters are removed: send the file's name",
                quoted(filename)
            ),
        ));
    }
    let id: String = (0..RANDOM_ID_HEX)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect();
    let mut key = format!("{scope}{id}-");
    // Keep the file name's end (its extension) when the key would be too long.
    let room = MAX_KEY_BYTES.saturating_sub(key.len());
    let mut start = name.len().saturating_sub(room);
    while !name.is_char_boundary(start) {
        start += 1;
    }
    key.push_str(&name[start..]);
    check(&key, scope)?;
    Ok(key)
}

/// A value fit to quote in a message: control characters escaped, and cut
/// at 200 bytes so a 1 MiB key does not make a 1 MiB error.
pub fn quoted(s: &str) -> String {
    let mut out: String = s.chars().flat_map(char::escape_default).collect();
    if out.len() > 200 {
        let mut end = 200;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_normalised() {
        assert_eq!(normalize_prefix(""), "");
        assert_eq!(normalize_prefix("/"), "");
        assert_eq!(normalize_prefix("alice"), "alice/");
        assert_eq!(normalize_prefix("/up/alice/"), "up/alice/");
    }

    #[test]
    fn keys_are_checked() {
        let scope = "up/alice/";
        assert!(check("up/alice/a.bin", scope).is_ok());
        assert!(check("up/alice/x/..y/z", scope).is_ok());
        for (key, status) in [
            ("up/alice/../bob/a", 400),
            ("up/alice/..\\..\\bob\\a", 400),
            ("up/alice/a${filename}", 400),
            ("..", 400),
            ("/up/alice/a", 400),
            ("up/alice/a\nb", 400),
            ("", 400),
            ("up/alice2/a", 403),
            ("up/bob/a", 403),
            ("up/alice", 403),
        ] {
            let e = check(key, scope).unwrap_err();
            assert_eq!(e.status.as_u16(), status, "{key:?}: {}", e.message);
        }
        let long = format!("{scope}{}", "a".repeat(1020));
        assert_eq!(check(&long, scope).unwrap_err().status.as_u16(), 400);
    }

    #[test]
    fn default_keys_stay_in_scope() {
        let k = default_key("up/alice/", "../../etc/passwd").unwrap();
        assert!(
            k.starts_with("up/alice/") && k.ends_with("-.._.._etc_passwd"),
            "{k}"
        );
        assert!(check(&k, "up/alice/").is_ok());
        let k = default_key("", &format!("{}.bin", "é".repeat(1000))).unwrap();
        assert!(k.len() <= MAX_KEY_BYTES && k.ends_with(".bin"), "{k}");
        assert!(default_key("", "\n").is_err());
        assert_ne!(default_key("", "a").unwrap(), default_key("", "a").unwrap());
    }

    #[test]
    fn quoting_escapes_and_cuts() {
        assert_eq!(quoted("a\nb"), "a\\nb");
        assert!(quoted(&"x".repeat(5000)).len() < 210);
    }
}
