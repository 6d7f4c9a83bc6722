//! The workers: hash each part, send it, and hand its ETag to the journal.
//!
//! Parts come from a queue. It holds the parts left to send, and a resume's
//! verifier ([`super::verify`]) adds to it every part on the store whose
//! bytes turn out not to match the file, while the workers are busy; the
//! queue closes once the verifier is done, and only then can Complete follow.
//!
//! Hashing runs ahead of sending ([`hash_ahead`]): each part is hashed and
//! announced to the store ([`Store::will_send`]) before a worker takes it.
//! For a store that signs each part's URL with its SHA-256 (`put --via`,
//! [`Store::signs_ahead`]), up to `concurrency` parts beyond those on the
//! wire are, so the signatures are asked for while earlier parts are still
//! sending, and a part rarely waits for one; the bound keeps those URLs young
//! (one round of sends ahead) and the hashed pages in the page cache for the
//! send. Other stores get one part ahead.
//!
//! Each part is read twice with positioned reads (`pread`): once through a small
//! buffer to compute its SHA-256, which must be known before the request is
//! signed, and once as it is sent, in chunks the HTTP client asks for. Memory is
//! a few chunks per part in flight, whatever the part size; the cost is a second
//! copy from the page cache, which measured cheaper than zeroing and faulting in
//! a fresh part-sized buffer (README, "Performance"). If the file changes between
//! the two reads, S3's check of the signed SHA-256 rejects the part.

use std::fs::File;
use std::future::Future;
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use md5::Md5;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use super::complete::{complete, source_changed};
use super::gone::forget_if_gone;
use super::retry::retry;
use super::verify::{verify_all, Candidate, Verifier};
use super::{Cancel, Error, PartStats, Progress};
use crate::journal::{Journal, JournalDir, JournalWriter, Lock, PartRecord};
use crate::plan::{Part, Plan};
use crate::store::{
    b64, ErrorKind, FileRange, Finished, ListUploads, Meter, PartSums, Store, StoreError,
    UploadHandle,
};

/// Parts hashed at once, by the workers and a resume's verifier together
/// (see `send_parts`); the blocking pool has 16 threads.
const HASH_JOBS: usize = 4;

/// Hashing reads the file through a buffer of this size, one per hash job (so
/// at most [`HASH_JOBS`] exist): big enough that syscalls cost little next to
/// the hash, small enough to stay in the L2 cache between the copy and the hash.
const HASH_CHUNK: usize = 128 * 1024;

/// The digests of one part, read once with positioned reads (blocking). The
/// MD5 is computed only when asked for: to check a part against an MD5 ETag
/// (see `super::verify`), or for a store that sends it ([`Store::wants_md5`]).
pub(super) fn digests(file: &File, part: Part, with_md5: bool) -> std::io::Result<PartSums> {
    let mut buf = vec![0; HASH_CHUNK.min(part.len as usize)];
    let mut h = Sha256::new();
    let mut md5 = with_md5.then(Md5::new);
    let mut at = part.offset;
    let end = part.offset + part.len;
    while at < end {
        let n = (end - at).min(HASH_CHUNK as u64) as usize;
        file.read_exact_at(&mut buf[..n], at)?;
        h.update(&buf[..n]);
        if let Some(md5) = md5.as_mut() {
            md5.update(&buf[..n]);
        }
        at += n as u64;
    }
    Ok(PartSums {
        sha256: h.finalize().into(),
        md5: md5.map(|m| m.finalize().into()),
    })
}

/// Hashes one part on the blocking pool (its MD5 too, `with_md5`).
pub async fn hash(file: Arc<File>, part: Part, with_md5: bool) -> std::io::Result<PartSums> {
    tokio::task::spawn_blocking(move || digests(&file, part, with_md5))
        .await
        .map_err(std::io::Error::other)?
}

/// A part whose hashing has started, in queue order; the hash is aborted if
/// the part is dropped unsent.
struct Hashed {
    part: Part,
    sums: JoinHandle<std::io::Result<PartSums>>,
}

impl Drop for Hashed {
    fn drop(&mut self) {
        self.sums.abort();
    }
}

