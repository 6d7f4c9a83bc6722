//! Complete, and recognising an object whose Complete answer was lost.
//!
//! Complete is retried like any call. If an attempt's answer was lost, the
//! next attempt finds the upload gone (NoSuchUpload) or, with
//! `if_none_match`, the key taken (PreconditionFailed); the store is then
//! asked whether the object its Complete would have made is there, and it is
//! taken for ours only when its size and composite checksum match the parts.

use sha2::{Digest, Sha256};

use super::parts::{stopped_by, Run};
use super::retry::retry;
use super::{Dest, Error};
use crate::journal::{Journal, Lock, PartRecord, Source};
use crate::store::{b64, CompletedPart, ErrorKind, Finished, ObjectInfo, Store};

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
    let now = std::fs::metadata(&journal.source.path).map(|m| Source::of(&journal.source.path, &m));
    now.as_ref().ok() != Some(&journal.source)
}

/// True when the object the store holds is the one these parts make: a retried
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

/// The object the store holds at the upload's key, if it is the one these
/// parts make: how a Complete whose answer was lost is recognised.
pub async fn landed<S: Store>(store: &S, journal: &Journal) -> Option<ObjectInfo> {
    store
        .completed_object(&journal.upload())
        .await
        .ok()
        .flatten()
        .filter(|info| is_our_object(info, journal))
}

fn dest_of(journal: &Journal) -> Dest {
    Dest {
        bucket: journal.bucket.clone(),
        key: journal.key.clone(),
    }
}

/// Checks the source and the journal, completes the upload, verifies the
/// object and removes the journal.
pub(super) async fn complete<S: Store>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
) -> Result<(Journal, Finished), Error> {
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
    let parts: Vec<CompletedPart> = journal
        .parts
        .iter()
        .map(|p| CompletedPart {
            number: p.number,
            etag: p.etag.clone(),
            sha256: p.sha256.clone(),
        })
        .collect();
    let upload = journal.upload();
    let mut attempts_made = 0;
    let completing = retry(run.attempts, || {
        attempts_made += 1;
        run.store
            .complete_upload(&upload, &parts, journal.object.if_none_match)
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
                landed(&*run.store, &journal).await
            } else {
                None
            };
            match (ours, e.kind) {
                (Some(info), _) => Finished {
                    etag: info.etag,
                    checksum_sha256: info.checksum_sha256,
                },
                (None, ErrorKind::PreconditionFailed) => {
                    let _ = run.store.abort_upload(&upload).await;
                    let _ = run.dir.remove(&id);
                    return Err(Error::Exists {
                        dest: dest_of(&journal),
                        aborted: true,
                    });
                }
                (None, _) => return Err(stopped_by(run, &journal, None, e)),
            }
        }
    };
    if let (Some(got), Some(want)) = (&finished.checksum_sha256, composite_sha256(&journal.parts)) {
        if digest_part(got) != digest_part(&want) {
            return Err(Error::ChecksumMismatch {
                dest: dest_of(&journal),
                got: got.clone(),
                want,
                multipart: true,
            });
        }
    }
    run.dir.remove(&id).map_err(|error| Error::JournalRemove {
        path: run.dir.journal_path(&id),
        error,
    })?;
    drop(lock);
    Ok((journal, finished))
}
