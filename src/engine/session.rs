//! Starting a multipart upload: Create, then the durable journal, or an abort.
//!
//! The UploadId must be durable before the first part is sent. If the journal
//! cannot be locked and saved, the upload is aborted rather than left as an
//! orphan nobody knows about.

use super::retry::retry;
use super::{Dest, Error};
use crate::journal::{self, Journal, JournalDir, Lock, Source, JOURNAL_VERSION};
use crate::plan::Plan;
use crate::store::{Connection, ObjectOptions, Store};

/// For a conditional write (`if_none_match`): fails with [`Error::Exists`] when the key is taken,
/// before anything is created, so there is nothing to clean up.
pub async fn check_absent<S: Store>(store: &S, dest: &Dest, attempts: u32) -> Result<(), Error> {
    let existing = retry(attempts, || store.head_object(&dest.bucket, &dest.key))
        .await
        .map_err(|error| Error::Store {
            dest: dest.clone(),
            error,
        })?;
    match existing {
        Some(_) => Err(Error::Exists {
            dest: dest.clone(),
            aborted: false,
        }),
        None => Ok(()),
    }
}

/// What a new upload is: where it goes, how, and from which file.
pub struct NewUpload {
    pub dest: Dest,
    pub object: ObjectOptions,
    /// How the store was reached, recorded so `resume` reconnects the same way.
    pub connection: Connection,
    pub source: Source,
    pub plan: Plan,
}

/// Creates the upload on the store and makes it durable in a locked journal.
pub async fn start<S: Store>(
    store: &S,
    dir: &JournalDir,
    new: NewUpload,
    attempts: u32,
) -> Result<(Journal, Lock), Error> {
    let upload = retry(attempts, || {
        store.create_upload(&new.dest.bucket, &new.dest.key, &new.object)
    })
    .await
    .map_err(|error| Error::Store {
        dest: new.dest.clone(),
        error,
    })?;
    let now = journal::now_unix();
    let journal = Journal {
        version: JOURNAL_VERSION,
        id: journal::id_for(&upload.upload_id),
        upload_id: upload.upload_id.clone(),
        bucket: upload.bucket.clone(),
        key: upload.key.clone(),
        connection: new.connection,
        source: new.source,
        part_size: new.plan.part_size,
        part_count: new.plan.part_count,
        object: new.object,
        created_unix: now,
        updated_unix: now,
        parts: Vec::new(),
    };
    match dir
        .lock(&journal.id)
        .and_then(|lock| dir.save(&journal).map(|()| lock).map_err(|e| e.to_string()))
    {
        Ok(lock) => Ok((journal, lock)),
        Err(error) => {
            let _ = store.abort_upload(&upload).await;
            Err(Error::JournalStart {
                dir: dir.path().to_path_buf(),
                error,
            })
        }
    }
}
