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
//! Once nothing has been acknowledged for the whole window the rate is zero,
//! and no ETA is shown while nothing moves (issue 18: two minutes into a hang
//! the bar still read `1.0 MiB/s ETA 4m21s`).
//!
//! What the run is doing beyond moving bytes (the engine's [`Status`]:
//! retrying, stalled, offline, woke) shows on the bar's line in place of the
//! rate and the ETA, and in each JSON sample (`state`, `message`,
//! `last_error`). With no bar (`--no-progress`, or stderr not a terminal, as
//! in a log; and before a bar is drawn or after it is gone, as during Create
//! and Complete) each change of state prints one line instead; `-q` prints
//! nothing. The words are `crate::output::status`'s.
//!
//! The engine's calls only update counters, so a busy worker never waits for
//! the terminal. indicatif's steady tick redraws the bar, with the whole line
//! drawn by our own template key ([`Snapshot::line`] fits it to the width,
//! dropping fields, which no indicatif template does). `--progress json` keeps
//! its own one-second sampler thread: it prints a new line each time to a
//! pipe, which no indicatif draw target does (they redraw one line in place).

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::engine::{PartStats, Progress, Status};
use crate::output::status;
use crate::units::{clock, rate, size};

mod window;
pub use window::{Window, WINDOW};

/// What the display knows at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub total: u64,
    /// Bytes the store has acknowledged (or a resume has verified on it).
    pub acked: u64,
    /// `acked` and the body bytes of the parts in flight.
    pub sent: u64,
    pub parts_done: u64,
    pub parts_total: u64,
    /// A tree upload's files: done, total, in flight.
    pub files: Option<(u64, u64, u64)>,
    /// Bytes a second, acknowledged; `None` until known.
    pub rate: Option<f64>,
    pub elapsed: Duration,
    /// What the run is doing: [`Status::Sending`] until told otherwise.
    pub status: Status,
    /// The last error a status carried, kept until a part is acknowledged
    /// while sending, so a sample taken just after an outage still says why.
    pub last_error: Option<String>,
    /// When it was taken: a countdown in the status counts from here.
    pub at: Instant,
}

/// One `--progress json` sample, in the order its fields are printed.
#[derive(serde::Serialize)]
struct Sample<'a> {
    acked_bytes: u64,
    sent_bytes: u64,
    total_bytes: u64,
    rate_bytes_per_sec: Option<u64>,
    eta_seconds: Option<u64>,
    parts_done: u64,
    parts_total: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_done: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_total: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    files_in_flight: Option<u64>,
    elapsed_seconds: f64,
    state: &'static str,
    message: Option<String>,
    last_error: Option<&'a str>,
}

impl Snapshot {
    /// Seconds left at the current rate; `None` while nothing moves (a rate
    /// of zero, or a stalled, offline or just woken run).
    pub fn eta(&self) -> Option<u64> {
        if status::halted(&self.status) || self.unknown_length() {
            return None;
        }
        let rate = self.rate.filter(|r| *r > 0.0)?;
        Some((self.total.saturating_sub(self.acked) as f64 / rate).ceil() as u64)
    }

