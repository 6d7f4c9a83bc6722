//! The progress display: an indicatif bar on stderr, one JSON line a second
//! (`--progress json`), or nothing.
//!
//! [`Display`] implements the engine's [`Progress`] interface. What it shows
//! follows the bytes the store has *acknowledged* (parts done), not the bytes
//! written into sockets: the kernel and the HTTP client hold several MiB per
//! part in flight, so a bar fed by the body would run ahead of a slow link by
//! whole parts and then sit still (issue 13). The body bytes appear only as
//! "sent". The rate and the ETA come from a sliding [`Window`] over the
//! acknowledged bytes, so they describe the link, not the socket buffers.
//!
//! The engine's calls only update counters, so a busy worker never waits for
//! the terminal. indicatif's steady tick redraws the bar, with the whole line
//! drawn by our own template key ([`Snapshot::line`] fits it to the width,
//! dropping fields, which no indicatif template does). `--progress json` keeps
//! its own one-second sampler thread: it prints a new line each time to a
//! pipe, which no indicatif draw target does (they redraw one line in place).

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::cli::ProgressMode as Mode;
use crate::engine::{PartStats, Progress};
use crate::units::{clock, rate, size};

/// How far back the rate looks. Long enough to span several parts on a slow
/// link (acknowledgements come a part at a time), short enough to follow a
/// link that speeds up or slows down.
const WINDOW: Duration = Duration::from_secs(20);

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
    /// time since the last one exceeds the window's span, that time counts
    /// instead, so a stalled link shows a falling rate.
    pub fn rate(&self, now: Instant) -> Option<f64> {
        let (&(t0, a0), &(t1, a1)) = (self.samples.front()?, self.samples.back()?);
        let span = t1.saturating_duration_since(t0);
        if a1 == a0 || span.is_zero() {
            return None;
        }
        let since = now.saturating_duration_since(t1);
        Some((a1 - a0) as f64 / span.max(since).as_secs_f64())
    }
}

/// What the display knows at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    pub total: u64,
    /// Bytes the store has acknowledged (or a resume has verified on it).
    pub acked: u64,
    /// `acked` and the body bytes of the parts in flight.
    pub sent: u64,
    pub parts_done: u64,
    pub parts_total: u64,
    /// Bytes a second, acknowledged; `None` until known.
    pub rate: Option<f64>,
    pub elapsed: Duration,
}

/// One `--progress json` sample, in the order its fields are printed.
#[derive(serde::Serialize)]
struct Sample {
    acked_bytes: u64,
    sent_bytes: u64,
    total_bytes: u64,
    rate_bytes_per_sec: Option<u64>,
    eta_seconds: Option<u64>,
    parts_done: u64,
    parts_total: u64,
    elapsed_seconds: f64,
}

impl Snapshot {
    /// Seconds left at the current rate.
    pub fn eta(&self) -> Option<u64> {
        let rate = self.rate.filter(|r| *r > 0.0)?;
        Some((self.total.saturating_sub(self.acked) as f64 / rate).ceil() as u64)
    }

    /// The `--progress json` line.
    pub fn json(&self) -> String {
        let sample = Sample {
            acked_bytes: self.acked,
            sent_bytes: self.sent,
            total_bytes: self.total,
            rate_bytes_per_sec: self.rate.map(|r| r.round() as u64),
            eta_seconds: self.eta(),
            parts_done: self.parts_done,
            parts_total: self.parts_total,
            elapsed_seconds: (self.elapsed.as_secs_f64() * 10.0).round() / 10.0,
        };
        // Numbers only: serializing them cannot fail.
        serde_json::to_string(&sample).unwrap_or_default()
    }

