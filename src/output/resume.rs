//! `resume`: choosing the journals, and the lines of resuming one (the path
//! `put` takes too when it finds its own unfinished upload).

use std::path::Path;

use super::hint::suggest;
use super::{note, warning};
use crate::s3::Location;

use crate::error::Error;
use crate::journal::Journal;

pub fn nothing_pending(dir: &Path) -> Error {
    Error::failed(format!(
        "no upload is pending (no usable journal in '{}'). Nothing to resume",
        dir.display()
    ))
}

/// Each pending upload (or tree session) named by its ID, files and
/// destination, so the user can tell which is which.
pub fn several_pending(pending: &[&Journal], trees: &[&crate::journal::Session]) -> Error {
    let each: Vec<String> = trees
        .iter()
        .map(|s| {
            format!(
                "{} ({} -> {}, a tree)",
                s.id,
                s.sources_text(),
                s.location()
            )
        })
        .chain(
            pending
                .iter()
                .map(|j| format!("{} ({} -> {})", j.id, j.source.path.display(), j.location())),
        )
        .collect();
    Error::failed(format!(
        "{} uploads are pending: {}. Name one with {}, or use --all. \
         {} shows them",
        each.len(),
        each.join(", "),
        suggest("resume ID"),
        suggest("list-pending")
    ))
}

pub fn unknown_target(target: &str) -> Error {
    Error::failed(format!(
        "'{target}' is neither a pending upload's ID nor an existing file. \
         {} shows the pending uploads",
        suggest("list-pending")
    ))
}

pub fn not_an_id_or_file(target: &str) -> Error {
    Error::Usage(format!(
        "'{target}' is neither a journal ID (12 hex digits, as `s3up list-pending` shows \
         them) nor an existing file"
    ))
}

pub fn no_upload_of(target: &str) -> Error {
    Error::failed(format!(
        "no pending upload of '{target}'. {} shows the pending uploads",
        suggest("list-pending")
    ))
}

pub fn several_uploads_of(target: &str, n: usize, ids: &str) -> Error {
    Error::failed(format!(
        "{n} pending uploads are of '{target}': name one by ID ({ids})"
    ))
}

pub fn stopped_before_next() -> Error {
    Error::failed(format!(
        "stopped by Ctrl-C before the next upload; the journals are kept: \
         {} shows them",
        suggest("list-pending")
    ))
}

pub fn some_failed(failed: usize, total: usize) -> Error {
    Error::failed(format!(
        "{failed} of {total} uploads did not finish (see above). {} shows \
         what is left",
        suggest("list-pending")
    ))
}

pub fn finished_meanwhile(id: &str) -> Error {
    Error::failed(format!(
        "upload {id} was finished by another s3up run meanwhile"
    ))
}

pub fn source_missing(e: &Error, id: &str, dest: &Location) -> Error {
    Error::failed(format!(
        "{e}; it is the source of upload {id} to {dest}. Put the file back, or give up \
         with {}",
        suggest(&format!("abort {id}"))
    ))
}

pub fn bad_plan(path: &Path, size: u64, id: &str) -> Error {
    Error::failed(format!(
        "journal {} does not describe a valid plan for {size} bytes. Run {}",
        path.display(),
        suggest(&format!("abort {id}"))
    ))
}

/// A resume found the source with its size but a new mtime.
pub fn touched(journal: &Journal) {
    note(&format!(
        "'{}' was modified since upload {} started (same size, new modification time): every \
         part on S3 is checked against it, and a part whose bytes changed is sent again",
        journal.source.path.display(),
        journal.id
    ));
}

/// `resume --no-verify` of a source with a new mtime: nothing vouches for
/// the parts on S3 any more.
pub fn touched_no_verify(journal: &Journal) -> Error {
    Error::failed(format!(
        "'{}' was modified since upload {} started (same size, new modification time), so \
         --no-verify would trust parts whose bytes may have changed. Run {} without \
         --no-verify: it checks every part against the file and sends again those that differ",
        journal.source.path.display(),
        journal.id,
        suggest(&format!("resume {}", journal.id))
    ))
}

/// A resume reaches another endpoint than the journal records (given by
/// --endpoint-url or the environment).
pub fn other_endpoint(id: &str, used: Option<&str>, recorded: Option<&str>) {
    let name = |e: Option<&str>| e.map_or("AWS's own endpoint".to_string(), |u| format!("'{u}'"));
    warning(&format!(
        "upload {id} was started at {}, but this run uses {} (from --endpoint-url or the \
         environment); without them it reconnects to the recorded one",
        name(recorded),
        name(used)
    ));
}

/// How many parts a resume finds and sends. `checking` of the parts on S3
/// are re-read and compared with the file while the others are sent.
pub struct Resuming<'a> {
    pub id: &'a str,
    pub dest: &'a Location,
    /// The endpoint, as [`endpoint`] words it.
    pub at: &'a str,
    pub on_store: usize,
    pub part_count: u64,
    pub sending: usize,
    pub checking: usize,
}

pub fn resuming(r: &Resuming<'_>) {
    let checking = match r.checking {
        0 => String::new(),
        n => format!(" (checking {n} of them against the file meanwhile)"),
    };
    eprintln!(
        "s3up: resuming {} to {} at {}: {} of {} parts already on S3, sending {}{checking}",
        r.id, r.dest, r.at, r.on_store, r.part_count, r.sending
    );
}

/// Parts on S3 whose bytes did not match the file were sent again.
pub fn parts_resent(path: &Path, numbers: &[u32]) {
    let list: Vec<String> = numbers.iter().map(u32::to_string).collect();
    let (noun, pronoun) = if numbers.len() == 1 {
        ("part", "it was")
    } else {
        ("parts", "they were")
    };
    note(&format!(
        "{noun} {} on S3 did not match '{}' (its bytes changed since the upload began), so \
         {pronoun} sent again",
        list.join(", "),
        path.display()
    ));
}

pub fn already_completed(id: &str, dest: &Location, etag: Option<&str>) {
    println!(
        "upload {id} had already completed on S3: {dest} ETag {}",
        etag.unwrap_or("")
    );
}
