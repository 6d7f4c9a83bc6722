//! Every word s3up shows a user: the summary line and `--json`, the tables of
//! `list-pending`, notes and warnings, and the wording of every error and the
//! hint that goes with it.
//!
//! The engine and the stores return structured outcomes and errors; this
//! module turns them into text, so a message is changed in one place and the
//! engine can be driven by something other than a terminal.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use crate::cli::S3Url;
use crate::engine::{self, Dest, PartStats};
use crate::error::Error;
use crate::journal::{self, Journal};
use crate::store::sdk::ConnectError;
use crate::store::{ErrorKind, Finished, ListedPart, ListedUpload, StoreError};

/// The options that say where this run's journals and uploads are
/// (`--endpoint-url`, `--profile`, `--region`, `--path-style`,
/// `--journal-dir`, as given on the command line), each with a leading
/// space: every command s3up suggests carries them, so it works when pasted.
static AGAIN: OnceLock<String> = OnceLock::new();

/// Records the options every suggested command must carry; see [`AGAIN`].
pub fn set_again_options(options: String) {
    let _ = AGAIN.set(options);
}

/// The options every suggested command must carry, each with a leading space.
fn again_options() -> &'static str {
    AGAIN.get().map_or("", String::as_str)
}

/// A command to suggest, quoted: `` `s3up ARGS OPTIONS` ``.
pub fn suggest(args: &str) -> String {
    format!("`s3up {args}{}`", again_options())
}

/// `s` as one shell word: quoted when it holds anything but plain characters.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
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

fn exists(dest: &Dest) -> String {
    format!(
        "'{dest}' already exists and --if-none-match was given. Choose another key, or drop \
         --if-none-match to overwrite"
    )
}

/// The hint for credentials that were refused: AWS's, or a `--via`
/// backend's token (its calls are named "backend …").
fn check_credentials(e: &StoreError) -> &'static str {
    if e.op.starts_with("backend ") {
        "Check the token (--token-file, S3UP_TOKEN) and the key it may write"
    } else {
        "Check the credentials (AWS_ACCESS_KEY_ID, --profile) and the bucket policy"
    }
}

