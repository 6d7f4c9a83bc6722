//! Resume: the journal against what the store holds.
//!
//! Every planned part that the store lists at its planned size falls in one
//! of two groups:
//! - **journalled**: the journal recorded it with the ETag (and, where the
//!   store lists one, the SHA-256) the store lists. With `verify` (the
//!   default in the CLI) it is a candidate, checked against the SHA-256 the
//!   journal recorded; without, it is trusted as it is: size and mtime are
//!   all that vouch for the file's bytes.
//! - **not journalled** (a SIGKILL lost the journal's last saves, or the
//!   record disagrees with the store): a candidate, checked against the
//!   SHA-256 the store lists, else the MD5 in its ETag, whatever `verify`
//!   says: adopting it unchecked could put another file's bytes in the
//!   object. With neither, it is sent again.
//!
//! Candidates are verified in the background while the rest is sent (see
//! [`super::verify`]). Everything else (parts the store lost, parts at
//! another size) is sent again: re-uploading a part number replaces it.
//!
//! The journal is saved holding only the trusted parts, so a record exists
//! only for bytes that were checked (or, without `verify`, vouched for by
//! size and mtime); a verified candidate is recorded as it passes.

use std::collections::HashMap;

use super::complete::{landed, Landed};
use super::gone::forget_if_gone;
use super::retry::{retry, Retry};
use super::verify::{Candidate, Expect};
use super::{Cancel, Error};
use crate::journal::{Journal, JournalDir, Source};
use crate::plan::{Part, Plan};
use crate::store::{ErrorKind, ObjectInfo, Store};

/// What resuming an upload comes to.
#[derive(Debug)]
pub enum Reconciled {
    /// The upload is gone because an earlier Complete landed after its run
    /// stopped waiting: the object is this file's. The journal was removed.
    AlreadyCompleted(ObjectInfo),
    /// The journal now holds exactly the parts to trust (and is saved);
    /// `candidates` are to be verified against the file, and `todo` is what is
    /// left to send.
    Ready {
        journal: Box<Journal>,
        todo: Vec<Part>,
        candidates: Vec<Candidate>,
    },
}

/// What became of the source since the journal recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceState {
    /// Same size and mtime.
    Unchanged,
    /// Same size, another mtime: `touch`ed, or rewritten in place. Only
    /// hashing the parts can tell, so a resume must verify every part it
    /// reuses (see [`super::verify`]); the new mtime is recorded once it does.
    Touched,
}

/// Refuses a source whose size is not what the journal recorded: no part of
/// the plan would fit it. A new mtime alone is [`SourceState::Touched`].
pub fn check_source(journal: &Journal, now: &Source) -> Result<SourceState, Error> {
    if now.size != journal.source.size {
        return Err(Error::ChangedSince {
            id: journal.id.clone(),
            path: journal.source.path.clone(),
            size_then: journal.source.size,
            size_now: now.size,
        });
    }
    Ok(if now.mtime_ns == journal.source.mtime_ns {
        SourceState::Unchanged
    } else {
        SourceState::Touched
    })
}

/// Lists the parts the store holds and sorts them into trusted parts (kept in
/// the journal), candidates to verify, and parts to send; see the module docs.
#[allow(clippy::too_many_arguments)]
pub async fn reconcile<S: Store>(
    store: &S,
    dir: &JournalDir,
    mut journal: Journal,
    plan: &Plan,
    verify: bool,
    policy: &Retry,
    cancel: &Cancel,
    at_recorded_endpoint: bool,
) -> Result<Reconciled, Error> {
    let id = journal.id.clone();
    let upload = journal.upload();
    let dest = journal.location();
    let listing = retry(policy, || store.list_parts(&upload));
    let listed = tokio::select! {
        listed = listing => listed,
        () = cancel.cancelled() => return Err(Error::Interrupted { id, saved: None }),
    };
    let listed = match listed {
        Ok(l) => l,
        // Every part was sent and the upload is gone: an earlier run's Complete
        // may have finished on the store after that run stopped waiting for it.
        Err(e) if e.kind == ErrorKind::NoSuchUpload => {
            let all_sent = journal.missing(plan).next().is_none();
            let done = if all_sent && at_recorded_endpoint {
                landed(store, &journal, policy).await
            } else {
                Landed::NotOurs
            };
            return match done {
                Landed::Ours(info) => {
                    let _ = dir.remove_async(&id).await;
                    Ok(Reconciled::AlreadyCompleted(info))
                }
                Landed::Unknown(check) => Err(Error::Undetermined {
                    id,
                    dest,
                    error: Box::new(e),
                    check: Box::new(check),
                }),
                Landed::NotOurs => {
                    let kept = forget_if_gone(store, dir, &journal, at_recorded_endpoint, policy)
                        .await
                        .err()
                        .map(Box::new);
                    Err(Error::GoneAtResume {
                        id,
                        dest,
                        path: journal.source.path.clone(),
                        all_sent,
                        kept,
                    })
                }
            };
        }
        Err(error) => {
            return Err(Error::ListFailed {
                id,
                dest,
                error: Box::new(error),
            })
        }
    };
    let listed: HashMap<u32, _> = listed.iter().map(|l| (l.number, l)).collect();
    let mut trusted = Vec::new();
    let mut candidates = Vec::new();
    let mut todo = Vec::new();
    for part in plan.parts() {
        let Some(l) = listed.get(&part.number).filter(|l| l.size == part.len) else {
            todo.push(part);
            continue;
        };
        let journalled = journal
            .parts
            .binary_search_by_key(&part.number, |r| r.number)
            .ok()
            .map(|i| &journal.parts[i])
            .filter(|r| {
                r.etag == l.etag
                    && r.size == part.len
                    && l.checksum_sha256.as_ref().is_none_or(|c| *c == r.sha256)
            });
        let expect = match journalled {
            Some(r) if !verify => {
                trusted.push(r.clone());
                continue;
            }
            Some(r) => Some(Expect::Sha256(r.sha256.clone())),
            None => Expect::listed(l, journal.object.extras.etag_is_md5()),
        };
        match expect {
            Some(expect) => candidates.push(Candidate {
                part,
                etag: l.etag.clone(),
                expect,
            }),
            None => todo.push(part),
        }
    }
    journal.parts = trusted;
    journal.updated_unix = crate::units::now_unix();
    dir.save_async(&journal)
        .await
        .map_err(|error| Error::JournalResave {
            dir: dir.path().to_path_buf(),
            error,
        })?;
    Ok(Reconciled::Ready {
        journal: Box::new(journal),
        todo,
        candidates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::tests::sample;

    // Issue 13, item 2: a new mtime alone is no longer a refusal.
    #[test]
    fn only_a_new_size_is_a_changed_source() {
        let journal = sample(vec![]);
        let now = |size, mtime_ns| Source {
            path: journal.source.path.clone(),
            size,
            mtime_ns,
        };
        let (size, mtime) = (journal.source.size, journal.source.mtime_ns);
        assert_eq!(
            check_source(&journal, &now(size, mtime)).ok(),
            Some(SourceState::Unchanged)
        );
        assert_eq!(
            check_source(&journal, &now(size, mtime + 1)).ok(),
            Some(SourceState::Touched)
        );
        assert!(matches!(
            check_source(&journal, &now(size + 1, mtime)),
            Err(Error::ChangedSince { size_now, .. }) if size_now == size + 1
        ));
    }
}
