//! Companion's multipart routes: create, list parts, sign one part, sign a
//! batch, complete and abort. Each checks the key against the caller's scope
//! before the store sees it; s3up's extensions (a checksum algorithm, each
//! part's SHA-256 signed into its URL and carried to Complete) ride on the
//! same routes.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::{Extension, Json};

use super::{
    content_type, json, key_param, metadata, new_key, param, part_number, query, sha256_param,
    upload, Shared, MAX_BATCH, MAX_PARTS,
};
use crate::checksum::{Algorithm, Choice, Tagged};
use crate::protocol::{
    BatchResponse, CompleteRequest, CompleteResponse, CreateRequest, CreateResponse, Empty,
    ErrorBody, PartEntry, SignResponse,
};
use crate::serve::auth::Caller;
use crate::serve::error::ApiError;
use crate::serve::keys::quoted;
use crate::serve::AppState;
use crate::store::CompletedPart;
use crate::store::{ObjectOptions, Store, UploadHandle};

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
    let choice = checksum_choice(&state, &req).await?;
    let opts = ObjectOptions {
        content_type: content_type(req.content_type.as_deref())?,
        metadata: metadata(req.metadata.unwrap_or_default())?,
        // What serve imposes; the client has no say in it.
        storage_class: state.imposed.storage_class.clone(),
        extras: state.imposed.extras.clone(),
        checksum: choice.unwrap_or_default(),
        ..ObjectOptions::default()
    };
    let up = state
        .store
        .create_multipart(&state.bucket, &key, &opts, choice.is_some())
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    crate::serve::metrics::upload("created");
    Ok(Json(CreateResponse {
        key: up.key,
        upload_id: up.upload_id,
        bucket: up.bucket,
        checksum_algorithm: choice.map(|c| c.algorithm.name().to_string()),
        checksum_type: choice.map(|c| c.type_name().to_string()),
    }))
}

/// The create's `checksumAlgorithm` and `checksumType`: a choice S3 allows
/// and the bucket's store is not known to refuse (the measured table,
/// `crate::checksum::StoreKind`), else 400 before anything is created.
async fn checksum_choice(
    state: &AppState,
    req: &CreateRequest,
) -> Result<Option<Choice>, ApiError> {
    let Some(name) = req.checksum_algorithm.as_deref() else {
        if let Some(t) = &req.checksum_type {
            return Err(ApiError::bad_request(
                "bad_checksum_algorithm",
                format!(
                    "checksumType '{}' needs a checksumAlgorithm: send one of {}",
                    quoted(t),
                    algorithm_names()
                ),
            ));
        }
        return Ok(None);
    };
    let choice = match Choice::from_names(name, req.checksum_type.as_deref()) {
        Some(Ok(c)) => c,
        Some(Err(_)) => {
            return Err(ApiError::bad_request(
                "bad_checksum_algorithm",
                format!(
                    "checksumAlgorithm '{}' cannot have checksumType '{}': FULL_OBJECT needs a \
                     CRC (CRC64NVME, CRC32C, CRC32), and CRC64NVME is FULL_OBJECT only",
                    quoted(name),
                    quoted(req.checksum_type.as_deref().unwrap_or(""))
                ),
            ))
        }
        None => {
            return Err(ApiError::bad_request(
                "bad_checksum_algorithm",
                format!(
                    "checksumAlgorithm '{}' with checksumType '{}' is not supported: use one of \
                     {} (type COMPOSITE or FULL_OBJECT)",
                    quoted(name),
                    quoted(req.checksum_type.as_deref().unwrap_or("")),
                    algorithm_names()
                ),
            ))
        }
    };
    if !choice.is_default() {
        if let Some((store, answer)) = state.store.refuses_checksum(&state.bucket, &choice).await {
            return Err(ApiError::bad_request(
                "unsupported_checksum",
                format!(
                    "{} (the backend's store) does not take {} checksums: {answer}. Nothing was \
                     created: use SHA256",
                    store.name(),
                    crate::output::checksum::named(&choice),
                ),
            ));
        }
    }
    Ok(Some(choice))
}

