//! What `serve` counts for the people who run it, in Prometheus' text
//! format, on a listener of its own (`--metrics-listen ADDR`).
//!
//! The counting goes through the `metrics` crate's macros and the exposition
//! through `metrics-exporter-prometheus`, not a hand-written format: the
//! exporter gets the escaping, the histogram buckets and the `# TYPE` lines
//! right. Without `--metrics-listen` no recorder is installed and every
//! macro below does nothing.
//!
//! A listener of its own, rather than a route behind a token: the API's port
//! faces the internet, and a scraper then needs no token that could sign
//! uploads; an operator binds it to loopback or a private network.
//!
//! | metric | labels | what |
//! |---|---|---|
//! | `s3up_serve_requests_total` | `route`, `method`, `status` | answers given (the route pattern, never a key) |
//! | `s3up_serve_request_duration_seconds` | `route` | time to answer, a histogram |
//! | `s3up_serve_rejections_total` | `reason` | requests and connections refused by a limit: `rate`, `create_rate`, `address_rate`, `auth_failures`, `caller_busy`, `overload`, `auth`, `connections`, `header_timeout`, `body_timeout`, `write_timeout`, `uri_too_long`, `head_too_large`, `bad_head` |
//! | `s3up_serve_connections_open` | | connections open now |
//! | `s3up_serve_store_errors_total` | `op`, `code` | S3 calls that failed, by S3's error code |
//! | `s3up_serve_signatures_total` | `kind` | URLs signed: `part`, `post` |
//! | `s3up_serve_uploads_total` | `event` | multipart uploads `created`, `completed`, `aborted` |

use std::net::SocketAddr;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::store::StoreError;

const DURATION: &str = "s3up_serve_request_duration_seconds";

/// Latency buckets, in seconds: signing answers in well under a millisecond,
/// Complete can take minutes.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0, 300.0,
];

/// Installs the recorder, and serves `GET /metrics` on `listener` until the
/// process ends. Fails only if a recorder is already installed.
pub fn start(listener: tokio::net::TcpListener) -> Result<SocketAddr, String> {
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the metrics address: {e}"))?;
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.into()), BUCKETS)
        .and_then(PrometheusBuilder::install_recorder)
        .map_err(|e| format!("cannot start the metrics: {e}"))?;
    describe();
    let upkeep = handle.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            upkeep.run_upkeep();
        }
    });
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || render(handle.clone())),
    );
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    Ok(addr)
}

async fn render(handle: PrometheusHandle) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "s3up_serve_requests_total",
        "Answers given, by route pattern, method and status"
    );
    describe_histogram!(DURATION, Unit::Seconds, "Time to answer, by route pattern");
    describe_counter!(
        "s3up_serve_rejections_total",
        "Requests and connections refused by a limit, by reason"
    );
    describe_gauge!("s3up_serve_connections_open", "Connections open now");
    describe_counter!(
        "s3up_serve_store_errors_total",
        "S3 calls that failed, by operation and S3 error code"
    );
    describe_counter!(
        "s3up_serve_signatures_total",
        "URLs signed: part (a part's PUT) or post (a one-request upload form)"
    );
    describe_counter!(
        "s3up_serve_uploads_total",
        "Multipart uploads created, completed and aborted"
    );
}

/// One answer: its route pattern, method, status and time.
pub fn request(route: &str, method: &str, status: u16, took: Duration) {
    metrics::counter!("s3up_serve_requests_total",
        "route" => route.to_string(), "method" => method.to_string(), "status" => status.to_string())
    .increment(1);
    metrics::histogram!(DURATION, "route" => route.to_string()).record(took.as_secs_f64());
}

/// A request or connection refused by a limit.
pub fn rejected(reason: &'static str) {
    metrics::counter!("s3up_serve_rejections_total", "reason" => reason).increment(1);
}

pub fn connection_opened() {
    metrics::gauge!("s3up_serve_connections_open").increment(1.0);
}

pub fn connection_closed() {
    metrics::gauge!("s3up_serve_connections_open").decrement(1.0);
}

/// A failed S3 call, by S3's error code (the first word of its message), or
/// `unreachable` when no answer came.
pub fn store_error(e: &StoreError) {
    let code = if e.transport || e.status.is_none() {
        "unreachable".to_string()
    } else {
        let first = e.message.split([':', ' ']).next().unwrap_or("");
        if !first.is_empty()
            && first.len() <= 64
            && first.bytes().all(|b| b.is_ascii_alphanumeric())
        {
            first.to_string()
        } else {
            e.status.map(|s| format!("HTTP{s}")).unwrap_or_default()
        }
    };
    metrics::counter!("s3up_serve_store_errors_total", "op" => e.op, "code" => code).increment(1);
}

/// `n` URLs signed of `kind` (`part` or `post`).
pub fn signed(kind: &'static str, n: usize) {
    metrics::counter!("s3up_serve_signatures_total", "kind" => kind).increment(n as u64);
}

/// A multipart upload `created`, `completed` or `aborted`.
pub fn upload(event: &'static str) {
    metrics::counter!("s3up_serve_uploads_total", "event" => event).increment(1);
}
