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
        })
    }

    /// True when the file goes up with one PutObject instead of a multipart upload.
    pub fn is_single(&self) -> bool {
        self.part_count == 1
    }

    /// The part with this number (1-based); `None` outside the plan.
    pub fn part(&self, number: u32) -> Option<Part> {
        let n = u64::from(number);
        if n == 0 || n > self.part_count {
            return None;
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

    proptest! {
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
