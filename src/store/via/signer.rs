//! Presigned part URLs, asked for before they are needed.
//!
//! The engine announces each part once it has hashed it, a bounded number of
//! parts before it sends it ([`crate::store::Store::will_send`]). Announced
//! parts are signed in the background, in batches (`/batch`; with each
//! part's SHA-256 when the backend is `serve`): one batch at a time per
//! upload, and the parts announced while it is out go in the next one. So a
//! part normally finds its URL waiting, and the number of signing requests
//! falls as the parts get smaller or the link faster. A part whose batch is
//! still out waits for that answer instead of asking again; only a part
//! nobody asked for (its batch failed, or its URL went stale) is signed on
//! the spot. The first parts of an upload wait for their signatures: nothing
//! can be signed before the part is hashed.
//!
//! A URL is handed out only while a quarter of its life (at most a minute) is
//! still left, so one signed ahead never expires waiting; a stale one is
//! dropped and signed again. Each URL is used once: a retry signs afresh, so
//! an attempt that the store refused as expired never reuses it. A URL signed
//! with a checksum is handed out only for a part with that checksum.
//!
//! The two signing requests live here too: one part
//! (`GET /s3/multipart/{uploadId}/{n}`) and a batch (`/batch`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::http::Wait;
use super::{Dialect, ViaStore};
use crate::checksum::Tagged;
use crate::protocol::{BatchResponse, SignResponse};
use crate::store::{b64, StoreError, UploadHandle};

/// What a URL's life is taken to be when the backend does not say (Companion
/// signs for 800 s by default; this stays below it).
const ASSUMED_LIFE_SECS: u64 = 300;
/// Parts signed in one batch request at most: the query carries a 44-byte
/// checksum for each (about 60 bytes escaped), so a batch stays near 4 KiB.
/// One batch is out per upload at a time, so this is also how many parts
/// one round trip signs.
const MAX_BATCH: usize = 64;

/// A presigned PUT: the URL and the headers it must carry.
pub(super) struct Signed {
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The checksum signed into the URL, if any.
    sha256: Option<[u8; 32]>,
    fresh_until: Instant,
}

impl Signed {
    /// A URL asked for at `asked`, valid `expires` seconds when the backend
    /// says, signed for `sha256` if that was sent.
    pub fn new(
        url: String,
        headers: Vec<(String, String)>,
        sha256: Option<[u8; 32]>,
        asked: Instant,
        expires: Option<u64>,
    ) -> Signed {
        let life = Duration::from_secs(expires.unwrap_or(ASSUMED_LIFE_SECS));
        let margin = (life / 4).min(Duration::from_secs(60));
        Signed {
            url,
            headers,
            sha256,
            fresh_until: asked + (life - margin),
        }
    }

    /// Fresh, and signed for these bytes (or for any).
    fn fits(&self, sha256: &[u8; 32]) -> bool {
        Instant::now() < self.fresh_until && self.sha256.is_none_or(|s| s == *sha256)
    }
}

type PartKey = (String, u32);

#[derive(Default)]
struct Cache {
    urls: HashMap<PartKey, Signed>,
    /// Announced, not asked for yet: the next batch takes them.
    announced: BTreeMap<PartKey, [u8; 32]>,
    /// In the batch that is out.
    asking: HashSet<PartKey>,
    /// Uploads with a batch out.
    busy: HashSet<String>,
}

impl Cache {
    /// Takes up to [`MAX_BATCH`] announced parts of `upload_id` into `asking`.
    fn next_batch(&mut self, upload_id: &str) -> Vec<(u32, [u8; 32])> {
        let from = (upload_id.to_string(), 0);
        let to = (upload_id.to_string(), u32::MAX);
        let batch: Vec<(u32, [u8; 32])> = self
            .announced
            .range(from..=to)
            .take(MAX_BATCH)
            .map(|((_, n), sha)| (*n, *sha))
            .collect();
        for (n, _) in &batch {
            let key = (upload_id.to_string(), *n);
            self.announced.remove(&key);
            self.asking.insert(key);
        }
        batch
    }
}

/// The URLs signed ahead, per upload and part number.
#[derive(Default)]
pub(super) struct Signer {
    cache: Mutex<Cache>,
    /// Woken whenever a batch has answered (or failed).
    answered: Notify,
}

impl Signer {
    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Drops every URL of an upload (it was aborted).
    pub fn forget_upload(&self, upload_id: &str) {
        let mut cache = self.lock();
        cache.urls.retain(|(id, _), _| id != upload_id);
        cache.announced.retain(|(id, _), _| id != upload_id);
    }
}

