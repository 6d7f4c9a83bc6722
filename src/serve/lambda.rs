//! `serve` as an AWS Lambda function: the same [`Router`] ([`super::app`]),
//! fed by `lambda_http` instead of a listener.
//!
//! `lambda_http` turns each invocation (a function URL event, or an API
//! Gateway HTTP API event: both are the "payload 2.0" shape) into an
//! `http::Request`; two things differ from a request off a socket, and
//! [`to_app_request`] mends both before the router sees it:
//! - **the client's address** is the event's `requestContext.http.sourceIp`,
//!   which AWS writes (a client cannot forge it, unlike `X-Forwarded-For`);
//!   it goes where the listener puts the peer's address, so the per-address
//!   limits and the log line work unchanged;
//! - **the stage.** Behind an API Gateway stage other than `$default` the
//!   path starts with `/STAGE` (`lambda_http` adds it when the event's
//!   `rawPath` lacks it); it is removed, so `/prod/s3/multipart` routes as
//!   `/s3/multipart`. `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is not needed
//!   and does no harm. Function URLs have no stage. The page uses relative
//!   URLs, so it works at `https://API/prod/` too.
//!
//! **CORS is answered by `serve` itself** (`S3UP_CORS_ORIGINS`), never by
//! the function URL's own CORS setting: with both, a browser gets two
//! `Access-Control-Allow-Origin` headers and refuses the answer. One place
//! also means the same behaviour behind a function URL, an API Gateway and a
//! socket, and that the in-process tests below see what browsers see. The
//! template in `deploy/lambda/` leaves the function URL's `Cors` unset, and
//! `cargo lambda watch` must run with `--disable-cors` for the same reason.
//!
//! Each invocation is one request: Lambda runs one at a time per instance,
//! so `--max-concurrent`'s slots never fill, and the rate limits count per
//! instance, as they count per process behind a load balancer.

use std::net::{IpAddr, SocketAddr};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Uri};
use axum::Router;
use lambda_http::request::RequestContext;
use tower::util::MapRequest;
use tower::ServiceExt;

/// The router as a `lambda_http` service.
pub fn service(app: Router) -> MapRequest<Router, fn(lambda_http::Request) -> Request<Body>> {
    app.map_request(to_app_request as fn(lambda_http::Request) -> Request<Body>)
}

/// Runs the Lambda runtime loop (the runtime API named by
/// `AWS_LAMBDA_RUNTIME_API`) until the instance is shut down.
pub async fn run(app: Router) -> Result<(), lambda_http::Error> {
    lambda_http::run(service(app)).await
}

/// A `lambda_http` request as the router expects one off a socket.
pub fn to_app_request(req: lambda_http::Request) -> Request<Body> {
    let (mut parts, body) = req.into_parts();
    let (source_ip, stage) = match parts.extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => (
            ctx.http
                .source_ip
                .as_deref()
                .and_then(|ip| ip.parse::<IpAddr>().ok()),
            ctx.stage.clone(),
        ),
        _ => (None, None),
    };
    if let Some(ip) = source_ip {
        parts.extensions.insert(ConnectInfo(SocketAddr::new(ip, 0)));
    }
    if let Some(stage) = stage.filter(|s| !s.is_empty() && s != "$default") {
        if let Some(uri) = without_stage(&parts.uri, &stage) {
            parts.uri = uri;
        }
    }
    Request::from_parts(parts, Body::new(body))
}

