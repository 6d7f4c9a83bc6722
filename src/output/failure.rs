//! What went wrong, worded: the source file, the journal directory, the
//! connection and the token, a store's errors, and every way the engine can
//! stop, each with what to do next.
//!
//! [`engine_error`] maps each of the engine's errors to its words and exit
//! code; the words are grouped below by kind (stopped and resumable, the
//! journal, the upload gone, the object not as sent, the source changed,
//! nothing started).

use std::fmt;
use std::io;
use std::path::Path;

use super::hint::{quote, suggest};
use super::warning;
use crate::engine::session::Sweep;
use crate::engine::{self};
use crate::error::Error;
use crate::s3::Location;
use crate::store::sdk::ConnectError;
use crate::store::{ErrorKind, Refusal, StoreError};

/// The words of [`Error`]: the reason, and for a kept journal the command
/// that continues or cancels it.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Failed(m) | Error::Usage(m) => f.write_str(m),
            Error::Resumable { reason, id } => write!(
                f,
                "{reason}. The upload is saved: run {} to continue",
                suggest(&format!("resume {id}"))
            ),
            Error::Kept { reason, id } => write!(
                f,
                "{reason}. The journal is kept: run {} once the store that holds the upload \
                 answers, or {} to cancel it",
                suggest(&format!("resume {id}")),
                suggest(&format!("abort {id}"))
            ),
            Error::MayHaveCompleted { reason, id } => write!(
                f,
                "{reason}. The journal is kept: if that object is not the file, put it again; \
                 either way {} forgets the upload (an abort never deletes an object)",
                suggest(&format!("abort {id}"))
            ),
            Error::Interrupted { id, saved } => f.write_str(&interrupted(id, *saved)),
            Error::InterruptedTree { id, done, total } => write!(
                f,
                "interrupted: {done} of {total} files done, and every file in flight is \
                 saved; {} (or the same command again) sends the rest",
                suggest(&format!("resume {id}"))
            ),
            Error::InterruptedAtStart(sweep) => write!(
                f,
                "interrupted before the upload started{sweep}. Nothing was saved: run the same \
                 command again"
            ),
        }
    }
}

/// The Ctrl-C message: how much of the upload is saved, and the command that
/// sends the rest.
fn interrupted(id: &str, saved: Option<(u64, u64)>) -> String {
    let resume = suggest(&format!("resume {id}"));
    match saved {
        Some((done, total)) if done >= total => {
            format!("interrupted: all {total} parts are saved; {resume} completes the upload")
        }
        Some((done, total)) => format!(
            "interrupted: {done} of {total} parts saved; {resume} sends the other {}",
            total - done
        ),
        None => format!("interrupted. The upload is saved: run {resume} to continue"),
    }
}

/// The message for an I/O error on the source `path`, with what to do.
pub fn file_error(path: &Path, e: &io::Error) -> Error {
    let p = path.display();
    Error::failed(match e.kind() {
        io::ErrorKind::NotFound => format!("'{p}' does not exist. Check the path"),
        io::ErrorKind::PermissionDenied => {
            format!("cannot read '{p}': permission denied. Check the file's permissions")
        }
        io::ErrorKind::IsADirectory => {
            format!("'{p}' is a directory; s3up uploads one file. Name a file inside it")
        }
        _ => format!("cannot read '{p}': {e}"),
    })
}

pub fn not_a_regular_file(path: &Path) -> Error {
    Error::failed(format!(
        "'{}' is not a regular file (a device, pipe or socket has no fixed size to split \
         into parts). Copy it to a file first",
        path.display()
    ))
}

pub fn no_file_name(path: &Path) -> Error {
    Error::failed(format!(
        "'{}' has no file name to use as the key. Give the key in the S3 URL",
        path.display()
    ))
}

pub fn cannot_plan(path: &Path, e: &crate::plan::PlanError) -> Error {
    Error::failed(format!("cannot upload '{}': {e}", path.display()))
}

pub fn journal_dir_create(dir: &Path, e: &io::Error) -> Error {
    Error::failed(format!(
        "cannot create the journal directory '{}': {e}. Pass --journal-dir DIR or set \
         S3UP_JOURNAL_DIR to a writable directory",
        dir.display()
    ))
}

