//! The object options at parity with `aws s3 cp` (issue 23, section 1):
//! encryption, ACL, the HTTP headers an object keeps, tags, and the two
//! request-level options (expected bucket owner, requester pays).
//!
//! They live in one struct, [`ObjectExtras`], journalled inside
//! [`super::ObjectOptions`] so that `resume` completes an upload with the
//! options it started with. Nothing in it is a secret: an SSE-C key is kept
//! only in memory ([`SseCustomerKey`]) and the journal holds its MD5, which
//! S3 itself stores and returns, so that `resume` can refuse a different key.
//!
//! Where the options go on the wire:
//! - on the request that creates the object (PutObject, CreateMultipartUpload):
//!   all of them (`store::sdk::options`);
//! - on every request: the expected bucket owner and requester pays;
//! - on every request that reads or writes the object's bytes (UploadPart,
//!   CompleteMultipartUpload, HeadObject, ListParts): the SSE-C key.
//!
//! With SSE-KMS or SSE-C an object's or part's ETag is not the MD5 of its
//! bytes ([`ObjectExtras::etag_is_md5`]), so no check may rely on it then.

use super::AnyStore;

/// `--sse` values, as aws names them.
pub const SSE_VALUES: &[&str] = &["AES256", "aws:kms", "aws:kms:dsse"];

/// The object options beyond content type, storage class and metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct ObjectExtras {
    /// `x-amz-server-side-encryption`: AES256, aws:kms or aws:kms:dsse.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse_kms_key_id: Option<String>,
    /// SSE-C's algorithm (AES256) when the object is encrypted with the
    /// caller's key; the key itself is never here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse_c: Option<String>,
    /// Base64 MD5 of the SSE-C key: `resume` refuses a key whose MD5 differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sse_c_key_md5: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acl: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// RFC 3339 (`2027-01-01T00:00:00Z`), as checked by the command line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    /// URL-encoded `key=value&key=value`, as S3's `x-amz-tagging` takes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagging: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_bucket_owner: Option<String>,
    /// `requester`: the caller pays for the requests (Requester Pays buckets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_payer: Option<String>,
}

impl ObjectExtras {
    pub fn is_empty(&self) -> bool {
        *self == ObjectExtras::default()
    }

    /// Whether the store's ETags are the MD5 of the bytes: not with SSE-KMS
    /// (aws:kms, aws:kms:dsse) or SSE-C, where AWS returns another value.
    pub fn etag_is_md5(&self) -> bool {
        let kms = self
            .sse
            .as_deref()
            .is_some_and(|s| s.starts_with("aws:kms"));
        !kms && self.sse_c.is_none()
    }

    /// What every request of the upload carries, with the SSE-C key given
    /// for it (checked against [`ObjectExtras::sse_c_key_md5`] by the caller).
    pub fn request_options(&self, sse_c_key: Option<SseCustomerKey>) -> RequestOptions {
        RequestOptions {
            expected_bucket_owner: self.expected_bucket_owner.clone(),
            request_payer: self.request_payer.clone(),
            sse_c_key,
        }
    }
}

/// An SSE-C key: 256 bits, held in memory only, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SseCustomerKey([u8; 32]);

impl std::fmt::Debug for SseCustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SseCustomerKey(md5 {})", self.md5_b64())
    }
}

impl SseCustomerKey {
    /// The key from what a key file holds: 32 raw bytes, or their base64
    /// (surrounding white space ignored). `None` for anything else.
    pub fn from_file_bytes(bytes: &[u8]) -> Option<SseCustomerKey> {
        if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
            return Some(SseCustomerKey(raw));
        }
        use base64::Engine;
        let text = std::str::from_utf8(bytes).ok()?.trim();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?;
        <[u8; 32]>::try_from(decoded.as_slice())
            .ok()
            .map(SseCustomerKey)
    }

    pub fn key_b64(&self) -> String {
        super::b64(&self.0)
    }

    /// Base64 MD5 of the key, as `x-amz-server-side-encryption-customer-key-MD5`.
    pub fn md5_b64(&self) -> String {
        use md5::{Digest as _, Md5};
        super::b64(&Md5::digest(self.0))
    }
}

/// What every request of a run carries, beyond the object's own options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOptions {
    pub expected_bucket_owner: Option<String>,
    pub request_payer: Option<String>,
    pub sse_c_key: Option<SseCustomerKey>,
}

impl RequestOptions {
    pub fn is_empty(&self) -> bool {
        *self == RequestOptions::default()
    }
}

impl AnyStore {
    /// The same store, every request carrying `request` (a backend takes
    /// none: it holds the options itself).
    pub fn with_request_options(self, request: &RequestOptions) -> AnyStore {
        match self {
            AnyStore::Sdk(s) if !request.is_empty() => AnyStore::Sdk(s.with_request(request)),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_md5s_only_without_kms_or_sse_c() {
        let mut x = ObjectExtras::default();
        assert!(x.etag_is_md5());
        x.sse = Some("AES256".into());
        assert!(x.etag_is_md5());
        x.sse = Some("aws:kms".into());
        assert!(!x.etag_is_md5());
        x.sse = Some("aws:kms:dsse".into());
        assert!(!x.etag_is_md5());
        let c = ObjectExtras {
            sse_c: Some("AES256".into()),
            ..ObjectExtras::default()
        };
        assert!(!c.etag_is_md5());
    }

    #[test]
    fn keys_are_32_raw_bytes_or_their_base64() {
        let raw = [7u8; 32];
        let k = SseCustomerKey::from_file_bytes(&raw).unwrap();
        let text = format!("{}\n", k.key_b64());
        assert_eq!(
            SseCustomerKey::from_file_bytes(text.as_bytes()),
            Some(k.clone())
        );
        assert_eq!(SseCustomerKey::from_file_bytes(&[7u8; 31]), None);
        assert_eq!(SseCustomerKey::from_file_bytes(b"not a key"), None);
        // The MD5 is of the raw key, as S3 computes it.
        use md5::{Digest as _, Md5};
        assert_eq!(k.md5_b64(), crate::store::b64(&Md5::digest(raw)));
        assert!(!format!("{k:?}").contains(&k.key_b64()));
    }

    #[test]
    fn an_empty_set_is_left_out_of_the_journal() {
        let json = serde_json::to_string(&ObjectExtras {
            acl: Some("private".into()),
            ..ObjectExtras::default()
        })
        .unwrap();
        assert_eq!(json, r#"{"acl":"private"}"#);
        let back: ObjectExtras = serde_json::from_str("{}").unwrap();
        assert!(back.is_empty());
    }
}
