//! The s3up binary: parse the command line, run, print the error, exit.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::Parser;

fn main() {
    let cli = match s3up::cli::Cli::try_parse() {
        Ok(cli) => cli,
        // --help, --version, and bare `s3up` (help, exit 2): clap prints them.
        Err(e)
            if !e.use_stderr()
                || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand =>
        {
            e.exit()
        }
        Err(e) => {
            let invalid = match e.get(ContextKind::InvalidArg) {
                Some(ContextValue::String(arg)) => Some(arg.as_str()),
                _ => None,
            };
            let command = match e.get(ContextKind::InvalidSubcommand) {
                Some(ContextValue::String(name)) => Some(name.as_str()),
                _ => None,
            };
            let what = invalid
                .and_then(s3up::output::usage::foreign_option)
                .or_else(|| command.and_then(s3up::output::usage::foreign_command))
                .unwrap_or_else(|| s3up::output::usage::clap_error_line(&e.to_string()));
            eprintln!("s3up: error: {what}. Run `s3up --help` for usage");
            std::process::exit(s3up::error::EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Hashing and the body reads the page cache cannot serve run on the
        // blocking pool; bounding it keeps threads and allocator arenas from
        // growing with a backlog of slow reads (measured when every read went
        // through the pool: 25 MiB peak RSS, against 45-60 MiB unbounded).
        .max_blocking_threads(16)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3up: error: cannot start the async runtime: {e}");
            std::process::exit(s3up::error::EXIT_FAILED);
        }
    };
    let code = match runtime.block_on(s3up::cmd::run(cli)) {
        Ok(()) => s3up::error::EXIT_OK,
        Err(e) => {
            eprintln!("s3up: error: {e}");
            e.exit_code()
        }
    };
    // Blocking reads that were cancelled must not hold the exit up.
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    std::process::exit(code);
}
