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
//! | `POST /s3/multipart` | JSON `{filename, type, metadata}`; *ext* `key`, `checksumAlgorithm: "SHA256"` | `{key, uploadId, bucket}`; *ext* `checksumAlgorithm` |
//! | `GET /s3/multipart/{uploadId}?key=` | | `[{PartNumber, Size, ETag}]`, every page; *ext* `ChecksumSHA256` |
//! | `GET /s3/multipart/{uploadId}/{partNumber}?key=` | *ext* `&sha256=BASE64` | `{url, expires}`; *ext* `headers: {"x-amz-checksum-sha256": …}` |
//! | `GET /s3/multipart/{uploadId}/batch?key=&partNumbers=1,2` | *ext* `&sha256=B64,B64` | `{presignedUrls: {"1": url}}`; *ext* `expires`, `headers: {"1": {…}}` |
//! | `POST /s3/multipart/{uploadId}/complete?key=` | JSON `{parts: [{PartNumber, ETag}]}`; *ext* `ChecksumSHA256` per part | `{location, key, bucket}`; *ext* `etag`, `checksumSHA256` |
//! | `DELETE /s3/multipart/{uploadId}?key=` | | `{}` |
//! | `GET /s3/params?filename=&type=&metadata[NAME]=` | *ext* `&key=` | `{method: "POST", url, fields, expires}`: a presigned POST form |
//! | *ext* `GET /s3/object?key=` | | `{key, exists, size, etag, checksumSHA256}` |
//! | *ext* `GET /s3/whoami` | | `{id, prefix}`: who the token is, and the prefix its keys must start with |
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
//! - request bodies: [`MAX_BODY`], 1 MiB, enough for a Companion Complete of
//!   10,000 parts (about 0.75 MB); Complete itself takes [`MAX_COMPLETE_BODY`],
//!   2 MiB, because 10,000 parts with their SHA-256s take about 1.3 MB;
//! - part numbers 1 to 10,000, and at most 10,000 of them in a batch or a Complete;
//! - each request: `--request-timeout` (default 300 s, to leave room for a slow
//!   Complete, which S3 may take minutes over), then 408;
//! - `--max-concurrent` requests at once (default 256); beyond, 503 at once
//!   with `Retry-After`, rather than an unbounded queue.

pub mod api;
pub mod auth;
pub mod error;
pub mod keys;
pub mod page;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceBuilder;

use crate::store::sdk::cors::CorsRule;
use crate::store::sdk::SdkStore;
use auth::{Auth, Caller};

/// The largest request body, as Companion allows: a Complete of 10,000 parts
/// in Companion's format (`{PartNumber, ETag}`, about 75 bytes each) fits.
pub const MAX_BODY: usize = 1 << 20;

/// The largest Complete body: 10,000 parts that also carry s3up's
/// `ChecksumSHA256` take about 1.3 MB, more than [`MAX_BODY`].
pub const MAX_COMPLETE_BODY: usize = 2 << 20;

/// Everything a request needs; shared, never changed after start-up.
pub struct AppState {
    pub store: SdkStore,
    pub bucket: String,
    pub auth: Auth,
    pub url_expiry: Duration,
    /// The browser page's headers (its CSP names the store's origin).
    pub page: page::Page,
}

/// How the HTTP side behaves; the command line fills it in.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    pub request_timeout: Duration,
    pub max_concurrent: usize,
    /// Origins a browser page may call `serve` from (`--cors-origin`).
    pub cors_origins: Vec<String>,
}

/// The caller of a request, as the log line names it.
#[derive(Debug, Clone)]
struct LoggedCaller(String);

/// The whole application: routes, authentication, limits, CORS and logs.
pub fn router(state: Arc<AppState>, limits: &HttpLimits) -> Router {
    let page = state.page.clone();
    let api = Router::new()
        .route("/s3/multipart", post(api::create))
        .route(
            "/s3/multipart/{upload_id}",
            get(api::list_parts).delete(api::abort),
        )
        .route("/s3/multipart/{upload_id}/batch", get(api::sign_batch))
        .route(
            "/s3/multipart/{upload_id}/complete",
            post(api::complete).layer(DefaultBodyLimit::max(MAX_COMPLETE_BODY)),
        )
        .route(
            "/s3/multipart/{upload_id}/{part_number}",
            get(api::sign_part),
        )
        .route("/s3/params", get(api::params))
        .route("/s3/object", get(api::object_status))
        .route("/s3/whoami", get(api::whoami))
        .route_layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state);
    let open = Router::new()
        .route("/healthz", get(api::healthz))
        .route("/openapi.json", get(api::openapi))
        .merge(page::routes(page));
    let overload = ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            |_: tower::BoxError| async { StatusCode::SERVICE_UNAVAILABLE },
        ))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent.max(1),
        ));
    let mut app = api
        .merge(open)
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(overload)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ));
    if !limits.cors_origins.is_empty() {
        app = app.layer(cors_layer(&limits.cors_origins));
    }
    outer_layers(app)
}