/// Part `number` will be sent soon: queue it for the next batch, and send
/// that batch now unless one is already out for this upload.
pub(super) fn announce(store: &ViaStore, upload: &UploadHandle, number: u32, sha256: [u8; 32]) {
    let signer = &store.inner.signer;
    let id = &upload.upload_id;
    {
        let mut cache = signer.lock();
        let key = (id.clone(), number);
        if cache.asking.contains(&key) || cache.urls.get(&key).is_some_and(|s| s.fits(&sha256)) {
            return;
        }
        cache.announced.insert(key, sha256);
        if !cache.busy.insert(id.clone()) {
            return;
        }
    }
    let (store, upload) = (store.clone(), upload.clone());
    tokio::spawn(async move { sign_announced(&store, &upload).await });
}

/// Clears a batch's parts from `asking` and wakes the parts waiting for it,
/// however the batch ended (even if its task was dropped).
struct Answered<'a> {
    signer: &'a Signer,
    upload_id: &'a str,
    numbers: Vec<u32>,
}

impl Drop for Answered<'_> {
    fn drop(&mut self) {
        let mut cache = self.signer.lock();
        for n in &self.numbers {
            cache.asking.remove(&(self.upload_id.to_string(), *n));
        }
        drop(cache);
        self.signer.answered.notify_waiters();
    }
}

/// An upload's batch task, while it runs: if the task is dropped mid-way,
/// the upload is no longer busy.
struct Busy<'a> {
    signer: &'a Signer,
    upload_id: &'a str,
}

impl Busy<'_> {
    /// The task ends: the upload is no longer busy, decided under `cache`'s
    /// lock (the one `announce` checks under), and this guard must not clear
    /// a later task's flag when dropped.
    fn end(self, mut cache: MutexGuard<'_, Cache>) {
        cache.busy.remove(self.upload_id);
        drop(cache);
        self.signer.answered.notify_waiters();
        std::mem::forget(self);
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.signer.lock().busy.remove(self.upload_id);
        self.signer.answered.notify_waiters();
    }
}

/// Signs announced parts, a batch at a time, until none are left; then the
/// upload is no longer busy. A failed batch costs nothing: each of its parts
/// signs itself when it is sent, and reports the error then.
async fn sign_announced(store: &ViaStore, upload: &UploadHandle) {
    let signer = &store.inner.signer;
    let id = upload.upload_id.as_str();
    let busy = Busy {
        signer,
        upload_id: id,
    };
    let sums = match store.dialect().await {
        Ok(dialect) => dialect == Dialect::Serve,
        // Not knowing whether `serve` would sign checksums, sign nothing
        // ahead: each part signs itself, and reports the error if it stays.
        Err(_) => {
            let mut cache = signer.lock();
            cache.announced.retain(|(up, _), _| up != id);
            return busy.end(cache);
        }
    };
    loop {
        let batch = {
            let mut cache = signer.lock();
            let batch = cache.next_batch(id);
            if batch.is_empty() {
                return busy.end(cache);
            }
            batch
        };
        let answered = Answered {
            signer,
            upload_id: id,
            numbers: batch.iter().map(|(n, _)| *n).collect(),
        };
        if let Ok(signed) = sign_batch(store, upload, &batch, sums).await {
            let mut cache = signer.lock();
            for (n, s) in signed {
                cache.urls.insert((id.to_string(), n), s);
            }
        }
        drop(answered);
    }
}

/// Part `number`'s URL: the one signed ahead, or the answer of the batch it
/// is in, or else one signed now.
pub(super) async fn url_for(
    store: &ViaStore,
    upload: &UploadHandle,
    number: u32,
    sha256: &[u8; 32],
) -> Result<Signed, StoreError> {
    let signer = &store.inner.signer;
    let key = (upload.upload_id.clone(), number);
    let serve = store.dialect().await? == Dialect::Serve;
    // With `serve`, only a URL signed with this part's checksum will do.
    let fits = |s: &Signed| s.fits(sha256) && (!serve || s.sha256.is_some());
    loop {
        // Registered before looking, so an answer between the look and the
        // wait is not missed.
        let notified = signer.answered.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut cache = signer.lock();
            if let Some(signed) = cache.urls.remove(&key).filter(fits) {
                return Ok(signed);
            }
            let queued = cache.announced.get(&key) == Some(sha256) && cache.busy.contains(&key.0);
            if !cache.asking.contains(&key) && !queued {
                cache.announced.remove(&key);
                break;
            }
        }
        notified.await;
    }
    sign_now(store, upload, number, serve.then_some(sha256)).await
}

/// Signs one part now, with its SHA-256 when the backend is `serve`.
async fn sign_now(
    store: &ViaStore,
    upload: &UploadHandle,
    number: u32,
    sha256: Option<&[u8; 32]>,
) -> Result<Signed, StoreError> {
    let sum = sha256.map(|s| b64(s));
    let mut query = vec![("key", upload.key.as_str())];
    if let Some(sum) = &sum {
        query.push(("sha256", sum));
    }
    sign_one(store, upload, number, &query, sha256.copied()).await
}

