//! The concurrency controller at work: it counts what the parts send and
//! how their attempts end, and every epoch hands the measurements to the
//! rule ([`Decider`], in [`super::concurrency`], whose module docs explain it)
//! and sizes the [`Gate`]s the workers take their slots from.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use super::concurrency::{Concurrency, Decider, Sample, FULL, TICK};
pub use super::gate::{Gate, Lease, Slot};
use crate::store::{FileRange, Meter, StoreError};

/// A store error that says "too many requests": S3's SlowDown and its kin.
pub fn is_throttle(e: &StoreError) -> bool {
    const CODES: [&str; 6] = [
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "TooManyRequests",
        "ServiceUnavailable",
    ];
    matches!(e.status, Some(503 | 429)) || CODES.iter().any(|c| e.message.starts_with(c))
}

/// What the workers tell the controller, and the gates it sizes.
pub struct Controller {
    adaptive: Option<u32>,
    limit: AtomicU32,
    gates: Vec<Arc<Gate>>,
    /// Body bytes handed to connections so far.
    sent: AtomicU64,
    /// Attempts that failed so far.
    failed: AtomicU64,
    /// Attempts that succeeded so far, and how long they took in all (µs).
    succeeded: AtomicU64,
    succeeded_us: AtomicU64,
    throttled: AtomicBool,
    /// Parts give their slots back once their bodies are sent
    /// ([`Decider::long`]).
    early: AtomicBool,
    /// Parts not started yet; `u64::MAX` while unknown (a stream's).
    left: AtomicU64,
    /// The plan's part size.
    part_size: u64,
    /// The store's quickest answer before the parts
    /// ([`crate::store::Store::round_trip`]).
    round_trip: Option<Duration>,
}

impl Controller {
    /// A controller for `concurrency` and the gates it sizes (every one
    /// starts at [`Concurrency::initial`]).
    pub fn new(
        concurrency: Concurrency,
        part_size: u64,
        gates: usize,
        round_trip: Option<Duration>,
    ) -> Arc<Controller> {
        let initial = concurrency.initial(round_trip);
        Arc::new(Controller {
            adaptive: match concurrency {
                Concurrency::Fixed(_) => None,
                Concurrency::Auto { max } => Some(max.max(1)),
            },
            limit: AtomicU32::new(initial),
            gates: (0..gates).map(|_| Gate::new(initial)).collect(),
            sent: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
            succeeded_us: AtomicU64::new(0),
            throttled: AtomicBool::new(false),
            early: AtomicBool::new(false),
            left: AtomicU64::new(u64::MAX),
            part_size,
            round_trip,
        })
    }

    /// `parts` are to be sent: the end of the run is in sight once few are
    /// left ([`Decider::tail`]).
    pub fn expect(&self, parts: u64) {
        self.left.store(parts, Ordering::Relaxed);
    }

    /// One of the parts expected has started.
    pub fn started(&self) {
        // Never below 0, and never moves off `u64::MAX` (unknown).
        let _ = self
            .left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n != u64::MAX && n > 0).then(|| n - 1)
            });
    }

    /// The `i`th gate given to [`Controller::new`].
    pub fn gate(&self, i: usize) -> Arc<Gate> {
        self.gates[i].clone()
    }

    /// The limit now.
    pub fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// The store said it is overloaded (503, 429, SlowDown).
    pub fn throttled(&self) {
        self.throttled.store(true, Ordering::Relaxed);
    }

    /// One attempt at sending `body` with `send`, in the part's slot
    /// (`lease`): the controller counts its bytes as they go out, and hears
    /// how it ended. An adaptive run on a long or thin link
    /// ([`Decider::long`]) gives the slot back as soon as the body is all
    /// handed over, while the answer is awaited, and a retry takes one again
    /// first (see [`Lease`]); otherwise the slot is held to the end, as
    /// `--concurrency N` always held it.
    pub fn watch<T, Fut>(
        self: &Arc<Self>,
        mut body: FileRange,
        lease: &Arc<Lease>,
        send: impl FnOnce(FileRange) -> Fut,
    ) -> impl Future<Output = Result<T, StoreError>>
    where
        Fut: Future<Output = Result<T, StoreError>>,
    {
        let adaptive = self.adaptive.is_some();
        body.meter = Some(Arc::new(Tap {
            inner: body.meter.take(),
            controller: self.clone(),
            lease: adaptive.then(|| (lease.clone(), body.len, AtomicU64::new(0))),
        }));
        let lease = lease.clone();
        let me = self.clone();
        async move {
            lease.retake().await;
            let started = Instant::now();
            let result = send(body).await;
            match &result {
                Ok(_) => {
                    let us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                    me.succeeded_us.fetch_add(us, Ordering::Relaxed);
                    me.succeeded.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => {
                    me.failed.fetch_add(1, Ordering::Relaxed);
                    if is_throttle(e) {
                        me.throttled();
                    }
                }
            }
            result
        }
    }

    fn set(&self, limit: u32) {
        if self.limit.swap(limit, Ordering::Relaxed) != limit {
            for gate in &self.gates {
                gate.resize(limit);
            }
        }
    }

    /// The task that adapts the limit, while the returned guard lives; none
    /// for a fixed concurrency.
    pub fn spawn(self: &Arc<Self>) -> Option<Adapting> {
        let max = self.adaptive?;
        let me = self.clone();
        let mut task = JoinSet::new();
        task.spawn(async move {
            let mut decider = Decider::new(max, me.part_size, me.round_trip);
            me.early.store(decider.long(), Ordering::Relaxed);
            let mut clock = tokio::time::interval(TICK);
            clock.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let counters = || Counters {
                sent: me.sent.load(Ordering::Relaxed),
                failed: me.failed.load(Ordering::Relaxed),
                succeeded: me.succeeded.load(Ordering::Relaxed),
                succeeded_us: me.succeeded_us.load(Ordering::Relaxed),
            };
            let (mut busy, mut ticks, mut from) = (0u32, 0u32, counters());
            let mut started = tokio::time::Instant::now();
            loop {
                clock.tick().await;
                if me.throttled.swap(false, Ordering::Relaxed) {
                    me.set(decider.throttled());
                }
                let left = me.left.load(Ordering::Relaxed);
                if left != u64::MAX {
                    me.set(decider.tail(left));
                }
                ticks += 1;
                busy += u32::from(me.gates.first().is_some_and(|g| g.is_full()));
                let took = started.elapsed();
                if took + TICK / 2 < decider.epoch_length() {
                    continue;
                }
                let now = counters();
                let done = now.succeeded.saturating_sub(from.succeeded);
                let sample = Sample {
                    goodput: now.sent.saturating_sub(from.sent) as f64 / took.as_secs_f64(),
                    full: f64::from(busy) >= FULL * f64::from(ticks),
                    disturbed: now.failed > from.failed,
                    part_time: (done > 0).then(|| {
                        Duration::from_micros(
                            now.succeeded_us.saturating_sub(from.succeeded_us) / done,
                        )
                    }),
                };
                me.set(decider.epoch(sample));
                me.early.store(decider.long(), Ordering::Relaxed);
                (busy, ticks, from) = (0, 0, now);
                started = tokio::time::Instant::now();
            }
        });
        Some(Adapting(task))
    }
}

