//! Stall detection that any HTTP transport can use.
//!
//! A request fails as [`ErrorKind::Stalled`] only when it stops making progress
//! for the stall timeout, never because it is slow: a [`Stamp`] is moved each
//! time the body hands the HTTP client a chunk (which the client asks for only
//! when the socket takes more), and [`Watchdog::watch`] reads it. Fixed request
//! timeouts would cap a whole part upload on a slow link, so there are none.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{ErrorKind, StoreError};

/// When a request last made progress. Shared by the body, which stamps it each
/// time the HTTP client takes a chunk, and by the [`Watchdog`], which reads it.
#[derive(Clone)]
pub struct Stamp(Arc<StampInner>);

struct StampInner {
    start: Instant,
    /// Milliseconds from `start` to the last progress.
    last_ms: AtomicU64,
    /// Body bytes handed to the HTTP client so far.
    sent: AtomicU64,
    /// The body has handed out its last chunk.
    done: AtomicBool,
}

/// What may still sit in hyper's and the kernel's send buffers after the body
/// handed out its last chunk, unseen by the stamp (hyper queues about 660 KiB;
/// Linux autotunes a socket's send buffer to a few MiB).
const UNSEEN_TAIL: u64 = 8 << 20;

impl Default for Stamp {
    fn default() -> Stamp {
        Stamp::new()
    }
}

impl Stamp {
    pub fn new() -> Stamp {
        Stamp(Arc::new(StampInner {
            start: Instant::now(),
            last_ms: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            done: false.into(),
        }))
    }

    /// The body handed out `bytes` more; `last` when it was the final chunk.
    pub fn progress(&self, bytes: u64, last: bool) {
        let ms = self.0.start.elapsed().as_millis() as u64;
        self.0.last_ms.store(ms, Ordering::Relaxed);
        self.0.sent.fetch_add(bytes, Ordering::Relaxed);
        if last {
            self.0.done.store(true, Ordering::Relaxed);
        }
    }

    /// The body holds back for `wait` by choice (`--limit-rate`): that time
    /// is no stall, so it counts as progress until it is over.
    pub fn hold(&self, wait: Duration) {
        let until = (self.0.start.elapsed() + wait).as_millis() as u64;
        self.0.last_ms.fetch_max(until, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let now = self.0.start.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.0.last_ms.load(Ordering::Relaxed)))
    }

    /// How long the request may go without visible progress. Once the body is
    /// all handed out, its tail still drains from buffers the stamp cannot see,
    /// at about the rate seen so far: that time is allowed on top of `limit`
    /// (at most `cap`), so a slow link is not taken for a stalled one.
    fn allowed_idle(&self, limit: Duration, cap: Duration) -> Duration {
        if !self.0.done.load(Ordering::Relaxed) {
            return limit;
        }
        let sent = self.0.sent.load(Ordering::Relaxed).max(1);
        let secs = (self.0.last_ms.load(Ordering::Relaxed).max(1)) as f64 / 1000.0;
        let rate = sent as f64 / secs; // bytes per second while sending
        let tail = Duration::from_secs_f64(UNSEEN_TAIL.min(sent) as f64 / rate.max(1.0));
        (limit + tail).min(cap.max(limit))
    }

    #[cfg(test)]
    pub(crate) fn sent(&self) -> u64 {
        self.0.sent.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn is_done(&self) -> bool {
        self.0.done.load(Ordering::Relaxed)
    }
}

/// Fails requests that stop making progress.
#[derive(Debug, Clone)]
pub struct Watchdog {
    /// A request with no progress for this long fails as [`ErrorKind::Stalled`].
    pub stall_timeout: Duration,
    /// The quickest answer to a request without a body so far, in µs
    /// (`u64::MAX`: none yet); see [`Watchdog::round_trip`].
    quickest: Arc<AtomicU64>,
}

impl Watchdog {
    pub fn new(stall_timeout: Duration) -> Watchdog {
        Watchdog {
            stall_timeout,
            quickest: Arc::new(AtomicU64::new(u64::MAX)),
        }
    }

