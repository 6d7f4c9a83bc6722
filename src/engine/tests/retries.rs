//! Retries: only retryable errors are tried again, each call gets exactly its
//! attempts (an expired signature spends none), and a failure stops new parts
//! while the parts in flight are journalled.

use super::*;

#[tokio::test(start_paused = true)]
async fn retryable_errors_are_retried() {
    for kind in [ErrorKind::Retryable, ErrorKind::Stalled] {
        let fx = Fixture::new();
        fx.store.fail_part(2, 1..=1, kind);
        let (id, result) = fx.put(3).await;
        let done = result.unwrap_or_else(|e| panic!("{kind:?}: {e:?}"));
        assert_eq!(fx.store.part_calls(), vec![1, 2, 2, 3, 4, 5, 6], "{kind:?}");
        assert!(!fx.has_journal(&id), "a completed upload keeps no journal");
        assert_eq!(
            fx.memory()
                .object("bkt", "dir/file.bin")
                .unwrap()
                .checksum_sha256,
            done.finished.checksum_sha256
        );
    }
}

#[tokio::test(start_paused = true)]
async fn other_errors_stop_the_run_at_once_and_keep_the_journal() {
    for kind in [
        ErrorKind::AccessDenied,
        ErrorKind::NoSuchBucket,
        ErrorKind::PreconditionFailed,
        ErrorKind::Fatal,
    ] {
        let fx = Fixture::new();
        fx.store.fail_part(2, 1..=1, kind);
        let (id, result) = fx.put(5).await;
        assert_eq!(stopped_kind(&result), Some(kind), "{result:?}");
        assert_eq!(
            fx.store.part_calls(),
            vec![1, 2],
            "{kind:?}: one attempt, no part after"
        );
        assert_eq!(fx.journalled(&id), vec![1]);
        assert_eq!(fx.memory().open_uploads().len(), 1, "the upload stays open");
    }
}

#[tokio::test(start_paused = true)]
async fn a_part_gets_exactly_its_attempts() {
    // Two failures, three attempts: the third succeeds.
    let fx = Fixture::new();
    fx.store.fail_part(3, 1..=2, ErrorKind::Retryable);
    let (_, result) = fx.put(3).await;
    result.unwrap();
    assert_eq!(fx.store.part_calls().iter().filter(|&&n| n == 3).count(), 3);

    // Three failures, three attempts: the run stops, resumable, and says so.
    let fx = Fixture::new();
    fx.store.fail_part(3, 1..=3, ErrorKind::Retryable);
    let (id, result) = fx.put(3).await;
    match &result {
        Err(Error::Stopped {
            part: Some((3, PARTS)),
            error,
            ..
        }) => assert_eq!(error.gave_up_after, Some(3)),
        other => panic!("{other:?}"),
    }
    assert_eq!(fx.store.part_calls(), vec![1, 2, 3, 3, 3]);
    assert_eq!(fx.journalled(&id), vec![1, 2]);
}

#[tokio::test(start_paused = true)]
async fn an_expired_signature_does_not_spend_an_attempt() {
    let fx = Fixture::new();
    fx.store.fail_part(2, 1..=3, ErrorKind::Expired);
    let (_, result) = fx.put(1).await;
    result.expect("three expiries are signed again within one attempt");
    assert_eq!(fx.store.part_calls().iter().filter(|&&n| n == 2).count(), 4);

    // One that is always expired is not retried for ever.
    let fx = Fixture::new();
    fx.store.fail_part(2, 1..=100, ErrorKind::Expired);
    let (_, result) = fx.put(1).await;
    assert_eq!(stopped_kind(&result), Some(ErrorKind::Expired));
    assert_eq!(fx.store.part_calls().iter().filter(|&&n| n == 2).count(), 4);
}

#[tokio::test(start_paused = true)]
async fn no_part_starts_after_a_failure_and_parts_in_flight_are_journalled() {
    let fx = Fixture::new();
    let (journal, lock) = fx.start().await;
    let id = journal.id.clone();
    // Part 1 is in flight when part 2 fails for good.
    let held = fx.store.hold_part(1);
    fx.store.fail_part(2, 1..=1, ErrorKind::Fatal);
    let run = fx.run(3, 2, Cancel::new().1);
    let all = fx.all();
    let running = run_multipart(&run, journal, lock, all, Vec::new());
    let release = async {
        held.arrived().await;
        // Let part 2 fail while part 1 is held.
        while fx.store.calls(Op::UploadPart) < 2 {
            tokio::task::yield_now().await;
        }
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        held.release();
    };
    let (result, ()) = tokio::join!(running, release);
    assert_eq!(stopped_kind(&result), Some(ErrorKind::Fatal), "{result:?}");
    // Parts 1 and 2 are hashed side by side, so either may reach the store first.
    let mut called = fx.store.part_calls();
    called.sort();
    assert_eq!(called, vec![1, 2], "no part started after part 2 failed");
    assert_eq!(
        fx.journalled(&id),
        vec![1],
        "the part in flight finished and was journalled"
    );
}

#[tokio::test(start_paused = true)]
async fn the_journal_holds_exactly_the_acknowledged_parts() {
    let fx = Fixture::new();
    // Part 3 lands on the store but its answer is lost; with one attempt the
    // run stops there.
    fx.store.lose_part_answer(3);
    let (id, result) = fx.put(1).await;
    assert_eq!(
        stopped_kind(&result),
        Some(ErrorKind::Retryable),
        "{result:?}"
    );
    let journal = fx.journal(&id);
    let stored = fx.memory().stored_parts(&journal.upload_id).unwrap();
    assert_eq!(
        stored.iter().map(|p| p.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let journalled: Vec<(u32, String)> = journal
        .parts
        .iter()
        .map(|p| (p.number, p.etag.clone()))
        .collect();
    assert_eq!(
        journalled,
        stored[..2].to_vec(),
        "not part 3: its answer never came"
    );
    // The progress counts the acknowledged parts' bytes, nothing of part 3.
    assert_eq!(fx.progress.parts.load(Ordering::SeqCst), 2);
    assert_eq!(fx.progress.bytes.load(Ordering::SeqCst), 2 * PART);
    assert_eq!(fx.progress.acked.load(Ordering::SeqCst), 2 * PART);
}
