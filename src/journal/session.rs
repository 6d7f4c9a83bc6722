//! A tree session: the record of one `put SRC… s3://B/PREFIX/` (or `sync`),
//! above the per-file journals of the files being sent.
//!
//! `ID.tree.json` in the journal directory, saved atomically like a journal
//! and locked (`ID.lock`) by the run that owns it. It holds what the same
//! command needs to continue: the sources, the destination, the options, and
//! the files already finished (by their path under the prefix, with the size
//! and mtime they had, so a file changed since is sent again). A file being
//! sent in parts has its own journal as a single file's upload does, marked
//! with the session's ID (`Journal::session`); a file small enough for one
//! PutObject has none (interrupted, it is sent again whole).
//!
//! Schema, version 1:
//!
//! ```json
//! {
//!   "version": 1, "id": "5d0c4e2a9b17",
//!   "sources": ["/abs/dir", "/abs/file.txt"],
//!   "bucket": "b", "prefix": "backups/",
//!   "connection": { … as in a journal … },
//!   "options": { "part_size": null, "include": [], "exclude": ["*.tmp"],
//!                "follow_symlinks": false, "sync": null,
//!                "object": { "content_type": null, … } },
//!   "created_unix": 1700000000, "updated_unix": 1700000100,
//!   "files_total": 212, "bytes_total": 31987712,
//!   "done": { "a/b.txt": { "size": 12, "mtime_ns": 1700000000000000000 } }
//! }
//! ```
//!
//! `done` grows as files finish; one thread owns it during a run
//! ([`SessionWriter`]) and saves it in batches, spaced as the part journal's
//! saves are. A file finished but not yet saved when the process died is sent
//! again (a small file) or found already completed by its journal (a large
//! one): at most one save interval's worth of small files.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::writer::{SAVE_GAP_MAX, SAVE_INTERVAL, SAVE_SPACING};
use super::{JournalDir, JournalError};
use crate::s3::Location;
use crate::store::{Connection, ObjectOptions};

pub const SESSION_VERSION: u32 = 1;
/// How a session's file name ends.
pub const SESSION_SUFFIX: &str = ".tree.json";

/// How `sync` decides that a file's object is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// Same size, and the object no older than the file (the default).
    SizeAndTime,
    /// Same size (`--size-only`).
    Size,
    /// Same content (`--checksum`).
    Checksum,
}

/// The options of a tree upload, as `put` and `resume` need them again.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeOptions {
    pub part_size: Option<u64>,
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub follow_symlinks: bool,
    /// `sync`: skip unchanged files, compared so; `None` for `put`.
    #[serde(default)]
    pub sync: Option<Compare>,
    /// The object options given (a content type only when given: each
    /// file's is guessed from its own name).
    pub object: ObjectOptions,
}

/// A file the session finished, as it was when sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoneFile {
    pub size: u64,
    pub mtime_ns: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub version: u32,
    pub id: String,
    pub sources: Vec<PathBuf>,
    pub bucket: String,
    /// Empty, or ending in `/`.
    pub prefix: String,
    pub connection: Connection,
    pub options: TreeOptions,
    pub created_unix: u64,
    pub updated_unix: u64,
    /// The files found at the last walk, and their bytes.
    pub files_total: u64,
    pub bytes_total: u64,
    /// Finished files, by path under the prefix.
    #[serde(default)]
    pub done: BTreeMap<String, DoneFile>,
}

impl Session {
    /// The destination, `s3://BUCKET/PREFIX`.
    pub fn location(&self) -> Location {
        Location {
            bucket: self.bucket.clone(),
            key: self.prefix.clone(),
        }
    }

    pub fn bytes_done(&self) -> u64 {
        self.done.values().map(|d| d.size).sum()
    }

    /// The sources, as the tables show them.
    pub fn sources_text(&self) -> String {
        let each: Vec<String> = self
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        each.join(" ")
    }
}

/// A tree session's file (`ID.tree.json`), which [`JournalDir::list`] leaves
/// to [`JournalDir::list_sessions`].
pub fn is_session_path(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(SESSION_SUFFIX))
}

/// A new session's ID: 12 hex digits, like a journal's, unique per start.
pub fn new_id(sources: &[PathBuf], dest: &Location) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    super::id_for(&format!(
        "tree {sources:?} {dest} {nanos} {} {}",
        std::process::id(),
        fastrand::u64(..)
    ))
}

impl JournalDir {
    pub fn session_path(&self, id: &str) -> PathBuf {
        self.path().join(format!("{id}{SESSION_SUFFIX}"))
    }

    pub fn save_session(&self, session: &Session) -> io::Result<()> {
        self.save_json(&self.session_path(&session.id), session)
    }

