//! The progress display: an indicatif bar on stderr, or its silent twin.
//!
//! [`Bar`] implements the engine's [`Progress`] interface. It is drawn only
//! when stderr is a terminal and the user did not ask for quiet; otherwise
//! every call is a no-op, so the engine never checks.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{PartStats, Progress};

pub struct Bar {
    bar: ProgressBar,
    visible: bool,
    parts_total: AtomicU64,
    parts_done: AtomicU64,
    /// With `S3UP_TIMINGS`: when the command started, to print the parts
    /// phase's timings against.
    timings: Option<Instant>,
}

impl Bar {
    /// A bar, drawn when `show` and stderr is a terminal.
    pub fn new(show: bool, timings: Option<Instant>) -> Bar {
        let visible = show && std::io::stderr().is_terminal();
        let target = if visible {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{wide_bar}] {binary_bytes}/{binary_total_bytes} \
             {binary_bytes_per_sec} ETA {eta} parts {msg}",
        )
        .expect("the template is a constant")
        .progress_chars("=> ");
        bar.set_style(style);
        Bar {
            bar,
            visible,
            parts_total: AtomicU64::new(0),
            parts_done: AtomicU64::new(0),
            timings,
        }
    }

    fn show_parts(&self, done: u64) {
        let total = self.parts_total.load(Ordering::Relaxed);
        self.bar.set_message(format!("{done}/{total}"));
    }
}

impl Progress for Bar {
    fn begin(&self, total: u64, done: u64, parts_total: u64, parts_done: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
        self.bar.reset_eta();
        self.parts_total.store(parts_total, Ordering::Relaxed);
        self.parts_done.store(parts_done, Ordering::Relaxed);
        self.show_parts(parts_done);
        // The ticker is a thread that redraws every 200 ms; a hidden bar
        // needs none.
        if self.visible {
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
    }

    fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    /// indicatif restarts its rate and ETA estimate when the bar goes back.
    fn retreat(&self, bytes: u64) {
        self.bar.dec(bytes);
    }

    fn part_done(&self) {
        let done = self.parts_done.fetch_add(1, Ordering::Relaxed) + 1;
        self.show_parts(done);
    }

    /// Removes the bar (on success or failure alike), so messages print cleanly.
    fn end(&self) {
        self.bar.finish_and_clear();
    }

    fn parts_finished(&self, stats: &PartStats) {
        if let Some(start) = self.timings {
            crate::output::timings(start, stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_follows_the_engine() {
        let p = Bar::new(false, None);
        p.begin(100, 20, 5, 1);
        assert_eq!((p.bar.position(), p.bar.length()), (20, Some(100)));
        assert_eq!(p.bar.message(), "1/5");
        p.advance(30);
        p.retreat(10);
        p.part_done();
        assert_eq!(p.bar.position(), 40);
        assert_eq!(p.bar.message(), "2/5");
    }
}
