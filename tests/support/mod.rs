//! Test support shared by the end-to-end tests: the local S3 servers (`server`),
//! the fault-injecting HTTP proxy (`proxy`), the WAN emulator (`wan`), and
//! helpers to run the built binary and make test files.

pub mod browser;
pub mod companion;
pub mod lambda;
pub mod proxy;
pub mod serve;
pub mod server;
pub mod wan;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub use server::{describe, server, Kind, Server};

pub const MIB: u64 = 1024 * 1024;

/// The address a just-spawned `s3up serve` (stdout piped) prints on its first
/// line. If none comes within 30 s, it is killed and the test fails with its
/// log (`log`, where its stderr goes).
pub fn serve_address(child: &mut Child, log: &Path) -> String {
    use std::io::{BufRead, BufReader};
    let stdout = child.stdout.take().expect("serve's stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap_or_default();
    let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        let _ = child.kill();
        panic!(
            "serve printed no address ({line:?}): {}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    };
    url.to_string()
}

/// Generates both a `garage` and a `moto` test from one body `|srv: &Server| { … }`.
macro_rules! on_both_servers {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[test]
            fn garage() {
                ($body)($crate::support::server($crate::support::Kind::Garage));
            }
            #[test]
            fn moto() {
                ($body)($crate::support::server($crate::support::Kind::Moto));
            }
        }
    };
}

/// A fresh temp dir holding a journal dir and test files.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn journal_dir(&self) -> PathBuf {
        self.dir.path().join("journal")
    }

    /// A file of `size` pseudo-random bytes (deterministic for a seed).
    pub fn file(&self, name: &str, size: u64, seed: u64) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, random_bytes(size, seed)).expect("write test file");
        path
    }

    /// Journal files (`*.json`) currently in the journal dir.
    pub fn journals(&self) -> Vec<PathBuf> {
        journals_in(&self.journal_dir())
    }

    /// How many parts the first journal holds (0 while there is none, or
    /// while it is being replaced and does not parse).
    pub fn journalled_parts(&self) -> usize {
        self.journals().first().map_or(0, |p| {
            let j: serde_json::Value =
                serde_json::from_slice(&std::fs::read(p).unwrap_or_default()).unwrap_or_default();
            j["parts"].as_array().map_or(0, Vec::len)
        })
    }

    /// The only journal, parsed.
    pub fn only_journal(&self) -> serde_json::Value {
        let js = self.journals();
        assert_eq!(js.len(), 1, "expected exactly one journal, found {js:?}");
        serde_json::from_slice(&std::fs::read(&js[0]).unwrap()).expect("journal parses")
    }

    /// `s3up` with the server's credentials, the endpoint and this journal dir.
    pub fn s3up(&self, srv: &Server, endpoint: &str) -> assert_cmd::Command {
        assert_cmd::Command::from_std(self.s3up_std(srv, endpoint))
    }

    /// Like `s3up`, as a std Command (for killing it mid-run).
    pub fn s3up_std(&self, srv: &Server, endpoint: &str) -> std::process::Command {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .envs(srv.env())
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env("AWS_ENDPOINT_URL", endpoint)
            .env("S3UP_JOURNAL_DIR", self.journal_dir())
            .env("AWS_EC2_METADATA_DISABLED", "true");
        cmd
    }
}

pub fn journals_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

pub fn random_bytes(size: u64, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(size as usize + 8);
    while (out.len() as u64) < size {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(size as usize);
    out
}

pub fn sha256_file(path: &Path) -> [u8; 32] {
    Sha256::digest(std::fs::read(path).unwrap()).into()
}

pub fn sha256_b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// The lines a run without a bar prints as its state changes (issue 18).
const STATE_LINES: [&str; 5] = [
    "s3up: retrying ",
    "s3up: stalled: ",
    "s3up: waiting for the network since ",
    "s3up: sending again",
    "s3up: resumed after ",
];

/// stderr as text, asserting it is exactly one `s3up: error: …` line besides
/// the lines that told the run's state as it went (`s3up: retrying …`).
pub fn one_error_line(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !STATE_LINES.iter().any(|state| l.starts_with(state)))
        .collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got: {err}");
    assert!(
        lines[0].starts_with("s3up: error: ") || lines[0].starts_with("error: "),
        "{err}"
    );
    lines[0].to_string()
}