/// The message for a store failure that happened before anything needs resuming.
pub fn store_failure(e: &StoreError, dest: &Dest) -> Error {
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
    })
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
pub fn swept(dest: &Dest, sweep: &crate::engine::session::Sweep) -> Option<String> {
    let remote = format!("s3://{}/{}", dest.bucket, dest.key);
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

fn refused_with_journal(id: &str, reason: String) -> Error {
    Error::failed(format!(
        "{reason}. The upload is saved: run `s3up resume {id}` with a token the backend accepts"
    ))
}

/// The words and the exit code for everything the engine can stop with.
pub fn engine_error(e: engine::Error) -> Error {
    use engine::Error as E;
    let resumable = |id: String, reason: String| Error::Resumable { reason, id };
    match e {
        E::Interrupted { id, saved } => Error::Interrupted { id, saved },
        // A --via backend refused the token: retrying cannot help, so this is
        // a failure (exit 1), though the journal is kept for the right token.
        E::Stopped { id, part, error } if token_refused(&error) => {
            refused_with_journal(&id, what_stopped(part, &error))
        }
        E::ListFailed { id, dest, error } if token_refused(&error) => {
            refused_with_journal(&id, store_failure(&error, &dest).to_string())
        }
        E::Stopped { id, part, error } => resumable(id, what_stopped(part, &error)),
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
        E::JournalSave { id, dir, error } => resumable(
            id,
            format!(
                "cannot save the journal in '{}': {error}. Free space or fix permissions there \
                 first (parts missing from the journal are sent again)",
                dir.display()
            ),
        ),
        E::Incomplete { id, missing } => {
            resumable(id, format!("{missing} parts were not uploaded"))
        }
        E::StoppedBeforeComplete { id } => resumable(
            id,
            "stopped before Complete (S3UP_BENCH_STOP_BEFORE_COMPLETE)".to_string(),
        ),
        E::ChangedDuringUpload { id, path } => Error::failed(format!(
            "'{}' changed while it was being uploaded, so the upload was not completed. \
             Run {} and put the file again",
            path.display(),
            suggest(&format!("abort {id}"))
        )),
        E::Gone {
            id,
            part,
            error,
            kept: None,
        } => Error::failed(format!(
            "{}. The upload no longer exists on S3 (aborted or expired), so the journal \
             {id} was removed: run `s3up put` again{}",
            what_stopped(part, &error),
            again_options()
        )),
        E::Gone {
            id,
            part,
            error,
            kept: Some(why),
        } => Error::Kept {
            reason: format!("{}, {}", what_stopped(part, &error), unconfirmed(&why)),
            id,
        },
        E::GoneAtResume {
            id,
            dest,
            kept: Some(why),
            ..
        } => Error::Kept {
            reason: format!(
                "the store answered that upload {id} to {dest} does not exist, {}",
                unconfirmed(&why)
            ),
            id,
        },
        E::Undetermined {
            id,
            dest,
            error,
            check,
        } => {
            let reason = format!(
                "{error}, which a lost answer to an earlier attempt would explain: the upload \
                 may have completed, but whether the object at {dest} is this upload's could \
                 not be told ({check})"
            );
            // Only a check that failed for now can tell more on `resume`;
            // one the store cannot answer (Companion has no object-status
            // route) would fail the same way every time.
            if check.is_retryable() {
                Error::Kept { reason, id }
            } else {
                Error::MayHaveCompleted { reason, id }
            }
        }
        E::Exists {
            dest,
            aborted: true,
        } => Error::failed(format!(
            "'{dest}' already exists and --if-none-match was given, so the upload \
             was aborted. Choose another key, or drop --if-none-match to overwrite"
        )),
        E::Exists {
            dest,
            aborted: false,
        } => Error::failed(exists(&dest)),
        E::ChecksumMismatch {
            dest,
            got,
            want,
            multipart: true,
        } => Error::failed(format!(
            "S3 completed '{dest}' but reports checksum {got}, while the parts sent give \
             {want}. The object may be damaged: upload it again"
        )),
        E::ChecksumMismatch {
            dest,
            got,
            want,
            multipart: false,
        } => Error::failed(format!(
            "S3 stored '{dest}' with checksum {got}, but the file's is {want}. Upload it again"
        )),
        E::JournalRemove { path, error } => Error::failed(format!(
            "the upload completed, but the journal {} could not be removed: {error}. Remove it \
             by hand",
            path.display()
        )),
        E::JournalStart { dir, error } => Error::failed(format!(
            "cannot write the journal in '{}': {error}, so the upload was aborted. Pass \
             --journal-dir DIR or set S3UP_JOURNAL_DIR to a writable directory",
            dir.display()
        )),
        E::Store { dest, error } => store_failure(&error, &dest),
        E::NotStarted {
            dest,
            error: None,
            sweep,
        } => Error::InterruptedAtStart(
            swept(&dest, &sweep).map_or(String::new(), |s| format!(" ({s})")),
        ),
        E::NotStarted {
            dest,
            error: Some(error),
            sweep,
        } => {
            let failure = store_failure(&error, &dest);
            match swept(&dest, &sweep) {
                Some(s) => Error::failed(format!("{failure} ({s})")),
                None => failure,
            }
        }
        E::Source { path, error } => file_error(&path, &error),
        E::ListFailed { id, dest, error } => {
            resumable(id, store_failure(&error, &dest).to_string())
        }
        E::GoneAtResume {
            id,
            dest,
            path,
            all_sent,
            kept: None,
        } => {
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
        E::ChangedSince {
            id,
            path,
            size_then,
            size_now,
        } => Error::failed(format!(
            "'{}' changed since upload {id} started ({size_then} bytes then, {size_now} now). \
             s3up never mixes old and new bytes in one object: run {} and put \
             the file again",
            path.display(),
            suggest(&format!("abort {id}"))
        )),
        E::JournalResave { dir, error } => Error::failed(format!(
            "cannot save the journal in '{}': {error}. Free space or fix permissions there",
            dir.display()
        )),
    }
}

/// clap's error as one line: without its `error:` prefix, usage block and
/// "For more information" line; a list under a line ending in ':' (missing
/// arguments) follows that line, comma-separated, and other lines (clap's
/// tips) follow after a semicolon.
pub fn clap_error_line(text: &str) -> String {
    let mut line = String::new();
    let mut in_list = false;
    for l in text.lines().map(str::trim) {
        if l.is_empty() || l.starts_with("Usage:") || l.starts_with("For more") {
            continue;
        }
        let l = l.strip_prefix("error: ").unwrap_or(l);
        if line.is_empty() {
            line.push_str(l);
        } else if line.ends_with(':') {
            line.push(' ');
            line.push_str(l);
            in_list = true;
            continue;
        } else if in_list && !l.starts_with("tip:") {
            line.push_str(", ");
            line.push_str(l);
            continue;
        } else {
            line.push_str("; ");
            line.push_str(l);
        }
        in_list = false;
    }
    line.trim_end_matches('.').to_string()
}

/// What s3up answers to options users bring from other tools (aws s3 cp),
/// instead of clap's nearest match (`--recursive` is not `--retries`).
pub fn foreign_option(arg: &str) -> Option<String> {
    match arg {
        "--recursive" => Some(
            "s3up uploads one file per command; --recursive (a whole directory) is not \
             supported yet. Run one `s3up put FILE s3://BUCKET/PREFIX/` per file, e.g. \
             `for f in DIR/*; do s3up put \"$f\" s3://BUCKET/PREFIX/; done`"
                .to_string(),
        ),
        "--dryrun" | "--dry-run" => Some(format!(
            "s3up has no {arg}: `put` uploads, and creates nothing on S3 until the file, the \
             URL and the credentials have passed their checks. (`s3up abort --remote` without \
             --yes only lists what it would abort)"
        )),
        _ => None,
    }
}

/// `put -`: the file is read twice and by offset, which a stream cannot be.
pub fn no_stdin() -> Error {
    Error::Usage(
        "reading from standard input ('-') is not supported yet: s3up hashes each part before \
         sending it and re-reads parts to resume, so it needs a file. Save the stream to a \
         file first, then `s3up put FILE s3://BUCKET/KEY`"
            .to_string(),
    )
}

/// The same metadata name twice, in any case: S3 folds names to lower
/// case, so one value would be lost without a word.
pub fn metadata_clash(name: &str, first: &str, second: &str) -> Error {
    Error::Usage(format!(
        "--metadata names '{name}' twice (values '{first}' and '{second}'); S3 folds metadata \
         names to lower case, so only one would be kept. Give each name once"
    ))
}

/// Other running s3up uploads to the same destination: the last to
/// complete wins.
pub fn same_destination(dest: &Dest, others: &[&Journal]) {
    let each: Vec<String> = others
        .iter()
        .map(|j| format!("{} from '{}'", j.id, j.source.path.display()))
        .collect();
    warning(&format!(
        "another running s3up is uploading to {dest} ({}): whichever completes last replaces \
         the other's object",
        each.join(", ")
    ));
}

/// A line on stderr: `s3up: note: …`.
pub fn note(text: &str) {
    eprintln!("s3up: note: {text}");
}

/// A line on stderr: `s3up: warning: …`.
pub fn warning(text: &str) {
    eprintln!("s3up: warning: {text}");
}

/// An error that does not end the command (one of several uploads failed).
pub fn error_line(e: &Error) {
    eprintln!("s3up: error: {e}");
}

pub fn part_size_raised(bytes: u64, from: u64, plan: &crate::plan::Plan) {
    eprintln!("{}", part_size_raised_text(bytes, from, plan));
}

fn part_size_raised_text(bytes: u64, from: u64, plan: &crate::plan::Plan) -> String {
    format!(
        "s3up: note: {} parts of {} would exceed S3's 10,000; using {} parts of {}",
        bytes.div_ceil(from),
        size(from),
        plan.part_count,
        size(plan.part_size)
    )
}

pub fn ctrl_c() {
    eprintln!("s3up: stopping after Ctrl-C (press it again to quit at once)");
}

/// `S3UP_TIMINGS=1`: when the first part went out and what saving cost.
pub fn timings(start: Instant, stats: &PartStats) {
    let first = stats
        .first_part_at
        .map_or(0, |t| t.saturating_duration_since(start).as_millis());
    eprintln!(
        "s3up: timings: first part sent {first} ms after start; {} parts in {} ms; \
         {} journal saves took {} ms",
        stats.parts,
        start.elapsed().as_millis(),
        stats.saves.saves,
        stats.saves.time.as_millis()
    );
}

/// How the result of `put` or `resume` is printed.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub json: bool,
    pub quiet: bool,
}

/// One finished upload, as the summary reports it.
pub struct Summary<'a> {
    /// The journal's ID (`None` for a file sent with one PutObject).
    pub id: Option<&'a str>,
    pub file: &'a Path,
    pub dest: &'a Dest,
    /// The object's size.
    pub size: u64,
    /// The bytes this run sent (less after a resume).
    pub sent: u64,
    pub parts: u64,
    pub upload_id: Option<&'a str>,
    pub finished: &'a Finished,
    pub started: Instant,
}

