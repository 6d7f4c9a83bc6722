//! Part planning: how a file of a given size is cut into numbered parts.
//!
//! This module is pure (no I/O) so the S3 size rules can be tested exhaustively.
//! The limits themselves, with their source, are in [`crate::s3`].

use std::fmt;

use crate::s3::{MAX_OBJECT_SIZE, MAX_PARTS, MAX_PART_SIZE, MIN_PART_SIZE};
use crate::units::MIB;

/// The smallest part size the CLI accepts: S3's [`MIN_PART_SIZE`], except in a
/// `bench-floor` build, where `S3UP_BENCH_MIN_PART_SIZE` may lower it.
pub fn min_part_size() -> u64 {
    #[cfg(feature = "bench-floor")]
    if let Some(n) = std::env::var("S3UP_BENCH_MIN_PART_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    MIN_PART_SIZE
}

/// Default part size: small enough that a retry resends little, large enough
/// that a 78 GiB file still fits in 10,000 parts without raising it.
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;

/// How a file will be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// File size in bytes.
    pub size: u64,
    /// Size of every part but the last.
    pub part_size: u64,
    /// Number of parts; 1 means a single PutObject.
    pub part_count: u64,
    /// Set when the requested part size was raised to fit in 10,000 parts.
    pub raised_from: Option<u64>,
    /// A stream's growing part sizes ([`Schedule`]); `None`: every part but
    /// the last is `part_size`.
    pub schedule: Option<Schedule>,
}

/// One part of a plan: its number (1-based), byte offset and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub number: u32,
    pub offset: u64,
    pub len: u64,
}

/// Why a file cannot be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    TooLarge { size: u64 },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::TooLarge { size } => write!(
                f,
                "the file is {size} bytes, more than S3's largest object ({MAX_OBJECT_SIZE} bytes, \
                 10,000 parts of at most 5 GiB)"
            ),
        }
    }
}

impl Plan {
    /// Plans `size` bytes with the requested part size (already validated to lie
    /// within `min_part..=MAX_PART_SIZE` by the CLI). Files of at most one part go
    /// up as a single PutObject.
    pub fn new(size: u64, requested: u64) -> Result<Plan, PlanError> {
        if size > MAX_OBJECT_SIZE {
            return Err(PlanError::TooLarge { size });
        }
        let mut part_size = requested;
        let mut raised_from = None;
        if size.div_ceil(part_size) > MAX_PARTS {
            part_size = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
            raised_from = Some(requested);
        }
        if part_size > MAX_PART_SIZE {
            return Err(PlanError::TooLarge { size });
        }
        let part_count = size.div_ceil(part_size).max(1);
        Ok(Plan {
            size,
            part_size,
            part_count,
            raised_from,
            schedule: None,
        })
    }

    /// True when the file goes up with one PutObject instead of a multipart upload.
    pub fn is_single(&self) -> bool {
        self.part_count == 1
    }

    /// A stream of `size` bytes (known once it has ended) cut by `schedule`.
    pub fn stream(schedule: Schedule, size: u64) -> Plan {
        Plan {
            size,
            part_size: schedule.start,
            part_count: schedule.parts_for(size),
            raised_from: None,
            schedule: Some(schedule),
        }
    }

    /// The part with this number (1-based); `None` outside the plan.
    pub fn part(&self, number: u32) -> Option<Part> {
        let n = u64::from(number);
        if n == 0 || n > self.part_count {
            return None;
        }
        if let Some(schedule) = &self.schedule {
            let offset = schedule.offset(number);
            return Some(Part {
                number,
                offset,
                len: schedule.part_size(number).min(self.size - offset),
            });
        }
        let offset = (n - 1) * self.part_size;
        Some(Part {
            number,
            offset,
            len: self.part_size.min(self.size - offset),
        })
    }

    /// Every part, in order.
    pub fn parts(&self) -> impl Iterator<Item = Part> + '_ {
        // part_count <= MAX_PARTS, so the cast cannot truncate.
        (1..=self.part_count as u32).filter_map(|n| self.part(n))
    }
}

/// The stream size the default schedule reaches in 10,000 parts: 5 TiB, the
/// largest S3 object until December 2025 and still the limit of many
/// S3-compatible stores. (S3's own limit is now [`MAX_OBJECT_SIZE`], which
/// only parts of nearly 5 GiB from the first reach: for that, a stream needs
/// `--expected-size`.)
pub const STREAM_REACH: u64 = 5 * 1024 * 1024 * MIB;

