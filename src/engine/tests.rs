//! The engine's policies, on the in-memory store: each test runs in
//! milliseconds (timers are paused, so backoff costs nothing) and fails when
//! the policy it names is broken.

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::complete::composite_sha256;
use super::parts::{run_multipart, Completed, Run};
use super::reconcile::{reconcile, Reconciled};
use super::session::{self, NewUpload};
use super::verify::Expect;
use super::{abort, Cancel, Dest, Error, Progress};
use crate::journal::{Journal, JournalDir, Lock, PartRecord, Source};
use crate::plan::{Part, Plan};
use crate::store::memory::{Gate, MemoryStore, Op};
use crate::store::{b64, Connection, ErrorKind, ObjectOptions, Store};

/// Parts in the test file, and their size (the last is shorter).
const PARTS: u64 = 6;
const PART: u64 = 64 * 1024;

/// Counts what the engine reports.
#[derive(Default)]
struct Counted {
    /// Sent, including what was acknowledged or reused.
    bytes: AtomicU64,
    /// Acknowledged or reused.
    acked: AtomicU64,
    parts: AtomicU64,
}

impl Progress for Counted {
    fn begin(&self, _total: u64, done: u64, _parts_total: u64, parts_done: u64) {
        self.bytes.store(done, Ordering::SeqCst);
        self.acked.store(done, Ordering::SeqCst);
        self.parts.store(parts_done, Ordering::SeqCst);
    }
    fn advance(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
    }
    fn retreat(&self, bytes: u64) {
        self.bytes.fetch_sub(bytes, Ordering::SeqCst);
    }
    fn part_done(&self, bytes: u64) {
        self.acked.fetch_add(bytes, Ordering::SeqCst);
        self.parts.fetch_add(1, Ordering::SeqCst);
    }
    fn part_reused(&self, bytes: u64) {
        self.bytes.fetch_add(bytes, Ordering::SeqCst);
        self.acked.fetch_add(bytes, Ordering::SeqCst);
        self.parts.fetch_add(1, Ordering::SeqCst);
    }
    fn end(&self) {}
}

/// A source file, a journal directory and a store.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: JournalDir,
    path: PathBuf,
    file: Arc<File>,
    source: Source,
    plan: Plan,
    store: Arc<MemoryStore>,
    progress: Arc<Counted>,
    if_none_match: bool,
}