/// The result: one line unless -q; with --json nothing is printed, and the
/// record is returned, for the command to print as one document with the
/// others (issue 13: `resume --all --json` must be one JSON document).
pub fn report(style: Style, s: &Summary<'_>) -> Option<serde_json::Value> {
    let seconds = s.started.elapsed().as_secs_f64();
    let etag = s.finished.etag.as_deref().unwrap_or("");
    let (size, sent, parts, dest) = (s.size, s.sent, s.parts, s.dest);
    if style.json {
        return Some(serde_json::json!({
            "id": s.id,
            "file": s.file,
            "bucket": dest.bucket,
            "key": dest.key,
            "size": size,
            "etag": etag,
            "checksum_sha256": s.finished.checksum_sha256,
            "parts": parts,
            "upload_id": s.upload_id,
            "sent_bytes": sent,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        }));
    }
    if !style.quiet {
        let mib_s = sent as f64 / (1 << 20) as f64 / seconds.max(1e-9);
        let plural = if parts == 1 { "" } else { "s" };
        let run = if sent == size {
            format!("{seconds:.1} s, {mib_s:.1} MiB/s")
        } else {
            format!(
                "this run sent {} in {seconds:.1} s, {mib_s:.1} MiB/s",
                self::size(sent)
            )
        };
        println!(
            "uploaded {dest} ({}, {parts} part{plural}; {run}) ETag {etag}",
            self::size(size)
        );
    }
    None
}

