//! `put`: its usage errors, the notes of a raised part size, a restart or an
//! earlier upload resumed, and the warning of another upload to the same key.

use std::path::Path;

use super::hint::suggest;
use super::{note, warning};

use crate::error::Error;
use crate::journal::Journal;
use crate::s3::Location;
use crate::units::size;

/// The same metadata name twice, in any case: S3 folds names to lower
/// case, so one value would be lost without a word.
pub fn metadata_clash(name: &str, first: &str, second: &str) -> Error {
    Error::Usage(format!(
        "--metadata names '{name}' twice (values '{first}' and '{second}'); S3 folds metadata \
         names to lower case, so only one would be kept. Give each name once"
    ))
}

/// `put`'s destination was a bare key without --via.
pub fn not_an_s3_url(reason: String) -> Error {
    Error::Usage(format!("{reason} (a bare KEY needs --via URL)"))
}

pub fn s3_url_with_via(url: &Location) -> Error {
    Error::Usage(format!(
        "with --via, name the key alone, not '{url}': the backend decides the bucket. \
         E.g. s3up put FILE --via URL {}",
        url.key
    ))
}

/// Other running s3up uploads to the same destination: the last to
/// complete wins.
pub fn same_destination(dest: &Location, others: &[&Journal]) {
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
pub fn changed_use_restart(journal: &Journal, file: &Path) -> Error {
    Error::failed(format!(
        "'{}' changed since upload {} to {} started, and s3up never mixes old and new \
         bytes in one object. Run the same command with --restart to abort that upload and \
         send the file afresh",
        file.display(),
        journal.id,
        journal.location()
    ))
}

/// `put` found several earlier uploads of the same file to the same destination.
pub fn several_earlier(file: &Path, dest: &Location, ids: &[&str]) -> Error {
    Error::failed(format!(
        "'{}' has {} unfinished uploads to {dest} ({}). Resume one with {}, or \
         run the same command with --restart to abort them all and start afresh",
        file.display(),
        ids.len(),
        ids.join(", "),
        suggest("resume ID")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