/// `uri` without its leading `/STAGE` segment, if it has one.
fn without_stage(uri: &Uri, stage: &str) -> Option<Uri> {
    let path = uri.path();
    let rest = path.strip_prefix('/')?.strip_prefix(stage)?;
    if !(rest.is_empty() || rest.starts_with('/')) {
        return None;
    }
    let rest = if rest.is_empty() { "/" } else { rest };
    let path_and_query = match uri.query() {
        Some(q) => format!("{rest}?{q}"),
        None => rest.to_string(),
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

#[cfg(test)]
mod tests {
    //! Whole invocations in process: an event as AWS sends it (the fixtures
    //! in tests/fixtures/lambda/), through `lambda_http`'s own adapter and
    //! [`service`], to the JSON answer the runtime would post back. The
    //! store is the SDK's with a capturing HTTP client: these routes sign
    //! without calling S3.

    use std::time::Duration;

    use lambda_http::request::LambdaRequest;
    use lambda_http::{Adapter, Context, LambdaEvent};
    use serde_json::Value;
    use tower::{Service, ServiceExt};

    use super::*;
    use crate::serve::app::{build, AppConfig};
    use crate::serve::auth::{Auth, Source};
    use crate::serve::limits::RateLimits;
    use crate::serve::HttpLimits;

    const FUNCTION_URL: &str = include_str!("../../tests/fixtures/lambda/function-url.json");
    const API_GATEWAY_STAGE: &str = include_str!("../../tests/fixtures/lambda/apigw-v2-stage.json");
    const ORIGIN: &str = "https://app.example.com";
    const TOKEN: &str = "alice-token";

    async fn app(per_address: u32) -> Router {
        let (store, _rx) = crate::store::sdk::tests::captured();
        let tokens = format!("{TOKEN} alice/ alice-laptop\n");
        let (auth, _) = Auth::from_sources(
            "",
            Some(Source::new(tokens, "S3UP_TOKENS".into())),
            None,
            Duration::from_secs(3600),
        )
        .unwrap();
        let config = AppConfig {
            bucket: "bkt".into(),
            auth,
            url_expiry: Duration::from_secs(900),
            body_timeout: Duration::from_secs(30),
            imposed: Default::default(),
            rates: RateLimits {
                max_per_caller: 32,
                per_caller: 100,
                creates_per_caller: 10,
                per_address,
                trust_proxy: false,
            },
            http: HttpLimits {
                request_timeout: Duration::from_secs(30),
                max_concurrent: 16,
                cors_origins: vec![ORIGIN.into()],
                trust_proxy: false,
            },
        };
        build(store, config).await
    }

    /// `fixture` with `edit` applied to its JSON.
    fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> Value {
        let mut v: Value = serde_json::from_str(fixture).unwrap();
        edit(&mut v);
        v
    }

    fn set_path(v: &mut Value, raw_path: &str, query: &str) {
        v["rawPath"] = raw_path.into();
        v["requestContext"]["http"]["path"] = raw_path.into();
        v["rawQueryString"] = query.into();
    }

    fn set_header(v: &mut Value, name: &str, value: &str) {
        v["headers"][name] = value.into();
    }

    /// The answer Lambda gets (statusCode, headers, body), through
    /// `lambda_http::Adapter`, exactly as `lambda_http::run` drives it.
    async fn invoke(app: Router, event: Value) -> Value {
        let req: LambdaRequest = serde_json::from_value(event).unwrap();
        let mut adapter = Adapter::from(service(app));
        let answer = adapter
            .ready()
            .await
            .unwrap()
            .call(LambdaEvent::new(req, Context::default()))
            .await
            .unwrap();
        serde_json::to_value(answer).unwrap()
    }

    /// The http answer of the router, for what the JSON above folds away
    /// (a header sent twice keeps only its first value there).
    async fn respond(app: Router, event: Value) -> axum::response::Response {
        let req = lambda_http::request::from_str(&event.to_string()).unwrap();
        service(app).oneshot(req).await.unwrap()
    }

    fn body(answer: &Value) -> Value {
        serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap()
    }

    #[tokio::test]
    async fn a_function_url_event_reaches_the_route_with_the_caller_and_cors() {
        let e = event(FUNCTION_URL, |v| {
            set_header(v, "authorization", &format!("Bearer {TOKEN}"));
            set_header(v, "origin", ORIGIN);
        });
        let answer = invoke(app(100).await, e.clone()).await;
        assert_eq!(answer["statusCode"], 200, "{answer}");
        assert_eq!(
            body(&answer),
            serde_json::json!({"id": "alice-laptop", "prefix": "alice/", "bucket": "bkt"})
        );
        assert_eq!(
            answer["headers"]["access-control-allow-origin"], ORIGIN,
            "{answer}"
        );
        let res = respond(app(100).await, e).await;
        let allow: Vec<_> = res
            .headers()
            .get_all("access-control-allow-origin")
            .iter()
            .collect();
        assert_eq!(allow, [ORIGIN], "one Access-Control-Allow-Origin, no more");
    }

    #[tokio::test]
    async fn a_preflight_through_a_function_url_is_answered_by_serve() {
        let e = event(FUNCTION_URL, |v| {
            set_path(v, "/s3/multipart", "");
            v["requestContext"]["http"]["method"] = "OPTIONS".into();
            set_header(v, "origin", ORIGIN);
            set_header(v, "access-control-request-method", "POST");
            set_header(
                v,
                "access-control-request-headers",
                "authorization,content-type",
            );
        });
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 200, "{answer}");
        let h = &answer["headers"];
        assert_eq!(h["access-control-allow-origin"], ORIGIN, "{answer}");
        let methods = h["access-control-allow-methods"].as_str().unwrap_or("");
        assert!(methods.contains("POST"), "{answer}");
        let headers = h["access-control-allow-headers"]
            .as_str()
            .unwrap_or("")
            .to_ascii_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{answer}"
        );
        // Another origin is not told it may call.
        let e = event(FUNCTION_URL, |v| {
            set_header(v, "authorization", &format!("Bearer {TOKEN}"));
            set_header(v, "origin", "https://evil.example");
        });
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 200, "{answer}");
        assert!(
            answer["headers"]
                .get("access-control-allow-origin")
                .is_none(),
            "{answer}"
        );
    }

    #[tokio::test]
    async fn an_api_gateway_event_with_a_stage_routes_without_it() {
        // rawPath carries the stage ("/prod/s3/multipart/UPLOAD-1/3").
        let e = event(API_GATEWAY_STAGE, |v| {
            set_header(v, "authorization", &format!("Bearer {TOKEN}"));
        });
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 200, "{answer}");
        let url = body(&answer)["url"].as_str().unwrap_or("").to_string();
        assert!(
            url.contains("/bkt/alice/big.bin?") && url.contains("partNumber=3"),
            "{url}"
        );
        assert!(url.contains("uploadId=UPLOAD-1"), "{url}");
        // A custom domain's mapping sends the path without the stage, and
        // lambda_http puts it back: the same route either way.
        let e = event(API_GATEWAY_STAGE, |v| {
            set_path(v, "/healthz", "");
        });
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 200, "{answer}");
        assert_eq!(body(&answer)["status"], "ok", "{answer}");
        // The page at the stage's root.
        let e = event(API_GATEWAY_STAGE, |v| set_path(v, "/prod/", ""));
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 200, "{answer}");
        let html = answer["body"].as_str().unwrap_or("");
        assert!(
            html.contains("<html") || html.contains("<!doctype"),
            "{answer}"
        );
        // A path that only starts like the stage is not the stage.
        let e = event(API_GATEWAY_STAGE, |v| {
            set_path(v, "/production/healthz", "")
        });
        assert_eq!(invoke(app(100).await, e).await["statusCode"], 404);
    }

    #[tokio::test]
    async fn refusals_are_json_with_their_status_under_api_gateway() {
        let e = event(API_GATEWAY_STAGE, |v| {
            set_header(v, "authorization", &format!("Bearer {TOKEN}"));
            set_path(v, "/prod/s3/multipart/UPLOAD-1/3", "key=bob%2Fbig.bin");
        });
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 403, "{answer}");
        assert_eq!(body(&answer)["code"], "outside_prefix", "{answer}");
        assert!(
            answer["headers"]["content-type"]
                .as_str()
                .unwrap_or("")
                .starts_with("application/json"),
            "{answer}"
        );
        let e = event(API_GATEWAY_STAGE, |_| {});
        let answer = invoke(app(100).await, e).await;
        assert_eq!(answer["statusCode"], 401, "{answer}");
        assert_eq!(body(&answer)["code"], "missing_token", "{answer}");
    }

    /// The per-address limit counts the event's sourceIp: with one request a
    /// second allowed, a second from the same address is refused, and one
    /// from another address is not (with every request counted as one
    /// unknown address, it would be).
    #[tokio::test]
    async fn the_client_address_is_the_events_source_ip() {
        let app = app(1).await;
        let from = |ip: &str| {
            event(FUNCTION_URL, |v| {
                set_path(v, "/healthz", "");
                v["requestContext"]["http"]["sourceIp"] = ip.into();
            })
        };
        let first = invoke(app.clone(), from("203.0.113.7")).await;
        assert_eq!(first["statusCode"], 200, "{first}");
        let again = invoke(app.clone(), from("203.0.113.7")).await;
        assert_eq!(again["statusCode"], 429, "{again}");
        let other = invoke(app, from("198.51.100.23")).await;
        assert_eq!(other["statusCode"], 200, "{other}");
    }

    #[test]
    fn only_a_whole_leading_segment_is_the_stage() {
        let strip = |uri: &str, stage: &str| {
            without_stage(&uri.parse().unwrap(), stage).map(|u| u.to_string())
        };
        assert_eq!(
            strip("https://h/prod/s3/multipart?key=a", "prod").as_deref(),
            Some("https://h/s3/multipart?key=a")
        );
        assert_eq!(strip("/prod", "prod").as_deref(), Some("/"));
        assert_eq!(strip("/production/x", "prod"), None);
        assert_eq!(strip("/s3/multipart", "prod"), None);
    }
}
