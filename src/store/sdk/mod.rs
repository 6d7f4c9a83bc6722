//! The store over aws-sdk-s3: the only module that touches the SDK.
//!
//! This file holds the [`Store`] implementation (each engine call as one SDK
//! request, lists read page by page) and the one CompleteMultipartUpload,
//! which `serve` uses too. Around it:
//! - [`connect`]: building the client (profile, region, endpoint, credentials)
//!   and the two SDK defaults s3up changes so that each byte is hashed once;
//! - [`presign`]: presigned part URLs and POST forms for `serve`;
//! - [`cors`]: the bucket's CORS rules, for `serve`;
//! - [`options`]: the object options on the requests (SSE, ACL, tags …);
//! - `errors`: every SDK error turned into a [`StoreError`], so no other
//!   module needs to know the SDK's error types.

mod checksum;
pub mod connect;
pub mod cors;
mod errors;
mod list;
pub mod options;
pub mod presign;
#[cfg(feature = "lambda")]
pub mod secrets;
mod tls;

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, StorageClass};
use aws_sdk_s3::Client;

use self::checksum::{reported, sdk_algorithm, sdk_type, with_checksum};
pub use self::connect::ConnectError;
use self::connect::{CredentialsCache, SignedPayloadHash};
use self::errors::classify;
use super::body::FileBody;
use super::limit::RateLimit;
use super::watchdog::{Stamp, Watchdog};
use super::{
    CompletedPart, ErrorKind, FileRange, Finished, ListedObject, ListedPart, ListedUpload,
    ObjectInfo, ObjectOptions, PartSums, Store, StoreError, UploadHandle,
};
use crate::checksum::{Choice, StoreKind, Tagged};

/// The storage classes the SDK knows, for the CLI's value check.
pub fn storage_classes() -> &'static [&'static str] {
    StorageClass::values()
}

/// The real store: aws-sdk-s3.
#[derive(Clone, Debug)]
pub struct SdkStore {
    client: Client,
    /// The region actually used, for the journal.
    pub region: String,
    /// The endpoint actually used, for the journal: the one given, else the one
    /// the SDK found (`AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, a profile's);
    /// `None` is AWS's own.
    pub endpoint_url: Option<String>,
    /// Buckets in the path, not the host name.
    path_style: bool,
    /// Entries per ListParts / ListMultipartUploads page; `None` is the store's
    /// default (1,000 on S3). The tests lower it to prove pagination without
    /// creating 1,001 parts.
    page_size: Option<i32>,
    watchdog: Watchdog,
    /// `--limit-rate`: every body this store sends draws on it.
    limit: Option<RateLimit>,
    /// For `serve`: the credentials a presigned POST is signed with.
    credentials: CredentialsCache,
    /// Which store answers, once asked (`--checksum-algorithm`, `checksum`).
    kind: std::sync::Arc<std::sync::OnceLock<StoreKind>>,
}

impl SdkStore {
    /// The same store, every body it sends drawing on `limit` (`--limit-rate`).
    pub fn limited(self, limit: Option<RateLimit>) -> SdkStore {
        SdkStore { limit, ..self }
    }

    /// CreateMultipartUpload, with the checksum algorithm of `opts` (SHA-256
    /// unless `--checksum-algorithm` said otherwise) when `checksummed` (the
    /// engine always; `serve` when its client asks, because an upload created
    /// so needs every part's checksum, which a stock Uppy cannot send).
    pub(crate) async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
        checksummed: bool,
    ) -> Result<UploadHandle, StoreError> {
        let choice = checksummed.then_some(opts.checksum);
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .set_checksum_algorithm(choice.map(|c| sdk_algorithm(c.algorithm)))
            .set_checksum_type(choice.as_ref().and_then(sdk_type));
        req = options::on_create(req, opts);
        let request = async {
            let out = req
                .send()
                .await
                .map_err(|e| self.classify("CreateMultipartUpload", bucket, key, e))?;
            let upload_id = out.upload_id.ok_or_else(|| {
                StoreError::new(
                    ErrorKind::Fatal,
                    "CreateMultipartUpload",
                    "the answer carried no UploadId",
                )
            })?;
            Ok(UploadHandle {
                bucket: bucket.to_string(),
                key: key.to_string(),
                upload_id,
            })
        };
        self.watchdog.small("CreateMultipartUpload", request).await
    }
}

impl SdkStore {
    /// Where a request about `bucket` and `key` goes, as a user would type it.
    fn url(&self, bucket: &str, key: &str) -> String {
        match &self.endpoint_url {
            Some(endpoint) => format!("{endpoint}/{bucket}/{key}"),
            None if self.path_style => {
                format!("https://s3.{}.amazonaws.com/{bucket}/{key}", self.region)
            }
            None => format!("https://{bucket}.s3.{}.amazonaws.com/{key}", self.region),
        }
    }

