//! How many parts are in flight: a fixed number (`--concurrency N`), or a
//! number adapted to the link while the upload runs (the default).
//!
//! Why adapt: one connection moves at most its window per round trip, so a
//! long link needs many parts in flight to be filled (at 300 ms and a 512 KiB
//! window one connection moves 1.7 MiB/s, and a 40 MiB/s link needs about 25
//! of them), while on a short one 8 already fill it, and more only cost
//! memory (about 1 MiB each: a body is streamed through a few 512 KiB chunks)
//! and server connections. Nothing tells a client the window or the link's
//! rate, but it can measure what more parts buy.
//!
//! **The measurement.** The controller works in epochs. Each measures the
//! goodput: the bytes of part bodies handed to the connections per second,
//! which follows the link within a part (acknowledgements come a whole part at
//! a time). An epoch counts only if every slot was busy for nearly all of it
//! ([`FULL`]) and no attempt failed: at the end of an upload, when fewer parts
//! are left than slots, the rate says nothing about the limit. The epoch after
//! any change is skipped ([`Phase::Settle`], [`SETTLE`]): new parts open
//! connections and fill their socket buffers at once, which would look like
//! a gain. Those buffers (a MiB or so per connection) also make the rate
//! swing as parts start and end, by a larger share the more parts are in
//! flight, so epochs are short ([`EPOCH`]) during the first climb, where the
//! gains to be seen are large, and longer after it ([`STEADY_EPOCH`]).
//!
//! **The rule** ([`Decider`], a pure function of its measurements):
//! - it starts at [`START`] parts, the fixed default of earlier versions, which
//!   fills short links;
//! - **it steps up only when parts are slow**, taking [`SLOW_PART`] or more
//!   each (as measured, or as the goodput shared among the parts in flight
//!   implies before any has finished). A slow part is held back by something
//!   per connection (a window over a long round trip) or by a thin link; more
//!   parts help with the first, and cost the second only a few seconds of
//!   extra parts in flight before the step is undone. A fast part means the
//!   link already moves parts quickly: on a loopback or a LAN the disk, the
//!   CPU or the server is the limit, and more parts would only cost memory.
//!   So a short link keeps exactly the behaviour (and the memory) of a fixed
//!   8;
//! - **a long link starts higher**: when the quickest answer before the
//!   parts (Create, or a resume's ListParts) took [`LONG_LINK`] or more, the
//!   run starts at the leap's height (32) and later steps double;
//! - **the first step is seeded by each part's rate**: if the first
//!   measurement finds the parts slow, the first step leaps ([`LEAP`]: 8 to
//!   32), because a long link is likely to need many more parts and every
//!   second at 8 leaves most of it unused; later steps double;
//! - **it climbs on measured goodput**: a step is judged against the epoch
//!   before it. While the goodput grows by at least half as much as the limit
//!   did ([`CLIMB`]), every part still moves at nearly its own full rate, so
//!   the link has room: it doubles again. A step that buys less than that but
//!   at least [`KEEP`] is kept, and the climb ends: the link is about full. A
//!   step that buys less than [`KEEP`] (a thin link, or a server that is the
//!   limit) is undone;
//! - after the climb, while parts are slow, it tries a doubling again every
//!   [`HOLD`] epochs, twice as long after each step that did not pay (up to
//!   [`MAX_HOLD`]), so a link that gets better is found at little cost on one
//!   that does not;
//! - **it backs off multiplicatively** when the store says it is overloaded
//!   (503, 429, SlowDown): the limit halves, at most once an epoch (the parts
//!   in flight all meet the same overload), even below [`START`], and no step
//!   up is tried for [`THROTTLE_HOLD`] epochs;
//! - **the last parts start together** ([`Decider::tail`]): once the parts
//!   not yet started fit beside those in flight under the ceiling, and a
//!   step up paid on this link, they all start at once. One part moves at
//!   most a window per round trip, so on a long link the last parts to start
//!   would otherwise run on after the others ended, each alone, with the
//!   link mostly idle (an 8 MiB part at 300 ms and a 512 KiB window takes
//!   4.7 s by itself); started together they share the full link and end
//!   together. Where more parts did not pay (a short link, a thin one) the
//!   end is that of a fixed limit;
//! - it stays between 1 and the ceiling, [`AUTO_MAX`] unless told otherwise:
//!   64 parts fill 40 MiB/s through a 512 KiB window up to about 800 ms, and
//!   hold about 64 MiB of chunks.
//!
//! **On a long or thin link, a slot is a body on the wire, not a request**
//! ([`super::gate::Lease`], [`Decider::long`]: the run started long, or parts
//! were measured slow): a part gives its slot back as soon as its last byte
//! is handed to the connection, and the next part starts while the answer
//! comes back. Without that, each slot idles a round trip and the store's
//! write per part (11 % of an 8 MiB part's time at 200 ms and one
//! connection's 5 MiB/s), and parts that started together (as after each
//! step up) end together, so the whole link idled at each such generation's
//! end. A part awaiting its answer holds a connection and no body buffer; a
//! retry takes a slot again before it sends. On a short link the answer comes
//! at once and the extra requests only crowd the store (10 % slower on
//! loopback, measured), so the slot is held to the end there, as a fixed
//! `--concurrency N` always holds it.
//!
//! It does not step down while the store is content: once more parts paid,
//! fewer would only save memory, and the measurement is too noisy to tell a
//! small loss from none.
//!
//! Memory stays flat in the part size (bodies are streamed); it grows by a
//! few chunks per part in flight, which the ceiling bounds.
//!
//! The limit is applied through [`super::gate::Gate`]s (by [`super::controller`]), semaphores whose size changes: the
//! workers take a slot per part, and the parts hashed ahead for a store that
//! signs ahead ([`super::hash`]) take one of another gate; lowering the limit
//! takes effect as parts finish.

