//! Presigning for `s3up serve`: UploadPart URLs a client PUTs part bodies
//! to, the POST form a browser uploads a small file with, and the expiry both
//! are given. It lives here because this folder is the only place that
//! touches aws-sdk-s3 (DESIGN §4).
//!
//! Facts this code relies on (DESIGN §4b, measured on Garage 2.5.0 and moto 5.1.22):
//! - `presigned()` keeps a checksum set on the request as a *signed header*:
//!   the client must send `x-amz-checksum-sha256` with exactly that value, and
//!   S3 (Garage: 400 `InvalidDigest`) refuses a body that does not match it.
//! - `checksum_algorithm` is never set when presigning: it would add a signed
//!   `x-amz-sdk-checksum-algorithm` header that browsers do not know to send.
//!   And with `request_checksum_calculation = WhenRequired` (see `connect`)
//!   the SDK presigns no CRC of its own. Stock Companion presigns the CRC32 of
//!   an empty body into every part URL, which Garage rejects; this does not.
//! - SigV4 allows at most 7 days, and a URL never outlives the credentials
//!   that signed it, so [`SdkStore::presign_expiry`] clamps to both.
//! - aws-sdk-s3 has no presigned POST. [`SdkStore::presign_post`] builds the
//!   policy as AWS documents it ("Authenticating Requests: Browser-Based
//!   Uploads Using POST (AWS Signature Version 4)"): the policy is a JSON
//!   document, base64-encoded; the signature is HMAC-SHA256 of that base64
//!   text under the usual SigV4 signing key (date, region, `s3`,
//!   `aws4_request`), both computed by aws-sigv4, the SDK's own signer.

use std::time::{Duration, SystemTime};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_smithy_types::date_time::Format;
use aws_smithy_types::DateTime;

use super::errors::{classify, fatal};
use super::SdkStore;
use crate::store::errors::error_chain;
use crate::store::{b64, ErrorKind, StoreError, UploadHandle};

use crate::s3::{MAX_PRESIGN_EXPIRY, MAX_SINGLE_UPLOAD};

/// A presigned request: the URL, and the headers the client must send with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    pub url: String,
    /// Signed headers besides `host`, e.g. `x-amz-checksum-sha256`.
    pub headers: Vec<(String, String)>,
}

/// A presigned POST form: the bucket URL (ending in `/`) and the form fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedPost {
    pub url: String,
    pub fields: Vec<(String, String)>,
}

