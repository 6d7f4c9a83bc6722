//! The store over an upload backend: `s3up serve` or Uppy Companion, over
//! HTTP (reqwest with rustls). Create, list, complete and abort go to the
//! backend; each part's body goes straight to S3 with a presigned PUT.
//!
//! **Wire format** (Companion's S3 multipart routes, written down in
//! `crate::serve`'s module docs): `POST /s3/multipart`,
//! `GET /s3/multipart/{uploadId}?key=`, `GET /s3/multipart/{uploadId}/{n}?key=`,
//! `GET /s3/multipart/{uploadId}/batch?key=&partNumbers=`,
//! `POST /s3/multipart/{uploadId}/complete?key=`, `DELETE /s3/multipart/{uploadId}?key=`.
//! The token goes in `Authorization: Bearer`.
//!
//! **Which backend** ([`Dialect`]): `GET /healthz` is asked once, without
//! the token; `serve` answers `{"service": "s3up"}`, Companion has no such
//! route. With `serve`, s3up uses its extensions:
//! - the upload is created with `checksumAlgorithm: SHA256` and, when the user
//!   named one, its own `key`;
//! - each part is signed with its SHA-256 (`sha256=`), which `serve` signs into
//!   the URL as `x-amz-checksum-sha256` and returns in `headers`: S3 rejects a
//!   body whose bytes differ;
//! - Complete carries each part's checksum and answers the object's composite
//!   SHA-256, which the engine compares with the parts';
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
//! [`ListUploads::list_uploads`] fails (Fatal). `engine::gone` then cannot
//! confirm that an upload is gone, and keeps its journal: a 404 from the
//! backend never removes a journal on its own.
//!
//! Part bodies stream from the file ([`FileBody`]) under the same stall
//! [`Watchdog`] as the SDK store; no part is held in memory whole. The token
//! and the presigned URLs are never logged or written to the journal.

mod errors;
mod signer;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_LENGTH, ETAG};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;

use self::signer::{Signed, Signer};
use super::body::FileBody;
use super::watchdog::{Stamp, Watchdog};
use super::{
    b64, CompletedPart, ErrorKind, FileRange, Finished, ListUploads, ListedPart, ListedUpload,
    ObjectInfo, ObjectOptions, PartSums, Store, StoreError, UploadHandle,
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
}

struct Inner {
    http: reqwest::Client,
    /// The backend's base URL, without a trailing `/` (for messages).
    backend: String,
    /// The same, parsed: routes are appended to it.
    base: reqwest::Url,
    token: Token,
    watchdog: Watchdog,
    /// The user named the key; with `serve` it is asked for as is.
    own_key: bool,
    dialect: tokio::sync::OnceCell<Dialect>,
    signer: Signer,
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

/// `POST /s3/multipart`'s answer (`bucket` is `serve`'s; Companion may omit it).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateAnswer {
    key: String,
    upload_id: String,
    #[serde(default)]
    bucket: Option<String>,
}

/// A part in a listing, in S3's casing as Companion returns it.
#[derive(Deserialize)]
struct PartAnswer {
    #[serde(rename = "PartNumber")]
    number: u32,
    #[serde(rename = "Size", default)]
    size: u64,
    #[serde(rename = "ETag", default)]
    etag: String,
    #[serde(rename = "ChecksumSHA256", default)]
    checksum_sha256: Option<String>,
}

