//! Hashing parts ahead of sending them.
//!
//! Each part is hashed and announced to the store ([`Store::will_send`])
//! before a worker takes it ([`hash_ahead`]). For a store that signs each
//! part's URL with its SHA-256 (`put --via`, [`Store::signs_ahead`]), up to
//! as many parts beyond those on the wire as may be on the wire (the
//! concurrency's current limit, [`super::concurrency`]) are, so the signatures are
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

use super::gate::{Gate, Slot};
use crate::checksum::Algorithm;
use crate::plan::Part;
use crate::store::body::Origin;
use crate::store::{PartSums, Store, UploadHandle};

/// Parts hashed at once, by the workers and a resume's verifier together
/// (see `super::workers`); the blocking pool has 16 threads. Each hash holds
/// one [`HASH_CHUNK`](crate::store::body::HASH_CHUNK) buffer.
pub(super) const HASH_JOBS: usize = 4;

/// Hashes one part on the blocking pool (its MD5 too, `with_md5`, and the
/// upload's other checksum algorithm, `also`).
pub async fn hash(
    origin: Origin,
    part: Part,
    with_md5: bool,
    also: Option<Algorithm>,
) -> std::io::Result<PartSums> {
    tokio::task::spawn_blocking(move || origin.hash(part.offset, part.len, with_md5, also))
        .await
        .map_err(std::io::Error::other)?
}

/// A part whose hashing has started, in queue order; the hash is aborted if
/// the part is dropped unsent.
pub(super) struct Hashed {
    pub part: Part,
    pub sums: JoinHandle<std::io::Result<PartSums>>,
    /// Its place among the parts hashed ahead (a store that signs ahead),
    /// to give back once a worker takes it.
    pub ahead: Option<Slot>,
    /// A stream's part: its bytes, and their share of the memory cap, held
    /// until the part is sent (`super::stream`). `None`: read from the file.
    pub buffered: Option<(bytes::Bytes, tokio::sync::OwnedSemaphorePermit)>,
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
/// on in order; each part is announced to the store once hashed. For a store
/// that signs ahead, a part waits in the channel holding a slot of `ahead`
/// (the concurrency's limit, at most `ceiling`); for others, one part waits:
/// the rest stay in the queue, unhashed. The store says whether it wants each
/// part's MD5 as well; `also` is the upload's checksum algorithm when that
/// is not SHA-256.
#[allow(clippy::too_many_arguments)]
pub(super) fn hash_ahead<S: Store>(
    store: Arc<S>,
    upload: Arc<UploadHandle>,
    file: Arc<File>,
    hashing: Arc<Semaphore>,
    mut queue: mpsc::UnboundedReceiver<Part>,
    ahead: Arc<Gate>,
    ceiling: u32,
    also: Option<Algorithm>,
) -> (mpsc::Receiver<Hashed>, AbortOnDrop) {
    let ahead = store.signs_ahead().then_some(ahead);
    let room = if ahead.is_some() { ceiling } else { 1 };
    let (tx, rx) = mpsc::channel(room.max(1) as usize);
    let task = tokio::spawn(async move {
        let with_md5 = store.wants_md5().await;
        loop {
            let place = match &ahead {
                Some(gate) => match gate.acquire().await {
                    Ok(place) => Some(place),
                    Err(_closed) => return,
                },
                None => None,
            };
            // A slot first, so a part leaves the queue only when it may be hashed.
            let Ok(slot) = tx.reserve().await else {
                return;
            };
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
                    hash(file.into(), part, with_md5, also).await?
                };
                store.will_send(&upload, part.number, sums.sha256);
                Ok(sums)
            });
            slot.send(Hashed {
                part,
                sums,
                ahead: place,
                buffered: None,
            });
        }
    });
    (rx, AbortOnDrop(task))
}
