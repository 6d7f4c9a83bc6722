//! The s3up binary: parse the command line, run, print the error, exit.

use clap::Parser;

fn main() {
    let cli = match s3up::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => e.exit(), // --help, --version
        Err(e) => {
            // One line like every other error: clap's first line, without its prefix.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let what = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("s3up: error: {what}. Run `s3up --help` for usage");
            std::process::exit(s3up::error::EXIT_USAGE);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3up: error: cannot start the async runtime: {e}");
            std::process::exit(s3up::error::EXIT_FAILED);
        }
    };
    let code = match runtime.block_on(s3up::app::run(cli)) {
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
