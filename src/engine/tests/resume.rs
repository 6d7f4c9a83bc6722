//! Resume: reconciling the journal with the store's parts (trusted,
//! candidates, todo), and finding a Complete that landed late.

use super::*;

// Only a journalled part the store lists with the recorded ETag is trusted
// (without verification) or checked against its recorded SHA-256 (with);
// a listed part whose record disagrees is checked against the SHA-256 the
// store lists; the rest is sent.
#[tokio::test(start_paused = true)]
async fn resume_sorts_parts_into_trusted_candidates_and_todo() {
    for verify in [false, true] {
        let fx = Fixture::new();
        fx.store.fail_part(4, 1..=1, ErrorKind::Fatal);
        let (id, result) = fx.put(1).await;
        assert!(result.is_err());
        let mut journal = fx.journal(&id);
        assert_eq!(journal.parts.len(), 3);
        let recorded_sha = journal.parts[0].sha256.clone();
        // The journal's record of part 2 disagrees with the store.
        journal.parts[1].etag = "\"something else\"".into();
        let (_, cancel) = Cancel::new();
        let reconciled = reconcile(
            &*fx.store,
            &fx.dir,
            journal,
            &fx.plan,
            verify,
            &Retry::fail_fast(3),
            &cancel,
            true,
        )
        .await
        .unwrap();
        let Reconciled::Ready {
            journal,
            todo,
            candidates,
        } = reconciled
        else {
            panic!("the upload is open");
        };
        let numbers = |parts: &mut dyn Iterator<Item = u32>| parts.collect::<Vec<_>>();
        let (trusted, checked) = if verify {
            (vec![], vec![1, 2, 3])
        } else {
            (vec![1, 3], vec![2])
        };
        assert_eq!(
            numbers(&mut journal.parts.iter().map(|p| p.number)),
            trusted
        );
        assert_eq!(
            numbers(&mut candidates.iter().map(|c| c.part.number)),
            checked
        );
        assert_eq!(numbers(&mut todo.iter().map(|p| p.number)), vec![4, 5, 6]);
        assert_eq!(
            fx.journalled(&id),
            trusted,
            "the reconciled journal is saved"
        );
        if verify {
            assert_eq!(candidates[0].expect, Expect::Sha256(recorded_sha));
        }

        // Resuming sends exactly the todo, and completes.
        let lock = fx.dir.lock(&id).unwrap();
        let before = fx.store.part_calls().len();
        let run = fx.run(3, 2, Cancel::new().1);
        let done = run_multipart(&run, *journal, lock, todo, candidates)
            .await
            .unwrap();
        assert_eq!(fx.parts_sent_since(before), vec![4, 5, 6]);
        assert_eq!(done.sent, 2 * PART + (PART - 1000));
        assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
        assert!(!fx.has_journal(&id));
    }
}

#[tokio::test(start_paused = true)]
async fn resume_finds_an_upload_whose_complete_landed_late() {
    let fx = Fixture::new();
    let (journal, lock) = fx.start().await;
    let id = journal.id.clone();
    // Complete lands, and its answer and every retry's are lost.
    fx.store.lose_answer(Op::CompleteUpload, 1);
    fx.store
        .fail(Op::CompleteUpload, 2..=9, ErrorKind::Retryable);
    let run = fx.run(3, 2, Cancel::new().1);
    let result = run_multipart(&run, journal, lock, fx.all(), Vec::new()).await;
    assert_eq!(
        stopped_kind(&result),
        Some(ErrorKind::Retryable),
        "{result:?}"
    );
    let journal = fx.journal(&id);
    let (_, cancel) = Cancel::new();
    let reconciled = reconcile(
        &*fx.store,
        &fx.dir,
        journal,
        &fx.plan,
        false,
        &Retry::fail_fast(3),
        &cancel,
        true,
    )
    .await
    .unwrap();
    assert!(
        matches!(reconciled, Reconciled::AlreadyCompleted(_)),
        "{reconciled:?}"
    );
    assert!(!fx.has_journal(&id));
}
