//! How s3up reaches S3: the backend-neutral [`Store`] trait, its domain types,
//! and the stores that implement it.
//!
//! The engine (`crate::engine`) decides what happens to an upload; a store only
//! carries out one call and says, through [`ErrorKind`], what kind of failure it
//! met. Nothing here decides to retry, to give up or to remove a journal.
//!
//! The trait is shaped for stores that are not the AWS SDK (DESIGN §4):
//! - [`Store::create_upload`] returns an [`UploadHandle`], because a presigning
//!   backend may choose the key; every later call takes that handle;
//! - "did this Complete land?" is a store question ([`Store::completed_object`]),
//!   because only the store knows how to look at the finished object;
//! - listing a bucket's uploads ([`Store::list_uploads`]) is a call every store
//!   answers, a presigning backend with an error that says it cannot list;
//! - [`ErrorKind::Expired`] marks a presigned request that is too old: it is
//!   signed again, and that does not spend an attempt;
//! - [`Store::will_send`] tells the store which part comes next, with its
//!   SHA-256, so a store that signs URLs can sign them before they are needed.
//!
//! Dispatch is by enum ([`AnyStore`]), not `dyn`: the trait's futures stay
//! unboxed, and the per-chunk path (the body inside each store) has no
//! indirection added. A new store is a new variant and a new folder.
//!
//! - [`body`]: a file range as a streaming HTTP body, and the progress meter;
//! - [`object_options`]: the options at parity with `aws s3 cp` (SSE, ACL, tags …);
//! - [`limit`]: `--limit-rate`, the one budget of bytes a second every body
//!   of a run draws on;
//! - [`watchdog`]: stall detection for any HTTP transport;
//! - `errors`: what S3's error codes mean, and a cause chain on one line, for every store;
//! - [`sdk`]: aws-sdk-s3, the only module that touches the SDK;
//! - [`via`]: an upload backend (`s3up serve`, Uppy Companion) over HTTP, part
//!   bodies PUT straight to S3 with presigned URLs;
//! - `memory` (tests only): an in-memory store; `faulty` (tests only): a
//!   wrapper around any store that injects faults at chosen calls.

pub mod any;
pub mod body;
pub(crate) mod errors;
#[cfg(test)]
pub mod faulty;
pub mod limit;
#[cfg(test)]
pub mod memory;
pub mod object_options;
pub mod sdk;
pub mod via;
pub mod watchdog;

use std::future::Future;

use crate::checksum::{Algorithm, Choice, StoreKind, Sum, Tagged};

pub use any::AnyStore;
pub use body::{FileRange, Meter};
pub use limit::RateLimit;
pub use object_options::{ObjectExtras, RequestOptions, SseCustomerKey};

/// What the engine may do about a failed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth another attempt: 5xx, throttling, timeouts, a dropped connection.
    Retryable,
    /// A request that made no progress for the stall timeout; retryable.
    Stalled,
    /// A presigned request that is too old: sign it again and retry at once,
    /// without spending an attempt.
    Expired,
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

/// A failed store call, already classified.
#[derive(Debug, Clone)]
pub struct StoreError {
    pub kind: ErrorKind,
    /// The S3 operation, e.g. "UploadPart".
    pub op: &'static str,
    /// One line: the code and message, or the transport error's cause chain.
    pub message: String,
    /// Set by the engine when it stopped retrying this call after that many attempts.
    pub gave_up_after: Option<u32>,
    /// Set by the engine when it stopped waiting for a store that gave no
    /// answer for this many seconds (`--max-offline`).
    pub offline_for: Option<u32>,
    /// No answer came from the store (connection refused, reset, timed out):
    /// the request may or may not have had its effect.
    pub transport: bool,
    /// The store's HTTP status, when it answered at all: `serve` passes 429
    /// and 503 on to its clients as they came.
    pub status: Option<u16>,
    /// The request never reached the store (no connection could be made), so
    /// it had no effect: a transport failure no lost answer hides behind.
    pub unsent: bool,
    /// What a `--via` backend's refusal meant, when it said more than "no".
    pub refusal: Option<Box<Refusal>>,
}

/// Why a `--via` backend refused a call, when that is known precisely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A 401 to a request that carried no token: the backend wants one.
    TokenWanted,
    /// `serve`'s 403 `outside_prefix`: the key lies outside what the token
    /// may write; `prefix` (from `GET /s3/whoami`) is where it may, in `bucket`.
    OutsidePrefix { prefix: String, bucket: String },
}

impl StoreError {
    pub fn new(kind: ErrorKind, op: &'static str, message: impl Into<String>) -> StoreError {
        StoreError {
            kind,
            op,
            message: message.into(),
            gave_up_after: None,
            offline_for: None,
            refusal: None,
            transport: false,
            status: None,
            unsent: false,
        }
    }

