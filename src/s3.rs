//! The only module that touches aws-sdk-s3.
//!
//! [`Store`] is the small set of S3 calls s3up makes; [`SdkStore`] implements it
//! with the real SDK, and tests may implement it in memory to fail the Nth call.
//! Every SDK error is turned here into an [`S3Error`] whose [`ErrorKind`] tells
//! the engine whether to retry, so no other module needs to know the SDK's
//! error types.
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

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{
    ConfigBag, Intercept, Region, RequestChecksumCalculation, ResponseChecksumValidation,
    RuntimeComponents, StalledStreamProtectionConfig,
};
use aws_sdk_s3::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, StorageClass};
use aws_sdk_s3::Client;
use std::fs::File;
use std::os::unix::fs::FileExt;

use bytes::{Bytes, BytesMut};

/// The storage classes the SDK knows, for the CLI's value check.
pub fn storage_classes() -> &'static [&'static str] {
    StorageClass::values()
}

/// What the engine does about a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth another attempt: 5xx, throttling, timeouts, a dropped connection.
    Retryable,
    /// The multipart upload no longer exists (aborted, expired, completed).
    NoSuchUpload,
    NoSuchBucket,
    /// 403: bad credentials, a bad signature, or no permission.
    AccessDenied,
    /// A conditional write found the key already there.
    PreconditionFailed,
    /// Anything else: retrying will not help.
    Fatal,
}

/// A failed S3 call, already classified.
#[derive(Debug, Clone)]
pub struct S3Error {
    pub kind: ErrorKind,
    /// The S3 operation, e.g. "UploadPart".
    pub op: &'static str,
    /// One line: the code and message, or the transport error's cause chain.
    pub message: String,
}

impl std::fmt::Display for S3Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.op, self.message)
    }
}

impl S3Error {
    pub fn is_retryable(&self) -> bool {
        self.kind == ErrorKind::Retryable
    }
}

/// Properties of the object being created.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ObjectOptions {
    pub content_type: Option<String>,
    pub storage_class: Option<String>,
    #[serde(default)]
    pub metadata: Vec<(String, String)>,
    #[serde(default)]
    pub if_none_match: bool,
}

/// A part as CompleteMultipartUpload needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    /// Base64 SHA-256 of the part, as sent with UploadPart.
    pub sha256: String,
}

/// What S3 says about a finished object.
#[derive(Debug, Clone, Default)]
pub struct Finished {
    pub etag: Option<String>,
    /// Base64 SHA-256 as S3 reports it (composite "…-N" for multipart uploads).
    pub checksum_sha256: Option<String>,
}

/// A part S3 holds for an open upload (ListParts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    /// Base64 SHA-256, when the store reports it (Garage and AWS do, moto does not).
    pub checksum_sha256: Option<String>,
}

/// An open multipart upload (ListMultipartUploads).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedUpload {
    pub key: String,
    pub upload_id: String,
    /// When it was started, in Unix seconds, if the store says.
    pub initiated_unix: Option<u64>,
}

/// The S3 calls s3up makes. Requests own their data so calls can move into tasks.
pub trait Store: Send + Sync + 'static {
    /// The object's size and checksum, or `None` when the key does not exist.
    fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, S3Error>> + Send;

    /// Uploads a whole object in one request; `sha256` is the body's digest.
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sha256: [u8; 32],
        opts: &ObjectOptions,
    ) -> impl Future<Output = Result<Finished, S3Error>> + Send;

    /// Starts a multipart upload with SHA-256 checksums; returns its UploadId.
    fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> impl Future<Output = Result<String, S3Error>> + Send;

    /// Uploads one part; returns its ETag.
    fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        body: FileRange,
        sha256: [u8; 32],
    ) -> impl Future<Output = Result<String, S3Error>> + Send;

    /// Completes the upload; `parts` must be sorted by number.
    fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        if_none_match: bool,
    ) -> impl Future<Output = Result<Finished, S3Error>> + Send;

    fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = Result<(), S3Error>> + Send;

    /// Every part of an open upload, all pages, sorted by number.
    fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> impl Future<Output = Result<Vec<ListedPart>, S3Error>> + Send;

    /// Every open upload under `prefix`, all pages.
    fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ListedUpload>, S3Error>> + Send;
}

