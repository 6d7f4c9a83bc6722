//! Standard input (`put -`): the errors and notes of a stream's upload.

use super::hint::suggest;
use crate::error::Error;
use crate::units::size;

/// A resumed stream is not the one the upload began with.
pub fn differs(id: &str, number: u32) -> Error {
    Error::failed(format!(
        "the stream differs from part {number} of upload {id}: its bytes (or its end) are not \
         the ones sent before, so it is not the stream the upload began with, and the upload \
         stopped there. The upload and its journal are kept: pipe the same stream into {}, or cancel \
         it with {}",
        suggest(&format!("resume {id}")),
        suggest(&format!("abort {id}"))
    ))
}

/// A stream needs more than 10,000 parts at its schedule.
pub fn too_long(id: &str, read: u64) -> Error {
    Error::failed(format!(
        "the stream goes on past 10,000 parts ({} read): S3 allows no more. Run {} and send it \
         again with a larger --max-memory (the largest part is at most the memory cap) or with \
         --expected-size, which sizes the parts for it",
        size(read),
        suggest(&format!("abort {id}"))
    ))
}

/// `put -` to a prefix: a stream has no file name to append.
pub fn needs_key(dest: &str) -> Error {
    Error::Usage(format!(
        "standard input has no file name to put under '{dest}': name the object, as in \
         `s3up put - s3://BUCKET/KEY`"
    ))
}

/// `put -` with other sources: a stream goes up alone.
pub fn alone() -> Error {
    Error::Usage(
        "standard input ('-') goes up alone: give it as the only source, as in \
         `tar c DIR | s3up put - s3://BUCKET/KEY`"
            .to_string(),
    )
}

/// `resume` of a stream's upload with no stream piped in.
pub fn needs_stream(id: &str) -> Error {
    Error::Usage(format!(
        "upload {id} reads standard input, and standard input is a terminal: pipe the same \
         stream into it, as in `PRODUCER | s3up resume {id}` (the parts already sent are read \
         again, checked and skipped)"
    ))
}

/// `--max-memory` below the first part.
pub fn memory_too_small(memory: u64, part: u64) -> Error {
    Error::Usage(format!(
        "--max-memory {} is less than one part ({}): a stream's parts are held in memory until \
         they are sent. Give at least {}",
        size(memory),
        size(part),
        size(part)
    ))
}

/// The stream could not be read before anything was created.
pub fn unreadable(error: &std::io::Error) -> Error {
    Error::failed(format!(
        "cannot read standard input: {error}. Check the command that writes to it"
    ))
}

/// Resuming a stream's upload: the parts on the store are read again and checked.
pub fn resuming(id: &str, on_store: usize) {
    super::note(&format!(
        "resuming upload {id} from standard input: {on_store} parts on the store will be read \
         again from the stream, checked against the journal and skipped"
    ));
}

/// `list-pending`'s FILE column for a stream's upload: what it was read
/// from, and how to resume it.
pub fn pending(journal: &crate::journal::Journal, running: &str) -> String {
    let from = match journal.source.path.to_str() {
        Some("-") | None => "standard input".to_string(),
        Some(path) => path.to_string(),
    };
    format!(
        "{from} (stream){running}: pipe the same stream into `s3up resume {}`",
        journal.id
    )
}