fn dest() -> Dest {
    Dest {
        bucket: "bkt".into(),
        key: "dir/file.bin".into(),
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_store(MemoryStore::new())
    }

    fn with_store(store: Arc<MemoryStore>) -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("file.bin");
        let size = PART * PARTS - 1000;
        let bytes: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, bytes).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().join("journal"))).unwrap();
        dir.create().unwrap();
        Fixture {
            dir,
            file: Arc::new(File::open(&path).unwrap()),
            source: Source::of(&path, &meta),
            path,
            plan: Plan::new(size, PART).unwrap(),
            store,
            progress: Arc::default(),
            if_none_match: false,
            _tmp: tmp,
        }
    }

    async fn start(&self) -> (Journal, Lock) {
        let new = NewUpload {
            dest: dest(),
            object: ObjectOptions {
                if_none_match: self.if_none_match,
                ..ObjectOptions::default()
            },
            connection: Connection::default(),
            source: self.source.clone(),
            plan: self.plan,
        };
        let started = session::start(&*self.store, &self.dir, new, 3, &Cancel::new().1)
            .await
            .unwrap();
        (started.journal, started.lock)
    }

    fn run(&self, attempts: u32, concurrency: u32, cancel: Cancel) -> Run<MemoryStore> {
        Run {
            store: self.store.clone(),
            dir: self.dir.clone(),
            file: self.file.clone(),
            plan: self.plan,
            concurrency,
            attempts,
            progress: self.progress.clone(),
            cancel,
            stop_before_complete: false,
            at_recorded_endpoint: true,
        }
    }

    fn all(&self) -> Vec<Part> {
        self.plan.parts().collect()
    }

    /// Starts an upload and sends every part, one at a time.
    async fn put(&self, attempts: u32) -> (String, Result<Completed, Error>) {
        let (journal, lock) = self.start().await;
        let id = journal.id.clone();
        let run = self.run(attempts, 1, Cancel::new().1);
        (
            id,
            run_multipart(&run, journal, lock, self.all(), Vec::new()).await,
        )
    }

    /// Starts an upload and raises Ctrl-C once a call arrives at `held`.
    async fn interrupted_at(
        &self,
        held: Arc<Gate>,
        concurrency: u32,
    ) -> (String, Result<Completed, Error>) {
        let (journal, lock) = self.start().await;
        let id = journal.id.clone();
        let (raise, cancel) = Cancel::new();
        let run = self.run(3, concurrency, cancel);
        let running = run_multipart(&run, journal, lock, self.all(), Vec::new());
        let ctrl_c = async {
            held.arrived().await;
            raise.send(true).unwrap();
        };
        let (result, ()) = tokio::join!(running, ctrl_c);
        (id, result)
    }

    /// The part numbers the journal on disk holds.
    fn journalled(&self, id: &str) -> Vec<u32> {
        self.journal(id).parts.iter().map(|p| p.number).collect()
    }

    fn journal(&self, id: &str) -> Journal {
        JournalDir::load_path(&self.dir.journal_path(id)).expect("the journal is kept")
    }

    fn has_journal(&self, id: &str) -> bool {
        self.dir.journal_path(id).exists()
    }

    /// Drops parts from the journal on disk, as a SIGKILL between journal
    /// saves does.
    fn forget(&self, id: &str, numbers: &[u32]) {
        let mut journal = self.journal(id);
        journal.parts.retain(|p| !numbers.contains(&p.number));
        self.dir.save(&journal).unwrap();
    }

    /// Flips one byte of the file in place and puts its mtime back, as
    /// `cp -p`, `rsync -t` or `tar x` would leave it: size and mtime say
    /// nothing changed.
    fn flip_byte(&self, at: u64) {
        use std::os::unix::fs::FileExt;
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.path)
            .unwrap();
        let mtime = f.metadata().unwrap().modified().unwrap();
        let mut b = [0u8];
        f.read_exact_at(&mut b, at).unwrap();
        f.write_all_at(&[!b[0]], at).unwrap();
        f.set_modified(mtime).unwrap();
        let meta = std::fs::metadata(&self.path).unwrap();
        assert_eq!(Source::of(&self.path, &meta), self.source);
    }

    /// The composite SHA-256 of the file as it is now: what a completed
    /// object of exactly its bytes reports.
    fn file_checksum(&self) -> String {
        let parts: Vec<PartRecord> = self
            .plan
            .parts()
            .map(|p| PartRecord {
                number: p.number,
                size: p.len,
                etag: String::new(),
                sha256: b64(&part_sha(&self.file, p)),
            })
            .collect();
        composite_sha256(&parts).unwrap()
    }

    /// The checksum of the object the store completed.
    fn object_checksum(&self) -> Option<String> {
        self.store
            .object("bkt", "dir/file.bin")
            .and_then(|o| o.checksum_sha256)
    }

    /// Leaves upload `id` with every part on the store and in the journal,
    /// Complete having failed `attempts` times.
    async fn put_all_but_complete(&self) -> String {
        self.store
            .fail(Op::CompleteUpload, 1..=3, ErrorKind::Retryable);
        let (id, result) = self.put(3).await;
        assert_eq!(stopped_kind(&result), Some(ErrorKind::Retryable));
        assert_eq!(self.journalled(&id), (1..=PARTS as u32).collect::<Vec<_>>());
        id
    }

    /// `s3up resume`: reconcile, then send what is left and complete.
    async fn resume(&self, id: &str, verify: bool) -> Result<Completed, Error> {
        let journal = self.journal(id);
        let (_, cancel) = Cancel::new();
        let reconciled = reconcile(
            &*self.store,
            &self.dir,
            journal,
            &self.plan,
            verify,
            3,
            &cancel,
            true,
        )
        .await?;
        let Reconciled::Ready {
            journal,
            todo,
            candidates,
        } = reconciled
        else {
            panic!("the upload is open");
        };
        let lock = self.dir.lock(id).unwrap();
        let run = self.run(3, 2, Cancel::new().1);
        run_multipart(&run, *journal, lock, todo, candidates).await
    }

    /// UploadPart calls since `before` (a count of earlier calls), sorted.
    fn parts_sent_since(&self, before: usize) -> Vec<u32> {
        let mut sent = self.store.part_calls()[before..].to_vec();
        sent.sort();
        sent
    }
}

