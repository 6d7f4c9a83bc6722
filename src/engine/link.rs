//! The link to the store: online, being checked, or offline, and waiting
//! while it is offline (issue 18).
//!
//! Two kinds of failure get two policies. A store that *answered* with an
//! error (5xx, SlowDown, a refused checksum) is retried per request with
//! backoff, spending `--retries` ([`super::retry`]). A request that got *no
//! answer at all* (connection refused or reset, DNS failure, connect
//! timeout, a stall) may mean the link is down, and then retrying each
//! request on its own would spend every attempt in seconds. So:
//!
//! 1. The first such failure puts the link under **check**: one probe
//!    ([`Probe`], a request any answer to which means the endpoint is
//!    reachable) goes out. If it is answered, the link was fine and the
//!    failure counts as an ordinary attempt.
//! 2. If the probe gets no answer either, the link is **offline**: no new
//!    request starts (every [`retry`](super::retry::retry) waits in
//!    [`Link::online`] first), requests already in flight go on as long as
//!    they move, and the probe is repeated with capped backoff
//!    ([`PROBE_FIRST`] doubling to [`PROBE_CAP`]). Attempts that failed
//!    while offline are not counted.
//! 3. The first answered probe puts the link back **online** and every
//!    waiting request goes out again.
//! 4. Until the store has answered one request of the command, a failure
//!    with no answer is not waited for: it is more likely a wrong endpoint
//!    or no network at all than a link that dropped mid-run, and an hour's
//!    wait would hide the mistake. Such failures spend attempts as before.
//! 5. Offline for longer than `--max-offline`, the link **gives up**: every
//!    waiting request fails with the error that began the spell, and the run
//!    stops resumable (exit 3), as a run out of attempts does. `0` keeps the
//!    fail-fast policy: no check, every failure spends an attempt.
//!
//! A process that did not run for a while (a laptop asleep, SIGSTOP) finds
//! its connections dead or half-dead, and would otherwise wait out the stall
//! timeout on each. A ticker notices the jump ([`WAKE_GAP`] beyond its tick,
//! by the monotonic or the wall clock, since a suspended laptop's monotonic
//! clock may not advance) and raises [`Link::woken`]: the attempts in flight
//! are dropped and sent again at once, free.
//!
//! Every change is reported through [`Progress::status`], so the display can
//! say what is happening.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::watch;
// The waits follow tokio's clock, which the engine tests pause; the sleep
// detector alone reads the real clocks.
use tokio::time::Instant as Clock;

use super::{Progress, Status};
use crate::store::{ErrorKind, StoreError};

/// The first probe after a failure goes out at once; the next after this
/// long, doubling each time.
pub const PROBE_FIRST: Duration = Duration::from_secs(1);
/// No wait between probes is longer: a link that comes back is noticed
/// within this long (plus the probe's own time).
pub const PROBE_CAP: Duration = Duration::from_secs(15);
/// A probe that has no answer after this long counts as unanswered. Long
/// enough for a slow satellite handshake, short enough to notice a hang.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the sleep detector ticks.
const WAKE_TICK: Duration = Duration::from_secs(1);
/// A tick this much later than due means the process did not run.
pub const WAKE_GAP: Duration = Duration::from_secs(10);

/// A request that any answer from the endpoint satisfies (the store's
/// `probe`): `Ok` if it was answered, whatever the answer said.
pub type Probe =
    Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>> + Send + Sync>;

/// Where the link stands.
#[derive(Debug, Clone)]
enum Phase {
    Online,
    /// A request got no answer; a probe is out.
    Checking,
    /// The probe got no answer either.
    Offline,
    /// Offline for longer than `--max-offline`: this error ends every request.
    GaveUp(StoreError),
}

/// What [`Link::lost`] decided about a failure with no answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Lost {
    /// The link was down and is back: try again at once, free.
    Free,
    /// The link is up: the failure was the request's own, an ordinary
    /// attempt.
    Counted,
}

/// The link of one command to its store (or backend).
pub struct Link {
    inner: Arc<Inner>,
}

