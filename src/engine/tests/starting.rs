//! Starting an upload: a failed start leaves no orphan, a lost Create answer
//! leaves no second upload, the sweep never touches another client's upload,
//! and journal I/O stays off the runtime's threads.

use super::*;

#[tokio::test(start_paused = true)]
async fn a_failed_start_aborts_the_upload_it_created() {
    let fx = Fixture::new();
    // A journal directory that cannot be written.
    let dir = JournalDir::resolve(Some(fx.path.join("not-a-dir"))).unwrap();
    let new = NewUpload {
        dest: dest(),
        object: ObjectOptions::default(),
        connection: Connection::default(),
        source: fx.source.clone(),
        plan: fx.plan,
        session: None,
    };
    let result = session::start(
        &*fx.store,
        &dir,
        new,
        &Retry::fail_fast(3),
        &Cancel::new().1,
    )
    .await;
    assert!(
        matches!(result, Err(Error::JournalStart { .. })),
        "{result:?}"
    );
    assert_eq!(fx.store.calls(Op::CreateUpload), 1);
    assert!(fx.memory().open_uploads().is_empty(), "no orphan is left");
}

/// Journal saves and removals run off the runtime's threads: on a
/// single-threaded runtime, a ticker keeps ticking while they take 300 ms.
#[tokio::test(flavor = "current_thread")]
async fn journal_io_does_not_block_the_runtime() {
    let fx = Fixture::new();
    crate::journal::SLOW_DIRS
        .lock()
        .unwrap()
        .push(fx.dir.path().to_path_buf());
    let ticks = AtomicU64::new(0);
    let ticker = async {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            ticks.fetch_add(1, Ordering::SeqCst);
        }
    };
    let work = async {
        let (journal, _lock) = fx.start().await;
        fx.dir.remove_async(&journal.id).await.unwrap();
    };
    tokio::select! {
        () = work => {},
        () = ticker => unreachable!(),
    }
    let ticked = ticks.load(Ordering::SeqCst);
    assert!(
        ticked >= 20,
        "the runtime stood still: {ticked} ticks in 600 ms"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lost_create_answer_leaves_no_second_upload() {
    let fx = Fixture::new();
    fx.store.lose_answer(Op::CreateUpload, 1);
    let started = session::start(
        &*fx.store,
        &fx.dir,
        fx.new_upload(),
        &Retry::fail_fast(3),
        &Cancel::new().1,
    )
    .await
    .unwrap();
    assert_eq!(fx.store.calls(Op::CreateUpload), 2);
    assert_eq!(
        fx.memory().open_uploads(),
        vec![started.journal.upload_id.clone()],
        "the first attempt's upload was aborted"
    );
    assert_eq!(started.sweep.aborted.len(), 1);
    assert!(!started.sweep.needs_telling());
}

#[tokio::test(start_paused = true)]
async fn the_sweep_never_touches_an_upload_another_client_may_own() {
    let opts = ObjectOptions::default();
    // Another client's upload to the same key, with a part: left alone.
    let fx = Fixture::new();
    let theirs = fx
        .store
        .create_upload("bkt", "dir/file.bin", &opts)
        .await
        .unwrap();
    let body = crate::store::FileRange {
        file: fx.file.clone().into(),
        offset: 0,
        len: PART,
        meter: None,
    };
    let sums = crate::engine::hash::hash(
        fx.file.clone().into(),
        fx.plan.part(1).unwrap(),
        false,
        None,
    )
    .await
    .unwrap();
    fx.store.upload_part(&theirs, 1, body, sums).await.unwrap();
    fx.store.lose_answer(Op::CreateUpload, 2);
    let started = session::start(
        &*fx.store,
        &fx.dir,
        fx.new_upload(),
        &Retry::fail_fast(3),
        &Cancel::new().1,
    )
    .await
    .unwrap();
    let open = fx.memory().open_uploads();
    assert!(open.contains(&theirs.upload_id), "{open:?}");
    assert!(open.contains(&started.journal.upload_id));
    assert_eq!(open.len(), 2, "the lost attempt's upload was aborted");

    // Two lost answers, then a failure: both uploads are this run's.
    let fx = Fixture::new();
    fx.store.lose_answer(Op::CreateUpload, 1);
    fx.store.lose_answer(Op::CreateUpload, 2);
    fx.store.fail(Op::CreateUpload, 3..=3, ErrorKind::Fatal);
    let result = session::start(
        &*fx.store,
        &fx.dir,
        fx.new_upload(),
        &Retry::fail_fast(3),
        &Cancel::new().1,
    )
    .await;
    assert!(matches!(result, Err(Error::Store { .. })), "{result:?}");
    assert!(fx.memory().open_uploads().is_empty());

    // Another client's fresh upload (no part yet) next to the lost one: two
    // candidates for one lost answer, so neither is touched, and both are named.
    let fx = Fixture::new();
    let _theirs = fx
        .store
        .create_upload("bkt", "dir/file.bin", &opts)
        .await
        .unwrap();
    fx.store.lose_answer(Op::CreateUpload, 2);
    let started = session::start(
        &*fx.store,
        &fx.dir,
        fx.new_upload(),
        &Retry::fail_fast(3),
        &Cancel::new().1,
    )
    .await
    .unwrap();
    assert_eq!(started.sweep.left.len(), 2, "{:?}", started.sweep);
    assert!(started.sweep.needs_telling());
    assert_eq!(fx.memory().open_uploads().len(), 3, "nothing was aborted");
}
