//! Why the parts phase stopped early ([`Stop`]): what the workers, the hash
//! pass and a resume's verifier hand back to [`run`](super::run), which words
//! it as an engine [`Error`](super::Error).
//!
//! The engine's public `Error` stays in the parent module: it carries what
//! [`session`](super::session) and [`gone`](super::gone) found (a sweep, an
//! unconfirmed removal), and those modules return it, so here it would tie
//! this leaf to them in a cycle.

use crate::store::StoreError;

/// Why the parts phase stopped early.
pub(super) enum Stop {
    Part(u32, StoreError),
    Read(u32, std::io::Error),
    /// A worker task died (a bug); the message says how.
    Worker(String),
    /// The journal writer refused a part: a save failed, and `finish` says why.
    Journal,
    Cancelled,
}
