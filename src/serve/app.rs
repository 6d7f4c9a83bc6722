//! The one place the application is assembled, for both ways it runs: the
//! long-lived process (`s3up serve`, [`super::server`]) and the AWS Lambda
//! function ([`super::lambda`]). Routes, authentication, key rules, limits,
//! error shapes and CORS are all in the [`Router`] this returns, so the two
//! cannot drift apart: each only feeds it requests its own way.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use super::auth::Auth;
use super::limits::{Limiters, RateLimits};
use super::{page, router, AppState, HttpLimits};
use crate::store::sdk::SdkStore;

/// Everything the application needs besides the store; the command line
/// (`s3up serve`) or the function's environment (`s3up-lambda`) fills it in.
pub struct AppConfig {
    pub bucket: String,
    pub auth: Auth,
    pub url_expiry: Duration,
    pub body_timeout: Duration,
    /// Object options set on every upload this backend signs (`--sse` …).
    pub imposed: crate::store::ObjectOptions,
    pub rates: RateLimits,
    pub http: HttpLimits,
}

/// The whole application over `store`. Asks the store once for the bucket's
/// URL, which the page's Content-Security-Policy names (no request is sent:
/// it is a presigned form's URL).
pub async fn build(store: SdkStore, config: AppConfig) -> Router {
    let store_url = store.bucket_url(&config.bucket).await.ok();
    let state = Arc::new(AppState {
        store,
        bucket: config.bucket,
        auth: config.auth,
        url_expiry: config.url_expiry,
        page: page::Page::new(store_url.as_deref()),
        limits: Arc::new(Limiters::new(config.rates)),
        body_timeout: config.body_timeout,
        imposed: config.imposed,
    });
    router(state, &config.http)
}