/// A task that is aborted when this is dropped, however the owner returns.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Takes parts from `queue` and starts hashing each (at most [`HASH_JOBS`]
/// at once, shared with a resume's verifier through `hashing`), handing them
/// on in order; each part is announced to the store once hashed. At most
/// `ahead` parts wait in the channel: the rest stay in the queue, unhashed.
/// The store says whether it wants each part's MD5 as well.
fn hash_ahead<S: Store>(
    store: Arc<S>,
    upload: Arc<UploadHandle>,
    file: Arc<File>,
    hashing: Arc<Semaphore>,
    mut queue: mpsc::UnboundedReceiver<Part>,
    ahead: usize,
) -> (mpsc::Receiver<Hashed>, AbortOnDrop) {
    let (tx, rx) = mpsc::channel(ahead.max(1));
    let task = tokio::spawn(async move {
        let with_md5 = store.wants_md5().await;
        // A slot first, so a part leaves the queue only when it may be hashed.
        while let Ok(slot) = tx.reserve().await {
            let Some(part) = queue.recv().await else {
                return;
            };
            let (store, upload, file, hashing) =
                (store.clone(), upload.clone(), file.clone(), hashing.clone());
            let sums = tokio::spawn(async move {
                let sums = {
                    let _hashing = hashing
                        .acquire_owned()
                        .await
                        .map_err(std::io::Error::other)?;
                    hash(file, part, with_md5).await?
                };
                store.will_send(&upload, part.number, sums.sha256);
                Ok(sums)
            });
            slot.send(Hashed { part, sums });
        }
    });
    (rx, AbortOnDrop(task))
}

/// One attempt at sending a part: reports each chunk of the body as it goes
/// out ([`Progress::advance`]: sent, not yet acknowledged), so a display can
/// show movement within a part without counting it as done.
struct Attempt {
    progress: Arc<dyn Progress>,
    /// Bytes this attempt moved the progress; `None` once settled. The HTTP
    /// client may still hand out a chunk on its own task while the engine
    /// settles a failed attempt, so both sides move the progress under this
    /// lock: a chunk that comes after the settlement is not counted at all.
    sent: Mutex<Option<u64>>,
}

impl Meter for Attempt {
    fn sent(&self, bytes: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sent) = sent.as_mut() {
            *sent += bytes;
            self.progress.advance(bytes);
        }
    }
}

impl Attempt {
    fn new(progress: &Arc<dyn Progress>) -> Arc<Attempt> {
        Arc::new(Attempt {
            progress: progress.clone(),
            sent: Mutex::new(Some(0)),
        })
    }

    /// The attempt is over. A failed one takes back what it moved (the part
    /// will be sent again, or never); a successful one leaves exactly `len`
    /// bytes counted.
    fn settle(&self, ok: bool, len: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let Some(moved) = sent.take() else { return };
        let counted = if ok { len } else { 0 };
        if counted > moved {
            self.progress.advance(counted - moved);
        } else {
            self.progress.retreat(moved - counted);
        }
    }
}

/// Sends `part` with `send`, retried up to `attempts` times. The progress moves
/// as the body goes out, and a failed attempt takes its bytes back, so a
/// resent part is counted once.
pub async fn send_metered<T, F, Fut>(
    attempts: u32,
    progress: &Arc<dyn Progress>,
    file: &Arc<File>,
    part: Part,
    mut send: F,
) -> Result<T, StoreError>
where
    F: FnMut(FileRange) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    retry(attempts, || {
        let attempt = Attempt::new(progress);
        // The bytes are read again from the file as they are sent.
        let sending = send(FileRange {
            file: file.clone(),
            offset: part.offset,
            len: part.len,
            meter: Some(attempt.clone()),
        });
        async move {
            let result = sending.await;
            attempt.settle(result.is_ok(), part.len);
            result
        }
    })
    .await
}

/// Everything a multipart run needs.
pub struct Run<S: ListUploads> {
    pub store: Arc<S>,
    pub dir: JournalDir,
    pub file: Arc<File>,
    pub plan: Plan,
    pub concurrency: u32,
    /// Attempts per call before the run stops.
    pub attempts: u32,
    pub progress: Arc<dyn Progress>,
    pub cancel: Cancel,
    /// Leave the upload open instead of completing it (`bench-floor` builds only).
    pub stop_before_complete: bool,
    /// The store reached is the one the journal records: only then can its
    /// NoSuchUpload lead to removing the journal (see [`super::gone`]).
    pub at_recorded_endpoint: bool,
}

