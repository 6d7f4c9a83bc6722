//! The engine's side of `--checksum-algorithm` (issue 23): refusing a choice
//! the store is known to refuse before anything is created, the checksums
//! Complete sends, and the object checksum an upload's parts make, which
//! Complete's answer and a lost Complete's object are checked against.
//! The algorithms themselves are `crate::checksum`.

use super::Error;
use crate::checksum::{digest_part, Algorithm, Choice, Tagged};
use crate::journal::{Journal, PartRecord};
use crate::s3::Location;
use crate::store::{CompletedPart, Finished, ObjectInfo, Store};

/// Fails with [`Error::ChecksumRefused`] when the store is one that was
/// measured to refuse `choice` (`crate::checksum::StoreKind::refuses`), before
/// anything is created; the default (SHA-256) is never asked about.
pub async fn check_supported<S: Store>(
    store: &S,
    dest: &Location,
    choice: &Choice,
) -> Result<(), Error> {
    if choice.is_default() {
        return Ok(());
    }
    match store.refuses_checksum(&dest.bucket, choice).await {
        None => Ok(()),
        Some((store, answer)) => Err(Error::ChecksumRefused {
            dest: dest.clone(),
            store,
            choice: *choice,
            answer,
        }),
    }
}

/// A journalled part's checksum in the upload's algorithm: the SHA-256 it
/// always records, or the other algorithm's digest recorded beside it.
pub fn part_checksum(choice: &Choice, part: &PartRecord) -> Option<Tagged> {
    match choice.extra() {
        None => Some(Tagged {
            algorithm: Algorithm::Sha256,
            b64: part.sha256.clone(),
        }),
        Some(algorithm) => part.checksum.clone().map(|b64| Tagged { algorithm, b64 }),
    }
}

/// The parts as Complete sends them, each with its checksum.
pub fn completed_parts(journal: &Journal) -> Vec<CompletedPart> {
    let choice = &journal.object.checksum;
    journal
        .parts
        .iter()
        .map(|p| CompletedPart {
            number: p.number,
            etag: p.etag.clone(),
            checksum: part_checksum(choice, p),
        })
        .collect()
}

/// The checksum the store should report for the object these parts make
/// (composite "…-N", or the whole object's CRC); `None` when a part lacks one.
pub fn expected(journal: &Journal) -> Option<Tagged> {
    let choice = &journal.object.checksum;
    let digests: Option<Vec<(Tagged, u64)>> = journal
        .parts
        .iter()
        .map(|p| part_checksum(choice, p).map(|t| (t, p.size)))
        .collect();
    let digests = digests?;
    let b64 = choice.object(digests.iter().map(|(t, n)| (t.b64.as_str(), *n)))?;
    Some(Tagged {
        algorithm: choice.algorithm,
        b64,
    })
}

/// The object's full-object checksum, which Complete sends for the store
/// to check, for an upload created with `--checksum-type full-object`.
pub fn whole(journal: &Journal) -> Option<Tagged> {
    journal
        .object
        .checksum
        .full_object()
        .then(|| expected(journal))
        .flatten()
}

/// The checksum of `algorithm` a store reports, from its answer's fields.
fn reported(
    algorithm: Algorithm,
    sha256: Option<&String>,
    other: Option<&Tagged>,
) -> Option<String> {
    match algorithm {
        Algorithm::Sha256 => sha256.cloned(),
        a => other.filter(|t| t.algorithm == a).map(|t| t.b64.clone()),
    }
}

/// Whether a reported checksum matches the expected one: `Some(false)` on a
/// mismatch, `None` when the store reports none of the algorithm.
pub fn compare(want: &Tagged, got: Option<&str>) -> Option<bool> {
    got.map(|g| digest_part(g) == digest_part(&want.b64))
}

/// What an object's answer reports in `want`'s algorithm.
pub fn reported_by_object(want: &Tagged, info: &ObjectInfo) -> Option<String> {
    reported(
        want.algorithm,
        info.checksum_sha256.as_ref(),
        info.checksum.as_ref(),
    )
}

/// What Complete's (or PutObject's) answer reports in `want`'s algorithm.
pub fn reported_by_finished(want: &Tagged, f: &Finished) -> Option<String> {
    reported(
        want.algorithm,
        f.checksum_sha256.as_ref(),
        f.checksum.as_ref(),
    )
}
