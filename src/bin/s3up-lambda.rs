//! The s3up-lambda binary: `s3up serve` as an AWS Lambda function
//! (provided.al2023), configured from its environment (see
//! `s3up::cmd::lambda`). A bad setting ends the cold start with one error
//! line, which Lambda logs, and the exit code `s3up` would give.

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("s3up-lambda: error: cannot start the async runtime: {e}");
            std::process::exit(s3up::error::EXIT_FAILED);
        }
    };
    if let Err(e) = runtime.block_on(s3up::cmd::lambda::run()) {
        eprintln!("s3up-lambda: error: {e}");
        std::process::exit(e.exit_code());
    }
}
