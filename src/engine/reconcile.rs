//! Resume: the journal against what the store holds.
//!
//! A part counts as uploaded only when the store lists it with the ETag (and,
//! where the store reports one, the checksum) the journal recorded, at its
//! planned size. Anything else (parts the store has that the journal lost,
//! parts the journal has that the store lost) is simply sent again. With
//! `verify`, every trusted part is also re-read and re-hashed.

use std::fs::File;
use std::sync::Arc;

use super::complete::{landed, Landed};
use super::gone::forget_if_gone;
use super::parts::hash;
use super::retry::retry;
use super::{Cancel, Dest, Error};
use crate::journal::{self, Journal, JournalDir, Source};
use crate::plan::{Part, Plan};
use crate::store::{b64, ErrorKind, ListUploads, ObjectInfo};

/// What resuming an upload comes to.
#[derive(Debug)]
pub enum Reconciled {
    /// The upload is gone because an earlier Complete landed after its run
    /// stopped waiting: the object is this file's. The journal was removed.
    AlreadyCompleted(ObjectInfo),
    /// The journal now holds exactly the parts to trust (and is saved); `todo`
    /// is what is left to send.
    Ready {
        journal: Box<Journal>,
        todo: Vec<Part>,
    },
}

/// True when the source still has the size and mtime the journal recorded.
pub fn source_unchanged(journal: &Journal, now: &Source) -> bool {
    now.size == journal.source.size && now.mtime_ns == journal.source.mtime_ns
}

/// Refuses a source that no longer has the size and mtime the journal recorded.
pub fn check_source(journal: &Journal, now: &Source) -> Result<(), Error> {
    if !source_unchanged(journal, now) {
        return Err(Error::ChangedSince {
            id: journal.id.clone(),
            path: journal.source.path.clone(),
            size_then: journal.source.size,
            size_now: now.size,
        });
    }
    Ok(())
}

/// Lists the parts the store holds and keeps in the journal only those it can
/// trust; see the module docs.
#[allow(clippy::too_many_arguments)]
pub async fn reconcile<S: ListUploads>(
    store: &S,
    dir: &JournalDir,
    mut journal: Journal,
    file: &Arc<File>,
    plan: &Plan,
    verify: bool,
    attempts: u32,
    cancel: &Cancel,
    at_recorded_endpoint: bool,
) -> Result<Reconciled, Error> {
    let id = journal.id.clone();
    let upload = journal.upload();
    let dest = Dest {
        bucket: journal.bucket.clone(),
        key: journal.key.clone(),
    };
    let listing = retry(attempts, || store.list_parts(&upload));
    let listed = tokio::select! {
        listed = listing => listed,
        () = cancel.cancelled() => return Err(Error::Interrupted { id }),
    };
    let listed = match listed {
        Ok(l) => l,
        // Every part was sent and the upload is gone: an earlier run's Complete
        // may have finished on the store after that run stopped waiting for it.
        Err(e) if e.kind == ErrorKind::NoSuchUpload => {
            let all_sent = journal.missing(plan).next().is_none();
            let done = if all_sent && at_recorded_endpoint {
                landed(store, &journal, attempts).await
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
                    let kept = forget_if_gone(store, dir, &journal, at_recorded_endpoint, attempts)
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
    let mut trusted: Vec<_> = journal
        .parts
        .iter()
        .filter(|r| {
            let planned = plan.part(r.number).map(|p| p.len);
            listed.iter().any(|l| {
                l.number == r.number
                    && l.etag == r.etag
                    && Some(l.size) == planned
                    && Some(r.size) == planned
                    && l.checksum_sha256.as_ref().is_none_or(|c| *c == r.sha256)
            })
        })
        .cloned()
        .collect();
    if verify {
        for r in &trusted {
            let Some(part) = plan.part(r.number) else {
                continue;
            };
            let sha = hash(file.clone(), part)
                .await
                .map_err(|error| Error::Source {
                    path: journal.source.path.clone(),
                    error,
                })?;
            if b64(&sha) != r.sha256 {
                return Err(Error::PartChanged {
                    id,
                    path: journal.source.path.clone(),
                    number: r.number,
                });
            }
        }
    }
    trusted.sort_by_key(|r| r.number);
    journal.parts = trusted;
    journal.updated_unix = journal::now_unix();
    dir.save_async(&journal)
        .await
        .map_err(|error| Error::JournalResave {
            dir: dir.path().to_path_buf(),
            error,
        })?;
    let todo = journal.missing(plan).collect();
    Ok(Reconciled::Ready {
        journal: Box::new(journal),
        todo,
    })
}