fn algorithm_names() -> String {
    Algorithm::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The parts' checksums a sign request carries: `sha256=` (SHA-256, as
/// before), or `checksumAlgorithm=` with `checksum=`; comma-separated, one
/// per part. Each must be one digest of its algorithm in base64.
fn checksum_params(q: &[(String, String)], count: usize) -> Result<Option<Vec<Tagged>>, ApiError> {
    let (algorithm, list) =
        match (param(q, "sha256"), param(q, "checksum")) {
            (Some(_), Some(_)) => return Err(ApiError::bad_request(
                "bad_checksum",
                "both sha256 and checksum were given: send one (checksum with checksumAlgorithm)",
            )),
            (Some(list), None) => {
                for s in list.split(',') {
                    sha256_param(s)?;
                }
                (Algorithm::Sha256, list)
            }
            (None, Some(list)) => {
                let name = param(q, "checksumAlgorithm").unwrap_or("");
                let algorithm = Algorithm::from_name(name).ok_or_else(|| {
                    ApiError::bad_request(
                        "bad_checksum_algorithm",
                        format!(
                            "checksumAlgorithm '{}' is not supported: send the upload's, one of {}",
                            quoted(name),
                            algorithm_names()
                        ),
                    )
                })?;
                (algorithm, list)
            }
            (None, None) => return Ok(None),
        };
    let sums: Vec<Tagged> = list
        .split(',')
        .map(|b64| {
            if algorithm.well_formed(b64) {
                Ok(Tagged {
                    algorithm,
                    b64: b64.to_string(),
                })
            } else {
                Err(ApiError::bad_request(
                    "bad_checksum",
                    format!(
                        "'{}' is not a {} in base64, as S3 writes it",
                        quoted(b64),
                        algorithm.name()
                    ),
                ))
            }
        })
        .collect::<Result<_, _>>()?;
    if sums.len() != count {
        return Err(ApiError::bad_request(
            "bad_checksum",
            format!(
                "{} checksums for {count} part numbers: send one per part, in the same order",
                sums.len()
            ),
        ));
    }
    Ok(Some(sums))
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

async fn sign_one(
    state: &AppState,
    up: &UploadHandle,
    number: u32,
    checksum: Option<&Tagged>,
    expires: std::time::Duration,
) -> Result<(String, Option<BTreeMap<String, String>>), ApiError> {
    let p = state
        .store
        .presign_upload_part(up, number, checksum, expires)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    crate::serve::metrics::signed("part", 1);
    let headers = checksum.map(|_| p.headers.into_iter().collect());
    Ok((p.url, headers))
}

#[utoipa::path(get, path = "/s3/multipart/{uploadId}/{partNumber}", tag = "companion",
    params(("uploadId" = String, Path), ("partNumber" = u32, Path, minimum = 1, maximum = 10000),
        ("key" = String, Query),
        ("sha256" = Option<String>, Query, description = "s3up: the part's SHA-256 in base64; signed into the URL"),
        ("checksumAlgorithm" = Option<String>, Query, description = "s3up: with `checksum`, the upload's algorithm: SHA256, CRC64NVME, CRC32C, CRC32 or SHA1"),
        ("checksum" = Option<String>, Query, description = "s3up: the part's checksum in that algorithm, base64; signed into the URL as x-amz-checksum-<alg>")),
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
    let sums = checksum_params(&q, 1)?;
    let expires = state
        .store
        .presign_expiry(state.url_expiry)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    let checksum = sums.as_ref().and_then(|s| s.first());
    let (url, headers) = sign_one(&state, &up, number, checksum, expires).await?;
    Ok(Json(SignResponse {
        url,
        expires: Some(expires.as_secs()),
        headers,
    }))
}

#[utoipa::path(get, path = "/s3/multipart/{uploadId}/batch", tag = "companion",
    params(("uploadId" = String, Path), ("key" = String, Query),
        ("partNumbers" = String, Query, description = "Comma-separated part numbers (each 1 to 10000), at most 1000 of them"),
        ("sha256" = Option<String>, Query, description = "s3up: comma-separated base64 SHA-256s, one per part number, in the same order"),
        ("checksumAlgorithm" = Option<String>, Query, description = "s3up: with `checksum`, the upload's algorithm"),
        ("checksum" = Option<String>, Query, description = "s3up: comma-separated base64 checksums in that algorithm, one per part number, in the same order")),
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
    // Counted before anything is parsed: the work a batch costs is bounded.
    let asked = list.split(',').count();
    if asked > MAX_BATCH {
        return Err(ApiError::bad_request(
            "too_many_parts",
            format!(
                "{asked} part numbers in one batch: at most {MAX_BATCH}; ask in several batches"
            ),
        ));
    }
    let numbers = list
        .split(',')
        .map(part_number)
        .collect::<Result<Vec<u32>, ApiError>>()?;
    // Each number is signed once: repeats would only multiply the work.
    let mut seen = std::collections::HashSet::new();
    if let Some(n) = numbers.iter().find(|n| !seen.insert(**n)) {
        return Err(ApiError::bad_request(
            "bad_part_number",
            format!("part number {n} appears twice in the batch: ask for each part once"),
        ));
    }
    let sums = checksum_params(&q, numbers.len())?;
    let expires = state
        .store
        .presign_expiry(state.url_expiry)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    let mut urls = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for (i, n) in numbers.iter().enumerate() {
        let sum = sums.as_ref().and_then(|s| s.get(i));
        let (url, h) = sign_one(&state, &up, *n, sum, expires).await?;
        urls.insert(n.to_string(), url);
        if let Some(h) = h {
            headers.insert(n.to_string(), h);
        }
    }
    Ok(Json(BatchResponse {
        presigned_urls: urls,
        expires: Some(expires.as_secs()),
        headers: sums.map(|_| headers),
    }))
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
    let mut algorithm: Option<Algorithm> = None;
    for p in req.parts {
        let number = part_number(&p.part_number.to_string())?;
        if p.etag.is_empty() {
            return Err(ApiError::bad_request(
                "bad_parts",
                format!("part {number} has an empty ETag: send the ETag its PUT returned"),
            ));
        }
        let mut sums = p.checksums();
        if sums.len() > 1 {
            return Err(ApiError::bad_request(
                "bad_parts",
                format!(
                    "part {number} carries {} checksums: send its one",
                    sums.len()
                ),
            ));
        }
        let checksum = sums.pop();
        if let Some(t) = &checksum {
            if t.algorithm == Algorithm::Sha256 {
                sha256_param(&t.b64)?;
            } else if !t.algorithm.well_formed(&t.b64) {
                return Err(ApiError::bad_request(
                    "bad_checksum",
                    format!(
                        "part {number}'s checksum '{}' is not a {} in base64",
                        quoted(&t.b64),
                        t.algorithm.name()
                    ),
                ));
            }
        }
        if let (Some(a), Some(t)) = (algorithm, &checksum) {
            if a != t.algorithm {
                return Err(ApiError::bad_request(
                    "bad_parts",
                    format!(
                        "part {number} carries a {} checksum, others a {}: send the upload's \
                         algorithm for every part",
                        t.algorithm.name(),
                        a.name()
                    ),
                ));
            }
        }
        algorithm = algorithm.or(checksum.as_ref().map(|t| t.algorithm));
        parts.push(CompletedPart {
            number,
            etag: p.etag,
            checksum,
        });
    }
    let whole = match (req.checksum_full_object, algorithm) {
        (None, _) => None,
        (Some(b64), Some(algorithm))
            if algorithm.can_be_full_object() && algorithm.well_formed(&b64) =>
        {
            Some(Tagged { algorithm, b64 })
        }
        (Some(b64), _) => {
            return Err(ApiError::bad_request(
                "bad_checksum",
                format!(
                    "checksumFullObject '{}' is not a CRC in the parts' algorithm: send the whole \
                     object's CRC64NVME, CRC32C or CRC32 in base64, with each part's",
                    quoted(&b64)
                ),
            ))
        }
    };
    parts.sort_by_key(|p| p.number);
    if let Some(w) = parts.windows(2).find(|w| w[0].number == w[1].number) {
        return Err(ApiError::bad_request(
            "bad_parts",
            format!("part {} is listed twice: send each part once", w[0].number),
        ));
    }
    let done = state
        .store
        .complete_upload(&up, &parts, whole.as_ref(), false)
        .await
        .map_err(|e| ApiError::from_store(&e))?;
    crate::serve::metrics::upload("completed");
    Ok(Json(CompleteResponse {
        location: done.location,
        key: up.key,
        bucket: up.bucket,
        etag: done.etag,
        checksum_sha256: done.checksum_sha256,
        checksum_algorithm: done
            .checksum
            .as_ref()
            .map(|t| t.algorithm.name().to_string()),
        checksum: done.checksum.map(|t| t.b64),
    }))
}

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
    crate::serve::metrics::upload("aborted");
    Ok(Json(Empty {}))
}
