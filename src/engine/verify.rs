//! Reuse candidates: parts the store already holds that a resume takes as
//! done only once the file's bytes are seen to match them.
//!
//! Size and mtime cannot see a byte rewritten in place with the mtime put
//! back (`cp -p`, `rsync -t`, `tar x`), and a SIGKILL between batched journal
//! saves leaves parts on the store that the journal never named. Both are
//! settled the same way: [`reconcile`](super::reconcile) turns each such part
//! into a [`Candidate`] with what its bytes must hash to, and
//! `verify_all` hashes the candidates on the blocking pool *while the
//! workers send the missing parts*, so on a real link the check costs no wall
//! time. A candidate that matches goes to the journal as a finished part,
//! with the store's ETag; one that does not is pushed onto the workers' queue
//! and sent again, so Complete never mixes old and new bytes.
//!
//! What a candidate is checked against, in order of preference:
//! - the SHA-256 the journal recorded when s3up sent it, or that the store
//!   lists (Garage and AWS list one for parts sent with a SHA-256 checksum);
//! - else the MD5 that a plain 32-hex ETag is (moto; AWS without SSE-KMS).
//!   An ETag that looks like an MD5 but is not one (SSE-KMS, SSE-C) simply
//!   fails to match, and the part is sent again: never a false "same".
//!
//! A part with neither is not a candidate; it is sent again.

use std::fs::File;
use std::sync::Arc;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

use super::error::Stop;
use super::Progress;
use crate::checksum::Algorithm;
use crate::journal::{PartRecord, PartSender};
use crate::plan::Part;
use crate::store::body::hash_range_with;
use crate::store::{b64, ListedPart, PartSums};

/// A part the store holds, to be taken as done only if the file's bytes for
/// it hash to `expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub part: Part,
    /// The ETag the store lists; it goes into the journal once verified.
    pub etag: String,
    pub expect: Expect,
}

/// What a candidate's bytes must hash to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Base64 SHA-256: recorded in the journal, or listed by the store.
    Sha256(String),
    /// The MD5 a plain ETag carries.
    Md5([u8; 16]),
}

impl Expect {
    /// What a part the store lists can be checked by, if anything: its listed
    /// SHA-256, else the MD5 in its ETag when the store's ETags are MD5s
    /// (`etag_is_md5`: not with SSE-KMS or SSE-C, whose ETags only look so).
    pub fn listed(part: &ListedPart, etag_is_md5: bool) -> Option<Expect> {
        match &part.checksum_sha256 {
            Some(sha) => Some(Expect::Sha256(sha.clone())),
            None if etag_is_md5 => md5_of_etag(&part.etag).map(Expect::Md5),
            None => None,
        }
    }

    fn matches(&self, got: &PartSums) -> bool {
        match self {
            Expect::Sha256(want) => *want == b64(&got.sha256),
            Expect::Md5(want) => got.md5.as_ref() == Some(want),
        }
    }
}

/// The MD5 in an ETag that is exactly 32 hex digits (quotes aside). A
/// multipart-style `…-N` ETag, or any other form, has none.
fn md5_of_etag(etag: &str) -> Option<[u8; 16]> {
    let hex_digits = etag.trim_matches('"');
    if hex_digits.len() != 32 {
        return None;
    }
    let mut md5 = [0; 16];
    hex::decode_to_slice(hex_digits, &mut md5).ok()?;
    Some(md5)
}

/// Where [`verify_all`] sends its verdicts.
pub(super) struct Verifier {
    pub file: Arc<File>,
    /// Shared with the workers' own hashing, so verifying never takes more
    /// of the CPU and the blocking pool than sending parts would.
    pub hashing: Arc<Semaphore>,
    pub journal: PartSender,
    /// The upload's checksum algorithm when not SHA-256, journalled with
    /// each verified part for Complete.
    pub also: Option<Algorithm>,
    /// The workers' queue: a part that does not match is sent again.
    pub queue: mpsc::UnboundedSender<Part>,
    pub progress: Arc<dyn Progress>,
}

/// Hashes every candidate on the blocking pool, as many at once as
/// `hashing` allows. A match is journalled as a finished part and counted as
/// progress; a mismatch is queued to be sent again. Returns the numbers of
/// the parts that did not match. Dropping the future stops it; hashes already
/// running finish on their own and are ignored.
pub(super) async fn verify_all(v: Verifier, candidates: Vec<Candidate>) -> Result<Vec<u32>, Stop> {
    let mut waiting = candidates.into_iter();
    let mut next = waiting.next();
    let mut hashes = JoinSet::new();
    let mut mismatched = Vec::new();
    loop {
        tokio::select! {
            permit = v.hashing.clone().acquire_owned(), if next.is_some() => {
                let permit = permit.map_err(|e| Stop::Worker(e.to_string()))?;
                let Some(c) = next.take() else { continue };
                next = waiting.next();
                let file = v.file.clone();
                let md5 = matches!(c.expect, Expect::Md5(_));
                let also = v.also;
                hashes.spawn_blocking(move || {
                    let got = hash_range_with(&file, c.part.offset, c.part.len, md5, also, None);
                    drop(permit);
                    (c, got)
                });
            }
            Some(done) = hashes.join_next() => {
                let (c, got) = done.map_err(|e| Stop::Worker(e.to_string()))?;
                let got = got.map_err(|e| Stop::Read(c.part.number, e))?;
                if c.expect.matches(&got) {
                    v.journal
                        .record(PartRecord {
                            number: c.part.number,
                            size: c.part.len,
                            etag: c.etag,
                            sha256: b64(&got.sha256),
                            checksum: got.checksum.map(|s| s.b64()),
                        })
                        .map_err(|_| Stop::Journal)?;
                    v.progress.part_reused(c.part.len);
                } else {
                    mismatched.push(c.part.number);
                    // Fails only once the run has stopped taking parts.
                    if v.queue.send(c.part).is_err() {
                        break;
                    }
                }
            }
            else => break,
        }
    }
    Ok(mismatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_32_hex_etag_is_an_md5() {
        let md5 = "9e107d9d372bb6826bd81d3542a419d6";
        assert_eq!(
            md5_of_etag(&format!("\"{md5}\""))
                .map(hex::encode)
                .as_deref(),
            Some(md5)
        );
        assert_eq!(md5_of_etag(md5).map(hex::encode).as_deref(), Some(md5));
        for not_md5 in [
            "\"9e107d9d372bb6826bd81d3542a419d6-3\"",
            "\"9e107d9d372bb6826bd81d3542a419\"",
            "\"9e107d9d372bb6826bd81d3542a419zz\"",
            "",
        ] {
            assert_eq!(md5_of_etag(not_md5), None, "{not_md5}");
        }
    }

    #[test]
    fn a_listed_sha256_is_preferred_to_the_etag() {
        let listed = ListedPart {
            number: 1,
            size: 5,
            etag: "\"9e107d9d372bb6826bd81d3542a419d6\"".into(),
            checksum_sha256: Some("c2hh".into()),
        };
        assert_eq!(
            Expect::listed(&listed, true),
            Some(Expect::Sha256("c2hh".into()))
        );
        let moto = ListedPart {
            checksum_sha256: None,
            ..listed.clone()
        };
        assert!(matches!(Expect::listed(&moto, true), Some(Expect::Md5(_))));
        // With SSE-KMS or SSE-C the same ETag proves nothing.
        assert_eq!(Expect::listed(&moto, false), None);
        let neither = ListedPart {
            etag: "\"opaque\"".into(),
            ..moto
        };
        assert_eq!(Expect::listed(&neither, true), None);
    }
}
