//! The error every command returns, and the exit code it maps to.
//!
//! Exit codes are part of the interface (README, DESIGN §1), so they live here
//! and nowhere else: 0 done, 1 failed, 2 usage error, 3 stopped but resumable,
//! 130 interrupted by Ctrl-C. Every message is one line that says what happened
//! and what to do next (worded in `crate::output`, so this module depends on
//! nothing); `main` prints it as `s3up: error: {message}`.

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

/// Every way a command ends other than success. Its words (`Display`) are
/// in [`crate::output::failure`], with every other message.
#[derive(Debug)]
pub enum Error {
    /// The run failed and nothing is left to resume (or the message says why not).
    Failed(String),
    /// The command line was wrong in a way only known after parsing it.
    Usage(String),
    /// The run stopped; the journal `id` is kept and the upload is still open on S3.
    Resumable { reason: String, id: String },
    /// The store said the upload is gone, or its state could not be told, but
    /// that was not confirmed: the journal `id` is kept.
    Kept { reason: String, id: String },
    /// A Complete whose answer was lost may have made the object the reason
    /// names, and the store offers no way to compare that object with the parts
    /// (Companion has no object-status route; a 403 on HeadObject; nothing to
    /// compare): the journal `id` is kept, and `resume` would learn no more.
    MayHaveCompleted { reason: String, id: String },
    /// Ctrl-C; the journal `id` is kept, holding `saved` = (parts, of parts)
    /// when that is known.
    Interrupted {
        id: String,
        saved: Option<(u64, u64)>,
    },
    /// Ctrl-C during a tree upload; the session `id` is kept, with `done`
    /// of `total` files finished.
    InterruptedTree {
        id: String,
        done: usize,
        total: usize,
    },
    /// Ctrl-C before any upload was recorded; nothing to resume.
    InterruptedAtStart(String),
}

impl std::error::Error for Error {}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Failed(_) => EXIT_FAILED,
            Error::Usage(_) => EXIT_USAGE,
            Error::Resumable { .. } | Error::Kept { .. } | Error::MayHaveCompleted { .. } => {
                EXIT_RESUMABLE
            }
            Error::Interrupted { .. }
            | Error::InterruptedTree { .. }
            | Error::InterruptedAtStart(_) => EXIT_INTERRUPTED,
        }
    }

    /// Shorthand for the common case: a failure with its message.
    pub fn failed(msg: impl Into<String>) -> Error {
        Error::Failed(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
