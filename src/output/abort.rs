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

pub fn stale_upload(dest: &Location, u: &ListedUpload, done: bool) {
    let started = u.initiated_unix.map_or("?".to_string(), age);
    let verb = if done { "aborted" } else { "would abort" };
    println!(
        "{verb} {dest} upload {} (started {started} ago)",
        u.upload_id
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

pub fn stale_total(n: usize, done: bool) {
    let uploads = count(n, "upload");
    if done {
        println!("aborted {uploads}");
    } else {
        let them = if n == 1 { "it" } else { "them" };
        println!("{uploads} would be aborted: run the same command with --yes to abort {them}");
    }
}