    /// How long the quickest request without a body took to be answered:
    /// a round trip to the store (two for the first, which opens the
    /// connection), plus the store's own time. The concurrency controller
    /// seeds its start from it (`engine::concurrency`).
    pub fn round_trip(&self) -> Option<Duration> {
        match self.quickest.load(Ordering::Relaxed) {
            u64::MAX => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Runs one request, failing it once it has made no progress for `limit`.
    /// Dropping the request closes its connection.
    pub async fn watch<T>(
        &self,
        op: &'static str,
        limit: Duration,
        stamp: &Stamp,
        request: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        tokio::pin!(request);
        let tick = (limit / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
        loop {
            tokio::select! {
                out = &mut request => return out,
                () = tokio::time::sleep(tick) => {
                    let idle = stamp.idle();
                    if idle >= stamp.allowed_idle(limit, self.complete_limit()) {
                        return Err(StoreError::new(
                            ErrorKind::Stalled,
                            op,
                            format!(
                                "no progress for {} s, the connection looks stalled",
                                idle.as_secs()
                            ),
                        ));
                    }
                },
            }
        }
    }

    /// A request with a body: it stalls after the stall timeout without progress.
    pub async fn body<T>(
        &self,
        op: &'static str,
        stamp: &Stamp,
        request: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.watch(op, self.stall_timeout, stamp, request).await
    }

    /// A request without a body: it gets the stall timeout to answer.
    pub async fn small<T>(
        &self,
        op: &'static str,
        request: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let started = Instant::now();
        let answer = self
            .watch(op, self.stall_timeout, &Stamp::new(), request)
            .await;
        if answer.is_ok() {
            let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX - 1);
            self.quickest.fetch_min(us, Ordering::Relaxed);
        }
        answer
    }

    /// CompleteMultipartUpload may legitimately take minutes on AWS for large
    /// objects (S3 keeps the connection alive while it assembles the parts).
    pub async fn complete<T>(
        &self,
        op: &'static str,
        request: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.watch(op, self.complete_limit(), &Stamp::new(), request)
            .await
    }

    fn complete_limit(&self) -> Duration {
        self.stall_timeout.max(Duration::from_secs(300))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_of_a_slow_body_is_allowed_to_drain() {
        let limit = Duration::from_secs(30);
        let cap = Duration::from_secs(300);
        let stamp = Stamp::new();
        assert_eq!(
            stamp.allowed_idle(limit, cap),
            limit,
            "body still being sent"
        );
        // 8 MiB handed out over 4 s (2 MiB/s): up to 8 MiB may still be buffered.
        stamp.0.sent.store(8 << 20, Ordering::Relaxed);
        stamp.0.last_ms.store(4000, Ordering::Relaxed);
        stamp.0.done.store(true, Ordering::Relaxed);
        let allowed = stamp.allowed_idle(limit, cap);
        assert!(allowed >= limit + Duration::from_secs(3), "{allowed:?}");
        // A very slow body is capped.
        stamp.0.last_ms.store(4_000_000, Ordering::Relaxed);
        assert_eq!(stamp.allowed_idle(limit, cap), cap);
    }

    /// A body held back by `--limit-rate` is not idle while it waits.
    #[test]
    fn a_hold_is_not_idleness() {
        let stamp = Stamp::new();
        stamp.0.last_ms.store(0, Ordering::Relaxed);
        stamp.hold(Duration::from_secs(60));
        assert_eq!(stamp.idle(), Duration::ZERO);
        assert!(stamp.0.last_ms.load(Ordering::Relaxed) >= 60_000);
    }

    #[tokio::test]
    async fn a_request_without_progress_fails_as_stalled() {
        let dog = Watchdog::new(Duration::from_millis(200));
        let err = dog
            .small(
                "ListParts",
                std::future::pending::<Result<(), StoreError>>(),
            )
            .await
            .unwrap_err();
        assert_eq!(err.kind, ErrorKind::Stalled);
        assert!(err.is_retryable());
        // A failed request says nothing of the round trip; answers do.
        assert_eq!(dog.round_trip(), None);
        let answer = |ms| async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok::<(), StoreError>(())
        };
        dog.small("CreateMultipartUpload", answer(60))
            .await
            .unwrap();
        dog.small("ListParts", answer(20)).await.unwrap();
        dog.small("HeadObject", answer(40)).await.unwrap();
        let quickest = dog.round_trip().unwrap();
        assert!(quickest >= Duration::from_millis(20) && quickest < Duration::from_millis(40));
    }
}
