//! Many files at once: the scheduler of a tree upload, above the one-file
//! machinery ([`super::single`], [`super::session`], [`super::reconcile`],
//! [`super::run`]).
//!
//! Two pools bound what is in flight, and so memory, open files, journals
//! and connections, however many files the tree holds:
//! - a file small enough for one PutObject takes one of `small_files`
//!   permits for its request (its body streams from the file, so it costs a
//!   connection and a read buffer, not a part);
//! - a file sent in parts takes as many of the `concurrency` part permits as
//!   it sends parts at once, for its whole run: a share of the pool while
//!   other large files wait (a quarter at least), all of it for the last one,
//!   and never more than its parts left. Large files share the one pool of
//!   parts, and only as many have a journal open as the pool allows.
//!
//! A file is opened, and its journal created or locked, only once it holds
//! its permits: a tree of 10,000 files never has more than
//! `small_files + concurrency` of them open. Files go in the order given
//! (the caller puts the unfinished uploads first), and the permits are
//! taken in that order too, so a large file is not starved by small ones.
//!
//! A file that fails is reported with its outcome; the others go on. Ctrl-C
//! stops starting files, and every file in flight stops as a single file's
//! run does: parts journalled, the upload left open and resumable, a
//! PutObject dropped (an object exists only once its whole body went up).
//! Each finished file is handed to the session's writer, so the same
//! command skips it next time.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::abort::until_gone;
use super::context::Run;
use super::reconcile::{self, Reconciled};
use super::retry::Retry;
use super::run::run_multipart;
use super::session::{self, NewUpload};
use super::single::put_single;
use super::{Cancel, Error, PartStats, Progress, Status};
use crate::journal::session::{DoneFile, DoneSender};
use crate::journal::{Journal, JournalDir, Source};
use crate::plan::Plan;
use crate::s3::Location;
use crate::store::{Connection, Finished, ObjectOptions, Store};

/// What every file of a tree shares.
pub struct Tree<S: Store> {
    pub store: Arc<S>,
    pub dir: JournalDir,
    pub retry: Retry,
    /// The tree's display: byte counts of every file, and [`Progress::files`].
    pub progress: Arc<dyn Progress>,
    pub cancel: Cancel,
    /// Parts in flight, all files together.
    pub concurrency: u32,
    /// Files sent with one request each, in flight at once.
    pub small_files: u32,
    /// The part size asked for (a file that needs more than 10,000 parts
    /// gets larger ones, as a single file does).
    pub part_size: u64,
    pub connection: Connection,
    /// The session's ID, recorded in each file's journal.
    pub session: String,
    /// Whether a file of one part may go up with one PutObject; through a
    /// backend only an empty file can.
    pub single_put: bool,
    /// Re-read the parts a resumed file's journal names (`--no-verify`: false).
    pub verify: bool,
}

/// One file to send.
#[derive(Debug, Clone)]
pub struct TreeFile {
    /// Its path under the prefix.
    pub rel: String,
    /// As the walk found it (absolute path, size, mtime).
    pub source: Source,
    pub dest: Location,
    pub object: ObjectOptions,
    /// The unfinished upload of this file that the session started, if any.
    pub journal: Option<Journal>,
}

/// A file sent.
#[derive(Debug)]
pub struct FileSent {
    pub finished: Finished,
    /// Where the object is (through a backend, the key it chose).
    pub dest: Location,
    pub size: u64,
    /// Bytes this run sent for it.
    pub sent: u64,
    pub parts: u64,
    pub upload_id: Option<String>,
}

/// What became of a tree's files: by their index in the list given, those
/// that were started; the others were not, because of Ctrl-C.
#[derive(Debug, Default)]
pub struct TreeOutcome {
    pub results: Vec<(usize, Result<FileSent, Error>)>,
}

/// The shared context of the files' tasks.
struct Shared<S: Store> {
    tree: Tree<S>,
    done: DoneSender,
    files_done: AtomicU64,
    in_flight: AtomicU64,
    /// Files sent in parts that have not finished yet.
    large_unfinished: AtomicU64,
    files_total: u64,
}

impl<S: Store> Shared<S> {
    fn show_files(&self) {
        self.tree.progress.files(
            self.files_done.load(Ordering::SeqCst),
            self.files_total,
            self.in_flight.load(Ordering::SeqCst),
        );
    }
}

