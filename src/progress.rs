//! Progress display: an indicatif bar on stderr, or its silent twin.
//!
//! The bar is drawn only when stderr is a terminal and the user did not ask for
//! quiet; otherwise every call is a no-op, so the engine never checks.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::s3::Meter;

pub struct Progress {
    bar: ProgressBar,
    parts_total: u64,
    parts_done: AtomicU64,
}

impl Progress {
    /// A bar for `total` bytes in `parts_total` parts, starting at what is already done.
    pub fn new(show: bool, total: u64, done: u64, parts_total: u64, parts_done: u64) -> Progress {
        let visible = show && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
             {binary_bytes_per_sec} ETA {eta} parts {msg}",
        )
        .expect("the template is a constant")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_position(done);
        bar.reset_eta();
        // The ticker is a thread that redraws every 200 ms; a hidden bar
        // needs none.
        if visible {
            bar.enable_steady_tick(Duration::from_millis(200));
        }
        let p = Progress {
            bar,
            parts_total,
            parts_done: parts_done.into(),
        };
        p.show_parts(parts_done);
        p
    }

    fn show_parts(&self, done: u64) {
        self.bar.set_message(format!("{done}/{}", self.parts_total));
    }

    /// One part finished (its bytes were counted by its [`Attempt`]).
    pub fn part_done(&self) {
        let done = self.parts_done.fetch_add(1, Ordering::Relaxed) + 1;
        self.show_parts(done);
    }

    /// A meter for one attempt at sending a part.
    pub fn attempt(self: &Arc<Self>) -> Arc<Attempt> {
        Arc::new(Attempt {
            progress: self.clone(),
            sent: Mutex::new(Some(0)),
        })
    }

    /// Removes the bar (on success or failure alike), so messages print cleanly.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// One attempt at sending a part: moves the bar by each chunk of the body as
/// it goes out, so a slow link shows movement within a part.
pub struct Attempt {
    progress: Arc<Progress>,
    /// Bytes this attempt moved the bar; `None` once settled. The HTTP client
    /// may still hand out a chunk on its own task while the engine settles a
    /// failed attempt, so both sides move the bar under this lock: a chunk
    /// that comes after the settlement is not counted at all.
    sent: Mutex<Option<u64>>,
}

impl Meter for Attempt {
    fn sent(&self, bytes: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(sent) = sent.as_mut() {
            *sent += bytes;
            self.progress.bar.inc(bytes);
        }
    }
}

impl Attempt {
    /// The attempt is over. A failed one takes back what it moved the bar (the
    /// part will be sent again, or never; indicatif restarts its rate and ETA
    /// estimate when the bar goes back); a successful one leaves exactly `len`
    /// bytes counted.
    pub fn settle(&self, ok: bool, len: u64) {
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        let Some(moved) = sent.take() else { return };
        let counted = if ok { len } else { 0 };
        let bar = &self.progress.bar;
        if counted > moved {
            bar.inc(counted - moved);
        } else {
            bar.dec(moved - counted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_attempts_give_their_bytes_back() {
        let p = Arc::new(Progress::new(false, 100, 20, 5, 1));
        let first = p.attempt();
        first.sent(15);
        first.sent(5);
        assert_eq!(p.bar.position(), 40, "moves within a part");
        first.settle(false, 20);
        assert_eq!(p.bar.position(), 20, "a failed attempt is taken back");
        let second = p.attempt();
        second.sent(20);
        second.settle(true, 20);
        p.part_done();
        assert_eq!(p.bar.position(), 40);
        assert_eq!(p.bar.message(), "2/5");
        // A success that was not seen to send every byte still counts the part.
        let third = p.attempt();
        third.sent(7);
        third.settle(true, 20);
        assert_eq!(p.bar.position(), 60);
        // A chunk the HTTP client hands out after a failed attempt was settled
        // is not counted; settling twice changes nothing.
        let fourth = p.attempt();
        fourth.sent(10);
        fourth.settle(false, 20);
        fourth.sent(10);
        fourth.settle(false, 20);
        assert_eq!(p.bar.position(), 60);
    }
}
