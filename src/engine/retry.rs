//! Which failures are tried again, and how long to wait between attempts.
//!
//! Only retryable errors are retried (5xx, throttling, timeouts, dropped
//! connections, stalls), with exponential backoff and jitter. An expired
//! presigned request is signed again and retried at once, without spending an
//! attempt, a few times in a row at most: a store that calls every fresh
//! signature expired has a clock problem that retrying will not fix.

use std::future::Future;
use std::time::Duration;

use super::Cancel;
use crate::store::{ErrorKind, StoreError};

/// First retry waits about this long; each further one twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No wait exceeds this, however many attempts: long enough for S3's SlowDown
/// to ease, short enough that a user sees progress.
const BACKOFF_CAP: Duration = Duration::from_secs(20);
/// Expired answers in a row that are retried for free; the next one stops.
const MAX_FREE_RESIGNS: u32 = 3;

/// How long to wait before attempt `attempt + 1` ("equal jitter": half fixed,
/// half random, so concurrent workers that failed together spread out).
pub fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// Runs `op` until it succeeds, fails in a way retrying cannot fix, or has been
/// tried `attempts` times. A retryable error that ends the run carries how many
/// attempts were made.
pub async fn retry<T, F, Fut>(attempts: u32, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut attempt = 1;
    let mut resigned = 0;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.kind == ErrorKind::Expired && resigned < MAX_FREE_RESIGNS => {
                resigned += 1;
            }
            Err(e) if e.is_retryable() && e.kind != ErrorKind::Expired && attempt < attempts => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
                resigned = 0;
            }
            Err(mut e) => {
                if e.is_retryable() {
                    e.gave_up_after = Some(attempt);
                }
                return Err(e);
            }
        }
    }
}

/// Like [`retry`], but gives up as soon as `cancel` is raised, whether an
/// attempt is in flight (it is dropped, and may or may not have had its
/// effect) or waiting out its backoff. `None` when cancelled.
pub async fn retry_or_cancel<T, F, Fut>(
    attempts: u32,
    cancel: &Cancel,
    op: F,
) -> Option<Result<T, StoreError>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    tokio::select! {
        biased;
        () = cancel.cancelled() => None,
        r = retry(attempts, op) => Some(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        for attempt in 1..=30 {
            let exp = BACKOFF_BASE
                .saturating_mul(1u32 << (attempt - 1).min(16))
                .min(BACKOFF_CAP);
            let d = backoff(attempt);
            assert!(
                d >= exp / 2 && d <= exp,
                "{attempt}: {d:?} not in {exp:?}/2..={exp:?}"
            );
        }
        assert!(backoff(30) <= BACKOFF_CAP);
    }
}