/// A part's SHA-256, read straight from the file.
fn part_sha(file: &File, part: Part) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; part.len as usize];
    file.read_exact_at(&mut buf, part.offset).unwrap();
    Sha256::digest(&buf).into()
}

fn stopped_kind(r: &Result<Completed, Error>) -> Option<ErrorKind> {
    match r {
        Err(Error::Stopped { error, .. }) => Some(error.kind),
        _ => None,
    }
}

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
            fx.store
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
        assert_eq!(fx.store.open_uploads().len(), 1, "the upload stays open");
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
        fx.store.open_uploads().len(),
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
    assert!(fx.store.object("bkt", "dir/file.bin").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_lost_complete_answer_is_recognised() {
    for if_none_match in [false, true] {
        let mut fx = Fixture::new();
        fx.if_none_match = if_none_match;
        fx.store.lose_answer(Op::CompleteUpload, 1);
        let (id, result) = fx.put(3).await;
        let done = result.unwrap_or_else(|e| panic!("if_none_match {if_none_match}: {e:?}"));
        assert_eq!(fx.store.calls(Op::CompleteUpload), 2);
        assert_eq!(
            fx.store.calls(Op::CompletedObject),
            1,
            "the store was asked"
        );
        assert_eq!(
            done.finished.checksum_sha256,
            fx.store
                .object("bkt", "dir/file.bin")
                .unwrap()
                .checksum_sha256
        );
        assert!(!fx.has_journal(&id));
    }
}

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
        fx.store.abort_behind(&upload_id);
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
    let stored = fx.store.stored_parts(&journal.upload_id).unwrap();
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
    };
    let result = session::start(&*fx.store, &dir, new, 3, &Cancel::new().1).await;
    assert!(
        matches!(result, Err(Error::JournalStart { .. })),
        "{result:?}"
    );
    assert_eq!(fx.store.calls(Op::CreateUpload), 1);
    assert!(fx.store.open_uploads().is_empty(), "no orphan is left");
}

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
            &*fx.store, &fx.dir, journal, &fx.plan, verify, 3, &cancel, true,
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
        &*fx.store, &fx.dir, journal, &fx.plan, false, 3, &cancel, true,
    )
    .await
    .unwrap();
    assert!(
        matches!(reconciled, Reconciled::AlreadyCompleted(_)),
        "{reconciled:?}"
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
    assert!(fx.store.open_uploads().is_empty());
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
        fx.store.abort_behind(&upload_id);
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
        matches!(&result, Err(Error::Gone { kept: Some(k), .. }) if matches!(**k, super::Unconfirmed::OtherEndpoint)),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
    // Resume's reconciliation keeps it too.
    let (_, cancel) = Cancel::new();
    let journal = fx.journal(&id);
    let result = reconcile(
        &*fx.store, &fx.dir, journal, &fx.plan, false, 3, &cancel, false,
    )
    .await;
    assert!(
        matches!(&result, Err(Error::GoneAtResume { kept: Some(k), .. }) if matches!(**k, super::Unconfirmed::OtherEndpoint)),
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
        matches!(&result, Err(Error::Gone { kept: Some(k), .. }) if matches!(**k, super::Unconfirmed::CannotList(_))),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
}

#[tokio::test(start_paused = true)]
async fn a_lost_complete_answer_survives_a_failing_check() {
    // The check after a lost answer is retried like any call.
    let mut fx = Fixture::new();
    fx.if_none_match = true;
    fx.store.lose_answer(Op::CompleteUpload, 1);
    fx.store
        .fail(Op::CompletedObject, 1..=1, ErrorKind::Retryable);
    let (id, result) = fx.put(3).await;
    result.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!fx.has_journal(&id));

    // A check the store refuses (a role that may write but not read) keeps
    // the journal: the object may well be ours.
    let mut fx = Fixture::new();
    fx.if_none_match = true;
    fx.store.lose_answer(Op::CompleteUpload, 1);
    fx.store
        .fail(Op::CompletedObject, 1..=99, ErrorKind::AccessDenied);
    let (id, result) = fx.put(3).await;
    assert!(
        matches!(result, Err(Error::Undetermined { .. })),
        "{result:?}"
    );
    assert!(fx.has_journal(&id), "the journal is kept");
}