    /// A failure in which no answer came from the store.
    pub fn transport(op: &'static str, message: impl Into<String>) -> StoreError {
        StoreError {
            transport: true,
            ..StoreError::new(ErrorKind::Retryable, op, message)
        }
    }

    /// Worth another attempt (a stall and an expired signature are, too).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::Retryable | ErrorKind::Stalled | ErrorKind::Expired
        )
    }
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} failed: {}", self.op, self.message)?;
        if let Some(n) = self.gave_up_after {
            let plural = if n == 1 { "" } else { "s" };
            write!(f, " (gave up after {n} attempt{plural})")?;
        }
        if let Some(d) = self.offline_for {
            let waited = crate::units::clock(u64::from(d));
            write!(
                f,
                " (no answer for {waited}; gave up waiting, see --max-offline)"
            )?;
        }
        Ok(())
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
    /// Encryption, ACL, headers, tags … ([`object_options`]); absent from
    /// older journals.
    #[serde(default, skip_serializing_if = "ObjectExtras::is_empty")]
    pub extras: ObjectExtras,
    /// `--checksum-algorithm` and `--checksum-type`; SHA-256 (composite) in
    /// journals written before they existed.
    #[serde(default)]
    pub checksum: Choice,
}

/// Where and how to reach the store; recorded in the journal so `resume`
/// reconnects the same way. Never a credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connection {
    pub endpoint_url: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    #[serde(default)]
    pub path_style: bool,
    /// The upload backend (`put --via URL`): every call but the part bodies
    /// goes there, and none of the fields above is used. Absent from the
    /// journals of direct uploads, and from those older releases wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
    /// `--ca-bundle` / AWS_CA_BUNDLE: the PEM certificates a private
    /// endpoint's certificate chains to (a path, not a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<std::path::PathBuf>,
    /// `--no-verify-ssl`: the endpoint's (or, with `via`, the backend's and
    /// the part URLs') TLS certificate is not checked. A connection setting
    /// like `ca_bundle`, so `resume` reconnects the same way (and warns
    /// again); a `--ca-bundle` given to `resume` replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_verify_ssl: bool,
}

/// An open multipart upload, as the store that created it names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadHandle {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
}

/// A part's digests, computed by the engine in one pass over its bytes
/// before it is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartSums {
    pub sha256: [u8; 32],
    /// Only when the store asks for it ([`Store::wants_md5`]).
    pub md5: Option<[u8; 16]>,
    /// The upload's chosen algorithm's digest, when that is not SHA-256
    /// (`--checksum-algorithm`): sent instead of the SHA-256 as the part's checksum.
    pub checksum: Option<Sum>,
}

impl PartSums {
    /// The part's checksum as the upload's algorithm makes it.
    pub fn chosen(&self) -> Tagged {
        match &self.checksum {
            Some(sum) => Tagged::of(sum),
            None => Tagged {
                algorithm: Algorithm::Sha256,
                b64: b64(&self.sha256),
            },
        }
    }
}

/// A part as CompleteMultipartUpload needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    pub number: u32,
    pub etag: String,
    /// The part's checksum, as sent with UploadPart; `None` for a part
    /// sent without one (a Companion client's, through `serve`).
    pub checksum: Option<Tagged>,
}

/// What the store says about a finished object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Finished {
    /// The object's URL as the store names it, where it says (`serve` passes
    /// it on to its client).
    pub location: Option<String>,
    pub etag: Option<String>,
    /// Base64 SHA-256 as S3 reports it (composite "…-N" for multipart uploads).
    pub checksum_sha256: Option<String>,
    /// Another algorithm's checksum, when the store reports one (`--checksum-algorithm`).
    pub checksum: Option<Tagged>,
}

/// What the store says about an object that exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub size: u64,
    pub etag: Option<String>,
    /// Base64 SHA-256 (composite "…-N" for multipart objects), when stored.
    pub checksum_sha256: Option<String>,
    /// Another algorithm's checksum, when stored (`--checksum-algorithm`).
    pub checksum: Option<Tagged>,
}

/// A part the store holds for an open upload (ListParts).
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

/// An object under a prefix (ListObjectsV2), for `sync`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub size: u64,
    /// As listed, quotes and all: the MD5 of a single PutObject's body, or
    /// of its parts' MD5s followed by `-N` for a multipart upload's object
    /// (on stores that do not encrypt with KMS).
    pub etag: Option<String>,
    /// When it was last written, in Unix seconds.
    pub modified_unix: Option<u64>,
}