    /// [`classify`], naming the URL when no answer came (issue 13: "Connection
    /// refused" alone does not say which endpoint refused), as aws does.
    fn classify<E>(
        &self,
        op: &'static str,
        bucket: &str,
        key: &str,
        err: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
    ) -> StoreError
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut e = classify(op, err);
        if e.transport {
            e.message = errors::with_url(&e.message, &self.url(bucket, key));
        }
        e
    }

    /// A store may refuse a request with a body (NoSuchBucket, NoSuchUpload)
    /// before reading that body, and close the connection. The client, still
    /// writing, then sees only a broken pipe or a reset, which looks retryable:
    /// every attempt would end the same way and the real answer would be lost.
    /// So after a transport failure on a body, one bodyless request asks the
    /// store whether the target is gone. Only a confirmed absence replaces the
    /// error; a 403 from the probe is not trusted, because a role may be allowed
    /// to write without being allowed to look.
    async fn explain_cut_body<T>(
        &self,
        sent: Result<T, StoreError>,
        gone: impl std::future::Future<Output = Option<StoreError>>,
    ) -> Result<T, StoreError> {
        match sent {
            Err(e) if e.transport => match gone.await {
                Some(absent) => Err(StoreError { op: e.op, ..absent }),
                None => Err(e),
            },
            other => other,
        }
    }

    /// NoSuchBucket when HeadBucket confirms the bucket does not exist.
    async fn bucket_is_gone(&self, bucket: &str) -> Option<StoreError> {
        let request = async {
            match self.client.head_bucket().bucket(bucket).send().await {
                Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => {
                    Err(StoreError::new(
                        ErrorKind::NoSuchBucket,
                        "HeadBucket",
                        format!("NoSuchBucket: the bucket {bucket} does not exist"),
                    ))
                }
                _ => Ok(()),
            }
        };
        self.watchdog
            .small("HeadBucket", request)
            .await
            .err()
            .filter(|e| matches!(e.kind, ErrorKind::NoSuchBucket))
    }

    /// NoSuchUpload or NoSuchBucket when ListParts (one entry) confirms it.
    async fn upload_is_gone(&self, upload: &UploadHandle) -> Option<StoreError> {
        let request = async {
            self.client
                .list_parts()
                .bucket(&upload.bucket)
                .key(&upload.key)
                .upload_id(&upload.upload_id)
                .max_parts(1)
                .send()
                .await
                .map_err(|e| self.classify("ListParts", &upload.bucket, &upload.key, e))
        };
        self.watchdog
            .small("ListParts", request)
            .await
            .err()
            .filter(|e| matches!(e.kind, ErrorKind::NoSuchUpload | ErrorKind::NoSuchBucket))
    }
}

impl Store for SdkStore {
    /// HeadBucket: any answer, 403 and 404 included, shows S3 is reachable.
    async fn probe(&self, bucket: &str) -> Result<(), StoreError> {
        match self.client.head_bucket().bucket(bucket).send().await {
            Ok(_) | Err(SdkError::ServiceError(_)) => Ok(()),
            Err(e) => Err(self.classify("HeadBucket", bucket, "", e)),
        }
    }

    fn endpoint(&self) -> String {
        let aws = || format!("S3 ({})", self.region);
        self.endpoint_url.clone().unwrap_or_else(aws)
    }

    fn round_trip(&self) -> Option<std::time::Duration> {
        self.watchdog.round_trip()
    }

    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let request = async {
            match self
                .client
                .head_object()
                .bucket(bucket)
                .key(key)
                .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
                .send()
                .await
            {
                Ok(out) => Ok(Some(ObjectInfo {
                    size: out.content_length().unwrap_or(0).max(0) as u64,
                    checksum: reported!(out),
                    etag: out.e_tag,
                    checksum_sha256: out.checksum_sha256,
                })),
                // HeadObject has no body, so a missing bucket also looks like 404;
                // the next call (create or put) reports NoSuchBucket properly.
                Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => Ok(None),
                Err(e) => Err(self.classify("HeadObject", bucket, key, e)),
            }
        };
        self.watchdog.small("HeadObject", request).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sums: PartSums,
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        let sha256 = sums.sha256;
        let stamp = Stamp::new();
        let len = body.len as i64;
        let req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_length(len);
        let mut req = with_checksum!(req, &sums.chosen()).body(ByteStream::from_body_1_x(
            FileBody::new(body, stamp.clone()).limited(self.limit.clone()),
        ));
        req = options::on_put(req, opts);
        if opts.if_none_match {
            req = req.if_none_match("*");
        }
        let request = async {
            let out = req
                .customize()
                .interceptor(SignedPayloadHash::new(&sha256))
                .send()
                .await
                .map_err(|e| self.classify("PutObject", bucket, key, e))?;
            Ok(Finished {
                location: None,
                checksum: reported!(out),
                etag: out.e_tag,
                checksum_sha256: out.checksum_sha256,
            })
        };
        let sent = self.watchdog.body("PutObject", &stamp, request).await;
        self.explain_cut_body(sent, self.bucket_is_gone(bucket))
            .await
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> Result<UploadHandle, StoreError> {
        self.create_multipart(bucket, key, opts, true).await
    }

