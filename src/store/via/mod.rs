//! The store over an upload backend: `s3up serve` or Uppy Companion, over
//! HTTP (reqwest with rustls). Create, list, complete and abort go to the
//! backend; each part's body goes straight to S3 with a presigned PUT.
//!
//! **Wire format** (Companion's S3 multipart routes, written down in
//! `crate::serve`'s module docs): `POST /s3/multipart`,
//! `GET /s3/multipart/{uploadId}?key=`, `GET /s3/multipart/{uploadId}/{n}?key=`,
//! `GET /s3/multipart/{uploadId}/batch?key=&partNumbers=`,
//! `POST /s3/multipart/{uploadId}/complete?key=`, `DELETE /s3/multipart/{uploadId}?key=`.
//! Every body is a [`crate::protocol`] type, the same ones `serve` answers
//! with. The token goes in `Authorization: Bearer`; without a token no
//! `Authorization` header is sent at all (`serve --no-auth` and stock
//! Companion take none), and a 401 then says the backend wants one. This file maps the
//! [`Store`] calls onto the routes; `http` sends a call and reads its answer,
//! `signer` asks for part URLs, `errors` classifies what comes back.
//!
//! **Which backend** ([`Dialect`]): `GET /healthz` is asked once, without
//! the token; `serve` answers `{"service": "s3up"}`, Companion has no such
//! route. With `serve`, s3up uses its extensions:
//! - the upload is created with the `--checksum-algorithm` (`checksumAlgorithm`,
//!   SHA256 by default, and `checksumType` when not the default) and, when the
//!   user named one, its own `key`;
//! - each part is signed with its checksum: its SHA-256 (`sha256=`, asked
//!   ahead of need, in batches), or another algorithm's (`checksumAlgorithm=`
//!   and `checksum=`, asked when the part is sent, since the engine announces
//!   parts by their SHA-256), which `serve` signs into the URL as
//!   `x-amz-checksum-<alg>` and returns in `headers`: S3 rejects a body whose
//!   bytes differ;
//! - Complete carries each part's checksum (and a full-object upload's whole
//!   checksum) and answers the object's checksum, which the engine compares
//!   with the parts';
//! - `GET /s3/object?key=` says whether the object exists, so a lost Complete
//!   answer is recognised ([`Store::completed_object`]).
//!
//! With Companion, each part's PUT carries `Content-MD5` (an unsigned header
//! a presigned URL allows), which S3 checks: a body changed in flight is
//! refused (BadDigest) and sent again. The engine computes that MD5 in its hash
//! pass, ahead of sending ([`Store::wants_md5`]).
//! A lost Complete answer cannot be recognised there, so the journal is kept.
//!
//! **Signing ahead** (`signer`): the engine hashes parts ahead of sending
//! them and announces each ([`Store::will_send`]); the announced parts are
//! signed in background batches (`/batch`, with their SHA-256s for `serve`),
//! so a part normally finds its URL waiting.
//!
//! **Expiry**: an S3 answer that says the URL is too old (Garage's 400
//! "Date is too old", AWS's 403 "Request has expired", R2's ExpiredRequest) is
//! [`ErrorKind::Expired`]: the engine retries at once without spending an
//! attempt, and the retry signs a fresh URL.
//!
//! **Listing uploads**: a backend does not list a bucket's uploads, so
//! [`Store::list_uploads`] fails (Fatal). `engine::gone` then cannot
//! confirm that an upload is gone, and keeps its journal: a 404 from the
//! backend never removes a journal on its own.
//!
//! Part bodies stream from the file ([`FileBody`]) under the SDK store's stall [`Watchdog`],
//! never whole in memory; the token and presigned URLs are never logged or journalled.

mod errors;
mod http;
mod signer;

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, ETAG};
use serde::de::IgnoredAny;

