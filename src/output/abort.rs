//! `abort`: what was aborted or forgotten, and `abort --remote`'s list of
//! stale uploads.

use std::path::Path;

use super::hint::suggest;
use super::list::age;
use super::{count, warning};

use crate::error::Error;
use crate::s3::Location;
use crate::store::ListedUpload;

pub fn no_such_id(id: &str, dir: &Path) -> Error {
    Error::failed(format!(
        "no pending upload with ID '{id}' in '{}'. {} shows them",
        dir.display(),
        suggest("list-pending")
    ))
}

pub fn aborted(id: &str, dest: &Location, was_there: bool) {
    if was_there {
        println!("aborted {id} ({dest}) and removed its journal");
    } else {
        println!("upload {id} ({dest}) was already gone (the store no longer had it); removed its journal");
    }
}

/// `abort ID` could not abort: what failed, and the way out when the store
/// is gone for good.
pub fn abort_failed(e: Error, id: &str) -> Error {
    match e {
        Error::Failed(m) => Error::Failed(format!(
            "{m}. The journal is kept; if the upload cannot be reached again, {} removes \
             the journal anyway (the upload may then stay open on the store)",
            suggest(&format!("abort {id} --forget"))
        )),
        other => other,
    }
}

/// `abort --forget` after a failed abort, before the journal goes: what may
/// be left open, named so that it can still be found (stderr).
pub fn forgetting_unaborted(id: &str, dest: &Location, upload_id: &str, e: &Error) {
    warning(&format!(
        "could not abort {id} ({e}); forgetting it anyway. Upload ID {upload_id} at \
         {dest} may stay open and keep costing storage until a lifecycle rule removes it"
    ));
}

pub fn forgot(id: &str, dest: &Location) {
    println!("removed the journal of {id} ({dest}) without aborting the upload");
}

/// `age` as the user wrote it (`7d`, not 604800s).
pub fn none_stale(remote: &Location, age: &str) {
    println!("no in-progress uploads under {remote} are older than {age}");
}

/// `abort --remote` without `--older-than`: the age is what keeps an upload
/// that is still being sent from being aborted, so it is never guessed.
pub fn remote_needs_age(remote: &Location) -> Error {
    Error::Usage(format!(
        "--remote needs --older-than AGE, so that uploads still in progress are spared. Add \
         it, e.g. {} (without --yes it only lists them; --older-than 0s takes every one)",
        suggest(&format!("abort --remote {remote} --older-than 7d"))
    ))
}

/// One stale upload aborted (`done`) or that would be; `journal`: the local
/// journal that owned it (removed with it).
pub fn stale_upload(dest: &Location, u: &ListedUpload, journal: Option<&str>, done: bool) {
    let started = u.initiated_unix.map_or("?".to_string(), age);
    let verb = if done { "aborted" } else { "would abort" };
    let owned = journal.map_or(String::new(), |id| {
        let removed = if done { "removed" } else { "removed too" };
        format!(" [journal {id}, {removed}]")
    });
    println!(
        "{verb} {dest} upload {} (started {started} ago){owned}",
        u.upload_id
    );
}

/// A stale upload a local journal owns, left alone: `resume` would continue it.
pub fn kept_owned(dest: &Location, u: &ListedUpload, journal: Option<&str>, yes: bool) {
    let started = u.initiated_unix.map_or("?".to_string(), age);
    let verb = if yes { "kept" } else { "would keep" };
    let id = journal.unwrap_or("?");
    println!(
        "{verb} {dest} upload {} (started {started} ago) [journal {id}: {} continues it]",
        u.upload_id,
        suggest(&format!("resume {id}"))
    );
}

pub fn skipped_running(dest: &Location, u: &ListedUpload, id: &str) {
    warning(&format!(
        "skipped {dest} upload {}: a running s3up is using it (journal {id})",
        u.upload_id
    ));
}

pub fn skipped_some(aborted: usize, skipped: usize) -> Error {
    Error::failed(format!(
        "aborted {}, skipped {skipped} in use by a running s3up (see above). \
         Wait for those runs to finish, or stop them first",
        count(aborted, "upload")
    ))
}

/// The last line of `abort --remote`: how many were (or would be) aborted,
/// and how many a local journal keeps, and why.
pub fn stale_total(aborted: usize, kept: usize, done: bool) {
    let uploads = count(aborted, "upload");
    let mut line = match (done, aborted) {
        (true, _) => format!("aborted {uploads}"),
        (false, 0) => "nothing would be aborted".to_string(),
        (false, n) => {
            let them = if n == 1 { "it" } else { "them" };
            format!("{uploads} would be aborted: run the same command with --yes to abort {them}")
        }
    };
    if kept > 0 {
        let n = count(kept, "upload");
        let verb = if done { "kept" } else { "would keep" };
        line.push_str(&format!(
            "; {verb} {n} that a local journal owns, as `s3up resume` continues them \
             (add --include-local to abort them too, with their journals)"
        ));
    }
    println!("{line}");
}
