//! The journal directory: where journals live, atomic saves, and the lock.
//!
//! What can go wrong here is a [`JournalError`], facts only: the words a user
//! reads are in `crate::output::journal`, like every other message.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::{Journal, JOURNAL_VERSION};

/// What went wrong with the journal directory or one journal file.
#[derive(Debug)]
pub enum JournalError {
    /// No `--journal-dir` and no home directory to put one in.
    NoHome,
    /// The lock file cannot be opened.
    LockFile { path: PathBuf, error: io::Error },
    /// Another process holds the lock of upload `id`.
    InUse { id: String, path: PathBuf },
    /// Taking the lock failed for another reason.
    Lock { path: PathBuf, error: io::Error },
    /// The journal file cannot be read.
    Unreadable { path: PathBuf, error: io::Error },
    /// The journal file is not a journal: `why` says what is wrong with it.
    Damaged { path: PathBuf, why: String },
    /// The journal was written by an s3up with another journal version.
    Version { path: PathBuf, found: u32 },
    /// Saving the journal failed (or its blocking task did).
    Save(io::Error),
}

/// The directory journals live in.
#[derive(Debug, Clone)]
pub struct JournalDir {
    path: PathBuf,
}

impl JournalDir {
    /// The directory named by the user, or the platform's data directory.
    pub fn resolve(explicit: Option<PathBuf>) -> Result<JournalDir, JournalError> {
        let path = match explicit {
            Some(p) => p,
            None => directories::ProjectDirs::from("", "", "s3up")
                .ok_or(JournalError::NoHome)?
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
    pub fn lock(&self, id: &str) -> Result<Lock, JournalError> {
        let path = self.lock_path(id);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)
            .map_err(|error| JournalError::LockFile {
                path: path.clone(),
                error,
            })?;
        match file.try_lock() {
            Ok(()) => Ok(Lock(file)),
            Err(fs::TryLockError::WouldBlock) => Err(JournalError::InUse {
                id: id.to_string(),
                path,
            }),
            Err(fs::TryLockError::Error(error)) => Err(JournalError::Lock { path, error }),
        }
    }

    /// Writes the journal atomically: temp file, fsync, rename, fsync directory.
    pub fn save(&self, journal: &Journal) -> io::Result<()> {
        let path = self.journal_path(&journal.id);
        self.save_json(&path, journal)
    }

    /// Writes `value` as JSON to `path` (in this directory) atomically.
    pub(super) fn save_json<T: serde::Serialize>(&self, path: &Path, value: &T) -> io::Result<()> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut json = serde_json::to_vec(value).map_err(io::Error::other)?;
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
        fs::rename(&tmp, path)?;
        File::open(&self.path)?.sync_all()
    }

    /// Reads and checks one journal file.
    pub fn load_path(path: &Path) -> Result<Journal, JournalError> {
        let bytes = fs::read(path).map_err(|error| JournalError::Unreadable {
            path: path.to_path_buf(),
            error,
        })?;
        let journal: Journal =
            serde_json::from_slice(&bytes).map_err(|e| JournalError::Damaged {
                path: path.to_path_buf(),
                why: e.to_string(),
            })?;
        if journal.part_size == 0 || journal.part_count == 0 || journal.id.is_empty() {
            return Err(JournalError::Damaged {
                path: path.to_path_buf(),
                why: "no part size, part count or id".to_string(),
            });
        }
        if journal.version != JOURNAL_VERSION {
            return Err(JournalError::Version {
                path: path.to_path_buf(),
                found: journal.version,
            });
        }
        Ok(journal)
    }

    /// Every `*.json` journal in the directory, sorted by file name, each parsed
    /// or with the reason it could not be; a missing directory holds none.
    pub fn list(&self) -> Vec<(PathBuf, Result<Journal, JournalError>)> {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return Vec::new();
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter(|p| !super::session::is_session_path(p))
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

/// The same calls for async code. Saves fsync twice and listing reads every
/// journal, so each runs on tokio's blocking pool: on a runtime worker it would
/// stall every other task on that thread (other parts' bodies, and once `serve`
/// shares the runtime, other clients' requests).
impl JournalDir {
    pub async fn save_async(&self, journal: &Journal) -> io::Result<()> {
        let (dir, journal) = (self.clone(), journal.clone());
        self.off_runtime(move || dir.save(&journal)).await?
    }

    pub async fn remove_async(&self, id: &str) -> io::Result<()> {
        let (dir, id) = (self.clone(), id.to_string());
        self.off_runtime(move || dir.remove(&id)).await?
    }

    pub async fn list_async(&self) -> Vec<(PathBuf, Result<Journal, JournalError>)> {
        let dir = self.clone();
        self.off_runtime(move || dir.list())
            .await
            .unwrap_or_default()
    }

    /// Takes the lock of `journal` and saves it: the start of a run.
    pub async fn lock_and_save(&self, journal: &Journal) -> Result<Lock, JournalError> {
        let (dir, journal) = (self.clone(), journal.clone());
        self.off_runtime(move || {
            let lock = dir.lock(&journal.id)?;
            dir.save(&journal).map_err(JournalError::Save)?;
            Ok(lock)
        })
        .await
        .map_err(JournalError::Save)?
    }

    /// Runs `f` on the blocking pool. In tests, a directory named in
    /// [`SLOW_DIRS`] makes it slow, so a test can tell whether the runtime
    /// kept running meanwhile.
    pub(super) async fn off_runtime<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<T> {
        #[cfg(test)]
        let slow = SLOW_DIRS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(&self.path);
        tokio::task::spawn_blocking(move || {
            #[cfg(test)]
            if slow {
                std::thread::sleep(std::time::Duration::from_millis(300));
            }
            f()
        })
        .await
        .map_err(io::Error::other)
    }
}

/// Journal directories whose async calls take 300 ms more (tests only).
#[cfg(test)]
pub(crate) static SLOW_DIRS: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

/// The held lock of one upload; dropping it (closing the file) releases it.
#[derive(Debug)]
pub struct Lock(#[allow(dead_code)] File);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::tests::sample;
    use crate::journal::PartRecord;

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
            checksum: None,
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
        let err = err.to_string();
        assert!(err.contains("x.json") && err.contains("damaged"), "{err}");
        let mut j = serde_json::to_value(sample(vec![])).unwrap();
        j["version"] = 99.into();
        fs::write(&path, j.to_string()).unwrap();
        let err = JournalDir::load_path(&path).unwrap_err();
        let err = err.to_string();
        assert!(err.contains("version 99"), "{err}");
    }

    #[test]
    fn lock_is_exclusive_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().to_path_buf())).unwrap();
        let held = dir.lock("abc").unwrap();
        let err = dir.lock("abc").unwrap_err().to_string();
        assert!(err.contains("abc") && err.contains("in use"), "{err}");
        drop(held);
        dir.lock("abc").unwrap();
    }
}
