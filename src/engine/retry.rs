//! Which failures are tried again, and how long to wait between attempts.
//!
//! Only retryable errors are retried (5xx, throttling, timeouts, dropped
//! connections, stalls), with exponential backoff and jitter. An expired
//! presigned request is signed again and retried at once, without spending an
//! attempt, a few times in a row at most: a store that calls every fresh
//! signature expired has a clock problem that retrying will not fix.
//!
//! A failure with no answer at all goes to the [`Link`] first: if the link
//! turns out to be down, the request waits until it is back and is tried
//! again without spending an attempt (see [`super::link`]). A request in
//! flight when the process is found to have slept is dropped and sent again
//! at once, free too.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::link::{no_answer, Link, Lost};
use super::{Cancel, Status};
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

/// How the calls of one command are retried: attempts per call, and the
/// link that waits while the store gives no answer.
#[derive(Clone)]
pub struct Retry {
    /// Attempts per call: the first one, then `--retries` more.
    pub attempts: u32,
    pub link: Arc<Link>,
    /// The part a call is for, as the display names it.
    pub part: Option<u32>,
}

impl Retry {
    pub fn new(attempts: u32, link: Arc<Link>) -> Retry {
        Retry {
            attempts,
            link,
            part: None,
        }
    }

    /// `attempts` per call and no waiting for the link: every failure spends
    /// an attempt.
    pub fn fail_fast(attempts: u32) -> Retry {
        Retry::new(attempts, Link::fail_fast())
    }

    /// The same policy, for the calls of part `number`.
    pub fn part(&self, number: u32) -> Retry {
        Retry {
            part: Some(number),
            ..self.clone()
        }
    }

    /// The same link with another number of attempts.
    pub fn with_attempts(&self, attempts: u32) -> Retry {
        Retry {
            attempts,
            ..self.clone()
        }
    }
}

/// What one attempt came to.
enum Tried<T> {
    Done(Result<T, StoreError>),
    /// The process slept while it was in flight.
    Woken,
}

/// Runs one attempt, dropping it if the process is found to have slept.
async fn attempt<T>(link: &Link, op: impl Future<Output = Result<T, StoreError>>) -> Tried<T> {
    let mut woken = link.woken();
    tokio::select! {
        // A request that was asleep may also have stalled meanwhile: the
        // wake-up says why, and costs nothing.
        biased;
        Ok(()) = woken.changed() => Tried::Woken,
        r = op => Tried::Done(r),
    }
}

/// Runs `op` until it succeeds, fails in a way retrying cannot fix, or has been
/// tried `policy.attempts` times (attempts that failed while the link was
/// down do not count). A retryable error that ends the run carries how many
/// attempts were made.
pub async fn retry<T, F, Fut>(policy: &Retry, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let link = &policy.link;
    let mut attempt = 1;
    let mut resigned = 0;
    loop {
        link.online().await?;
        let started = tokio::time::Instant::now();
        // Boxed: a store call's future is large (the SDK's, in a debug
        // build, overflowed a worker's stack once wrapped in `attempt`).
        let mut e = match self::attempt(link, Box::pin(op())).await {
            Tried::Done(Ok(v)) => {
                link.answered();
                link.recovered();
                return Ok(v);
            }
            Tried::Done(Err(e)) => {
                if !no_answer(&e) {
                    link.answered();
                }
                e
            }
            Tried::Woken => continue,
        };
        if e.kind == ErrorKind::Expired {
            if resigned < MAX_FREE_RESIGNS {
                resigned += 1;
                continue;
            }
            e.gave_up_after = Some(attempt);
            return Err(e);
        }
        if !e.is_retryable() {
            return Err(e);
        }
        if e.kind == ErrorKind::Stalled && link.waits() {
            link.say(Status::Stalled {
                part: policy.part,
                idle: link.stall_timeout(),
            });
        }
        if no_answer(&e) && link.lost(&e, started).await? == Lost::Free {
            continue;
        }
        if attempt >= policy.attempts {
            e.gave_up_after = Some(attempt);
            return Err(e);
        }
        let wait = backoff(attempt);
        link.say(Status::Retrying {
            part: policy.part,
            op: e.op,
            attempt: attempt + 1,
            attempts: policy.attempts,
            error: e.message.clone(),
            wait,
        });
        tokio::time::sleep(wait).await;
        attempt += 1;
        resigned = 0;
    }
}

/// Like [`retry`], but gives up as soon as `cancel` is raised, whether an
/// attempt is in flight (it is dropped, and may or may not have had its
/// effect) or waiting out its backoff. `None` when cancelled.
pub async fn retry_or_cancel<T, F, Fut>(
    policy: &Retry,
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
        r = retry(policy, op) => Some(r),
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
