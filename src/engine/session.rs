//! Starting a multipart upload: Create, then the durable journal, or an abort.
//!
//! The UploadId must be durable before the first part is sent. If the journal
//! cannot be locked and saved, the upload is aborted rather than left as an
//! orphan nobody knows about.
//!
//! Create is retried like any call, but an attempt whose answer never came
//! (a dropped connection, a stall, or Ctrl-C while it was in flight) may have
//! created an upload on the store that nobody knows. After such a start,
//! [`sweep`] looks for those uploads and aborts them, carefully: see there.

use std::sync::atomic::{AtomicU32, Ordering};

use super::abort::until_gone;
use super::retry::{retry, retry_or_cancel, Retry};
use super::{Cancel, Error};
use crate::journal::{self, Journal, JournalDir, Lock, Source, JOURNAL_VERSION};
use crate::plan::Plan;
use crate::s3::Location;
use crate::store::{Connection, ErrorKind, ObjectOptions, Store, StoreError};

/// For a conditional write (`if_none_match`): fails with [`Error::Exists`] when the key is taken,
/// before anything is created, so there is nothing to clean up.
pub async fn check_absent<S: Store>(
    store: &S,
    dest: &Location,
    policy: &Retry,
) -> Result<(), Error> {
    let existing = retry(policy, || store.head_object(&dest.bucket, &dest.key))
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
    pub dest: Location,
    pub object: ObjectOptions,
    /// How the store was reached, recorded so `resume` reconnects the same way.
    pub connection: Connection,
    pub source: Source,
    pub plan: Plan,
    /// The tree session the file belongs to, if any.
    pub session: Option<String>,
}

/// What became of the uploads a Create with lost answers may have made.
#[derive(Debug, Default, Clone)]
pub struct Sweep {
    /// Aborted: they were this run's.
    pub aborted: Vec<String>,
    /// Left alone: they may be another client's. The caller names them.
    pub left: Vec<String>,
    /// The store could not be asked; uploads may be left that nobody knows.
    pub unlisted: Option<StoreError>,
}

impl Sweep {
    /// Something the user must hear about.
    pub fn needs_telling(&self) -> bool {
        !self.left.is_empty() || self.unlisted.is_some()
    }
}

/// A started upload.
#[derive(Debug)]
pub struct Started {
    pub journal: Journal,
    pub lock: Lock,
    /// Set when a Create answer was lost on the way.
    pub sweep: Sweep,
}

/// How far the store's clock may be from ours, for the sweep's window.
const CLOCK_SKEW_SECS: u64 = 120;

/// Creates the upload on the store and makes it durable in a locked journal.
/// Ctrl-C (`cancel`) is honoured at any moment; an upload it may have left
/// half-made is swept up before returning [`Error::NotStarted`].
pub async fn start<S: Store>(
    store: &S,
    dir: &JournalDir,
    new: NewUpload,
    policy: &Retry,
    cancel: &Cancel,
) -> Result<Started, Error> {
    let began = crate::units::now_unix();
    let lost = AtomicU32::new(0);
    let created = retry_or_cancel(policy, cancel, || async {
        let r = store
            .create_upload(&new.dest.bucket, &new.dest.key, &new.object)
            .await;
        if let Err(e) = &r {
            // A Create that never reached the store made nothing.
            if (e.transport && !e.unsent) || e.kind == ErrorKind::Stalled {
                lost.fetch_add(1, Ordering::SeqCst);
            }
        }
        r
    })
    .await;
    // An attempt dropped by Ctrl-C may have reached the store, too.
    let lost = lost.load(Ordering::SeqCst) + u32::from(created.is_none());
    let upload = match created {
        Some(Ok(upload)) => upload,
        failed => {
            let sweep = if lost > 0 {
                sweep(store, dir, &new.dest, began, None, lost, policy).await
            } else {
                Sweep::default()
            };
            return Err(match failed {
                Some(Err(error)) if !sweep.needs_telling() => Error::Store {
                    dest: new.dest.clone(),
                    error,
                },
                failed => Error::NotStarted {
                    dest: new.dest.clone(),
                    error: failed.and_then(Result::err).map(Box::new),
                    sweep: Box::new(sweep),
                },
            });
        }
    };
    let now = crate::units::now_unix();
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
        session: new.session,
        stream: new.plan.schedule,
        asked_key: (!new.dest.key.is_empty() && upload.key != new.dest.key)
            .then(|| new.dest.key.clone()),
    };
    let lock = match dir.lock_and_save(&journal).await {
        Ok(lock) => lock,
        Err(error) => {
            let _ = until_gone(store, &upload).await;
            return Err(Error::JournalStart {
                dir: dir.path().to_path_buf(),
                error,
            });
        }
    };
    let sweep = if lost > 0 {
        sweep(
            store,
            dir,
            &new.dest,
            began,
            Some(&upload.upload_id),
            lost,
            policy,
        )
        .await
    } else {
        Sweep::default()
    };
    Ok(Started {
        journal,
        lock,
        sweep,
    })
}