/// Sends `files`, at most as many at once as the pools allow; each one
/// finished goes to `done`. `already` is (files, bytes) the session holds
/// from earlier runs, for the display.
pub async fn send_tree<S: Store>(
    tree: Tree<S>,
    files: Vec<TreeFile>,
    already: (u64, u64),
    done: DoneSender,
) -> TreeOutcome {
    let bytes: u64 = files.iter().map(|f| f.source.size).sum();
    tree.progress.begin(bytes + already.1, already.1, 0, 0);
    let parts = Arc::new(Semaphore::new(tree.concurrency.max(1) as usize));
    let small = Arc::new(Semaphore::new(tree.small_files.max(1) as usize));
    let cancel = tree.cancel.clone();
    let shared = Arc::new(Shared {
        files_total: files.len() as u64 + already.0,
        files_done: AtomicU64::new(already.0),
        in_flight: AtomicU64::new(0),
        large_unfinished: AtomicU64::new(0),
        done,
        tree,
    });
    shared.show_files();
    // Two queues, each with its own pool, so that small files never wait
    // behind a large one for part permits, nor large ones behind small.
    let (mut smalls, mut larges) = (Vec::new(), Vec::new());
    for (index, file) in files.into_iter().enumerate() {
        let (single, parts_left) = shape(&shared.tree, &file);
        let queue = if single { &mut smalls } else { &mut larges };
        queue.push((index, file, parts_left));
    }
    shared
        .large_unfinished
        .store(larges.len() as u64, Ordering::SeqCst);
    let (mut outcome, more) = tokio::join!(
        dispatch(&shared, smalls, small, &cancel, false),
        dispatch(&shared, larges, parts, &cancel, true),
    );
    outcome.results.extend(more.results);
    shared.tree.progress.end();
    outcome.results.sort_by_key(|(i, _)| *i);
    outcome
}

/// Starts each file of `queue` once it holds its permits from `pool`, and
/// collects what became of them. `large`: files sent in parts, whose
/// weight is their share of the pool.
async fn dispatch<S: Store>(
    shared: &Arc<Shared<S>>,
    queue: Vec<(usize, TreeFile, u64)>,
    pool: Arc<Semaphore>,
    cancel: &Cancel,
    large: bool,
) -> TreeOutcome {
    let concurrency = u64::from(shared.tree.concurrency.max(1));
    let mut set = JoinSet::new();
    let mut outcome = TreeOutcome::default();
    'files: for (index, file, parts_left) in queue {
        // Large files share the part pool: while several are unfinished,
        // each sends a share of it at once (so the pool stays full as they
        // end one by one); the last alone takes all of it.
        let weight = if large {
            let unfinished = shared.large_unfinished.load(Ordering::SeqCst);
            let share = (concurrency / unfinished.clamp(1, LARGE_FILES_AT_ONCE)).max(1);
            parts_left.min(share) as u32
        } else {
            1
        };
        let permit = loop {
            tokio::select! {
                permit = pool.clone().acquire_many_owned(weight) => match permit {
                    Ok(p) => break p,
                    Err(_) => break 'files,
                },
                Some(joined) = set.join_next(), if !set.is_empty() => {
                    outcome.results.push(joined_result(joined));
                }
                () = cancel.cancelled() => break 'files,
            }
        };
        let shared = shared.clone();
        set.spawn(async move {
            shared.in_flight.fetch_add(1, Ordering::SeqCst);
            shared.show_files();
            let result = send_file(&shared, &file, weight).await;
            drop(permit);
            shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            if large {
                shared.large_unfinished.fetch_sub(1, Ordering::SeqCst);
            }
            if let Ok(sent) = &result {
                shared.done.done(
                    &file.rel,
                    DoneFile {
                        size: sent.size,
                        mtime_ns: file.source.mtime_ns,
                    },
                );
                shared.files_done.fetch_add(1, Ordering::SeqCst);
            }
            shared.show_files();
            (index, result)
        });
    }
    while let Some(joined) = set.join_next().await {
        outcome.results.push(joined_result(joined));
    }
    outcome
}

/// Large files sent at once while more are left: each gets at least a
/// quarter of the part pool.
const LARGE_FILES_AT_ONCE: u64 = 4;

/// Whether `f` goes up with one request, and how many parts it has left.
fn shape<S: Store>(tree: &Tree<S>, f: &TreeFile) -> (bool, u64) {
    let part_size = f.journal.as_ref().map_or(tree.part_size, |j| j.part_size);
    let plan = Plan::new(f.source.size, part_size).ok();
    let parts_left = plan.map_or(1, |p| {
        let done = f.journal.as_ref().map_or(0, |j| j.parts.len() as u64);
        p.part_count.saturating_sub(done).max(1)
    });
    let single = f.journal.is_none()
        && plan.is_some_and(|p| p.is_single())
        && (tree.single_put || f.source.size == 0);
    (single, parts_left)
}

fn joined_result(
    joined: Result<(usize, Result<FileSent, Error>), tokio::task::JoinError>,
) -> (usize, Result<FileSent, Error>) {
    joined.unwrap_or_else(|e| {
        // A task that panicked (a bug): its index is lost with it, and the
        // file is counted among those not started.
        (
            usize::MAX,
            Err(Error::Worker {
                id: String::new(),
                message: e.to_string(),
            }),
        )
    })
}