/// The controller's counters at one moment.
#[derive(Clone, Copy)]
struct Counters {
    sent: u64,
    failed: u64,
    succeeded: u64,
    succeeded_us: u64,
}

/// The task that adapts the limit; it stops when this is dropped.
pub struct Adapting(JoinSet<()>);

impl Drop for Adapting {
    fn drop(&mut self) {
        self.0.abort_all();
    }
}

/// An attempt's body meter, seen by the controller on its way.
struct Tap {
    inner: Option<Arc<dyn Meter>>,
    controller: Arc<Controller>,
    /// For an adaptive run: the part's slot, given back once the body's
    /// length (the second field) has been counted (the third), if the link
    /// is long ([`Controller::early`]).
    lease: Option<(Arc<Lease>, u64, AtomicU64)>,
}

impl Meter for Tap {
    fn sent(&self, bytes: u64) {
        self.controller.sent.fetch_add(bytes, Ordering::Relaxed);
        if let Some(inner) = &self.inner {
            inner.sent(bytes);
        }
        if let Some((lease, len, sent)) = &self.lease {
            let all = sent.fetch_add(bytes, Ordering::Relaxed) + bytes >= *len;
            if all && self.controller.early.load(Ordering::Relaxed) {
                lease.give_back();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::concurrency::START;

    const PART: u64 = 8 << 20;

    #[test]
    fn overload_is_recognised_by_status_or_code() {
        let mut e = StoreError::new(crate::store::ErrorKind::Retryable, "UploadPart", "x");
        assert!(!is_throttle(&e));
        e.status = Some(503);
        assert!(is_throttle(&e));
        e.status = Some(500);
        assert!(!is_throttle(&e));
        e.message = "SlowDown: Please reduce your request rate.".into();
        assert!(is_throttle(&e));
    }

    #[tokio::test(start_paused = true)]
    async fn the_controller_halves_on_an_overloaded_answer() {
        let controller = Controller::new(Concurrency::Auto { max: 64 }, PART, 2, None);
        let _adapting = controller.spawn();
        let overloaded = StoreError {
            status: Some(503),
            ..StoreError::new(crate::store::ErrorKind::Retryable, "UploadPart", "SlowDown")
        };
        let body = FileRange {
            file: Arc::new(tempfile::tempfile().unwrap()).into(),
            offset: 0,
            len: 0,
            meter: None,
        };
        let gate = controller.gate(0);
        let lease = Lease::new(gate.clone(), gate.acquire().await.unwrap());
        let answer = controller
            .watch(body, &lease, |_| async { Err::<(), _>(overloaded) })
            .await;
        assert!(answer.is_err());
        tokio::time::sleep(TICK * 2).await;
        assert_eq!(controller.limit(), START / 2);
        // Every gate follows: four slots, then none.
        let gate = controller.gate(1);
        let _slots: Vec<Slot> = take(&gate, 4).await;
        assert!(gate.is_full());
        assert!(Controller::new(Concurrency::Fixed(8), PART, 1, None)
            .spawn()
            .is_none());
    }

    #[test]
    fn the_controller_counts_the_parts_left_when_it_knows_them() {
        let c = Controller::new(Concurrency::Auto { max: 64 }, PART, 1, None);
        c.started();
        assert_eq!(
            c.left.load(Ordering::Relaxed),
            u64::MAX,
            "a stream's: unknown"
        );
        c.expect(2);
        for _ in 0..3 {
            c.started();
        }
        assert_eq!(c.left.load(Ordering::Relaxed), 0);
    }

    async fn take(gate: &Arc<Gate>, n: usize) -> Vec<Slot> {
        let mut slots = Vec::new();
        for _ in 0..n {
            slots.push(gate.acquire().await.unwrap());
        }
        slots
    }
}
