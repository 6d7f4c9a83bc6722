//! The store over aws-sdk-s3: the only module that touches the SDK.
//!
//! Every SDK error is turned into a [`StoreError`] in [`errors`], so no other
//! module needs to know the SDK's error types.
//!
//! Two SDK defaults are changed on purpose, both so that each byte is hashed once:
//! - Recent SDKs add a CRC checksum to every upload. s3up sends its own SHA-256
//!   per part instead (`request_checksum_calculation = WhenRequired`), which also
//!   keeps stores that reject the SDK's default checksums working.
//! - SigV4 normally hashes the body again to sign it (`x-amz-content-sha256`).
//!   For PutObject and UploadPart s3up hands the signer the SHA-256 it already
//!   computed ([`PayloadSigningOverride::Precomputed`]). That value *is* the
//!   SHA-256 of the body, so the signature covers the body exactly as a signer
//!   that hashed it would: S3 rejects a body that does not match the signed
//!   hash, and also checks it against `x-amz-checksum-sha256`. Nothing is weakened
//!   (this is not UNSIGNED-PAYLOAD); only the duplicate computation is gone.

mod errors;
pub mod presign;

use std::time::Duration;

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{
    ConfigBag, Intercept, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    RuntimeComponents, StalledStreamProtectionConfig,
};
use aws_sdk_s3::error::{BoxError, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, StorageClass};
use aws_sdk_s3::Client;

pub(crate) use self::errors::kind_of as s3_error_kind;
use self::errors::{classify, error_chain};
use super::body::FileBody;
use super::watchdog::{Stamp, Watchdog};
use super::{
    b64, CompletedPart, Connection, ErrorKind, FileRange, Finished, ListUploads, ListedPart,
    ListedUpload, ObjectInfo, ObjectOptions, PartSums, Store, StoreError, UploadHandle,
};

/// The storage classes the SDK knows, for the CLI's value check.
pub fn storage_classes() -> &'static [&'static str] {
    StorageClass::values()
}

/// Why no client could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// No region from the options, the environment or the profile.
    NoRegion,
    /// The SDK has no credentials provider at all.
    NoProvider,
    /// The provider found no credentials; the cause chain on one line.
    NoCredentials(String),
    /// `--profile` (or the journal's) names a profile that neither the config
    /// file nor the credentials file defines; the files that were read.
    NoProfile {
        name: String,
        /// Named by AWS_PROFILE rather than `--profile`.
        from_env: bool,
        files: Vec<String>,
    },
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
    /// For `serve`: the credentials a presigned POST is signed with.
    credentials: presign::CredentialsCache,
}

impl SdkStore {
    /// Builds a client from the normal AWS chain (env, profile, SSO, IMDS) with
    /// `conn` on top, and checks up front that credentials can be found, so a
    /// missing key fails in one clear line instead of at the first request.
    /// A request that makes no progress for `stall_timeout` fails (and is retried);
    /// `page_size` bounds list pages (`None`: the store's default).
    pub async fn connect(
        conn: &Connection,
        stall_timeout: Duration,
        page_size: Option<i32>,
    ) -> Result<SdkStore, ConnectError> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            // s3up retries every call itself, per part, with its own budget
            // (--retries); SDK retries underneath would multiply the attempts.
            .retry_config(aws_config::retry::RetryConfig::disabled())
            // Only the connect phase has a fixed limit. The SDK's read timeout
            // runs from sending the request to the response headers, so it would
            // cap a whole part upload, and its stalled-stream check cannot see
            // an in-memory body: both are replaced by `watched` below, which
            // fails a request only when it stops making progress.
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build(),
            )
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        if let Some(profile) = &conn.profile {
            check_profile(profile, false).await?;
            loader = loader.profile_name(profile);
        } else if let Some(profile) = std::env::var("AWS_PROFILE")
            .ok()
            .filter(|p| !p.is_empty() && p != "default")
        {
            // As aws does: a missing `default` is no error, any other name is.
            check_profile(&profile, true).await?;
        }
        if let Some(region) = &conn.region {
            loader = loader.region(Region::new(region.clone()));
        } else if conn.endpoint_url.is_some() {
            // A custom endpoint: the region comes from the environment or the
            // profile, else us-east-1 — never from EC2 instance metadata, which
            // off EC2 means a network timeout on every command.
            let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
            if let Some(name) = &conn.profile {
                profile = profile.profile_name(name);
            }
            let chain = aws_config::meta::region::RegionProviderChain::first_try(
                aws_config::environment::EnvironmentVariableRegionProvider::new(),
            )
            .or_else(profile.build())
            .or_else("us-east-1");
            loader = loader.region(chain);
        }
        if let Some(url) = &conn.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;

        let region = match (sdk.region(), &conn.endpoint_url) {
            (Some(r), _) => r.to_string(),
            // S3-compatible stores rarely care; AWS's own default.
            (None, Some(_)) => "us-east-1".to_string(),
            (None, None) => return Err(ConnectError::NoRegion),
        };
        let provider = sdk.credentials_provider().ok_or(ConnectError::NoProvider)?;
        use aws_sdk_s3::config::ProvideCredentials;
        provider.provide_credentials().await.map_err(|e| {
            // The SDK lists each provider it tried on its own line;
            // s3up's errors are one line.
            let chain = error_chain(&e);
            ConnectError::NoCredentials(chain.split_whitespace().collect::<Vec<_>>().join(" "))
        })?;

        // Resolved as the SDK resolves it, then set explicitly, so that the
        // endpoint recorded is the endpoint used.
        let endpoint_url = conn.endpoint_url.clone().or_else(|| {
            use aws_types::service_config::ServiceConfigKey;
            sdk.service_config()
                .and_then(|c| {
                    c.load_config(
                        ServiceConfigKey::builder()
                            .service_id("S3")
                            .env("AWS_ENDPOINT_URL")
                            .profile("endpoint_url")
                            .build()
                            .ok()?,
                    )
                })
                .or_else(|| sdk.endpoint_url().map(str::to_string))
        });
        let path_style = conn.path_style || endpoint_url.is_some();
        let mut builder = configure(aws_sdk_s3::config::Builder::from(&sdk), path_style);
        builder.set_endpoint_url(endpoint_url.clone());
        let config = builder.region(Region::new(region.clone())).build();
        Ok(SdkStore {
            client: Client::from_conf(config),
            region,
            endpoint_url,
            path_style,
            page_size,
            watchdog: Watchdog { stall_timeout },
            credentials: presign::CredentialsCache::new(Some(provider)),
        })
    }

    /// CreateMultipartUpload, with the SHA-256 checksum algorithm when `sha256`
    /// (the engine always; `serve` when its client asks, because an upload
    /// created so needs every part's checksum, which a stock Uppy cannot send).
    pub(crate) async fn create_multipart(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
        sha256: bool,
    ) -> Result<UploadHandle, StoreError> {
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .set_checksum_algorithm(sha256.then_some(ChecksumAlgorithm::Sha256))
            .set_content_type(opts.content_type.clone())
            .set_storage_class(opts.storage_class.as_deref().map(StorageClass::from));
        for (k, v) in &opts.metadata {
            req = req.metadata(k, v);
        }
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

/// Fails unless the config or credentials file (as the SDK finds them,
/// honouring AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE) defines
/// `name`. The SDK itself would fall back to the environment's credentials
/// in silence, so a mistyped profile would go unnoticed (issue 13).
async fn check_profile(name: &str, from_env: bool) -> Result<(), ConnectError> {
    use aws_types::os_shim_internal::{Env, Fs};
    let (env, fs) = (Env::real(), Fs::real());
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let found = aws_config::profile::parser::load(&fs, &env, &files, None)
        .await
        .is_ok_and(|set| set.get_profile(name).is_some());
    if found {
        return Ok(());
    }
    let file =
        |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.to_string());
    Err(ConnectError::NoProfile {
        name: name.to_string(),
        from_env,
        files: vec![
            file("AWS_CONFIG_FILE", "~/.aws/config"),
            file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        ],
    })
}

