//! The error every command returns, and the exit code it maps to.
//!
//! Exit codes are part of the interface (README, DESIGN §1), so they live here
//! and nowhere else: 0 done, 1 failed, 2 usage error, 3 stopped but resumable,
//! 130 interrupted by Ctrl-C. Every message is one line that says what happened
//! and what to do next; `main` prints it as `s3up: error: {message}`.

/// The upload finished.
pub const EXIT_OK: i32 = 0;
/// The run failed; the message says what to fix.
pub const EXIT_FAILED: i32 = 1;
/// The command line was wrong (clap's errors, printed by `main`, and [`Error::Usage`]).
pub const EXIT_USAGE: i32 = 2;
/// The run stopped but the journal is kept: `s3up resume ID` continues it
/// (or, when that cannot help, the message says what can).
pub const EXIT_RESUMABLE: i32 = 3;
/// Ctrl-C; the journal is kept.
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The run failed and nothing is left to resume (or the message says why not).
    #[error("{0}")]
    Failed(String),
    /// The command line was wrong in a way only known after parsing it.
    #[error("{0}")]
    Usage(String),
    /// The run stopped; the journal `id` is kept and the upload is still open on S3.
    #[error("{reason}. The upload is saved: run {} to continue", suggest(&format!("resume {id}")))]
    Resumable { reason: String, id: String },
    /// The store said the upload is gone, or its state could not be told, but
    /// that was not confirmed: the journal `id` is kept.
    #[error(
        "{reason}. The journal is kept: run {} once the store that holds the upload answers, \
         or {} to cancel it",
        suggest(&format!("resume {id}")),
        suggest(&format!("abort {id}"))
    )]
    Kept { reason: String, id: String },
    /// A Complete whose answer was lost may have made the object the reason
    /// names, and the store offers no way to compare that object with the parts
    /// (Companion has no object-status route; a 403 on HeadObject; nothing to
    /// compare): the journal `id` is kept, and `resume` would learn no more.
    #[error(
        "{reason}. The journal is kept: if that object is not the file, put it again; either \
         way {} forgets the upload (an abort never deletes an object)",
        suggest(&format!("abort {id}"))
    )]
    MayHaveCompleted { reason: String, id: String },
    /// Ctrl-C; the journal `id` is kept, holding `saved` = (parts, of parts)
    /// when that is known.
    #[error("{}", interrupted(id, *saved))]
    Interrupted {
        id: String,
        saved: Option<(u64, u64)>,
    },
    /// Ctrl-C before any upload was recorded; nothing to resume.
    #[error(
        "interrupted before the upload started{0}. Nothing was saved: run the same command again"
    )]
    InterruptedAtStart(String),
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

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Failed(_) => EXIT_FAILED,
            Error::Usage(_) => EXIT_USAGE,
            Error::Resumable { .. } | Error::Kept { .. } | Error::MayHaveCompleted { .. } => {
                EXIT_RESUMABLE
            }
            Error::Interrupted { .. } | Error::InterruptedAtStart(_) => EXIT_INTERRUPTED,
        }
    }

    /// Shorthand for the common case: a failure with its message.
    pub fn failed(msg: impl Into<String>) -> Error {
        Error::Failed(msg.into())
    }
}

use crate::output::suggest;

pub type Result<T, E = Error> = std::result::Result<T, E>;
