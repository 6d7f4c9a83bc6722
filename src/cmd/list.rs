//! `s3up list-pending [--remote s3://BUCKET[/PREFIX]]`.

use std::path::PathBuf;

use super::context::{journal_dir, remote_uploads};
use crate::cli::{GlobalArgs, ListPendingArgs};

use crate::error::Result;
use crate::journal::{Journal, JournalError, Session};
use crate::output::list::{self, LocalEntry, RemoteRow, TreeRow};
use crate::s3::Location;
use crate::store::{Store, UploadHandle};

pub(super) async fn list_pending(global: &GlobalArgs, args: ListPendingArgs) -> Result<()> {
    let dir = journal_dir(global)?;
    let entries = dir.list_async().await;
    if let Some(remote) = &args.remote {
        return list_remote(global, &args, remote, &entries).await;
    }
    let sessions = dir.list_sessions_async().await;
    let live: Vec<&Session> = sessions
        .iter()
        .filter_map(|(_, s)| s.as_ref().ok())
        .collect();
    // A tree's files are its row, not rows of their own.
    let in_tree = |j: &Journal| {
        j.session
            .as_deref()
            .is_some_and(|id| live.iter().any(|s| s.id == id))
    };
    let local: Vec<LocalEntry<'_>> = entries
        .iter()
        .filter(|(_, j)| !j.as_ref().is_ok_and(in_tree))
        .map(|(path, j)| (path, j.as_ref().map(|j| (j, dir.is_locked(&j.id)))))
        .collect();
    let trees: Vec<TreeRow<'_>> = sessions
        .iter()
        .map(|(path, s)| {
            let s = s.as_ref().map(|s| {
                let partial = entries
                    .iter()
                    .filter_map(|(_, j)| j.as_ref().ok())
                    .filter(|j| j.session.as_deref() == Some(s.id.as_str()))
                    .map(Journal::bytes_done)
                    .sum();
                (s, dir.is_locked(&s.id), partial)
            });
            (path, s)
        })
        .collect();
    list::local_pending(dir.path(), &local, &trees, args.json);
    Ok(())
}

async fn list_remote(
    global: &GlobalArgs,
    args: &ListPendingArgs,
    remote: &Location,
    entries: &[(PathBuf, std::result::Result<Journal, JournalError>)],
) -> Result<()> {
    let remote = remote.clone();
    let (store, uploads) = remote_uploads(global, &remote).await?;
    let mut rows: Vec<RemoteRow<'_>> = Vec::new();
    for u in &uploads {
        let handle = UploadHandle {
            bucket: remote.bucket.clone(),
            key: u.key.clone(),
            upload_id: u.upload_id.clone(),
        };
        let parts = store.list_parts(&handle).await.ok();
        let owner = entries
            .iter()
            .filter_map(|(_, j)| j.as_ref().ok())
            .find(|j| j.upload_id == u.upload_id && j.bucket == remote.bucket);
        rows.push((u, parts, owner));
    }
    list::remote_pending(&remote, &rows, args.json);
    Ok(())
}
