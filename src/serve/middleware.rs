//! What every request passes through before and after its handler, in
//! order: the client's address and the log line; the JSON shape of every
//! error answer; the catching of panics; the CORS answer for browser pages;
//! then, on the routes that need no token, the per-address rate
//! ([`address_limit`]), and on the API routes: authentication (and, without
//! it, the loopback guard), the caller's rates and in-flight count
//! ([`caller_limits`]), the body, read whole under `--body-timeout`
//! ([`read_body`]), and only then a global slot and the request timeout
//! ([`work_limits`]).
//!
//! The order is the point (issue 21): a slow body holds a slot of its own
//! caller's, never one of the global `--max-concurrent`, so one token cannot
//! shut out the others; and `/healthz` and the page take no slot at all.
//!
//! Each is a tower layer or an axum middleware function; `serve`'s router
//! stacks them ([`work_limits`] and the functions around the API routes,
//! [`outer_layers`] last).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceBuilder;

use super::auth::Caller;
use super::limits::{client_addr, ClientAddr};
use super::{error, keys, AppState, HttpLimits};

/// The caller of a request, as the log line names it.
#[derive(Debug, Clone)]
struct LoggedCaller(String);

/// Bounds the work in flight on the API routes, once a request's body is in:
/// at most `max_concurrent` requests at once (beyond, 503 at once rather
/// than a queue), each cut off after `request_timeout` (408).
pub fn work_limits(app: Router<Arc<AppState>>, limits: &HttpLimits) -> Router<Arc<AppState>> {
    let overload = ServiceBuilder::new()
        .layer(axum::error_handling::HandleErrorLayer::new(
            |_: tower::BoxError| async {
                super::metrics::rejected("overload");
                StatusCode::SERVICE_UNAVAILABLE
            },
        ))
        .load_shed()
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            limits.max_concurrent.max(1),
        ));
    app.route_layer(overload)
        .route_layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
}

/// The whole body, read under `--body-timeout` (408 `body_timeout`) and
/// [`super::api::MAX_COMPLETE_BODY`] (413), before the request takes a
/// global slot. The handler then reads it from memory.
pub async fn read_body(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let limit = super::api::MAX_COMPLETE_BODY;
    let read = tokio::time::timeout(state.body_timeout, axum::body::to_bytes(body, limit));
    match read.await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => {
            let inner = e.into_inner();
            if inner.is::<http_body_util::LengthLimitError>() {
                error::for_status(StatusCode::PAYLOAD_TOO_LARGE).into_response()
            } else {
                error::ApiError::bad_request(
                    "bad_body",
                    format!("the request body could not be read: {inner}"),
                )
                .into_response()
            }
        }
        Err(_) => {
            super::metrics::rejected("body_timeout");
            error::ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} s (the server's --body-timeout): retry",
                    state.body_timeout.as_secs()
                ),
            )
            .into_response()
        }
    }
}

/// The caller's rates and its count of requests in flight (429 beyond
/// either); the count is held until the answer is ready.
pub async fn caller_limits(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let Some(caller) = req.extensions().get::<Caller>().cloned() else {
        return next.run(req).await;
    };
    let creates = req.method() == Method::POST && req.uri().path() == "/s3/multipart";
    if let Err(e) = state.limits.check_caller(&caller, creates) {
        return e.into_response();
    }
    let _in_flight = match state.limits.enter(&caller) {
        Ok(guard) => guard,
        Err(e) => return e.into_response(),
    };
    next.run(req).await
}

/// The per-address rate, on the routes that need no token.
pub async fn address_limit(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(ClientAddr(addr)) = req.extensions().get::<ClientAddr>().copied() {
        if let Err(e) = state.limits.check_address(addr) {
            return e.into_response();
        }
    }
    next.run(req).await
}

/// What every answer goes through last: CORS, a panic becomes a 500, an
/// error answer no handler wrote becomes JSON, and each request is logged
/// with its client's address (`trust_proxy`: see [`client_addr`]).
pub fn outer_layers(mut app: Router, cors_origins: &[String], trust_proxy: bool) -> Router {
    if !cors_origins.is_empty() {
        app = app.layer(cors_layer(cors_origins));
    }
    // A bug in a handler answers 500 in JSON (json_errors below) and leaves
    // the process serving, instead of dropping the connection with no answer.
    // The panic's message is not sent: it could quote anything.
    app.layer(tower_http::catch_panic::CatchPanicLayer::custom(
        |_: Box<dyn std::any::Any + Send>| StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    ))
    .layer(middleware::from_fn(json_errors))
    .layer(middleware::from_fn_with_state(trust_proxy, log_request))
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
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    if state.auth.is_open() {
        if let Err(e) = open_mode_guard(&req) {
            return e.into_response();
        }
    }
    let addr = req.extensions().get::<ClientAddr>().map(|a| a.0);
    if let Some(addr) = addr {
        if let Err(e) = state.limits.check_penalty(addr) {
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
        Err(e) => {
            super::metrics::rejected("auth");
            if let Some(addr) = addr {
                state.limits.auth_failed(addr);
            }
            e.into_response()
        }
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

/// One log line per request: method, route, status, latency, caller and
/// client address; and the request's metrics. The route is the pattern
/// (`/s3/multipart/{upload_id}`), so neither keys nor signatures reach the
/// log; the caller is the token's ID, never the token.
async fn log_request(State(trust_proxy): State<bool>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let client = client_addr(&req, trust_proxy);
    req.extensions_mut().insert(ClientAddr(client));
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
    let took = started.elapsed();
    let status = response.status().as_u16();
    super::metrics::request(&route, method.as_str(), status, took);
    tracing::info!(
        method = %method,
        route = %route,
        status,
        latency_ms = %format_args!("{:.2}", took.as_secs_f64() * 1000.0),
        caller = %caller,
        client = %client,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;

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
        let app = outer_layers(
            Router::new().route(
                "/boom",
                get(|| async {
                    if std::hint::black_box(true) {
                        panic!("secret detail");
                    }
                }),
            ),
            &[],
            false,
        );
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
}