use self::http::Wait;
use self::signer::Signer;
use super::body::FileBody;
use super::limit::RateLimit;
use super::watchdog::{Stamp, Watchdog};
use super::{
    b64, CompletedPart, ErrorKind, FileRange, Finished, ListedPart, ListedUpload, ObjectInfo,
    ObjectOptions, PartSums, Store, StoreError, UploadHandle,
};
use crate::checksum::{Algorithm, Choice, StoreKind, Tagged};
use crate::protocol::{
    CompletePartEntry, CompleteRequest, CompleteResponse, CreateRequest, CreateResponse,
    ObjectStatus, ParamsResponse, PartEntry,
};

/// A bearer token for the backend. Never printed: its `Debug` hides it.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// The token, without surrounding whitespace (a file's final newline).
    /// `None` when nothing is left.
    pub fn new(raw: &str) -> Option<Token> {
        let t = raw.trim();
        (!t.is_empty()).then(|| Token(t.to_string()))
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(hidden)")
    }
}

/// What the backend speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `s3up serve`: Companion's routes and s3up's extensions.
    Serve,
    /// Uppy Companion (or anything else that speaks its routes only).
    Companion,
}

/// The store over a backend.
#[derive(Clone)]
pub struct ViaStore {
    inner: Arc<Inner>,
    /// `--limit-rate`: every part body this store sends draws on it.
    limit: Option<RateLimit>,
}

struct Inner {
    http: reqwest::Client,
    /// The backend's base URL, without a trailing `/` (for messages).
    backend: String,
    /// The same, parsed: routes are appended to it.
    base: reqwest::Url,
    /// `None`: the user gave no token, and none is sent.
    token: Option<Token>,
    watchdog: Watchdog,
    /// The user named the key; with `serve` it is asked for as is.
    own_key: bool,
    dialect: tokio::sync::OnceCell<Dialect>,
    signer: Signer,
    /// Where the last part went (S3, through a presigned URL): probed beside
    /// the backend while the link looks down.
    part_origin: std::sync::Mutex<Option<reqwest::Url>>,
    /// The upload's parts are checksummed with another algorithm than
    /// SHA-256 (seen at create, or at the first part of a resumed upload):
    /// each is signed when it is sent, with its checksum, not ahead by its
    /// SHA-256 ([`Store::will_send`]).
    other_algorithm: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for ViaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViaStore")
            .field("backend", &self.inner.backend)
            .finish_non_exhaustive()
    }
}

/// Why no store could be made for a backend URL.
#[derive(Debug)]
pub struct BadBackend(pub String);

