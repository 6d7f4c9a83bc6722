//! The context of a multipart run ([`Run`]): the store, the file, the plan,
//! the journal directory and the run's settings, shared by the workers,
//! Complete and the decision to forget a vanished upload.

use std::fs::File;
use std::sync::Arc;

use super::concurrency::Concurrency;
use super::retry::Retry;
use super::{Cancel, Progress};
use crate::journal::JournalDir;
use crate::plan::Plan;
use crate::store::Store;

/// Everything a multipart run needs.
pub struct Run<S: Store> {
    pub store: Arc<S>,
    pub dir: JournalDir,
    pub file: Arc<File>,
    pub plan: Plan,
    /// How many parts may be in flight (fixed, or adapted up to a ceiling).
    pub concurrency: Concurrency,
    /// Attempts per call before the run stops.
    pub retry: Retry,
    pub progress: Arc<dyn Progress>,
    pub cancel: Cancel,
    /// Leave the upload open instead of completing it (`bench-floor` builds only).
    pub stop_before_complete: bool,
    /// The store reached is the one the journal records: only then can its
    /// NoSuchUpload lead to removing the journal (see [`super::gone`]).
    pub at_recorded_endpoint: bool,
}