    /// A stream without `--expected-size`: no total, so no ETA.
    fn unknown_length(&self) -> bool {
        self.total == 0 && self.parts_total == 0 && self.files.is_none()
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
            files_done: self.files.map(|f| f.0),
            files_total: self.files.map(|f| f.1),
            files_in_flight: self.files.map(|f| f.2),
            elapsed_seconds: (self.elapsed.as_secs_f64() * 10.0).round() / 10.0,
            state: status::name(&self.status),
            message: status::said(&self.status, self.at).map(|s| s.full()),
            last_error: self.last_error.as_deref(),
        };
        // Numbers and strings: serializing them cannot fail.
        serde_json::to_string(&sample).unwrap_or_default()
    }

    /// The bar's line, fitted to `width` columns: the bar itself shrinks
    /// first, then the sent bytes, the elapsed time and the bar go, so the
    /// line never wraps and the bar is never a useless `[> ]`. While the run
    /// is not sending, what it is doing replaces the rate and the ETA, at the
    /// end of the line, and keeps its detail (the endpoint, the error) only
    /// where there is room.
    pub fn line(&self, width: usize) -> String {
        let done = match self.unknown_length() {
            true => format!("{} done", size(self.acked)),
            false => format!("{}/{}", size(self.acked), size(self.total)),
        };
        let parts = match self.files {
            None if self.unknown_length() => format!("parts {}", self.parts_done),
            Some((done, total, 0)) => format!("files {done}/{total}"),
            Some((done, total, in_flight)) => {
                format!("files {done}/{total} ({in_flight} sending)")
            }
            None => format!("parts {}/{}", self.parts_done, self.parts_total),
        };
        let in_flight = self.sent.saturating_sub(self.acked);
        let sent = (in_flight > 0).then(|| format!("(+{} sent)", size(in_flight)));
        let elapsed = format!("[{}]", clock(self.elapsed.as_secs()));
        let text = |fields: &[Option<&str>], said: Option<&str>| {
            let mut text = fields
                .iter()
                .flatten()
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
            if let Some(said) = said {
                if !text.is_empty() {
                    text.push_str(" - ");
                }
                text.push_str(said);
            }
            text
        };
        // From the richest to the leanest, each with or without a bar: the
        // first that fits is drawn.
        let candidates: Vec<(String, bool)> = match status::said(&self.status, self.at) {
            None => {
                let rate = self.rate.map_or("?/s".to_string(), rate);
                let eta = format!("ETA {}", self.eta().map_or("?".to_string(), clock));
                let (rate, eta) = (Some(rate.as_str()), Some(eta.as_str()));
                let lean = text(&[Some(&done), rate, eta, Some(&parts)], None);
                vec![
                    (
                        text(
                            &[
                                Some(&elapsed),
                                Some(&done),
                                sent.as_deref(),
                                rate,
                                eta,
                                Some(&parts),
                            ],
                            None,
                        ),
                        true,
                    ),
                    (
                        text(
                            &[Some(&elapsed), Some(&done), rate, eta, Some(&parts)],
                            None,
                        ),
                        true,
                    ),
                    (lean.clone(), true),
                    (lean, false),
                ]
            }
            Some(said) => {
                let (full, short) = (said.full(), said.short());
                let (full, short) = (Some(full.as_str()), Some(short.as_str()));
                let (done, parts) = (Some(done.as_str()), Some(parts.as_str()));
                vec![
                    (
                        text(&[Some(&elapsed), done, sent.as_deref(), parts], full),
                        true,
                    ),
                    (text(&[done, parts], full), true),
                    (text(&[done, parts], full), false),
                    (text(&[done, parts], short), true),
                    (text(&[done, parts], short), false),
                    (text(&[done], short), false),
                    (text(&[], short), false),
                ]
            }
        };
        // A bar narrower than this says nothing.
        const MIN_BAR: usize = 10;
        for (rest, barred) in &candidates {
            let len = rest.chars().count();
            if !barred && len <= width {
                return rest.clone();
            }
            let room = width.saturating_sub(len + 3);
            if *barred && room >= MIN_BAR {
                let bar_len = room.min(50);
                return format!("[{}] {rest}", bar(self.acked, self.total, bar_len));
            }
        }
        // Narrower still: the essentials, cut to fit.
        let leanest = candidates.last().map_or("", |(rest, _)| rest.as_str());
        leanest.chars().take(width.saturating_sub(1)).collect()
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

#[derive(Debug)]
struct State {
    total: u64,
    acked: u64,
    sent: u64,
    parts_done: u64,
    parts_total: u64,
    files: Option<(u64, u64, u64)>,
    window: Window,
    began: Option<Instant>,
    status: Status,
    last_error: Option<String>,
    /// The bar is on the screen (from `begin` to `end`).
    bar_up: bool,
}

impl Default for State {
    fn default() -> State {
        State {
            total: 0,
            acked: 0,
            sent: 0,
            parts_done: 0,
            parts_total: 0,
            files: None,
            window: Window::default(),
            began: None,
            status: Status::Sending,
            last_error: None,
            bar_up: false,
        }
    }
}

impl State {
    fn snapshot(&self, now: Instant) -> Snapshot {
        Snapshot {
            total: self.total,
            acked: self.acked,
            sent: self.sent,
            parts_done: self.parts_done,
            parts_total: self.parts_total,
            files: self.files,
            rate: self.window.rate(now),
            elapsed: self
                .began
                .map_or(Duration::ZERO, |b| now.saturating_duration_since(b)),
            status: self.status.clone(),
            last_error: self.last_error.clone(),
            at: now,
        }
    }

    /// Takes `status` at `now`, and returns the one it replaces.
    fn set_status(&mut self, status: &Status, now: Instant) -> Status {
        let was = std::mem::replace(&mut self.status, status.clone());
        if let Some(error) = status::error(status) {
            self.last_error = Some(error);
        }
        // The link is back, or the process woke and sends its parts again:
        // what the window measured before says nothing of the link now, and
        // would make a rate averaged over the outage (issue 18: `ETA 3m44s`
        // with 21 s left after a sleep). The rate is unknown until the next
        // acknowledgement.
        let back = matches!(
            (&was, status),
            (Status::Offline { .. }, Status::Sending) | (_, Status::Woke { .. })
        );
        if back && was != *status {
            self.window.start(now, self.acked);
        }
        was
    }
}

/// What a command asks to show on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Show {
    /// A bar when stderr is a terminal, else [`Show::Lines`].
    Auto,
    /// One JSON sample a second (`--progress json`).
    Json,
    /// No bar: one line for each change of state (`--no-progress`).
    Lines,
    /// Nothing at all (`-q`).
    Nothing,
}