/// A stream's part sizes, which grow as the stream does, because its length
/// is not known in advance: `start` for the first `every` parts, then twice
/// that for the next `every`, and so on, never above `max`. A small stream
/// goes in small parts (cheap to retry, many in flight within the memory
/// cap); a large one still fits in 10,000 parts. A uniform plan (a stream
/// whose `--expected-size` is given) is the schedule that never grows.
///
/// Recorded in the journal, so a resume cuts the stream again at the same
/// places whatever its own options say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Schedule {
    pub start: u64,
    /// Parts between two doublings; `u32::MAX`: never doubles.
    pub every: u32,
    /// The largest part: S3's [`MAX_PART_SIZE`], or less (the memory cap).
    pub max: u64,
}

impl Schedule {
    /// Parts of `size` bytes each, as for a file of known size.
    pub fn uniform(size: u64) -> Schedule {
        Schedule {
            start: size,
            every: u32::MAX,
            max: size,
        }
    }

    /// Starts at `start`, grows to at most `max`, and doubles as rarely as
    /// it can while 10,000 parts still reach [`STREAM_REACH`]: the largest
    /// `every` that does (at least 1, which is as fast as it can grow).
    pub fn growing(start: u64, max: u64) -> Schedule {
        let max = max.min(MAX_PART_SIZE).max(start);
        let (mut lo, mut hi) = (1u32, MAX_PARTS as u32);
        // reach() falls as `every` grows: find the last `every` that reaches.
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            let s = Schedule {
                start,
                every: mid,
                max,
            };
            if s.reach() >= STREAM_REACH {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Schedule {
            start,
            every: lo,
            max,
        }
    }

    /// The size of part `number` (1-based) when it is not the last.
    pub fn part_size(&self, number: u32) -> u64 {
        let doublings = (number.max(1) - 1) / self.every;
        if doublings >= 63 {
            return self.max;
        }
        self.start
            .checked_shl(doublings)
            .filter(|s| s >> doublings == self.start)
            .map_or(self.max, |s| s.min(self.max))
    }

    /// Where part `number` begins: the sizes of the parts before it.
    pub fn offset(&self, number: u32) -> u64 {
        let mut offset = 0u64;
        let mut n = 1u64;
        let number = u64::from(number);
        // One step of equal sizes at a time: at most a few dozen steps.
        while n < number {
            let upto = self.step_end(n).min(number);
            offset = offset.saturating_add((upto - n).saturating_mul(self.part_size(n as u32)));
            n = upto;
        }
        offset
    }

    /// The first part number after the step that part `n` is in.
    fn step_end(&self, n: u64) -> u64 {
        let every = u64::from(self.every);
        ((n - 1) / every + 1) * every + 1
    }

    /// Bytes 10,000 parts hold.
    pub fn reach(&self) -> u64 {
        self.offset(MAX_PARTS as u32 + 1)
    }

    /// Parts a stream of `size` bytes takes (1 for an empty one); more than
    /// [`MAX_PARTS`] when it does not fit.
    pub fn parts_for(&self, size: u64) -> u64 {
        let mut n = 1u64;
        let mut offset = 0u64;
        loop {
            let len = self.part_size(n.min(u64::from(u32::MAX)) as u32);
            let end = self.step_end(n);
            let span = (end - n).saturating_mul(len);
            if size <= offset.saturating_add(span) {
                return n + (size - offset).div_ceil(len).max(1) - 1;
            }
            offset += span;
            n = end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn empty_and_small_files_are_one_part() {
        for size in [0, 1, MIN_PART_SIZE - 1, DEFAULT_PART_SIZE] {
            let plan = Plan::new(size, DEFAULT_PART_SIZE).unwrap();
            assert!(plan.is_single(), "size {size}");
            assert_eq!(plan.part(1).unwrap().len, size);
        }
    }

    #[test]
    fn short_last_part() {
        let plan = Plan::new(5 * MIB + 1, 5 * MIB).unwrap();
        assert_eq!(plan.part_count, 2);
        assert_eq!(
            plan.part(2).unwrap(),
            Part {
                number: 2,
                offset: 5 * MIB,
                len: 1
            }
        );
        assert_eq!(plan.part(3), None);
        assert_eq!(plan.part(0), None);
    }

    #[test]
    fn raises_part_size_to_fit_ten_thousand_parts() {
        let size = 100 * 1024 * MIB; // 100 GiB at 8 MiB would be 12,800 parts
        let plan = Plan::new(size, DEFAULT_PART_SIZE).unwrap();
        assert_eq!(plan.raised_from, Some(DEFAULT_PART_SIZE));
        assert_eq!(plan.part_size, 11 * MIB); // ceil(100 GiB / 10,000) = 10.24 MiB → 11 MiB
        assert!(plan.part_count <= MAX_PARTS);
    }

    #[test]
    fn refuses_objects_larger_than_s3_allows() {
        assert!(Plan::new(MAX_OBJECT_SIZE + 1, DEFAULT_PART_SIZE).is_err());
        assert!(Plan::new(MAX_OBJECT_SIZE, DEFAULT_PART_SIZE).is_ok());
    }

    /// The default stream schedule, at S3's largest part and at the default
    /// memory cap: 10,000 parts reach 5 TiB, no part is above 5 GiB (nor the
    /// cap), the first parts are the start size, and the sizes double.
    #[test]
    fn stream_schedule_reaches_5_tib_in_10_000_parts() {
        for max in [MAX_PART_SIZE, 1024 * MIB, 640 * MIB] {
            let s = Schedule::growing(DEFAULT_PART_SIZE, max);
            assert!(s.reach() >= 5 << 40, "{s:?} reaches {}", s.reach());
            assert!(s.every > 1, "{s:?}");
            for n in 1..=MAX_PARTS as u32 {
                assert!(
                    s.part_size(n) <= max.min(MAX_PART_SIZE),
                    "part {n} of {s:?}"
                );
                assert!(s.part_size(n) >= MIN_PART_SIZE);
            }
            assert_eq!(s.part_size(1), DEFAULT_PART_SIZE);
            assert_eq!(s.part_size(s.every), DEFAULT_PART_SIZE);
            assert_eq!(s.part_size(s.every + 1), 2 * DEFAULT_PART_SIZE);
            // A larger `every` would fall short: it grows as late as it can.
            let later = Schedule {
                every: s.every + 1,
                ..s
            };
            assert!(later.reach() < 5 << 40, "{later:?}");
        }
        // The default (1 GiB of memory): 8 MiB parts for the first steps.
        let s = Schedule::growing(DEFAULT_PART_SIZE, 1024 * MIB);
        assert_eq!(s.every, 812);
    }

    #[test]
    fn stream_plan_cuts_where_the_schedule_says() {
        let s = Schedule {
            start: 5 * MIB,
            every: 2,
            max: 20 * MIB,
        };
        let sizes: Vec<u64> = (1..=8).map(|n| s.part_size(n) / MIB).collect();
        assert_eq!(sizes, [5, 5, 10, 10, 20, 20, 20, 20]);
        assert_eq!(s.offset(1), 0);
        assert_eq!(s.offset(5), 30 * MIB);
        assert_eq!(s.parts_for(0), 1);
        assert_eq!(s.parts_for(5 * MIB), 1);
        assert_eq!(s.parts_for(5 * MIB + 1), 2);
        assert_eq!(s.parts_for(30 * MIB), 4);
        assert_eq!(s.parts_for(30 * MIB + 1), 5);
        let plan = Plan::stream(s, 31 * MIB);
        assert_eq!(plan.part_count, 5);
        assert_eq!(
            plan.part(5),
            Some(Part {
                number: 5,
                offset: 30 * MIB,
                len: MIB
            })
        );
        let uniform = Schedule::uniform(8 * MIB);
        assert_eq!(uniform.part_size(9_999), 8 * MIB);
        assert_eq!(uniform.offset(3), 16 * MIB);
        assert_eq!(uniform.parts_for(16 * MIB + 1), 3);
    }

    proptest! {
        /// A stream plan's parts tile the stream, whatever the schedule (from 1 MiB:
        /// a start of a few bytes made up to billions of parts, 160 s in debug).
        #[test]
        fn stream_parts_tile_the_stream(size in 0u64..(1 << 36), start in (1u64 << 20)..(64 << 20), every in 1u32..50) {
            let s = Schedule { start, every, max: start << 4 };
            let plan = Plan::stream(s, size);
            let mut at = 0;
            for part in plan.parts() {
                prop_assert_eq!(part.offset, at);
                prop_assert!(part.len <= s.part_size(part.number));
                at += part.len;
            }
            prop_assert_eq!(at, size);
        }

        #[test]
        fn parts_tile_the_file(size in 0u64..=MAX_OBJECT_SIZE, requested in MIN_PART_SIZE..=MAX_PART_SIZE) {
            let plan = Plan::new(size, requested).unwrap();
            prop_assert!(plan.part_count >= 1 && plan.part_count <= MAX_PARTS);
            prop_assert!(plan.part_size >= requested && plan.part_size <= MAX_PART_SIZE);
            prop_assert_eq!(plan.raised_from.is_some(), plan.part_size != requested);
            let last = plan.part(plan.part_count as u32).unwrap();
            prop_assert_eq!(last.offset + last.len, size);
            prop_assert!(last.len <= plan.part_size);
            prop_assert!(size == 0 || last.len > 0);
            // Every part but the last is exactly part_size, and parts are contiguous.
            let first = plan.part(1).unwrap();
            prop_assert_eq!(first.offset, 0);
            if plan.part_count > 1 {
                prop_assert_eq!(first.len, plan.part_size);
                let before_last = plan.part(plan.part_count as u32 - 1).unwrap();
                prop_assert_eq!(before_last.offset + before_last.len, last.offset);
            }
        }
    }
}
