//! The routes: Companion's S3 multipart protocol and s3up's extensions, each
//! handler with its OpenAPI description (utoipa), so `/openapi.json` is
//! generated from this code and cannot drift from it.
//!
//! Handlers take their query string and body raw and parse them here, so that
//! every refusal, including malformed JSON, is `serve`'s own JSON error with
//! a message that quotes the value at fault (axum's extractors would answer
//! plain text). The shapes themselves are written down in `serve`'s module docs.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{for_status, ApiError, ErrorBody};
use super::keys::{self, quoted};
use super::AppState;
use crate::store::sdk::CompletePart;
use crate::store::{ObjectOptions, Store, UploadHandle};

/// S3's part numbers run from 1 to this; also the most parts a batch or a
/// Complete may name.
pub const MAX_PARTS: u32 = 10_000;

type Shared = State<Arc<AppState>>;

/// The query string as name/value pairs, percent-decoded.
fn query(raw: Option<String>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(q: &'a [(String, String)], name: &str) -> Option<&'a str> {
    q.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// The `key` query parameter, checked against the caller's scope.
fn key_param(q: &[(String, String)], caller: &Caller) -> Result<String, ApiError> {
    let key = param(q, "key").ok_or_else(|| {
        ApiError::bad_request(
            "missing_key",
            "the object key must be passed as a query parameter, e.g. ?key=uploads/a.bin",
        )
    })?;
    keys::check(key, &caller.scope)?;
    Ok(key.to_string())
}

fn upload(state: &AppState, key: String, upload_id: &str) -> Result<UploadHandle, ApiError> {
    if upload_id.is_empty() || upload_id.len() > 1024 || upload_id.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "bad_upload_id",
            format!(
                "uploadId '{}' is not an upload ID: pass the uploadId that create returned",
                quoted(upload_id)
            ),
        ));
    }
    Ok(UploadHandle {
        bucket: state.bucket.clone(),
        key,
        upload_id: upload_id.to_string(),
    })
}

fn part_number(s: &str) -> Result<u32, ApiError> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_PARTS).contains(&n) => Ok(n),
        _ => Err(ApiError::bad_request(
            "bad_part_number",
            format!(
                "part number '{}' is not a whole number from 1 to 10000",
                quoted(s)
            ),
        )),
    }
}

/// A part's SHA-256 as S3 writes it: base64 of 32 bytes.
fn sha256_param(s: &str) -> Result<String, ApiError> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(bytes) if bytes.len() == 32 => Ok(s.to_string()),
        _ => Err(ApiError::bad_request(
            "bad_checksum",
            format!(
                "sha256 '{}' is not a SHA-256 in base64 (44 characters, as S3 writes it)",
                quoted(s)
            ),
        )),
    }
}

fn json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(|r| for_status(r.status()))?;
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(
            "bad_json",
            format!("the request body is not the JSON this route takes: {e}"),
        )
    })
}

/// User metadata as S3 takes it. Values that are not strings are left out,
/// as Companion does (Uppy sends e.g. `relativePath: null`); values that are
/// not printable ASCII are RFC 2047-encoded, as Companion does, because S3
/// sends metadata in HTTP headers.
fn metadata(
    pairs: impl IntoIterator<Item = (String, serde_json::Value)>,
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for (name, value) in pairs {
        let serde_json::Value::String(value) = value else {
            continue;
        };
        let name_ok = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !name_ok {
            return Err(ApiError::bad_request(
                "bad_metadata",
                format!(
                    "metadata name '{}' must be ASCII letters, digits, '-', '_' or '.'",
                    quoted(&name)
                ),
            ));
        }
        let printable = value.bytes().all(|b| (0x20..0x7f).contains(&b));
        let value = if printable {
            value
        } else {
            format!("=?UTF-8?B?{}?=", crate::store::b64(value.as_bytes()))
        };
        out.push((name.to_ascii_lowercase(), value));
    }
    Ok(out)
}

