//! The results of `put` and `resume`: the summary line, and the `--json`
//! records, as `Serialize` types so that each record's shape is written once.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::engine::PartStats;
use crate::error::Error;
use crate::s3::Location;
use crate::store::Finished;
use crate::units;

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
    pub dest: &'a Location,
    /// The object's size.
    pub size: u64,
    /// The bytes this run sent (less after a resume).
    pub sent: u64,
    pub parts: u64,
    pub upload_id: Option<&'a str>,
    pub finished: &'a Finished,
    pub started: Instant,
}

/// One `--json` record: an upload done, one that had already completed, or
/// one that did not finish.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Record {
    Uploaded(Uploaded),
    AlreadyCompleted(AlreadyCompleted),
    Failed(Failed),
}

/// The `--json` record of a finished upload.
#[derive(Debug, Serialize)]
pub struct Uploaded {
    id: Option<String>,
    file: String,
    bucket: String,
    key: String,
    size: u64,
    etag: String,
    checksum_sha256: Option<String>,
    parts: u64,
    upload_id: Option<String>,
    sent_bytes: u64,
    seconds: f64,
}

/// The `--json` record of an upload whose Complete had already landed.
#[derive(Debug, Serialize)]
pub struct AlreadyCompleted {
    id: String,
    file: String,
    bucket: String,
    key: String,
    etag: String,
    already_completed: bool,
}

/// The `--json` record of an upload that did not finish.
#[derive(Debug, Serialize)]
pub struct Failed {
    id: String,
    file: Option<String>,
    error: String,
    exit_code: i32,
}

/// The result: one line unless -q; with --json nothing is printed, and the
/// record is returned, for the command to print as one document with the
/// others (issue 13: `resume --all --json` must be one JSON document).
pub fn report(style: Style, s: &Summary<'_>) -> Option<Record> {
    let seconds = s.started.elapsed().as_secs_f64();
    let etag = s.finished.etag.as_deref().unwrap_or("");
    let (size, sent, parts, dest) = (s.size, s.sent, s.parts, s.dest);
    if style.json {
        return Some(Record::Uploaded(Uploaded {
            id: s.id.map(str::to_string),
            file: s.file.to_string_lossy().into_owned(),
            bucket: dest.bucket.clone(),
            key: dest.key.clone(),
            size,
            etag: etag.to_string(),
            checksum_sha256: s.finished.checksum_sha256.clone(),
            parts,
            upload_id: s.upload_id.map(str::to_string),
            sent_bytes: sent,
            seconds: (seconds * 1000.0).round() / 1000.0,
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
                units::size(sent)
            )
        };
        println!(
            "uploaded {dest} ({}, {parts} part{plural}; {run}) ETag {etag}",
            units::size(size)
        );
    }
    None
}

/// `--json` records: one object, or an array when the command was asked for
/// several uploads; printed as one document on stdout.
pub fn json_document(records: Vec<Record>, several: bool) {
    let text = match (several, records.as_slice()) {
        (false, []) => return,
        (false, [one]) => serde_json::to_string(one),
        _ => serde_json::to_string(&records),
    };
    // Plain data of strings and numbers (paths made valid UTF-8 with U+FFFD
    // where they are not): serializing it cannot fail.
    if let Ok(text) = text {
        println!("{text}");
    }
}

/// The `--json` record of an upload that did not finish.
pub fn json_failure(id: &str, file: Option<&Path>, e: &Error) -> Record {
    Record::Failed(Failed {
        id: id.to_string(),
        file: file.map(|f| f.to_string_lossy().into_owned()),
        error: e.to_string(),
        exit_code: e.exit_code(),
    })
}

/// The `--json` record of an upload whose Complete had already landed.
pub fn json_already_completed(
    id: &str,
    file: &Path,
    dest: &Location,
    etag: Option<&str>,
) -> Record {
    Record::AlreadyCompleted(AlreadyCompleted {
        id: id.to_string(),
        file: file.to_string_lossy().into_owned(),
        bucket: dest.bucket.clone(),
        key: dest.key.clone(),
        etag: etag.unwrap_or("").to_string(),
        already_completed: true,
    })
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