use std::time::Duration;

/// The default ceiling of the adaptive limit; `--concurrency N` pins any
/// number up to the command line's own maximum instead.
pub const AUTO_MAX: u32 = 64;
/// Where the adaptive limit starts: the fixed default before it adapted,
/// which fills short links.
pub const START: u32 = 8;
/// One measurement during the first climb: several round trips of a long
/// link, short enough that a climb from 8 to 32 takes a few seconds.
pub const EPOCH: Duration = Duration::from_secs(1);
/// The epoch skipped after a change (a long link's handshake and the new
/// connections' buffers filling), and the first measurement, which only
/// sizes the first step.
pub const SETTLE: Duration = Duration::from_millis(500);
/// One measurement after the first climb: long enough that the swing of the
/// socket buffers of many parts averages out.
pub const STEADY_EPOCH: Duration = Duration::from_secs(4);
/// The controller looks this often whether every slot is busy, and whether
/// the store said it was overloaded.
pub const TICK: Duration = Duration::from_millis(100);
/// Share of an epoch's ticks at which every slot must be busy for it to count.
pub const FULL: f64 = 0.9;
/// A doubling is tried again when the goodput grew by at least this share of
/// the growth of the limit: the parts still move at nearly their own rate.
const CLIMB: f64 = 0.5;
/// A step is kept when the goodput grew by at least this much (10 %: above a
/// loaded machine's epoch-to-epoch noise).
const KEEP: f64 = 0.10;
/// Steady epochs before trying a step again (16 s); doubled after each step
/// that did not pay, up to 32 (about 2 minutes).
const HOLD: u32 = 4;
const MAX_HOLD: u32 = 32;
/// Epochs without a step up after the store said it was overloaded.
const THROTTLE_HOLD: u32 = 4;
/// Parts that take at least this long are slow: only then can more of them
/// pay (see the module docs). Loopback parts take well under half of it,
/// even on a loaded machine.
const SLOW_PART: Duration = Duration::from_millis(1500);
/// The factor of a leap: 8 to 32 at once.
const LEAP: u32 = 4;
/// A link whose quickest answer to a request without a body (Create, or a
/// resume's ListParts: a round trip, two with a new connection's handshake)
/// took this long or more is long: the run starts where the leap would take
/// it, instead of spending its first second at [`START`] measuring (at 300 ms
/// and a 512 KiB window, 8 parts fill a third of 40 MiB/s). A loopback, a LAN
/// or a nearby region answer in tens of milliseconds.
pub const LONG_LINK: Duration = Duration::from_millis(300);

/// How many parts may be in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concurrency {
    /// Exactly this many.
    Fixed(u32),
    /// Adapted to the link, never more than `max`.
    Auto { max: u32 },
}

impl Concurrency {
    /// The most parts ever in flight.
    pub fn ceiling(self) -> u32 {
        match self {
            Concurrency::Fixed(n) => n.max(1),
            Concurrency::Auto { max } => max.max(1),
        }
    }