#[derive(Deserialize)]
struct SignAnswer {
    url: String,
    #[serde(default)]
    expires: Option<u64>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchAnswer {
    presigned_urls: BTreeMap<String, String>,
    #[serde(default)]
    expires: Option<u64>,
    /// `serve`: each part's headers, when checksums were sent.
    #[serde(default)]
    headers: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

#[derive(Deserialize)]
struct CompleteAnswer {
    #[serde(default)]
    etag: Option<String>,
    #[serde(rename = "checksumSHA256", default)]
    checksum_sha256: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectAnswer {
    exists: bool,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    etag: Option<String>,
    #[serde(rename = "checksumSHA256", default)]
    checksum_sha256: Option<String>,
}

/// `GET /s3/params`' answer: a presigned POST form.
#[derive(Deserialize)]
struct PostForm {
    url: String,
    #[serde(default)]
    fields: BTreeMap<String, String>,
}

/// A `multipart/form-data` body with `fields` and an empty `file` last (S3
/// ignores every field after the file); its Content-Type, with the boundary.
fn empty_form(fields: &BTreeMap<String, String>) -> (String, Vec<u8>) {
    let boundary = format!("s3up-{:016x}", fastrand::u64(..));
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"empty\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

#[derive(Deserialize)]
struct Health {
    #[serde(default)]
    service: Option<String>,
}

/// How a backend call is watched.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    Small,
    /// Complete may take minutes on a large object.
    Complete,
}

impl ViaStore {
    /// A store for the backend at `backend` (http or https). Nothing is sent
    /// yet. `own_key`: the user named the object's key.
    pub fn new(
        backend: &str,
        token: Token,
        stall_timeout: Duration,
        own_key: bool,
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
            .build()
            .map_err(|e| BadBackend(format!("cannot build an HTTP client: {e}")))?;
        Ok(ViaStore {
            inner: Arc::new(Inner {
                http,
                backend: backend.trim_end_matches('/').to_string(),
                base: url,
                token,
                watchdog: Watchdog { stall_timeout },
                own_key,
                dialect: tokio::sync::OnceCell::new(),
                signer: Signer::default(),
            }),
        })
    }

    /// The backend's URL, as given (for messages and the journal).
    pub fn backend(&self) -> &str {
        &self.inner.backend
    }

    /// The backend's dialect, asked once (`GET /healthz`, no token).
    pub async fn dialect(&self) -> Result<Dialect, StoreError> {
        let inner = &self.inner;
        inner
            .dialect
            .get_or_try_init(|| async {
                let url = self.url(&["healthz"]);
                let request = async {
                    let resp = inner
                        .http
                        .get(url)
                        .send()
                        .await
                        .map_err(|e| errors::transport("backend healthz", &e))?;
                    if resp.status().as_u16() >= 500 {
                        let status = resp.status().as_u16();
                        let body = resp.text().await.unwrap_or_default();
                        return Err(errors::backend_answer(
                            "backend healthz",
                            &inner.backend,
                            status,
                            &body,
                            false,
                        ));
                    }
                    let ok = resp.status().is_success();
                    let health: Option<Health> = resp.json().await.ok();
                    let serve = ok && health.and_then(|h| h.service).is_some_and(|s| s == "s3up");
                    Ok(if serve {
                        Dialect::Serve
                    } else {
                        Dialect::Companion
                    })
                };
                inner.watchdog.small("backend healthz", request).await
            })
            .await
            .copied()
    }

    /// The backend URL with these path segments appended.
    fn url(&self, segments: &[&str]) -> reqwest::Url {
        let mut url = self.inner.base.clone();
        // `new` checked that the base can take path segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// Sends one backend request with the token and parses its JSON answer.
    /// `upload_route`: the request names an open upload (a 404 means it is gone).
    async fn call<T: DeserializeOwned>(
        &self,
        op: &'static str,
        req: reqwest::RequestBuilder,
        upload_route: bool,
        wait: Wait,
    ) -> Result<T, StoreError> {
        let inner = &self.inner;
        let req = req.bearer_auth(&inner.token.0);
        let request = async {
            let resp = req.send().await.map_err(|e| errors::transport(op, &e))?;
            let status = resp.status().as_u16();
            let body = resp.text().await.map_err(|e| errors::transport(op, &e))?;
            let value = serde_json::from_str::<serde_json::Value>(&body);
            // Uppy treats any JSON with an `error` field as a failure; so does s3up.
            let said_error = value.as_ref().is_ok_and(|v| v.get("error").is_some());
            if !(200..300).contains(&status) || said_error {
                return Err(errors::backend_answer(
                    op,
                    &inner.backend,
                    status,
                    &body,
                    upload_route,
                ));
            }
            let value = value.map_err(|e| {
                StoreError::new(
                    ErrorKind::Fatal,
                    op,
                    format!(
                        "the backend's answer is not JSON ({e}); is {} an s3up serve or Companion URL?",
                        inner.backend
                    ),
                )
            })?;
            serde_json::from_value(value).map_err(|e| {
                StoreError::new(
                    ErrorKind::Fatal,
                    op,
                    format!("the backend's answer is not the expected shape: {e}"),
                )
            })
        };
        match wait {
            Wait::Small => inner.watchdog.small(op, request).await,
            Wait::Complete => inner.watchdog.complete(op, request).await,
        }
    }

    /// Signs one part now, with its SHA-256 when the backend is `serve`.
    async fn sign_now(
        &self,
        upload: &UploadHandle,
        number: u32,
        sha256: Option<&[u8; 32]>,
    ) -> Result<Signed, StoreError> {
        let n = number.to_string();
        let sum = sha256.map(|s| b64(s));
        let mut query = vec![("key", upload.key.as_str())];
        if let Some(sum) = &sum {
            query.push(("sha256", sum));
        }
        let req = self
            .inner
            .http
            .get(self.url(&["s3", "multipart", &upload.upload_id, &n]))
            .query(&query);
        let asked = std::time::Instant::now();
        let answer: SignAnswer = self.call("backend sign", req, true, Wait::Small).await?;
        Ok(Signed::new(
            answer.url,
            answer.headers.unwrap_or_default().into_iter().collect(),
            sha256.copied(),
            asked,
            answer.expires,
        ))
    }

    /// Signs several parts in one request (`/batch`), each with its SHA-256
    /// when `sums` (the backend is `serve`).
    async fn sign_batch(
        &self,
        upload: &UploadHandle,
        parts: &[(u32, [u8; 32])],
        sums: bool,
    ) -> Result<Vec<(u32, Signed)>, StoreError> {
        let numbers: Vec<String> = parts.iter().map(|(n, _)| n.to_string()).collect();
        let mut query = vec![
            ("key", upload.key.clone()),
            ("partNumbers", numbers.join(",")),
        ];
        if sums {
            let list: Vec<String> = parts.iter().map(|(_, sha)| b64(sha)).collect();
            query.push(("sha256", list.join(",")));
        }
        let req = self
            .inner
            .http
            .get(self.url(&["s3", "multipart", &upload.upload_id, "batch"]))
            .query(&query);
        let asked = std::time::Instant::now();
        let mut answer: BatchAnswer = self.call("backend sign", req, true, Wait::Small).await?;
        Ok(parts
            .iter()
            .filter_map(|(n, sha)| {
                let url = answer.presigned_urls.remove(&n.to_string())?;
                let headers = answer
                    .headers
                    .as_mut()
                    .and_then(|h| h.remove(&n.to_string()))
                    .unwrap_or_default();
                let signed_for = sums.then_some(*sha);
                let signed = Signed::new(
                    url,
                    headers.into_iter().collect(),
                    signed_for,
                    asked,
                    answer.expires,
                );
                Some((*n, signed))
            })
            .collect())
    }
}

/// Base64 MD5 of a file range, for `Content-MD5`; read on the blocking pool.
async fn content_md5(range: &FileRange) -> Result<String, StoreError> {
    use md5::{Digest, Md5};
    use std::os::unix::fs::FileExt;
    let (file, offset, len) = (range.file.clone(), range.offset, range.len);
    let digest = tokio::task::spawn_blocking(move || {
        let mut h = Md5::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(buf.len() as u64) as usize;
            file.read_exact_at(&mut buf[..n], offset + done)?;
            h.update(&buf[..n]);
            done += n as u64;
        }
        Ok::<_, std::io::Error>(h.finalize())
    })
    .await
    .map_err(|e| StoreError::new(ErrorKind::Fatal, "UploadPart", e.to_string()))?
    .map_err(|e| {
        StoreError::new(
            ErrorKind::Fatal,
            "UploadPart",
            format!("cannot read the part: {e}"),
        )
    })?;
    Ok(b64(&digest))
}

/// The last path segment of a key: the file name Companion builds its key from.
fn file_name(key: &str) -> &str {
    key.rsplit('/').next().unwrap_or(key)
}

impl Store for ViaStore {
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
        let answer: ObjectAnswer = self.call("backend object", req, false, Wait::Small).await?;
        Ok(answer.exists.then(|| ObjectInfo {
            size: answer.size.unwrap_or(0),
            etag: answer.etag,
            checksum_sha256: answer.checksum_sha256,
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
        _sha256: [u8; 32],
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
        let form: PostForm = self.call(OP, req, false, Wait::Small).await?;
        let (content_type, bytes) = empty_form(&form.fields);
        let request = async {
            let resp = self
                .inner
                .http
                .post(form.url.as_str())
                .header(reqwest::header::CONTENT_TYPE, content_type)
                .body(bytes)
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
                etag: header_etag.or_else(|| errors::xml_field(&text, "ETag").map(str::to_string)),
                checksum_sha256: None,
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
        let metadata: serde_json::Map<String, serde_json::Value> = opts
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut body = json!({
            "filename": file_name(key),
            // Companion requires a string here.
            "type": opts.content_type.as_deref().unwrap_or("application/octet-stream"),
            "metadata": metadata,
        });
        if dialect == Dialect::Serve {
            body["checksumAlgorithm"] = json!("SHA256");
            if self.inner.own_key {
                body["key"] = json!(key);
            }
        }
        let req = self
            .inner
            .http
            .post(self.url(&["s3", "multipart"]))
            .json(&body);
        let answer: CreateAnswer = self.call("backend create", req, false, Wait::Small).await?;
        Ok(UploadHandle {
            bucket: answer.bucket.unwrap_or_default(),
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
        let signed = signer::url_for(self, upload, number, &sums.sha256).await?;
        let md5 = match (self.dialect().await?, sums.md5) {
            (Dialect::Companion, Some(md5)) => Some(b64(&md5)),
            // Not computed by the engine (it did not know the backend yet).
            (Dialect::Companion, None) => Some(content_md5(&body).await?),
            (Dialect::Serve, _) => None,
        };
        let stamp = Stamp::new();
        let len = body.len;
        let mut req = self
            .inner
            .http
            .put(signed.url.as_str())
            .header(CONTENT_LENGTH, len)
            .body(reqwest::Body::wrap(FileBody::new(body, stamp.clone())));
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
        signer::announce(self, upload, number, sha256);
    }

    fn signs_ahead(&self) -> bool {
        true
    }

    /// Companion: each PUT carries `Content-MD5`, the only check of its bytes.
    async fn wants_md5(&self) -> bool {
        matches!(self.dialect().await, Ok(Dialect::Companion))
    }

    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        _if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        let serve = self.dialect().await? == Dialect::Serve;
        let parts: Vec<serde_json::Value> = parts
            .iter()
            .map(|p| {
                let mut v = json!({"PartNumber": p.number, "ETag": p.etag});
                if serve {
                    v["ChecksumSHA256"] = json!(p.sha256);
                }
                v
            })
            .collect();
        let req = self
            .inner
            .http
            .post(self.url(&["s3", "multipart", &upload.upload_id, "complete"]))
            .query(&[("key", upload.key.as_str())])
            .json(&json!({ "parts": parts }));
        let answer: CompleteAnswer = self
            .call("backend complete", req, true, Wait::Complete)
            .await?;
        Ok(Finished {
            etag: answer.etag,
            checksum_sha256: answer.checksum_sha256,
        })
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        let req = self
            .inner
            .http
            .delete(self.url(&["s3", "multipart", &upload.upload_id]))
            .query(&[("key", upload.key.as_str())]);
        let _: serde_json::Value = self.call("backend abort", req, true, Wait::Small).await?;
        self.inner.signer.forget_upload(&upload.upload_id);
        Ok(())
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        let req = self
            .inner
            .http
            .get(self.url(&["s3", "multipart", &upload.upload_id]))
            .query(&[("key", upload.key.as_str())]);
        let answer: Vec<PartAnswer> = self.call("backend list", req, true, Wait::Small).await?;
        let mut parts: Vec<ListedPart> = answer
            .into_iter()
            .map(|p| ListedPart {
                number: p.number,
                size: p.size,
                etag: p.etag,
                checksum_sha256: p.checksum_sha256,
            })
            .collect();
        parts.sort_by_key(|p| p.number);
        parts.dedup_by_key(|p| p.number);
        Ok(parts)
    }
}

impl ListUploads for ViaStore {
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