pub fn cannot_remove_journal(path: &Path, e: &io::Error) -> Error {
    Error::failed(format!("cannot remove journal '{}': {e}", path.display()))
}

fn exists(dest: &Location) -> String {
    format!(
        "'{dest}' already exists and --if-none-match was given. Choose another key, or drop \
         --if-none-match to overwrite"
    )
}

/// The hint for credentials that were refused: AWS's, or a `--via`
/// backend's token (its calls are named "backend …"), or the lack of one.
fn check_credentials(e: &StoreError) -> &'static str {
    if e.refusal.as_deref() == Some(&Refusal::TokenWanted) {
        "Pass its token with --token-file FILE or the S3UP_TOKEN environment variable"
    } else if e.op.starts_with("backend ") {
        "Check the token (--token-file, S3UP_TOKEN) and the key it may write"
    } else {
        "Check the credentials (AWS_ACCESS_KEY_ID, --profile) and the bucket policy"
    }
}

/// A key outside what a `--via` token may write: the prefix it may write
/// under and the bucket, and how to name a key there.
fn outside_prefix(dest: &Location, prefix: &str, bucket: &str) -> String {
    let name = dest.key.rsplit('/').next().unwrap_or(&dest.key);
    let bucket = if bucket.is_empty() {
        String::new()
    } else {
        format!(" in bucket '{bucket}'")
    };
    format!(
        "the key '{}' is outside what this token may write{bucket}: its keys must start with \
         '{prefix}'. Name a key under that prefix (e.g. {}), or give no key and the backend \
         puts the file there",
        dest.key,
        quote(&format!("{prefix}{name}"))
    )
}

/// The message for a store failure that happened before anything needs resuming.
pub fn store_failure(e: &StoreError, dest: &Location) -> Error {
    if let Some(Refusal::OutsidePrefix { prefix, bucket }) = e.refusal.as_deref() {
        return Error::failed(outside_prefix(dest, prefix, bucket));
    }
    if e.refusal.as_deref() == Some(&Refusal::TokenWanted) {
        return Error::failed(format!("{e}. {}", check_credentials(e)));
    }
    Error::failed(match e.kind {
        ErrorKind::NoSuchBucket => format!(
            "bucket '{}' does not exist ({e}). Check the name in '{dest}', or create the bucket",
            dest.bucket
        ),
        ErrorKind::AccessDenied => {
            format!(
                "access to '{dest}' was denied ({e}). {}",
                check_credentials(e)
            )
        }
        ErrorKind::PreconditionFailed => exists(dest),
        ErrorKind::Retryable | ErrorKind::Stalled | ErrorKind::Expired => {
            format!("{e}. Check the network and the endpoint, then try again")
        }
        _ => format!("{e}"),
    })
}

/// Why no client could be built. `profile` is the one in use (given, or
/// recorded in the journal): the hints do not suggest passing one then.
pub fn connect_error(e: ConnectError, profile: Option<&str>) -> Error {
    let credentials_hint = match profile {
        Some(p) => format!("Check the credentials of profile '{p}'"),
        None => "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile".to_string(),
    };
    Error::failed(match e {
        ConnectError::NoRegion => "no AWS region is configured. Pass --region, set AWS_REGION, \
                                   or set a region in your AWS profile"
            .to_string(),
        ConnectError::NoProvider => {
            format!("no AWS credentials provider is available. {credentials_hint}")
        }
        ConnectError::NoCredentials(cause) => {
            format!("no AWS credentials found ({cause}). {credentials_hint}")
        }
        ConnectError::NoProfile {
            name,
            from_env,
            files,
        } => format!(
            "the config profile '{name}'{} could not be found in {}. Check the name (`aws \
             configure list-profiles` lists them), or {}",
            if from_env { " (from AWS_PROFILE)" } else { "" },
            files.join(" or "),
            if from_env {
                "unset AWS_PROFILE"
            } else {
                "leave out --profile"
            }
        ),
        ConnectError::CaBundle { path, reason } => format!(
            "cannot use the CA bundle '{path}' (--ca-bundle or AWS_CA_BUNDLE): {reason}. Name a \
             PEM file of the certificates the endpoint's certificate chains to"
        ),
    })
}

