//! S3's own facts: where an object is ([`Location`], `s3://BUCKET/KEY`) and
//! every limit S3 sets, each with its source.
//!
//! A leaf: the command line parses locations with it, planning and the
//! messages use its limits, and nothing here knows of the engine or a store.
//! The multipart limits come from the Amazon S3 user guide, "Amazon S3
//! multipart upload limits" (docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html).

use std::fmt;
use std::time::Duration;

use crate::units::MIB;

/// Smallest part S3 accepts, except for the last part of an upload.
pub const MIN_PART_SIZE: u64 = 5 * MIB;
/// Largest part S3 accepts.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * MIB;
/// Part numbers run from 1 to this, inclusive.
pub const MAX_PARTS: u64 = 10_000;
/// Largest object S3 stores: "48.8 TiB" in the limits table above, that is 50 TB
/// (it was 5 TiB until December 2025; S3-compatible stores may be lower).
pub const MAX_OBJECT_SIZE: u64 = 50_000_000_000_000;
/// The largest single PutObject (and POST upload) S3 accepts, 5 GiB: the POST
/// policy's `content-length-range` ends there (user guide, "Uploading objects").
pub const MAX_SINGLE_UPLOAD: u64 = 5 * 1024 * MIB;
/// Longest key, in bytes of UTF-8 (user guide, "Naming Amazon S3 objects").
pub const MAX_KEY_BYTES: usize = 1024;
/// Bucket names are 3 to 63 characters long (user guide, "General purpose
/// bucket naming rules").
pub const BUCKET_NAME_LEN: std::ops::RangeInclusive<usize> = 3..=63;
/// The longest a SigV4 presigned URL may live: 7 days (S3 API reference,
/// "Authenticating Requests: Using Query Parameters", X-Amz-Expires).
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 86_400);

/// Where an object is: a bucket and a key (empty, or ending in '/', for a
/// prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub key: String,
}

impl Location {
    /// Parses `s3://BUCKET[/KEY]`. The bucket must follow S3's naming rules.
    pub fn parse(s: &str) -> Result<Location, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("'{s}' is not an S3 URL: write it as s3://BUCKET/KEY"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!(
                "'{s}' has no bucket name: write it as s3://BUCKET/KEY"
            ));
        }
        let valid_chars = bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let alnum_ends = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !BUCKET_NAME_LEN.contains(&bucket.len()) || !valid_chars || !alnum_ends {
            return Err(format!(
                "'{bucket}' in '{s}' is not a valid bucket name: 3 to 63 lowercase letters, \
                 digits, dots or hyphens, starting and ending with a letter or digit"
            ));
        }
        if key.len() > MAX_KEY_BYTES {
            return Err(format!(
                "the key in '{s}' is longer than S3's {MAX_KEY_BYTES}-byte limit"
            ));
        }
        Ok(Location {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// Checks a bare key (one given without `s3://`): only its length.
    pub fn check_key(key: &str) -> Result<(), String> {
        if key.len() > MAX_KEY_BYTES {
            return Err(format!(
                "the key '{key}' is longer than S3's {MAX_KEY_BYTES}-byte limit"
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// `put`'s destination: `s3://BUCKET/KEY`, or with --via a bare key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    S3(Location),
    Key(String),
}

impl Target {
    /// An `s3://` URL is checked as one; anything else is a key for --via
    /// (`put` refuses it without --via, quoting [`Location::parse`]'s message).
    pub fn parse(s: &str) -> Result<Target, String> {
        if s.starts_with("s3://") {
            Location::parse(s).map(Target::S3)
        } else {
            Location::check_key(s)?;
            Ok(Target::Key(s.to_string()))
        }
    }
}

/// A bucket named alone (no `s3://`, no key).
pub fn bucket_name(s: &str) -> Result<String, String> {
    let url = Location::parse(&format!("s3://{s}"))?;
    if !url.key.is_empty() {
        return Err(format!(
            "'{s}' is not a bucket name: give the prefix with --prefix"
        ));
    }
    Ok(url.bucket)
}

/// `size`, written `s`, as a part size: [`MIN_PART_SIZE`] (or `min`, lower
/// in a bench build) to [`MAX_PART_SIZE`].
pub fn check_part_size(s: &str, size: u64, min: u64) -> Result<u64, String> {
    if !(min..=MAX_PART_SIZE).contains(&size) {
        return Err(format!(
            "part size '{s}' ({}) is outside S3's limits: use 5MiB to 5GiB",
            crate::units::size(size)
        ));
    }
    Ok(size)
}

/// A presigned URL's life, written `s`: 1 second to [`MAX_PRESIGN_EXPIRY`].
pub fn check_presign_expiry(s: &str, d: Duration) -> Result<Duration, String> {
    if d < Duration::from_secs(1) || d > MAX_PRESIGN_EXPIRY {
        return Err(format!(
            "URL expiry '{s}' is outside 1s to 7d, the range SigV4 allows"
        ));
    }
    Ok(d)
}

/// User metadata as `KEY=VALUE`: S3 sends it as an `x-amz-meta-KEY` HTTP
/// header, so the name is a token (folded to lower case, as S3 does) and the
/// value printable ASCII.
pub fn parse_metadata(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not KEY=VALUE"))?;
    let key_ok = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !key_ok {
        return Err(format!(
            "metadata key '{k}' must be non-empty ASCII letters, digits, '-', '_' or '.'"
        ));
    }
    if !v.is_ascii() || v.chars().any(|c| c.is_ascii_control()) {
        return Err(format!(
            "metadata value '{v}' must be printable ASCII (S3 sends it in an HTTP header)"
        ));
    }
    Ok((k.to_ascii_lowercase(), v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls() {
        let u = Location::parse("s3://my-bucket/a/b.bin").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.key.as_str()),
            ("my-bucket", "a/b.bin")
        );
        assert_eq!(Location::parse("s3://bkt").unwrap().key, "");
        assert_eq!(Location::parse("s3://bkt/dir/").unwrap().key, "dir/");
        for bad in [
            "bkt/key",
            "s3:/bkt/k",
            "s3:///k",
            "s3://B/k",
            "s3://ab/k",
            "s3://-ab/k",
        ] {
            let err = Location::parse(bad).unwrap_err();
            assert!(err.contains('\''), "{bad}: {err}");
        }
        assert_eq!(u.to_string(), "s3://my-bucket/a/b.bin");
    }

    #[test]
    fn metadata() {
        assert_eq!(
            parse_metadata("Owner=me"),
            Ok(("owner".into(), "me".into()))
        );
        assert_eq!(parse_metadata("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_metadata("novalue").is_err());
        assert!(parse_metadata("=v").is_err());
        assert!(parse_metadata("k=é").is_err());
    }

    #[test]
    fn keys_are_limited_to_1024_bytes() {
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(Location::parse(&format!("s3://bkt/{long}"))
            .unwrap_err()
            .contains("1024-byte"));
        assert!(Location::check_key(&long)
            .unwrap_err()
            .contains("1024-byte"));
        assert!(Location::check_key(&long[1..]).is_ok());
    }
}
