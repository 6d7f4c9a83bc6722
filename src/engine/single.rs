//! A file that fits in one part goes up with one PutObject, checksummed like
//! a part, and with no journal: if it is interrupted there is nothing to keep.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use super::parts::{hash, send_metered};
use super::{Dest, Error, Progress};
use crate::plan::Part;
use crate::store::{b64, Finished, ObjectOptions, Store};

/// Hashes `whole` (the file's one part), sends it, and checks the checksum
/// the store reports against the file's.
#[allow(clippy::too_many_arguments)]
pub async fn put_single<S: Store>(
    store: &S,
    file: &Arc<File>,
    path: &Path,
    whole: Part,
    dest: &Dest,
    opts: &ObjectOptions,
    attempts: u32,
    progress: &Arc<dyn Progress>,
) -> Result<Finished, Error> {
    // The progress is up while the file is hashed, too: with a large
    // part size that takes a while.
    progress.begin(whole.len, 0, 1, 0);
    let sent = async {
        let sha = hash(file.clone(), whole)
            .await
            .map_err(|error| Error::Source {
                path: path.to_path_buf(),
                error,
            })?;
        let finished = send_metered(attempts, progress, file, whole, |body| {
            store.put_object(&dest.bucket, &dest.key, body, sha, opts)
        })
        .await
        .map_err(|error| Error::Store {
            dest: dest.clone(),
            error,
        })?;
        Ok::<_, Error>((sha, finished))
    }
    .await;
    progress.end();
    let (sha, finished) = sent?;
    let want = b64(&sha);
    if let Some(got) = &finished.checksum_sha256 {
        if *got != want {
            return Err(Error::ChecksumMismatch {
                dest: dest.clone(),
                got: got.clone(),
                want,
                multipart: false,
            });
        }
    }
    Ok(finished)
}