pub fn token_file_error(path: &Path, e: &io::Error) -> Error {
    Error::failed(format!(
        "cannot read the token file '{}': {e}. Check the path given to --token-file",
        path.display()
    ))
}

pub fn token_file_empty(path: &Path) -> Error {
    Error::failed(format!(
        "the token file '{}' is empty. Put the backend's token in it",
        path.display()
    ))
}

pub fn token_on_command_line() {
    warning(
        "--token is visible to every user of this machine in `ps`; \
         prefer --token-file FILE or the S3UP_TOKEN environment variable",
    );
}

pub fn bad_backend(reason: &str) -> Error {
    Error::Usage(format!(
        "--via {reason}. Give the backend's base URL, e.g. https://uploads.example.com"
    ))
}

/// What stopped a run, as one line: the part (if one) and the store's error.
fn what_stopped(part: Option<(u32, u64)>, error: &StoreError) -> String {
    let what = match part {
        Some((n, count)) => format!("part {n} of {count}: {error}"),
        None => error.to_string(),
    };
    match error.kind {
        ErrorKind::AccessDenied => format!("{what}. {}", check_credentials(error)),
        ErrorKind::Stalled => format!("{what} (--stall-timeout)"),
        _ => what,
    }
}

/// What the user must hear of a sweep after lost Create answers, if anything.
pub fn swept(dest: &Location, sweep: &Sweep) -> Option<String> {
    let remote = dest.to_string();
    if let Some(e) = &sweep.unlisted {
        return Some(format!(
            "a Create answer was lost, and the uploads it may have made could not be listed \
             ({e}): check {} and abort what no one uses",
            suggest(&format!("list-pending --remote {remote}"))
        ));
    }
    if sweep.left.is_empty() {
        return None;
    }
    Some(format!(
        "a Create answer was lost, and {} upload{} to {remote} that another client may own \
         {} left open ({}): check {} and abort what no one uses",
        sweep.left.len(),
        if sweep.left.len() == 1 { "" } else { "s" },
        if sweep.left.len() == 1 { "was" } else { "were" },
        sweep.left.join(", "),
        suggest(&format!("list-pending --remote {remote}"))
    ))
}

/// Why a journal was kept although the store called its upload missing.
fn unconfirmed(why: &engine::Unconfirmed) -> String {
    use engine::Unconfirmed as U;
    match why {
        U::OtherEndpoint => "but this run reached another endpoint than the one its journal \
             records, so that answer says nothing about the upload"
            .to_string(),
        U::StillListed => "but ListMultipartUploads still lists it".to_string(),
        U::CannotList(e) => {
            format!("and ListMultipartUploads could not confirm it ({e})")
        }
        U::CannotRemove(e) => format!("and its journal could not be removed ({e})"),
    }
}

/// A `--via` backend answered 401 or 403.
fn token_refused(e: &StoreError) -> bool {
    e.kind == ErrorKind::AccessDenied && e.op.starts_with("backend ")
}