#[test]
fn only_the_parts_own_multipart_etag_is_taken_for_ours() {
    use super::complete::{is_our_object, multipart_etag, Verdict};
    use crate::journal::PartRecord;
    use crate::store::ObjectInfo;
    let part = |n: u32, etag: &str| PartRecord {
        number: n,
        size: 10,
        etag: format!("\"{etag}\""),
        sha256: "not-base64!".into(),
    };
    let mut journal = crate::journal::tests::sample(vec![
        part(1, "0123456789abcdef0123456789abcdef"),
        part(2, "fedcba9876543210fedcba9876543210"),
    ]);
    journal.source.size = 20;
    let want = multipart_etag(&journal.parts).unwrap();
    assert!(want.ends_with("-2"));
    let object = |etag: &str| ObjectInfo {
        size: 20,
        etag: Some(format!("\"{etag}\"")),
        checksum_sha256: None,
    };
    assert_eq!(is_our_object(&object(&want), &journal), Verdict::Ours);
    // Same size, same part count, another upload's ETag: not ours.
    assert_eq!(
        is_our_object(&object("99999999999999999999999999999999-2"), &journal),
        Verdict::NotOurs
    );
    // Part ETags that are not MD5s (SSE-KMS): nothing to compare.
    journal.parts[0].etag = "\"kms-etag\"".into();
    assert_eq!(is_our_object(&object(&want), &journal), Verdict::CannotTell);
}