/// A Content-Type as S3 can take it in a header: printable ASCII.
fn content_type(t: Option<&str>) -> Result<Option<String>, ApiError> {
    match t.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) if t.bytes().all(|b| (0x20..0x7f).contains(&b)) => Ok(Some(t.to_string())),
        Some(t) => Err(ApiError::bad_request(
            "bad_content_type",
            format!(
                "type '{}' is not a Content-Type: use printable ASCII, e.g. image/jpeg",
                quoted(t)
            ),
        )),
    }
}

/// The key for a new object: the caller's own (checked), or Companion's default.
fn new_key(caller: &Caller, key: Option<&str>, filename: Option<&str>) -> Result<String, ApiError> {
    match (key, filename) {
        (Some(key), _) => {
            keys::check(key, &caller.scope)?;
            Ok(key.to_string())
        }
        (None, Some(name)) if !name.is_empty() => keys::default_key(&caller.scope, name),
        _ => Err(ApiError::bad_request(
            "missing_filename",
            "the \"filename\" field is required and must be a non-empty string",
        )),
    }
}

/// `POST /s3/multipart`: Companion's fields, plus s3up's `key` and `checksumAlgorithm`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    /// The file's name; the key is a random id, `-` and this, under the caller's prefix.
    /// (`@uppy/aws-s3` 6 sends its own proposed key here.)
    #[serde(default)]
    pub filename: Option<String>,
    /// The object's Content-Type.
    #[serde(default, rename = "type")]
    pub content_type: Option<String>,
    /// User metadata (x-amz-meta-*); values that are not strings are ignored.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// s3up: the exact key wanted, which must lie under the caller's prefix.
    #[serde(default)]
    pub key: Option<String>,
    /// s3up: `SHA256` creates the upload with SHA-256 checksums; each part
    /// must then be signed with its `sha256` and Complete must carry them.
    #[serde(default)]
    pub checksum_algorithm: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponse {
    pub key: String,
    pub upload_id: String,
    pub bucket: String,
    /// s3up: `SHA256` when the upload was created with that algorithm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
}