/// Where and how to reach S3; recorded in the journal so `resume` reconnects the same way.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connection {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    #[serde(default)]
    pub path_style: bool,
}

/// The real store: aws-sdk-s3.
#[derive(Clone, Debug)]
pub struct SdkStore {
    client: Client,
    /// The region actually used, for the journal.
    pub region: String,
    /// Entries per ListParts / ListMultipartUploads page; `None` is the store's
    /// default (1,000 on S3). Set by `S3UP_LIST_PAGE_SIZE`, which exists so the
    /// tests can prove pagination without creating 1,001 parts.
    page_size: Option<i32>,
    /// A request with no progress for this long fails as retryable.
    stall_timeout: Duration,
}

impl SdkStore {
    /// Builds a client from the normal AWS chain (env, profile, SSO, IMDS) with
    /// `conn` on top, and checks up front that credentials can be found, so a
    /// missing key fails in one clear line instead of at the first request.
    /// A request that makes no progress for `stall_timeout` fails (and is retried).
    pub async fn connect(conn: &Connection, stall_timeout: Duration) -> Result<SdkStore, String> {
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
            loader = loader.profile_name(profile);
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
            (None, None) => {
                return Err(
                    "no AWS region is configured. Pass --region, set AWS_REGION, \
                            or set a region in your AWS profile"
                        .to_string(),
                )
            }
        };
        let provider = sdk.credentials_provider().ok_or_else(|| {
            "no AWS credentials provider is available. Set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY, or pass --profile"
                .to_string()
        })?;
        use aws_sdk_s3::config::ProvideCredentials;
        provider.provide_credentials().await.map_err(|e| {
            format!(
                "no AWS credentials found ({}). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                 or pass --profile",
                error_chain(&e)
            )
        })?;

        let config = configure(
            aws_sdk_s3::config::Builder::from(&sdk),
            conn.path_style || conn.endpoint_url.is_some(),
        )
        .region(Region::new(region.clone()))
        .build();
        let page_size = std::env::var("S3UP_LIST_PAGE_SIZE")
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|n: &i32| *n > 0);
        Ok(SdkStore {
            client: Client::from_conf(config),
            region,
            page_size,
            stall_timeout,
        })
    }
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

/// An error and its causes on one line, each cause's Display once.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

/// Chunks a part body is read and handed to the HTTP client in. Each chunk
/// costs a few syscalls (and a blocking-pool hop when it is not cached), so
/// larger is cheaper. Measured
/// on 1 GiB to a local Garage (2 cores), alternating binaries: 128 KiB cost
/// ~15% more CPU than 256 KiB, and 512 KiB (with 2 spares, the same memory
/// per part) ~5% less, at +1 MiB peak RSS.
const BODY_SLICE: usize = 512 * 1024;

/// When a request last made progress. Shared by [`FileBody`], which stamps it
/// each time the HTTP client takes a slice of the body (it only does when the
/// socket accepts more), and by [`SdkStore::watched`], which reads it.
#[derive(Clone)]
struct Stamp(Arc<StampInner>);

struct StampInner {
    start: Instant,
    /// Milliseconds from `start` to the last progress.
    last_ms: AtomicU64,
    /// Body bytes handed to the HTTP client so far.
    sent: AtomicU64,
    /// The body has handed out its last chunk.
    done: std::sync::atomic::AtomicBool,
}

/// What may still sit in hyper's and the kernel's send buffers after the body
/// handed out its last chunk, unseen by the stamp (hyper queues about 660 KiB;
/// Linux autotunes a socket's send buffer to a few MiB).
const UNSEEN_TAIL: u64 = 8 << 20;

impl Stamp {
    fn new() -> Stamp {
        Stamp(Arc::new(StampInner {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            done: false.into(),
        }))
    }

    /// The body handed out `bytes` more; `last` when it was the final chunk.
    fn progress(&self, bytes: u64, last: bool) {
        let ms = self.0.start.elapsed().as_millis() as u64;
        self.0.last_ms.store(ms, Ordering::Relaxed);
        self.0.sent.fetch_add(bytes, Ordering::Relaxed);
        if last {
            self.0.done.store(true, Ordering::Relaxed);
        }
    }

