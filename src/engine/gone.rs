//! Deciding that an upload is gone, and only then forgetting its journal.
//!
//! A journal is the only record of an open upload that costs money, so it is
//! never removed on one unconfirmed answer. A NoSuchUpload counts only when:
//! - it came from the store the journal records (a resume pointed at another
//!   endpoint, with a bucket of the same name, would answer NoSuchUpload for an
//!   upload that is alive elsewhere), and
//! - ListMultipartUploads for the upload's key, on that store, does not list it.
//!
//! Anything less keeps the journal, and the caller says why. A run stopped
//! by a store error asks here what that error means for its journal
//! ([`stopped_by`]).

use super::context::Run;
use super::retry::{retry, Retry};
use super::Error;
use crate::journal::{Journal, JournalDir};
use crate::store::{ErrorKind, Store, StoreError};

/// Why an upload that a store called missing was not forgotten.
#[derive(Debug, Clone)]
pub enum Unconfirmed {
    /// The store reached is not the one the journal records.
    OtherEndpoint,
    /// ListMultipartUploads still lists the upload.
    StillListed,
    /// ListMultipartUploads could not be asked (denied, unreachable, not offered).
    CannotList(Box<StoreError>),
    /// The journal could not be removed.
    CannotRemove(String),
}

/// Confirms that `journal`'s upload is gone and removes the journal, or says
/// why it was kept. `at_recorded_endpoint`: the store reached is the one the
/// journal records.
pub async fn forget_if_gone<S: Store>(
    store: &S,
    dir: &JournalDir,
    journal: &Journal,
    at_recorded_endpoint: bool,
    policy: &Retry,
) -> Result<(), Unconfirmed> {
    if !at_recorded_endpoint {
        return Err(Unconfirmed::OtherEndpoint);
    }
    let listed = retry(policy, || store.list_uploads(&journal.bucket, &journal.key))
        .await
        .map_err(|e| Unconfirmed::CannotList(Box::new(e)))?;
    if listed
        .iter()
        .any(|u| u.upload_id == journal.upload_id && u.key == journal.key)
    {
        return Err(Unconfirmed::StillListed);
    }
    dir.remove_async(&journal.id)
        .await
        .map_err(|e| Unconfirmed::CannotRemove(e.to_string()))
}

/// What a store error that stopped a run means for the journal: an upload
/// the store confirms it no longer has is forgotten; anything else stays resumable.
pub(super) async fn stopped_by<S: Store>(
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
                &run.retry,
            )
            .await
            .err()
            .map(Box::new);
            Error::Gone {
                id,
                part,
                error: Box::new(error),
                kept,
            }
        }
        _ => Error::Stopped { id, part, error },
    }
}
