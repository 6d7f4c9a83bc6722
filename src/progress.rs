//! Progress display: an indicatif bar on stderr, or its silent twin.
//!
//! The bar is drawn only when stderr is a terminal and the user did not ask for
//! quiet; otherwise every call is a no-op, so the engine never checks.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    parts_total: u64,
    parts_done: std::sync::atomic::AtomicU64,
}

impl Progress {
    /// A bar for `total` bytes in `parts_total` parts, starting at what is already done.
    pub fn new(show: bool, total: u64, done: u64, parts_total: u64, parts_done: u64) -> Progress {
        let target = if show && std::io::stderr().is_terminal() {
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
        bar.enable_steady_tick(Duration::from_millis(200));
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

    /// One part of `bytes` finished.
    pub fn part_done(&self, bytes: u64) {
        let done = self
            .parts_done
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1;
        self.bar.inc(bytes);
        self.show_parts(done);
    }

    /// Removes the bar (on success or failure alike), so messages print cleanly.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