struct Inner {
    /// Zero: never wait (fail fast).
    max_offline: Duration,
    probe: Option<Probe>,
    /// What is probed, as the display names it.
    endpoint: String,
    /// The stall timeout, for the display.
    stall_timeout: Duration,
    progress: Option<Arc<dyn Progress>>,
    phase: watch::Sender<Phase>,
    /// When the last offline spell ended.
    back_at: Mutex<Option<Clock>>,
    /// The last status shown was something other than Sending.
    troubled: Mutex<bool>,
    /// The store has answered a request of this command: until it has, a
    /// failure with no answer is more likely a wrong endpoint or no network
    /// at all than a link that dropped, and waiting an hour for it would
    /// only hide the mistake.
    answered: std::sync::atomic::AtomicBool,
    /// Raised (incremented) each time the process is found to have slept.
    woke: watch::Sender<u64>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Link {
    /// A link that waits up to `max_offline` for an endpoint that stops
    /// answering, checking it with `probe`. Starts the sleep detector, so it
    /// must be made inside the runtime.
    pub fn new(
        probe: Probe,
        endpoint: String,
        max_offline: Duration,
        stall_timeout: Duration,
        progress: Arc<dyn Progress>,
    ) -> Arc<Link> {
        let link = Link::build(
            Some(probe),
            endpoint,
            max_offline,
            stall_timeout,
            Some(progress),
        );
        tokio::spawn(watch_sleep(Arc::downgrade(&link.inner)));
        Arc::new(link)
    }

    /// A link that never waits: every failure spends an attempt (the
    /// commands that only list or abort, and `--max-offline 0`).
    pub fn fail_fast() -> Arc<Link> {
        Arc::new(Link::build(
            None,
            String::new(),
            Duration::ZERO,
            Duration::ZERO,
            None,
        ))
    }

    fn build(
        probe: Option<Probe>,
        endpoint: String,
        max_offline: Duration,
        stall_timeout: Duration,
        progress: Option<Arc<dyn Progress>>,
    ) -> Link {
        let max_offline = if probe.is_some() {
            max_offline
        } else {
            Duration::ZERO
        };
        Link {
            inner: Arc::new(Inner {
                max_offline,
                probe,
                endpoint,
                stall_timeout,
                progress,
                phase: watch::channel(Phase::Online).0,
                back_at: Mutex::new(None),
                troubled: Mutex::new(false),
                answered: std::sync::atomic::AtomicBool::new(false),
                woke: watch::channel(0).0,
            }),
        }
    }

    /// The stall timeout, as a stalled request's status names it.
    pub fn stall_timeout(&self) -> Duration {
        self.inner.stall_timeout
    }

    /// Whether the link waits at all.
    pub fn waits(&self) -> bool {
        !self.inner.max_offline.is_zero()
    }

    /// Returns once the link is online; the error that ended the wait if it
    /// gave up.
    pub async fn online(&self) -> Result<(), StoreError> {
        let mut rx = self.inner.phase.subscribe();
        loop {
            match &*rx.borrow_and_update() {
                Phase::Online => return Ok(()),
                Phase::GaveUp(e) => return Err(e.clone()),
                Phase::Checking | Phase::Offline => {}
            }
            if rx.changed().await.is_err() {
                return Ok(());
            }
        }
    }

    /// A request that began at `started` failed with no answer (`error`, see
    /// [`no_answer`]): checks the link if no one is, waits while it is
    /// offline, and says whether the failure counts. `Err` once the wait
    /// outlasts `--max-offline`.
    pub async fn lost(&self, error: &StoreError, started: Clock) -> Result<Lost, StoreError> {
        let answered = self
            .inner
            .answered
            .load(std::sync::atomic::Ordering::SeqCst);
        if !self.waits() || !answered {
            return Ok(Lost::Counted);
        }
        let mut rx = self.inner.phase.subscribe();
        let mut was_down = false;
        let mut checked = false;
        loop {
            let phase = rx.borrow_and_update().clone();
            match phase {
                Phase::Online => {
                    // Down and back since this request began: it failed for
                    // that, not for itself.
                    if was_down || lock(&self.inner.back_at).is_some_and(|at| at >= started) {
                        return Ok(Lost::Free);
                    }
                    // A check ended online with no offline spell: the link
                    // was fine, and this failure was the request's own.
                    if checked {
                        return Ok(Lost::Counted);
                    }
                    // Start a check, unless another request just did.
                    checked = true;
                    let mine = self.inner.phase.send_if_modified(|p| {
                        let online = matches!(p, Phase::Online);
                        if online {
                            *p = Phase::Checking;
                        }
                        online
                    });
                    if mine {
                        tokio::spawn(check(self.inner.clone(), error.clone()));
                    }
                    continue;
                }
                Phase::Checking => checked = true,
                Phase::Offline => was_down = true,
                Phase::GaveUp(e) => return Err(e),
            }
            if rx.changed().await.is_err() {
                return Ok(Lost::Counted);
            }
        }
    }

    /// A receiver that changes each time the process is found to have
    /// slept: attempts in flight then are dropped and sent again.
    pub fn woken(&self) -> watch::Receiver<u64> {
        self.inner.woke.subscribe()
    }

    /// Reports `status`; a Sending after Sending is not repeated.
    pub fn say(&self, status: Status) {
        say(&self.inner, status);
    }

    /// The store answered a request (whatever it said): from now on, no
    /// answer means the link dropped, and is waited for.
    pub fn answered(&self) {
        self.inner
            .answered
            .store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Clears a trouble the display shows, once a request went through.
    pub fn recovered(&self) {
        if *lock(&self.inner.troubled) && matches!(*self.inner.phase.borrow(), Phase::Online) {
            self.say(Status::Sending);
        }
    }
}

fn say(inner: &Inner, status: Status) {
    let mut troubled = lock(&inner.troubled);
    let sending = status == Status::Sending;
    if sending && !*troubled {
        return;
    }
    *troubled = !sending;
    if let Some(progress) = &inner.progress {
        progress.status(&status);
    }
}

/// A failure in which the store gave no answer: the link may be down.
pub fn no_answer(e: &StoreError) -> bool {
    e.kind == ErrorKind::Stalled || (e.transport && e.kind == ErrorKind::Retryable)
}

/// Probes once, within [`PROBE_TIMEOUT`].
async fn probe_once(inner: &Inner) -> Result<(), StoreError> {
    let Some(probe) = &inner.probe else {
        return Ok(());
    };
    match tokio::time::timeout(PROBE_TIMEOUT, probe()).await {
        Ok(answered) => answered,
        Err(_) => Err(StoreError::transport(
            "probe",
            format!("no answer in {} s", PROBE_TIMEOUT.as_secs()),
        )),
    }
}

/// The check that `first` began: probes until the endpoint answers or the
/// wait outlasts `max_offline`.
async fn check(inner: Arc<Inner>, first: StoreError) {
    let began = Clock::now();
    let since = SystemTime::now();
    let deadline = began + inner.max_offline;
    let mut wait = PROBE_FIRST;
    let mut offline = false;
    loop {
        let probed = probe_once(&inner).await;
        let now = Clock::now();
        let error = match probed {
            Ok(()) => {
                if offline {
                    *lock(&inner.back_at) = Some(now);
                }
                inner.phase.send_replace(Phase::Online);
                if offline {
                    say(&inner, Status::Sending);
                }
                return;
            }
            Err(e) => e,
        };
        if now >= deadline {
            let mut gave_up = first;
            gave_up.offline_for = Some((now - began).as_secs().try_into().unwrap_or(u32::MAX));
            inner.phase.send_replace(Phase::GaveUp(gave_up));
            return;
        }
        if !offline {
            offline = true;
            inner.phase.send_replace(Phase::Offline);
        }
        let pause = wait.min(deadline - now);
        say(
            &inner,
            Status::Offline {
                since,
                endpoint: inner.endpoint.clone(),
                error: error.message,
                next_probe: (now + pause).into_std(),
            },
        );
        tokio::time::sleep(pause).await;
        wait = (wait * 2).min(PROBE_CAP);
    }
}

/// Ticks until the link is dropped, and raises `woke` when a tick comes
/// [`WAKE_GAP`] late by either clock.
async fn watch_sleep(inner: Weak<Inner>) {
    let mut mono = Instant::now();
    let mut wall = SystemTime::now();
    loop {
        tokio::time::sleep(WAKE_TICK).await;
        let Some(inner) = inner.upgrade() else { return };
        let (mono_now, wall_now) = (Instant::now(), SystemTime::now());
        let gap = (mono_now - mono).max(wall_now.duration_since(wall).unwrap_or_default());
        if gap >= WAKE_TICK + WAKE_GAP {
            inner.woke.send_modify(|n| *n += 1);
            say(&inner, Status::Woke { gap });
        }
        (mono, wall) = (mono_now, wall_now);
    }
}
