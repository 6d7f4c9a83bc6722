//! `s3up serve`: the presigning backend. It holds the AWS credentials; its
//! clients (a browser, `put --via`, CI jobs) hold only a token, and send part
//! bodies straight to S3 over the URLs it signs.
//!
//! **Stateless.** Nothing is kept between requests: the upload and its parts
//! live in S3, the UploadId and key with the client. Any number of processes
//! can run behind a load balancer, and a restart loses nothing.
//!
//! # Wire format
//!
//! Uppy Companion's S3 routes, as `packages/@uppy/companion/src/server/controllers/s3.ts`
//! answers them and `packages/@uppy/aws-s3/src/s3-client/CompanionS3.ts` (Uppy 6)
//! calls them (read in transloadit/uppy at 35e6960, 2026-08). Field names and
//! casing are exactly Companion's; s3up's additions are marked *ext*.
//!
//! | route | request | answer |
//! |---|---|---|
//! | `POST /s3/multipart` | JSON `{filename, type, metadata}`; *ext* `key`, `checksumAlgorithm` (SHA256, CRC64NVME, CRC32C, CRC32, SHA1), `checksumType` (COMPOSITE, FULL_OBJECT) | `{key, uploadId, bucket}`; *ext* `checksumAlgorithm`, `checksumType` |
//! | `GET /s3/multipart/{uploadId}?key=` | | `[{PartNumber, Size, ETag}]`, every page; *ext* `ChecksumSHA256` |
//! | `GET /s3/multipart/{uploadId}/{partNumber}?key=` | *ext* `&sha256=BASE64`, or `&checksumAlgorithm=ALG&checksum=BASE64` | `{url, expires}`; *ext* `headers: {"x-amz-checksum-<alg>": …}` |
//! | `GET /s3/multipart/{uploadId}/batch?key=&partNumbers=1,2` | *ext* `&sha256=B64,B64`, or `&checksumAlgorithm=ALG&checksum=B64,B64` | `{presignedUrls: {"1": url}}`; *ext* `expires`, `headers: {"1": {…}}` |
//! | `POST /s3/multipart/{uploadId}/complete?key=` | JSON `{parts: [{PartNumber, ETag}]}`; *ext* `ChecksumSHA256` (or `ChecksumCRC64NVME`, `ChecksumCRC32C`, `ChecksumCRC32`, `ChecksumSHA1`) per part, `checksumFullObject` | `{location, key, bucket}`; *ext* `etag`, `checksumSHA256`, `checksumAlgorithm`, `checksum` |
//! | `DELETE /s3/multipart/{uploadId}?key=` | | `{}` |
//! | `GET /s3/params?filename=&type=&metadata[NAME]=` | *ext* `&key=` | `{method: "POST", url, fields, expires}`: a presigned POST form |
//! | *ext* `GET /s3/object?key=` | | `{key, exists, size, etag, checksumSHA256}` |
//! | *ext* `GET /s3/whoami` | | `{id, prefix, bucket}`: who the token is, the prefix its keys must start with, and the bucket |
//! | *ext* `GET /healthz`, `GET /openapi.json` | | `{status, service, version}`; the OpenAPI 3 document |
//! | *ext* `GET /`, `/app.js`, `/style.css` | | the browser uploader page ([`page`]) |
//!
//! What the client does with them (CompanionS3.ts):
//! - create sends its own proposed key (`{randomId}-{filename}`) as `filename`,
//!   and reads `key` and `uploadId` back;
//! - a part's signature is read for `url` alone, and the part PUT to it; the
//!   `ETag` response header must be readable, so the bucket's CORS must expose it;
//! - list reads `PartNumber` and `ETag`; complete sends `{PartNumber, ETag}`;
//! - small files: `GET /s3/params`, then a `multipart/form-data` POST of
//!   `fields` and then `file` to `url`; the object's location is `url + fields.key`;
//! - every non-2xx answer is a failure. Errors are `{"error": "…"}` (Uppy treats
//!   any JSON with `error` as one) plus s3up's stable `code` ([`error`]).
//!
//! Where s3up differs from Companion on purpose: every key is confined to the
//! caller's prefix ([`keys`]); requests are authenticated ([`auth`]); store
//! errors keep their meaning instead of a bare 500; no checksum of an empty
//! body is presigned into part URLs (see `store::sdk::presign`).
//!
//! # Limits
//! An open port on the internet meets slow clients, floods and greedy
//! tokens (issue 21); what nginx (`client_header_timeout`, `limit_conn`,
//! `limit_req`, `send_timeout`) would give in front of it, `serve` gives
//! itself:
//! - connections: at most `--max-connections` (default 4096) open, the
//!   request head within `--header-timeout` (10 s, also the idle keep-alive
//!   limit) and at most 80 KiB ([`server`]); the answer read by the client
//!   with no pause longer than `--write-timeout` (30 s, [`io`]);
//! - request bodies: [`api::MAX_BODY`], 1 MiB, enough for a Companion Complete of
//!   10,000 parts (about 0.75 MB); Complete itself takes [`api::MAX_COMPLETE_BODY`],
//!   2 MiB, because 10,000 parts with their SHA-256s take about 1.3 MB; read
//!   whole within `--body-timeout` (30 s) before any work starts;
//! - part numbers 1 to 10,000, at most 10,000 in a Complete and
//!   [`api::MAX_BATCH`] (1,000) in a batch, so a batch's answer stays under
//!   half a megabyte;
//! - work: `--max-concurrent` requests at once (default 256; beyond, 503 at once
//!   with `Retry-After`, rather than an unbounded queue), each cut off after
//!   `--request-timeout` (default 300 s, to leave room for a slow Complete,
//!   which S3 may take minutes over), then 408. `/healthz` and the page take no slot;
//! - per caller and per address ([`limits`]): requests in flight, requests and
//!   creates a second, refused tokens; 429 with `Retry-After`;
//! - JWTs ([`jwt`]): `exp` required, `nbf` and `iat` enforced, a maximum
//!   lifetime, `crit` refused.
//!
//! What happened is counted in [`metrics`], on `--metrics-listen`.
//!
//! # Layout
//! [`api`] holds the routes (one file per group) and [`crate::protocol`] the
//! bodies they read and write; [`middleware`] what runs around every route
//! (authentication, limits, timeouts, CORS, error shape, logs); [`auth`] and
//! [`keys`] who may call and which keys they may name, [`jwt`] the JWT rules;
//! [`limits`] the per-caller and per-address limits; [`server`] and [`io`] the
//! connections; [`metrics`] the counts; [`error`] the error answers;
//! [`bucket_cors`] the bucket's CORS for browser pages; [`page`] the embedded
//! uploader. This file holds the shared state and the router; [`app`]
//! assembles the application, and [`server`] (a socket) or [`lambda`] (an
//! AWS Lambda function) feeds it requests.