#[utoipa::path(post, path = "/s3/multipart", tag = "companion",
    request_body = CreateRequest,
    responses(
        (status = 200, body = CreateResponse, description = "The upload was created"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn create(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CreateResponse>, ApiError> {
    let req: CreateRequest = json(body)?;
    let key = new_key(&caller, req.key.as_deref(), req.filename.as_deref())?;
    let sha256 = match req.checksum_algorithm.as_deref() {
        None => false,
        Some(a) if a.eq_ignore_ascii_case("SHA256") => true,
        Some(a) => {
            return Err(ApiError::bad_request(
                "bad_checksum_algorithm",
                format!(
                    "checksumAlgorithm '{}' is not supported: use SHA256",
                    quoted(a)
                ),
            ))
        }
    };
    let opts = ObjectOptions {
        content_type: content_type(req.content_type.as_deref())?,
        metadata: metadata(req.metadata.unwrap_or_default())?,
        ..ObjectOptions::default()
    };
    let up = state
        .store
        .create_multipart(&state.bucket, &key, &opts, sha256)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(CreateResponse {
        key: up.key,
        upload_id: up.upload_id,
        bucket: up.bucket,
        checksum_algorithm: sha256.then(|| "SHA256".to_string()),
    }))
}

/// One part S3 holds, in S3's own casing as Companion returns it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PartEntry {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "Size")]
    pub size: u64,
    #[serde(rename = "ETag")]
    pub etag: String,
    /// When the store reports it (AWS and Garage do; moto does not).
    #[serde(rename = "ChecksumSHA256", skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
}

#[utoipa::path(get, path = "/s3/multipart/{uploadId}", tag = "companion",
    params(("uploadId" = String, Path), ("key" = String, Query, description = "The object key")),
    responses(
        (status = 200, body = [PartEntry], description = "Every part, all pages, by number"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn list_parts(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(upload_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<PartEntry>>, ApiError> {
    let q = query(raw);
    let up = upload(&state, key_param(&q, &caller)?, &upload_id)?;
    let parts = state
        .store
        .list_parts(&up)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(
        parts
            .into_iter()
            .map(|p| PartEntry {
                part_number: p.number,
                size: p.size,
                etag: p.etag,
                checksum_sha256: p.checksum_sha256,
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignResponse {
    /// The presigned UploadPart URL: PUT the part's bytes to it.
    pub url: String,
    /// Seconds the URL stays valid.
    pub expires: u64,
    /// s3up: headers the PUT must carry, e.g. `x-amz-checksum-sha256` (present
    /// when `sha256` was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

async fn sign_one(
    state: &AppState,
    up: &UploadHandle,
    number: u32,
    sha256: Option<&str>,
    expires: std::time::Duration,
) -> Result<(String, Option<BTreeMap<String, String>>), ApiError> {
    let p = state
        .store
        .presign_upload_part(up, number, sha256, expires)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    let headers = sha256.map(|_| p.headers.into_iter().collect());
    Ok((p.url, headers))
}

#[utoipa::path(get, path = "/s3/multipart/{uploadId}/{partNumber}", tag = "companion",
    params(("uploadId" = String, Path), ("partNumber" = u32, Path, minimum = 1, maximum = 10000),
        ("key" = String, Query),
        ("sha256" = Option<String>, Query, description = "s3up: the part's SHA-256 in base64; signed into the URL")),
    responses(
        (status = 200, body = SignResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn sign_part(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path((upload_id, number)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SignResponse>, ApiError> {
    let q = query(raw);
    let up = upload(&state, key_param(&q, &caller)?, &upload_id)?;
    let number = part_number(&number)?;
    let sha256 = param(&q, "sha256").map(sha256_param).transpose()?;
    let expires = state
        .store
        .presign_expiry(state.url_expiry)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    let (url, headers) = sign_one(&state, &up, number, sha256.as_deref(), expires).await?;
    Ok(Json(SignResponse {
        url,
        expires: expires.as_secs(),
        headers,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// Part number (as a string) to presigned URL.
    pub presigned_urls: BTreeMap<String, String>,
    /// s3up: seconds the URLs stay valid.
    pub expires: u64,
    /// s3up: part number to the headers its PUT must carry (when `sha256` was given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

#[utoipa::path(get, path = "/s3/multipart/{uploadId}/batch", tag = "companion",
    params(("uploadId" = String, Path), ("key" = String, Query),
        ("partNumbers" = String, Query, description = "Comma-separated part numbers, 1 to 10000 of them"),
        ("sha256" = Option<String>, Query, description = "s3up: comma-separated base64 SHA-256s, one per part number, in the same order")),
    responses(
        (status = 200, body = BatchResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn sign_batch(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(upload_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<BatchResponse>, ApiError> {
    let q = query(raw);
    let up = upload(&state, key_param(&q, &caller)?, &upload_id)?;
    let list = param(&q, "partNumbers").ok_or_else(|| {
        ApiError::bad_request(
            "bad_part_number",
            "the part numbers must be passed as a comma-separated query parameter, e.g. ?partNumbers=4,6,7",
        )
    })?;
    let numbers = list
        .split(',')
        .map(part_number)
        .collect::<Result<Vec<u32>, ApiError>>()?;
    if numbers.len() > MAX_PARTS as usize {
        return Err(ApiError::bad_request(
            "too_many_parts",
            format!("{} part numbers in one batch: at most 10000", numbers.len()),
        ));
    }
    // Each number is signed once: repeats would only multiply the work.
    let mut seen = std::collections::HashSet::new();
    if let Some(n) = numbers.iter().find(|n| !seen.insert(**n)) {
        return Err(ApiError::bad_request(
            "bad_part_number",
            format!("part number {n} appears twice in the batch: ask for each part once"),
        ));
    }
    let sums: Option<Vec<String>> = param(&q, "sha256")
        .map(|s| s.split(',').map(sha256_param).collect())
        .transpose()?;
    if let Some(s) = &sums {
        if s.len() != numbers.len() {
            return Err(ApiError::bad_request(
                "bad_checksum",
                format!(
                    "{} sha256 values for {} part numbers: send one per part, in the same order",
                    s.len(),
                    numbers.len()
                ),
            ));
        }
    }
    let expires = state
        .store
        .presign_expiry(state.url_expiry)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    let mut urls = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for (i, n) in numbers.iter().enumerate() {
        let sum = sums.as_ref().and_then(|s| s.get(i)).map(String::as_str);
        let (url, h) = sign_one(&state, &up, *n, sum, expires).await?;
        urls.insert(n.to_string(), url);
        if let Some(h) = h {
            headers.insert(n.to_string(), h);
        }
    }
    Ok(Json(BatchResponse {
        presigned_urls: urls,
        expires: expires.as_secs(),
        headers: sums.map(|_| headers),
    }))
}

/// A part for Complete, in S3's casing as Companion takes it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CompletePartEntry {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
    /// s3up: the part's SHA-256 in base64; required for uploads created with SHA256.
    #[serde(
        rename = "ChecksumSHA256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha256: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CompleteRequest {
    /// 1 to 10000 parts, each number once.
    pub parts: Vec<CompletePartEntry>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteResponse {
    /// The object's URL, as the store reports it.
    pub location: Option<String>,
    pub key: String,
    pub bucket: String,
    /// s3up: the object's ETag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// s3up: the object's composite SHA-256 ("…-N"), when the store reports it.
    #[serde(rename = "checksumSHA256", skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
}

#[utoipa::path(post, path = "/s3/multipart/{uploadId}/complete", tag = "companion",
    params(("uploadId" = String, Path), ("key" = String, Query)),
    request_body = CompleteRequest,
    responses(
        (status = 200, body = CompleteResponse),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn complete(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(upload_id): Path<String>,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CompleteResponse>, ApiError> {
    let q = query(raw);
    let up = upload(&state, key_param(&q, &caller)?, &upload_id)?;
    let req: CompleteRequest = json(body)?;
    if req.parts.is_empty() || req.parts.len() > MAX_PARTS as usize {
        return Err(ApiError::bad_request(
            "bad_parts",
            format!(
                "`parts` has {} entries: send 1 to 10000 {{PartNumber, ETag}} objects",
                req.parts.len()
            ),
        ));
    }
    let mut parts = Vec::with_capacity(req.parts.len());
    for p in req.parts {
        let number = part_number(&p.part_number.to_string())?;
        if p.etag.is_empty() {
            return Err(ApiError::bad_request(
                "bad_parts",
                format!("part {number} has an empty ETag: send the ETag its PUT returned"),
            ));
        }
        let sha256 = p.checksum_sha256.as_deref().map(sha256_param).transpose()?;
        parts.push(CompletePart {
            number,
            etag: p.etag,
            sha256,
        });
    }
    parts.sort_by_key(|p| p.number);
    if let Some(w) = parts.windows(2).find(|w| w[0].number == w[1].number) {
        return Err(ApiError::bad_request(
            "bad_parts",
            format!("part {} is listed twice: send each part once", w[0].number),
        ));
    }
    let done = state
        .store
        .complete_parts(&up, &parts, false)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(CompleteResponse {
        location: done.location,
        key: up.key,
        bucket: up.bucket,
        etag: done.etag,
        checksum_sha256: done.checksum_sha256,
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Empty {}

#[utoipa::path(delete, path = "/s3/multipart/{uploadId}", tag = "companion",
    params(("uploadId" = String, Path), ("key" = String, Query)),
    responses(
        (status = 200, body = Empty, description = "Aborted"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn abort(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    Path(upload_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<Empty>, ApiError> {
    let q = query(raw);
    let up = upload(&state, key_param(&q, &caller)?, &upload_id)?;
    state
        .store
        .abort_upload(&up)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(Empty {}))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    pub key: String,
    pub exists: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Composite SHA-256 ("…-N") for multipart objects, when stored.
    #[serde(rename = "checksumSHA256", skip_serializing_if = "Option::is_none")]
    pub checksum_sha256: Option<String>,
}

/// s3up: whether an object exists, for a client whose Complete answer was lost.
#[utoipa::path(get, path = "/s3/object", tag = "s3up",
    params(("key" = String, Query)),
    responses(
        (status = 200, body = ObjectStatus),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn object_status(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ObjectStatus>, ApiError> {
    let q = query(raw);
    let key = key_param(&q, &caller)?;
    let info = state
        .store
        .head_object(&state.bucket, &key)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(match info {
        Some(i) => ObjectStatus {
            key,
            exists: true,
            size: Some(i.size),
            etag: i.etag,
            checksum_sha256: i.checksum_sha256,
        },
        None => ObjectStatus {
            key,
            exists: false,
            size: None,
            etag: None,
            checksum_sha256: None,
        },
    }))
}

/// Who the caller is, for a client that wants to show keys before it creates
/// anything, or to check a token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The token's ID or the JWT's subject, as the log names the caller.
    pub id: String,
    /// Every key the caller names must start with this (`--prefix` and the
    /// caller's own prefix); empty when any key is allowed.
    pub prefix: String,
}

/// s3up: the caller's ID and prefix. The browser page checks the token with
/// it, and shows each file's key before the upload starts.
#[utoipa::path(get, path = "/s3/whoami", tag = "s3up",
    responses(
        (status = 200, body = WhoAmI),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn whoami(Extension(caller): Extension<Caller>) -> Json<WhoAmI> {
    Json(WhoAmI {
        id: caller.id,
        prefix: caller.scope,
    })
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ParamsResponse {
    /// Always `POST`.
    pub method: String,
    /// The bucket's URL, ending in `/`.
    pub url: String,
    /// Form fields to send before the `file` field, `key` among them.
    pub fields: BTreeMap<String, String>,
    /// Seconds the form stays valid.
    pub expires: u64,
}

#[utoipa::path(get, path = "/s3/params", tag = "companion",
    params(("filename" = String, Query), ("type" = Option<String>, Query),
        ("key" = Option<String>, Query, description = "s3up: the exact key wanted, under the caller's prefix")),
    responses(
        (status = 200, body = ParamsResponse, description = "A presigned POST form"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 502, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn params(
    State(state): Shared,
    Extension(caller): Extension<Caller>,
    RawQuery(raw): RawQuery,
) -> Result<Json<ParamsResponse>, ApiError> {
    let q = query(raw);
    let key = new_key(&caller, param(&q, "key"), param(&q, "filename"))?;
    let mut fields = vec![("success_action_status".to_string(), "201".to_string())];
    if let Some(t) = content_type(param(&q, "type"))? {
        fields.push(("content-type".into(), t));
    }
    let meta = q.iter().filter_map(|(k, v)| {
        let name = k.strip_prefix("metadata[")?.strip_suffix(']')?;
        Some((name.to_string(), serde_json::Value::String(v.clone())))
    });
    for (name, value) in metadata(meta)? {
        fields.push((format!("x-amz-meta-{name}"), value));
    }
    let expires = state
        .store
        .presign_expiry(state.url_expiry)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    let post = state
        .store
        .presign_post(&state.bucket, &key, &fields, expires)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    Ok(Json(ParamsResponse {
        method: "POST".into(),
        url: post.url,
        fields: post.fields.into_iter().collect(),
        expires: expires.as_secs(),
    }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves.
    pub status: String,
    /// `s3up`, so a client can tell `serve` (with its extensions) from Companion.
    pub service: String,
    pub version: String,
}

#[utoipa::path(get, path = "/healthz", tag = "s3up",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        service: "s3up".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// The whole API, generated from the handlers above.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "s3up serve", description = "Uppy Companion's S3 multipart protocol, plus s3up's extensions"),
    paths(create, list_parts, sign_part, sign_batch, complete, abort, object_status, whoami, params, healthz),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    use utoipa::OpenApi;
    Json(ApiDoc::openapi())
}
