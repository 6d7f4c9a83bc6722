//! `cargo lambda watch`, the Lambda emulator of cargo-lambda (PyPI, pinned
//! and installed into .venv by scripts/install-servers), running the
//! `s3up-lambda` build in front of a store endpoint. The emulator serves the
//! Lambda runtime API to the function and the function URL to the tests, on
//! a free loopback port: `http://127.0.0.1:PORT/lambda-url/s3up-lambda/…`.
//!
//! It runs with `--disable-cors`: the emulator otherwise answers CORS itself,
//! like a function URL with a CORS setting, and the browser would get two
//! `Access-Control-Allow-Origin` headers (`serve` answers CORS).
//!
//! The emulator builds the function with `cargo run` (features `lambda`) on
//! its first start, which takes minutes on a cold target dir; later starts
//! reuse the build, and so does the first when `scripts/test` built it
//! before the tests, provided the nested cargo sees the environment the
//! outer one had: see [`cargo_env`]. It runs in a process group of its own,
//! killed whole when dropped (the function is the emulator's child), and a
//! test that fails prints the end of its log.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{Scratch, Server};

/// The function's name under the emulator: its binary's.
pub const FUNCTION: &str = "s3up-lambda";

/// How long the first start may take: the emulator compiles the function.
const BUILD_DEADLINE: Duration = Duration::from_secs(1500);

/// A running `cargo lambda watch`, killed (with the function) when dropped.
pub struct Watch {
    child: Child,
    /// The function URL, `http://127.0.0.1:PORT/lambda-url/s3up-lambda`.
    pub url: String,
    log: PathBuf,
    _scratch: Scratch,
}

/// `.venv/bin/cargo-lambda`, or a message that says how to install it.
fn cargo_lambda() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/cargo-lambda");
    assert!(
        path.is_file(),
        "{} is missing: run scripts/install-servers, which installs cargo-lambda into .venv",
        path.display()
    );
    path
}

/// `cmd` (a cargo run inside a test) without the variables cargo sets for
/// the test process only (CARGO_MANIFEST_DIR, CARGO_PKG_*, …). Build
/// scripts track some of them (ring's reruns when CARGO_MANIFEST_DIR
/// changes), so a nested cargo that inherited them rebuilt ring, rustls, the
/// AWS SDK and the function, minutes under load in the middle of the suite,
/// and the next outer `cargo test` rebuilt them back.
pub fn cargo_env(cmd: &mut Command) -> &mut Command {
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let test_only = name.starts_with("CARGO_PKG_")
            || name.starts_with("CARGO_BIN_")
            || name.starts_with("CARGO_MANIFEST_")
            || matches!(
                &*name,
                "CARGO_CRATE_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "CARGO_TARGET_TMPDIR"
                    | "CARGO_RUSTC_CURRENT_DIR"
            );
        if test_only {
            cmd.env_remove(&*name);
        }
    }
    cmd
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Watch {
    /// The function for `bucket` with the credentials of `srv`, talking to
    /// S3 at `endpoint`, with `envs` (the S3UP_* settings) in its
    /// environment; returns once it answers `/healthz`.
    pub fn start(srv: &Server, endpoint: &str, bucket: &str, envs: &[(&str, &str)]) -> Watch {
        let scratch = Scratch::new();
        let log = scratch.dir.path().join("watch.log");
        let port = free_port();
        let out = std::fs::File::options()
            .create(true)
            .append(true)
            .open(&log)
            .expect("watch log");
        let mut cmd = Command::new(cargo_lambda());
        cargo_env(&mut cmd)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["lambda", "watch", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            .args(["--disable-cors", "--ignore-changes", "--quiet"])
            .args(["--features", "lambda", "--bin", FUNCTION])
            .envs(srv.env())
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("AWS_ENDPOINT_URL_S3", endpoint)
            .env("S3UP_BUCKET", bucket)
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("watch log"))
            .stderr(out);
        // cargo-lambda finds cargo on PATH; Zig is not needed to run.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("spawn cargo lambda watch");
        let mut watch = Watch {
            child,
            url: format!("http://127.0.0.1:{port}/lambda-url/{FUNCTION}"),
            log,
            _scratch: scratch,
        };
        watch.wait_healthy();
        watch
    }

    fn wait_healthy(&mut self) {
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let deadline = Instant::now() + BUILD_DEADLINE;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("cargo lambda watch exited ({status}): {}", self.log());
            }
            let answer = client.get(self.path("/healthz")).send();
            if answer.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the function did not answer /healthz within {BUILD_DEADLINE:?}: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `path` on the function URL, e.g. `/healthz`.
    pub fn path(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// What the emulator and the function printed (the request lines).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(40)..].join("\n");
            eprintln!("the end of cargo lambda watch's log:\n{tail}");
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}