impl SdkStore {
    /// `wanted`, shortened to SigV4's 7 days and to what is left of the
    /// credentials' life (temporary credentials end every URL they signed).
    pub async fn presign_expiry(&self, wanted: Duration) -> Result<Duration, StoreError> {
        let mut expiry = wanted.min(MAX_PRESIGN_EXPIRY);
        if let Some(until) = self.credentials().await?.expiry() {
            let left = until
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO);
            expiry = expiry.min(left);
        }
        if expiry < Duration::from_secs(1) {
            return Err(StoreError::new(
                ErrorKind::Retryable,
                "Presign",
                "the credentials expire in less than a second",
            ));
        }
        Ok(expiry)
    }

    /// A presigned UploadPart URL. With `sha256` (base64), the checksum is a
    /// signed header: S3 refuses a body whose SHA-256 differs.
    pub async fn presign_upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        checksum: Option<&crate::checksum::Tagged>,
        expires_in: Duration,
    ) -> Result<PresignedRequest, StoreError> {
        let config = PresigningConfig::expires_in(expires_in)
            .map_err(|e| fatal("PresignUploadPart", error_chain(&e)))?;
        // Signed with the very credentials whose expiry `presign_expiry`
        // measured: the SDK's own identity cache fetches separately, and with
        // credentials that differ at every fetch (AssumeRole, SSO) it could
        // hold a set that dies before the expiry this URL is reported with.
        let credentials = self.credentials().await?;
        let mut req = self
            .client
            .upload_part()
            .bucket(&upload.bucket)
            .key(&upload.key)
            .upload_id(&upload.upload_id)
            .part_number(number as i32);
        // The value only, never `checksum_algorithm`: that would add a
        // signed `x-amz-sdk-checksum-algorithm` the client must also send.
        if let Some(t) = checksum {
            req = super::checksum::with_checksum!(req, t);
        }
        let presigned = req
            .customize()
            .config_override(
                aws_sdk_s3::config::Builder::default().credentials_provider(credentials),
            )
            .presigned(config)
            .await
            .map_err(|e| classify("PresignUploadPart", e))?;
        Ok(PresignedRequest {
            url: presigned.uri().to_string(),
            headers: presigned
                .headers()
                .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
                .map(|(name, value)| (name.to_ascii_lowercase(), value.to_string()))
                .collect(),
        })
    }

    /// The URL a POST form for `bucket` goes to, ending in `/`: the URL a
    /// presigned PutObject would use, without its key and query (so it follows
    /// the endpoint and path-style settings exactly as the SDK does).
    pub async fn bucket_url(&self, bucket: &str) -> Result<String, StoreError> {
        const PROBE_KEY: &str = "s3up-probe-key";
        let config = PresigningConfig::expires_in(Duration::from_secs(60))
            .map_err(|e| fatal("PresignPost", error_chain(&e)))?;
        let presigned = self
            .client
            .put_object()
            .bucket(bucket)
            .key(PROBE_KEY)
            .presigned(config)
            .await
            .map_err(|e| classify("PresignPost", e))?;
        let uri = presigned.uri();
        let path = uri.split('?').next().unwrap_or(uri);
        path.strip_suffix(PROBE_KEY)
            .map(str::to_string)
            .ok_or_else(|| {
                fatal(
                    "PresignPost",
                    format!("cannot find the bucket URL in '{path}'"),
                )
            })
    }

    /// A presigned POST form that uploads one object to `bucket`/`key`.
    /// `fields` (e.g. `content-type`, `x-amz-meta-*`) are sent and pinned by
    /// the policy with exact-match conditions; the body may be up to 5 GiB.
    pub async fn presign_post(
        &self,
        bucket: &str,
        key: &str,
        fields: &[(String, String)],
        expires_in: Duration,
    ) -> Result<PresignedPost, StoreError> {
        let creds = self.credentials().await?;
        let url = self.bucket_url(bucket).await?;
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_err(|_| fatal("PresignPost", "the system clock is before 1970"))?
            .as_secs();
        let iso = |secs: u64| {
            DateTime::from_secs(secs as i64)
                .fmt(Format::DateTime)
                .map_err(|e| fatal("PresignPost", e.to_string()))
        };
        // "2026-12-02T12:45:14Z" -> "20261202T124514Z" and "20261202".
        let amz_date: String = iso(now)?
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        let day = &amz_date[..8];
        let expiration = iso(now + expires_in.as_secs())?;
        let credential = format!(
            "{}/{day}/{}/s3/aws4_request",
            creds.access_key_id(),
            self.region
        );

        let mut all: Vec<(String, String)> = vec![("key".into(), key.to_string())];
        all.extend(fields.iter().cloned());
        all.push(("x-amz-algorithm".into(), "AWS4-HMAC-SHA256".into()));
        all.push(("x-amz-credential".into(), credential));
        all.push(("x-amz-date".into(), amz_date.clone()));
        if let Some(token) = creds.session_token() {
            all.push(("x-amz-security-token".into(), token.to_string()));
        }
        let mut conditions = vec![serde_json::json!({ "bucket": bucket })];
        for (name, value) in &all {
            conditions.push(serde_json::json!(["eq", format!("${name}"), value]));
        }
        conditions.push(serde_json::json!([
            "content-length-range",
            0,
            MAX_SINGLE_UPLOAD
        ]));
        let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
        let policy = b64(policy.to_string().as_bytes());
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(now);
        let signature = sigv4_post_signature(creds.secret_access_key(), at, &self.region, &policy);
        all.push(("policy".into(), policy));
        all.push(("x-amz-signature".into(), signature));
        Ok(PresignedPost { url, fields: all })
    }
}

