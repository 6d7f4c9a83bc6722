//! Hashing parts ahead of sending them.
//!
//! Each part is hashed and announced to the store ([`Store::will_send`])
//! before a worker takes it ([`hash_ahead`]). For a store that signs each
//! part's URL with its SHA-256 (`put --via`, [`Store::signs_ahead`]), up to
//! `concurrency` parts beyond those on the wire are, so the signatures are
//! asked for while earlier parts are still sending, and a part rarely waits
//! for one; the bound keeps those URLs young (one round of sends ahead) and
//! the hashed pages in the page cache for the send. Other stores get one part
//! ahead.
//!
//! Each part is read twice with positioned reads (`pread`): once through a small
//! buffer to compute its SHA-256 ([`hash_range`], the store layer's one hash
//! loop), which must be known before the request is signed, and once as it is
//! sent, in chunks the HTTP client asks for. Memory is a few chunks per part in
//! flight, whatever the part size; the cost is a second copy from the page
//! cache, which measured cheaper than zeroing and faulting in a fresh
//! part-sized buffer (README, "Performance"). If the file changes between the
//! two reads, S3's check of the signed SHA-256 rejects the part.

use std::fs::File;
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;

use crate::plan::Part;
use crate::store::body::hash_range;
use crate::store::{PartSums, Store, UploadHandle};

/// Parts hashed at once, by the workers and a resume's verifier together
/// (see `super::workers`); the blocking pool has 16 threads. Each hash holds
/// one [`HASH_CHUNK`](crate::store::body::HASH_CHUNK) buffer.
pub(super) const HASH_JOBS: usize = 4;

/// Hashes one part on the blocking pool (its MD5 too, `with_md5`).
pub async fn hash(file: Arc<File>, part: Part, with_md5: bool) -> std::io::Result<PartSums> {
    tokio::task::spawn_blocking(move || hash_range(&file, part.offset, part.len, with_md5, None))
        .await
        .map_err(std::io::Error::other)?
}

/// A part whose hashing has started, in queue order; the hash is aborted if
/// the part is dropped unsent.
pub(super) struct Hashed {
    pub part: Part,
    pub sums: JoinHandle<std::io::Result<PartSums>>,
}

impl Drop for Hashed {
    fn drop(&mut self) {
        self.sums.abort();
    }
}

/// A task that is aborted when this is dropped, however the owner returns.
pub(super) struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Takes parts from `queue` and starts hashing each (at most [`HASH_JOBS`]
/// at once, shared with a resume's verifier through `hashing`), handing them
/// on in order; each part is announced to the store once hashed. At most
/// `concurrency` parts wait in the channel for a store that signs ahead, one
/// for others: the rest stay in the queue, unhashed. The store says whether
/// it wants each part's MD5 as well.
pub(super) fn hash_ahead<S: Store>(
    store: Arc<S>,
    upload: Arc<UploadHandle>,
    file: Arc<File>,
    hashing: Arc<Semaphore>,
    mut queue: mpsc::UnboundedReceiver<Part>,
    concurrency: u32,
) -> (mpsc::Receiver<Hashed>, AbortOnDrop) {
    let ahead = if store.signs_ahead() {
        concurrency as usize
    } else {
        1
    };
    let (tx, rx) = mpsc::channel(ahead.max(1));
    let task = tokio::spawn(async move {
        let with_md5 = store.wants_md5().await;
        // A slot first, so a part leaves the queue only when it may be hashed.
        while let Ok(slot) = tx.reserve().await {
            let Some(part) = queue.recv().await else {
                return;
            };
            let (store, upload, file, hashing) =
                (store.clone(), upload.clone(), file.clone(), hashing.clone());
            let sums = tokio::spawn(async move {
                let sums = {
                    let _hashing = hashing
                        .acquire_owned()
                        .await
                        .map_err(std::io::Error::other)?;
                    hash(file, part, with_md5).await?
                };
                store.will_send(&upload, part.number, sums.sha256);
                Ok(sums)
            });
            slot.send(Hashed { part, sums });
        }
    });
    (rx, AbortOnDrop(task))
}