/// The words and the exit code for everything the engine can stop with: one
/// arm per case, worded by the function for its kind below.
pub fn engine_error(e: engine::Error) -> Error {
    use engine::Error as E;
    match e {
        E::Interrupted { id, saved } => Error::Interrupted { id, saved },
        E::Stopped { id, part, error } => stopped(id, what_stopped(part, &error), &error),
        E::ListFailed { id, dest, error } => {
            stopped(id, store_failure(&error, &dest).to_string(), &error)
        }
        E::Read {
            id,
            path,
            number,
            error,
        } => resumable(
            id,
            format!("cannot read part {number} of '{}': {error}", path.display()),
        ),
        E::Worker { id, message } => resumable(id, format!("an upload task failed: {message}")),
        E::Incomplete { id, missing } => {
            resumable(id, format!("{missing} parts were not uploaded"))
        }
        E::StoppedBeforeComplete { id } => resumable(
            id,
            "stopped before Complete (S3UP_BENCH_STOP_BEFORE_COMPLETE)".to_string(),
        ),
        E::JournalSave { id, dir, error } => resumable(id, journal_save(&dir, &error)),
        E::JournalStart { dir, error } => journal_start(&dir, &error),
        E::JournalResave { dir, error } => journal_resave(&dir, &error),
        E::StreamDiffers { id, number } => super::stream::differs(&id, number),
        E::StreamTooLong { id, read } => super::stream::too_long(&id, read),
        E::JournalRemove { path, error } => journal_remove(&path, &error),
        E::Gone {
            id,
            part,
            error,
            kept,
        } => gone(id, what_stopped(part, &error), kept),
        E::GoneAtResume {
            id,
            dest,
            path,
            all_sent,
            kept,
        } => gone_at_resume(id, &dest, &path, all_sent, kept),
        E::Undetermined {
            id,
            dest,
            error,
            check,
        } => undetermined(id, &dest, &error, &check),
        E::Exists { dest, aborted } => exists_error(&dest, aborted),
        E::ChecksumMismatch {
            dest,
            got,
            want,
            multipart,
        } => checksum_mismatch(&dest, &got, &want, multipart),
        E::ChecksumRefused {
            dest,
            store,
            choice,
            answer,
        } => super::checksum::refused(&dest, store, &choice, answer),
        E::ChangedDuringUpload { id, path } => changed_during_upload(&id, &path),
        E::ChangedSince {
            id,
            path,
            size_then,
            size_now,
        } => changed_since(&id, &path, size_then, size_now),
        E::Source { path, error } => file_error(&path, &error),
        E::Store { dest, error } => store_failure(&error, &dest),
        E::NotStarted { dest, error, sweep } => not_started(&dest, error.as_deref(), &sweep),
    }
}

// Stopped, resumable: the journal is kept and the upload stays open.

fn resumable(id: String, reason: String) -> Error {
    Error::Resumable { reason, id }
}

/// A store call stopped the run. A `--via` backend that refused the token is
/// a failure (exit 1): retrying cannot help, though the journal is kept for
/// the right token.
fn stopped(id: String, reason: String, error: &StoreError) -> Error {
    if token_refused(error) {
        return Error::failed(format!(
            "{reason}. The upload is saved: run {} with a token the backend accepts",
            suggest(&format!("resume {id}"))
        ));
    }
    resumable(id, reason)
}

// The journal could not be written or removed.

fn journal_save(dir: &Path, error: &impl std::fmt::Display) -> String {
    format!(
        "cannot save the journal in '{}': {error}. Free space or fix permissions there \
         first (parts missing from the journal are sent again)",
        dir.display()
    )
}

fn journal_start(dir: &Path, error: &impl std::fmt::Display) -> Error {
    Error::failed(format!(
        "cannot write the journal in '{}': {error}, so the upload was aborted. Pass \
         --journal-dir DIR or set S3UP_JOURNAL_DIR to a writable directory",
        dir.display()
    ))
}

fn journal_resave(dir: &Path, error: &impl std::fmt::Display) -> Error {
    Error::failed(format!(
        "cannot save the journal in '{}': {error}. Free space or fix permissions there",
        dir.display()
    ))
}

fn journal_remove(path: &Path, error: &impl std::fmt::Display) -> Error {
    Error::failed(format!(
        "the upload completed, but the journal {} could not be removed: {error}. Remove it \
         by hand",
        path.display()
    ))
}

// The store says the upload is gone.

/// During a run. Confirmed (`kept` is `None`): the journal was removed.
fn gone(id: String, what: String, kept: Option<Box<engine::Unconfirmed>>) -> Error {
    match kept {
        None => Error::failed(format!(
            "{what}. The upload no longer exists on S3 (aborted or expired), so the journal \
             {id} was removed: run {} again",
            suggest("put")
        )),
        Some(why) => Error::Kept {
            reason: format!("{what}, {}", unconfirmed(&why)),
            id,
        },
    }
}

/// When a resume listed the parts.
fn gone_at_resume(
    id: String,
    dest: &Location,
    path: &Path,
    all_sent: bool,
    kept: Option<Box<engine::Unconfirmed>>,
) -> Error {
    if let Some(why) = kept {
        return Error::Kept {
            reason: format!(
                "the store answered that upload {id} to {dest} does not exist, {}",
                unconfirmed(&why)
            ),
            id,
        };
    }
    let why = if all_sent {
        " and the object there is not this file's (it was aborted or expired)"
    } else {
        " (it was aborted or expired)"
    };
    Error::failed(format!(
        "upload {id} to {dest} no longer exists on S3{why}, so its journal was removed. \
         Run {} again",
        suggest(&format!(
            "put {} {dest}",
            quote(&path.display().to_string())
        ))
    ))
}