    async fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> Result<String, StoreError> {
        let sha256 = sums.sha256;
        let stamp = Stamp::new();
        let len = body.len as i64;
        let request = async {
            let req = self
                .client
                .upload_part()
                .bucket(&upload.bucket)
                .key(&upload.key)
                .upload_id(&upload.upload_id)
                .part_number(number as i32)
                .content_length(len);
            let out = with_checksum!(req, &sums.chosen())
                .body(ByteStream::from_body_1_x(
                    FileBody::new(body, stamp.clone()).limited(self.limit.clone()),
                ))
                .customize()
                .interceptor(SignedPayloadHash::new(&sha256))
                .send()
                .await
                .map_err(|e| self.classify("UploadPart", &upload.bucket, &upload.key, e))?;
            out.e_tag.ok_or_else(|| {
                StoreError::new(
                    ErrorKind::Retryable,
                    "UploadPart",
                    "the answer carried no ETag",
                )
            })
        };
        let sent = self.watchdog.body("UploadPart", &stamp, request).await;
        self.explain_cut_body(sent, self.upload_is_gone(upload))
            .await
    }

    /// CompleteMultipartUpload, the only one: the engine's (through
    /// [`Store::complete_upload`]) and `serve`'s. Each part's checksum is sent
    /// when it has one, and the object's when it is a full-object one;
    /// `if_none_match` makes it a conditional write.
    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        whole: Option<&Tagged>,
        if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        let parts = parts
            .iter()
            .map(|p| {
                let part = aws_sdk_s3::types::CompletedPart::builder()
                    .part_number(p.number as i32)
                    .e_tag(&p.etag);
                match &p.checksum {
                    Some(t) => with_checksum!(part, t).build(),
                    None => part.build(),
                }
            })
            .collect();
        let mut req = self
            .client
            .complete_multipart_upload()
            .bucket(&upload.bucket)
            .key(&upload.key)
            .upload_id(&upload.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            );
        if let Some(whole) = whole {
            req = with_checksum!(req, whole)
                .checksum_type(aws_sdk_s3::types::ChecksumType::FullObject);
        }
        if if_none_match {
            req = req.if_none_match("*");
        }
        // The SDK turns a 200 answer with an <Error> body into an error itself
        // (checked by the fault-proxy test `complete_200_with_error_body_is_a_failure`).
        let request = async {
            let out = req.send().await.map_err(|e| {
                self.classify("CompleteMultipartUpload", &upload.bucket, &upload.key, e)
            })?;
            Ok(Finished {
                checksum: reported!(out),
                location: out.location,
                etag: out.e_tag,
                checksum_sha256: out.checksum_sha256,
            })
        };
        self.watchdog
            .complete("CompleteMultipartUpload", request)
            .await
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        let request = async {
            self.client
                .abort_multipart_upload()
                .bucket(&upload.bucket)
                .key(&upload.key)
                .upload_id(&upload.upload_id)
                .send()
                .await
                .map_err(|e| {
                    self.classify("AbortMultipartUpload", &upload.bucket, &upload.key, e)
                })?;
            Ok(())
        };
        self.watchdog.small("AbortMultipartUpload", request).await
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_parts()
                .bucket(&upload.bucket)
                .key(&upload.key)
                .upload_id(&upload.upload_id)
                .set_max_parts(self.page_size)
                .set_part_number_marker(marker.take())
                .send();
            let out = self
                .watchdog
                .small("ListParts", async {
                    request
                        .await
                        .map_err(|e| self.classify("ListParts", &upload.bucket, &upload.key, e))
                })
                .await?;
            for p in out.parts() {
                parts.push(ListedPart {
                    number: p.part_number().unwrap_or(0).max(0) as u32,
                    size: p.size().unwrap_or(0).max(0) as u64,
                    etag: p.e_tag().unwrap_or_default().to_string(),
                    checksum_sha256: p.checksum_sha256().map(str::to_string),
                });
            }
            match (out.is_truncated(), out.next_part_number_marker()) {
                (Some(true), Some(next)) if !next.is_empty() => marker = Some(next.to_string()),
                _ => break,
            }
        }
        parts.sort_by_key(|p| p.number);
        parts.dedup_by_key(|p| p.number);
        Ok(parts)
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedUpload>, StoreError> {
        let mut uploads = Vec::new();
        let (mut key_marker, mut id_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let request = self
                .client
                .list_multipart_uploads()
                .bucket(bucket)
                .prefix(prefix)
                .set_max_uploads(self.page_size)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send();
            let out = self
                .watchdog
                .small("ListMultipartUploads", async {
                    request
                        .await
                        .map_err(|e| self.classify("ListMultipartUploads", bucket, "", e))
                })
                .await?;
            for u in out.uploads() {
                uploads.push(ListedUpload {
                    key: u.key().unwrap_or_default().to_string(),
                    upload_id: u.upload_id().unwrap_or_default().to_string(),
                    initiated_unix: u.initiated().map(|t| t.secs().max(0) as u64),
                });
            }
            if out.is_truncated() != Some(true) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_string);
            id_marker = out.next_upload_id_marker().map(str::to_string);
            if key_marker.as_deref().unwrap_or("").is_empty() {
                break;
            }
        }
        Ok(uploads)
    }

    async fn list_objects(&self, b: &str, prefix: &str) -> Result<Vec<ListedObject>, StoreError> {
        self.list_all_objects(b, prefix).await
    }

    async fn refuses_checksum(
        &self,
        bucket: &str,
        choice: &Choice,
    ) -> Option<(StoreKind, &'static str)> {
        self.refusal(bucket, choice).await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::connect::configure;
    use super::*;
    use crate::store::b64;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
    use aws_smithy_http_client::test_util::{capture_request, CaptureRequestReceiver};
    use std::sync::Arc;
    use std::time::Duration;

    pub(crate) fn captured() -> (SdkStore, CaptureRequestReceiver) {
        let (http, rx) = capture_request(None);
        let config = configure(aws_sdk_s3::Config::builder(), true)
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKID", "SECRET", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .http_client(http)
            .build();
        let store = SdkStore {
            client: Client::from_conf(config),
            region: "us-east-1".into(),
            endpoint_url: Some("http://127.0.0.1:9".into()),
            path_style: true,
            page_size: None,
            watchdog: Watchdog::new(Duration::from_secs(5)),
            limit: None,
            credentials: CredentialsCache::new(Some(
                aws_sdk_s3::config::SharedCredentialsProvider::new(Credentials::new(
                    "AKID", "SECRET", None, None, "test",
                )),
            )),
            kind: Default::default(),
        };
        (store, rx)
    }

    fn hello() -> FileRange {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, b"hello").unwrap();
        FileRange {
            file: Arc::new(f).into(),
            offset: 0,
            len: 5,
            meter: None,
        }
    }

    /// The signer takes the part's SHA-256 from s3up instead of hashing the body:
    /// handed a deliberately wrong digest, it signs that digest. (A real store would
    /// reject such a request; here nothing is sent.) Without the interceptor the
    /// header would be the body's real hash, so this fails if the body were hashed twice.
    #[tokio::test]
    async fn signer_uses_the_given_sha256_and_no_sdk_checksum_is_added() {
        let (store, rx) = captured();
        let fake = [0xab_u8; 32];
        let _ = store
            .upload_part(
                &UploadHandle {
                    bucket: "bkt".into(),
                    key: "key".into(),
                    upload_id: "up-1".into(),
                },
                3,
                hello(),
                PartSums {
                    sha256: fake,
                    md5: None,
                    checksum: None,
                },
            )
            .await;
        let req = rx.expect_request();
        let header = |name: &str| req.headers().get(name).map(str::to_string);
        assert_eq!(header("x-amz-content-sha256"), Some(hex::encode(fake)));
        assert_eq!(header("x-amz-checksum-sha256"), Some(b64(&fake)));
        let auth = header("authorization").unwrap();
        assert!(
            auth.contains("x-amz-checksum-sha256") && auth.contains("x-amz-content-sha256"),
            "{auth}"
        );
        for h in [
            "x-amz-checksum-crc32",
            "x-amz-checksum-crc64nvme",
            "x-amz-sdk-checksum-algorithm",
            "x-amz-trailer",
        ] {
            assert_eq!(header(h), None, "{h}");
        }

        let (store, rx) = captured();
        let _ = store
            .put_object(
                "bkt",
                "key",
                hello(),
                PartSums {
                    sha256: fake,
                    md5: None,
                    checksum: None,
                },
                &ObjectOptions::default(),
            )
            .await;
        let req = rx.expect_request();
        assert_eq!(
            req.headers().get("x-amz-content-sha256"),
            Some(hex::encode(fake).as_str())
        );
    }
}
