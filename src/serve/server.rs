//! The connections: accepting them, capping how many are open, serving each
//! with hyper's HTTP/1.1, and the graceful stop.
//!
//! `axum::serve` has no cap on connections and no timer, so hyper's header
//! timeout never runs under it: partial headers stayed open for minutes, and
//! 20,000 silent connections used up the process's file descriptors (issue
//! 21). This loop is axum's own, plus what an open port needs, as nginx and
//! Envoy give it:
//! - **at most `--max-connections` open at once.** One more is answered 503
//!   (JSON, `Retry-After`) and closed at once, without reading it, so `accept`
//!   never fails for want of descriptors and the queue in the kernel drains.
//!   [`raise_file_limit`] lifts the process's descriptor limit to its hard
//!   limit at start, and the cap is kept below it.
//! - **`--header-timeout`**: a request's line and headers must arrive within
//!   it, or the connection is closed. hyper starts this clock whenever it waits
//!   for a request, so it also closes keep-alive connections left idle.
//! - **a request head of at most [`MAX_HEAD`]**: bigger is 431, and a target
//!   over 64 KiB is 414 (both JSON, see [`super::io`]).
//! - **`--write-timeout`**: see [`super::io`].
//!
//! On SIGTERM or Ctrl-C the listener closes at once (new connections are
//! refused), idle connections are closed, and requests in flight finish.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tower::ServiceExt;

use super::io::ConnIo;

/// The most a request's line and headers may take, buffered: a target of up
/// to 64 KiB (hyper's own limit, 414 beyond) and 16 KiB of headers. A batch
/// of 1,000 parts with their SHA-256s, escaped, fits. hyper's default is
/// 400 KiB, which 3,000 slow connections turned into 911 MB of RSS. Set as
/// both hyper's buffer limit and its head limit: a read can overshoot the
/// buffer's, and a head that arrives whole in one read is then let through.
pub const MAX_HEAD: usize = 80 << 10;

/// File descriptors kept out of `--max-connections`' reach: the listener,
/// the connections to S3, logs, and the metrics listener.
const SPARE_FDS: u64 = 256;

/// How the connections are bounded; the command line fills it in.
#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub write_timeout: Duration,
}

/// Raises the soft limit on open files to the hard limit, and returns the
/// limit now in force (None where it cannot be read).
pub fn raise_file_limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let mut limit = getrlimit(Resource::Nofile);
        if limit.current < limit.maximum {
            limit.current = limit.maximum;
            let _ = setrlimit(Resource::Nofile, limit);
        }
        getrlimit(Resource::Nofile).current
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// The connection cap that fits under `file_limit`, if `wanted` does not.
pub fn fitting_cap(wanted: usize, file_limit: Option<u64>) -> Option<usize> {
    let room = file_limit?.saturating_sub(SPARE_FDS).max(16);
    let room = usize::try_from(room).unwrap_or(usize::MAX);
    (wanted > room).then_some(room)
}

/// Serves `app` on `listener` until `stop` resolves, then lets requests in
/// flight finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: &ConnLimits,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let (closing_tx, closing_rx) = watch::channel(false);
    let mut stop = std::pin::pin!(stop);
    let mut last_accept_error: Option<tokio::time::Instant> = None;
    loop {
        let (stream, addr) = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of descriptors (the cap leaves room, but other
                    // processes share the system's table): say so once a
                    // minute, and give connections time to close.
                    let now = tokio::time::Instant::now();
                    if last_accept_error.is_none_or(|t| now - t > Duration::from_secs(60)) {
                        tracing::error!(error = %e, "cannot accept connections");
                        last_accept_error = Some(now);
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(&stream);
            continue;
        };
        super::metrics::connection_opened();
        let app = app.clone();
        let limits = limits.clone();
        let mut closing = closing_rx.clone();
        tokio::spawn(async move {
            serve_connection(stream, addr, app, &limits, &mut closing).await;
            super::metrics::connection_closed();
            drop(slot);
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    // Every slot back: every connection has closed.
    let _ = slots.acquire_many(max as u32).await;
    Ok(())
}

/// One connection: hyper's HTTP/1.1 with the header timeout and the head
/// limit, over [`ConnIo`]; the client's address goes into every request.
async fn serve_connection(
    stream: TcpStream,
    addr: SocketAddr,
    app: Router,
    limits: &ConnLimits,
    closing: &mut watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(ConnIo::new(stream, limits.write_timeout));
    let service = app.map_request(move |req: Request<Incoming>| {
        let mut req = req.map(Body::new);
        req.extensions_mut().insert(ConnectInfo(addr));
        req
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(MAX_HEAD)
        .max_header_size(MAX_HEAD)
        .serve_connection(io, TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    if e.is_timeout() {
                        super::metrics::rejected("header_timeout");
                    }
                }
                break;
            }
            changed = closing.changed() => {
                conn.as_mut().graceful_shutdown();
                if changed.is_err() {
                    // The loop is gone: only the connection is left to finish.
                    let _ = conn.as_mut().await;
                    break;
                }
            }
        }
    }
}

/// A connection over the cap: one 503 in JSON, written only if the socket
/// takes it at once, then closed.
fn refuse(stream: &TcpStream) {
    super::metrics::rejected("connections");
    let body = super::error::for_status(axum::http::StatusCode::SERVICE_UNAVAILABLE).json_body();
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(answer.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_fits_under_the_file_limit() {
        assert_eq!(fitting_cap(4096, Some(1 << 20)), None);
        assert_eq!(fitting_cap(4096, Some(1024)), Some(768));
        assert_eq!(fitting_cap(4096, Some(100)), Some(16));
        assert_eq!(fitting_cap(4096, None), None);
    }
}
