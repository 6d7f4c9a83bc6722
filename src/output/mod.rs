//! Every word s3up shows a user on the command line: summaries and `--json`,
//! the tables of `list-pending`, notes and warnings, and the wording of every
//! error with the hint that goes with it.
//!
//! The engine and the stores return structured outcomes and errors; these
//! modules turn them into text, so a message is changed in one place and the
//! engine can be driven by something other than a terminal. [`hint`] says how
//! a suggested command is written, [`failure`] words what went wrong
//! (`crate::error::Error`'s own `Display` included, so `error` needs no words),
//! [`summary`] holds the `--json` records, [`usage`] the command-line errors,
//! [`journal`] the journal directory's errors (`journal::JournalError`),
//! [`status`] what a run is doing beyond moving bytes (retrying, stalled,
//! offline) on the progress line and in logs, and one module per command
//! holds its own lines and tables.
//!
//! One kind of text lives elsewhere, on purpose: `s3up serve`'s HTTP error
//! bodies (`serve::auth`, `serve::api`) are the API's words, read by programs.

pub mod abort;
pub mod checksum;
pub mod failure;
pub mod hint;
pub mod journal;
pub mod lambda;
pub mod list;
pub mod options;
pub mod put;
pub mod resume;
pub mod serve;
pub mod status;
pub mod stream;
pub mod summary;
pub mod tree;
pub mod usage;

use crate::error::Error;
use crate::journal::Journal;

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

pub fn ctrl_c() {
    eprintln!("s3up: stopping after Ctrl-C (press it again to quit at once)");
}

/// "1 upload", "2 uploads".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
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

/// Where an upload goes, as the tables show it: with the backend for --via.
pub fn destination(j: &Journal) -> String {
    match &j.connection.via {
        Some(via) if j.bucket.is_empty() => format!("{} via {via}", j.key),
        Some(via) => format!("{} via {via}", j.location()),
        None => j.location().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Issue 13, item 8: "1 uploads would be aborted".
    #[test]
    fn counts_agree_with_their_noun() {
        assert_eq!(count(1, "upload"), "1 upload");
        assert_eq!(count(0, "upload"), "0 uploads");
        assert_eq!(count(2, "upload"), "2 uploads");
    }
}