/// The calls the engine makes. Requests own their data so calls can move into tasks.
pub trait Store: Send + Sync + 'static {
    /// The object's size and checksum, or `None` when the key does not exist.
    /// One request whose answer, whatever it says, shows that the store is
    /// reachable: `Ok` once anything answered, `Err` with no answer. The
    /// engine probes with it while the link looks down (`engine::link`).
    fn probe(&self, _bucket: &str) -> impl Future<Output = Result<(), StoreError>> + Send {
        async { Ok(()) }
    }

    /// What [`Store::probe`] reaches, as a message names it.
    fn endpoint(&self) -> String {
        "the store".to_string()
    }

    /// How long the quickest answer to a request without a body took so far
    /// (Create, ListParts, HeadObject): about a round trip to the store, or
    /// two with a new connection's handshake. `None` when unknown.
    fn round_trip(&self) -> Option<std::time::Duration> {
        None
    }

    fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, StoreError>> + Send;

    /// Uploads a whole object in one request; `sums` are the body's digests.
    fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sums: PartSums,
        opts: &ObjectOptions,
    ) -> impl Future<Output = Result<Finished, StoreError>> + Send;

    /// Starts a multipart upload with SHA-256 checksums at (or, if the store
    /// chooses, near) `bucket`/`key`.
    fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> impl Future<Output = Result<UploadHandle, StoreError>> + Send;

    /// Uploads one part, whose digests are `sums`; returns its ETag.
    fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;

    /// `Some((store, answer))` when this store is one measured to refuse
    /// `choice` (`--checksum-algorithm`, `--checksum-type`), with what it
    /// answered; asked before anything is created.
    fn refuses_checksum(
        &self,
        _bucket: &str,
        _choice: &Choice,
    ) -> impl Future<Output = Option<(StoreKind, &'static str)>> + Send {
        std::future::ready(None)
    }

    /// Whether [`Store::upload_part`] can use each part's MD5 (to send as
    /// `Content-MD5`, where nothing else has the store check the bytes): the
    /// engine then computes it in the same pass as the SHA-256.
    fn wants_md5(&self) -> impl Future<Output = bool> + Send {
        std::future::ready(false)
    }

    /// Part `number`, whose SHA-256 is `sha256`, is about to be sent: the
    /// engine says so once the part is hashed, a bounded number of parts
    /// ahead of sending it (`engine::hash`). A store that must ask for
    /// something before it can send a part (a presigned URL) may ask now, in
    /// the background, so that the part does not wait for it. A hint only:
    /// it cannot fail, and [`Store::upload_part`] works without it.
    fn will_send(&self, _upload: &UploadHandle, _number: u32, _sha256: [u8; 32]) {}

    /// Whether announcing parts early ([`Store::will_send`]) pays: the store
    /// asks for something per part before it can send it (a presigned URL).
    /// The engine then hashes up to `concurrency` parts ahead of those on the
    /// wire, instead of one, and so keeps more of the file in the page cache.
    fn signs_ahead(&self) -> bool {
        false
    }

    /// Completes the upload; `parts` must be sorted by number. `whole`: the
    /// object's full-object checksum, for an upload created with one
    /// (`--checksum-type full-object`), which the store checks.
    fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        whole: Option<&Tagged>,
        if_none_match: bool,
    ) -> impl Future<Output = Result<Finished, StoreError>> + Send;

    fn abort_upload(
        &self,
        upload: &UploadHandle,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every part of an open upload, all pages, sorted by number.
    fn list_parts(
        &self,
        upload: &UploadHandle,
    ) -> impl Future<Output = Result<Vec<ListedPart>, StoreError>> + Send;

    /// Every open upload under `prefix`, all pages. A store that cannot list
    /// (a presigning backend: Companion's routes have no such call) answers
    /// with an error that says so, and the engine then treats an upload's
    /// absence as unconfirmed (`engine::gone`), never as proven.
    fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<ListedUpload>, StoreError>> + Send;

    /// Every object under `prefix`, all pages: `sync`'s one listing. A store
    /// that cannot list objects (a presigning backend) answers with an error
    /// that says so.
    fn list_objects(
        &self,
        _bucket: &str,
        _prefix: &str,
    ) -> impl Future<Output = Result<Vec<ListedObject>, StoreError>> + Send {
        async {
            Err(StoreError::new(
                ErrorKind::Fatal,
                "ListObjectsV2",
                "this backend cannot list objects",
            ))
        }
    }

    /// The object an upload's Complete would have made, or `None` when there is
    /// none: how the engine asks "did this Complete land?" after a lost answer.
    /// A Complete lands as the object at the upload's key.
    fn completed_object(
        &self,
        upload: &UploadHandle,
    ) -> impl Future<Output = Result<Option<ObjectInfo>, StoreError>> + Send {
        self.head_object(&upload.bucket, &upload.key)
    }
}

/// Base64, as S3 writes checksums.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