/// The S3 client settings s3up depends on, whatever the source of the rest.
fn configure(b: aws_sdk_s3::config::Builder, path_style: bool) -> aws_sdk_s3::config::Builder {
    b.force_path_style(path_style)
        // s3up sends its own SHA-256 per part (see the module docs).
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
}

/// Hands SigV4 the body's SHA-256 so it does not hash the body again (see the
/// module docs). The signer reads the override from the config bag when it signs.
#[derive(Debug)]
struct SignedPayloadHash(String);

impl SignedPayloadHash {
    fn new(sha256: &[u8; 32]) -> SignedPayloadHash {
        SignedPayloadHash(hex::encode(sha256))
    }
}

impl Intercept for SignedPayloadHash {
    fn name(&self) -> &'static str {
        "s3up-signed-payload-hash"
    }

    fn modify_before_signing(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::Precomputed(self.0.clone()));
        Ok(())
    }
}

impl Store for SdkStore {
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
        sha256: [u8; 32],
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        let stamp = Stamp::new();
        let len = body.len as i64;
        let mut req = self
            .client
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_length(len)
            .checksum_sha256(b64(&sha256))
            .body(ByteStream::from_body_1_x(FileBody::new(
                body,
                stamp.clone(),
            )))
            .set_content_type(opts.content_type.clone())
            .set_storage_class(opts.storage_class.as_deref().map(StorageClass::from));
        for (k, v) in &opts.metadata {
            req = req.metadata(k, v);
        }
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
            let out = self
                .client
                .upload_part()
                .bucket(&upload.bucket)
                .key(&upload.key)
                .upload_id(&upload.upload_id)
                .part_number(number as i32)
                .content_length(len)
                .checksum_sha256(b64(&sha256))
                .body(ByteStream::from_body_1_x(FileBody::new(
                    body,
                    stamp.clone(),
                )))
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

    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        let parts = parts
            .iter()
            .map(|p| {
                aws_sdk_s3::types::CompletedPart::builder()
                    .part_number(p.number as i32)
                    .e_tag(&p.etag)
                    .checksum_sha256(&p.sha256)
                    .build()
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
}

impl ListUploads for SdkStore {
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
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials};
    use aws_smithy_http_client::test_util::{capture_request, CaptureRequestReceiver};
    use std::sync::Arc;

    pub(super) fn captured() -> (SdkStore, CaptureRequestReceiver) {
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
            watchdog: Watchdog {
                stall_timeout: Duration::from_secs(5),
            },
            credentials: presign::CredentialsCache::new(Some(
                aws_sdk_s3::config::SharedCredentialsProvider::new(Credentials::new(
                    "AKID", "SECRET", None, None, "test",
                )),
            )),
        };
        (store, rx)
    }

    fn hello() -> FileRange {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, b"hello").unwrap();
        FileRange {
            file: Arc::new(f),
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
            .put_object("bkt", "key", hello(), fake, &ObjectOptions::default())
            .await;
        let req = rx.expect_request();
        assert_eq!(
            req.headers().get("x-amz-content-sha256"),
            Some(hex::encode(fake).as_str())
        );
    }
}
