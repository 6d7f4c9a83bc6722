//! The link (`engine::link`): a store that gives no answer is waited for
//! while a probe gets no answer either, without spending attempts, until
//! `--max-offline`; a store that answers with an error spends them as ever.

use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::engine::link::{Link, Probe};
use crate::engine::Status;
use crate::store::StoreError;

const HOUR: Duration = Duration::from_secs(3600);

/// A link whose probe gets no answer while `down` is up, to a store that
/// has answered before (the fixture's Create went through another link).
fn link(down: &Arc<AtomicBool>, max_offline: Duration, progress: Arc<Counted>) -> Arc<Link> {
    let link = fresh_link(down, max_offline, progress);
    link.answered();
    link
}

/// The same, to a store that has not answered yet.
fn fresh_link(down: &Arc<AtomicBool>, max_offline: Duration, progress: Arc<Counted>) -> Arc<Link> {
    let down = down.clone();
    let probe: Probe = Box::new(move || {
        let down = down.load(Ordering::SeqCst);
        Box::pin(async move {
            if down {
                Err(StoreError::transport("probe", "connection refused"))
            } else {
                Ok(())
            }
        })
    });
    let stall = Duration::from_secs(30);
    Link::new(probe, "http://store".into(), max_offline, stall, progress)
}

/// Lowers `flag` after `after`.
fn lower_after(flag: &Arc<AtomicBool>, after: Duration) {
    let flag = flag.clone();
    tokio::spawn(async move {
        tokio::time::sleep(after).await;
        flag.store(false, Ordering::SeqCst);
    });
}

impl Fixture {
    /// Starts an upload and sends every part, one at a time, retried as
    /// `retry` says.
    async fn put_over(&self, retry: Retry) -> (String, Result<Completed, Error>) {
        let (journal, lock) = self.start().await;
        let id = journal.id.clone();
        let run = Run {
            retry,
            ..self.run(0, 1, Cancel::new().1)
        };
        (
            id,
            run_multipart(&run, journal, lock, self.all(), Vec::new()).await,
        )
    }

    fn statuses(&self) -> Vec<Status> {
        self.progress.statuses.lock().unwrap().clone()
    }

    fn calls_of(&self, part: u32) -> usize {
        self.store
            .part_calls()
            .iter()
            .filter(|&&n| n == part)
            .count()
    }
}

