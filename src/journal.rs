//! The journal: what an interrupted upload needs to be finished later.
//!
//! One JSON file per multipart upload, `ID.json`, in the journal directory
//! (`--journal-dir`, `S3UP_JOURNAL_DIR`, or the platform data directory from the
//! `directories` crate, e.g. `~/.local/share/s3up/journal` on Linux). The ID is the
//! first 12 hex digits of the SHA-256 of the UploadId: short enough to type,
//! stable across runs.
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
//!   "source": { "path": "/abs/file", "size": 123, "mtime_ns": 1700000000000000000 },
//!   "part_size": 8388608, "part_count": 1,
//!   "object": { "content_type": "…", "storage_class": null, "metadata": [["k","v"]], "if_none_match": false },
//!   "created_unix": 1700000000, "updated_unix": 1700000100,
//!   "parts": [ { "number": 1, "size": 123, "etag": "\"…\"", "sha256": "base64" } ]
//! }
//! ```
//! (written compactly, on one line; shown spread out here)
//!
//! It never holds a credential: the connection names a profile at most.
//!
//! Crash safety: every save writes `ID.json.tmp` (mode 0600), fsyncs it, renames
//! it over `ID.json` and fsyncs the directory, so a reader sees the old journal
//! or the new one, never a torn one. One thread owns the journal during a run
//! ([`JournalWriter`]); workers send it finished parts, and it saves at most
//! every 200 ms (longer when saves are slow, so they stay under 0.5% of the
//! time), each save holding everything that arrived since the last. A part S3 has but the journal lost is just sent
//! again: re-uploading a part number replaces it.
//!
//! A run holds an exclusive lock (`flock`) on `ID.lock` for its whole life; the
//! kernel drops it when the process dies, even by SIGKILL.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plan::{Part, Plan};
use crate::s3::{Connection, ObjectOptions};

pub const JOURNAL_VERSION: u32 = 1;

/// The writer saves at most this often. A crash loses at most this much of the
/// parts' acknowledgements (those parts are sent again), and a 10,000-part
/// upload is not rewritten 10,000 times.
const SAVE_INTERVAL: Duration = Duration::from_millis(200);

/// ... and waits at least this many times as long as its last save took, so
/// saving takes at most 0.5% of the time, however large the journal grows.
/// (Measured before this rule: 470 saves of a journal growing to 10,000 parts
/// took 2.5 s of a 96 s upload, 2.6%.)
const SAVE_SPACING: u32 = 200;

/// ... but never waits longer than this, even on a very slow disk, so a crash
/// loses at most this much progress.
const SAVE_GAP_MAX: Duration = Duration::from_secs(5);

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
}

/// The journal ID of an upload.
pub fn id_for(upload_id: &str) -> String {
    hex::encode(&Sha256::digest(upload_id.as_bytes())[..6])
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
}

/// The directory journals live in.
#[derive(Debug, Clone)]
pub struct JournalDir {
    path: PathBuf,
}

