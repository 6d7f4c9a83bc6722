//! Which files a tree upload sends, and under which keys: the sources of
//! `put SRC… s3://B/PREFIX/` walked, filtered by `--include`/`--exclude`, and
//! what was left out and why (a leaf: the file system and globset only).
//!
//! Keys: a directory's files go under the prefix by their path inside it
//! (`DIR/a/b.txt` -> `PREFIX/a/b.txt`, as `aws s3 cp --recursive` and
//! `rclone copy` do); a file named on the command line goes under the prefix
//! by its name. Empty directories make no key: S3 has no directories.
//!
//! Filters, rclone's rules (order-free, so the command line's order cannot
//! change the result): a file matching any `--exclude` is left out; else, when
//! any `--include` is given, only files matching one are kept. A pattern
//! without `/` matches the file's name at any depth (`*.tmp`); a pattern with
//! `/` matches its whole path under the prefix (`logs/*.gz`, `**/cache/**`);
//! `*` never crosses a `/`, `**` does.
//!
//! Symbolic links inside a directory are skipped unless `--follow-symlinks`
//! (rclone's default: a link may point anywhere, even at the tree's own
//! parent); followed, a directory already on the way down is skipped, so a
//! link can never make the walk loop. A link named on the command line is
//! always followed: the user chose it. Sockets, FIFOs and devices have no
//! size to upload and are skipped; a name that is not UTF-8 cannot be an S3
//! key, and that file is refused by name.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

/// `--include` and `--exclude`, compiled.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    include: Option<Patterns>,
    exclude: Option<Patterns>,
}

/// Patterns split by what they match: a file's name, or its whole path.
#[derive(Debug, Clone)]
struct Patterns {
    names: GlobSet,
    paths: GlobSet,
}