    /// The bar's line, fitted to `width` columns: the bar itself shrinks
    /// first, then the sent bytes, the elapsed time and the bar go, so the
    /// line never wraps and the bar is never a useless `[> ]`.
    pub fn line(&self, width: usize) -> String {
        let done = format!("{}/{}", size(self.acked), size(self.total));
        let rate = self.rate.map_or("?/s".to_string(), rate);
        let eta = self.eta().map_or("?".to_string(), clock);
        let parts = format!("parts {}/{}", self.parts_done, self.parts_total);
        let in_flight = self.sent.saturating_sub(self.acked);
        let sent = (in_flight > 0).then(|| format!("(+{} sent)", size(in_flight)));
        let elapsed = format!("[{}]", clock(self.elapsed.as_secs()));
        // From the most to the least expendable.
        let mut fields: Vec<Option<String>> = vec![
            Some(elapsed),
            Some(done),
            sent,
            Some(rate),
            Some(format!("ETA {eta}")),
            Some(parts),
        ];
        let text = |fields: &[Option<String>]| {
            fields
                .iter()
                .flatten()
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        };
        // A bar narrower than this says nothing.
        const MIN_BAR: usize = 10;
        for drop in [None, Some(2), Some(0)] {
            if let Some(i) = drop {
                fields[i] = None;
            }
            let rest = text(&fields);
            let room = width.saturating_sub(rest.chars().count() + 3);
            if room >= MIN_BAR {
                let bar_len = room.min(50);
                return format!("[{}] {rest}", bar(self.acked, self.total, bar_len));
            }
        }
        let rest = text(&fields);
        if rest.chars().count() <= width {
            return rest;
        }
        // Narrower still: the essentials, cut to fit.
        rest.chars().take(width.saturating_sub(1)).collect()
    }
}

/// `len` cells, `=` for the done share and `>` at its head.
fn bar(done: u64, total: u64, len: usize) -> String {
    let filled = if total == 0 {
        len
    } else {
        ((done as u128 * len as u128) / total as u128) as usize
    };
    let mut s = "=".repeat(filled.min(len));
    if filled < len {
        s.push('>');
        s.push_str(&" ".repeat(len - filled - 1));
    }
    s
}

#[derive(Debug, Default)]
struct State {
    total: u64,
    acked: u64,
    sent: u64,
    parts_done: u64,
    parts_total: u64,
    window: Window,
    began: Option<Instant>,
}

impl State {
    fn snapshot(&self, now: Instant) -> Snapshot {
        Snapshot {
            total: self.total,
            acked: self.acked,
            sent: self.sent,
            parts_done: self.parts_done,
            parts_total: self.parts_total,
            rate: self.window.rate(now),
            elapsed: self
                .began
                .map_or(Duration::ZERO, |b| now.saturating_duration_since(b)),
        }
    }
}

/// Where the display goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Nothing,
    Bar,
    Json,
}

/// The progress display of one command.
pub struct Display {
    shown: Shown,
    state: Arc<Mutex<State>>,
    /// Draws the line on a terminal; indicatif's steady tick redraws it.
    bar: ProgressBar,
    /// `--progress json`'s sampler, stopped by dropping the sender.
    json: Mutex<Option<(std::sync::mpsc::Sender<()>, JoinHandle<()>)>>,
    /// With `S3UP_TIMINGS`: when the command started, to print the parts
    /// phase's timings against.
    timings: Option<Instant>,
}

/// How often the bar is redrawn.
const BAR_TICK: Duration = Duration::from_millis(200);
/// How often a JSON sample is printed.
const JSON_TICK: Duration = Duration::from_secs(1);

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

