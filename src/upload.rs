//! The upload engine: workers, retries, completion, cancellation.
//!
//! Each part is read twice with positioned reads (`pread`): once through a small
//! buffer to compute its SHA-256, which must be known before the request is
//! signed, and once as it is sent, in chunks the HTTP client asks for. Memory is
//! a few chunks per part in flight, whatever the part size; the cost is a second
//! copy from the page cache, which measured cheaper than zeroing and faulting in
//! a fresh part-sized buffer (README, "Performance"). If the file changes between
//! the two reads, S3's check of the signed SHA-256 rejects the part.
//!
//! Failure policy (DESIGN §2): only retryable errors are retried, with
//! exponential backoff and jitter, up to `attempts` per part. When a part runs
//! out of attempts, or fails in a way retrying cannot fix, no new part starts,
//! the parts in flight finish and are journalled, and the run stops resumable.
//!
//! Cancellation: a [`Cancel`] flag (raised by Ctrl-C in the binary) is watched
//! while parts are sent and while the upload is completed. When it is raised,
//! scheduling stops, in-flight requests are dropped, and every part already
//! acknowledged is flushed to the journal before returning.

use std::fs::File;
use std::future::Future;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::Error;
use crate::journal::{Journal, JournalDir, JournalWriter, Lock, PartRecord, Source};
use crate::plan::{Part, Plan};
use crate::progress::Progress;
use crate::s3::{CompletedPart, ErrorKind, FileRange, Finished, ObjectInfo, S3Error, Store};

/// First retry waits about this long; each further one twice as long.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// No wait exceeds this, however many attempts: long enough for S3's SlowDown
/// to ease, short enough that a user sees progress.
const BACKOFF_CAP: Duration = Duration::from_secs(20);

/// How long to wait before attempt `attempt + 1` ("equal jitter": half fixed,
/// half random, so concurrent workers that failed together spread out).
pub fn backoff(attempt: u32) -> Duration {
    let exp = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(BACKOFF_CAP);
    let half = exp / 2;
    half + half.mul_f64(fastrand::f64())
}

/// Runs `op` until it succeeds, fails in a way retrying cannot fix, or has been
/// tried `attempts` times. The error says how many attempts were made.
pub async fn retry<T, F, Fut>(attempts: u32, mut op: F) -> Result<T, S3Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, S3Error>>,
{
    let mut attempt = 1;
    loop {
        match op().await {
            Ok(v) => return Ok(v),
            Err(e) if e.is_retryable() && attempt < attempts => {
                tokio::time::sleep(backoff(attempt)).await;
                attempt += 1;
            }
            Err(mut e) => {
                if e.is_retryable() {
                    e.message = format!("{} (gave up after {attempt} attempts)", e.message);
                }
                return Err(e);
            }
        }
    }
}

/// Parts hashed at once (see `send_parts`); the blocking pool has 16 threads.
const HASH_JOBS: usize = 4;

/// Hashing reads the file through a buffer of this size, one per hash job (so
/// at most [`HASH_JOBS`] exist): big enough that syscalls cost little next to
/// the hash, small enough to stay in the L2 cache between the copy and the hash.
const HASH_CHUNK: usize = 128 * 1024;

/// The SHA-256 of one part, read with positioned reads (blocking).
fn hash_part(file: &File, part: Part) -> std::io::Result<[u8; 32]> {
    let mut buf = vec![0; HASH_CHUNK.min(part.len as usize)];
    let mut h = Sha256::new();
    let mut at = part.offset;
    let end = part.offset + part.len;
    while at < end {
        let n = (end - at).min(HASH_CHUNK as u64) as usize;
        file.read_exact_at(&mut buf[..n], at)?;
        h.update(&buf[..n]);
        at += n as u64;
    }
    Ok(h.finalize().into())
}

/// Hashes one part on the blocking pool.
pub async fn hash(file: Arc<File>, part: Part) -> std::io::Result<[u8; 32]> {
    tokio::task::spawn_blocking(move || hash_part(&file, part))
        .await
        .map_err(std::io::Error::other)?
}

