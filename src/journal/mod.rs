//! The journal: what an interrupted upload needs to be finished later.
//!
//! One JSON file per multipart upload, `ID.json`, in the journal directory
//! (`--journal-dir`, `S3UP_JOURNAL_DIR`, or the platform data directory from the
//! `directories` crate, e.g. `~/.local/share/s3up/journal` on Linux). The ID is the
//! first 12 hex digits of the SHA-256 of the UploadId: short enough to type,
//! stable across runs.
//!
//! - `dir`: the directory, atomic saves, the lock;
//! - `writer`: the thread that owns the journal while parts are sent.
//!
//! Schema, version 1 (`version` changes whenever a field changes meaning):
//!
//! ```json
//! {
//!   "version": 1,
//!   "id": "3f2a9c0d41b7",
//!   "upload_id": "…",                 // S3's UploadId
//!   "bucket": "b", "key": "k",
//!   "connection": { "endpoint_url": null, "region": "eu-west-1", "profile": null, "path_style": false },
//!   // an upload through a backend (`put --via URL`) has only its URL here:
//!   // "connection": { "endpoint_url": null, "region": null, "profile": null, "path_style": false,
//!   //                 "via": "https://uploads.example.com" },
//!   "source": { "path": "/abs/file", "size": 123, "mtime_ns": 1700000000000000000 },
//!   "part_size": 8388608, "part_count": 1,
//!   "object": { "content_type": "…", "storage_class": null, "metadata": [["k","v"]], "if_none_match": false,
//!               // only when given (`store::object_options`); never an SSE-C key, only its MD5:
//!               "extras": { "sse": "aws:kms", "sse_kms_key_id": "…", "sse_c": "AES256",
//!                           "sse_c_key_md5": "base64", "acl": "…", "cache_control": "…",
//!                           "content_disposition": "…", "content_encoding": "…",
//!                           "content_language": "…", "expires": "2027-01-01T00:00:00Z",
//!                           "tagging": "k=v&k2=v2", "expected_bucket_owner": "…",
//!                           "request_payer": "requester" },
//!               "checksum": { "algorithm": "SHA256", "type": "composite" } },  // absent: SHA-256
//!   "created_unix": 1700000000, "updated_unix": 1700000100,
//!   "parts": [ { "number": 1, "size": 123, "etag": "\"…\"", "sha256": "base64" } ],
//!   // with another --checksum-algorithm, each part also has "checksum": "base64" (that algorithm's)
//!   "session": "5d0c4e2a9b17",        // only in a tree upload's journals
//!   "stream": { "start": 8388608, "every": 812, "max": 1073741824 }
//!                                     // only for standard input: the part-size schedule;
//!                                     // "source" is then { "path": "-", "size": 0, "mtime_ns": 0 }
//!   "asked_key": "backups/db.tar"     // only when a backend (Companion) chose another key
//! }
//! ```
//! (written compactly, on one line; shown spread out here)
//!
//! It never holds a credential: the connection names a profile at most. For a
//! `--via` upload it holds the backend's URL, the key the backend chose and
//! the UploadId, never the token or a presigned URL. `via` is optional, so
//! journals written before it existed still load (the version is unchanged).
//!
//! Crash safety: every save writes `ID.json.tmp` (mode 0600), fsyncs it, renames
//! it over `ID.json` and fsyncs the directory, so a reader sees the old journal
//! or the new one, never a torn one. One thread owns the journal during a run
//! ([`JournalWriter`]); workers send it finished parts, and it saves at most
//! every 200 ms (longer when saves are slow, so they stay under 0.5% of the
//! time), each save holding everything that arrived since the last. A part S3 has but the journal lost
//! is checked against the file by `resume` and reused when it matches
//! (`crate::engine::verify`); otherwise it is sent again, which replaces it.
//!
//! A run holds an exclusive lock (`flock`) on `ID.lock` for its whole life; the
//! kernel drops it when the process dies, even by SIGKILL.

mod dir;
pub mod session;
mod writer;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::{Part, Plan};
use crate::s3::Location;
use crate::store::{Connection, ObjectOptions, UploadHandle};

#[cfg(test)]
pub(crate) use dir::SLOW_DIRS;
pub use dir::{JournalDir, JournalError, Lock};
pub use session::{Session, SessionWriter};
pub use writer::{JournalWriter, PartSender, SaveStats, WriterStopped};

pub const JOURNAL_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    pub version: u32,
    pub id: String,
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub connection: Connection,
    pub source: Source,
    pub part_size: u64,
    pub part_count: u64,
    pub object: ObjectOptions,
    pub created_unix: u64,
    pub updated_unix: u64,
    /// Finished parts, sorted by number, each at most once.
    pub parts: Vec<PartRecord>,
    /// The tree session this file's upload belongs to ([`session`]), if any.
    /// Absent from single files' journals and from older ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// A stream's upload (standard input): how its parts are cut. Its
    /// `source` is then `-` (or the FIFO's path) with size 0, and
    /// `part_count` 0: neither is known until the stream ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<crate::plan::Schedule>,
    /// The key the user asked for, when a backend chose another (Uppy
    /// Companion names each object `{uuid}-{file name}`): `put` of the same
    /// source and key finds the journal by it. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_key: Option<String>,
}