impl Patterns {
    fn new(globs: &[String]) -> Result<Option<Patterns>, String> {
        if globs.is_empty() {
            return Ok(None);
        }
        let (mut names, mut paths) = (GlobSetBuilder::new(), GlobSetBuilder::new());
        for g in globs {
            let glob = compile(g)?;
            if g.contains('/') {
                paths.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: GlobSetBuilder| b.build().map_err(|e| e.to_string());
        Ok(Some(Patterns {
            names: build(names)?,
            paths: build(paths)?,
        }))
    }

    fn matches(&self, rel: &str) -> bool {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        self.names.is_match(name) || self.paths.is_match(rel.trim_start_matches('/'))
    }
}

/// One pattern, as clap's value parser: refused with its reason, quoted.
pub fn compile(pattern: &str) -> Result<Glob, String> {
    GlobBuilder::new(pattern.trim_start_matches('/'))
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .map_err(|e| format!("'{pattern}' is not a glob pattern: {}", e.kind()))
}

impl Filter {
    pub fn new(include: &[String], exclude: &[String]) -> Result<Filter, String> {
        Ok(Filter {
            include: Patterns::new(include)?,
            exclude: Patterns::new(exclude)?,
        })
    }

    /// Whether the file at `rel` (its path under the prefix) is sent.
    pub fn keeps(&self, rel: &str) -> bool {
        if self.exclude.as_ref().is_some_and(|p| p.matches(rel)) {
            return false;
        }
        self.include.as_ref().is_none_or(|p| p.matches(rel))
    }
}

/// A file to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Absolute, as the journal records it.
    pub path: PathBuf,
    /// Its path under the prefix, `/`-separated: the key is PREFIX + rel.
    pub rel: String,
    pub size: u64,
    pub mtime_ns: u64,
}

/// Why something found was not sent.
#[derive(Debug)]
pub enum Skipped {
    /// A socket, FIFO or device: `kind` names it.
    Special { path: PathBuf, kind: &'static str },
    /// A symbolic link, not followed (no `--follow-symlinks`).
    Symlink { path: PathBuf },
    /// A followed link back to a directory already being walked.
    Loop { path: PathBuf },
    /// A name that is not valid UTF-8 (refused: a failure, not a skip).
    NotUtf8 { path: PathBuf },
    /// A directory or file that could not be read (a failure).
    Unreadable { path: PathBuf, error: io::Error },
}

impl Skipped {
    /// A file that should have gone up and did not: the run fails.
    pub fn is_failure(&self) -> bool {
        matches!(self, Skipped::NotUtf8 { .. } | Skipped::Unreadable { .. })
    }
}

/// What a walk found.
#[derive(Debug, Default)]
pub struct Walked {
    /// Sorted by `rel`.
    pub files: Vec<Entry>,
    pub skipped: Vec<Skipped>,
    /// Files left out by the filter.
    pub excluded: usize,
}

/// Walks `sources` (each a file or a directory; checked to exist by the
/// caller). Two sources that give one key are the caller's to refuse.
pub fn walk(sources: &[PathBuf], filter: &Filter, follow_symlinks: bool) -> Walked {
    let mut w = Walker {
        filter,
        follow_symlinks,
        found: Walked::default(),
        ancestors: Vec::new(),
    };
    for src in sources {
        match fs::metadata(src) {
            Ok(meta) if meta.is_dir() => w.dir(src, "", &meta),
            Ok(meta) => {
                let name = src.file_name().map(OsString::from).unwrap_or_default();
                match name.to_str() {
                    Some(n) => w.file(src, n, &meta),
                    None => w.found.skipped.push(Skipped::NotUtf8 { path: src.clone() }),
                }
            }
            Err(error) => w.found.skipped.push(Skipped::Unreadable {
                path: src.clone(),
                error,
            }),
        }
    }
    w.found.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    w.found
}

struct Walker<'a> {
    filter: &'a Filter,
    follow_symlinks: bool,
    found: Walked,
    /// (device, inode) of the directories on the way down.
    ancestors: Vec<(u64, u64)>,
}

impl Walker<'_> {
    fn dir(&mut self, path: &Path, rel: &str, meta: &fs::Metadata) {
        let id = (meta.dev(), meta.ino());
        if self.ancestors.contains(&id) {
            self.found.skipped.push(Skipped::Loop {
                path: path.to_path_buf(),
            });
            return;
        }
        let entries = match fs::read_dir(path) {
            Ok(e) => e,
            Err(error) => {
                let path = path.to_path_buf();
                self.found.skipped.push(Skipped::Unreadable { path, error });
                return;
            }
        };
        let mut children: Vec<(OsString, PathBuf)> = Vec::new();
        for e in entries {
            match e {
                Ok(e) => children.push((e.file_name(), e.path())),
                Err(error) => {
                    let path = path.to_path_buf();
                    self.found.skipped.push(Skipped::Unreadable { path, error });
                }
            }
        }
        children.sort();
        self.ancestors.push(id);
        for (name, child) in children {
            let Some(name) = name.to_str() else {
                self.found.skipped.push(Skipped::NotUtf8 { path: child });
                continue;
            };
            let child_rel = if rel.is_empty() {
                name.to_string()
            } else {
                format!("{rel}/{name}")
            };
            self.entry(&child, &child_rel);
        }
        self.ancestors.pop();
    }

    fn entry(&mut self, path: &Path, rel: &str) {
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(error) => {
                let path = path.to_path_buf();
                self.found.skipped.push(Skipped::Unreadable { path, error });
                return;
            }
        };
        let meta = if meta.file_type().is_symlink() {
            if !self.follow_symlinks {
                let path = path.to_path_buf();
                self.found.skipped.push(Skipped::Symlink { path });
                return;
            }
            match fs::metadata(path) {
                Ok(m) => m,
                Err(error) => {
                    let path = path.to_path_buf();
                    self.found.skipped.push(Skipped::Unreadable { path, error });
                    return;
                }
            }
        } else {
            meta
        };
        if meta.is_dir() {
            self.dir(path, rel, &meta);
        } else {
            self.file(path, rel, &meta);
        }
    }

    fn file(&mut self, path: &Path, rel: &str, meta: &fs::Metadata) {
        let ft = meta.file_type();
        let special = if ft.is_socket() {
            Some("socket")
        } else if ft.is_fifo() {
            Some("FIFO")
        } else if ft.is_block_device() || ft.is_char_device() {
            Some("device")
        } else {
            None
        };
        if let Some(kind) = special {
            let path = path.to_path_buf();
            self.found.skipped.push(Skipped::Special { path, kind });
            return;
        }
        if !self.filter.keeps(rel) {
            self.found.excluded += 1;
            return;
        }
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        self.found.files.push(Entry {
            path: abs,
            rel: rel.to_string(),
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
        });
    }
}