/// Sends `part` with `send`, retried up to `attempts` times. The bar moves as
/// the body goes out, and a failed attempt takes its bytes back (see
/// [`crate::progress::Attempt`]), so a resent part is counted once.
pub async fn send_metered<T, F, Fut>(
    attempts: u32,
    progress: &Arc<Progress>,
    file: &Arc<File>,
    part: Part,
    mut send: F,
) -> Result<T, S3Error>
where
    F: FnMut(FileRange) -> Fut,
    Fut: Future<Output = Result<T, S3Error>>,
{
    retry(attempts, || {
        let attempt = progress.attempt();
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

/// Base64, as S3 writes checksums.
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The checksum S3 reports for a completed multipart upload with SHA-256:
/// the SHA-256 of the parts' digests, then "-N".
pub fn composite_sha256(parts: &[PartRecord]) -> Option<String> {
    use base64::Engine;
    let mut h = Sha256::new();
    for p in parts {
        h.update(
            base64::engine::general_purpose::STANDARD
                .decode(&p.sha256)
                .ok()?,
        );
    }
    Some(format!("{}-{}", b64(&h.finalize()), parts.len()))
}

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

/// Everything a multipart run needs.
pub struct Run<S: Store> {
    pub store: Arc<S>,
    pub dir: JournalDir,
    pub file: Arc<File>,
    pub plan: Plan,
    pub concurrency: u32,
    pub attempts: u32,
    pub show_progress: bool,
    pub cancel: Cancel,
    pub timings: Arc<Timings>,
}

/// When things happened in a run, printed with `S3UP_TIMINGS=1` (for scripts/bench).
#[derive(Debug)]
pub struct Timings {
    /// When the command started.
    pub start: std::time::Instant,
    /// Milliseconds from `start` to the first UploadPart request.
    pub first_part_ms: std::sync::OnceLock<u128>,
}

impl Timings {
    pub fn new(start: std::time::Instant) -> Arc<Timings> {
        Arc::new(Timings {
            start,
            first_part_ms: std::sync::OnceLock::new(),
        })
    }
}

/// Why a run stopped early.
enum Stop {
    Part(u32, S3Error),
    Read(u32, std::io::Error),
    /// A worker task died (a bug); the message says how.
    Worker(String),
    /// The journal writer refused a part: a save failed, and `finish` says why.
    Journal,
    Cancelled,
}

/// Sends `todo` (parts not yet on S3), completes the upload and removes the
/// journal. `journal` must already be saved and `lock` held.
pub async fn run_multipart<S: Store>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
    todo: Vec<Part>,
) -> Result<(Journal, Finished), Error> {
    let progress = Arc::new(Progress::new(
        run.show_progress,
        run.plan.size,
        journal.bytes_done(),
        run.plan.part_count,
        journal.parts.len() as u64,
    ));
    let writer = JournalWriter::spawn(run.dir.clone(), journal.clone());
    let todo_len = todo.len();
    let stopped = send_parts(run, &journal, &writer, &progress, todo).await;
    progress.finish();
    let saved = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    let id = journal.id.clone();
    if let Some(Stop::Cancelled) = stopped {
        return Err(Error::Interrupted { id });
    }
    // The last good journal is on disk and the upload is open: resumable.
    let (journal, stats) = saved.map_err(|e| Error::Resumable {
        reason: format!(
            "cannot save the journal in '{}': {e}. Free space or fix permissions there first \
             (parts missing from the journal are sent again)",
            run.dir.path().display()
        ),
        id: id.clone(),
    })?;
    // Whatever stopped the run, a changed file is the first thing to say:
    // resuming it would be refused anyway.
    if stopped.is_some() && source_changed(&journal) {
        return Err(changed_error(&journal));
    }
    let reason = match stopped {
        None | Some(Stop::Cancelled) | Some(Stop::Journal) => None,
        Some(Stop::Read(n, e)) => Some(format!(
            "cannot read part {n} of '{}': {e}",
            journal.source.path.display()
        )),
        Some(Stop::Worker(e)) => Some(format!("an upload task failed: {e}")),
        Some(Stop::Part(n, e)) => return Err(stopped_by(run, &journal, Some(n), e)),
    };
    if std::env::var_os("S3UP_TIMINGS").is_some() {
        eprintln!(
            "s3up: timings: first part sent {} ms after start; {} parts in {} ms; \
             {} journal saves took {} ms",
            run.timings.first_part_ms.get().copied().unwrap_or(0),
            todo_len,
            run.timings.start.elapsed().as_millis(),
            stats.saves,
            stats.time.as_millis()
        );
    }
    if let Some(reason) = reason {
        return Err(Error::Resumable { reason, id });
    }
    complete(run, journal, lock).await
}

async fn send_parts<S: Store>(
    run: &Run<S>,
    journal: &Journal,
    writer: &JournalWriter,
    progress: &Arc<Progress>,
    todo: Vec<Part>,
) -> Option<Stop> {
    let permits = Arc::new(Semaphore::new(run.concurrency as usize));
    // Hashing is CPU-bound: a few at once keep the cores busy, and leave the
    // blocking pool free for the body reads of parts already on the wire
    // (which would otherwise queue behind hashes and look stalled).
    let hashing = Arc::new(Semaphore::new(HASH_JOBS));
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

    for part in todo {
        // The permit comes before the read, so at most `concurrency` parts are
        // in memory. A failing part closes the semaphore, so no part starts
        // after a failure, however the wake-ups race.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_closed) => break,
            },
            () = run.cancel.cancelled() => { set.shutdown().await; return Some(Stop::Cancelled); }
        };
        while let Some(res) = set.try_join_next() {
            note(res, &mut stop);
        }
        if stop.is_some() {
            break;
        }
        let store = run.store.clone();
        let file = run.file.clone();
        let tx = writer.sender();
        let progress = progress.clone();
        let permits = permits.clone();
        let hashing = hashing.clone();
        let (bucket, key, upload_id) = (
            journal.bucket.clone(),
            journal.key.clone(),
            journal.upload_id.clone(),
        );
        let attempts = run.attempts;
        let timings = run.timings.clone();
        set.spawn(async move {
            let result = async {
                let sha = {
                    let _hashing = hashing
                        .acquire()
                        .await
                        .map_err(|e| Stop::Worker(e.to_string()))?;
                    hash(file.clone(), part)
                        .await
                        .map_err(|e| Stop::Read(part.number, e))?
                };
                timings
                    .first_part_ms
                    .get_or_init(|| timings.start.elapsed().as_millis());
                // The bytes are read a second time as they are sent; if the file
                // changed in between, S3's checksum check rejects the part.
                let etag = send_metered(attempts, &progress, &file, part, |body| {
                    store.upload_part(&bucket, &key, &upload_id, part.number, body, sha)
                })
                .await
                .map_err(|e| Stop::Part(part.number, e))?;
                tx.record(PartRecord {
                    number: part.number,
                    size: part.len,
                    etag,
                    sha256: b64(&sha),
                })
                .map_err(|_| Stop::Journal)?;
                progress.part_done();
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
    // No new parts; let the ones in flight finish so they are journalled.
    loop {
        tokio::select! {
            res = set.join_next() => match res {
                None => break,
                Some(res) => note(res, &mut stop),
            },
            () = run.cancel.cancelled() => { set.shutdown().await; return Some(Stop::Cancelled); }
        }
    }
    stop
}

/// Turns the error that stopped a run into what the user reads.
fn stopped_by<S: Store>(run: &Run<S>, journal: &Journal, part: Option<u32>, e: S3Error) -> Error {
    let what = match part {
        Some(n) => format!("part {n} of {}: {e}", run.plan.part_count),
        None => e.to_string(),
    };
    let id = journal.id.clone();
    match e.kind {
        ErrorKind::NoSuchUpload => {
            let _ = run.dir.remove(&id);
            Error::failed(format!(
                "{what}. The upload no longer exists on S3 (aborted or expired), so the journal \
                 {id} was removed: run `s3up put` again"
            ))
        }
        ErrorKind::AccessDenied => Error::Resumable {
            reason: format!(
                "{what}. Check the credentials (AWS_ACCESS_KEY_ID, --profile) and the bucket policy"
            ),
            id,
        },
        _ => Error::Resumable { reason: what, id },
    }
}

/// True when the file no longer has the size and mtime the journal recorded.
fn source_changed(journal: &Journal) -> bool {
    let now = std::fs::metadata(&journal.source.path).map(|m| Source::of(&journal.source.path, &m));
    now.as_ref().ok() != Some(&journal.source)
}

fn changed_error(journal: &Journal) -> Error {
    Error::failed(format!(
        "'{}' changed while it was being uploaded, so the upload was not completed. \
         Run `s3up abort {}` and put the file again",
        journal.source.path.display(),
        journal.id
    ))
}

/// True when the object S3 holds is the one these parts make: a retried
/// Complete whose first answer was lost finds the upload already completed.
pub fn is_our_object(info: &ObjectInfo, journal: &Journal) -> bool {
    if info.size != journal.source.size {
        return false;
    }
    match (&info.checksum_sha256, composite_sha256(&journal.parts)) {
        (Some(got), Some(want)) => digest_part(got) == digest_part(&want),
        // Without a checksum, the multipart ETag's "-N" suffix is all there is.
        _ => info.etag.as_deref().is_some_and(|e| {
            e.trim_matches('"')
                .ends_with(&format!("-{}", journal.parts.len()))
        }),
    }
}

/// The digest of a composite checksum "DIGEST-N"; stores differ on the suffix.
fn digest_part(checksum: &str) -> &str {
    checksum.split('-').next().unwrap_or("")
}

/// Checks the source and the journal, completes the upload, verifies the
/// object and removes the journal.
async fn complete<S: Store>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
) -> Result<(Journal, Finished), Error> {
    let id = journal.id.clone();
    // scripts/bench builds an open 10,000-part upload this way (stores such as
    // Garage would otherwise complete its 4 KiB parts); never in a normal build.
    #[cfg(feature = "bench-floor")]
    if std::env::var_os("S3UP_BENCH_STOP_BEFORE_COMPLETE").is_some() {
        return Err(Error::Resumable {
            reason: "stopped before Complete (S3UP_BENCH_STOP_BEFORE_COMPLETE)".to_string(),
            id,
        });
    }
    let missing = journal.missing(&run.plan).count();
    if missing > 0 {
        return Err(Error::Resumable {
            reason: format!("{missing} parts were not uploaded"),
            id,
        });
    }
    // Never complete an object that mixes old and new bytes.
    if source_changed(&journal) {
        return Err(changed_error(&journal));
    }
    let parts: Vec<CompletedPart> = journal
        .parts
        .iter()
        .map(|p| CompletedPart {
            number: p.number,
            etag: p.etag.clone(),
            sha256: p.sha256.clone(),
        })
        .collect();
    let dest = format!("s3://{}/{}", journal.bucket, journal.key);
    let mut attempts_made = 0;
    let completing = retry(run.attempts, || {
        attempts_made += 1;
        run.store.complete_upload(
            &journal.bucket,
            &journal.key,
            &journal.upload_id,
            &parts,
            journal.object.if_none_match,
        )
    });
    let result = tokio::select! {
        r = completing => r,
        () = run.cancel.cancelled() => return Err(Error::Interrupted { id }),
    };
    let finished = match result {
        Ok(f) => f,
        Err(e) => {
            let lost_answer = attempts_made > 1
                && matches!(
                    e.kind,
                    ErrorKind::NoSuchUpload | ErrorKind::PreconditionFailed
                );
            let ours = if lost_answer {
                run.store
                    .head_object(&journal.bucket, &journal.key)
                    .await
                    .ok()
                    .flatten()
                    .filter(|info| is_our_object(info, &journal))
            } else {
                None
            };
            match (ours, e.kind) {
                (Some(info), _) => Finished {
                    etag: info.etag,
                    checksum_sha256: info.checksum_sha256,
                },
                (None, ErrorKind::PreconditionFailed) => {
                    let _ = run
                        .store
                        .abort_upload(&journal.bucket, &journal.key, &journal.upload_id)
                        .await;
                    let _ = run.dir.remove(&id);
                    return Err(Error::failed(format!(
                        "'{dest}' already exists and --if-none-match was given, so the upload \
                         was aborted. Choose another key, or drop --if-none-match to overwrite"
                    )));
                }
                (None, _) => return Err(stopped_by(run, &journal, None, e)),
            }
        }
    };
    if let (Some(got), Some(want)) = (&finished.checksum_sha256, composite_sha256(&journal.parts)) {
        if digest_part(got) != digest_part(&want) {
            return Err(Error::failed(format!(
                "S3 completed '{dest}' but reports checksum {got}, while the parts sent give \
                 {want}. The object may be damaged: upload it again"
            )));
        }
    }
    run.dir.remove(&id).map_err(|e| {
        Error::failed(format!(
            "the upload completed, but the journal {} could not be removed: {e}. Remove it by hand",
            run.dir.journal_path(&id).display()
        ))
    })?;
    drop(lock);
    Ok((journal, finished))
}
