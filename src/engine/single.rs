//! A file that fits in one part goes up with one PutObject, checksummed like
//! a part, and with no journal: if it is interrupted there is nothing to keep.
//!
//! A retried conditional PutObject (`if_none_match`) whose first answer was
//! lost finds its own object in the way (PreconditionFailed). The object there
//! is then compared with the file (size and SHA-256) before the put is called
//! a failure.

use std::path::Path;
use std::sync::Arc;

use crate::store::body::Origin;

use super::hash::hash;
use super::meter::send_metered;
use super::retry::{retry, Retry};
use super::{Error, Progress};
use crate::plan::Part;
use crate::s3::Location;
use crate::store::{b64, ErrorKind, Finished, ObjectOptions, Store, StoreError};

/// After a lost answer, the object at `dest` is this file's when its size and
/// SHA-256 are the file's; else the key was taken by someone else. When the
/// store cannot say, that is the error, not "exists".
async fn own_object<S: Store>(
    store: &S,
    dest: &Location,
    len: u64,
    sha: &[u8; 32],
    policy: &Retry,
    refused: StoreError,
) -> Result<Finished, Error> {
    let found = retry(policy, || store.head_object(&dest.bucket, &dest.key)).await;
    match found {
        Ok(Some(info))
            if info.size == len && info.checksum_sha256.as_deref() == Some(&b64(sha)) =>
        {
            Ok(Finished {
                location: None,
                etag: info.etag,
                checksum_sha256: info.checksum_sha256,
                checksum: info.checksum,
            })
        }
        Ok(Some(info)) if info.size != len || info.checksum_sha256.is_some() => {
            Err(Error::Exists {
                dest: dest.clone(),
                aborted: false,
            })
        }
        Ok(_) => Err(Error::Store {
            dest: dest.clone(),
            error: StoreError {
                message: format!(
                    "{}; an earlier attempt's answer was lost, and the object there reports \
                     no SHA-256 to tell whether it is this file",
                    refused.message
                ),
                ..refused
            },
        }),
        Err(check) => Err(Error::Store {
            dest: dest.clone(),
            error: StoreError {
                message: format!(
                    "{}; an earlier attempt's answer was lost, and HeadObject could not tell \
                     whether the object there is this file ({check})",
                    refused.message
                ),
                ..refused
            },
        }),
    }
}

/// Hashes `whole` (the file's one part), sends it, and checks the checksum
/// the store reports against the file's.
#[allow(clippy::too_many_arguments)]
pub async fn put_single<S: Store>(
    store: &S,
    file: &Origin,
    path: &Path,
    whole: Part,
    dest: &Location,
    opts: &ObjectOptions,
    policy: &Retry,
    progress: &Arc<dyn Progress>,
) -> Result<Finished, Error> {
    // The progress is up while the file is hashed, too: with a large
    // part size that takes a while.
    progress.begin(whole.len, 0, 1, 0);
    let sent = async {
        let sums = hash(file.clone(), whole, false, opts.checksum.extra())
            .await
            .map_err(|error| Error::Source {
                path: path.to_path_buf(),
                error,
            })?;
        let sha = sums.sha256;
        let mut attempts_made = 0;
        let sent = send_metered(policy, progress, file, whole, |body| {
            attempts_made += 1;
            store.put_object(&dest.bucket, &dest.key, body, sums, opts)
        })
        .await;
        let finished = match sent {
            Ok(f) => {
                progress.part_done(whole.len);
                f
            }
            Err(e) if e.kind == ErrorKind::PreconditionFailed && attempts_made > 1 => {
                own_object(store, dest, whole.len, &sha, policy, e).await?
            }
            Err(error) => {
                return Err(Error::Store {
                    dest: dest.clone(),
                    error,
                })
            }
        };
        Ok::<_, Error>((sums, finished))
    }
    .await;
    progress.end();
    let (sums, finished) = sent?;
    // The whole object's checksum in the chosen algorithm, which is its
    // only part's (a single PutObject's checksum is full-object by nature).
    let want = sums.chosen();
    let got = super::checksum::reported_by_finished(&want, &finished);
    if let Some(got) = got.filter(|g| *g != want.b64) {
        return Err(Error::ChecksumMismatch {
            dest: dest.clone(),
            got,
            want: want.b64,
            multipart: false,
        });
    }
    Ok(finished)
}