impl ViaStore {
    /// A store for the backend at `backend` (http or https). Nothing is sent
    /// yet. `own_key`: the user named the object's key. `no_verify_ssl`: no
    /// TLS certificate is checked, the backend's nor the part URLs'.
    pub fn new(
        backend: &str,
        token: Option<Token>,
        stall_timeout: Duration,
        own_key: bool,
        no_verify_ssl: bool,
    ) -> Result<ViaStore, BadBackend> {
        let url = reqwest::Url::parse(backend)
            .map_err(|e| BadBackend(format!("'{backend}' is not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") || url.cannot_be_a_base() {
            return Err(BadBackend(format!(
                "'{backend}' is not an http:// or https:// URL"
            )));
        }
        let http = reqwest::Client::builder()
            // Only the connect phase has a fixed limit; the watchdog fails a
            // request that stops making progress (see store::watchdog).
            .connect_timeout(Duration::from_secs(10))
            .danger_accept_invalid_certs(no_verify_ssl)
            .build()
            .map_err(|e| BadBackend(format!("cannot build an HTTP client: {e}")))?;
        Ok(ViaStore {
            inner: Arc::new(Inner {
                http,
                backend: backend.trim_end_matches('/').to_string(),
                base: url,
                token,
                watchdog: Watchdog::new(stall_timeout),
                own_key,
                other_algorithm: Default::default(),
                dialect: tokio::sync::OnceCell::new(),
                signer: Signer::default(),
                part_origin: std::sync::Mutex::default(),
            }),
            limit: None,
        })
    }

    /// The same store, every part body it sends drawing on `limit`
    /// (`--limit-rate`).
    pub fn limited(self, limit: Option<RateLimit>) -> ViaStore {
        ViaStore { limit, ..self }
    }

    /// The backend's URL, as given (for messages and the journal).
    pub fn backend(&self) -> &str {
        &self.inner.backend
    }
}

/// Base64 MD5 of a file range, for `Content-MD5`, through the one hashing
/// routine ([`Origin::hash`](super::body::Origin::hash)) on the blocking pool. Only a part the engine did
/// not hash ahead comes here, so the SHA-256 it also computes costs little.
async fn content_md5(range: &FileRange) -> Result<String, StoreError> {
    let (file, offset, len) = (range.file.clone(), range.offset, range.len);
    let sums = tokio::task::spawn_blocking(move || file.hash(offset, len, true, None))
        .await
        .map_err(|e| StoreError::new(ErrorKind::Fatal, "UploadPart", e.to_string()))?
        .map_err(|e| {
            StoreError::new(
                ErrorKind::Fatal,
                "UploadPart",
                format!("cannot read the part: {e}"),
            )
        })?;
    Ok(b64(&sums.md5.expect("asked for the MD5")))
}

/// The last path segment of a key: the file name Companion builds its key from.
fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

impl Store for ViaStore {
    async fn probe(&self, _bucket: &str) -> Result<(), StoreError> {
        self.reachable().await
    }

    fn endpoint(&self) -> String {
        self.inner.backend.clone()
    }

    fn round_trip(&self) -> Option<Duration> {
        self.inner.watchdog.round_trip()
    }

    /// Through `serve`'s object-status route, which is also how a lost
    /// Complete is recognised (the default `completed_object`); Companion has
    /// none, so there the answer is an error, and the engine keeps the journal.
    async fn head_object(
        &self,
        _bucket: &str,
        key: &str,
    ) -> Result<Option<ObjectInfo>, StoreError> {
        if self.dialect().await? != Dialect::Serve {
            return Err(StoreError::new(
                ErrorKind::Fatal,
                "backend object",
                format!(
                    "the backend at {} offers no object-status route (it is not s3up serve)",
                    self.inner.backend
                ),
            ));
        }
        let req = self
            .inner
            .http
            .get(self.url(&["s3", "object"]))
            .query(&[("key", key)]);
        let answer: ObjectStatus = self.call("backend object", req, false, Wait::Small).await?;
        Ok(answer.exists.then(|| ObjectInfo {
            size: answer.size.unwrap_or(0),
            etag: answer.etag,
            checksum_sha256: answer.checksum_sha256,
            checksum: None,
        }))
    }

    /// An empty file, which S3 stores take as no part of a multipart upload
    /// (Garage refuses an empty part body): a presigned POST form from
    /// `GET /s3/params`, as Uppy sends small files. With no bytes there is
    /// nothing for a checksum to protect. Every other file goes up in parts,
    /// so a non-empty body is refused here.
    async fn put_object(
        &self,
        _bucket: &str,
        key: &str,
        body: FileRange,
        _sums: PartSums,
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        const OP: &str = "backend params";
        if body.len > 0 {
            return Err(StoreError::new(
                ErrorKind::Fatal,
                "PutObject",
                "through a --via backend only an empty file goes up in one request",
            ));
        }
        let dialect = self.dialect().await?;
        let content_type = opts
            .content_type
            .as_deref()
            .unwrap_or("application/octet-stream");
        let mut query = vec![
            ("filename".to_string(), file_name(key).to_string()),
            ("type".to_string(), content_type.to_string()),
        ];
        if dialect == Dialect::Serve && self.inner.own_key {
            query.push(("key".to_string(), key.to_string()));
        }
        for (k, v) in &opts.metadata {
            query.push((format!("metadata[{k}]"), v.clone()));
        }
        let req = self
            .inner
            .http
            .get(self.url(&["s3", "params"]))
            .query(&query);
        let form: ParamsResponse = self.call(OP, req, false, Wait::Small).await?;
        // Names as S3 wants them, not percent-encoded; the (empty) file goes
        // last, because S3 ignores every field after it.
        let mut body = reqwest::multipart::Form::new().percent_encode_noop();
        for (name, value) in form.fields {
            body = body.text(name, value);
        }
        let file = reqwest::multipart::Part::bytes(Vec::new())
            .file_name("empty")
            .mime_str("application/octet-stream")
            .map_err(|e| StoreError::new(ErrorKind::Fatal, "PostObject", e.to_string()))?;
        let body = body.part("file", file);
        let request = async {
            let resp = self
                .inner
                .http
                .post(form.url.as_str())
                .multipart(body)
                .send()
                .await
                .map_err(|e| errors::transport("PostObject", &e))?;
            let status = resp.status().as_u16();
            let header_etag = resp
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let text = resp.text().await.unwrap_or_default();
            if !(200..300).contains(&status) {
                return Err(errors::s3_answer("PostObject", status, &text));
            }
            Ok(Finished {
                location: None,
                etag: header_etag.or_else(|| errors::xml_field(&text, "ETag").map(str::to_string)),
                checksum_sha256: None,
                checksum: None,
            })
        };
        self.inner.watchdog.small("PostObject", request).await
    }

    async fn create_upload(
        &self,
        _bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> Result<UploadHandle, StoreError> {
        let dialect = self.dialect().await?;
        let serve = dialect == Dialect::Serve;
        let metadata = opts
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let body = CreateRequest {
            filename: Some(file_name(key).to_string()),
            // Companion requires a string here.
            content_type: Some(
                opts.content_type
                    .as_deref()
                    .unwrap_or("application/octet-stream")
                    .to_string(),
            ),
            metadata: Some(metadata),
            key: (serve && self.inner.own_key).then(|| key.to_string()),
            checksum_algorithm: serve.then(|| opts.checksum.algorithm.name().to_string()),
            // Said only when not the default, as before issue 23.
            checksum_type: (serve && !opts.checksum.is_default())
                .then(|| opts.checksum.type_name().to_string()),
        };
        if !opts.checksum.is_default() {
            self.inner
                .other_algorithm
                .store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let req = self
            .inner
            .http
            .post(self.url(&["s3", "multipart"]))
            .json(&body);
        let answer: CreateResponse = self.call("backend create", req, false, Wait::Small).await?;
        Ok(UploadHandle {
            bucket: answer.bucket,
            key: answer.key,
            upload_id: answer.upload_id,
        })
    }

    async fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> Result<String, StoreError> {
        let chosen = sums.chosen();
        let signed = if chosen.algorithm != Algorithm::Sha256 {
            self.inner
                .other_algorithm
                .store(true, std::sync::atomic::Ordering::Relaxed);
            signer::sign_with_checksum(self, upload, number, &chosen).await?
        } else {
            signer::url_for(self, upload, number, &sums.sha256).await?
        };
        let md5 = match (self.dialect().await?, sums.md5) {
            (Dialect::Companion, Some(md5)) => Some(b64(&md5)),
            // Not computed by the engine (it did not know the backend yet).
            (Dialect::Companion, None) => Some(content_md5(&body).await?),
            (Dialect::Serve, _) => None,
        };
        let stamp = Stamp::new();
        let len = body.len;
        self.note_part_origin(&signed.url);
        let mut req = self
            .inner
            .http
            .put(signed.url.as_str())
            .header(CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap(
                FileBody::new(body, stamp.clone()).limited(self.limit.clone()),
            ));
        for (name, value) in &signed.headers {
            req = req.header(name.as_str(), value.as_str());
        }
        if let Some(md5) = md5 {
            req = req.header("content-md5", md5);
        }
        let request = async {
            let resp = req
                .send()
                .await
                .map_err(|e| errors::transport("UploadPart", &e))?;
            let status = resp.status().as_u16();
            if !resp.status().is_success() {
                let text = resp.text().await.unwrap_or_default();
                return Err(errors::s3_answer("UploadPart", status, &text));
            }
            resp.headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
                .ok_or_else(|| {
                    StoreError::new(
                        ErrorKind::Retryable,
                        "UploadPart",
                        "the answer carried no ETag (does the bucket's CORS expose it?)",
                    )
                })
        };
        self.inner
            .watchdog
            .body("UploadPart", &stamp, request)
            .await
    }

    fn will_send(&self, upload: &UploadHandle, number: u32, sha256: [u8; 32]) {
        if !self
            .inner
            .other_algorithm
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            signer::announce(self, upload, number, sha256);
        }
    }

    fn signs_ahead(&self) -> bool {
        true
    }

    /// `serve` signs each part's checksum in any algorithm, and answers its
    /// create with 400 for one its bucket's store is known to refuse; a
    /// stock Companion signs none, so only SHA-256 (unsigned, with
    /// Content-MD5) goes through it. Asked before anything is created.
    async fn refuses_checksum(
        &self,
        _bucket: &str,
        choice: &Choice,
    ) -> Option<(StoreKind, &'static str)> {
        match self.dialect().await {
            Ok(Dialect::Companion) => StoreKind::Backend
                .refuses(choice)
                .map(|answer| (StoreKind::Backend, answer)),
            // serve answers for itself; an unreachable backend fails at create.
            _ => None,
        }
    }

    /// Companion: each PUT carries `Content-MD5`, the only check of its bytes.
    async fn wants_md5(&self) -> bool {
        matches!(self.dialect().await, Ok(Dialect::Companion))
    }

    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        whole: Option<&Tagged>,
        _if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        let serve = self.dialect().await? == Dialect::Serve;
        let body = CompleteRequest {
            parts: parts
                .iter()
                .map(|p| {
                    let checksum = p.checksum.as_ref().filter(|_| serve);
                    CompletePartEntry::new(p.number, p.etag.clone(), checksum)
                })
                .collect(),
            checksum_full_object: whole.filter(|_| serve).map(|t| t.b64.clone()),
        };
        let req = self
            .inner
            .http
            .post(self.url(&["s3", "multipart", &upload.upload_id, "complete"]))
            .query(&[("key", upload.key.as_str())])
            .json(&body);
        let answer: CompleteResponse = self
            .call("backend complete", req, true, Wait::Complete)
            .await?;
        let checksum = answer
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::from_name)
            .zip(answer.checksum)
            .map(|(algorithm, b64)| Tagged { algorithm, b64 });
        Ok(Finished {
            location: answer.location,
            etag: answer.etag,
            checksum_sha256: answer.checksum_sha256,
            checksum,
        })
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        let req = self
            .inner
            .http
            .delete(self.url(&["s3", "multipart", &upload.upload_id]))
            .query(&[("key", upload.key.as_str())]);
        // `{}` (`protocol::Empty`) from either backend; nothing in it is read.
        let _: IgnoredAny = self.call("backend abort", req, true, Wait::Small).await?;
        self.inner.signer.forget_upload(&upload.upload_id);
        Ok(())
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        let req = self
            .inner
            .http
            .get(self.url(&["s3", "multipart", &upload.upload_id]))
            .query(&[("key", upload.key.as_str())]);
        let answer: Vec<PartEntry> = self.call("backend list", req, true, Wait::Small).await?;
        let mut parts: Vec<ListedPart> = answer
            .into_iter()
            .map(|p| ListedPart {
                number: p.part_number,
                size: p.size,
                etag: p.etag,
                checksum_sha256: p.checksum_sha256,
            })
            .collect();
        parts.sort_by_key(|p| p.number);
        parts.dedup_by_key(|p| p.number);
        Ok(parts)
    }

    /// Never offered by a backend: see the module docs.
    async fn list_uploads(
        &self,
        _bucket: &str,
        _prefix: &str,
    ) -> Result<Vec<ListedUpload>, StoreError> {
        Err(StoreError::new(
            ErrorKind::Fatal,
            "ListMultipartUploads",
            format!(
                "the backend at {} does not list uploads, so an upload's absence cannot be confirmed",
                self.inner.backend
            ),
        ))
    }
}
