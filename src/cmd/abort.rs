//! `s3up abort ID ... [--forget]` and `s3up abort --remote s3://BUCKET[/PREFIX] --older-than AGE [--yes]`.

use super::context::{connect, connection_for, journal_dir, remote_uploads, LIST_STALL_TIMEOUT};
use crate::cli::{AbortArgs, GlobalArgs};
use crate::engine::abort::until_gone;
use crate::error::{Error, Result};
use crate::journal::JournalDir;
use crate::output;
use crate::s3::Location;
use crate::store::UploadHandle;
use crate::units::Age;

pub(super) async fn abort(global: &GlobalArgs, args: AbortArgs) -> Result<()> {
    let dir = journal_dir(global)?;
    match (&args.remote, &args.older_than) {
        (Some(remote), Some(older)) => {
            let include = args.include_local;
            return abort_remote(global, &dir, remote, older, args.yes, include).await;
        }
        (Some(remote), None) => return Err(output::abort::remote_needs_age(remote)),
        _ => {}
    }
    for id in &args.ids {
        let session = dir.session_path(id);
        if session.exists() {
            let session = JournalDir::load_session(&session)?;
            super::tree::abort_session_id(global, &dir, &session, &args.token).await?;
            continue;
        }
        let path = dir.journal_path(id);
        if !path.exists() {
            return Err(output::abort::no_such_id(id, dir.path()));
        }
        let journal = JournalDir::load_path(&path)?;
        let lock = dir.lock(id)?;
        let dest = journal.location();
        let aborted = async {
            let connection = connection_for(global, &journal);
            let (store, _) = connect(&connection, LIST_STALL_TIMEOUT, &args.token).await?;
            until_gone(&store, &journal.upload())
                .await
                .map_err(|e| output::failure::store_failure(&e, &dest))
        }
        .await;
        let was_there = match aborted {
            Ok(was_there) => Some(was_there),
            Err(e) if args.forget => {
                output::abort::forgetting_unaborted(id, &dest, &journal.upload_id, &e);
                None
            }
            Err(e) => return Err(output::abort::abort_failed(e, id)),
        };
        dir.remove(id)
            .map_err(|e| output::failure::cannot_remove_journal(&path, &e))?;
        drop(lock);
        match was_there {
            Some(was_there) => output::abort::aborted(id, &dest, was_there),
            None => output::abort::forgot(id, &dest),
        }
    }
    Ok(())
}

/// `abort --remote`: every upload under `remote` older than `older`, except
/// those a local journal owns (a `resume` would continue them) unless
/// `include_local`; those are marked in the listing and counted.
async fn abort_remote(
    global: &GlobalArgs,
    dir: &JournalDir,
    remote: &Location,
    older: &Age,
    yes: bool,
    include_local: bool,
) -> Result<()> {
    let remote = remote.clone();
    let (store, uploads) = remote_uploads(global, &remote).await?;
    let cutoff = crate::units::now_unix().saturating_sub(older.duration.as_secs());
    // An upload with no start time is never taken for stale.
    let stale: Vec<_> = uploads
        .iter()
        .filter(|u| u.initiated_unix.is_some_and(|t| t <= cutoff))
        .collect();
    if stale.is_empty() {
        output::abort::none_stale(&remote, &older.text);
        return Ok(());
    }
    let journals = dir.list_async().await;
    let (mut aborted, mut kept, mut skipped) = (0, 0, 0);
    for u in &stale {
        let dest = Location {
            bucket: remote.bucket.clone(),
            key: u.key.clone(),
        };
        let owner = journals
            .iter()
            .filter_map(|(_, j)| j.as_ref().ok())
            .find(|j| j.upload_id == u.upload_id && j.bucket == remote.bucket);
        let owner_id = owner.map(|j| j.id.as_str());
        if owner.is_some() && !include_local {
            output::abort::kept_owned(&dest, u, owner_id, yes);
            kept += 1;
            continue;
        }
        if !yes {
            output::abort::stale_upload(&dest, u, owner_id, false);
            aborted += 1;
            continue;
        }
        let lock = match owner.map(|j| (j, dir.lock(&j.id))) {
            Some((j, Err(_))) if dir.is_locked(&j.id) => {
                output::abort::skipped_running(&dest, u, &j.id);
                skipped += 1;
                continue;
            }
            Some((_, Err(e))) => return Err(Error::from(e)),
            Some((_, Ok(lock))) => Some(lock),
            None => None,
        };
        let upload = UploadHandle {
            bucket: dest.bucket.clone(),
            key: dest.key.clone(),
            upload_id: u.upload_id.clone(),
        };
        until_gone(&store, &upload)
            .await
            .map_err(|e| output::failure::store_failure(&e, &dest))?;
        if let Some(j) = owner {
            let _ = dir.remove(&j.id);
        }
        drop(lock);
        output::abort::stale_upload(&dest, u, owner_id, true);
        aborted += 1;
    }
    if skipped > 0 {
        return Err(output::abort::skipped_some(aborted, skipped));
    }
    output::abort::stale_total(aborted, kept, yes);
    Ok(())
}
