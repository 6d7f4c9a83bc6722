//! Metering a body as it goes out: one [`Attempt`] per try at a part (or a
//! single PutObject), so a display moves within a part, and a failed attempt
//! takes its bytes back so a resent part is counted once ([`send_metered`]).

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::retry::{retry, Retry};
use super::Progress;
use crate::plan::Part;
use crate::store::body::Origin;
use crate::store::{FileRange, Meter, StoreError};

/// One attempt at sending a part: reports each chunk of the body as it goes
/// out ([`Progress::advance`]: sent, not yet acknowledged), so a display can
/// show movement within a part without counting it as done.
struct Attempt {
    progress: Arc<dyn Progress>,
    /// Bytes this attempt moved the progress; `None` once settled. The HTTP
    /// client may still hand out a chunk on its own task while the engine
    /// settles a failed attempt, so both sides move the progress under this
    /// lock: a chunk that comes after the settlement is not counted at all.
    sent: Mutex<Option<u64>>,
}

impl Meter for Attempt {
    fn sent(&self, bytes: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sent) = sent.as_mut() {
            *sent += bytes;
            self.progress.advance(bytes);
        }
    }
}

impl Attempt {
    fn new(progress: &Arc<dyn Progress>) -> Arc<Attempt> {
        Arc::new(Attempt {
            progress: progress.clone(),
            sent: Mutex::new(Some(0)),
        })
    }

    /// The attempt is over. A failed one takes back what it moved (the part
    /// will be sent again, or never); a successful one leaves exactly `len`
    /// bytes counted.
    fn settle(&self, ok: bool, len: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let Some(moved) = sent.take() else { return };
        let counted = if ok { len } else { 0 };
        if counted > moved {
            self.progress.advance(counted - moved);
        } else {
            self.progress.retreat(moved - counted);
        }
    }
}

/// Sends `part` with `send`, retried as `policy` says. The progress moves
/// as the body goes out, and a failed attempt takes its bytes back, so a
/// resent part is counted once.
pub async fn send_metered<T, F, Fut>(
    policy: &Retry,
    progress: &Arc<dyn Progress>,
    origin: &Origin,
    part: Part,
    mut send: F,
) -> Result<T, StoreError>
where
    F: FnMut(FileRange) -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    retry(policy, || {
        let attempt = Attempt::new(progress);
        // A file's bytes are read again as they are sent.
        let sending = send(FileRange {
            file: origin.clone(),
            offset: part.offset,
            len: part.len,
            meter: Some(attempt.clone()),
        });
        async move {
            let result = sending.await;
            attempt.settle(result.is_ok(), part.len);
            result
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicI64, Ordering};

    #[derive(Default)]
    struct Position(AtomicI64);

    impl Progress for Position {
        fn begin(&self, _: u64, done: u64, _: u64, _: u64) {
            self.0.store(done as i64, Ordering::SeqCst);
        }
        fn advance(&self, bytes: u64) {
            self.0.fetch_add(bytes as i64, Ordering::SeqCst);
        }
        fn retreat(&self, bytes: u64) {
            self.0.fetch_sub(bytes as i64, Ordering::SeqCst);
        }
        fn part_done(&self, _: u64) {}
        fn part_reused(&self, _: u64) {}
        fn end(&self) {}
    }

    #[test]
    fn failed_attempts_give_their_bytes_back() {
        let pos = Arc::new(Position::default());
        let p: Arc<dyn Progress> = pos.clone();
        p.begin(100, 20, 5, 1);
        let at = || pos.0.load(Ordering::SeqCst);
        let first = Attempt::new(&p);
        first.sent(15);
        first.sent(5);
        assert_eq!(at(), 40, "moves within a part");
        first.settle(false, 20);
        assert_eq!(at(), 20, "a failed attempt is taken back");
        let second = Attempt::new(&p);
        second.sent(20);
        second.settle(true, 20);
        assert_eq!(at(), 40);
        // A success that was not seen to send every byte still counts the part.
        let third = Attempt::new(&p);
        third.sent(7);
        third.settle(true, 20);
        assert_eq!(at(), 60);
        // A chunk the HTTP client hands out after a failed attempt was settled
        // is not counted; settling twice changes nothing.
        let fourth = Attempt::new(&p);
        fourth.sent(10);
        fourth.settle(false, 20);
        fourth.sent(10);
        fourth.settle(false, 20);
        assert_eq!(at(), 60);
    }
}