/// `--json` records: one object, or an array when the command was asked for
/// several uploads; printed as one document on stdout.
pub fn json_document(records: Vec<serde_json::Value>, several: bool) {
    match (several, records.len()) {
        (false, 0) => {}
        (false, 1) => println!("{}", records[0]),
        _ => println!("{}", serde_json::Value::Array(records)),
    }
}

/// The `--json` record of an upload that did not finish.
pub fn json_failure(id: &str, file: Option<&Path>, e: &Error) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "file": file,
        "error": e.to_string(),
        "exit_code": e.exit_code(),
    })
}

/// The `--json` record of an upload whose Complete had already landed.
pub fn json_already_completed(
    id: &str,
    file: &Path,
    dest: &Dest,
    etag: Option<&str>,
) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "file": file,
        "bucket": dest.bucket,
        "key": dest.key,
        "etag": etag.unwrap_or(""),
        "already_completed": true,
    })
}

/// The endpoint a run reaches, for the user: its URL, or AWS and the region.
pub fn endpoint(used: &crate::store::Connection) -> String {
    if let Some(backend) = &used.via {
        return format!("the backend {backend}");
    }
    match (&used.endpoint_url, &used.region) {
        (Some(url), _) => url.clone(),
        (None, Some(region)) => format!("AWS ({region})"),
        (None, None) => "AWS".to_string(),
    }
}

