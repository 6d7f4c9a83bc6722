//! Complete, and recognising an object whose Complete answer was lost.
//!
//! Complete is retried like any call. If an attempt's answer was lost, the
//! next attempt finds the upload gone (NoSuchUpload) or, with
//! `if_none_match`, the key taken (PreconditionFailed); the store is then
//! asked (with retries) whether the object its Complete would have made is
//! there. It is taken for ours only when its size matches and either its
//! composite SHA-256 or its multipart ETag (computed from the parts' ETags)
//! matches the parts. When that cannot be told (the check failed, or a 403 for
//! a role that may write but not read, or no checksum and no MD5 ETags), the
//! journal is kept: one unconfirmed answer never removes it.

use sha2::{Digest, Sha256};

use super::abort::until_gone;
use super::checksum;
use super::context::Run;
use super::gone::stopped_by;
use super::retry::{retry, Retry};
use super::Error;
use crate::journal::{Journal, Lock, PartRecord, Source};
use crate::store::{b64, ErrorKind, Finished, ObjectInfo, Store, StoreError};

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

/// True when the file no longer has the size and mtime the journal recorded.
pub fn source_changed(journal: &Journal) -> bool {
    // A stream is checked part by part as it is read (`super::stream`).
    if journal.stream.is_some() {
        return false;
    }
    let now = std::fs::metadata(&journal.source.path).map(|m| Source::of(&journal.source.path, &m));
    now.as_ref().ok() != Some(&journal.source)
}

/// The ETag S3 gives a completed multipart upload: the MD5 of the parts'
/// binary MD5s, then "-N". `None` when a part's ETag is not a plain MD5 (as
/// with SSE-KMS), so the expected value cannot be known.
pub fn multipart_etag(parts: &[PartRecord]) -> Option<String> {
    use md5::{Digest as _, Md5};
    let mut h = Md5::new();
    for p in parts {
        let hexed = p.etag.trim_matches('"');
        if hexed.len() != 32 {
            return None;
        }
        h.update(hex::decode(hexed).ok()?);
    }
    Some(format!("{}-{}", hex::encode(h.finalize()), parts.len()))
}

/// Whether an object is the one an upload's parts make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ours,
    NotOurs,
    /// Neither a checksum nor a computable ETag to compare with.
    CannotTell,
}

/// Compares the object the store holds with the one these parts make: a
/// retried Complete whose first answer was lost finds the upload already completed.
pub fn is_our_object(info: &ObjectInfo, journal: &Journal) -> Verdict {
    if info.size != journal.source.size {
        return Verdict::NotOurs;
    }
    let same = |yes: bool| if yes { Verdict::Ours } else { Verdict::NotOurs };
    if let Some(want) = checksum::expected(journal) {
        let got = checksum::reported_by_object(&want, info);
        if let Some(yes) = checksum::compare(&want, got.as_deref()) {
            return same(yes);
        }
    }
    // With SSE-KMS or SSE-C the ETag is no MD5: an object that is ours
    // would not match, and one that is not could not be told.
    let etag_is_md5 = journal.object.extras.etag_is_md5();
    match (
        &info.etag,
        multipart_etag(&journal.parts).filter(|_| etag_is_md5),
    ) {
        (Some(got), Some(want)) => same(got.trim_matches('"') == want),
        _ => Verdict::CannotTell,
    }
}

/// What the store holds where an upload's Complete would have put its object.
#[derive(Debug)]
pub enum Landed {
    /// The object there is the one these parts make.
    Ours(ObjectInfo),
    /// No object, or another one.
    NotOurs,
    /// It could not be told: the check failed, or there was nothing to
    /// compare. The journal must be kept.
    Unknown(StoreError),
}

/// Asks the store (with retries) whether the object an upload's Complete would
/// make is there: how a Complete whose answer was lost is recognised.
pub async fn landed<S: Store>(store: &S, journal: &Journal, policy: &Retry) -> Landed {
    let upload = journal.upload();
    match retry(policy, || store.completed_object(&upload)).await {
        Err(e) => Landed::Unknown(e),
        Ok(None) => Landed::NotOurs,
        Ok(Some(info)) => match is_our_object(&info, journal) {
            Verdict::Ours => Landed::Ours(info),
            Verdict::NotOurs => Landed::NotOurs,
            Verdict::CannotTell => Landed::Unknown(StoreError::new(
                ErrorKind::Fatal,
                "HeadObject",
                "the object reports neither a SHA-256 checksum nor a multipart ETag to compare with",
            )),
        },
    }
}