/// A finished multipart upload.
#[derive(Debug)]
pub struct Completed {
    pub journal: Journal,
    pub finished: Finished,
    /// Bytes of the parts this run sent.
    pub sent: u64,
    /// Parts the store held whose bytes did not match the file, so this run
    /// sent them again.
    pub resent: Vec<u32>,
}

/// Why the parts phase stopped early.
pub(super) enum Stop {
    Part(u32, StoreError),
    Read(u32, std::io::Error),
    /// A worker task died (a bug); the message says how.
    Worker(String),
    /// The journal writer refused a part: a save failed, and `finish` says why.
    Journal,
    Cancelled,
}

/// Sends `todo` (parts not yet on the store) while verifying `candidates`
/// (parts on the store, done once their bytes match the file; see
/// [`super::verify`]) and sending again those that do not, then completes
/// the upload and removes the journal. `journal` must already be saved and
/// `lock` held; it names neither the todo nor the candidates.
pub async fn run_multipart<S: ListUploads>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
) -> Result<Completed, Error> {
    run.progress.begin(
        run.plan.size,
        journal.bytes_done(),
        run.plan.part_count,
        journal.parts.len() as u64,
    );
    let writer = JournalWriter::spawn(run.dir.clone(), journal.clone());
    let todo_len = todo.len();
    let todo_bytes: u64 = todo.iter().map(|p| p.len).sum();
    let first_part_at = Arc::new(std::sync::OnceLock::new());
    let (stopped, resent) =
        send_parts(run, &journal, &writer, &first_part_at, todo, candidates).await;
    run.progress.end();
    let saved = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    let id = journal.id.clone();
    if let Some(Stop::Cancelled) = stopped {
        // What the journal on disk holds now, which is what a resume keeps.
        let saved = saved
            .ok()
            .map(|(j, _)| (j.parts.len() as u64, run.plan.part_count));
        return Err(Error::Interrupted { id, saved });
    }
    // The last good journal is on disk and the upload is open: resumable.
    let (journal, saves) = saved.map_err(|error| Error::JournalSave {
        id: id.clone(),
        dir: run.dir.path().to_path_buf(),
        error,
    })?;
    // Whatever stopped the run, a changed file is the first thing to say:
    // resuming it would be refused anyway.
    if stopped.is_some() && source_changed(&journal) {
        return Err(Error::ChangedDuringUpload {
            id,
            path: journal.source.path.clone(),
        });
    }
    let stop = match stopped {
        None | Some(Stop::Cancelled) | Some(Stop::Journal) => None,
        Some(Stop::Read(number, error)) => Some(Error::Read {
            id: id.clone(),
            path: journal.source.path.clone(),
            number,
            error,
        }),
        Some(Stop::Worker(message)) => Some(Error::Worker {
            id: id.clone(),
            message,
        }),
        Some(Stop::Part(n, e)) => return Err(stopped_by(run, &journal, Some(n), e).await),
    };
    run.progress.parts_finished(&PartStats {
        parts: todo_len + resent.len(),
        first_part_at: first_part_at.get().copied(),
        saves,
    });
    if let Some(stop) = stop {
        return Err(stop);
    }
    let (journal, finished) = complete(run, journal, lock).await?;
    let resent_bytes: u64 = resent
        .iter()
        .filter_map(|&n| run.plan.part(n))
        .map(|p| p.len)
        .sum();
    Ok(Completed {
        journal,
        finished,
        sent: todo_bytes + resent_bytes,
        resent,
    })
}

/// Stops the verifier, if it runs, and waits until it has let go of its
/// journal sender and the queue. Its verdict, if it finished first, counts.
async fn stop_verifier(
    verifier: Option<JoinHandle<Result<Vec<u32>, Stop>>>,
    stop: &mut Option<Stop>,
) {
    if let Some(handle) = verifier {
        handle.abort();
        match handle.await {
            Ok(Err(e)) => {
                stop.get_or_insert(e);
            }
            Err(join) if !join.is_cancelled() => {
                stop.get_or_insert(Stop::Worker(join.to_string()));
            }
            Ok(Ok(_)) | Err(_) => {}
        }
    }
}