/// How many parts a resume finds and sends. `checking` of the parts on S3
/// are re-read and compared with the file while the others are sent.
pub struct Resuming<'a> {
    pub id: &'a str,
    pub dest: &'a Dest,
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

/// `put` found an unfinished upload of the same file to the same destination.
pub fn resuming_earlier(id: &str, file: &Path) {
    note(&format!(
        "'{}' has an unfinished upload to this destination ({id}): resuming it \
         (--restart starts afresh)",
        file.display()
    ));
}

/// `put --restart` aborted an earlier upload.
pub fn restarted(id: &str) {
    note(&format!("aborted the earlier upload {id}; starting afresh"));
}

/// `put` found an earlier upload of a file that has changed since.
pub fn changed_use_restart(journal: &crate::journal::Journal, file: &Path) -> Error {
    Error::failed(format!(
        "'{}' changed since upload {} to s3://{}/{} started, and s3up never mixes old and new \
         bytes in one object. Run the same command with --restart to abort that upload and \
         send the file afresh",
        file.display(),
        journal.id,
        journal.bucket,
        journal.key
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

/// `put` found several earlier uploads of the same file to the same destination.
pub fn several_earlier(file: &Path, dest: &Dest, ids: &[&str]) -> Error {
    Error::failed(format!(
        "'{}' has {} unfinished uploads to {dest} ({}). Resume one with {}, or \
         run the same command with --restart to abort them all and start afresh",
        file.display(),
        ids.len(),
        ids.join(", "),
        suggest("resume ID")
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

pub fn already_completed(id: &str, dest: &Dest, etag: Option<&str>) {
    println!(
        "upload {id} had already completed on S3: {dest} ETag {}",
        etag.unwrap_or("")
    );
}

// Choosing journals for `resume`.

pub fn nothing_pending(dir: &Path) -> Error {
    Error::failed(format!(
        "no upload is pending (no usable journal in '{}'). Nothing to resume",
        dir.display()
    ))
}

/// Each pending upload named by its ID, file and destination, so the user
/// can tell which is which.
pub fn several_pending(pending: &[&Journal]) -> Error {
    let each: Vec<String> = pending
        .iter()
        .map(|j| {
            format!(
                "{} ({} -> s3://{}/{})",
                j.id,
                j.source.path.display(),
                j.bucket,
                j.key
            )
        })
        .collect();
    Error::failed(format!(
        "{} uploads are pending: {}. Name one with {}, or use --all. \
         {} shows them",
        pending.len(),
        each.join(", "),
        suggest("resume ID"),
        suggest("list-pending")
    ))
}

pub fn unknown_target(target: &str) -> Error {
    Error::failed(format!(
        "'{target}' is neither a pending upload's ID nor an existing file. \
         `s3up list-pending` shows the pending uploads"
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
        "no pending upload of '{target}'. `s3up list-pending` shows the pending uploads"
    ))
}

pub fn several_uploads_of(target: &str, n: usize, ids: &str) -> Error {
    Error::failed(format!(
        "{n} pending uploads are of '{target}': name one by ID ({ids})"
    ))
}

pub fn finished_meanwhile(id: &str) -> Error {
    Error::failed(format!(
        "upload {id} was finished by another s3up run meanwhile"
    ))
}

pub fn source_missing(e: &Error, id: &str, dest: &Dest) -> Error {
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

pub fn stopped_before_next() -> Error {
    Error::failed(
        "stopped by Ctrl-C before the next upload; the journals are kept: \
         `s3up list-pending` shows them",
    )
}

pub fn some_failed(failed: usize, total: usize) -> Error {
    Error::failed(format!(
        "{failed} of {total} uploads did not finish (see above). `s3up list-pending` shows \
         what is left"
    ))
}

// `list-pending`.

/// "42s", "5m", "3h", "2d": how long ago `unix` was.
fn age(unix: u64) -> String {
    let secs = journal::now_unix().saturating_sub(unix);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// A byte count in the largest binary unit that keeps it at 1 or more:
/// "512 B", "1.5 KiB", "440.0 MiB", "100.0 GiB".
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// One local journal, for `list-pending`: parsed (and whether a run holds
/// it), or the reason it could not be.
pub type LocalEntry<'a> = (&'a PathBuf, Result<(&'a Journal, bool), &'a String>);

pub fn local_pending(dir: &Path, entries: &[LocalEntry<'_>], json: bool) {
    if json {
        let rows: Vec<_> = entries
            .iter()
            .map(|(path, j)| match j {
                Ok((j, running)) => serde_json::json!({
                    "id": j.id,
                    "file": j.source.path,
                    "destination": format!("s3://{}/{}", j.bucket, j.key),
                    "backend": j.connection.via,
                    "upload_id": j.upload_id,
                    "parts_done": j.parts.len(),
                    "parts_total": j.part_count,
                    "bytes_done": j.bytes_done(),
                    "bytes_total": j.source.size,
                    "updated_unix": j.updated_unix,
                    "running": running,
                }),
                Err(e) => serde_json::json!({ "journal": path, "error": e }),
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return;
    }
    for (_, j) in entries {
        if let Err(e) = j {
            warning(e);
        }
    }
    let good: Vec<(&Journal, bool)> = entries.iter().filter_map(|(_, j)| j.ok()).collect();
    if good.is_empty() {
        println!("no pending uploads (journals in '{}')", dir.display());
        return;
    }
    let mut rows =
        vec![["ID", "PARTS", "BYTES", "ACTIVE", "DESTINATION", "FILE"].map(String::from)];
    for (j, running) in good {
        let running = if running { " (running)" } else { "" };
        rows.push([
            j.id.clone(),
            format!("{}/{}", j.parts.len(), j.part_count),
            format!("{}/{}", size(j.bytes_done()), size(j.source.size)),
            format!("{} ago", age(j.updated_unix)),
            destination(j),
            format!("{}{running}", j.source.path.display()),
        ]);
    }
    for line in table(&rows, &[false, true, true, true, false, false]) {
        println!("{line}");
    }
}

/// Rows as lines of columns two spaces apart, each as wide as its widest
/// cell (right-aligned where `right` says), the last one unpadded: long keys
/// and paths push the columns along instead of breaking them.
pub fn table<const N: usize>(rows: &[[String; N]], right: &[bool; N]) -> Vec<String> {
    let mut widths = [0; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, cell)| match (i + 1 == N, right[i]) {
                    (true, _) => cell.clone(),
                    (false, true) => format!("{cell:>w$}", w = widths[i]),
                    (false, false) => format!("{cell:<w$}", w = widths[i]),
                })
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

/// One upload the store holds, for `list-pending --remote`: its parts (when
/// they could be listed) and the journal that owns it.
pub type RemoteRow<'a> = (
    &'a ListedUpload,
    Option<Vec<ListedPart>>,
    Option<&'a Journal>,
);

pub fn remote_pending(remote: &Dest, rows: &[RemoteRow<'_>], json: bool) {
    if json {
        let v: Vec<_> = rows
            .iter()
            .map(|(u, parts, owner)| {
                serde_json::json!({
                    "bucket": remote.bucket,
                    "key": u.key,
                    "upload_id": u.upload_id,
                    "initiated_unix": u.initiated_unix,
                    "parts": parts.as_ref().map(Vec::len),
                    "bytes": parts.as_ref().map(|p| p.iter().map(|p| p.size).sum::<u64>()),
                    "journal": owner.map(|j| &j.id),
                    "file": owner.map(|j| &j.source.path),
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return;
    }
    if rows.is_empty() {
        println!("no in-progress uploads under {remote}");
        return;
    }
    let mut lines =
        vec![["AGE", "PARTS", "BYTES", "JOURNAL", "KEY", "UPLOAD ID"].map(String::from)];
    for (u, parts, owner) in rows {
        lines.push([
            u.initiated_unix.map_or("?".to_string(), age),
            parts
                .as_ref()
                .map_or("?".to_string(), |p| p.len().to_string()),
            parts
                .as_ref()
                .map_or("?".to_string(), |p| size(p.iter().map(|p| p.size).sum())),
            owner.map_or("-".to_string(), |j| j.id.clone()),
            u.key.clone(),
            u.upload_id.clone(),
        ]);
    }
    for line in table(&lines, &[true, true, true, false, false, false]) {
        println!("{line}");
    }
}

// `abort`.

pub fn no_such_id(id: &str, dir: &Path) -> Error {
    Error::failed(format!(
        "no pending upload with ID '{id}' in '{}'. `s3up list-pending` shows them",
        dir.display()
    ))
}

pub fn cannot_remove_journal(path: &Path, e: &io::Error) -> Error {
    Error::failed(format!("cannot remove journal '{}': {e}", path.display()))
}

pub fn aborted(id: &str, dest: &Dest, was_there: bool) {
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
pub fn forgetting_unaborted(id: &str, dest: &Dest, upload_id: &str, e: &Error) {
    eprintln!(
        "warning: could not abort {id} ({e}); forgetting it anyway. Upload ID {upload_id} at \
         {dest} may stay open and keep costing storage until a lifecycle rule removes it"
    );
}

pub fn forgot(id: &str, dest: &Dest) {
    println!("removed the journal of {id} ({dest}) without aborting the upload");
}

/// `age` as the user wrote it (`7d`, not 604800s).
pub fn none_stale(remote: &Dest, age: &str) {
    println!("no in-progress uploads under {remote} are older than {age}");
}

/// `abort --remote` without `--older-than`: the age is what keeps an upload
/// that is still being sent from being aborted, so it is never guessed.
pub fn remote_needs_age(remote: &crate::cli::S3Url) -> Error {
    Error::Usage(format!(
        "--remote needs --older-than AGE, so that uploads still in progress are spared. Add \
         it, e.g. {} (without --yes it only lists them; --older-than 0s takes every one)",
        suggest(&format!("abort --remote {remote} --older-than 7d"))
    ))
}

pub fn stale_upload(dest: &Dest, u: &ListedUpload, done: bool) {
    let started = u.initiated_unix.map_or("?".to_string(), age);
    let verb = if done { "aborted" } else { "would abort" };
    println!(
        "{verb} {dest} upload {} (started {started} ago)",
        u.upload_id
    );
}

pub fn skipped_running(dest: &Dest, u: &ListedUpload, id: &str) {
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

/// "1 upload", "2 uploads".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
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

/// `put --via` or a `--via` upload's resume/abort without a token.
pub fn token_missing(backend: &str) -> Error {
    Error::Usage(format!(
        "uploads through the backend {backend} need its token, and the journal never holds it. \
         Pass --token-file FILE or set S3UP_TOKEN"
    ))
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

/// `put`'s destination was a bare key without --via.
pub fn not_an_s3_url(reason: String) -> Error {
    Error::Usage(format!("{reason} (a bare KEY needs --via URL)"))
}

pub fn s3_url_with_via(url: &S3Url) -> Error {
    Error::Usage(format!(
        "with --via, name the key alone, not '{url}': the backend decides the bucket. \
         E.g. s3up put FILE --via URL {}",
        url.key
    ))
}

/// Where an upload goes, as the tables show it: with the backend for --via.
pub fn destination(j: &Journal) -> String {
    match &j.connection.via {
        Some(via) if j.bucket.is_empty() => format!("{} via {via}", j.key),
        Some(via) => format!("s3://{}/{} via {via}", j.bucket, j.key),
        None => format!("s3://{}/{}", j.bucket, j.key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13, item 8: sizes switch to GiB and beyond.
    #[test]
    fn sizes_use_the_largest_unit() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(440 << 20), "440.0 MiB");
        assert_eq!(size(100 << 30), "100.0 GiB");
        assert_eq!(size(3 << 40), "3.0 TiB");
    }

    // Issue 13, item 8: "1 uploads would be aborted".
    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1, "upload"), "1 upload");
        assert_eq!(count(0, "upload"), "0 uploads");
        assert_eq!(count(2, "upload"), "2 uploads");
    }

    // Issue 13, item 8: a long key pushed list-pending's columns apart.
    #[test]
    fn table_columns_follow_their_widest_cell() {
        let rows = [
            ["ID", "PARTS", "DESTINATION", "FILE"].map(String::from),
            [
                "a1",
                "1/13",
                "s3://b/a-very-long-key/that/goes/on/and/on.bin",
                "/x",
            ]
            .map(String::from),
            ["b2", "10/100", "s3://b/k", "/y (running)"].map(String::from),
        ];
        let lines = table(&rows, &[false, true, false, false]);
        assert_eq!(
            lines,
            [
                "ID   PARTS  DESTINATION                                     FILE",
                "a1    1/13  s3://b/a-very-long-key/that/goes/on/and/on.bin  /x",
                "b2  10/100  s3://b/k                                        /y (running)",
            ]
        );
    }

    // Issue 13, item 8: "using 9310 parts of 11534336 bytes".
    #[test]
    fn a_raised_part_size_is_given_in_units() {
        let plan = crate::plan::Plan::new(100 << 30, 8 << 20).unwrap();
        let from = plan.raised_from.unwrap();
        assert_eq!(
            part_size_raised_text(100 << 30, from, &plan),
            format!(
                "s3up: note: 12800 parts of 8.0 MiB would exceed S3's 10,000; using {} parts of {}",
                plan.part_count,
                size(plan.part_size)
            )
        );
        assert!(size(plan.part_size).ends_with(" MiB"));
    }

    // Issue 13, item 6: "the following required arguments were not provided:; <S3_URL>".
    #[test]
    fn clap_errors_become_one_readable_line() {
        let missing = "error: the following required arguments were not provided:\n  <FILE>\n  \
                       <S3_URL>\n\nUsage: s3up put <FILE> <S3_URL>\n\nFor more information, \
                       try '--help'.\n";
        assert_eq!(
            clap_error_line(missing),
            "the following required arguments were not provided: <FILE>, <S3_URL>"
        );
        let tip = "error: unexpected argument '--retrys' found\n\n  tip: a similar argument \
                   exists: '--retries'\n\nUsage: s3up put <FILE> <S3_URL>\n";
        assert_eq!(
            clap_error_line(tip),
            "unexpected argument '--retrys' found; tip: a similar argument exists: '--retries'"
        );
    }

    #[test]
    fn a_lost_complete_that_cannot_be_checked_names_abort_not_resume() {
        use crate::store::{ErrorKind, StoreError};
        let undetermined = |check: ErrorKind| {
            engine_error(engine::Error::Undetermined {
                id: "abc123".into(),
                dest: Dest {
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

    #[test]
    fn suggested_words_are_quoted_for_the_shell() {
        assert_eq!(quote("/tmp/a.bin"), "/tmp/a.bin");
        assert_eq!(quote("my file"), "'my file'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
