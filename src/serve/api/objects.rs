//! s3up's object-status route: whether an object exists, and its size, ETag
//! and checksum, for a client whose Complete answer was lost (the via
//! store's `completed_object`).

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};

use super::{key_param, query, Shared};
use crate::protocol::{ErrorBody, ObjectStatus};
use crate::serve::auth::Caller;
use crate::serve::error::ApiError;
use crate::store::Store;

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
