//! `GET /s3/params`: Companion's upload in one request, for small files. The
//! answer is a presigned POST form (`url` and `fields`); the client posts
//! the fields and then the file straight to the bucket.

use axum::extract::{RawQuery, State};
use axum::{Extension, Json};

use super::{content_type, metadata, new_key, param, query, Shared};
use crate::protocol::{ErrorBody, ParamsResponse};
use crate::serve::auth::Caller;
use crate::serve::error::ApiError;

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
    // Pinned by the policy like every field: a form without them is refused.
    fields.extend(crate::store::sdk::options::post_fields(&state.imposed));
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
    crate::serve::metrics::signed("post", 1);
    Ok(Json(ParamsResponse {
        method: "POST".into(),
        url: post.url,
        fields: post.fields.into_iter().collect(),
        expires: expires.as_secs(),
    }))
}