/// SigV4's signature of a POST policy: HMAC-SHA256 of the base64 policy under
/// the signing key for the day of `at`, the region and `s3`, both computed by
/// aws-sigv4 (the SDK's own signer).
fn sigv4_post_signature(secret: &str, at: SystemTime, region: &str, policy_b64: &str) -> String {
    let key = aws_sigv4::sign::v4::generate_signing_key(secret, at, region, "s3");
    aws_sigv4::sign::v4::calculate_signature(key, policy_b64.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The property stock Companion lacks (DESIGN §4b): a part URL carries no
    /// SDK checksum of its own. With a SHA-256, that checksum is the one
    /// extra signed header, and it is what the client is told to send.
    #[tokio::test]
    async fn part_urls_sign_only_the_given_checksum() {
        let (store, _rx) = super::super::tests::captured();
        let up = UploadHandle {
            bucket: "bkt".into(),
            key: "a/b.bin".into(),
            upload_id: "up-1".into(),
        };
        let sum = b64(&[7u8; 32]);
        let expiry = Duration::from_secs(900);
        let tagged = crate::checksum::Tagged {
            algorithm: crate::checksum::Algorithm::Sha256,
            b64: sum.clone(),
        };
        let p = store
            .presign_upload_part(&up, 3, Some(&tagged), expiry)
            .await
            .unwrap();
        assert_eq!(p.headers, vec![("x-amz-checksum-sha256".into(), sum)]);
        let url = p.url.to_ascii_lowercase();
        assert!(
            url.contains("x-amz-signedheaders=host%3bx-amz-checksum-sha256&"),
            "{url}"
        );
        assert!(
            url.contains("x-amz-expires=900") && url.contains("partnumber=3"),
            "{url}"
        );
        for absent in [
            "crc32",
            "crc64",
            "x-amz-sdk-checksum-algorithm",
            "x-amz-checksum-sha256=",
        ] {
            assert!(!url.contains(absent), "{absent} in {url}");
        }
        let p = store
            .presign_upload_part(&up, 3, None, expiry)
            .await
            .unwrap();
        assert!(p.headers.is_empty(), "{:?}", p.headers);
        assert!(p.url.contains("X-Amz-SignedHeaders=host&"), "{}", p.url);
        // Another algorithm: its own header, signed, and nothing else.
        let crc = crate::checksum::Tagged {
            algorithm: crate::checksum::Algorithm::Crc32c,
            b64: b64(&[1u8, 2, 3, 4]),
        };
        let p = store
            .presign_upload_part(&up, 3, Some(&crc), expiry)
            .await
            .unwrap();
        assert_eq!(
            p.headers,
            vec![("x-amz-checksum-crc32c".into(), crc.b64.clone())]
        );
        assert!(
            p.url
                .to_ascii_lowercase()
                .contains("x-amz-signedheaders=host%3bx-amz-checksum-crc32c&"),
            "{}",
            p.url
        );
    }

    /// AWS's published POST example ("Example: Browser-Based Upload using HTTP
    /// POST (Using AWS Signature Version 4)"): its base64 policy, signed with
    /// the example secret on 2015-12-29 in us-east-1.
    #[test]
    fn post_signature_matches_aws_example() {
        assert_eq!(
            sigv4_post_signature(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                // 2015-12-29T00:00:00Z, the policy's x-amz-date.
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_451_347_200),
                "us-east-1",
                AWS_EXAMPLE_POLICY
            ),
            "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e"
        );
    }

    /// The policy of AWS's POST example, base64 as published (CRLF line ends).
    const AWS_EXAMPLE_POLICY: &str = "\
        eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7\
        ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91\
        c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3Qi\
        OiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwi\
        fSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRh\
        LXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVT\
        MjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNy\
        ZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9\
        LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAi\
        MjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";

    /// AWS's published example of deriving a SigV4 signing key ("Examples of
    /// how to derive a signing key for Signature Version 4"), through the
    /// function the POST signature uses, from a time as s3up passes it.
    #[test]
    fn signing_key_matches_aws_example() {
        // 2012-02-15T00:00:00Z.
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_329_264_000);
        let key = aws_sigv4::sign::v4::generate_signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            at,
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex::encode(key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