/// How a Complete that did not fail ended.
pub(super) enum Completion {
    /// The object is made and the journal removed.
    Done(Journal, Finished),
    /// The store refused a part it lists as uploaded (InvalidPart): a later
    /// attempt at that part, which never finished, shadows the finished one.
    /// Garage 2.5.0 completes each part's latest attempt, and a killed
    /// client's part can reach it late (left in a middlebox's buffers, or
    /// still trickling through a slow link) after a resume sent that part
    /// again; ListParts shows the finished one, so every resume would list
    /// the parts as good and be refused again. Sending the parts once more
    /// makes the newest attempts finished ones. The journal and the upload
    /// are kept.
    Shadowed {
        journal: Journal,
        lock: Lock,
        error: StoreError,
    },
}

impl Completion {
    /// The object, or, for a shadowed part, the error a run stopped by the
    /// store's refusal ends with (the journal kept).
    pub(super) async fn or_stop<S: Store>(
        self,
        run: &Run<S>,
    ) -> Result<(Journal, Finished), Error> {
        match self {
            Completion::Done(journal, finished) => Ok((journal, finished)),
            Completion::Shadowed { journal, error, .. } => {
                Err(stopped_by(run, &journal, None, error).await)
            }
        }
    }
}

/// True for Complete's refusal of a part it was named: S3's `InvalidPart`,
/// as the SDK, `serve` (400) or the memory store passes it on, or as
/// Companion relays it (a 500, so retried first). `InvalidPartOrder` is
/// another matter, which sending the parts again would not change.
pub(super) fn is_invalid_part(e: &StoreError) -> bool {
    e.message
        .match_indices("InvalidPart")
        .any(|(at, _)| !e.message[at..].starts_with("InvalidPartOrder"))
}

/// Checks the source and the journal, completes the upload, verifies the
/// object and removes the journal.
pub(super) async fn complete<S: Store>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
) -> Result<Completion, Error> {
    let id = journal.id.clone();
    if run.stop_before_complete {
        return Err(Error::StoppedBeforeComplete { id });
    }
    let missing = journal.missing(&run.plan).count();
    if missing > 0 {
        return Err(Error::Incomplete { id, missing });
    }
    // Never complete an object that mixes old and new bytes.
    if source_changed(&journal) {
        return Err(Error::ChangedDuringUpload {
            id,
            path: journal.source.path.clone(),
        });
    }
    let parts = checksum::completed_parts(&journal);
    let whole = checksum::whole(&journal);
    let upload = journal.upload();
    let mut attempts_made = 0;
    let completing = retry(&run.retry, || {
        attempts_made += 1;
        run.store.complete_upload(
            &upload,
            &parts,
            whole.as_ref(),
            journal.object.if_none_match,
        )
    });
    let result = tokio::select! {
        r = completing => r,
        () = run.cancel.cancelled() => {
            let n = run.plan.part_count;
            return Err(Error::Interrupted { id, saved: Some((n, n)) });
        }
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
                landed(&*run.store, &journal, &run.retry).await
            } else {
                Landed::NotOurs
            };
            match (ours, e.kind) {
                (Landed::Ours(info), _) => Finished {
                    location: None,
                    etag: info.etag,
                    checksum_sha256: info.checksum_sha256,
                    checksum: info.checksum,
                },
                (Landed::Unknown(check), _) => {
                    return Err(Error::Undetermined {
                        id,
                        dest: journal.location(),
                        error: Box::new(e),
                        check: Box::new(check),
                    })
                }
                (Landed::NotOurs, ErrorKind::PreconditionFailed) => {
                    // The key is taken by another object: abort ours, and
                    // forget it only once the store confirms it gone.
                    if let Err(error) = until_gone(&*run.store, &upload).await {
                        return Err(Error::Stopped {
                            id,
                            part: None,
                            error,
                        });
                    }
                    let _ = run.dir.remove_async(&id).await;
                    return Err(Error::Exists {
                        dest: journal.location(),
                        aborted: true,
                    });
                }
                (Landed::NotOurs, _) if is_invalid_part(&e) => {
                    return Ok(Completion::Shadowed {
                        journal,
                        lock,
                        error: e,
                    })
                }
                (Landed::NotOurs, _) => return Err(stopped_by(run, &journal, None, e).await),
            }
        }
    };
    if let Some(want) = checksum::expected(&journal) {
        let got = checksum::reported_by_finished(&want, &finished);
        if checksum::compare(&want, got.as_deref()) == Some(false) {
            return Err(Error::ChecksumMismatch {
                dest: journal.location(),
                got: got.unwrap_or_default(),
                want: want.b64,
                multipart: true,
            });
        }
    }
    run.dir
        .remove_async(&id)
        .await
        .map_err(|error| Error::JournalRemove {
            path: run.dir.journal_path(&id),
            error,
        })?;
    drop(lock);
    Ok(Completion::Done(journal, finished))
}