/// Aborts the uploads that `lost` Create attempts with no answer may have made
/// at `dest` since `began`, never one that someone else may own. An upload is
/// taken for this run's only when all of these hold:
/// - its key is exactly `dest`'s, it is not `keep` (the one this run uses),
///   and it began within the attempts' window (give or take the clock skew);
/// - no journal in `dir` owns it (another s3up process's start would have one
///   as soon as its Create answered);
/// - it holds no part (a lost Create's upload never got one; another client's
///   live upload soon does);
/// - and there are no more such uploads than answers were lost. If there are,
///   another client is starting uploads to the same key at the same time, and
///   which are whose cannot be told: none is aborted, and all are named.
///
/// When fewer uploads than answers lost are found in the window, the partless
/// unowned ones outside it are named too: a store whose clock (or whose
/// ListMultipartUploads, like moto's fixed 2010 date) cannot be trusted may
/// hide this run's upload among them, and a user must hear of it.
async fn sweep<S: Store>(
    store: &S,
    dir: &JournalDir,
    dest: &Location,
    began: u64,
    keep: Option<&str>,
    lost: u32,
    policy: &Retry,
) -> Sweep {
    let listed = match retry(policy, || store.list_uploads(&dest.bucket, &dest.key)).await {
        Ok(l) => l,
        Err(e) => {
            return Sweep {
                unlisted: Some(e),
                ..Sweep::default()
            }
        }
    };
    let until = crate::units::now_unix() + CLOCK_SKEW_SECS;
    let owned: Vec<String> = dir
        .list_async()
        .await
        .into_iter()
        .filter_map(|(_, j)| j.ok().map(|j| j.upload_id))
        .collect();
    let mut candidates = Vec::new();
    let mut outside = Vec::new();
    for u in listed {
        if u.key != dest.key || Some(u.upload_id.as_str()) == keep {
            continue;
        }
        if owned.contains(&u.upload_id) {
            continue;
        }
        let in_window = u
            .initiated_unix
            .is_some_and(|t| t + CLOCK_SKEW_SECS >= began && t <= until);
        let handle = crate::store::UploadHandle {
            bucket: dest.bucket.clone(),
            key: u.key.clone(),
            upload_id: u.upload_id.clone(),
        };
        match retry(policy, || store.list_parts(&handle)).await {
            Ok(parts) if parts.is_empty() && in_window => candidates.push(handle),
            Ok(parts) if parts.is_empty() => outside.push(handle.upload_id),
            _ => {}
        }
    }
    let mut sweep = Sweep::default();
    if candidates.len() > lost as usize {
        sweep.left = candidates.into_iter().map(|h| h.upload_id).collect();
        return sweep;
    }
    if candidates.len() < lost as usize {
        sweep.left = outside;
    }
    for handle in candidates {
        match until_gone(store, &handle).await {
            Ok(_) => sweep.aborted.push(handle.upload_id),
            Err(_) => sweep.left.push(handle.upload_id),
        }
    }
    sweep
}
