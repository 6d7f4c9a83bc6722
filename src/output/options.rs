//! The object options' words (issue 23): values the command line refuses,
//! an SSE-C key that cannot be read or is not the upload's, options a
//! backend cannot take.

use std::path::Path;

use crate::error::Error;

pub fn key_file_missing() -> String {
    "--sse-c-key needs a file: --sse-c-key PATH or fileb://PATH, holding the 32-byte key \
     (raw or in base64)"
        .to_string()
}

pub fn bad_expires(s: &str) -> String {
    format!(
        "'{s}' is not a date: write it as 2027-01-01T00:00:00Z (RFC 3339) or \
         'Fri, 01 Jan 2027 00:00:00 GMT'"
    )
}

pub fn bad_tagging(s: &str, pair: &str) -> String {
    format!(
        "'{s}' is not a tag set: '{pair}' needs a key and '=', as in 'key1=value1&key2=value2' \
         (URL-encode '&', '=' and spaces inside keys and values)"
    )
}

pub fn tag_twice(s: &str, key: &str) -> String {
    format!("'{s}' names the tag '{key}' twice: give each key once")
}

/// `--sse-kms-key-id` with `--sse AES256`.
pub fn kms_key_without_kms(sse: &str) -> Error {
    Error::Usage(format!(
        "--sse-kms-key-id needs --sse aws:kms or aws:kms:dsse, not --sse {sse}"
    ))
}

pub fn key_unreadable(path: &Path, err: &std::io::Error) -> Error {
    Error::Failed(format!(
        "cannot read the SSE-C key file '{}': {err}. Name a readable file with --sse-c-key",
        path.display()
    ))
}

pub fn key_malformed(path: &Path, len: usize) -> Error {
    Error::Failed(format!(
        "'{}' holds no SSE-C key ({len} bytes): the file must hold the 32-byte key, raw or in \
         base64 (e.g. `head -c 32 /dev/urandom > KEY`)",
        path.display()
    ))
}

/// A resume of an SSE-C upload without `--sse-c-key`.
pub fn key_needed(id: &str) -> Error {
    Error::Failed(format!(
        "upload {id} is encrypted with your own key (SSE-C), which the journal does not keep: \
         run `s3up resume {id} --sse-c-key FILE` with the key it started with"
    ))
}

/// A resume with another SSE-C key than the upload's.
pub fn key_differs(id: &str, given: &str, recorded: &str) -> Error {
    Error::Failed(format!(
        "the SSE-C key given (MD5 {given}) is not the one upload {id} started with (MD5 \
         {recorded}): S3 would refuse its parts. Give the key it started with, or \
         `s3up abort {id}` and put the file again"
    ))
}

/// `--sse-c-key` for an upload that has no SSE-C.
pub fn key_not_used(id: &str) -> Error {
    Error::Usage(format!(
        "upload {id} is not encrypted with your own key (SSE-C): leave out --sse-c-key"
    ))
}

/// Object options with `--via`: the backend sets the object's options.
pub fn not_through_backend() -> Error {
    Error::Usage(
        "--sse, --sse-c, --acl, --tagging and the other object options are not sent through a \
         --via backend: the backend imposes its own (s3up serve --sse … --tagging …). Leave \
         them out, or upload with AWS credentials"
            .to_string(),
    )
}

/// `--no-verify-ssl`: said once, on stderr.
pub fn no_verify_ssl() {
    super::warning(
        "--no-verify-ssl: the endpoint's TLS certificate is not checked, so anyone on the path \
         can read and change what is sent; use --ca-bundle FILE for a private CA instead",
    );
}