/// The modification time in nanoseconds since the epoch (0 when unknown), as
/// the journal records it.
pub fn mtime_ns(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::{OsStrExt, OsStringExt};

    fn rels(w: &Walked) -> Vec<&str> {
        w.files.iter().map(|e| e.rel.as_str()).collect()
    }

    #[test]
    fn filters_follow_rclone_rules() {
        let f = Filter::new(&[], &["*.tmp".into()]).unwrap();
        assert!(!f.keeps("a/b/x.tmp") && f.keeps("a/b/x.txt"));
        let f = Filter::new(&["*.txt".into()], &["secret*".into()]).unwrap();
        assert!(f.keeps("a/notes.txt") && !f.keeps("a/secret.txt") && !f.keeps("a.bin"));
        let f = Filter::new(&["logs/*.gz".into()], &[]).unwrap();
        assert!(f.keeps("logs/a.gz") && !f.keeps("logs/x/a.gz") && !f.keeps("a.gz"));
        let f = Filter::new(&[], &["**/cache/**".into()]).unwrap();
        assert!(!f.keeps("a/cache/x") && !f.keeps("cache/y/z") && f.keeps("a/b"));
        assert!(compile("a[").unwrap_err().contains("'a['"));
    }

    #[test]
    fn keys_links_specials_and_bad_names() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("tree");
        fs::create_dir_all(root.join("sub/deeper")).unwrap();
        fs::create_dir_all(root.join("empty")).unwrap();
        fs::write(root.join("a.txt"), b"a").unwrap();
        fs::write(root.join("sub/deeper/b.tmp"), b"bb").unwrap();
        fs::write(root.join("sub/é.txt"), b"").unwrap();
        fs::write(root.join(OsString::from_vec(b"bad\xff".to_vec())), b"x").unwrap();
        std::os::unix::fs::symlink(&root, root.join("sub/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a.txt"), root.join("link.txt")).unwrap();
        let fifo = root.join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let none = Filter::default();
        let w = walk(std::slice::from_ref(&root), &none, false);
        assert_eq!(rels(&w), ["a.txt", "sub/deeper/b.tmp", "sub/é.txt"]);
        let kinds: Vec<String> = w.skipped.iter().map(|s| format!("{s:?}")).collect();
        assert_eq!(w.skipped.len(), 4, "{kinds:?}");
        assert!(w.skipped.iter().any(|s| matches!(s, Skipped::NotUtf8 { path } if path.as_os_str().as_bytes().ends_with(b"bad\xff"))));
        assert!(w
            .skipped
            .iter()
            .any(|s| matches!(s, Skipped::Special { kind: "FIFO", .. })));
        assert_eq!(
            w.skipped
                .iter()
                .filter(|s| matches!(s, Skipped::Symlink { .. }))
                .count(),
            2
        );
        // Followed: the file link is a file, the loop is cut.
        let w = walk(std::slice::from_ref(&root), &none, true);
        assert_eq!(
            rels(&w),
            ["a.txt", "link.txt", "sub/deeper/b.tmp", "sub/é.txt"]
        );
        assert!(w.skipped.iter().any(|s| matches!(s, Skipped::Loop { .. })));
        // A file named alone goes by its name; filters count what they drop.
        let only = Filter::new(&[], &["*.tmp".into()]).unwrap();
        let w = walk(&[root.join("a.txt"), root.join("sub")], &only, false);
        assert_eq!(rels(&w), ["a.txt", "é.txt"]);
        assert_eq!(w.excluded, 1);
        assert!(w.files[0].path.is_absolute());
    }
}
