//! The upload engine: workers, retries, completion, cancellation.
//!
//! Parts are read with positioned reads (`pread`), hashed once (SHA-256), and the
//! part-sized buffer is handed to the SDK as `Bytes` with no further copy, so
//! memory is about concurrency × part size. A worker takes its permit *before* it
//! reads, so no more than `concurrency` parts are ever in memory.
//!
//! Failure policy (DESIGN §2): only retryable errors are retried, with
//! exponential backoff and jitter, up to `attempts` per part. When a part runs
//! out of attempts, or fails in a way retrying cannot fix, no new part starts,
//! the parts in flight finish and are journalled, and the run stops resumable.
//!
//! Cancellation: `run_multipart` takes a `cancel` future (Ctrl-C in the binary).
//! When it fires, scheduling stops, in-flight requests are dropped, and every
//! part already acknowledged is flushed to the journal before returning.

use std::fs::File;
use std::future::Future;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::error::Error;
use crate::journal::{Journal, JournalDir, JournalWriter, Lock, PartRecord, Source};
use crate::plan::{Part, Plan};
use crate::progress::Progress;
use crate::s3::{CompletedPart, ErrorKind, Finished, S3Error, Store};

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

/// Reads one part with a positioned read and hashes it.
fn read_part(file: &File, part: Part) -> std::io::Result<(Bytes, [u8; 32])> {
    let mut buf = vec![0u8; part.len as usize];
    file.read_exact_at(&mut buf, part.offset)?;
    let sha: [u8; 32] = Sha256::digest(&buf).into();
    Ok((Bytes::from(buf), sha))
}

/// The base64 SHA-256 of one part of the file, for `resume --verify`.
pub fn hash_part(file: &File, part: Part) -> std::io::Result<String> {
    read_part(file, part).map(|(_, sha)| b64(&sha))
}

