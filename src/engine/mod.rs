//! The engine: everything that decides what happens to an upload, over any
//! [`Store`](crate::store::Store).
//!
//! - [`session`]: starting an upload (Create, then the durable journal, or an
//!   abort), and the check that a conditional write's key is free;
//! - [`checksum`]: `--checksum-algorithm`: refusing what the store refuses,
//!   the checksums Complete sends and checks;
//! - [`single`]: a file that fits in one part goes up with one PutObject;
//! - [`stream`]: standard input (any stream) as a multipart upload, its
//!   parts buffered within a memory cap, through the same workers;
//! - [`context`]: the [`Run`] that a multipart run's parts share;
//! - [`run`]: a multipart run, from the first part to the removed journal;
//! - `workers`: the workers that send parts, and cancellation;
//! - [`concurrency`]: how many parts are in flight: fixed, or adapted to the
//!   link by a controller that climbs on measured goodput and backs off when
//!   the store is overloaded (the rule), and [`controller`], which measures
//!   the parts and applies the rule to the workers' gates;
//! - `hash`: hashing parts ahead of the workers (the byte loop itself is the
//!   store layer's `hash_range`, which the stores use too);
//! - `meter`: a body's progress, attempt by attempt;
//! - `error`: why the parts phase stopped (`Stop`), before that becomes an
//!   [`Error`];
//! - [`retry`]: which failures are tried again, and how long to wait;
//! - [`complete`]: Complete, and recognising an object whose Complete answer
//!   was lost;
//! - [`reconcile`]: resume: the journal against the store's ListParts: which
//!   parts to trust, which to verify, which to send;
//! - [`verify`]: verifying the parts a resume reuses against the file, in the
//!   background while the others are sent;
//! - [`abort`]: abort until the store no longer lists the upload;
//! - [`gone`]: confirming that an upload is gone before its journal is removed;
//! - [`tree`]: many files at once (a tree upload), over all of the above;
//! - [`unchanged`]: `sync`'s rule for a file whose object is unchanged.
//!
//! The engine never prints and never reads the environment: it reports
//! progress through [`Progress`] and returns structured outcomes and [`Error`]s,
//! which `crate::output` turns into text.
//!
//! Failure policy (DESIGN §2): only retryable errors are retried, with
//! exponential backoff and jitter, up to `attempts` per call. When a part runs
//! out of attempts, or fails in a way retrying cannot fix, no new part starts,
//! the parts in flight finish and are journalled, and the run stops resumable.
//!
//! Cancellation: a [`Cancel`] flag (raised by Ctrl-C in the binary) is watched
//! while parts are sent and while the upload is completed. When it is raised,
//! scheduling stops, in-flight requests are dropped, and every part already
//! acknowledged is flushed to the journal before returning.

pub mod abort;
pub mod checksum;
pub mod complete;
pub mod concurrency;
pub mod context;
pub mod controller;
mod error;
pub mod gate;
pub mod gone;
mod hash;
pub mod link;
mod meter;
pub mod reconcile;
pub mod retry;
pub mod run;
pub mod session;
pub mod single;
pub mod stream;
#[cfg(test)]
mod tests;
pub mod tree;
pub mod unchanged;
pub mod verify;
mod workers;

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::journal::{JournalError, SaveStats};
use crate::s3::Location;
use crate::store::StoreError;
pub use concurrency::Concurrency;
pub use context::Run;
pub use gone::Unconfirmed;
pub use run::{run_multipart, Completed};

/// Set when the user asks to stop (Ctrl-C). Clones share the flag; every wait
/// that can take long also waits on [`Cancel::cancelled`].
#[derive(Clone, Debug)]
pub struct Cancel(tokio::sync::watch::Receiver<bool>);