    /// The limit at the start of a run, on a link whose quickest answer so
    /// far took `round_trip` (see [`LONG_LINK`]).
    pub fn initial(self, round_trip: Option<Duration>) -> u32 {
        match self {
            Concurrency::Fixed(n) => n.max(1),
            Concurrency::Auto { max } => start(round_trip).clamp(1, max.max(1)),
        }
    }
}

/// Where the adaptive limit starts: [`START`], or [`START`] × [`LEAP`] on a
/// long link (see [`LONG_LINK`]).
fn start(round_trip: Option<Duration>) -> u32 {
    if round_trip.is_some_and(|t| t >= LONG_LINK) {
        START * LEAP
    } else {
        START
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Bytes of part bodies handed to the connections, per second.
    pub goodput: f64,
    /// Every slot was busy for nearly all of the epoch.
    pub full: bool,
    /// An attempt failed during the epoch (its bytes were taken back).
    pub disturbed: bool,
    /// How long the parts that succeeded during the epoch took, on average;
    /// `None` when none did.
    pub part_time: Option<Duration>,
}

/// Where the controller is in its climb.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// The limit is what it is; probe up once `hold` runs out.
    Steady,
    /// The limit just changed: skip an epoch, then go on to `Steady`
    /// (`probe: None`) or judge the step from `probe`.
    Settle { probe: Option<Step> },
    /// Measuring the step from `from`, which moved `base`.
    Judge(Step),
}

/// A step up from `from` parts, at which the goodput was `base`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    from: u32,
    base: f64,
}

/// The controller's decisions: a pure function of the samples and
/// throttling signals it is given (see the module docs).
#[derive(Debug, Clone)]
pub struct Decider {
    limit: u32,
    max: u32,
    phase: Phase,
    /// Still in the first climb: a paying step is followed by another.
    climbing: bool,
    /// Steady epochs left before the next probe.
    hold: u32,
    /// The hold after the next step that does not pay.
    next_hold: u32,
    /// Epochs since the last cut; a second cut waits for one.
    since_cut: u32,
    /// The size of a part, to tell how long one takes.
    part_size: u64,
    /// No step has been tried yet.
    first: bool,
    /// A step up paid, and the store has not said it was overloaded since:
    /// more parts in flight move more.
    paid: bool,
    /// The rest of the parts have all started ([`Decider::tail`]): nothing
    /// is left to decide.
    ending: bool,
    /// The link is long or thin: the run started on a long link, or a
    /// measurement found the parts slow. Only then do parts give their slots
    /// back before their answers ([`Decider::long`]).
    long: bool,
}

impl Decider {
    pub fn new(max: u32, part_size: u64, round_trip: Option<Duration>) -> Decider {
        let max = max.max(1);
        let limit = start(round_trip).min(max);
        Decider {
            limit,
            max,
            // The first epoch opens the connections.
            phase: Phase::Settle { probe: None },
            climbing: true,
            hold: 0,
            next_hold: HOLD,
            since_cut: u32::MAX,
            part_size,
            // A long link started at the leap's height: later steps double.
            first: limit < START * LEAP,
            paid: false,
            ending: false,
            long: limit >= START * LEAP,
        }
    }