impl JournalDir {
    /// The directory named by the user, or the platform's data directory.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<JournalDir, String> {
        let path = match explicit {
            Some(p) => p,
            None => directories::ProjectDirs::from("", "", "s3up")
                .ok_or_else(|| {
                    "cannot find a home directory for the journal. Pass --journal-dir DIR \
                     or set S3UP_JOURNAL_DIR"
                        .to_string()
                })?
                .data_dir()
                .join("journal"),
        };
        Ok(JournalDir { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates the directory (mode 0700: journals name files and buckets), and
    /// makes its entry durable so a power cut cannot lose it with the journals.
    pub fn create(&self) -> io::Result<()> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.path)?;
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => File::open(parent)?.sync_all(),
            _ => Ok(()),
        }
    }

    pub fn journal_path(&self, id: &str) -> PathBuf {
        self.path.join(format!("{id}.json"))
    }

    fn lock_path(&self, id: &str) -> PathBuf {
        self.path.join(format!("{id}.lock"))
    }

    /// Takes the exclusive lock of upload `id`, failing at once if another process has it.
    pub fn lock(&self, id: &str) -> Result<Lock, String> {
        let path = self.lock_path(id);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| format!("cannot open lock file '{}': {e}", path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Lock(file)),
            Err(fs::TryLockError::WouldBlock) => Err(format!(
                "upload {id} is in use by another s3up process (it holds '{}'). \
                 Wait for it to finish, or stop it first",
                path.display()
            )),
            Err(fs::TryLockError::Error(e)) => {
                Err(format!("cannot lock '{}': {e}", path.display()))
            }
        }
    }

    /// Writes the journal atomically: temp file, fsync, rename, fsync directory.
    pub fn save(&self, journal: &Journal) -> io::Result<()> {
        let path = self.journal_path(&journal.id);
        let tmp = self.path.join(format!("{}.json.tmp", journal.id));
        let mut json = serde_json::to_vec(journal).map_err(io::Error::other)?;
        json.push(b'\n');
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&json)?;
        f.sync_data()?;
        drop(f);
        fs::rename(&tmp, &path)?;
        File::open(&self.path)?.sync_all()
    }

    /// Reads and checks one journal file.
    pub fn load_path(path: &Path) -> Result<Journal, String> {
        let bytes =
            fs::read(path).map_err(|e| format!("cannot read journal '{}': {e}", path.display()))?;
        let journal: Journal = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "journal '{}' is damaged ({e}). Remove it, and abort the upload on S3 with \
                 `s3up abort --remote` if it is still listed",
                path.display()
            )
        })?;
        if journal.part_size == 0 || journal.part_count == 0 || journal.id.is_empty() {
            return Err(format!(
                "journal '{}' is damaged (no part size, part count or id). Remove it, and abort \
                 the upload on S3 with `s3up abort --remote` if it is still listed",
                path.display()
            ));
        }
        if journal.version != JOURNAL_VERSION {
            return Err(format!(
                "journal '{}' has version {}, this s3up reads version {JOURNAL_VERSION}. \
                 Use the s3up that wrote it",
                path.display(),
                journal.version
            ));
        }
        Ok(journal)
    }

    /// Every `*.json` journal in the directory, sorted by file name, each parsed
    /// or with the reason it could not be; a missing directory holds none.
    pub fn list(&self) -> Vec<(PathBuf, Result<Journal, String>)> {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let j = JournalDir::load_path(&p);
                (p, j)
            })
            .collect()
    }

    /// True when a running s3up holds the lock of upload `id`.
    pub fn is_locked(&self, id: &str) -> bool {
        File::open(self.lock_path(id))
            .map(|f| matches!(f.try_lock_shared(), Err(fs::TryLockError::WouldBlock)))
            .unwrap_or(false)
    }

    /// Removes the journal and then its lock file (the caller holds the lock).
    pub fn remove(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.journal_path(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let _ = fs::remove_file(self.lock_path(id));
        File::open(&self.path)?.sync_all()
    }
}

/// The held lock of one upload; dropping it (closing the file) releases it.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] File);

/// The journal writer has stopped after a failed save.
#[derive(Debug)]
pub struct WriterStopped;

/// Reports finished parts to the [`JournalWriter`].
#[derive(Clone)]
pub struct PartSender(mpsc::Sender<PartRecord>);

impl PartSender {
    /// Hands a finished part to the writer. Fails when the writer has stopped
    /// because a save failed; [`JournalWriter::finish`] then says why.
    pub fn record(&self, part: PartRecord) -> Result<(), WriterStopped> {
        self.0.send(part).map_err(|_| WriterStopped)
    }
}

/// The thread that owns the journal while parts are uploaded.
pub struct JournalWriter {
    tx: mpsc::Sender<PartRecord>,
    handle: thread::JoinHandle<io::Result<(Journal, SaveStats)>>,
}

/// What the writer's saves cost, for `S3UP_TIMINGS` and the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveStats {
    pub saves: u64,
    pub time: Duration,
}

