//! What the API says about itself and about the caller: `/healthz` and
//! `/openapi.json`, which anyone may ask, and `/s3/whoami`, which needs a
//! token.

use axum::{Extension, Json};

use super::{ApiDoc, Shared};
use crate::protocol::{ErrorBody, Health, WhoAmI, SERVICE};
use crate::serve::auth::Caller;

/// s3up: the caller's ID and prefix, and the bucket. The browser page checks the token with
/// it, and shows each file's key before the upload starts.
#[utoipa::path(get, path = "/s3/whoami", tag = "s3up",
    responses(
        (status = 200, body = WhoAmI),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = [])))]
pub async fn whoami(
    axum::extract::State(state): Shared,
    Extension(caller): Extension<Caller>,
) -> Json<WhoAmI> {
    Json(WhoAmI {
        id: caller.id,
        prefix: caller.scope,
        bucket: state.bucket.clone(),
    })
}

#[utoipa::path(get, path = "/healthz", tag = "s3up",
    responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        service: SERVICE.into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// The API document, generated from the handlers ([`ApiDoc`]) once: anyone
/// may ask for it, so asking should cost no more than the page's files.
pub async fn openapi() -> impl axum::response::IntoResponse {
    use utoipa::OpenApi;
    static DOC: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| serde_json::to_string(&ApiDoc::openapi()).unwrap_or_default());
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        DOC.as_str(),
    )
}