    /// Whether parts give their slots back once their bodies are sent (see
    /// the module docs): on a long or thin link, where the answer's round
    /// trip is worth filling. On a short one the answer comes back at once,
    /// and the extra requests would only crowd the store (measured on
    /// loopback: 10 % slower than holding the slot).
    pub fn long(&self) -> bool {
        self.long
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// How long the next epoch lasts.
    pub fn epoch_length(&self) -> Duration {
        match self.phase {
            // The first measurement only decides how big the first step is.
            Phase::Settle { .. } | Phase::Steady if self.first => SETTLE,
            Phase::Settle { .. } => SETTLE,
            _ if self.climbing => EPOCH,
            _ => STEADY_EPOCH,
        }
    }

    /// The store answered 503/429/SlowDown: halve, at most once an epoch.
    pub fn throttled(&mut self) -> u32 {
        if self.since_cut >= 1 {
            self.limit = (self.limit / 2).max(1);
            self.since_cut = 0;
            self.climbing = false;
            self.first = false;
            self.hold = THROTTLE_HOLD;
            self.phase = Phase::Settle { probe: None };
            self.paid = false;
        }
        self.limit
    }

    /// `left` parts have not started yet. Once they fit beside the parts in
    /// flight (within the ceiling), and more parts paid on this link, they
    /// all start at once: the last parts then move together and end
    /// together, instead of trickling out one window each after the rest.
    pub fn tail(&mut self, left: u64) -> u32 {
        if self.paid && !self.ending && left > 0 {
            let to = u64::from(self.limit) + left;
            if to <= u64::from(self.max) {
                // Cannot truncate: at most `max`.
                self.limit = to as u32;
                self.ending = true;
            }
        }
        self.limit
    }

    /// One epoch went by; returns the limit for the next.
    pub fn epoch(&mut self, s: Sample) -> u32 {
        self.since_cut = self.since_cut.saturating_add(1);
        if self.ending {
            return self.limit;
        }
        let valid = s.full && !s.disturbed && s.goodput > 0.0;
        match self.phase {
            Phase::Settle { probe } => {
                self.phase = match probe {
                    Some(step) => Phase::Judge(step),
                    None => Phase::Steady,
                };
            }
            Phase::Steady if valid => {
                if self.hold > 0 {
                    self.hold -= 1;
                } else if self.slow(&s) {
                    self.long = true;
                    self.probe(s.goodput);
                } else {
                    // Fast parts: no step, and no leap later.
                    self.first = false;
                    self.climbing = false;
                }
            }
            Phase::Judge(step) if valid => self.judge(step, s.goodput),
            Phase::Steady | Phase::Judge(_) => {}
        }
        self.limit
    }

    /// Whether the parts take [`SLOW_PART`] or more: as measured, or, if none
    /// finished during the epoch, at least the epoch and what the goodput
    /// shared among the parts in flight implies.
    fn slow(&self, s: &Sample) -> bool {
        let took = match s.part_time {
            Some(t) => t.as_secs_f64(),
            None => {
                let implied = self.part_size as f64 * f64::from(self.limit) / s.goodput;
                implied.max(self.epoch_length().as_secs_f64())
            }
        };
        took >= SLOW_PART.as_secs_f64()
    }

    /// Steps the limit up (a leap the first time), to be judged against
    /// `base` after a settling epoch.
    fn probe(&mut self, base: f64) {
        let step = if self.first { LEAP } else { 2 };
        self.first = false;
        let to = self.limit.saturating_mul(step).min(self.max);
        if to == self.limit {
            self.phase = Phase::Steady;
            self.hold = self.next_hold;
            return;
        }
        self.phase = Phase::Settle {
            probe: Some(Step {
                from: self.limit,
                base,
            }),
        };
        self.limit = to;
    }

    fn judge(&mut self, step: Step, goodput: f64) {
        let gain = goodput / step.base - 1.0;
        let grew = f64::from(self.limit) / f64::from(step.from) - 1.0;
        if gain >= KEEP {
            self.paid = true;
        }
        if self.climbing && gain >= CLIMB * grew {
            // Still in the linear part: every part moves at its own rate.
            self.probe(goodput);
            if self.phase == Phase::Steady {
                self.climbing = false;
            }
        } else if gain >= KEEP {
            self.climbing = false;
            self.phase = Phase::Steady;
            self.hold = self.next_hold;
        } else {
            self.climbing = false;
            self.limit = step.from;
            self.phase = Phase::Settle { probe: None };
            self.hold = self.next_hold;
            self.next_hold = (self.next_hold * 2).min(MAX_HOLD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;
    const PART: u64 = 8 << 20;

    /// An epoch in which every slot was busy and no part finished.
    fn full(mib_per_s: f64) -> Sample {
        Sample {
            goodput: mib_per_s * MIB,
            full: true,
            disturbed: false,
            part_time: None,
        }
    }

    /// An epoch in which parts took `secs` each.
    fn parts(mib_per_s: f64, secs: f64) -> Sample {
        Sample {
            part_time: Some(Duration::from_secs_f64(secs)),
            ..full(mib_per_s)
        }
    }

    /// A decider past its first (settling) epoch, measuring `s`.
    fn measured(s: Sample) -> Decider {
        let mut d = Decider::new(AUTO_MAX, PART, None);
        assert_eq!(d.epoch_length(), SETTLE);
        assert_eq!(d.epoch(full(1000.0)), START, "the first epoch only settles");
        assert_eq!(d.epoch_length(), SETTLE, "the first measurement is short");
        d.epoch(s);
        d
    }

    #[test]
    fn a_long_link_starts_at_the_leaps_height_and_then_doubles() {
        let rt = |ms| Some(Duration::from_millis(ms));
        assert_eq!(Concurrency::Auto { max: 64 }.initial(rt(600)), 32);
        assert_eq!(Concurrency::Auto { max: 64 }.initial(rt(40)), START);
        assert_eq!(Concurrency::Auto { max: 64 }.initial(None), START);
        assert_eq!(Concurrency::Auto { max: 20 }.initial(rt(600)), 20);
        assert_eq!(Concurrency::Fixed(8).initial(rt(600)), 8);
        let mut d = Decider::new(AUTO_MAX, PART, rt(600));
        assert_eq!(d.limit(), 32);
        assert!(d.long(), "slots are given back from the start");
        assert!(!Decider::new(AUTO_MAX, PART, rt(40)).long());
        d.epoch(full(1000.0));
        // Slow parts: a doubling, not a second leap.
        assert_eq!(d.epoch(full(40.0)), 64);
        // It bought nothing on a full link: back to 32.
        d.epoch(full(40.0));
        assert_eq!(d.epoch(full(40.0)), 32);
    }

    #[test]
    fn slow_parts_make_the_first_step_a_leap() {
        // 8 parts at 13 MiB/s and none finished: a part takes about 5 s.
        let d = measured(full(13.0));
        assert_eq!(d.limit(), 32);
        assert!(d.long());
        assert_eq!(d.epoch_length(), SETTLE);
        // Parts seen to take 2 s: the same.
        assert_eq!(measured(parts(30.0, 2.0)).limit(), 32);
    }

    #[test]
    fn fast_parts_take_no_step() {
        // 8 parts at 400 MiB/s (160 ms each), or seen to take 0.3 s, or
        // none finished in a loaded epoch at 100 MiB/s: 8 stay.
        for s in [full(400.0), parts(200.0, 0.3), full(100.0)] {
            let mut d = measured(s);
            assert_eq!(d.limit(), START, "{s:?}");
            assert_eq!(d.epoch_length(), STEADY_EPOCH);
            // Later epochs are long, and see parts finish.
            for _ in 0..100 {
                assert_eq!(d.epoch(parts(300.0, 0.4)), START, "{s:?}");
            }
            assert!(!d.long(), "slots are held to the answer");
            // Parts that turn slow are tried with a doubling, not a leap.
            assert_eq!(d.epoch(parts(20.0, 3.0)), 16);
            assert!(d.long());
        }
    }

    #[test]
    fn a_step_is_judged_after_a_settling_epoch_and_doubles_while_it_pays() {
        let mut d = measured(full(13.0));
        // The settling epoch's burst is not taken for a gain.
        assert_eq!(d.epoch(full(200.0)), 32);
        assert_eq!(
            d.epoch_length(),
            EPOCH,
            "a step is judged over a full epoch"
        );
        // 4x the parts, 3x the goodput: still linear, so up again.
        assert_eq!(d.epoch(full(39.0)), 64);
        d.epoch(full(0.0));
        // At the ceiling, and no gain: back to 32, which paid.
        assert_eq!(d.epoch(full(40.0)), 32);
        d.epoch(full(40.0));
        assert_eq!(d.epoch_length(), STEADY_EPOCH);
    }

    #[test]
    fn a_step_that_buys_a_little_is_kept_and_ends_the_climb() {
        let mut d = measured(full(30.0));
        d.epoch(full(30.0));
        // Four times the parts, 20 % more: kept, no further step.
        assert_eq!(d.epoch(full(36.0)), 32);
        for _ in 0..HOLD {
            assert_eq!(d.epoch(parts(36.0, 7.0)), 32);
        }
        // Then one more try, a doubling.
        assert_eq!(d.epoch(parts(36.0, 7.0)), 64);
    }

    #[test]
    fn a_step_that_buys_nothing_is_undone_and_tried_later_less_often() {
        let mut d = measured(full(38.0));
        d.epoch(full(38.0));
        assert_eq!(d.epoch(full(39.0)), START, "2.5 % is noise");
        d.epoch(full(38.0)); // settling
        let slow = parts(38.0, 1.7);
        for _ in 0..HOLD {
            assert_eq!(d.epoch(slow), START);
        }
        assert_eq!(d.epoch(slow), 16, "tried again");
        d.epoch(slow);
        assert_eq!(d.epoch(parts(37.0, 3.4)), START);
        d.epoch(slow);
        for _ in 0..2 * HOLD {
            assert_eq!(d.epoch(slow), START, "twice as long");
        }
        assert_eq!(d.epoch(slow), 16);
    }

    #[test]
    fn epochs_that_say_nothing_decide_nothing() {
        let mut d = measured(full(13.0));
        d.epoch(full(13.0));
        let tail = Sample {
            full: false,
            ..full(5.0)
        };
        let failed = Sample {
            disturbed: true,
            ..full(5.0)
        };
        for s in [tail, failed, full(0.0)] {
            assert_eq!(d.epoch(s), 32, "{s:?}");
        }
        assert_eq!(d.epoch(full(39.0)), 64, "the next full epoch judges");
    }

    #[test]
    fn overload_halves_once_an_epoch_and_holds_the_climb() {
        let mut d = measured(full(13.0));
        assert_eq!(d.limit(), 32);
        assert_eq!(d.throttled(), 16);
        assert_eq!(d.throttled(), 16, "the same overload, seen by every part");
        d.epoch(full(20.0)); // settling
        assert_eq!(d.throttled(), 8);
        d.epoch(full(20.0));
        assert_eq!(d.throttled(), 4, "below the start");
        d.epoch(full(20.0));
        d.epoch(full(20.0));
        assert_eq!(d.throttled(), 2);
        d.epoch(full(20.0));
        d.epoch(full(20.0));
        assert_eq!(d.throttled(), 1);
        d.epoch(full(20.0));
        d.epoch(full(20.0));
        assert_eq!(d.throttled(), 1, "never below one");
        d.epoch(full(20.0)); // settling
        for _ in 0..THROTTLE_HOLD {
            assert_eq!(d.epoch(full(20.0)), 1);
        }
        // Then doubling, not a leap, however slow the parts.
        assert_eq!(d.epoch(full(1.0)), 2);
    }

    #[test]
    fn the_last_parts_start_together_once_more_parts_paid() {
        let mut d = measured(full(13.0));
        d.epoch(full(200.0)); // settling
        assert_eq!(d.epoch(full(39.0)), 64);
        d.epoch(full(40.0)); // settling
        assert_eq!(d.epoch(full(40.0)), 32, "64 bought nothing: back to 32");
        // More parts left than fit beside the 32 under the ceiling: no change.
        assert_eq!(d.tail(100), 32);
        assert_eq!(d.tail(33), 32);
        // The last 32 fit: all start now.
        assert_eq!(d.tail(32), 64);
        // And nothing is decided any more: the epochs of the end say nothing.
        assert_eq!(d.epoch(full(40.0)), 64);
        assert_eq!(d.epoch(parts(1.0, 30.0)), 64);
        assert_eq!(d.tail(0), 64);
        // Overload still halves.
        assert_eq!(d.throttled(), 32);
    }

    #[test]
    fn the_last_parts_keep_the_limit_where_more_parts_did_not_pay() {
        // Fast parts (a loopback): exactly a fixed 8 to the end.
        let mut d = measured(full(400.0));
        assert_eq!(d.tail(3), START);
        // A thin link, where the leap was undone.
        let mut d = measured(full(38.0));
        d.epoch(full(38.0));
        assert_eq!(d.epoch(full(39.0)), START);
        assert_eq!(d.tail(10), START);
        // Still climbing, not judged yet.
        let mut d = measured(full(13.0));
        assert_eq!(d.tail(10), 32);
        // A step that paid, then the store said it was overloaded.
        let mut d = measured(full(13.0));
        d.epoch(full(13.0));
        assert_eq!(d.epoch(full(30.0)), 32, "kept: 130 % more");
        assert_eq!(d.throttled(), 16);
        assert_eq!(d.tail(5), 16);
        // Nothing left, or a stream (left unknown): nothing to start.
        let mut d = measured(full(13.0));
        d.epoch(full(13.0));
        d.epoch(full(30.0));
        assert_eq!(d.tail(0), 32);
    }

    #[test]
    fn the_ceiling_bounds_every_step() {
        let mut d = Decider::new(12, PART, None);
        d.epoch(full(1.0));
        assert_eq!(d.epoch(full(1.0)), 12);
        d.epoch(full(1.0));
        assert_eq!(d.epoch(full(1.5)), 12);
        assert_eq!(Decider::new(4, PART, None).limit(), 4);
        assert_eq!(Concurrency::Auto { max: 4 }.initial(None), 4);
        assert_eq!(Concurrency::Fixed(3).initial(None), 3);
        assert_eq!(Concurrency::Fixed(3).ceiling(), 3);
        assert_eq!(Concurrency::Auto { max: 64 }.ceiling(), 64);
    }
}