impl Display {
    /// A display in `mode`; `Auto` draws a bar when stderr is a terminal.
    pub fn new(mode: Mode, timings: Option<Instant>) -> Display {
        let shown = match mode {
            Mode::Auto if std::io::stderr().is_terminal() => Shown::Bar,
            Mode::Json => Shown::Json,
            Mode::Auto | Mode::None => Shown::Nothing,
        };
        let state = Arc::new(Mutex::new(State::default()));
        let bar = if shown == Shown::Bar {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        // The whole line is ours ([`Snapshot::line`]), drawn from the state
        // at each tick: indicatif's own keys would follow its position, that
        // is the bytes written, not the bytes acknowledged.
        let drawn = state.clone();
        let line = move |_: &ProgressState, w: &mut dyn std::fmt::Write| {
            let width = console::Term::stderr()
                .size_checked()
                .map_or(80, |(_, w)| w as usize);
            // One column short: a line that fills the terminal exactly
            // wraps on some terminals.
            let snapshot = lock(&drawn).snapshot(Instant::now());
            let _ = w.write_str(&snapshot.line(width.saturating_sub(1)));
        };
        bar.set_style(
            ProgressStyle::with_template("{line}")
                .expect("the template is a constant")
                .with_key("line", line),
        );
        Display {
            shown,
            state,
            bar,
            json: Mutex::new(None),
            timings,
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// What the display shows now.
    pub fn snapshot(&self) -> Snapshot {
        self.state().snapshot(Instant::now())
    }

    /// One `--progress json` sample on stderr.
    fn print_json(s: &Snapshot) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", s.json());
    }

    /// Starts printing a JSON sample a second: after the first second, as
    /// `end` prints the last one.
    fn start_json(&self) {
        self.stop_json();
        let (stop, ticks) = std::sync::mpsc::channel::<()>();
        let state = self.state.clone();
        let handle = std::thread::spawn(move || {
            while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                ticks.recv_timeout(JSON_TICK)
            {
                Display::print_json(&lock(&state).snapshot(Instant::now()));
            }
        });
        *lock(&self.json) = Some((stop, handle));
    }

    fn stop_json(&self) {
        let ticker = lock(&self.json).take();
        if let Some((stop, handle)) = ticker {
            drop(stop);
            let _ = handle.join();
        }
    }
}

impl Progress for Display {
    fn begin(&self, total: u64, done: u64, parts_total: u64, parts_done: u64) {
        let now = Instant::now();
        {
            let mut s = self.state();
            s.total = total;
            s.acked = done;
            s.sent = done;
            s.parts_total = parts_total;
            s.parts_done = parts_done;
            s.window.start(now, done);
            s.began.get_or_insert(now);
        }
        match self.shown {
            Shown::Nothing => {}
            // Drawn at once, then every tick.
            Shown::Bar => self.bar.enable_steady_tick(BAR_TICK),
            Shown::Json => self.start_json(),
        }
    }

    fn advance(&self, bytes: u64) {
        self.state().sent += bytes;
    }

    fn retreat(&self, bytes: u64) {
        let mut s = self.state();
        s.sent = s.sent.saturating_sub(bytes);
    }

    fn part_done(&self, bytes: u64) {
        let mut s = self.state();
        s.acked += bytes;
        s.parts_done += 1;
        let acked = s.acked;
        s.window.ack(Instant::now(), acked);
    }

    /// A verified part crossed no link: it counts as done, but not in the rate.
    fn part_reused(&self, bytes: u64) {
        let mut s = self.state();
        s.acked += bytes;
        s.sent += bytes;
        s.parts_done += 1;
        // Shift the window, so the rate measures only what was sent.
        for sample in s.window.samples.iter_mut() {
            sample.1 += bytes;
        }
    }

    /// Stops the ticking and removes the bar (on success or failure alike),
    /// so messages print cleanly; `--progress json` ends with a last sample.
    fn end(&self) {
        self.stop_json();
        if self.shown == Shown::Json {
            Display::print_json(&self.snapshot());
        }
        self.bar.disable_steady_tick();
        self.bar.finish_and_clear();
    }

    fn parts_finished(&self, stats: &PartStats) {
        if let Some(start) = self.timings {
            crate::output::summary::timings(start, stats);
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop_json();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_display_follows_acknowledged_bytes() {
        let p = Display::new(Mode::None, None);
        p.begin(100, 20, 5, 1);
        p.advance(30);
        let s = p.snapshot();
        assert_eq!((s.acked, s.sent, s.parts_done), (20, 50, 1));
        p.retreat(10);
        p.advance(10);
        p.part_done(30);
        let s = p.snapshot();
        assert_eq!((s.acked, s.sent, s.parts_done, s.total), (50, 50, 2, 100));
        p.part_reused(10);
        let s = p.snapshot();
        assert_eq!((s.acked, s.sent, s.parts_done), (60, 60, 3));
    }

    #[test]
    fn the_rate_is_measured_between_acknowledgements() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut w = Window::default();
        w.start(t0, 0);
        assert_eq!(w.rate(at(500)), None, "nothing acknowledged yet");
        // 4 MiB a second, one 5 MiB part every 1.25 s.
        let part = 5 << 20;
        for i in 1..=4u64 {
            w.ack(at(1250 * i), part * i);
        }
        let want = 4.0 * (1 << 20) as f64;
        // Between two acknowledgements the rate does not sag...
        for now in [5000, 5600, 6200] {
            let got = w.rate(at(now)).unwrap();
            assert!((got - want).abs() < want * 0.01, "{now} ms: {got}");
        }
        // ... but a stall longer than the window's span brings it down.
        let stalled = w.rate(at(5000 + 15_000)).unwrap();
        assert!(stalled < want / 2.0, "{stalled}");
    }

    #[test]
    fn the_window_slides() {
        let t0 = Instant::now();
        let mut w = Window::default();
        w.start(t0, 0);
        // Fast at first, then 1 MiB a second for longer than the window.
        w.ack(t0 + Duration::from_secs(1), 100 << 20);
        for s in 2..=40u64 {
            w.ack(t0 + Duration::from_secs(s), (100 << 20) + ((s - 1) << 20));
        }
        let rate = w.rate(t0 + Duration::from_secs(40)).unwrap();
        assert!((rate - (1 << 20) as f64).abs() < 1.0, "{rate}");
    }

    #[test]
    fn json_samples_say_everything() {
        let s = Snapshot {
            total: 100 << 20,
            acked: 20 << 20,
            sent: 30 << 20,
            parts_done: 4,
            parts_total: 20,
            rate: Some((4 << 20) as f64),
            elapsed: Duration::from_secs(5),
        };
        let v: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
        assert_eq!(v["acked_bytes"], 20 << 20);
        assert_eq!(v["sent_bytes"], 30 << 20);
        assert_eq!(v["rate_bytes_per_sec"], 4 << 20);
        assert_eq!(v["eta_seconds"], 20);
        assert_eq!(v["parts_done"], 4);
        assert_eq!(v["parts_total"], 20);
        let unknown = Snapshot { rate: None, ..s };
        let v: serde_json::Value = serde_json::from_str(&unknown.json()).unwrap();
        assert!(v["eta_seconds"].is_null() && v["rate_bytes_per_sec"].is_null());
    }

    // Issue 13, item 8: at 70 columns the bar was `[> ]`, at 50 the line wrapped.
    #[test]
    fn the_line_fits_any_width_and_keeps_a_real_bar() {
        let s = Snapshot {
            total: 100 << 30,
            acked: 440 << 20,
            sent: 480 << 20,
            parts_done: 55,
            parts_total: 12800,
            rate: Some((10 << 20) as f64),
            elapsed: Duration::from_secs(44),
        };
        for width in [20, 40, 50, 60, 70, 80, 100, 200] {
            let line = s.line(width);
            assert!(line.chars().count() <= width, "{width}: {line}");
            if let Some(inside) = line.strip_prefix('[') {
                let cells = inside.split(']').next().unwrap().len();
                assert!(cells >= 10, "{width}: a bar of {cells} cells: {line}");
            }
        }
        assert_eq!(
            s.line(120),
            "[>                                      ] [44s] 440.0 MiB/100.0 GiB \
             (+40.0 MiB sent) 10.0 MiB/s ETA 2h49m parts 55/12800"
        );
        assert_eq!(
            s.line(70),
            "[>           ] 440.0 MiB/100.0 GiB 10.0 MiB/s ETA 2h49m parts 55/12800"
        );
        assert_eq!(
            s.line(50),
            "440.0 MiB/100.0 GiB 10.0 MiB/s ETA 2h49m parts 55/12800"
                .chars()
                .take(49)
                .collect::<String>()
        );
    }
}
