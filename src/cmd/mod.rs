//! One file per subcommand: arguments in, engine calls, outcomes out through
//! `crate::output`; [`context`] holds what they share (connecting, the
//! journal directory, hints, Ctrl-C, the source).
//!
//! Checks that need the file system or the store (a missing file, a
//! directory, an existing key with --if-none-match) happen before anything is
//! created on S3, so a bad input leaves nothing behind. The end of an upload
//! is shared too: [`run_and_report`] sends, completes and reports for `put`
//! and `resume` alike.

mod abort;
mod context;
pub mod lambda;
pub mod lambda_secrets;
mod list;
mod object;
mod put;
mod resume;
mod serve;
mod stream;
mod tree;

use std::fs::File;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use clap::CommandFactory;

use crate::cli::{Cli, Command, Tuning};
use crate::engine::concurrency::AUTO_MAX;
use crate::engine::retry::Retry;
use crate::engine::verify::Candidate;
use crate::engine::{run_multipart, Cancel, Concurrency, Progress, Run};
use crate::error::Result;
use crate::journal::{Journal, JournalDir, Lock};
use crate::output::{self, summary::Record, summary::Summary};
use crate::plan::{Part, Plan};
use crate::store::AnyStore;
use context::style;

pub async fn run(cli: Cli) -> Result<()> {
    context::set_hints(&cli.global);
    match cli.command {
        Command::Put(args) => put::put(&cli.global, args).await,
        Command::Sync(args) => put::sync(&cli.global, args).await,
        Command::Resume(args) => resume::resume(&cli.global, args).await,
        Command::ListPending(args) => list::list_pending(&cli.global, args).await,
        Command::Abort(args) => abort::abort(&cli.global, args).await,
        Command::Serve(args) => serve::serve(&cli.global, args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "s3up", &mut io::stdout());
            Ok(())
        }
    }
}

/// True when a `bench-floor` build is asked to leave the upload open
/// (scripts/bench builds an open 10,000-part upload so; stores such as Garage
/// would otherwise complete its 4 KiB parts). Never in a normal build.
fn stop_before_complete() -> bool {
    cfg!(feature = "bench-floor") && std::env::var_os("S3UP_BENCH_STOP_BEFORE_COMPLETE").is_some()
}

/// `--concurrency N` pins the parts in flight; without it they adapt.
fn concurrency(tuning: &Tuning) -> Concurrency {
    match tuning.concurrency {
        Some(n) => Concurrency::Fixed(n),
        None => Concurrency::Auto { max: AUTO_MAX },
    }
}

/// Everything [`run_and_report`] needs besides the journal.
struct Sending<'a> {
    store: Arc<AnyStore>,
    dir: JournalDir,
    file: Arc<File>,
    plan: Plan,
    tuning: &'a Tuning,
    /// The display, and the retry policy that reports to it.
    progress: Arc<dyn Progress>,
    retry: Retry,
    cancel: Cancel,
    started: Instant,
    /// The store reached is the one the journal records.
    at_recorded_endpoint: bool,
}

/// Sends the parts left (and verifies the parts a resume reuses),
/// completes, and prints the result (or, with --json, returns its record):
/// the end of `put` and `resume` alike.
async fn run_and_report(
    s: Sending<'_>,
    journal: Journal,
    lock: Lock,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
) -> Result<Option<Record>> {
    let run = Run {
        store: s.store,
        dir: s.dir,
        file: s.file,
        plan: s.plan,
        concurrency: concurrency(s.tuning),
        retry: s.retry,
        progress: s.progress,
        cancel: s.cancel,
        stop_before_complete: stop_before_complete(),
        at_recorded_endpoint: s.at_recorded_endpoint,
    };
    let done = run_multipart(&run, journal, lock, todo, candidates)
        .await
        .map_err(output::failure::engine_error)?;
    if !done.resent.is_empty() && !s.tuning.quiet && !s.tuning.json {
        output::resume::parts_resent(&done.journal.source.path, &done.resent);
    }
    let dest = done.journal.location();
    Ok(output::summary::report(
        style(s.tuning),
        &Summary {
            id: Some(&done.journal.id),
            file: &done.journal.source.path,
            dest: &dest,
            size: run.plan.size,
            sent: done.sent,
            parts: run.plan.part_count,
            upload_id: Some(&done.journal.upload_id),
            finished: &done.finished,
            started: s.started,
        },
    ))
}