impl Journal {
    /// True when the user asked for `key` for this upload: its key, or the
    /// one the backend replaced.
    pub fn asked_for(&self, key: &str) -> bool {
        self.key == key || self.asked_key.as_deref() == Some(key)
    }
}

/// The local file, as it was when the upload started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    pub path: PathBuf,
    pub size: u64,
    pub mtime_ns: u64,
}

impl Source {
    /// Reads size and modification time of the file at `path` (already absolute).
    pub fn of(path: &Path, meta: &fs::Metadata) -> Source {
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as u64);
        Source {
            path: path.to_path_buf(),
            size: meta.len(),
            mtime_ns,
        }
    }
}

/// A part S3 accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    pub number: u32,
    pub size: u64,
    pub etag: String,
    /// Base64 SHA-256 of the part's bytes.
    pub sha256: String,
    /// Base64 digest of the upload's `--checksum-algorithm` when that is not
    /// SHA-256 (`object.checksum`), as sent and as Complete sends it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// The journal ID of an upload.
pub fn id_for(upload_id: &str) -> String {
    hex::encode(&Sha256::digest(upload_id.as_bytes())[..6])
}

/// True when `s` has the form of a journal ID: 12 lowercase hex digits. Only
/// such a string is ever joined to the journal directory, so no ID can name
/// a file outside it.
pub fn is_valid_id(s: &str) -> bool {
    s.len() == 12
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl Journal {
    /// Records a finished part, replacing an earlier record of the same number.
    pub fn record(&mut self, part: PartRecord) {
        match self.parts.binary_search_by_key(&part.number, |p| p.number) {
            Ok(i) => self.parts[i] = part,
            Err(i) => self.parts.insert(i, part),
        }
    }

    /// The planned parts the journal does not hold: what is left to send.
    pub fn missing<'a>(&'a self, plan: &'a Plan) -> impl Iterator<Item = Part> + 'a {
        plan.parts().filter(|p| {
            self.parts
                .binary_search_by_key(&p.number, |r| r.number)
                .is_err()
        })
    }

    pub fn bytes_done(&self) -> u64 {
        self.parts.iter().map(|p| p.size).sum()
    }

    /// The upload this journal describes, as the store's calls name it.
    pub fn upload(&self) -> UploadHandle {
        UploadHandle {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
            upload_id: self.upload_id.clone(),
        }
    }

    /// Where the object goes.
    pub fn location(&self) -> Location {
        Location {
            bucket: self.bucket.clone(),
            key: self.key.clone(),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn sample(parts: Vec<PartRecord>) -> Journal {
        Journal {
            version: JOURNAL_VERSION,
            id: id_for("upload-1"),
            upload_id: "upload-1".into(),
            bucket: "bkt".into(),
            key: "dir/file.bin".into(),
            connection: Connection {
                endpoint_url: Some("http://127.0.0.1:9000".into()),
                region: Some("us-east-1".into()),
                profile: None,
                path_style: true,
                via: None,
                ca_bundle: None,
                no_verify_ssl: false,
            },
            source: Source {
                path: "/tmp/file.bin".into(),
                size: 20 << 20,
                mtime_ns: 1_700_000_000_123_456_789,
            },
            part_size: 8 << 20,
            part_count: 3,
            object: ObjectOptions {
                content_type: Some("application/octet-stream".into()),
                storage_class: None,
                metadata: vec![("owner".into(), "me".into())],
                if_none_match: true,
                extras: Default::default(),
                checksum: Default::default(),
            },
            created_unix: 1,
            updated_unix: 2,
            parts,
            session: None,
            stream: None,
            asked_key: None,
        }
    }

    #[test]
    fn ids_are_validated() {
        assert!(is_valid_id(&id_for("any upload id")));
        for bad in [
            "",
            "../x",
            "/tmp/x",
            "0123456789AB",
            "0123456789a",
            "0123456789abc",
            "0123456789a/",
        ] {
            assert!(!is_valid_id(bad), "{bad}");
        }
    }

    #[test]
    fn id_is_short_and_stable() {
        assert_eq!(id_for("abc"), id_for("abc"));
        assert_ne!(id_for("abc"), id_for("abd"));
        assert_eq!(id_for("abc").len(), 12);
    }

    proptest! {
        #[test]
        fn round_trip_any_parts(numbers in proptest::collection::vec(1u32..=10_000, 0..50), etag in "\\PC{0,40}") {
            let mut j = sample(vec![]);
            for n in &numbers {
                j.record(PartRecord { number: *n, size: u64::from(*n), etag: etag.clone(), sha256: "s".into(), checksum: None });
            }
            let text = serde_json::to_string(&j).unwrap();
            let back: Journal = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&back, &j);
            prop_assert!(back.parts.windows(2).all(|w| w[0].number < w[1].number));
        }
    }
}
