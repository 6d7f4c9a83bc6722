//! Ctrl-C: at Create, during the parts, while verifying and during Complete,
//! the run stops at once and keeps every journal and upload a resume needs.

use super::*;

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_the_parts_keeps_every_acknowledged_part() {
    let fx = Fixture::new();
    let (id, result) = fx.interrupted_at(fx.store.hold_part(4), 1).await;
    assert!(
        matches!(&result, Err(Error::Interrupted { id: i, saved: Some((3, PARTS)) }) if *i == id),
        "{result:?}"
    );
    assert_eq!(fx.journalled(&id), vec![1, 2, 3]);
    assert_eq!(
        fx.store.part_calls(),
        vec![1, 2, 3, 4],
        "nothing after Ctrl-C"
    );
    assert_eq!(
        fx.memory().open_uploads().len(),
        1,
        "the upload stays open for resume"
    );
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_complete_keeps_the_journal() {
    let fx = Fixture::new();
    let (id, result) = fx
        .interrupted_at(fx.store.hold(Op::CompleteUpload, 1), 2)
        .await;
    assert!(
        matches!(&result, Err(Error::Interrupted { .. })),
        "{result:?}"
    );
    assert_eq!(fx.journalled(&id), (1..=PARTS as u32).collect::<Vec<_>>());
    assert!(fx.memory().object("bkt", "dir/file.bin").is_none());
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_create_leaves_nothing_unrecorded() {
    let fx = Fixture::new();
    let held = fx.store.hold(Op::CreateUpload, 1);
    let (raise, cancel) = Cancel::new();
    let policy = Retry::fail_fast(3);
    let starting = session::start(&*fx.store, &fx.dir, fx.new_upload(), &policy, &cancel);
    let ctrl_c = async {
        held.arrived().await;
        raise.send(true).unwrap();
    };
    let (result, ()) = tokio::join!(starting, ctrl_c);
    assert!(
        matches!(result, Err(Error::NotStarted { error: None, .. })),
        "{result:?}"
    );
    assert_eq!(fx.store.calls(Op::ListUploads), 1, "the store was swept");
    assert!(fx.memory().open_uploads().is_empty());
}

// Ctrl-C while the parts a resume reuses are being verified stops the run at
// once: nothing is completed, and the journal and the upload stay.
#[tokio::test(start_paused = true)]
async fn ctrl_c_while_verifying_keeps_the_journal() {
    let fx = Fixture::new();
    let id = fx.put_all_but_complete().await;
    let journal = fx.journal(&id);
    let (raise, cancel) = Cancel::new();
    let reconciled = reconcile(
        &*fx.store,
        &fx.dir,
        journal,
        &fx.plan,
        true,
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
    assert!(todo.is_empty());
    assert_eq!(candidates.len(), PARTS as usize);
    raise.send(true).unwrap();
    let lock = fx.dir.lock(&id).unwrap();
    let run = fx.run(3, 2, cancel);
    let result = run_multipart(&run, *journal, lock, todo, candidates).await;
    assert!(
        matches!(result, Err(Error::Interrupted { .. })),
        "{result:?}"
    );
    assert_eq!(
        fx.store.calls(Op::CompleteUpload),
        3,
        "no Complete after Ctrl-C"
    );
    assert!(fx.has_journal(&id));
    assert_eq!(fx.memory().open_uploads().len(), 1);
}
