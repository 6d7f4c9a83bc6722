//! `--limit-rate`: one budget of bytes a second shared by every body a run
//! sends, so that an upload can share a link politely.
//!
//! A [`RateLimit`] is a token bucket in its virtual-time form (GCRA): it keeps
//! only the instant by which everything granted so far has been paid for at
//! the rate. A body asks for its next chunk with [`RateLimit::reserve`] and is
//! told when it may hand the chunk out; it sleeps until then. Every part of a
//! run (and a single PutObject, and `put --via`'s part bodies, which go through
//! the same [`FileBody`](super::body::FileBody)) draws on the same bucket, so
//! the limit holds for the run as a whole, whatever the concurrency.
//!
//! Why these choices:
//! - **Reservations, first come first served.** A body that asks is given a
//!   slot after every slot already handed out, then sleeps once. Parts share
//!   the rate evenly and no waiter is starved, where a check-sleep-check loop
//!   (governor's `until_n_ready`) lets waiters race for the same refill.
//! - **A small burst** ([`BURST`], 100 ms of the rate): an idle bucket refills
//!   only that far, so the rate measured at the other end is the limit over a
//!   few seconds, not the limit plus a saved-up surge.
//! - **Chunks of at most 100 ms of the rate** ([`RateLimit::grain`]): at a low
//!   rate a body asks for little at a time, so that parts take turns often.
//! - **Waiting is not stalling.** A body waiting for its grant holds its
//!   watchdog stamp ([`Stamp::hold`](super::watchdog::Stamp::hold)), so a low
//!   rate shared by many parts never looks like a stalled connection.
//! - **tokio's clock**, so the tests run on paused time; and no new
//!   dependency: governor's futures sleep on `futures-timer` with its own
//!   clock (tokio's paused time cannot drive them) and count in `u32` cells.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// How far ahead of the rate an idle bucket lets a run go: 100 ms of it
/// (one 512 KiB body chunk at 5 MiB/s). Small, so the rate seen downstream
/// over a few seconds is the limit; large enough that timer granularity
/// (about 1 ms) does not cost throughput.
pub const BURST: Duration = Duration::from_millis(100);

/// A shared limit on bytes a second; clones share the budget.
#[derive(Clone)]
pub struct RateLimit(Arc<Bucket>);

struct Bucket {
    bytes_per_sec: u64,
    /// The instant by which every byte granted so far is paid for at the
    /// rate. Behind `now` when the bucket is idle.
    paid_until: Mutex<Instant>,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RateLimit")
            .field(&self.0.bytes_per_sec)
            .finish()
    }
}

impl RateLimit {
    /// A limit of `bytes_per_sec` (at least 1).
    pub fn new(bytes_per_sec: u64) -> RateLimit {
        RateLimit(Arc::new(Bucket {
            bytes_per_sec: bytes_per_sec.max(1),
            paid_until: Mutex::new(Instant::now()),
        }))
    }

    /// The rate, in bytes a second.
    pub fn bytes_per_sec(&self) -> u64 {
        self.0.bytes_per_sec
    }

    /// The most a body should ask for at once: [`BURST`] worth of the rate,
    /// at least one byte.
    pub fn grain(&self) -> u64 {
        let burst = self.0.bytes_per_sec as u128 * BURST.as_millis() / 1000;
        burst.clamp(1, u64::MAX as u128) as u64
    }

    /// Grants `bytes` and returns the instant they may go out: now, or later
    /// when the run is ahead of the rate by more than [`BURST`]. The grant is
    /// final: a body dropped while it waits leaves its slot unused.
    pub fn reserve(&self, bytes: u64) -> Instant {
        let now = Instant::now();
        let cost = Duration::from_secs_f64(bytes as f64 / self.0.bytes_per_sec as f64);
        let mut paid = self.0.paid_until.lock().unwrap_or_else(|e| e.into_inner());
        // An idle bucket saves up nothing beyond BURST: the debt restarts now.
        let from = (*paid).max(now);
        *paid = from + cost;
        // A chunk larger than BURST (a very low rate) still goes out once the
        // bucket is empty, rather than never.
        (*paid - BURST.max(cost)).max(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn grains_are_a_tenth_of_a_second_of_the_rate() {
        assert_eq!(RateLimit::new(5 * MIB).grain(), 512 * 1024);
        assert_eq!(RateLimit::new(100 * MIB).grain(), 10 * MIB);
        assert_eq!(RateLimit::new(500 * 1024).grain(), 50 * 1024);
        assert_eq!(RateLimit::new(1).grain(), 1);
        assert_eq!(RateLimit::new(0).bytes_per_sec(), 1);
    }

    /// An idle bucket lets one burst through at once, then holds every body
    /// to the rate, however many draw on it.
    #[tokio::test(start_paused = true)]
    async fn the_first_burst_is_free_then_the_rate_holds() {
        let limit = RateLimit::new(1_000_000);
        let chunk = limit.grain(); // 100 ms worth, exactly
        let start = Instant::now();
        assert_eq!(limit.reserve(chunk), start, "an idle bucket grants at once");
        assert_eq!(limit.reserve(chunk), start + BURST);
        assert_eq!(limit.reserve(chunk), start + 2 * BURST);
        // Idle for a long time: the bucket saves up one burst, not more.
        tokio::time::advance(Duration::from_secs(10)).await;
        let now = Instant::now();
        assert_eq!(limit.reserve(chunk), now);
        assert_eq!(limit.reserve(chunk), now + BURST);
    }

    /// Several bodies sending at once, each a chunk at a time as fast as the
    /// bucket allows: together they move the rate, and take turns.
    #[tokio::test(start_paused = true)]
    async fn bodies_share_the_rate_fairly() {
        let rate = 5 * MIB;
        let limit = RateLimit::new(rate);
        let start = Instant::now();
        let bodies: Vec<_> = (0..8)
            .map(|_| {
                let limit = limit.clone();
                tokio::spawn(async move {
                    let mut sent = 0u64;
                    while Instant::now() < start + Duration::from_secs(10) {
                        let n = limit.grain();
                        tokio::time::sleep_until(limit.reserve(n)).await;
                        sent += n;
                    }
                    sent
                })
            })
            .collect();
        let mut total = 0;
        let mut each = Vec::new();
        for body in bodies {
            let sent = body.await.unwrap();
            each.push(sent);
            total += sent;
        }
        let elapsed = (Instant::now() - start).as_secs_f64();
        let measured = total as f64 / elapsed;
        assert!(
            (measured - rate as f64).abs() / (rate as f64) < 0.02,
            "{measured} bytes/s for a limit of {rate}"
        );
        let (min, max) = (each.iter().min().unwrap(), each.iter().max().unwrap());
        assert!(max - min <= 2 * limit.grain(), "{each:?}");
    }

    /// At a rate below one byte a burst, a chunk still goes when its time comes.
    #[tokio::test(start_paused = true)]
    async fn a_chunk_larger_than_the_burst_waits_its_cost() {
        let limit = RateLimit::new(4);
        let start = Instant::now();
        assert_eq!(limit.reserve(8), start);
        assert_eq!(limit.reserve(8), start + Duration::from_secs(2));
    }
}