/// Where the display goes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shown {
    Nothing,
    Bar,
    Json,
    Lines,
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
    /// A display of what `show` asks for.
    pub fn new(show: Show, timings: Option<Instant>) -> Display {
        let shown = match show {
            Show::Auto if std::io::stderr().is_terminal() => Shown::Bar,
            Show::Auto | Show::Lines => Shown::Lines,
            Show::Json => Shown::Json,
            Show::Nothing => Shown::Nothing,
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
            s.bar_up = self.shown == Shown::Bar;
        }
        match self.shown {
            Shown::Nothing | Shown::Lines => {}
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
        if s.status == Status::Sending {
            s.last_error = None;
        }
    }

    /// A verified part crossed no link: it counts as done, but not in the rate.
    fn part_reused(&self, bytes: u64) {
        let mut s = self.state();
        s.acked += bytes;
        s.sent += bytes;
        s.parts_done += 1;
        s.window.shift(bytes);
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
        self.state().bar_up = false;
    }

    fn files(&self, done: u64, total: u64, in_flight: u64) {
        self.state().files = Some((done, total, in_flight));
    }

    fn parts_finished(&self, stats: &PartStats) {
        if let Some(start) = self.timings {
            crate::output::summary::timings(start, stats);
        }
    }

    /// Shown at the next draw or sample; with no bar, a change of state
    /// prints its line now (outside the lock), and `--progress json` a sample. A bar not yet or no longer
    /// drawn (Create, Complete) prints lines too.
    fn status(&self, new: &Status) {
        let now = Instant::now();
        let (was, bar_up) = {
            let mut s = self.state();
            (s.set_status(new, now), s.bar_up)
        };
        let lines = match self.shown {
            Shown::Lines => true,
            Shown::Bar => !bar_up,
            Shown::Json | Shown::Nothing => false,
        };
        if lines {
            if let Some(line) = status::change(&was, new, now, SystemTime::now()) {
                status::print_change(&line);
            }
        }
        // A state may last under a second (a wake-up answered at once): a
        // change of state gets its own sample.
        let changed = std::mem::discriminant(&was) != std::mem::discriminant(new);
        if self.shown == Shown::Json && changed && lock(&self.json).is_some() {
            Display::print_json(&self.snapshot());
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
        let p = Display::new(Show::Nothing, None);
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
        // ... a silence longer than the span measured brings it down ...
        let stalling = w.rate(at(5000 + 15_000)).unwrap();
        assert!(stalling < want / 2.0, "{stalling}");
        // ... and a window with no acknowledgement at all reads zero
        // (issue 18: "two minutes without an acknowledgement should read zero").
        for now in [5000 + 20_000, 5000 + 120_000] {
            assert_eq!(w.rate(at(now)), Some(0.0), "{now} ms");
        }
        // The next acknowledgement measures again.
        w.ack(at(5000 + 121_000), part * 5);
        assert!(w.rate(at(5000 + 121_000)).unwrap() > 0.0);
    }

    #[test]
    fn nothing_acknowledged_for_a_window_from_the_start_reads_zero() {
        let t0 = Instant::now();
        let mut w = Window::default();
        w.start(t0, 0);
        assert_eq!(w.rate(t0 + Duration::from_secs(19)), None);
        assert_eq!(w.rate(t0 + WINDOW), Some(0.0));
    }

    fn snapshot(status: Status) -> Snapshot {
        Snapshot {
            total: 100 << 30,
            acked: 440 << 20,
            sent: 480 << 20,
            parts_done: 55,
            parts_total: 12800,
            files: None,
            rate: Some((10 << 20) as f64),
            elapsed: Duration::from_secs(44),
            status,
            last_error: None,
            at: Instant::now(),
        }
    }

    fn offline(at: Instant) -> Status {
        Status::Offline {
            // 12:03:10 UTC
            since: std::time::UNIX_EPOCH + Duration::from_secs(20_790 * 86_400 + 43_390),
            endpoint: "http://127.0.0.1:9000".into(),
            error: "connection refused".into(),
            next_probe: at + Duration::from_secs(8),
        }
    }

    #[test]
    fn no_eta_while_nothing_moves() {
        let at = Instant::now();
        assert_eq!(snapshot(Status::Sending).eta(), Some(10_196));
        let zero = Snapshot {
            rate: Some(0.0),
            ..snapshot(Status::Sending)
        };
        assert_eq!(zero.eta(), None);
        let retrying = Status::Retrying {
            part: Some(7),
            op: "UploadPart",
            attempt: 2,
            attempts: 6,
            error: "503 SlowDown".into(),
            wait: Duration::from_secs(1),
        };
        assert!(snapshot(retrying).eta().is_some(), "other parts still move");
        for halted in [
            offline(at),
            Status::Stalled {
                part: Some(19),
                idle: Duration::from_secs(30),
            },
            Status::Woke {
                gap: Duration::from_secs(60),
            },
        ] {
            let s = snapshot(halted);
            assert_eq!(s.eta(), None, "{:?}", s.status);
            let v: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
            assert!(v["eta_seconds"].is_null());
            assert!(!s.line(200).contains("ETA"), "{}", s.line(200));
        }
    }

    #[test]
    fn json_samples_say_the_state() {
        let v: serde_json::Value = serde_json::from_str(&snapshot(Status::Sending).json()).unwrap();
        assert_eq!(v["state"], "sending");
        assert!(v["message"].is_null() && v["last_error"].is_null());
        let s = Snapshot {
            rate: Some(0.0),
            last_error: Some("connection refused".into()),
            ..snapshot(Status::Sending)
        };
        let s = Snapshot {
            status: offline(s.at),
            ..s
        };
        let v: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
        assert_eq!(v["state"], "offline");
        assert_eq!(
            v["message"],
            "waiting for the network since 12:03:10 UTC: no answer from \
             http://127.0.0.1:9000 (connection refused); next try in 8 s"
        );
        assert_eq!(v["last_error"], "connection refused");
        assert_eq!(v["rate_bytes_per_sec"], 0);
        assert!(v["eta_seconds"].is_null());
    }

    #[test]
    fn the_state_and_its_error_follow_the_engine() {
        let p = Display::new(Show::Nothing, None);
        p.begin(100 << 20, 0, 10, 0);
        p.part_done(10 << 20);
        p.part_done(10 << 20);
        let now = Instant::now();
        p.status(&offline(now));
        let s = p.snapshot();
        assert_eq!(s.last_error.as_deref(), Some("connection refused"));
        assert!(matches!(s.status, Status::Offline { .. }) && s.eta().is_none());
        // Back: the window starts again, so the outage is not averaged in.
        p.status(&Status::Sending);
        let s = p.snapshot();
        assert_eq!(s.rate, None, "unknown until the next acknowledgement");
        assert_eq!(s.last_error.as_deref(), Some("connection refused"));
        // The first acknowledgement while sending clears the error.
        p.part_done(10 << 20);
        let s = p.snapshot();
        assert_eq!((s.last_error, s.parts_done), (None, 3));
        // One while retrying another part keeps it.
        p.status(&Status::Retrying {
            part: Some(5),
            op: "UploadPart",
            attempt: 2,
            attempts: 6,
            error: "503 SlowDown".into(),
            wait: Duration::from_secs(1),
        });
        p.part_done(10 << 20);
        assert_eq!(p.snapshot().last_error.as_deref(), Some("503 SlowDown"));
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

    // Issue 19, item 6: a tree's line and samples count files.
    #[test]
    fn a_tree_counts_files() {
        let s = Snapshot {
            files: Some((12, 212, 8)),
            ..snapshot(Status::Sending)
        };
        assert!(
            s.line(120).contains("files 12/212 (8 sending)"),
            "{}",
            s.line(120)
        );
        let v: serde_json::Value = serde_json::from_str(&s.json()).unwrap();
        assert_eq!(
            (&v["files_done"], &v["files_total"], &v["files_in_flight"]),
            (&12.into(), &212.into(), &8.into())
        );
        let one: serde_json::Value =
            serde_json::from_str(&snapshot(Status::Sending).json()).unwrap();
        assert!(one.get("files_done").is_none(), "{one}");
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
            ..snapshot(Status::Sending)
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
        let s = snapshot(Status::Sending);
        let stalled = Status::Stalled {
            part: Some(19),
            idle: Duration::from_secs(30),
        };
        let woke = Status::Woke {
            gap: Duration::from_secs(60),
        };
        for status in [Status::Sending, offline(s.at), stalled, woke] {
            let s = snapshot(status);
            for width in [0, 1, 20, 40, 50, 60, 70, 80, 100, 120, 160, 200, 300] {
                let line = s.line(width);
                assert!(line.chars().count() <= width, "{width}: {line}");
                if let Some(inside) = line.strip_prefix('[') {
                    let cells = inside.split(']').next().unwrap().len();
                    assert!(cells >= 10, "{width}: a bar of {cells} cells: {line}");
                }
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

    // Issue 18: the state shows on the bar's line, in place of the rate and
    // the ETA, with its detail where there is room.
    #[test]
    fn the_state_replaces_the_rate_on_the_line() {
        let s = snapshot(Status::Sending);
        let s = snapshot(offline(s.at));
        assert_eq!(
            s.line(200),
            "[>                  ] [44s] 440.0 MiB/100.0 GiB (+40.0 MiB sent) parts 55/12800 - \
             waiting for the network since 12:03:10 UTC: no answer from http://127.0.0.1:9000 \
             (connection refused); next try in 8 s"
        );
        // The detail before the bar, the bar before the rest.
        assert_eq!(
            s.line(160),
            "440.0 MiB/100.0 GiB parts 55/12800 - waiting for the network since 12:03:10 UTC: \
             no answer from http://127.0.0.1:9000 (connection refused); next try in 8 s"
        );
        assert_eq!(
            s.line(120),
            "[>                    ] 440.0 MiB/100.0 GiB parts 55/12800 - waiting for the \
             network since 12:03:10 UTC; next try in 8 s"
        );
        assert_eq!(
            s.line(80),
            "waiting for the network since 12:03:10 UTC; next try in 8 s"
        );
        let retrying = snapshot(Status::Retrying {
            part: Some(7),
            op: "UploadPart",
            attempt: 2,
            attempts: 6,
            error: "503 SlowDown".into(),
            wait: Duration::from_secs(1),
        });
        assert_eq!(
            retrying.line(100),
            "[>             ] 440.0 MiB/100.0 GiB parts 55/12800 - retrying part 7 (attempt 2 of 6): \
             503 SlowDown"
        );
    }
}
