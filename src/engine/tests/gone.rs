//! Vanished uploads and abort: an upload is forgotten only when its own store
//! confirms it gone (issue 9), and abort repeats until it is.

use super::*;
use crate::engine::Unconfirmed;

#[tokio::test(start_paused = true)]
async fn a_vanished_upload_forgets_its_journal() {
    let fx = Fixture::new();
    let (journal, lock) = fx.start().await;
    let id = journal.id.clone();
    let upload_id = journal.upload_id.clone();
    let held = fx.store.hold_part(3);
    let run = fx.run(5, 1, Cancel::new().1);
    let running = run_multipart(&run, journal, lock, fx.all(), Vec::new());
    let elsewhere = async {
        held.arrived().await;
        fx.memory().abort_behind(&upload_id);
        held.release();
    };
    let (result, ()) = tokio::join!(running, elsewhere);
    match &result {
        Err(Error::Gone { part, error, .. }) => {
            assert_eq!(*part, Some((3, PARTS)));
            assert_eq!(error.kind, ErrorKind::NoSuchUpload);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        fx.store.part_calls(),
        vec![1, 2, 3],
        "NoSuchUpload is not retried"
    );
    assert!(!fx.has_journal(&id));
}

#[tokio::test(start_paused = true)]
async fn abort_repeats_until_the_upload_is_gone() {
    let fx = Fixture::new();
    let (journal, _lock) = fx.start().await;
    let upload = journal.upload();
    fx.store.fail(Op::AbortUpload, 1..=1, ErrorKind::Retryable);
    assert!(abort::until_gone(&*fx.store, &upload).await.unwrap());
    assert!(fx.memory().open_uploads().is_empty());
    assert!(
        !abort::until_gone(&*fx.store, &upload).await.unwrap(),
        "already gone"
    );
    assert_eq!(
        fx.store.list_parts(&upload).await.unwrap_err().kind,
        ErrorKind::NoSuchUpload
    );
}

// Issue 9: never forget an upload on one unconfirmed answer.

/// Starts an upload, aborts it behind the engine's back once part 3 arrives,
/// and runs it with `at_recorded_endpoint`.
async fn vanished(fx: &Fixture, at_recorded_endpoint: bool) -> (String, Result<Completed, Error>) {
    let (journal, lock) = fx.start().await;
    let id = journal.id.clone();
    let upload_id = journal.upload_id.clone();
    let held = fx.store.hold_part(3);
    let run = Run {
        at_recorded_endpoint,
        ..fx.run(5, 1, Cancel::new().1)
    };
    let running = run_multipart(&run, journal, lock, fx.all(), Vec::new());
    let elsewhere = async {
        held.arrived().await;
        fx.memory().abort_behind(&upload_id);
        held.release();
    };
    let (result, ()) = tokio::join!(running, elsewhere);
    (id, result)
}

#[tokio::test(start_paused = true)]
async fn a_missing_upload_at_another_endpoint_keeps_its_journal() {
    let fx = Fixture::new();
    let (id, result) = vanished(&fx, false).await;
    assert!(
        matches!(&result, Err(Error::Gone { kept: Some(k), .. }) if matches!(**k, Unconfirmed::OtherEndpoint)),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
    // Resume's reconciliation keeps it too.
    let (_, cancel) = Cancel::new();
    let journal = fx.journal(&id);
    let result = reconcile(
        &*fx.store,
        &fx.dir,
        journal,
        &fx.plan,
        false,
        &Retry::fail_fast(3),
        &cancel,
        false,
    )
    .await;
    assert!(
        matches!(&result, Err(Error::GoneAtResume { kept: Some(k), .. }) if matches!(**k, Unconfirmed::OtherEndpoint)),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
}

#[tokio::test(start_paused = true)]
async fn a_missing_upload_that_cannot_be_confirmed_keeps_its_journal() {
    let fx = Fixture::new();
    fx.store
        .fail(Op::ListUploads, 1..=99, ErrorKind::AccessDenied);
    let (id, result) = vanished(&fx, true).await;
    assert!(
        matches!(&result, Err(Error::Gone { kept: Some(k), .. }) if matches!(**k, Unconfirmed::CannotList(_))),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
}