    fn idle(&self) -> Duration {
        let now = self.0.start.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.0.last_ms.load(Ordering::Relaxed)))
    }

    /// How long the request may go without visible progress. Once the body is
    /// all handed out, its tail still drains from buffers the stamp cannot see,
    /// at about the rate seen so far: that time is allowed on top of `limit`
    /// (at most `cap`), so a slow link is not taken for a stalled one.
    fn allowed_idle(&self, limit: Duration, cap: Duration) -> Duration {
        if !self.0.done.load(Ordering::Relaxed) {
            return limit;
        }
        let sent = self.0.sent.load(Ordering::Relaxed).max(1);
        let secs = (self.0.last_ms.load(Ordering::Relaxed).max(1)) as f64 / 1000.0;
        let rate = sent as f64 / secs; // bytes per second while sending
        let tail = Duration::from_secs_f64(UNSEEN_TAIL.min(sent) as f64 / rate.max(1.0));
        (limit + tail).min(cap.max(limit))
    }
}

/// Told of every chunk of a body as it is handed to the HTTP client, so a
/// progress display can move by bytes instead of by whole parts.
pub trait Meter: Send + Sync {
    fn sent(&self, bytes: u64);
}

/// A byte range of a file: the body of one PutObject or UploadPart.
#[derive(Clone)]
pub struct FileRange {
    pub file: Arc<File>,
    pub offset: u64,
    pub len: u64,
    /// Told of each chunk as it goes out, when set.
    pub meter: Option<Arc<dyn Meter>>,
}

impl std::fmt::Debug for FileRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileRange")
            .field("offset", &self.offset)
            .field("len", &self.len)
            .field("metered", &self.meter.is_some())
            .finish()
    }
}

/// How many chunk buffers a body keeps for reuse. Hyper queues a few chunks
/// before it writes them; once it has, their buffers come back here, so a
/// body allocates (and zeroes) only its first few chunks.
const SPARE_CHUNKS: usize = 2;

/// A [`FileRange`] as an HTTP body: read in [`BODY_SLICE`] chunks when the HTTP
/// client asks for them (it asks only when the socket takes more), from the
/// page cache when it holds them ([`read_cached`]), else on the blocking pool,
/// stamping progress each time. Memory is a few chunks per
/// request, whatever the part size.
struct FileBody {
    range: FileRange,
    sent: u64,
    stamp: Stamp,
    reading: Option<tokio::task::JoinHandle<std::io::Result<BytesMut>>>,
    /// Chunks handed to the client; reused once the client has dropped them.
    spare: Vec<Bytes>,
}

impl FileBody {
    fn new(range: FileRange, stamp: Stamp) -> FileBody {
        FileBody {
            range,
            sent: 0,
            stamp,
            reading: None,
            spare: Vec::with_capacity(SPARE_CHUNKS),
        }
    }

    /// A buffer of exactly `n` bytes: a released chunk when one is free.
    fn buffer(&mut self, n: usize) -> BytesMut {
        for i in 0..self.spare.len() {
            if self.spare[i].is_unique() {
                let chunk = self.spare.swap_remove(i);
                if let Ok(mut buf) = chunk.try_into_mut() {
                    // A short read left it shorter than it can hold; growing
                    // within its capacity zeroes only the new tail.
                    if buf.capacity() >= n {
                        buf.resize(n, 0);
                        return buf;
                    }
                }
                break;
            }
        }
        BytesMut::zeroed(n)
    }

    /// Counts `buf` as sent and keeps a handle on it for reuse.
    fn hand_out(&mut self, buf: BytesMut) -> Bytes {
        let chunk = buf.freeze();
        self.sent += chunk.len() as u64;
        self.stamp
            .progress(chunk.len() as u64, self.sent == self.range.len);
        if let Some(meter) = &self.range.meter {
            meter.sent(chunk.len() as u64);
        }
        if self.spare.len() < SPARE_CHUNKS {
            self.spare.push(chunk.clone());
        }
        chunk
    }
}

