//! The sliding window the progress display measures the rate over.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How far back the rate looks. Long enough to span several parts on a slow
/// link (acknowledgements come a part at a time), short enough to follow a
/// link that speeds up or slows down.
pub const WINDOW: Duration = Duration::from_secs(20);

/// A sliding window of (time, acknowledged bytes) samples, one per
/// acknowledgement.
#[derive(Debug, Default)]
pub struct Window {
    samples: VecDeque<(Instant, u64)>,
}

impl Window {
    /// Starts over at `acked` bytes.
    pub fn start(&mut self, at: Instant, acked: u64) {
        self.samples.clear();
        self.samples.push_back((at, acked));
    }

    /// `bytes` were counted without being sent (a reused part): shifts every
    /// sample, so the rate measures only what was sent.
    pub fn shift(&mut self, bytes: u64) {
        for sample in self.samples.iter_mut() {
            sample.1 += bytes;
        }
    }

    /// `acked` bytes are acknowledged in all, as of `at`.
    pub fn ack(&mut self, at: Instant, acked: u64) {
        self.samples.push_back((at, acked));
        // Keep one sample at or before the window's start, so the window
        // always spans it.
        while self.samples.len() > 2 && self.samples[1].0 + WINDOW <= at {
            self.samples.pop_front();
        }
    }

    /// Bytes a second over the window, as of `now`; `None` before the first
    /// acknowledgement. Acknowledgements come a part at a time, so the rate is
    /// measured between them (it does not sag between two parts); once the
    /// time since the last one exceeds the span measured, that time counts
    /// instead, so a stalling link shows a falling rate; and once nothing has
    /// been acknowledged for the whole window (since the last
    /// acknowledgement, or since the start), the rate is zero.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let (&(t0, a0), &(t1, a1)) = (self.samples.front()?, self.samples.back()?);
        let since = now.saturating_duration_since(t1);
        if since >= WINDOW {
            return Some(0.0);
        }
        let span = t1.saturating_duration_since(t0);
        if a1 == a0 || span.is_zero() {
            return None;
        }
        Some((a1 - a0) as f64 / span.max(since).as_secs_f64())
    }
}
