//! s3up uploads large files to Amazon S3 (and S3-compatible stores) with multipart
//! upload, and never loses work: every part is checksummed (SHA-256), progress is
//! saved to a crash-safe journal after each part, and an interrupted upload can be
//! resumed.
//!
//! Modules, one concern each:
//! - [`cli`]: the command line (clap), and checks of single values
//! - [`app`]: one function per subcommand, and what it prints
//! - [`error`]: the error type and its exit codes
//! - [`s3`]: the only module that touches aws-sdk-s3
//! - [`plan`]: pure part planning under S3's size rules
//! - [`upload`]: the engine: workers, retries, completion, cancellation
//! - [`journal`]: the journal's schema, atomic saves, lock and directory
//! - [`progress`]: the progress bar

pub mod app;
pub mod cli;
pub mod error;
pub mod journal;
pub mod plan;
pub mod progress;
pub mod s3;
pub mod upload;