/// Asserts the object at bucket/key has the same bytes as `file`.
pub fn assert_object_equals(srv: &Server, bucket: &str, key: &str, file: &Path) {
    let got = srv
        .object_sha256(bucket, key)
        .unwrap_or_else(|| panic!("s3://{bucket}/{key} does not exist"));
    assert_eq!(
        hex::encode(got),
        hex::encode(sha256_file(file)),
        "s3://{bucket}/{key} differs from {}",
        file.display()
    );
}

/// What HeadObject says about an object.
pub struct Head {
    pub content_type: Option<String>,
    pub metadata: std::collections::HashMap<String, String>,
}

pub fn head(srv: &Server, bucket: &str, key: &str) -> Head {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let out = rt
        .block_on(srv.client().head_object().bucket(bucket).key(key).send())
        .unwrap_or_else(|e| panic!("HeadObject s3://{bucket}/{key}: {e:?}"));
    Head {
        content_type: out.content_type().map(str::to_string),
        metadata: out.metadata().cloned().unwrap_or_default(),
    }
}

/// Polls `cond` every 20 ms until it holds. Panics after 60 s, or as soon as
/// `child` exits, quoting `log()` (what the child printed, where the caller
/// kept it).
pub fn wait_for(
    what: &str,
    child: &mut Child,
    log: impl Fn() -> String,
    mut cond: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !cond() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("s3up exited ({status}) before {what}: {}", log());
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Starts `s3up ARGS FILE URL` in the background against `endpoint`, with its
/// stdout discarded and its stderr in the scratch dir's `child.err`.
pub fn spawn(
    s: &Scratch,
    srv: &Server,
    endpoint: &str,
    args: &[&str],
    file: &Path,
    url: &str,
) -> Child {
    let args = args.iter().map(OsStr::new);
    spawn_args(
        s,
        srv,
        endpoint,
        args.chain([file.as_os_str(), OsStr::new(url)]),
    )
}

/// Starts `s3up ARGS` as [`spawn`] does.
pub fn spawn_args<A: AsRef<OsStr>>(
    s: &Scratch,
    srv: &Server,
    endpoint: &str,
    args: impl IntoIterator<Item = A>,
) -> Child {
    let log = std::fs::File::create(s.dir.path().join("child.err")).unwrap();
    s.s3up_std(srv, endpoint)
        .args(args)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Starts `s3up ARGS` as [`spawn`] does, through `proxy`, one part at a time
/// and with a stall timeout far beyond any test: a request the proxy stalls
/// holds the run at that moment until the test signals or kills it.
pub fn spawn_held<A: AsRef<OsStr>>(
    s: &Scratch,
    srv: &Server,
    proxy: &proxy::FaultProxy,
    args: impl IntoIterator<Item = A>,
) -> Child {
    let held = ["--concurrency", "1", "--stall-timeout", "600"].map(OsString::from);
    let args = args.into_iter().map(|a| a.as_ref().to_os_string());
    spawn_args(s, srv, &proxy.endpoint(), args.chain(held))
}

/// `put --part-size 5MiB [extra] FILE URL`, held as [`spawn_held`] says.
pub fn spawn_held_put(
    s: &Scratch,
    srv: &Server,
    proxy: &proxy::FaultProxy,
    extra: &[&str],
    file: &Path,
    url: &str,
) -> Child {
    let args = ["put", "--part-size", "5MiB"].iter().chain(extra);
    let args = args
        .map(OsStr::new)
        .chain([file.as_os_str(), OsStr::new(url)]);
    spawn_held(s, srv, proxy, args)
}

/// Sends `sig` (`-INT` is Ctrl-C, `-STOP` a laptop's sleep) to a spawned s3up.
pub fn signal(child: &Child, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {sig} failed");
}

/// Kills a spawned s3up with SIGKILL (no chance to save or clean up) and reaps it.
pub fn sigkill(child: &mut Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// What the last [`spawn`]ed s3up wrote on stderr so far.
pub fn child_stderr(s: &Scratch) -> String {
    std::fs::read_to_string(s.dir.path().join("child.err")).unwrap_or_default()
}

/// Bytes a process wrote, as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts that s3up exited with `code`, quoting its output when it did not.
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", describe(out));
}

/// Asserts that s3up succeeded, quoting its output when it did not.
pub fn assert_ok(out: &Output) {
    assert_exit(out, 0);
}