impl Cancel {
    /// A flag and the sender that raises it (`send(true)`).
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Cancel) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Cancel(rx))
    }

    /// True once the flag is raised.
    pub fn is_raised(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once the flag is raised; never, if its sender is gone unraised.
    pub async fn cancelled(&self) {
        let mut rx = self.0.clone();
        if rx.wait_for(|raised| *raised).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// How a run's progress is shown. The engine calls it; `crate::progress`
/// draws it, and tests count it.
pub trait Progress: Send + Sync {
    /// The run starts: `total` bytes in `parts_total` parts, of which `done`
    /// bytes in `parts_done` parts are already on the store.
    fn begin(&self, total: u64, done: u64, parts_total: u64, parts_done: u64);
    /// `bytes` more of a body went out (written to the connection; the store
    /// has not acknowledged them yet).
    fn advance(&self, bytes: u64);
    /// `bytes` counted earlier were taken back (a failed attempt).
    fn retreat(&self, bytes: u64);
    /// One part of `bytes` was acknowledged by the store: what a display
    /// should count as done, and measure the rate by.
    fn part_done(&self, bytes: u64);
    /// One part of `bytes` already on the store was verified against the
    /// file (a resume): done, but it did not cross the link.
    fn part_reused(&self, bytes: u64);
    /// Every part has been sent, or the run stopped; nothing more will move.
    fn end(&self);
    /// The parts phase is over (before Complete): what it cost.
    fn parts_finished(&self, _stats: &PartStats) {}
    /// What the run is doing changed (see [`Status`]); a display shows the
    /// latest until the next one.
    fn status(&self, _status: &Status) {}
    /// A tree upload: `done` of `total` files finished, `in_flight` being sent.
    fn files(&self, _done: u64, _total: u64, _in_flight: u64) {}
}

/// What a run is doing beyond moving bytes, so a display can say it: each
/// new one replaces the last, and [`Status::Sending`] clears it.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// Parts are moving again (after any of the others).
    Sending,
    /// A call failed with an answer from the store (5xx, SlowDown, a refused
    /// checksum) and is tried again after `wait`: attempt `attempt` of
    /// `attempts` comes next. `part` is the part's number, if a part's call.
    Retrying {
        part: Option<u32>,
        op: &'static str,
        attempt: u32,
        attempts: u32,
        error: String,
        wait: Duration,
    },
    /// A request sent nothing for `idle`, the stall timeout: it is dropped
    /// and the link checked.
    Stalled { part: Option<u32>, idle: Duration },
    /// No answer at all from `endpoint` since `since`: no new part starts,
    /// and the endpoint is probed again at `next_probe`. `error` is the last
    /// failure, on one line.
    Offline {
        since: SystemTime,
        endpoint: String,
        error: String,
        next_probe: Instant,
    },
    /// The process did not run for `gap` (a laptop asleep, SIGSTOP): the
    /// requests in flight are dropped and sent again at once.
    Woke { gap: Duration },
    /// Complete refused a part the store lists as uploaded (`error`, its
    /// InvalidPart): all `parts` are sent once more, then Complete again
    /// (see `complete::Completion::Shadowed`).
    Resending { parts: u64, error: String },
}

/// What sending the parts cost, for timing reports and the benchmark.
#[derive(Debug, Clone, Copy)]
pub struct PartStats {
    /// Parts this run sent.
    pub parts: usize,
    /// When the first part's request was about to go out, if one did.
    pub first_part_at: Option<Instant>,
    /// What the journal's saves cost.
    pub saves: SaveStats,
}

/// Why the engine stopped. `id` is the journal's ID wherever one exists;
/// `crate::output` words each case and `crate::error` gives its exit code.
#[derive(Debug)]
pub enum Error {
    /// Ctrl-C; the journal is kept. `saved` is (parts the journal holds,
    /// parts planned) when the run got as far as sending parts.
    Interrupted {
        id: String,
        saved: Option<(u64, u64)>,
    },
    /// A store call failed; the journal is kept and the upload stays open.
    /// `part` is (number, part count) when a part failed.
    Stopped {
        id: String,
        part: Option<(u32, u64)>,
        error: StoreError,
    },
    /// A part of the source could not be read; resumable.
    Read {
        id: String,
        path: PathBuf,
        number: u32,
        error: std::io::Error,
    },
    /// A worker task died (a bug); resumable.
    Worker { id: String, message: String },
    /// A journal save failed during the run; the last good journal is on disk.
    JournalSave {
        id: String,
        dir: PathBuf,
        error: std::io::Error,
    },
    /// Parts were still missing when Complete was due; resumable.
    Incomplete { id: String, missing: usize },
    /// A `bench-floor` build was asked to leave the upload open.
    StoppedBeforeComplete { id: String },
    /// The source changed while it was uploaded; nothing was completed.
    ChangedDuringUpload { id: String, path: PathBuf },
    /// The store answered that the upload no longer exists. The journal was
    /// removed when that was confirmed (`kept` is `None`), else it is kept.
    Gone {
        id: String,
        part: Option<(u32, u64)>,
        /// Boxed: the error enum stays small enough to return by value.
        error: Box<StoreError>,
        kept: Option<Box<Unconfirmed>>,
    },
    /// A conditional write (`if_none_match`) and the key exists; `aborted` when an upload was
    /// aborted (and its journal removed) because of it.
    Exists { dest: Location, aborted: bool },
    /// The store was measured to refuse this checksum choice (`answer`: what it
    /// said); nothing was created.
    ChecksumRefused {
        dest: Location,
        store: crate::checksum::StoreKind,
        choice: crate::checksum::Choice,
        answer: &'static str,
    },
    /// The store completed the object but reports another checksum.
    ChecksumMismatch {
        dest: Location,
        got: String,
        want: String,
        multipart: bool,
    },
    /// Complete failed in a way that a lost earlier answer explains
    /// (`error`), and whether the object there is this upload's could not be
    /// told (`check`); the journal is kept.
    Undetermined {
        id: String,
        dest: Location,
        error: Box<StoreError>,
        check: Box<StoreError>,
    },
    /// The upload completed but its journal could not be removed.
    JournalRemove {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The journal could not be written after Create, so the upload was aborted.
    JournalStart { dir: PathBuf, error: JournalError },
    /// A store call failed before any upload existed (nothing to resume).
    Store { dest: Location, error: StoreError },
    /// Create failed (`error`) or Ctrl-C stopped it (`None`), after attempts
    /// whose answers were lost: `sweep` says what became of the uploads they
    /// may have made. Nothing to resume.
    NotStarted {
        dest: Location,
        /// Boxed: the error enum stays small enough to return by value.
        error: Option<Box<StoreError>>,
        sweep: Box<session::Sweep>,
    },
    /// The source could not be read before any upload existed.
    Source {
        path: PathBuf,
        error: std::io::Error,
    },
    // Resume reconciliation:
    /// ListParts failed in a way that leaves the upload resumable.
    ListFailed {
        id: String,
        dest: Location,
        error: Box<StoreError>,
    },
    /// ListParts answered that the upload no longer exists. The journal was
    /// removed when that was confirmed (`kept` is `None`), else it is kept.
    /// `all_sent` when every part had been sent (a Complete could have landed,
    /// but the object there is not this file's).
    GoneAtResume {
        id: String,
        dest: Location,
        path: PathBuf,
        all_sent: bool,
        kept: Option<Box<Unconfirmed>>,
    },
    /// The source's size or mtime is not what the journal recorded.
    ChangedSince {
        id: String,
        path: PathBuf,
        size_then: u64,
        size_now: u64,
    },
    /// The reconciled journal could not be saved before resuming.
    JournalResave { dir: PathBuf, error: std::io::Error },
    /// A stream piped to resume an upload differs from it at part `number`
    /// (its bytes, or its end): nothing more was sent, the journal is kept.
    StreamDiffers { id: String, number: u32 },
    /// A stream went on past 10,000 parts (`read` bytes); the journal is kept.
    StreamTooLong { id: String, read: u64 },
}