/// What every answer goes through last: a panic becomes a 500, an error
/// answer no handler wrote becomes JSON, and each request is logged.
fn outer_layers(app: Router) -> Router {
    // A bug in a handler answers 500 in JSON (json_errors below) and leaves
    // the process serving, instead of dropping the connection with no answer.
    // The panic's message is not sent: it could quote anything.
    app.layer(tower_http::catch_panic::CatchPanicLayer::custom(
        |_: Box<dyn std::any::Any + Send>| StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    ))
    .layer(middleware::from_fn(json_errors))
    .layer(middleware::from_fn(log_request))
}

fn cors_layer(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, CorsLayer};
    let allowed: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let origin = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(allowed)
    };
    CorsLayer::new()
        .allow_origin(origin)
        .allow_methods([Method::GET, Method::POST, Method::DELETE, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

/// Resolves the caller from the `Authorization` header, or answers 401.
async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    if state.auth.is_open() {
        if let Err(e) = open_mode_guard(&req) {
            return e.into_response();
        }
    }
    match state
        .auth
        .authenticate(req.headers().get(header::AUTHORIZATION))
    {
        Ok(caller) => {
            let logged = LoggedCaller(caller.id.clone());
            req.extensions_mut().insert::<Caller>(caller);
            let mut response = next.run(req).await;
            response.extensions_mut().insert(logged);
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Without authentication, a loopback server is still reachable from any web
/// page the user opens: through DNS rebinding (a name of the attacker's that
/// resolves to 127.0.0.1 makes its page same-origin, so it can read answers),
/// and through "simple" cross-site requests that need no preflight (it cannot
/// read them, but a POST would still create an upload). So in open mode the
/// Host must be a loopback name, and a body must be declared as JSON, which
/// no simple request can do.
fn open_mode_guard(req: &Request) -> Result<(), error::ApiError> {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let loopback = name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        return Err(error::ApiError::forbidden_host(format!(
            "Host '{}' is not a loopback name, and this server runs with --no-auth: \
             reach it as 127.0.0.1, [::1] or localhost",
            keys::quoted(host)
        )));
    }
    if req.method() == axum::http::Method::POST {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|t| {
                t.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !json {
            return Err(error::ApiError::bad_request(
                "bad_content_type",
                "this server runs with --no-auth, so a POST body must be sent as \
                 Content-Type: application/json",
            ));
        }
    }
    Ok(())
}

/// Gives every error answer that no handler wrote (unknown route, wrong
/// method, timeout, oversized body, overload) the same JSON shape.
async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let (mut parts, _) = response.into_parts();
        let fresh = error::for_status(status).into_response();
        let (fresh_parts, body) = fresh.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        for (name, value) in fresh_parts.headers.iter() {
            parts.headers.insert(name.clone(), value.clone());
        }
        return Response::from_parts(parts, body);
    }
    response
}

/// One log line per request: method, route, status, latency, caller. The
/// route is the pattern (`/s3/multipart/{upload_id}`), so neither keys nor
/// signatures reach the log; the caller is the token's ID, never the token.
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "-".into());
    let response = next.run(req).await;
    let caller = response
        .extensions()
        .get::<LoggedCaller>()
        .map(|c| c.0.as_str())
        .unwrap_or("-");
    tracing::info!(
        method = %method,
        route = %route,
        status = response.status().as_u16(),
        latency_ms = %format_args!("{:.2}", started.elapsed().as_secs_f64() * 1000.0),
        caller = %caller,
        "request"
    );
    response
}

/// The CORS rule a browser needs on the bucket for `serve`'s URLs: PUT for
/// parts, POST for `/s3/params` forms, any header (the checksum header), and
/// `ETag` readable.
pub fn wanted_bucket_cors(origins: &[String]) -> CorsRule {
    CorsRule {
        allowed_origins: if origins.is_empty() {
            vec!["*".into()]
        } else {
            origins.to_vec()
        },
        allowed_methods: vec!["GET".into(), "PUT".into(), "POST".into()],
        allowed_headers: vec!["*".into()],
        expose_headers: vec!["ETag".into()],
        max_age_seconds: Some(3000),
    }
}

