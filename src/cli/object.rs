//! The object options at parity with `aws s3 cp` (issue 23): their names and
//! meanings are aws's, so a command line moves from one tool to the other.
//! What they become on the wire is [`crate::store::object_options`]'s.

use std::path::PathBuf;

use clap::Args;

/// Encryption, ACL, headers and tags of the object (`put`, `sync`).
#[derive(Debug, Clone, Default, Args)]
pub struct ObjectExtraArgs {
    /// Server-side encryption: AES256 (SSE-S3), aws:kms (SSE-KMS) or
    /// aws:kms:dsse [default: the bucket's]
    #[arg(long, value_name = "ALG", value_parser = clap::builder::PossibleValuesParser::new(crate::store::object_options::SSE_VALUES))]
    pub sse: Option<String>,

    /// The KMS key for --sse aws:kms (an ID, ARN or alias) [default: the
    /// account's aws/s3 key]
    #[arg(long, value_name = "KEY_ID", requires = "sse")]
    pub sse_kms_key_id: Option<String>,

    /// Encrypt with your own key (SSE-C, AES256), read from --sse-c-key. The
    /// key is never written to the journal: `s3up resume` needs it again
    #[arg(long, value_name = "ALG", num_args = 0..=1, default_missing_value = "AES256",
          value_parser = ["AES256"], requires = "sse_c_key", conflicts_with = "sse")]
    pub sse_c: Option<String>,

    /// The SSE-C key: a file holding its 32 bytes, raw or in base64
    /// (fileb://PATH is accepted too)
    #[arg(long, value_name = "FILE", requires = "sse_c", value_parser = parse_key_file)]
    pub sse_c_key: Option<PathBuf>,

    /// Canned ACL of the object, e.g. bucket-owner-full-control
    #[arg(long, value_name = "ACL", value_parser = clap::builder::PossibleValuesParser::new(crate::store::sdk::options::canned_acls()))]
    pub acl: Option<String>,

    /// Cache-Control of the object, e.g. 'max-age=3600'
    #[arg(long, value_name = "VALUE")]
    pub cache_control: Option<String>,

    /// Content-Disposition of the object, e.g. 'attachment; filename="a.bin"'
    #[arg(long, value_name = "VALUE")]
    pub content_disposition: Option<String>,

    /// Content-Encoding of the object, e.g. gzip (the bytes are sent as they are)
    #[arg(long, value_name = "VALUE")]
    pub content_encoding: Option<String>,

    /// Content-Language of the object, e.g. en-GB
    #[arg(long, value_name = "VALUE")]
    pub content_language: Option<String>,

    /// Expires header of the object: 2027-01-01T00:00:00Z, or an HTTP date
    #[arg(long, value_name = "DATE", value_parser = parse_expires)]
    pub expires: Option<String>,

    /// Tags of the object, URL-encoded: 'key1=value1&key2=value2'
    #[arg(long, value_name = "TAGS", value_parser = parse_tagging)]
    pub tagging: Option<String>,

    /// Fail unless the bucket belongs to this AWS account ID
    #[arg(long, value_name = "ACCOUNT_ID")]
    pub expected_bucket_owner: Option<String>,

    /// Accept the charges of a Requester Pays bucket
    #[arg(long, value_name = "PAYER", num_args = 0..=1, default_missing_value = "requester",
          value_parser = ["requester"])]
    pub request_payer: Option<String>,
}

/// What `serve` imposes on every upload it signs: its clients cannot drop
/// or change these (a bucket policy that demands them then holds).
#[derive(Debug, Clone, Default, Args)]
pub struct ImposedArgs {
    /// Encrypt every object: AES256, aws:kms or aws:kms:dsse
    #[arg(long, value_name = "ALG", value_parser = clap::builder::PossibleValuesParser::new(crate::store::object_options::SSE_VALUES))]
    pub sse: Option<String>,

    /// The KMS key for --sse aws:kms (an ID, ARN or alias)
    #[arg(long, value_name = "KEY_ID", requires = "sse")]
    pub sse_kms_key_id: Option<String>,

    /// Storage class of every object, e.g. STANDARD_IA
    #[arg(long, value_name = "CLASS", value_parser = clap::builder::PossibleValuesParser::new(crate::store::sdk::storage_classes()))]
    pub storage_class: Option<String>,

    /// Tags of every object, URL-encoded: 'key1=value1&key2=value2'
    #[arg(long, value_name = "TAGS", value_parser = parse_tagging)]
    pub tagging: Option<String>,
}

/// `--sse-c-key FILE` or `fileb://FILE`: the path (read by the command).
pub fn parse_key_file(s: &str) -> Result<PathBuf, String> {
    let path = s.strip_prefix("fileb://").unwrap_or(s);
    if path.is_empty() {
        return Err(crate::output::options::key_file_missing());
    }
    Ok(PathBuf::from(path))
}

fn parse_expires(s: &str) -> Result<String, String> {
    crate::store::sdk::options::parse_expires(s)
        .ok_or_else(|| crate::output::options::bad_expires(s))
}

/// `key=value&key=value`, URL-encoded as S3 takes it: every pair has a
/// key, and a key appears once.
fn parse_tagging(s: &str) -> Result<String, String> {
    let mut keys = Vec::new();
    for pair in s.split('&') {
        let key = pair.split('=').next().unwrap_or("");
        if key.is_empty() || !pair.contains('=') {
            return Err(crate::output::options::bad_tagging(s, pair));
        }
        if keys.contains(&key) {
            return Err(crate::output::options::tag_twice(s, key));
        }
        keys.push(key);
    }
    Ok(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_dates_are_checked() {
        assert_eq!(parse_tagging("a=1&b=").as_deref(), Ok("a=1&b="));
        assert!(parse_tagging("a").unwrap_err().contains("'a'"));
        assert!(parse_tagging("a=1&a=2").unwrap_err().contains("twice"));
        assert!(parse_tagging("=1").is_err());
        assert!(parse_expires("soon").unwrap_err().contains("'soon'"));
        assert_eq!(
            parse_key_file("fileb:///tmp/k"),
            Ok(PathBuf::from("/tmp/k"))
        );
    }
}