#[tokio::test(start_paused = true)]
async fn failures_while_offline_spend_no_attempt() {
    let fx = Fixture::new();
    let down = Arc::new(AtomicBool::new(true));
    fx.store.down_while(Op::UploadPart, &down);
    lower_after(&down, Duration::from_secs(90));
    let began = Instant::now();
    // One attempt per call: any failure that counted would stop the run.
    let retry = Retry::new(1, link(&down, HOUR, fx.progress.clone()));
    let (id, result) = fx.put_over(retry).await;
    result.expect("the run waits for the store, then completes");
    assert!(began.elapsed() >= Duration::from_secs(90));
    assert!(fx.calls_of(1) >= 2, "{:?}", fx.store.part_calls());
    assert!(!fx.has_journal(&id));
    let statuses = fx.statuses();
    let offline = statuses
        .iter()
        .position(|s| matches!(s, Status::Offline { endpoint, .. } if endpoint == "http://store"));
    let back = statuses.iter().rposition(|s| *s == Status::Sending);
    assert!(
        matches!((offline, back), (Some(o), Some(b)) if o < b),
        "offline, then sending again: {statuses:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn the_wait_ends_at_max_offline_and_keeps_the_journal() {
    let fx = Fixture::new();
    let down = Arc::new(AtomicBool::new(true));
    fx.store.down_while(Op::UploadPart, &down);
    let began = Instant::now();
    let max = Duration::from_secs(10);
    let retry = Retry::new(6, link(&down, max, fx.progress.clone()));
    let (id, result) = fx.put_over(retry).await;
    let waited = began.elapsed();
    match &result {
        Err(Error::Stopped { error, .. }) => {
            assert_eq!(error.offline_for, Some(10), "{error}");
            assert!(error.to_string().contains("--max-offline"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        waited >= max && waited < max + Duration::from_secs(1),
        "{waited:?}"
    );
    assert_eq!(fx.calls_of(1), 1, "no attempt was made while offline");
    assert!(fx.has_journal(&id), "resumable");
    assert_eq!(fx.memory().open_uploads().len(), 1, "the upload stays open");
}

#[tokio::test(start_paused = true)]
async fn store_errors_while_online_spend_attempts() {
    // The store answers with an error: the link is never checked.
    let fx = Fixture::new();
    let up = Arc::new(AtomicBool::new(false));
    fx.store.fail_part(2, 1..=3, ErrorKind::Retryable);
    let (_, result) = fx
        .put_over(Retry::new(3, link(&up, HOUR, fx.progress.clone())))
        .await;
    match &result {
        Err(Error::Stopped { error, .. }) => assert_eq!(error.gave_up_after, Some(3)),
        other => panic!("{other:?}"),
    }
    assert_eq!(fx.calls_of(2), 3);
    let retrying = fx
        .statuses()
        .iter()
        .filter(|s| matches!(s, Status::Retrying { part: Some(2), .. }))
        .count();
    assert_eq!(retrying, 2, "{:?}", fx.statuses());

    // No answer, but the probe is answered: the failure was the request's
    // own, and it spends attempts too.
    let fx = Fixture::new();
    let refused = Arc::new(AtomicBool::new(true));
    fx.store.down_while(Op::UploadPart, &refused);
    let (_, result) = fx
        .put_over(Retry::new(3, link(&up, HOUR, fx.progress.clone())))
        .await;
    match &result {
        Err(Error::Stopped { error, .. }) => assert_eq!(error.gave_up_after, Some(3)),
        other => panic!("{other:?}"),
    }
    assert_eq!(fx.calls_of(1), 3);
}

#[tokio::test(start_paused = true)]
async fn max_offline_zero_fails_fast() {
    let fx = Fixture::new();
    let down = Arc::new(AtomicBool::new(true));
    fx.store.down_while(Op::UploadPart, &down);
    let retry = Retry::new(3, link(&down, Duration::ZERO, fx.progress.clone()));
    let (_, result) = fx.put_over(retry).await;
    match &result {
        Err(Error::Stopped { error, .. }) => {
            assert_eq!((error.gave_up_after, error.offline_for), (Some(3), None))
        }
        other => panic!("{other:?}"),
    }
    assert!(
        !fx.statuses()
            .iter()
            .any(|s| matches!(s, Status::Offline { .. })),
        "{:?}",
        fx.statuses()
    );
}

#[tokio::test(start_paused = true)]
async fn complete_waits_for_the_store_too() {
    let fx = Fixture::new();
    let down = Arc::new(AtomicBool::new(true));
    fx.store.down_while(Op::CompleteUpload, &down);
    lower_after(&down, Duration::from_secs(60));
    let retry = Retry::new(1, link(&down, HOUR, fx.progress.clone()));
    let (id, result) = fx.put_over(retry).await;
    result.expect("Complete waits for the store");
    assert!(fx.store.calls(Op::CompleteUpload) >= 2);
    assert!(!fx.has_journal(&id));
}

#[tokio::test(start_paused = true)]
async fn a_store_that_never_answered_is_not_waited_for() {
    // A wrong endpoint, or no network from the start: the retries run out as
    // before, instead of an hour's wait.
    let fx = Fixture::new();
    let down = Arc::new(AtomicBool::new(true));
    fx.store.down_while(Op::UploadPart, &down);
    let retry = Retry::new(3, fresh_link(&down, HOUR, fx.progress.clone()));
    let began = Instant::now();
    let (_, result) = fx.put_over(retry).await;
    match &result {
        Err(Error::Stopped { error, .. }) => assert_eq!(error.gave_up_after, Some(3)),
        other => panic!("{other:?}"),
    }
    assert!(began.elapsed() < Duration::from_secs(60));
}