pub mod api;
pub mod app;
pub mod auth;
pub mod bucket_cors;
pub mod error;
pub mod io;
pub mod jwt;
pub mod keys;
pub mod lambda;
pub mod limits;
pub mod metrics;
pub mod middleware;
pub mod page;
pub mod server;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::Router;

use crate::store::sdk::SdkStore;
use auth::Auth;

/// Everything a request needs; shared, never changed after start-up.
pub struct AppState {
    pub store: SdkStore,
    pub bucket: String,
    pub auth: Auth,
    pub url_expiry: Duration,
    /// The browser page's headers (its CSP names the store's origin).
    pub page: page::Page,
    /// The per-caller and per-address limits and their counts.
    pub limits: Arc<limits::Limiters>,
    /// How long a request's body may take to arrive (`--body-timeout`).
    pub body_timeout: Duration,
    /// The options every upload gets, whatever its client asks
    /// (`--sse`, `--sse-kms-key-id`, `--storage-class`, `--tagging`).
    pub imposed: crate::store::ObjectOptions,
}

/// How the HTTP side behaves; the command line fills it in.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub request_timeout: Duration,
    pub max_concurrent: usize,
    /// Origins a browser page may call `serve` from (`--cors-origin`).
    pub cors_origins: Vec<String>,
    /// Read the client's address from `X-Forwarded-For` (`--trust-proxy`).
    pub trust_proxy: bool,
}

/// The whole application: routes, authentication, limits, CORS and logs.
/// The API routes' layers run from the last added to the first
/// ([`middleware`] gives the order and its reasons).
pub fn router(state: Arc<AppState>, limits: &HttpLimits) -> Router {
    use axum::middleware::from_fn_with_state;
    let page = state.page.clone();
    let api = middleware::work_limits(api::authenticated(), limits)
        .route_layer(from_fn_with_state(state.clone(), middleware::read_body))
        .route_layer(from_fn_with_state(state.clone(), middleware::caller_limits))
        .route_layer(from_fn_with_state(state.clone(), middleware::authenticate))
        .layer(DefaultBodyLimit::max(api::MAX_BODY))
        .with_state(state.clone());
    let open = api::open()
        .merge(page::routes(page))
        .route_layer(from_fn_with_state(state, middleware::address_limit));
    let app = api.merge(open).fallback(|| async { StatusCode::NOT_FOUND });
    middleware::outer_layers(app, &limits.cors_origins, limits.trust_proxy)
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &server::ConnLimits,
) -> std::io::Result<()> {
    server::serve(listener, app, limits, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight, refusing new ones");
}
