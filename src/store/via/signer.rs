//! Presigned part URLs asked for ahead of need, where they do not depend on
//! the part's bytes (a backend without the checksum extension).
//!
//! The next [`AHEAD`] part numbers after the one being sent are kept signed:
//! when fewer than half of them are, the missing ones are asked for in one
//! `/batch` request in the background, so a part normally finds its URL
//! waiting. A URL is handed out only while a quarter of its life (at most a
//! minute) is still left, so one fetched ahead never expires waiting; a stale
//! one is dropped and signed again. Each URL is used once: a retry signs
//! afresh, so an attempt that the store refused as expired never reuses it.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::ViaStore;
use crate::store::{ErrorKind, StoreError, UploadHandle};

/// Part numbers kept signed ahead of the one being sent.
const AHEAD: u32 = 16;
/// What a URL's life is taken to be when the backend does not say (Companion
/// signs for 800 s by default; this stays below it).
const ASSUMED_LIFE_SECS: u64 = 300;
/// S3's highest part number.
const LAST_PART: u32 = 10_000;

/// A presigned PUT: the URL and the headers it must carry.
pub(super) struct Signed {
    pub url: String,
    pub headers: Vec<(String, String)>,
    fresh_until: Instant,
}

impl Signed {
    /// A URL asked for at `asked`, valid `expires` seconds when the backend says.
    pub fn new(
        url: String,
        headers: Vec<(String, String)>,
        asked: Instant,
        expires: Option<u64>,
    ) -> Signed {
        let life = Duration::from_secs(expires.unwrap_or(ASSUMED_LIFE_SECS));
        let margin = (life / 4).min(Duration::from_secs(60));
        Signed {
            url,
            headers,
            fresh_until: asked + (life - margin),
        }
    }

    fn is_fresh(&self) -> bool {
        Instant::now() < self.fresh_until
    }
}

type PartKey = (String, u32);

#[derive(Default)]
struct Cache {
    urls: HashMap<PartKey, Signed>,
    /// Asked for in a background batch that has not answered yet.
    asking: HashSet<PartKey>,
}

/// The URLs signed ahead, per upload and part number.
#[derive(Default)]
pub(super) struct Signer {
    cache: Mutex<Cache>,
}

impl Signer {
    fn lock(&self) -> MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes part `n`'s URL out of the cache, if it is still fresh.
    fn take(&self, upload_id: &str, n: u32) -> Option<Signed> {
        self.lock()
            .urls
            .remove(&(upload_id.to_string(), n))
            .filter(Signed::is_fresh)
    }

    fn put(&self, upload_id: &str, signed: Vec<(u32, Signed)>) {
        let mut cache = self.lock();
        for (n, s) in signed {
            cache.urls.insert((upload_id.to_string(), n), s);
        }
    }

    /// The numbers in `from..from + count` (within S3's range) that have no
    /// fresh URL and are not being asked for; they are marked as asked for
    /// when at least `min` of them are, and returned, else none are.
    fn claim(&self, upload_id: &str, from: u32, count: u32, min: usize) -> Vec<u32> {
        let mut cache = self.lock();
        let end = from.saturating_add(count).min(LAST_PART + 1);
        let wanted: Vec<u32> = (from..end)
            .filter(|n| {
                let k = (upload_id.to_string(), *n);
                !cache.asking.contains(&k) && !cache.urls.get(&k).is_some_and(Signed::is_fresh)
            })
            .collect();
        if wanted.len() < min.max(1) {
            return Vec::new();
        }
        for n in &wanted {
            cache.asking.insert((upload_id.to_string(), *n));
        }
        wanted
    }

    fn answered(&self, upload_id: &str, numbers: &[u32]) {
        let mut cache = self.lock();
        for n in numbers {
            cache.asking.remove(&(upload_id.to_string(), *n));
        }
    }

    /// Drops every URL of an upload (it was aborted).
    pub fn forget_upload(&self, upload_id: &str) {
        let mut cache = self.lock();
        cache.urls.retain(|(id, _), _| id != upload_id);
    }
}

/// Part `number`'s URL: the one signed ahead, or a batch asked for now (this
/// part and the next ones); then the window ahead is topped up.
pub(super) async fn prefetched(
    store: &ViaStore,
    upload: &UploadHandle,
    number: u32,
) -> Result<Signed, StoreError> {
    let signer = &store.inner.signer;
    let id = upload.upload_id.as_str();
    let signed = match signer.take(id, number) {
        Some(s) => s,
        None => {
            let ahead = signer.claim(id, number.saturating_add(1), AHEAD - 1, 1);
            let mut numbers = vec![number];
            numbers.extend(&ahead);
            let answer = store.sign_batch(upload, &numbers).await;
            signer.answered(id, &ahead);
            let mut answer = answer?;
            let mine = answer
                .iter()
                .position(|(n, _)| *n == number)
                .map(|i| answer.swap_remove(i).1);
            signer.put(id, answer);
            mine.ok_or_else(|| {
                StoreError::new(
                    ErrorKind::Retryable,
                    "backend sign",
                    format!("the backend's batch answer has no URL for part {number}"),
                )
            })?
        }
    };
    top_up(store, upload, number);
    Ok(signed)
}

/// Asks in the background for the URLs missing among the next [`AHEAD`]
/// parts, once half of them are missing. A failure here costs nothing: the
/// part that needs the URL asks again, and reports the error.
fn top_up(store: &ViaStore, upload: &UploadHandle, number: u32) {
    let id = &upload.upload_id;
    let numbers = store
        .inner
        .signer
        .claim(id, number.saturating_add(1), AHEAD, AHEAD as usize / 2);
    if numbers.is_empty() {
        return;
    }
    let (store, upload) = (store.clone(), upload.clone());
    tokio::spawn(async move {
        let answer = store.sign_batch(&upload, &numbers).await;
        let signer = &store.inner.signer;
        if let Ok(signed) = answer {
            signer.put(&upload.upload_id, signed);
        }
        signer.answered(&upload.upload_id, &numbers);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_is_handed_out_only_while_a_quarter_of_its_life_is_left() {
        let now = Instant::now();
        let s = Signed::new("u".into(), Vec::new(), now, Some(4));
        assert_eq!(s.fresh_until, now + Duration::from_secs(3));
        let long = Signed::new("u".into(), Vec::new(), now, Some(900));
        assert_eq!(long.fresh_until, now + Duration::from_secs(840));
        let stale = Signed::new(
            "u".into(),
            Vec::new(),
            now - Duration::from_secs(10),
            Some(4),
        );
        let signer = Signer::default();
        signer.put("up", vec![(1, stale), (2, s)]);
        assert!(signer.take("up", 1).is_none(), "stale");
        assert!(signer.take("up", 2).is_some());
        assert!(signer.take("up", 2).is_none(), "each URL is used once");
    }

    #[test]
    fn claims_skip_urls_held_or_asked_for() {
        let signer = Signer::default();
        let fresh = Signed::new("u".into(), Vec::new(), Instant::now(), Some(900));
        signer.put("up", vec![(3, fresh)]);
        assert_eq!(signer.claim("up", 1, 4, 1), vec![1, 2, 4]);
        assert_eq!(
            signer.claim("up", 1, 6, 1),
            vec![5, 6],
            "1, 2, 4 are asked for"
        );
        assert!(
            signer.claim("up", 1, 6, 3).is_empty(),
            "fewer than the minimum"
        );
        signer.answered("up", &[1, 2]);
        assert_eq!(signer.claim("up", 1, 2, 1), vec![1, 2]);
        assert_eq!(signer.claim("up", 9_999, 16, 1), vec![9_999, 10_000]);
    }
}
