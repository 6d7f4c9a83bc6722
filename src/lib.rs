//! s3up uploads large files to Amazon S3 (and S3-compatible stores) with multipart
//! upload, and never loses work: every part is checksummed (SHA-256), progress is
//! saved to a crash-safe journal after each part, and an interrupted upload can be
//! resumed.
//!
//! One engine, any store. The engine decides what happens to an upload; a store
//! is how one reaches S3; commands turn arguments into engine calls and outcomes
//! into text. Modules, one concern each:
//! - [`units`]: sizes, rates and durations, parsed and printed (a leaf)
//! - [`s3`]: `s3://BUCKET/KEY` locations and every S3 limit, with its source (a leaf)
//! - [`checksum`]: `--checksum-algorithm`: the algorithms, a part's digest, the object's (a leaf)
//! - [`cli`]: the command line (clap derive definitions only)
//! - [`cmd`]: one file per subcommand: arguments -> engine -> output; `cmd::context`
//!   for what they share
//! - [`output`]: every user-facing word: summaries, `--json`, tables, errors and hints
//! - [`error`]: the error type and its exit codes
//! - [`plan`]: pure part planning under S3's size rules
//! - [`engine`]: session start, single PutObject, workers, retries, Complete,
//!   resume reconciliation, abort; never prints
//! - [`journal`]: the journal's schema, atomic saves, lock, directory and writer
//! - [`progress`]: the progress bar (the engine's progress interface)
//! - [`store`]: the backend-neutral store trait; `store::sdk` is the only
//!   module that touches aws-sdk-s3
//! - [`protocol`]: the wire types of Companion's S3 routes and s3up's extensions,
//!   shared by `serve` and `store::via`
//! - [`serve`]: `s3up serve`, the presigning backend (axum)
//! - [`walk`]: the files of a tree upload and their keys, filtered (a leaf)

pub mod checksum;
pub mod cli;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod journal;
pub mod output;
pub mod plan;
pub mod progress;
pub mod protocol;
pub mod s3;
pub mod serve;
pub mod store;
pub mod units;
pub mod walk;