/// Signs one part now with its checksum in an algorithm other than SHA-256
/// (`serve` only: `checksumAlgorithm=` and `checksum=`); never cached, as
/// the cache is keyed by the SHA-256.
pub(super) async fn sign_with_checksum(
    store: &ViaStore,
    upload: &UploadHandle,
    number: u32,
    checksum: &Tagged,
) -> Result<Signed, StoreError> {
    let query = [
        ("key", upload.key.as_str()),
        ("checksumAlgorithm", checksum.algorithm.name()),
        ("checksum", checksum.b64.as_str()),
    ];
    sign_one(store, upload, number, &query, None).await
}

/// One part's sign request with `query`; `sha256` is the SHA-256 the URL
/// was signed with, if any.
async fn sign_one(
    store: &ViaStore,
    upload: &UploadHandle,
    number: u32,
    query: &[(&str, &str)],
    sha256: Option<[u8; 32]>,
) -> Result<Signed, StoreError> {
    let n = number.to_string();
    let req = store
        .inner
        .http
        .get(store.url(&["s3", "multipart", &upload.upload_id, &n]))
        .query(query);
    let asked = Instant::now();
    let answer: SignResponse = store.call("backend sign", req, true, Wait::Small).await?;
    Ok(Signed::new(
        answer.url,
        answer.headers.unwrap_or_default().into_iter().collect(),
        sha256,
        asked,
        answer.expires,
    ))
}

/// Signs several parts in one request (`/batch`), each with its SHA-256
/// when `sums` (the backend is `serve`).
async fn sign_batch(
    store: &ViaStore,
    upload: &UploadHandle,
    parts: &[(u32, [u8; 32])],
    sums: bool,
) -> Result<Vec<(u32, Signed)>, StoreError> {
    let numbers: Vec<String> = parts.iter().map(|(n, _)| n.to_string()).collect();
    let mut query = vec![
        ("key", upload.key.clone()),
        ("partNumbers", numbers.join(",")),
    ];
    if sums {
        let list: Vec<String> = parts.iter().map(|(_, sha)| b64(sha)).collect();
        query.push(("sha256", list.join(",")));
    }
    let req = store
        .inner
        .http
        .get(store.url(&["s3", "multipart", &upload.upload_id, "batch"]))
        .query(&query);
    let asked = Instant::now();
    let mut answer: BatchResponse = store.call("backend sign", req, true, Wait::Small).await?;
    Ok(parts
        .iter()
        .filter_map(|(n, sha)| {
            let url = answer.presigned_urls.remove(&n.to_string())?;
            let headers = answer
                .headers
                .as_mut()
                .and_then(|h| h.remove(&n.to_string()))
                .unwrap_or_default();
            let signed_for = sums.then_some(*sha);
            let signed = Signed::new(
                url,
                headers.into_iter().collect(),
                signed_for,
                asked,
                answer.expires,
            );
            Some((*n, signed))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_handed_out_only_while_a_quarter_of_its_life_is_left() {
        let now = Instant::now();
        let s = Signed::new("u".into(), Vec::new(), None, now, Some(4));
        assert_eq!(s.fresh_until, now + Duration::from_secs(3));
        let long = Signed::new("u".into(), Vec::new(), None, now, Some(900));
        assert_eq!(long.fresh_until, now + Duration::from_secs(840));
        let stale = Signed::new(
            "u".into(),
            Vec::new(),
            None,
            now - Duration::from_secs(10),
            Some(4),
        );
        assert!(!stale.fits(&[0; 32]));
        assert!(s.fits(&[0; 32]), "unsigned: fits any bytes");
    }

    #[test]
    fn a_url_signed_for_a_checksum_fits_only_those_bytes() {
        let s = Signed::new("u".into(), Vec::new(), Some([1; 32]), Instant::now(), None);
        assert!(s.fits(&[1; 32]));
        assert!(!s.fits(&[2; 32]));
    }

    #[test]
    fn a_batch_takes_the_announced_parts_of_one_upload_in_order() {
        let mut cache = Cache::default();
        for n in (1..=70).rev() {
            cache.announced.insert(("a".into(), n), [n as u8; 32]);
        }
        cache.announced.insert(("b".into(), 1), [0; 32]);
        let first = cache.next_batch("a");
        assert_eq!(first.len(), MAX_BATCH);
        assert_eq!(first[0], (1, [1; 32]));
        assert_eq!(first[MAX_BATCH - 1].0, MAX_BATCH as u32);
        assert!(cache.asking.contains(&("a".to_string(), MAX_BATCH as u32)));
        let second: Vec<u32> = cache.next_batch("a").iter().map(|p| p.0).collect();
        assert_eq!(second, (MAX_BATCH as u32 + 1..=70).collect::<Vec<_>>());
        assert!(cache.next_batch("a").is_empty());
        assert_eq!(cache.announced.len(), 1, "the other upload's part stays");
    }
}