/// Whether `preadv2(RWF_NOWAIT)` may still work here; cleared the first time
/// the kernel or file system says it does not support it.
#[cfg(target_os = "linux")]
static NOWAIT_WORKS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Reads into `buf` at `at` right here, on the async thread, but only what is
/// already in the page cache (`preadv2` with `RWF_NOWAIT` does not wait for
/// data to come from the disk). The part was hashed just before it is sent, so its pages usually are:
/// a copy from memory is cheaper than a hop to the blocking pool and back.
/// `None` means "read it on the blocking pool": nothing cached, an error (which
/// the blocking read will report), or no `RWF_NOWAIT` on this system.
#[cfg(target_os = "linux")]
fn read_cached(file: &File, buf: &mut [u8], at: u64) -> Option<usize> {
    use rustix::io::{preadv2, Errno, ReadWriteFlags};
    if !NOWAIT_WORKS.load(Ordering::Relaxed) {
        return None;
    }
    match preadv2(
        file,
        &mut [std::io::IoSliceMut::new(buf)],
        at,
        ReadWriteFlags::NOWAIT,
    ) {
        Ok(0) => None,
        Ok(n) => Some(n),
        Err(Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => {
            NOWAIT_WORKS.store(false, Ordering::Relaxed);
            None
        }
        Err(_) => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn read_cached(_file: &File, _buf: &mut [u8], _at: u64) -> Option<usize> {
    None
}

impl http_body::Body for FileBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let left = this.range.len - this.sent;
        if left == 0 && this.reading.is_none() {
            return Poll::Ready(None);
        }
        let reading = match &mut this.reading {
            Some(reading) => reading,
            None => {
                let n = left.min(BODY_SLICE as u64) as usize;
                let mut buf = this.buffer(n);
                let at = this.range.offset + this.sent;
                match read_cached(&this.range.file, &mut buf, at) {
                    Some(got) => {
                        buf.truncate(got);
                        return Poll::Ready(Some(Ok(http_body::Frame::data(this.hand_out(buf)))));
                    }
                    None => {
                        let file = this.range.file.clone();
                        this.reading.insert(tokio::task::spawn_blocking(move || {
                            file.read_exact_at(&mut buf, at).map(|()| buf)
                        }))
                    }
                }
            }
        };
        let read = match Pin::new(reading).poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(read) => read,
        };
        this.reading = None;
        let buf = read.map_err(std::io::Error::other)??;
        Poll::Ready(Some(Ok(http_body::Frame::data(this.hand_out(buf)))))
    }
    fn is_end_stream(&self) -> bool {
        self.sent == self.range.len && self.reading.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.range.len - self.sent)
    }
}

fn b64(sha256: &[u8; 32]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(sha256)
}

/// Error codes that mean "try again" whatever the HTTP status.
const RETRYABLE_CODES: &[&str] = &[
    "SlowDown",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "TooManyRequests",
    "BadDigest", // the body was damaged in transit; a resend fixes it
    "IncompleteBody",
];

const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
];

fn classify<E>(op: &'static str, err: SdkError<E, HttpResponse>) -> S3Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let (kind, message) = match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().map(str::to_string);
            let kind = match (code.as_deref(), status) {
                (Some("NoSuchUpload"), _) => ErrorKind::NoSuchUpload,
                (Some("NoSuchBucket"), _) => ErrorKind::NoSuchBucket,
                (Some("PreconditionFailed"), _) | (_, 412) => ErrorKind::PreconditionFailed,
                (Some(c), _) if RETRYABLE_CODES.contains(&c) => ErrorKind::Retryable,
                (Some(c), _) if ACCESS_CODES.contains(&c) => ErrorKind::AccessDenied,
                (_, 403) => ErrorKind::AccessDenied,
                (_, s) if s >= 500 || s == 429 => ErrorKind::Retryable,
                _ => ErrorKind::Fatal,
            };
            let message = match (&code, service.err().message().filter(|m| !m.is_empty())) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, _) => format!("HTTP {status}"),
            };
            (kind, message)
        }
        SdkError::ConstructionFailure(_) => (ErrorKind::Fatal, error_chain(&err)),
        // A request the client itself refused to send (a bad endpoint URL, …).
        SdkError::DispatchFailure(d) if d.is_user() => (ErrorKind::Fatal, error_chain(&err)),
        // Timeouts, connection refused or reset, and responses cut short are
        // all transport trouble.
        _ => (ErrorKind::Retryable, error_chain(&err)),
    };
    S3Error {
        kind,
        op,
        message: message.replace('\n', " "),
    }
}