/// Sends the queue's parts (`todo`, then whatever the verifier of
/// `candidates` finds changed); returns why it stopped early, if it did, and
/// the candidates that were sent again.
async fn send_parts<S: ListUploads>(
    run: &Run<S>,
    journal: &Journal,
    writer: &JournalWriter,
    first_part_at: &Arc<std::sync::OnceLock<Instant>>,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
) -> (Option<Stop>, Vec<u32>) {
    let permits = Arc::new(Semaphore::new(run.concurrency as usize));
    // Hashing is CPU-bound: a few at once keep the cores busy, and leave the
    // blocking pool free for the body reads of parts already on the wire
    // (which would otherwise queue behind hashes and look stalled).
    let hashing = Arc::new(Semaphore::new(HASH_JOBS));
    let upload = Arc::new(journal.upload());
    let mut set: JoinSet<Result<(), Stop>> = JoinSet::new();
    let mut stop: Option<Stop> = None;
    let note = |res: Result<Result<(), Stop>, tokio::task::JoinError>, stop: &mut Option<Stop>| {
        let err = match res {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(join) => Stop::Worker(join.to_string()),
        };
        stop.get_or_insert(err);
    };

    // Unbounded, because it never holds more than the plan's parts; the
    // permits below bound what is in flight, and `hash_ahead` what is hashed.
    let (queue_tx, queue) = mpsc::unbounded_channel();
    for part in todo {
        // Cannot fail: the receiver is right here.
        let _ = queue_tx.send(part);
    }
    let mut verifier = (!candidates.is_empty()).then(|| {
        let v = Verifier {
            file: run.file.clone(),
            hashing: hashing.clone(),
            journal: writer.sender(),
            queue: queue_tx.clone(),
            progress: run.progress.clone(),
        };
        let permits = permits.clone();
        tokio::spawn(async move {
            let verdict = verify_all(v, candidates).await;
            if verdict.is_err() {
                // A part that cannot be read stops the run like a failed part.
                permits.close();
            }
            verdict
        })
    });
    // The queue closes once the verifier is done with it.
    drop(queue_tx);
    let (mut hashed, hasher) = hash_ahead(
        run.store.clone(),
        upload.clone(),
        run.file.clone(),
        hashing.clone(),
        queue,
        if run.store.signs_ahead() {
            run.concurrency as usize
        } else {
            1
        },
    );

    loop {
        // A permit first: a failing part closes the semaphore, so no part
        // starts after a failure, however the wake-ups race. Parts are hashed
        // ahead meanwhile, up to `concurrency` of them.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_closed) => break,
            },
            () = run.cancel.cancelled() => {
                stop_verifier(verifier, &mut stop).await;
                set.shutdown().await;
                return (Some(Stop::Cancelled), Vec::new());
            }
        };
        // Then a part; meanwhile, notice a worker that failed (the queue may
        // stay empty for a while as the verifier hashes).
        let next = loop {
            tokio::select! {
                next = hashed.recv() => break next,
                Some(res) = set.join_next(), if !set.is_empty() => {
                    note(res, &mut stop);
                    if stop.is_some() {
                        break None;
                    }
                }
                () = run.cancel.cancelled() => {
                    stop_verifier(verifier, &mut stop).await;
                    set.shutdown().await;
                    return (Some(Stop::Cancelled), Vec::new());
                }
            }
        };
        while let Some(res) = set.try_join_next() {
            note(res, &mut stop);
        }
        // A closed semaphore: a worker or the verifier failed meanwhile.
        let Some(mut next) = next.filter(|_| stop.is_none() && !permits.is_closed()) else {
            break;
        };
        let store = run.store.clone();
        let file = run.file.clone();
        let tx = writer.sender();
        let progress = run.progress.clone();
        let permits = permits.clone();
        let upload = upload.clone();
        let attempts = run.attempts;
        let first_part_at = first_part_at.clone();
        set.spawn(async move {
            let part = next.part;
            let result = async {
                let sums = (&mut next.sums)
                    .await
                    .map_err(|e| Stop::Worker(e.to_string()))?
                    .map_err(|e| Stop::Read(part.number, e))?;
                first_part_at.get_or_init(Instant::now);
                // The bytes are read a second time as they are sent; if the file
                // changed in between, S3's checksum check rejects the part.
                let etag = send_metered(attempts, &progress, &file, part, |body| {
                    store.upload_part(&upload, part.number, body, sums)
                })
                .await
                .map_err(|e| Stop::Part(part.number, e))?;
                tx.record(PartRecord {
                    number: part.number,
                    size: part.len,
                    etag,
                    sha256: b64(&sums.sha256),
                })
                .map_err(|_| Stop::Journal)?;
                progress.part_done(part.len);
                Ok(())
            }
            .await;
            if result.is_err() {
                permits.close();
            }
            drop(permit);
            result
        });
    }
    // No new parts: stop hashing (and announcing) parts that will not be sent.
    drop(hashed);
    drop(hasher);
    // The verifier is done if the queue closed; otherwise the
    // run is stopping, and parts it has not verified stay unjournalled (a
    // later resume verifies them again).
    let mut resent = Vec::new();
    if stop.is_some() || permits.is_closed() {
        stop_verifier(verifier.take(), &mut stop).await;
    } else if let Some(handle) = verifier.take() {
        match handle.await {
            Ok(Ok(numbers)) => resent = numbers,
            Ok(Err(e)) => {
                stop.get_or_insert(e);
            }
            Err(join) => {
                stop.get_or_insert(Stop::Worker(join.to_string()));
            }
        }
    }
    // Let the parts in flight finish so they are journalled.
    loop {
        tokio::select! {
            res = set.join_next() => match res {
                None => break,
                Some(res) => note(res, &mut stop),
            },
            () = run.cancel.cancelled() => {
                set.shutdown().await;
                return (Some(Stop::Cancelled), Vec::new());
            }
        }
    }
    (stop, resent)
}

