//! `sync`: whether a file's object is unchanged, from the one listing of the
//! prefix (never a request per file).
//!
//! - [`Compare::SizeAndTime`] (the default, as `aws s3 sync` decides): the
//!   same size, and the object no older than the file, compared in whole
//!   seconds because listings carry whole seconds. A file touched or
//!   rewritten after its upload is newer than its object, and sent again.
//! - [`Compare::Size`] (`--size-only`): the same size.
//! - [`Compare::Checksum`] (`--checksum`): the same size, and the same
//!   content. A listing carries no SHA-256 (ListObjectsV2 names the
//!   algorithm, never the value), but it carries the ETag, which S3 and its
//!   peers make the MD5 of a single PutObject's body, or the MD5 of the
//!   parts' MD5s and `-N` for a multipart object: the file is read and its
//!   MD5 computed the same way, with the part size this run would use (a
//!   multipart object of another part count cannot be compared, and is sent
//!   again). An ETag that is no MD5 (SSE-KMS) never matches.

use std::fs::File;
use std::io;
use std::path::Path;

use super::complete::multipart_etag;
use crate::journal::session::Compare;
use crate::journal::PartRecord;
use crate::plan::Plan;
use crate::store::body::hash_range;
use crate::store::ListedObject;

/// Whether the file at `path` (`size` bytes, modified at `mtime_ns`) is what
/// `object` holds. Reads the file only for [`Compare::Checksum`]; call it off
/// the runtime then.
pub fn unchanged(
    path: &Path,
    size: u64,
    mtime_ns: u64,
    object: &ListedObject,
    compare: Compare,
    part_size: u64,
) -> io::Result<bool> {
    if object.size != size {
        return Ok(false);
    }
    match compare {
        Compare::Size => Ok(true),
        Compare::SizeAndTime => {
            let file_secs = mtime_ns / 1_000_000_000;
            Ok(object.modified_unix.is_some_and(|t| t >= file_secs))
        }
        Compare::Checksum => {
            let Some(etag) = object.etag.as_deref() else {
                return Ok(false);
            };
            Ok(content_etag(path, size, etag, part_size)?.as_deref()
                == Some(etag.trim_matches('"')))
        }
    }
}

/// The ETag the file's content would have, in the form `listed` has (plain,
/// or `-N` at `part_size`); `None` when it cannot be computed for that form.
fn content_etag(
    path: &Path,
    size: u64,
    listed: &str,
    part_size: u64,
) -> io::Result<Option<String>> {
    let listed = listed.trim_matches('"');
    let file = File::open(path)?;
    let Some((_, count)) = listed.split_once('-') else {
        let sums = hash_range(&file, 0, size, true, None)?;
        return Ok(sums.md5.map(hex::encode));
    };
    let Ok(plan) = Plan::new(size, part_size) else {
        return Ok(None);
    };
    if count.parse::<u64>().ok() != Some(plan.part_count) {
        return Ok(None);
    }
    let mut parts = Vec::new();
    for part in plan.parts() {
        let sums = hash_range(&file, part.offset, part.len, true, None)?;
        let Some(md5) = sums.md5 else {
            return Ok(None);
        };
        parts.push(PartRecord {
            number: part.number,
            size: part.len,
            etag: hex::encode(md5),
            sha256: String::new(),
            checksum: None,
        });
    }
    Ok(multipart_etag(&parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest, Md5};

    #[test]
    fn unchanged_by_size_time_and_content() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f");
        let body = vec![7u8; 6 << 20];
        std::fs::write(&path, &body).unwrap();
        let md5 = hex::encode(Md5::digest(&body));
        let listed = |etag: String, modified: u64| ListedObject {
            key: "f".into(),
            size: body.len() as u64,
            etag: Some(format!("\"{etag}\"")),
            modified_unix: Some(modified),
        };
        let size = body.len() as u64;
        let at = 1_700_000_000u64;
        let check = |o: &ListedObject, c: Compare| {
            unchanged(&path, size, at * 1_000_000_000 + 5, o, c, 5 << 20).unwrap()
        };
        assert!(check(&listed(md5.clone(), at), Compare::SizeAndTime));
        assert!(!check(&listed(md5.clone(), at - 1), Compare::SizeAndTime));
        assert!(check(&listed("x".into(), at - 1), Compare::Size));
        assert!(check(&listed(md5.clone(), 0), Compare::Checksum));
        assert!(!check(&listed("0".repeat(32), at), Compare::Checksum));
        // Two parts of 5 MiB and 1 MiB: the MD5 of their MD5s, then -2.
        let whole: Vec<u8> = [&body[..5 << 20], &body[5 << 20..]]
            .iter()
            .flat_map(|p| Md5::digest(p).to_vec())
            .collect();
        let multi = format!("{}-2", hex::encode(Md5::digest(&whole)));
        assert!(check(&listed(multi.clone(), 0), Compare::Checksum));
        let other_count = multi.replace("-2", "-3");
        assert!(!check(&listed(other_count, 0), Compare::Checksum));
    }
}