#[tokio::test(start_paused = true)]
async fn a_lost_put_answer_is_recognised() {
    let fx = Fixture::new();
    let small = fx.plan.part(1).unwrap();
    let opts = ObjectOptions {
        if_none_match: true,
        ..ObjectOptions::default()
    };
    fx.store.lose_answer(Op::PutObject, 1);
    let progress: Arc<dyn Progress> = fx.progress.clone();
    let finished = super::single::put_single(
        &*fx.store,
        &fx.file,
        &fx.path,
        small,
        &dest(),
        &opts,
        3,
        &progress,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(fx.store.calls(Op::PutObject), 2);
    assert_eq!(
        finished.checksum_sha256,
        fx.store
            .object("bkt", "dir/file.bin")
            .unwrap()
            .checksum_sha256
    );
    // Another object in the way is still refused: the first attempt fails
    // without effect, and the second finds the key taken by other bytes.
    let other = Fixture::new();
    let at = dest();
    let plain = ObjectOptions::default();
    let part2 = other.plan.part(2).unwrap();
    super::single::put_single(
        &*other.store,
        &other.file,
        &other.path,
        part2,
        &at,
        &plain,
        3,
        &progress,
    )
    .await
    .unwrap();
    other.store.fail(Op::PutObject, 2..=2, ErrorKind::Retryable);
    let refused = super::single::put_single(
        &*other.store,
        &other.file,
        &other.path,
        small,
        &at,
        &opts,
        3,
        &progress,
    )
    .await;
    assert!(matches!(refused, Err(Error::Exists { .. })), "{refused:?}");
    assert_eq!(other.store.calls(Op::PutObject), 3);
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

impl Fixture {
    fn new_upload(&self) -> NewUpload {
        NewUpload {
            dest: dest(),
            object: ObjectOptions::default(),
            connection: Connection::default(),
            source: self.source.clone(),
            plan: self.plan,
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_lost_create_answer_leaves_no_second_upload() {
    let fx = Fixture::new();
    fx.store.lose_answer(Op::CreateUpload, 1);
    let started = session::start(&*fx.store, &fx.dir, fx.new_upload(), 3, &Cancel::new().1)
        .await
        .unwrap();
    assert_eq!(fx.store.calls(Op::CreateUpload), 2);
    assert_eq!(
        fx.store.open_uploads(),
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
        file: fx.file.clone(),
        offset: 0,
        len: PART,
        meter: None,
    };
    let sums = super::parts::hash(fx.file.clone(), fx.plan.part(1).unwrap(), false)
        .await
        .unwrap();
    fx.store.upload_part(&theirs, 1, body, sums).await.unwrap();
    fx.store.lose_answer(Op::CreateUpload, 2);
    let started = session::start(&*fx.store, &fx.dir, fx.new_upload(), 3, &Cancel::new().1)
        .await
        .unwrap();
    let open = fx.store.open_uploads();
    assert!(open.contains(&theirs.upload_id), "{open:?}");
    assert!(open.contains(&started.journal.upload_id));
    assert_eq!(open.len(), 2, "the lost attempt's upload was aborted");

    // Two lost answers, then a failure: both uploads are this run's.
    let fx = Fixture::new();
    fx.store.lose_answer(Op::CreateUpload, 1);
    fx.store.lose_answer(Op::CreateUpload, 2);
    fx.store.fail(Op::CreateUpload, 3..=3, ErrorKind::Fatal);
    let result = session::start(&*fx.store, &fx.dir, fx.new_upload(), 3, &Cancel::new().1).await;
    assert!(matches!(result, Err(Error::Store { .. })), "{result:?}");
    assert!(fx.store.open_uploads().is_empty());

    // Another client's fresh upload (no part yet) next to the lost one: two
    // candidates for one lost answer, so neither is touched, and both are named.
    let fx = Fixture::new();
    let _theirs = fx
        .store
        .create_upload("bkt", "dir/file.bin", &opts)
        .await
        .unwrap();
    fx.store.lose_answer(Op::CreateUpload, 2);
    let started = session::start(&*fx.store, &fx.dir, fx.new_upload(), 3, &Cancel::new().1)
        .await
        .unwrap();
    assert_eq!(started.sweep.left.len(), 2, "{:?}", started.sweep);
    assert!(started.sweep.needs_telling());
    assert_eq!(fx.store.open_uploads().len(), 3, "nothing was aborted");
}

#[tokio::test(start_paused = true)]
async fn ctrl_c_during_create_leaves_nothing_unrecorded() {
    let fx = Fixture::new();
    let held = fx.store.hold(Op::CreateUpload, 1);
    let (raise, cancel) = Cancel::new();
    let starting = session::start(&*fx.store, &fx.dir, fx.new_upload(), 3, &cancel);
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
    assert!(fx.store.open_uploads().is_empty());
}

// Issue 9, item 11: a part already on the store whose bytes changed in the
// file (same size, mtime put back) is found by the re-hash that resume does
// by default, and sent again before Complete: the object is the file as it
// is now, never old bytes next to new ones.
#[tokio::test(start_paused = true)]
async fn resume_resends_a_part_whose_bytes_changed_since_it_was_uploaded() {
    let fx = Fixture::new();
    fx.store.fail_part(4, 1..=1, ErrorKind::Fatal);
    let (id, result) = fx.put(1).await;
    assert!(result.is_err());
    assert_eq!(fx.journalled(&id), vec![1, 2, 3]);
    fx.flip_byte(PART + 10); // inside part 2
    let before = fx.store.part_calls().len();
    let done = fx.resume(&id, true).await.expect("resume completes");
    assert_eq!(fx.parts_sent_since(before), vec![2, 4, 5, 6]);
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
    assert_eq!(done.finished.checksum_sha256, Some(fx.file_checksum()));
    assert_eq!(
        fx.progress.bytes.load(Ordering::SeqCst),
        fx.plan.size,
        "verified parts are counted once, the resent one once"
    );
    assert_eq!(fx.progress.acked.load(Ordering::SeqCst), fx.plan.size);
    assert!(!fx.has_journal(&id));
}

/// Issue 9, item 12: parts the store holds that the journal lost (a SIGKILL
/// between batched saves) are verified against the file and adopted, not
/// sent again; one whose bytes differ is sent again.
async fn lost_parts_are_adopted_when_they_match(fx: Fixture) {
    let id = fx.put_all_but_complete().await;
    let upload_id = fx.journal(&id).upload_id;
    let stored_before = fx.store.stored_parts(&upload_id).unwrap();
    fx.forget(&id, &[2, 3, 5]);
    fx.flip_byte(4 * PART + 7); // inside part 5
                                // This resume's Complete fails too, so the journal it leaves can be read.
    fx.store
        .fail(Op::CompleteUpload, 4..=6, ErrorKind::Retryable);
    let before = fx.store.part_calls().len();
    let result = fx.resume(&id, true).await;
    assert_eq!(
        stopped_kind(&result),
        Some(ErrorKind::Retryable),
        "{result:?}"
    );
    assert_eq!(fx.parts_sent_since(before), vec![5], "2 and 3 were adopted");
    let journal = fx.journal(&id);
    assert_eq!(journal.parts.len(), PARTS as usize);
    for n in [2, 3] {
        let record = &journal.parts[n as usize - 1];
        assert_eq!(record.etag, stored_before[n as usize - 1].1, "part {n}");
        let part = fx.plan.part(n).unwrap();
        assert_eq!(record.sha256, b64(&part_sha(&fx.file, part)), "part {n}");
    }

    let before = fx.store.part_calls().len();
    fx.resume(&id, true).await.expect("resume completes");
    assert_eq!(fx.parts_sent_since(before), Vec::<u32>::new());
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
}

#[tokio::test(start_paused = true)]
async fn lost_parts_are_adopted_by_their_listed_sha256() {
    lost_parts_are_adopted_when_they_match(Fixture::new()).await;
}

#[tokio::test(start_paused = true)]
async fn lost_parts_are_adopted_by_their_md5_etag() {
    lost_parts_are_adopted_when_they_match(Fixture::with_store(MemoryStore::like_moto())).await;
}

// With the opt-out, a journalled part is trusted without being read again
// (so a byte changed in it goes unseen: the risk the README states), but a
// part the journal lost is still verified before it is adopted.
#[tokio::test(start_paused = true)]
async fn without_verification_journalled_parts_are_trusted_and_lost_ones_still_checked() {
    let fx = Fixture::new();
    let id = fx.put_all_but_complete().await;
    let sent_first = fx.file_checksum();
    fx.forget(&id, &[2, 3]);
    fx.flip_byte(5); // inside part 1, which the journal holds
    fx.flip_byte(2 * PART + 5); // inside part 3, which it lost
    let before = fx.store.part_calls().len();
    fx.resume(&id, false).await.expect("resume completes");
    assert_eq!(
        fx.parts_sent_since(before),
        vec![3],
        "part 1 trusted, part 2 adopted, part 3 sent again"
    );
    let object = fx.object_checksum();
    assert_ne!(object, Some(fx.file_checksum()), "part 1 was not re-read");
    assert_ne!(object, Some(sent_first));
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
        &*fx.store, &fx.dir, journal, &fx.plan, true, 3, &cancel, true,
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
    assert_eq!(fx.store.open_uploads().len(), 1);
}

// The check runs while parts are sent, not before them, and what it finds
// goes to the same workers: with the resume's first part held at the store,
// part 2 (changed in the file) is found, queued and sent again meanwhile.
#[tokio::test(start_paused = true)]
async fn a_changed_part_is_found_and_resent_while_parts_are_in_flight() {
    let fx = Fixture::new();
    fx.store.fail_part(4, 1..=1, ErrorKind::Fatal);
    let (id, result) = fx.put(1).await;
    assert!(result.is_err());
    fx.flip_byte(PART + 3); // inside part 2
    let before = fx.store.part_calls().len();
    let held = fx.store.hold(Op::UploadPart, before as u32 + 1);
    let resuming = fx.resume(&id, true);
    tokio::pin!(resuming);
    let wait = async {
        held.arrived().await;
        // Hashes run on real threads: wait in real time, not in the test's
        // paused time.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !fx.store.part_calls()[before..].contains(&2) {
            assert!(
                std::time::Instant::now() < deadline,
                "part 2 not resent while a part was in flight: {:?}",
                fx.store.part_calls()
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
            tokio::task::yield_now().await;
        }
    };
    tokio::select! {
        () = wait => {}
        result = &mut resuming => panic!("resume ended with a part held: {result:?}"),
    }
    held.release();
    resuming.await.expect("resume completes");
    assert_eq!(fx.parts_sent_since(before), vec![2, 4, 5, 6]);
    assert_eq!(fx.object_checksum(), Some(fx.file_checksum()));
}

// Issue 11: each part is announced to the store, with its own SHA-256, once
// hashed and before it is sent, so a store that signs URLs can sign them while
// earlier parts are on the wire; but never more than `concurrency` parts
// beyond those in flight, so signed URLs stay young.
#[tokio::test(start_paused = true)]
async fn parts_are_announced_ahead_of_sending_but_not_too_far() {
    let fx = Fixture::new();
    let held = fx.store.hold_part(1);
    let (journal, lock) = fx.start().await;
    let run = fx.run(3, 1, Cancel::new().1);
    let sending = run_multipart(&run, journal, lock, fx.all(), Vec::new());
    let ahead = async {
        held.arrived().await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !fx.store.announced().iter().any(|a| a.0 == 2) {
            assert!(
                std::time::Instant::now() < deadline,
                "part 2 was not announced while part 1 was being sent: {:?}",
                fx.store.announced()
            );
            tokio::task::yield_now().await;
        }
        held.release();
    };
    let (result, ()) = tokio::join!(sending, ahead);
    result.unwrap();
    let announced = fx.store.announced();
    // Hashes may finish out of order.
    let mut numbers: Vec<u32> = announced.iter().map(|a| a.0).collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=PARTS as u32).collect::<Vec<_>>());
    for (n, sha, stored) in announced {
        let part = fx.plan.part(n).unwrap();
        assert_eq!(sha, part_sha(&fx.file, part), "part {n}'s checksum");
        // Concurrency 1: part n - 1 may be in flight, and part n one ahead.
        assert!(
            stored + 2 >= n,
            "part {n} announced with only {stored} parts stored"
        );
    }
    let two = fx.store.announced().into_iter().find(|a| a.0 == 2).unwrap();
    assert_eq!(two.2, 0, "part 2 announced before part 1 was stored");
}

// A store that sends each part's MD5 (Companion's Content-MD5) gets it from
// the engine's hash pass, right for every part; others are not sent one.
#[tokio::test(start_paused = true)]
async fn the_md5_comes_from_the_hash_pass_when_the_store_wants_it() {
    let fx = Fixture::with_store(MemoryStore::wanting_md5());
    let (id, result) = fx.put(3).await;
    result.unwrap_or_else(|e| panic!("{e:?}"));
    assert!(!fx.has_journal(&id));
    assert_eq!(
        fx.store.calls(Op::UploadPart),
        PARTS as u32,
        "no part was refused"
    );
}