/// What is missing from the bucket's CORS rules for a browser at `origins`
/// (any origin when none is given), or `None` when nothing is.
pub fn bucket_cors_gap(rules: Option<&[CorsRule]>, origins: &[String]) -> Option<String> {
    let Some(rules) = rules.filter(|r| !r.is_empty()) else {
        return Some("the bucket has no CORS configuration".into());
    };
    let origins: Vec<&str> = if origins.is_empty() {
        vec!["*"]
    } else {
        origins.iter().map(String::as_str).collect()
    };
    let has = |list: &[String], want: &str| {
        list.iter()
            .any(|v| v == "*" || v.eq_ignore_ascii_case(want))
    };
    for origin in origins {
        for method in ["PUT", "POST"] {
            let rule = rules
                .iter()
                .find(|r| has(&r.allowed_origins, origin) && has(&r.allowed_methods, method));
            match rule {
                None => return Some(format!("no CORS rule lets origin '{origin}' {method}")),
                Some(r) => {
                    if !r
                        .expose_headers
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case("etag"))
                    {
                        return Some(format!(
                            "the CORS rule for origin '{origin}' does not expose the ETag header"
                        ));
                    }
                    let headers_ok = ["content-type", "x-amz-checksum-sha256"]
                        .iter()
                        .all(|h| has(&r.allowed_headers, h));
                    if !headers_ok {
                        return Some(format!(
                            "the CORS rule for origin '{origin}' does not allow the Content-Type and x-amz-checksum-sha256 headers"
                        ));
                    }
                }
            }
        }
    }
    None
}

/// Serves until SIGTERM or Ctrl-C, then lets in-flight requests finish.
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_mode_takes_only_loopback_hosts_and_json_bodies() {
        let req = |method: &str, host: &str, ctype: Option<&str>| {
            let mut b = Request::builder()
                .method(method)
                .uri("/s3/multipart")
                .header(header::HOST, host);
            if let Some(t) = ctype {
                b = b.header(header::CONTENT_TYPE, t);
            }
            b.body(axum::body::Body::empty()).unwrap()
        };
        for host in [
            "127.0.0.1:8080",
            "localhost:1",
            "[::1]:9",
            "LOCALHOST",
            "127.0.0.2",
        ] {
            assert!(open_mode_guard(&req("GET", host, None)).is_ok(), "{host}");
        }
        for host in [
            "rebind.evil:8080",
            "",
            "10.0.0.1:80",
            "[fe80::1]:1",
            "localhost.evil",
        ] {
            let e = open_mode_guard(&req("GET", host, None)).unwrap_err();
            assert_eq!((e.status.as_u16(), e.code), (403, "bad_host"), "{host}");
        }
        let ok = open_mode_guard(&req(
            "POST",
            "127.0.0.1:1",
            Some("application/json; charset=utf-8"),
        ));
        assert!(ok.is_ok());
        for ctype in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let e = open_mode_guard(&req("POST", "127.0.0.1:1", ctype)).unwrap_err();
            assert_eq!(e.status.as_u16(), 400, "{ctype:?}");
        }
    }

    #[tokio::test]
    async fn a_panic_is_a_json_500_without_its_message() {
        use tower::ServiceExt;
        let app = outer_layers(Router::new().route(
            "/boom",
            get(|| async {
                if std::hint::black_box(true) {
                    panic!("secret detail");
                }
            }),
        ));
        let response = app
            .oneshot(
                Request::get("/boom")
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["code"], "internal");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }

    #[test]
    fn cors_gaps_are_found() {
        let none: &[String] = &[];
        assert!(bucket_cors_gap(None, none).is_some());
        let good = wanted_bucket_cors(none);
        assert_eq!(
            bucket_cors_gap(Some(std::slice::from_ref(&good)), none),
            None
        );
        let origin = vec!["https://app.example".to_string()];
        assert_eq!(
            bucket_cors_gap(Some(std::slice::from_ref(&good)), &origin),
            None
        );
        let no_etag = CorsRule {
            expose_headers: vec![],
            ..good.clone()
        };
        assert!(bucket_cors_gap(Some(&[no_etag]), none)
            .unwrap()
            .contains("ETag"));
        let no_put = CorsRule {
            allowed_methods: vec!["GET".into()],
            ..good.clone()
        };
        assert!(bucket_cors_gap(Some(&[no_put]), none)
            .unwrap()
            .contains("PUT"));
        let other = wanted_bucket_cors(&["https://other.example".to_string()]);
        assert!(bucket_cors_gap(Some(&[other]), &origin).is_some());
    }
}