/// Reads and hashes the whole (small) file for a single PutObject.
pub async fn read_whole(file: Arc<File>, size: u64) -> std::io::Result<(Bytes, [u8; 32])> {
    let part = Part {
        number: 1,
        offset: 0,
        len: size,
    };
    tokio::task::spawn_blocking(move || read_part(&file, part))
        .await
        .map_err(std::io::Error::other)?
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

/// Everything a multipart run needs.
pub struct Run<S: Store> {
    pub store: Arc<S>,
    pub dir: JournalDir,
    pub file: Arc<File>,
    pub plan: Plan,
    pub concurrency: u32,
    pub attempts: u32,
    pub show_progress: bool,
}

/// Why a run stopped early.
enum Stop {
    Part(u32, S3Error),
    Read(u32, std::io::Error),
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
    cancel: impl Future<Output = ()>,
) -> Result<(Journal, Finished), Error> {
    let progress = Arc::new(Progress::new(
        run.show_progress,
        run.plan.size,
        journal.bytes_done(),
        run.plan.part_count,
        journal.parts.len() as u64,
    ));
    let writer = JournalWriter::spawn(run.dir.clone(), journal.clone());
    let stopped = send_parts(run, &journal, &writer, &progress, todo, cancel).await;
    progress.finish();
    let saved = writer.finish();
    let id = journal.id.clone();
    let journal = saved.map_err(|e| {
        Error::failed(format!(
            "cannot save the journal in '{}': {e}. Free space or fix permissions there, then \
             run `s3up resume {id}` (parts not in the journal are sent again)",
            run.dir.path().display()
        ))
    })?;
    match stopped {
        None => {}
        Some(Stop::Cancelled) => return Err(Error::Interrupted { id }),
        // The writer only refuses parts after a failed save, which `saved` reports above.
        Some(Stop::Journal) => {
            return Err(Error::Resumable {
                reason: "the journal writer stopped".to_string(),
                id,
            })
        }
        Some(Stop::Read(n, e)) => {
            return Err(Error::Resumable {
                reason: format!(
                    "cannot read part {n} of '{}': {e}",
                    journal.source.path.display()
                ),
                id,
            })
        }
        Some(Stop::Part(n, e)) => return Err(stopped_by(run, &journal, Some(n), e)),
    }
    complete(run, journal, lock).await
}

async fn send_parts<S: Store>(
    run: &Run<S>,
    journal: &Journal,
    writer: &JournalWriter,
    progress: &Arc<Progress>,
    todo: Vec<Part>,
    cancel: impl Future<Output = ()>,
) -> Option<Stop> {
    let permits = Arc::new(Semaphore::new(run.concurrency as usize));
    let mut set: JoinSet<Result<(), Stop>> = JoinSet::new();
    let mut stop: Option<Stop> = None;
    let mut todo = todo.into_iter();
    tokio::pin!(cancel);

    let note = |res: Result<Result<(), Stop>, tokio::task::JoinError>, stop: &mut Option<Stop>| {
        let err = match res {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(join) => Stop::Read(0, std::io::Error::other(join.to_string())),
        };
        stop.get_or_insert(err);
    };

    while stop.is_none() {
        let Some(part) = todo.next() else { break };
        // The permit comes before the read, so at most `concurrency` parts are in memory.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut cancel => { set.shutdown().await; return Some(Stop::Cancelled); }
        };
        // A failed part releases its permit too: look before starting another.
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
        let (bucket, key, upload_id) = (
            journal.bucket.clone(),
            journal.key.clone(),
            journal.upload_id.clone(),
        );
        let attempts = run.attempts;
        set.spawn(async move {
            let _permit = permit;
            let (body, sha) = tokio::task::spawn_blocking(move || read_part(&file, part))
                .await
                .map_err(|e| Stop::Read(part.number, std::io::Error::other(e)))?
                .map_err(|e| Stop::Read(part.number, e))?;
            let etag = retry(attempts, || {
                store.upload_part(&bucket, &key, &upload_id, part.number, body.clone(), sha)
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
            progress.part_done(part.len);
            Ok(())
        });
    }
    // No new parts; let the ones in flight finish so they are journalled.
    loop {
        tokio::select! {
            res = set.join_next() => match res {
                None => break,
                Some(res) => note(res, &mut stop),
            },
            () = &mut cancel => { set.shutdown().await; return Some(Stop::Cancelled); }
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

/// Checks the source and the journal, completes the upload, verifies the
/// object and removes the journal.
async fn complete<S: Store>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
) -> Result<(Journal, Finished), Error> {
    let id = journal.id.clone();
    let missing = run
        .plan
        .parts()
        .filter(|p| {
            journal
                .parts
                .binary_search_by_key(&p.number, |r| r.number)
                .is_err()
        })
        .count();
    if missing > 0 {
        return Err(Error::Resumable {
            reason: format!("{missing} parts were not uploaded"),
            id,
        });
    }
    // Never complete an object that mixes old and new bytes.
    let now = std::fs::metadata(&journal.source.path).map(|m| Source::of(&journal.source.path, &m));
    if now.as_ref().ok() != Some(&journal.source) {
        return Err(Error::failed(format!(
            "'{}' changed while it was being uploaded, so the upload was not completed. \
             Run `s3up abort {id}` and put the file again",
            journal.source.path.display()
        )));
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
    let finished = retry(run.attempts, || {
        run.store.complete_upload(
            &journal.bucket,
            &journal.key,
            &journal.upload_id,
            &parts,
            journal.object.if_none_match,
        )
    })
    .await;
    let finished = match finished {
        Ok(f) => f,
        Err(e) if e.kind == ErrorKind::PreconditionFailed => {
            let _ = run
                .store
                .abort_upload(&journal.bucket, &journal.key, &journal.upload_id)
                .await;
            let _ = run.dir.remove(&id);
            return Err(Error::failed(format!(
                "s3://{}/{} already exists and --if-none-match was given, so the upload was \
                 aborted. Choose another key, or drop --if-none-match to overwrite",
                journal.bucket, journal.key
            )));
        }
        Err(e) => return Err(stopped_by(run, &journal, None, e)),
    };
    if let (Some(got), Some(want)) = (&finished.checksum_sha256, composite_sha256(&journal.parts)) {
        // Stores differ in how they report a composite checksum; compare the digest part.
        let digest = |s: &str| s.split('-').next().unwrap_or("").to_string();
        if digest(got) != digest(&want) {
            return Err(Error::failed(format!(
                "S3 completed s3://{}/{} but reports checksum {got}, while the parts sent give \
                 {want}. The object may be damaged: upload it again",
                journal.bucket, journal.key
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
