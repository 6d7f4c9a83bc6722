//! The words of `--checksum-algorithm` and `--checksum-type` (issue 23): a
//! combination S3 does not allow, and a store that refuses the choice.

use crate::checksum::{Algorithm, Choice, Invalid, Kind, StoreKind};
use crate::error::Error;
use crate::s3::Location;

/// A combination of the two flags that S3 does not allow (exit 2).
pub fn invalid(why: Invalid) -> Error {
    Error::Usage(match why {
        Invalid::NoFullObject(a) => format!(
            "--checksum-type full-object needs a CRC, and {} has no full-object form. Use \
             --checksum-algorithm CRC64NVME, CRC32C or CRC32, or leave out --checksum-type",
            a.name()
        ),
        Invalid::OnlyFullObject(a) => format!(
            "{} checksums are full-object only. Leave out --checksum-type composite, or use \
             --checksum-algorithm CRC32C or CRC32 for a composite CRC",
            a.name()
        ),
    })
}

/// How a choice is named in a sentence: "CRC64NVME (full-object)".
pub fn named(choice: &Choice) -> String {
    let kind = match choice.kind {
        Kind::Composite => "composite",
        Kind::FullObject => "full-object",
    };
    format!("{} ({kind})", choice.algorithm.name())
}

/// The store was measured to refuse the choice; nothing was created (exit 1).
pub fn refused(dest: &Location, store: StoreKind, choice: &Choice, answer: &str) -> Error {
    // What works there instead, each with its default type.
    let others: Vec<&str> = Algorithm::ALL
        .iter()
        .filter_map(|a| Choice::new(*a, None).ok())
        .filter(|c| c != choice && (c.is_default() || store.refuses(c).is_none()))
        .map(|c| c.algorithm.name())
        .collect();
    Error::failed(format!(
        "{} does not take {} checksums for '{dest}': {answer}. Nothing was created: use \
         --checksum-algorithm {} (without --checksum-type)",
        store.name(),
        named(choice),
        others.join(", ")
    ))
}
