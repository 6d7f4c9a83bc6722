//! `s3up list-pending [--remote s3://BUCKET[/PREFIX]]`.

use std::path::PathBuf;

use super::context::{journal_dir, remote_uploads};
use crate::cli::{GlobalArgs, ListPendingArgs};

use crate::error::Result;
use crate::journal::{Journal, JournalError};
use crate::output::list::{self, LocalEntry, RemoteRow};
use crate::s3::Location;
use crate::store::{Store, UploadHandle};

pub(super) async fn list_pending(global: &GlobalArgs, args: ListPendingArgs) -> Result<()> {
    let dir = journal_dir(global)?;
    let entries = dir.list_async().await;
    if let Some(remote) = &args.remote {
        return list_remote(global, &args, remote, &entries).await;
    }
    let local: Vec<LocalEntry<'_>> = entries
        .iter()
        .map(|(path, j)| (path, j.as_ref().map(|j| (j, dir.is_locked(&j.id)))))
        .collect();
    list::local_pending(dir.path(), &local, args.json);
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