/// Complete failed in a way a lost earlier answer explains.
fn undetermined(id: String, dest: &Location, error: &StoreError, check: &StoreError) -> Error {
    let reason = format!(
        "{error}, which a lost answer to an earlier attempt would explain: the upload \
         may have completed, but whether the object at {dest} is this upload's could \
         not be told ({check})"
    );
    // Only a check that failed for now can tell more on `resume`; one the
    // store cannot answer (Companion has no object-status route) would fail
    // the same way every time.
    if check.is_retryable() {
        Error::Kept { reason, id }
    } else {
        Error::MayHaveCompleted { reason, id }
    }
}

// The object is not what was sent, or not to be written.

fn exists_error(dest: &Location, aborted: bool) -> Error {
    if aborted {
        return Error::failed(format!(
            "'{dest}' already exists and --if-none-match was given, so the upload \
             was aborted. Choose another key, or drop --if-none-match to overwrite"
        ));
    }
    Error::failed(exists(dest))
}

fn checksum_mismatch(dest: &Location, got: &str, want: &str, multipart: bool) -> Error {
    Error::failed(if multipart {
        format!(
            "S3 completed '{dest}' but reports checksum {got}, while the parts sent give \
             {want}. The object may be damaged: upload it again"
        )
    } else {
        format!("S3 stored '{dest}' with checksum {got}, but the file's is {want}. Upload it again")
    })
}

// The source changed.

fn changed_during_upload(id: &str, path: &Path) -> Error {
    Error::failed(format!(
        "'{}' changed while it was being uploaded, so the upload was not completed. \
         Run {} and put the file again",
        path.display(),
        suggest(&format!("abort {id}"))
    ))
}

fn changed_since(id: &str, path: &Path, size_then: u64, size_now: u64) -> Error {
    Error::failed(format!(
        "'{}' changed since upload {id} started ({size_then} bytes then, {size_now} now). \
         s3up never mixes old and new bytes in one object: run {} and put \
         the file again",
        path.display(),
        suggest(&format!("abort {id}"))
    ))
}

// Nothing was started.

/// Create failed (`error`) or Ctrl-C stopped it (`None`), after a sweep.
fn not_started(dest: &Location, error: Option<&StoreError>, sweep: &Sweep) -> Error {
    let Some(error) = error else {
        return Error::InterruptedAtStart(
            swept(dest, sweep).map_or(String::new(), |s| format!(" ({s})")),
        );
    };
    let failure = store_failure(error, dest);
    match swept(dest, sweep) {
        Some(s) => Error::failed(format!("{failure} ({s})")),
        None => failure,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_complete_that_cannot_be_checked_names_abort_not_resume() {
        let undetermined = |check: ErrorKind| {
            engine_error(engine::Error::Undetermined {
                id: "abc123".into(),
                dest: Location {
                    bucket: "b".into(),
                    key: "k".into(),
                },
                error: Box::new(StoreError::new(
                    ErrorKind::NoSuchUpload,
                    "backend complete",
                    "the backend does not know the upload",
                )),
                check: Box::new(StoreError::new(check, "backend object", "no such route")),
            })
        };
        // Through Companion: no way to look at the object, now or later.
        let e = undetermined(ErrorKind::Fatal);
        assert_eq!(e.exit_code(), crate::error::EXIT_RESUMABLE);
        let line = e.to_string();
        assert!(line.contains("may have completed"), "{line}");
        assert!(line.contains("the object at s3://b/k"), "{line}");
        assert!(line.contains("if that object is not the file"), "{line}");
        assert!(line.contains("`s3up abort abc123`"), "{line}");
        assert!(!line.contains("s3up resume"), "{line}");
        // A check that failed for now: `resume` asks again.
        let e = undetermined(ErrorKind::Retryable);
        assert_eq!(e.exit_code(), crate::error::EXIT_RESUMABLE);
        let line = e.to_string();
        assert!(line.contains("may have completed"), "{line}");
        assert!(line.contains("`s3up resume abc123`"), "{line}");
    }
}