impl SdkStore {
    /// Runs one request, failing it as retryable once it has made no progress
    /// for `limit`. Dropping the request closes its connection.
    async fn watched<T>(
        &self,
        op: &'static str,
        limit: Duration,
        stamp: &Stamp,
        request: impl Future<Output = Result<T, S3Error>>,
    ) -> Result<T, S3Error> {
        tokio::pin!(request);
        let tick = (limit / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        loop {
            tokio::select! {
                out = &mut request => return out,
                () = tokio::time::sleep(tick) => {
                    let idle = stamp.idle();
                    if idle >= stamp.allowed_idle(limit, self.complete_limit()) {
                        return Err(S3Error {
                            kind: ErrorKind::Retryable,
                            op,
                            message: format!(
                                "no progress for {} s, the connection looks stalled (--stall-timeout)",
                                idle.as_secs()
                            ),
                        });
                    }
                },
            }
        }
    }

    /// A request without a body: it gets `limit` to answer.
    async fn small<T>(
        &self,
        op: &'static str,
        limit: Duration,
        request: impl Future<Output = Result<T, S3Error>>,
    ) -> Result<T, S3Error> {
        self.watched(op, limit, &Stamp::new(), request).await
    }

    /// CompleteMultipartUpload may legitimately take minutes on AWS for large
    /// objects (S3 keeps the connection alive while it assembles the parts).
    fn complete_limit(&self) -> Duration {
        self.stall_timeout.max(Duration::from_secs(300))
    }
}

/// What HeadObject says about an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: Option<String>,
    /// Base64 SHA-256 (composite "…-N" for multipart objects), when stored.
    pub checksum_sha256: Option<String>,
}