impl JournalWriter {
    /// Starts the writer. The journal must already be saved once (the UploadId is
    /// durable before any part is sent).
    pub fn spawn(dir: JournalDir, mut journal: Journal) -> JournalWriter {
        let (tx, rx) = mpsc::channel::<PartRecord>();
        let handle = thread::spawn(move || {
            // Block for one part, gather whatever arrives until SAVE_INTERVAL
            // has passed since the last save, save once. When the senders are
            // gone, save what is left and stop.
            let mut last_save: Option<(Instant, Duration)> = None;
            let mut stats = SaveStats::default();
            while let Ok(part) = rx.recv() {
                journal.record(part);
                let deadline = last_save.map_or_else(Instant::now, |(at, took)| {
                    at + SAVE_INTERVAL.max(took * SAVE_SPACING).min(SAVE_GAP_MAX)
                });
                loop {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(part) => journal.record(part),
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                journal.updated_unix = now_unix();
                // On failure the thread ends, so the next `record` fails and the
                // engine stops rather than upload parts it cannot remember.
                let started = Instant::now();
                dir.save(&journal)?;
                let took = started.elapsed();
                last_save = Some((Instant::now(), took));
                stats.saves += 1;
                stats.time += took;
            }
            Ok((journal, stats))
        });
        JournalWriter { tx, handle }
    }

    /// A handle a worker uses to report finished parts.
    pub fn sender(&self) -> PartSender {
        PartSender(self.tx.clone())
    }

    /// Waits until every recorded part is saved and returns the final journal.
    pub fn finish(self) -> io::Result<(Journal, SaveStats)> {
        drop(self.tx);
        self.handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the journal thread panicked")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample(parts: Vec<PartRecord>) -> Journal {
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
            },
            created_unix: 1,
            updated_unix: 2,
            parts,
        }
    }

    #[test]
    fn id_is_short_and_stable() {
        assert_eq!(id_for("abc"), id_for("abc"));
        assert_ne!(id_for("abc"), id_for("abd"));
        assert_eq!(id_for("abc").len(), 12);
    }

    #[test]
    fn save_load_round_trip_is_private_and_leaves_no_temp() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().join("j"))).unwrap();
        dir.create().unwrap();
        let j = sample(vec![PartRecord {
            number: 2,
            size: 8 << 20,
            etag: "\"e2\"".into(),
            sha256: "c2hh".into(),
        }]);
        dir.save(&j).unwrap();
        let path = dir.journal_path(&j.id);
        assert_eq!(JournalDir::load_path(&path).unwrap(), j);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from(format!("{}.json", j.id))]
        );
    }

    #[test]
    fn damaged_and_foreign_versions_are_refused_with_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.json");
        fs::write(&path, b"{\"version\": 1, \"id\": ").unwrap();
        let err = JournalDir::load_path(&path).unwrap_err();
        assert!(err.contains("x.json") && err.contains("damaged"), "{err}");
        let mut j = serde_json::to_value(sample(vec![])).unwrap();
        j["version"] = 99.into();
        fs::write(&path, j.to_string()).unwrap();
        let err = JournalDir::load_path(&path).unwrap_err();
        assert!(err.contains("version 99"), "{err}");
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().to_path_buf())).unwrap();
        let held = dir.lock("abc").unwrap();
        let err = dir.lock("abc").unwrap_err();
        assert!(err.contains("abc") && err.contains("in use"), "{err}");
        drop(held);
        dir.lock("abc").unwrap();
    }

    #[test]
    fn writer_saves_every_part_it_was_given() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().to_path_buf())).unwrap();
        let j = sample(vec![]);
        dir.save(&j).unwrap();
        let w = JournalWriter::spawn(dir.clone(), j.clone());
        let tx = w.sender();
        for n in [3, 1, 2, 1] {
            let part = PartRecord {
                number: n,
                size: 1,
                etag: format!("e{n}"),
                sha256: "x".into(),
            };
            tx.record(part).unwrap();
        }
        drop(tx);
        let (done, stats) = w.finish().unwrap();
        assert!(stats.saves >= 1);
        let on_disk = JournalDir::load_path(&dir.journal_path(&j.id)).unwrap();
        assert_eq!(done, on_disk);
        let numbers: Vec<_> = on_disk.parts.iter().map(|p| p.number).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
    }

    proptest! {
        #[test]
        fn round_trip_any_parts(numbers in proptest::collection::vec(1u32..=10_000, 0..50), etag in "\\PC{0,40}") {
            let mut j = sample(vec![]);
            for n in &numbers {
                j.record(PartRecord { number: *n, size: u64::from(*n), etag: etag.clone(), sha256: "s".into() });
            }
            let text = serde_json::to_string(&j).unwrap();
            let back: Journal = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(&back, &j);
            prop_assert!(back.parts.windows(2).all(|w| w[0].number < w[1].number));
        }
    }
}
