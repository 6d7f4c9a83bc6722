//! A tree upload's words (`put DIR…`, `sync`): what the walk left out, the
//! session continued, the summary line, the failures, and the one `--json`
//! document with a record per file.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::hint::suggest;
use super::{count, note, warning};
use crate::error::Error;
use crate::journal::Session;
use crate::s3::Location;
use crate::units::size;
use crate::walk::Skipped;

/// One warning for what the walk skipped; refusals are failures, worded by
/// [`refused`].
pub fn skipped(s: &Skipped) {
    match s {
        Skipped::Special { path, kind } => warning(&format!(
            "skipped '{}': a {kind} has no fixed size to upload",
            path.display()
        )),
        Skipped::Symlink { path } => warning(&format!(
            "skipped '{}': a symbolic link (--follow-symlinks uploads what links point to)",
            path.display()
        )),
        Skipped::Loop { path } => warning(&format!(
            "skipped '{}': a link back to a directory already being uploaded",
            path.display()
        )),
        Skipped::NotUtf8 { .. } | Skipped::Unreadable { .. } => {}
    }
}

/// Why a file the walk found was not sent (a failure), or `None` for a skip.
pub fn refused(s: &Skipped) -> Option<String> {
    match s {
        Skipped::NotUtf8 { path } => Some(format!(
            "'{}': the name is not valid UTF-8, and an S3 key must be; rename it",
            path.display()
        )),
        Skipped::Unreadable { path, error } => Some(format!(
            "cannot read '{}': {error}. Check its permissions",
            path.display()
        )),
        _ => None,
    }
}

/// Several sources, or a directory, and a destination that names one object.
pub fn needs_prefix(dest: &str, why: &str) -> Error {
    Error::Usage(format!(
        "{why}, so the destination must be a prefix: '{dest}' names one object. End it with \
         '/', e.g. '{dest}/'"
    ))
}

/// Two sources that would write one key.
pub fn same_key(key: &str, first: &Path, second: &Path) -> Error {
    Error::Usage(format!(
        "'{}' and '{}' would both upload to the key '{key}'. Upload them to different \
         prefixes",
        first.display(),
        second.display()
    ))
}

/// `put SRC… KEY` without a destination.
pub fn no_destination() -> Error {
    Error::Usage(
        "no destination was given: write it last, as s3://BUCKET/KEY for a file or \
         s3://BUCKET/PREFIX/ for several files or a directory"
            .to_string(),
    )
}

/// `sync` through a backend that cannot list objects.
pub fn cannot_list(dest: &Location, e: &crate::store::StoreError) -> Error {
    Error::failed(format!(
        "cannot list {dest} to compare with the files ({e}). `s3up put` sends every file \
         without comparing"
    ))
}

pub fn continuing(s: &Session) {
    note(&format!(
        "continuing tree upload {} to {} ({} of {} files done earlier)",
        s.id,
        s.location(),
        s.done.len(),
        s.files_total
    ));
}

pub fn restarted(id: &str) {
    note(&format!(
        "aborted the earlier tree upload {id}; starting afresh"
    ));
}

/// A failure of one file, for the list at the end: what went wrong, without
/// the per-file hint (the tree's own hint follows the list).
pub fn reason(e: &Error) -> String {
    match e {
        Error::Resumable { reason, .. }
        | Error::Kept { reason, .. }
        | Error::MayHaveCompleted { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}

/// One failed file, in the list at the end.
pub fn file_failed(path: &Path, e: &Error) {
    eprintln!("s3up: error: '{}': {}", path.display(), reason(e));
}

/// A failure found by the walk.
pub fn walk_failed(text: &str) {
    eprintln!("s3up: error: {text}");
}

/// What a tree run did, for its summary.
pub struct TreeSummary<'a> {
    pub dest: &'a Location,
    pub sent_files: usize,
    pub sent_bytes: u64,
    pub skipped: usize,
    /// The files the session had finished in an earlier run.
    pub earlier: usize,
    pub started: Instant,
    pub sync: bool,
}

pub fn summary(s: &TreeSummary<'_>) {
    let seconds = s.started.elapsed().as_secs_f64();
    let mut extra = Vec::new();
    if s.skipped > 0 {
        extra.push(format!("{} unchanged, skipped", count(s.skipped, "file")));
    }
    if s.earlier > 0 {
        extra.push(format!(
            "{} sent by an earlier run",
            count(s.earlier, "file")
        ));
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!("; {}", extra.join(", "))
    };
    if s.sent_files == 0 && s.sync {
        println!(
            "nothing to send: every file is unchanged under {}{extra}",
            s.dest
        );
        return;
    }
    let mib_s = s.sent_bytes as f64 / (1 << 20) as f64 / seconds.max(1e-9);
    println!(
        "uploaded {} ({}) to {} in {seconds:.1} s, {mib_s:.1} MiB/s{extra}",
        count(s.sent_files, "file"),
        size(s.sent_bytes),
        s.dest
    );
}

/// Ctrl-C: one hint for the whole tree.
pub fn interrupted(id: &str, done: usize, total: usize) -> Error {
    Error::InterruptedTree {
        id: id.to_string(),
        done,
        total,
    }
}

/// Files failed: exit 3 when what failed can be resumed, else 1.
pub fn some_failed(id: &str, failed: usize, total: usize, resumable: bool) -> Error {
    let what = format!(
        "{} of {total} not uploaded (listed above)",
        count(failed, "file")
    );
    if resumable {
        Error::Resumable {
            reason: what,
            id: id.to_string(),
        }
    } else {
        Error::failed(format!(
            "{what}. Fix them and run the same command again: the files already sent are \
             skipped (or {} to forget the rest)",
            suggest(&format!("abort {id}"))
        ))
    }
}

/// `abort` of a tree session.
pub fn aborted(s: &Session, uploads: usize) {
    println!(
        "aborted tree upload {} to {} ({} open, {} done kept on S3)",
        s.id,
        s.location(),
        count(uploads, "upload"),
        count(s.done.len(), "file")
    );
}

/// One file in the `--json` document.
#[derive(Debug, Serialize)]
pub struct FileRecord {
    pub file: String,
    pub key: String,
    pub size: u64,
    /// sent, skipped (unchanged), done-earlier, failed, not-started.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The `--json` document of a tree run.
#[derive(Debug, Serialize)]
pub struct TreeDocument {
    pub session: String,
    pub destination: String,
    pub files_total: usize,
    pub files_sent: usize,
    pub files_skipped: usize,
    pub files_failed: usize,
    pub bytes_sent: u64,
    pub seconds: f64,
    pub files: Vec<FileRecord>,
}

pub fn json(doc: &TreeDocument) {
    // Plain data: serializing it cannot fail.
    if let Ok(text) = serde_json::to_string(doc) {
        println!("{text}");
    }
}