    /// Reads and checks one session file.
    pub fn load_session(path: &Path) -> Result<Session, JournalError> {
        let bytes = fs::read(path).map_err(|error| JournalError::Unreadable {
            path: path.to_path_buf(),
            error,
        })?;
        let session: Session =
            serde_json::from_slice(&bytes).map_err(|e| JournalError::Damaged {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
        if session.version != SESSION_VERSION {
            return Err(JournalError::Version {
                path: path.to_path_buf(),
                found: session.version,
            });
        }
        Ok(session)
    }

    /// Every session in the directory, sorted by file name.
    pub fn list_sessions(&self) -> Vec<(PathBuf, Result<Session, JournalError>)> {
        let Ok(entries) = fs::read_dir(self.path()) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_session_path(p))
            .collect();
        paths.sort();
        paths
            .into_iter()
            .map(|p| {
                let s = JournalDir::load_session(&p);
                (p, s)
            })
            .collect()
    }

    pub async fn list_sessions_async(&self) -> Vec<(PathBuf, Result<Session, JournalError>)> {
        let dir = self.clone();
        self.off_runtime(move || dir.list_sessions())
            .await
            .unwrap_or_default()
    }

    /// Removes the session file and then its lock file (the caller holds the lock).
    pub fn remove_session(&self, id: &str) -> io::Result<()> {
        match fs::remove_file(self.session_path(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let _ = fs::remove_file(self.path().join(format!("{id}.lock")));
        fs::File::open(self.path())?.sync_all()
    }
}

/// The thread that owns the session while files are sent: the scheduler
/// hands it each finished file, and it saves them in batches.
pub struct SessionWriter {
    tx: mpsc::Sender<(String, DoneFile)>,
    handle: thread::JoinHandle<io::Result<Session>>,
}

/// Reports finished files to the [`SessionWriter`].
#[derive(Clone)]
pub struct DoneSender(mpsc::Sender<(String, DoneFile)>);

impl DoneSender {
    /// The file at `rel` is finished. A writer that stopped after a failed
    /// save takes no more; [`SessionWriter::finish`] says why.
    pub fn done(&self, rel: &str, file: DoneFile) {
        let _ = self.0.send((rel.to_string(), file));
    }
}

impl SessionWriter {
    /// Starts the writer; the session must already be saved once.
    pub fn spawn(dir: JournalDir, mut session: Session) -> SessionWriter {
        let (tx, rx) = mpsc::channel::<(String, DoneFile)>();
        let handle = thread::spawn(move || {
            let mut last_save: Option<(Instant, std::time::Duration)> = None;
            while let Ok((rel, file)) = rx.recv() {
                session.done.insert(rel, file);
                let deadline = last_save.map_or_else(Instant::now, |(at, took)| {
                    at + SAVE_INTERVAL.max(took * SAVE_SPACING).min(SAVE_GAP_MAX)
                });
                loop {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok((rel, file)) => {
                            session.done.insert(rel, file);
                        }
                        Err(_) => break,
                    }
                }
                session.updated_unix = crate::units::now_unix();
                let started = Instant::now();
                dir.save_session(&session)?;
                last_save = Some((Instant::now(), started.elapsed()));
            }
            Ok(session)
        });
        SessionWriter { tx, handle }
    }

    pub fn sender(&self) -> DoneSender {
        DoneSender(self.tx.clone())
    }

    /// Waits until every finished file is saved; returns the session.
    pub fn finish(self) -> io::Result<Session> {
        drop(self.tx);
        self.handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the session thread panicked")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_round_trip_and_stay_apart_from_journals() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().to_path_buf())).unwrap();
        let dest = Location {
            bucket: "bkt".into(),
            key: "p/".into(),
        };
        let session = Session {
            version: SESSION_VERSION,
            id: new_id(&["/x".into()], &dest),
            sources: vec!["/x".into()],
            bucket: "bkt".into(),
            prefix: "p/".into(),
            connection: Connection::default(),
            options: TreeOptions::default(),
            created_unix: 1,
            updated_unix: 1,
            files_total: 3,
            bytes_total: 30,
            done: BTreeMap::new(),
        };
        dir.save_session(&session).unwrap();
        dir.save(&crate::journal::tests::sample(vec![])).unwrap();
        assert_eq!(dir.list().len(), 1, "a session is not a journal");
        let w = SessionWriter::spawn(dir.clone(), session.clone());
        let tx = w.sender();
        for (rel, size) in [("a", 1), ("b/c", 2)] {
            tx.done(rel, DoneFile { size, mtime_ns: 5 });
        }
        drop(tx);
        let saved = w.finish().unwrap();
        let listed = dir.list_sessions();
        assert_eq!(listed.len(), 1);
        let on_disk = listed[0].1.as_ref().unwrap();
        assert_eq!(on_disk, &saved);
        assert_eq!(on_disk.bytes_done(), 3);
        dir.remove_session(&session.id).unwrap();
        assert!(dir.list_sessions().is_empty());
    }
}