/// What a store error that stopped a run means for the journal: an upload
/// the store confirms it no longer has is forgotten; anything else stays resumable.
pub(super) async fn stopped_by<S: ListUploads>(
    run: &Run<S>,
    journal: &Journal,
    part: Option<u32>,
    error: StoreError,
) -> Error {
    let id = journal.id.clone();
    let part = part.map(|n| (n, run.plan.part_count));
    match error.kind {
        ErrorKind::NoSuchUpload => {
            let kept = forget_if_gone(
                &*run.store,
                &run.dir,
                journal,
                run.at_recorded_endpoint,
                run.attempts,
            )
            .await
            .err()
            .map(Box::new);
            Error::Gone {
                id,
                part,
                error,
                kept,
            }
        }
        _ => Error::Stopped { id, part, error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    #[derive(Default)]
    struct Position(AtomicI64);

    impl Progress for Position {
        fn begin(&self, _: u64, done: u64, _: u64, _: u64) {
            self.0.store(done as i64, Ordering::SeqCst);
        }
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes as i64, Ordering::SeqCst);
        }
        fn retreat(&self, bytes: u64) {
            self.0.fetch_sub(bytes as i64, Ordering::SeqCst);
        }
        fn part_done(&self, _: u64) {}
        fn part_reused(&self, _: u64) {}
        fn end(&self) {}
    }

    #[test]
    fn failed_attempts_give_their_bytes_back() {
        let pos = Arc::new(Position::default());
        let p: Arc<dyn Progress> = pos.clone();
        p.begin(100, 20, 5, 1);
        let at = || pos.0.load(Ordering::SeqCst);
        let first = Attempt::new(&p);
        first.sent(15);
        first.sent(5);
        assert_eq!(at(), 40, "moves within a part");
        first.settle(false, 20);
        assert_eq!(at(), 20, "a failed attempt is taken back");
        let second = Attempt::new(&p);
        second.sent(20);
        second.settle(true, 20);
        assert_eq!(at(), 40);
        // A success that was not seen to send every byte still counts the part.
        let third = Attempt::new(&p);
        third.sent(7);
        third.settle(true, 20);
        assert_eq!(at(), 60);
        // A chunk the HTTP client hands out after a failed attempt was settled
        // is not counted; settling twice changes nothing.
        let fourth = Attempt::new(&p);
        fourth.sent(10);
        fourth.settle(false, 20);
        fourth.sent(10);
        fourth.settle(false, 20);
        assert_eq!(at(), 60);
    }
}
