//! The engine's policies, on the in-memory store wrapped in fault
//! injection: each test runs in milliseconds (timers are paused, so backoff
//! costs nothing) and fails when the policy it names is broken.
//!
//! This module holds the shared fixture (a source file, a journal directory,
//! a [`Faulty`] [`MemoryStore`]); each child holds the tests of one policy:
//! - `retries`: what is retried, how often, and what stops a run;
//! - `cancel`: Ctrl-C at each stage keeps what it must;
//! - `complete`: Complete, and recognising a lost Complete answer;
//! - `gone`: an upload that vanished, and abort;
//! - `starting`: starting an upload, lost Create answers, the sweep;
//! - `single`: a file that fits in one PutObject;
//! - `resume`: reconciling a journal with the store;
//! - `verify`: checking the parts a resume reuses against the file;
//! - `hashing`: hashing and announcing parts ahead of sending them;
//! - `offline`: a store that gives no answer is waited for, not retried;
//! - `tree`: many files at once: bounded, failing alone, stopped resumable;
//! - `concurrency`: an adaptive number of parts in flight;
//! - `stream`: standard input: growing parts, resumed by the same stream.

mod cancel;
mod complete;
mod concurrency;
mod gone;
mod hashing;
mod offline;
mod resume;
mod retries;
mod single;
mod starting;
mod stream;
mod tree;
mod verify;

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::complete::composite_sha256;
use super::reconcile::{reconcile, Reconciled};
use super::retry::Retry;
use super::session::{self, NewUpload};
use super::verify::Expect;
use super::{abort, run_multipart, Cancel, Completed, Error, Progress, Run};
use crate::journal::{Journal, JournalDir, Lock, PartRecord, Source};
use crate::plan::{Part, Plan};
use crate::s3::Location;
use crate::store::faulty::{Faulty, Gate, Op};
use crate::store::memory::MemoryStore;
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
    /// What the link reported, in order.
    statuses: std::sync::Mutex<Vec<super::Status>>,
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
    fn status(&self, status: &super::Status) {
        self.statuses.lock().unwrap().push(status.clone());
    }
}

/// A source file, a journal directory and a store.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: JournalDir,
    path: PathBuf,
    file: Arc<File>,
    source: Source,
    plan: Plan,
    store: Arc<Faulty<MemoryStore>>,
    progress: Arc<Counted>,
    if_none_match: bool,
}

fn dest() -> Location {
    Location {
        bucket: "bkt".into(),
        key: "dir/file.bin".into(),
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture::with_store(MemoryStore::new())
    }

    fn with_store(store: MemoryStore) -> Fixture {
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
            store: Arc::new(Faulty::new(store)),
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
            session: None,
        };
        let started = session::start(
            &*self.store,
            &self.dir,
            new,
            &Retry::fail_fast(3),
            &Cancel::new().1,
        )
        .await
        .unwrap();
        (started.journal, started.lock)
    }

    /// The store inside the fault injection, to look at what the calls did.
    fn memory(&self) -> &MemoryStore {
        self.store.inner()
    }

    fn run(&self, attempts: u32, concurrency: u32, cancel: Cancel) -> Run<Faulty<MemoryStore>> {
        Run {
            store: self.store.clone(),
            dir: self.dir.clone(),
            file: self.file.clone(),
            plan: self.plan,
            concurrency: super::Concurrency::Fixed(concurrency),
            retry: Retry::fail_fast(attempts),
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
                checksum: None,
            })
            .collect();
        composite_sha256(&parts).unwrap()
    }

    /// The checksum of the object the store completed.
    fn object_checksum(&self) -> Option<String> {
        self.memory()
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
            &Retry::fail_fast(3),
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

impl Fixture {
    fn new_upload(&self) -> NewUpload {
        NewUpload {
            dest: dest(),
            object: ObjectOptions::default(),
            connection: Connection::default(),
            source: self.source.clone(),
            plan: self.plan,
            session: None,
        }
    }
}
