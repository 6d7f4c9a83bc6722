//! The routes: Companion's S3 multipart protocol and s3up's extensions, each
//! handler with its OpenAPI description (utoipa), so `/openapi.json` is
//! generated from this code and cannot drift from it. The bodies they read
//! and answer are [`crate::protocol`]'s types, which the via store uses too.
//!
//! Handlers take their query string and body raw and parse them here, so that
//! every refusal, including malformed JSON, is `serve`'s own JSON error with
//! a message that quotes the value at fault (axum's extractors would answer
//! plain text). The shapes themselves are written down in `serve`'s module docs.
//!
//! One file per group of routes: [`multipart`] (Companion's create, list,
//! sign, batch, complete, abort), [`params`] (the one-request upload form),
//! [`objects`] (s3up's object status), [`meta`] (health, the API document,
//! who the caller is). This file holds the route table, the request parsing
//! they share, and the document's assembly.

pub mod meta;
pub mod multipart;
pub mod objects;
pub mod params;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::Router;

use super::auth::Caller;
use super::error::{for_status, ApiError};
use super::keys::{self, quoted};
use super::AppState;
use crate::store::UploadHandle;

/// S3's part numbers run from 1 to this; also the most parts a batch or a
/// Complete may name.
pub use crate::s3::MAX_PARTS;

/// The most parts one batch may sign. Uppy asks for a few at a time and
/// `put --via` for 64; 10,000 took a second of CPU and answered 4.4 MB
/// (issue 21). 1,000 answer under half a megabyte, and their query, with a
/// SHA-256 each, escaped, fits in the 64 KiB a request target may take.
pub const MAX_BATCH: usize = 1000;

/// The largest request body, as Companion allows: a Complete of 10,000 parts
/// in Companion's format (`{PartNumber, ETag}`, about 75 bytes each) fits.
pub const MAX_BODY: usize = 1 << 20;

/// The largest Complete body: 10,000 parts that also carry s3up's
/// `ChecksumSHA256` take about 1.3 MB, more than [`MAX_BODY`].
pub const MAX_COMPLETE_BODY: usize = 2 << 20;

/// The routes that need a caller: `serve`'s router puts authentication and
/// the [`MAX_BODY`] limit in front of them.
pub fn authenticated() -> Router<Arc<AppState>> {
    Router::new()
        .route("/s3/multipart", post(multipart::create))
        .route(
            "/s3/multipart/{upload_id}",
            get(multipart::list_parts).delete(multipart::abort),
        )
        .route(
            "/s3/multipart/{upload_id}/batch",
            get(multipart::sign_batch),
        )
        .route(
            "/s3/multipart/{upload_id}/complete",
            post(multipart::complete).layer(DefaultBodyLimit::max(MAX_COMPLETE_BODY)),
        )
        .route(
            "/s3/multipart/{upload_id}/{part_number}",
            get(multipart::sign_part),
        )
        .route("/s3/params", get(params::params))
        .route("/s3/object", get(objects::object_status))
        .route("/s3/whoami", get(meta::whoami))
}

/// The routes anyone may call: health and the API document.
pub fn open() -> Router {
    Router::new()
        .route("/healthz", get(meta::healthz))
        .route("/openapi.json", get(meta::openapi))
}

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
        Ok(n) if (1..=MAX_PARTS).contains(&u64::from(n)) => Ok(n),
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

/// The whole API, generated from the handlers.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "s3up serve", description = "Uppy Companion's S3 multipart protocol, plus s3up's extensions"),
    paths(
        multipart::create, multipart::list_parts, multipart::sign_part, multipart::sign_batch,
        multipart::complete, multipart::abort, objects::object_status, meta::whoami,
        params::params, meta::healthz,
    ),
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