impl Store for SdkStore {
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, S3Error> {
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
                Err(e) => Err(classify("HeadObject", e)),
            }
        };
        self.small("HeadObject", self.stall_timeout, request).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sha256: [u8; 32],
        opts: &ObjectOptions,
    ) -> Result<Finished, S3Error> {
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
                .map_err(|e| classify("PutObject", e))?;
            Ok(Finished {
                etag: out.e_tag,
                checksum_sha256: out.checksum_sha256,
            })
        };
        self.watched("PutObject", self.stall_timeout, &stamp, request)
            .await
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> Result<String, S3Error> {
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .set_content_type(opts.content_type.clone())
            .set_storage_class(opts.storage_class.as_deref().map(StorageClass::from));
        for (k, v) in &opts.metadata {
            req = req.metadata(k, v);
        }
        let request = async {
            let out = req
                .send()
                .await
                .map_err(|e| classify("CreateMultipartUpload", e))?;
            out.upload_id.ok_or_else(|| S3Error {
                kind: ErrorKind::Fatal,
                op: "CreateMultipartUpload",
                message: "the answer carried no UploadId".to_string(),
            })
        };
        self.small("CreateMultipartUpload", self.stall_timeout, request)
            .await
    }

    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: u32,
        body: FileRange,
        sha256: [u8; 32],
    ) -> Result<String, S3Error> {
        let stamp = Stamp::new();
        let len = body.len as i64;
        let request = async {
            let out = self
                .client
                .upload_part()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
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
                .map_err(|e| classify("UploadPart", e))?;
            out.e_tag.ok_or_else(|| S3Error {
                kind: ErrorKind::Retryable,
                op: "UploadPart",
                message: "the answer carried no ETag".to_string(),
            })
        };
        self.watched("UploadPart", self.stall_timeout, &stamp, request)
            .await
    }

    async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletedPart],
        if_none_match: bool,
    ) -> Result<Finished, S3Error> {
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
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
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
            let out = req
                .send()
                .await
                .map_err(|e| classify("CompleteMultipartUpload", e))?;
            Ok(Finished {
                etag: out.e_tag,
                checksum_sha256: out.checksum_sha256,
            })
        };
        self.small("CompleteMultipartUpload", self.complete_limit(), request)
            .await
    }

    async fn abort_upload(&self, bucket: &str, key: &str, upload_id: &str) -> Result<(), S3Error> {
        let request = async {
            self.client
                .abort_multipart_upload()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .send()
                .await
                .map_err(|e| classify("AbortMultipartUpload", e))?;
            Ok(())
        };
        self.small("AbortMultipartUpload", self.stall_timeout, request)
            .await
    }

    async fn list_parts(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<ListedPart>, S3Error> {
        let mut parts = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let request = self
                .client
                .list_parts()
                .bucket(bucket)
                .key(key)
                .upload_id(upload_id)
                .set_max_parts(self.page_size)
                .set_part_number_marker(marker.take())
                .send();
            let out = self
                .small("ListParts", self.stall_timeout, async {
                    request.await.map_err(|e| classify("ListParts", e))
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

    async fn list_uploads(&self, bucket: &str, prefix: &str) -> Result<Vec<ListedUpload>, S3Error> {
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
                .small("ListMultipartUploads", self.stall_timeout, async {
                    request
                        .await
                        .map_err(|e| classify("ListMultipartUploads", e))
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
mod tests {
    use super::*;
    use aws_sdk_s3::config::{BehaviorVersion, Credentials};
    use aws_smithy_http_client::test_util::{capture_request, CaptureRequestReceiver};

    fn captured() -> (SdkStore, CaptureRequestReceiver) {
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
            page_size: None,
            stall_timeout: Duration::from_secs(5),
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

    #[test]
    fn the_tail_of_a_slow_body_is_allowed_to_drain() {
        let limit = Duration::from_secs(30);
        let cap = Duration::from_secs(300);
        let stamp = Stamp::new();
        assert_eq!(
            stamp.allowed_idle(limit, cap),
            limit,
            "body still being sent"
        );
        // 8 MiB handed out over 4 s (2 MiB/s): up to 8 MiB may still be buffered.
        stamp.0.sent.store(8 << 20, Ordering::Relaxed);
        stamp.0.last_ms.store(4000, Ordering::Relaxed);
        stamp.0.done.store(true, Ordering::Relaxed);
        let allowed = stamp.allowed_idle(limit, cap);
        assert!(allowed >= limit + Duration::from_secs(3), "{allowed:?}");
        // A very slow body is capped.
        stamp.0.last_ms.store(4_000_000, Ordering::Relaxed);
        assert_eq!(stamp.allowed_idle(limit, cap), cap);
    }

    #[derive(Default)]
    struct Counted(AtomicU64);

    impl Meter for Counted {
        fn sent(&self, bytes: u64) {
            self.0.fetch_add(bytes, Ordering::Relaxed);
        }
    }

    /// Every byte of a body, polled to the end.
    async fn drain(mut body: FileBody) -> Vec<u8> {
        use http_body::Body;
        let mut out = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            out.extend_from_slice(frame.unwrap().data_ref().unwrap());
        }
        out
    }

    /// A body is the exact byte range, however its chunks are read: from the
    /// page cache on the async thread (whole or short, where the cached pages
    /// end), or on the blocking pool for pages that are not cached.
    #[tokio::test]
    async fn a_body_is_its_range_whether_cached_or_not() {
        let len = 3 * BODY_SLICE + 12_345;
        let data: Vec<u8> = (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, &data).unwrap();
        f.sync_all().unwrap();
        let file = Arc::new(f);
        let (offset, end) = (1_000, len - 2_000);
        let metered = Arc::new(Counted::default());
        let range = FileRange {
            file: file.clone(),
            offset: offset as u64,
            len: (end - offset) as u64,
            meter: Some(metered.clone()),
        };

        let mut cached = vec![0; BODY_SLICE];
        file.read_exact_at(&mut cached, 0).unwrap();
        cached.fill(0);
        if let Some(n) = read_cached(&file, &mut cached, 0) {
            assert_eq!(&cached[..n], &data[..n], "read from the page cache");
        }
        let stamp = Stamp::new();
        assert_eq!(
            drain(FileBody::new(range.clone(), stamp.clone())).await,
            &data[offset..end]
        );
        assert_eq!(stamp.0.sent.load(Ordering::Relaxed), (end - offset) as u64);
        assert_eq!(metered.0.load(Ordering::Relaxed), (end - offset) as u64);
        assert!(stamp.0.done.load(Ordering::Relaxed));

        // Drop the cached pages from the middle of the second chunk on, where
        // the file system allows: that chunk is read short, the rest blocking.
        #[cfg(target_os = "linux")]
        rustix::fs::fadvise(
            &*file,
            (BODY_SLICE + 100_000) as u64,
            None,
            rustix::fs::Advice::DontNeed,
        )
        .unwrap();
        assert_eq!(
            drain(FileBody::new(range, Stamp::new())).await,
            &data[offset..end]
        );
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
            .upload_part("bkt", "key", "up-1", 3, hello(), fake)
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
