//! The words for what went wrong with the journal directory or a journal file
//! ([`JournalError`]): `journal::dir` says what happened, this says it to a
//! user, with what to do next.

use std::fmt;

use super::hint::suggest;
use crate::journal::{JournalError, JOURNAL_VERSION};

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::NoHome => write!(
                f,
                "cannot find a home directory for the journal. Pass --journal-dir DIR or set \
                 S3UP_JOURNAL_DIR"
            ),
            JournalError::LockFile { path, error } => {
                write!(f, "cannot open lock file '{}': {error}", path.display())
            }
            JournalError::InUse { id, path } => write!(
                f,
                "upload {id} is in use by another s3up process (it holds '{}'). Wait for it to \
                 finish, or stop it first",
                path.display()
            ),
            JournalError::Lock { path, error } => {
                write!(f, "cannot lock '{}': {error}", path.display())
            }
            JournalError::Unreadable { path, error } => {
                write!(f, "cannot read journal '{}': {error}", path.display())
            }
            JournalError::Damaged { path, why } => write!(
                f,
                "journal '{}' is damaged ({why}). Remove it, and abort the upload on S3 with {} \
                 if it is still listed",
                path.display(),
                suggest("abort --remote")
            ),
            JournalError::Version { path, found } => write!(
                f,
                "journal '{}' has version {found}, this s3up reads version {JOURNAL_VERSION}. \
                 Use the s3up that wrote it",
                path.display()
            ),
            JournalError::Save(error) => write!(f, "{error}"),
        }
    }
}

impl From<JournalError> for crate::error::Error {
    fn from(e: JournalError) -> Self {
        crate::error::Error::Failed(e.to_string())
    }
}