/// One file, from opening it to its object: one PutObject, a new multipart
/// upload, or the session's unfinished one continued.
async fn send_file<S: Store>(
    shared: &Shared<S>,
    f: &TreeFile,
    concurrency: u32,
) -> Result<FileSent, Error> {
    let tree = &shared.tree;
    let source_error = |error| Error::Source {
        path: f.source.path.clone(),
        error,
    };
    let file = File::open(&f.source.path).map_err(source_error)?;
    let meta = file.metadata().map_err(source_error)?;
    if !meta.is_file() {
        return Err(source_error(std::io::Error::other(
            "no longer a regular file",
        )));
    }
    let now = Source::of(&f.source.path, &meta);
    let file = Arc::new(file);
    let progress: Arc<dyn Progress> = Arc::new(FileProgress(tree.progress.clone()));
    let mut journal = f.journal.clone();
    if let Some(j) = &journal {
        if reconcile::check_source(j, &now).is_err() {
            // Another size: no part fits the file now. Its old upload goes,
            // and the file is sent afresh.
            let lock = tree.dir.lock(&j.id).map_err(|e| busy(j, e))?;
            let _ = until_gone(&*tree.store, &j.upload()).await;
            let _ = tree.dir.remove_async(&j.id).await;
            drop(lock);
            journal = None;
        }
    }
    let plan = Plan::new(
        now.size,
        journal.as_ref().map_or(tree.part_size, |j| j.part_size),
    )
    .map_err(|e| source_error(std::io::Error::other(e.to_string())))?;
    if journal.is_none() && plan.is_single() && (tree.single_put || now.size == 0) {
        let whole = plan.part(1).expect("a plan has at least one part");
        let origin = file.clone().into();
        let sent = put_single(
            &*tree.store,
            &origin,
            &now.path,
            whole,
            &f.dest,
            &f.object,
            &tree.retry,
            &progress,
        );
        let finished = tokio::select! {
            r = sent => r?,
            () = tree.cancel.cancelled() => return Err(Error::Interrupted {
                id: tree.session.clone(),
                saved: None,
            }),
        };
        return Ok(FileSent {
            finished,
            dest: f.dest.clone(),
            size: now.size,
            sent: now.size,
            parts: 1,
            upload_id: None,
        });
    }
    let run = Run {
        store: tree.store.clone(),
        dir: tree.dir.clone(),
        file,
        plan,
        concurrency: super::concurrency::Concurrency::Fixed(concurrency),
        retry: tree.retry.clone(),
        progress: progress.clone(),
        cancel: tree.cancel.clone(),
        stop_before_complete: false,
        at_recorded_endpoint: true,
    };
    let (journal, lock, todo, candidates) = match journal {
        Some(mut j) => {
            let lock = tree.dir.lock(&j.id).map_err(|e| busy(&j, e))?;
            if j.source != now {
                // Touched: reconcile then trusts only parts it verifies.
                j.source = now.clone();
            }
            let reconciled = reconcile::reconcile(
                &*tree.store,
                &tree.dir,
                j,
                &plan,
                tree.verify,
                &tree.retry,
                &tree.cancel,
                true,
            )
            .await?;
            match reconciled {
                Reconciled::AlreadyCompleted(info) => {
                    return Ok(FileSent {
                        finished: Finished {
                            location: None,
                            etag: info.etag,
                            checksum_sha256: info.checksum_sha256,
                            checksum: info.checksum,
                        },
                        dest: f.dest.clone(),
                        size: now.size,
                        sent: 0,
                        parts: plan.part_count,
                        upload_id: None,
                    })
                }
                Reconciled::Ready {
                    journal,
                    todo,
                    candidates,
                } => (*journal, lock, todo, candidates),
            }
        }
        None => {
            let new = NewUpload {
                dest: f.dest.clone(),
                object: f.object.clone(),
                connection: tree.connection.clone(),
                source: now.clone(),
                plan,
                session: Some(tree.session.clone()),
            };
            let started =
                session::start(&*tree.store, &tree.dir, new, &tree.retry, &tree.cancel).await?;
            (
                started.journal,
                started.lock,
                plan.parts().collect(),
                Vec::new(),
            )
        }
    };
    let upload_id = journal.upload_id.clone();
    let done = run_multipart(&run, journal, lock, todo, candidates).await?;
    Ok(FileSent {
        finished: done.finished,
        dest: done.journal.location(),
        size: now.size,
        sent: done.sent,
        parts: plan.part_count,
        upload_id: Some(upload_id),
    })
}

/// A file's journal that another s3up holds.
fn busy(j: &Journal, e: crate::journal::JournalError) -> Error {
    Error::Worker {
        id: j.id.clone(),
        message: e.to_string(),
    }
}

/// One file's view of the tree's display: its bytes count in the tree's,
/// its own start and end do not (the tree begins and ends once), and bytes
/// already on the store when it resumes count as done, not as sent.
struct FileProgress(Arc<dyn Progress>);

impl Progress for FileProgress {
    fn begin(&self, _total: u64, done: u64, _parts_total: u64, _parts_done: u64) {
        if done > 0 {
            self.0.part_reused(done);
        }
    }
    fn advance(&self, bytes: u64) {
        self.0.advance(bytes);
    }
    fn retreat(&self, bytes: u64) {
        self.0.retreat(bytes);
    }
    fn part_done(&self, bytes: u64) {
        self.0.part_done(bytes);
    }
    fn part_reused(&self, bytes: u64) {
        self.0.part_reused(bytes);
    }
    fn end(&self) {}
    fn parts_finished(&self, _stats: &PartStats) {}
    fn status(&self, status: &Status) {
        self.0.status(status);
    }
}
