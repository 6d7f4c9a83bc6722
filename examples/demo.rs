//! The s3up demo, run by `scripts/demo`: a local Garage server, a file of a few
//! hundred MiB, an upload interrupted with Ctrl-C part way, `list-pending`,
//! `resume`, and a download proving the object equals the file; then the same
//! through `s3up serve`, from a client with a token and no AWS credentials.
//!
//! It reuses the test suite's server fixture, so the demo and the tests start
//! Garage the same way. `S3UP_DEMO_MIB` sets the file size (default 384).

#[allow(dead_code)]
#[path = "../tests/support/server.rs"]
mod server;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

fn step(title: &str) {
    println!("\n\x1b[1m== {title}\x1b[0m");
}

fn fail(msg: &str) -> ! {
    eprintln!("demo: FAILED: {msg}");
    std::process::exit(1);
}

/// Writes `mib` MiB of pseudo-random bytes, one MiB at a time, and returns their SHA-256.
fn make_file(path: &Path, mib: u64) -> [u8; 32] {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create demo file"));
    let mut hash = Sha256::new();
    let mut x: u64 = 0x5eed_1234_abcd_9876;
    let mut block = vec![0u8; 1 << 20];
    for _ in 0..mib {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        hash.update(&block);
        f.write_all(&block).expect("write demo file");
    }
    f.flush().expect("flush demo file");
    hash.finalize().into()
}

fn main() {
    let bin = std::env::var("S3UP_BIN").unwrap_or_else(|_| "target/release/s3up".into());
    let mib: u64 = std::env::var("S3UP_DEMO_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(384);
    let work = tempfile::tempdir().expect("temp dir");
    let journal_dir = work.path().join("journal");

    step("Starting a local S3 server (Garage 2.5.0 on 127.0.0.1)");
    let srv = server::server(server::Kind::Garage);
    let bucket = srv.new_bucket("demo");
    println!("endpoint {}  bucket {bucket}", srv.endpoint);

    let file = work.path().join("demo.bin");
    println!("generating {} ({mib} MiB of random bytes)", file.display());
    let want = make_file(&file, mib);
    let dest = format!("s3://{bucket}/demo/demo.bin");

    let s3up = |args: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.envs(srv.env())
            .env("S3UP_JOURNAL_DIR", &journal_dir)
            .args(args);
        println!("$ s3up {}", args.join(" "));
        cmd
    };
    let run = |args: &[&str]| -> ExitStatus {
        let status = s3up(args)
            .status()
            .unwrap_or_else(|e| fail(&format!("cannot run {bin}: {e}")));
        println!("(exit code {})", status.code().unwrap_or(-1));
        status
    };
    let file_arg = file.to_str().expect("utf-8 temp path");

    step("1. Upload, interrupted with Ctrl-C part way through");
    let mut child = s3up(&["put", file_arg, &dest, "--concurrency", "2"])
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot run {bin}: {e}")));
    // Interrupt once S3 holds a few parts. (The journal on disk may lag: its
    // saves are spaced out so that they cost under 1% of an upload, and the
    // Ctrl-C handler flushes it.)
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let parts = srv
            .list_uploads(&bucket)
            .iter()
            .map(|(key, id)| srv.list_parts(&bucket, key, id).len())
            .max();
        if parts.is_some_and(|n| n >= 4) {
            break;
        }
        if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            fail("the upload ended before it could be interrupted; try a larger S3UP_DEMO_MIB");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("(sending SIGINT, as Ctrl-C would)");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait for s3up");
    println!("(exit code {})", status.code().unwrap_or(-1));
    if status.code() != Some(130) {
        fail("expected exit code 130 after Ctrl-C");
    }

    step("2. What is pending: the local journal, and the upload S3 holds");
    run(&["list-pending"]);
    run(&["list-pending", "--remote", &format!("s3://{bucket}")]);

    step("3. Resume: only the missing parts are sent");
    if !run(&["resume"]).success() {
        fail("resume failed");
    }

    step("4. Verify: download the object and compare SHA-256 with the file");
    let got = srv
        .object_sha256(&bucket, "demo/demo.bin")
        .unwrap_or_else(|| fail("the object is missing"));
    println!("file   sha256 {}", hex::encode(want));
    println!("object sha256 {}", hex::encode(got));
    if got != want {
        fail("the object differs from the file");
    }
    step("5. Nothing left behind");
    run(&["list-pending"]);
    if !srv.list_uploads(&bucket).is_empty() {
        fail("an upload is still pending on S3");
    }

    // The same story through `s3up serve`: the client holds a token and no
    // AWS credential at all; serve holds the credentials and presigns.
    step("6. Start `s3up serve`, the presigning backend (it holds the AWS credentials)");
    let token = "demo-token-0123456789abcdef";
    let tokens = work.path().join("tokens");
    let hashed = hex::encode(Sha256::digest(token.as_bytes()));
    std::fs::write(&tokens, format!("sha256:{hashed} / demo\n")).expect("write tokens file");
    let token_file = work.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).expect("write token file");
    let tokens_arg = tokens.to_str().expect("utf-8 temp path");
    let serve_args = [
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--bucket",
        &bucket,
        "--prefix",
        "team",
        "--tokens",
        tokens_arg,
    ];
    let mut serve = s3up(&serve_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("cannot run {bin}: {e}")));
    let mut line = String::new();
    let stdout = serve.stdout.take().expect("serve's stdout");
    BufReader::new(stdout)
        .read_line(&mut line)
        .unwrap_or_else(|e| fail(&format!("serve did not start: {e}")));
    let Some(url) = line.split_whitespace().find(|w| w.starts_with("http://")) else {
        let _ = serve.kill();
        fail(&format!("serve did not say where it listens: {line}"));
    };
    let url = url.trim_end_matches('/').to_string();
    println!("serve listening at {url}");

    // A client with no AWS variable at all in its environment.
    let client = |args: &[&str]| {
        let mut cmd = Command::new(&bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", work.path())
            .env("S3UP_JOURNAL_DIR", &journal_dir)
            .args(args);
        println!(
            "$ s3up {}   (no AWS credentials in the environment)",
            args.join(" ")
        );
        cmd
    };
    let token_arg = token_file.to_str().expect("utf-8 temp path");
    let key = "team/via/demo.bin";

    step("7. Upload through serve with only a token, interrupted with Ctrl-C part way");
    let mut child = client(&[
        "put",
        file_arg,
        "--via",
        &url,
        key,
        "--token-file",
        token_arg,
        "--concurrency",
        "2",
    ])
    .spawn()
    .unwrap_or_else(|e| fail(&format!("cannot run {bin}: {e}")));
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let parts = srv
            .list_uploads(&bucket)
            .iter()
            .map(|(key, id)| srv.list_parts(&bucket, key, id).len())
            .max();
        if parts.is_some_and(|n| n >= 4) {
            break;
        }
        if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            let _ = serve.kill();
            fail(
                "the --via upload ended before it could be interrupted; try a larger S3UP_DEMO_MIB",
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("(sending SIGINT, as Ctrl-C would)");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().expect("wait for s3up");
    println!("(exit code {})", status.code().unwrap_or(-1));
    if status.code() != Some(130) {
        let _ = serve.kill();
        fail("expected exit code 130 after Ctrl-C");
    }

    step("8. Resume through serve: the token again, nothing else");
    let _ = client(&["list-pending"]).status();
    let status = client(&["resume", "--token-file", token_arg])
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run {bin}: {e}")));
    println!("(exit code {})", status.code().unwrap_or(-1));
    let _ = Command::new("kill")
        .args(["-TERM", &serve.id().to_string()])
        .status();
    let _ = serve.wait();
    if !status.success() {
        fail("resume through serve failed");
    }

    step("9. Verify the object uploaded through serve, and nothing left behind");
    let got = srv
        .object_sha256(&bucket, key)
        .unwrap_or_else(|| fail("the object is missing"));
    println!("file   sha256 {}", hex::encode(want));
    println!("object sha256 {}", hex::encode(got));
    if got != want {
        fail("the object uploaded through serve differs from the file");
    }
    if !srv.list_uploads(&bucket).is_empty() {
        fail("an upload is still pending on S3");
    }
    let journal_text: String = std::fs::read_dir(&journal_dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    if journal_text.contains(token) || journal_text.contains("X-Amz-Signature") {
        fail("the journal directory holds the token or a presigned URL");
    }
    println!(
        "\ndemo: OK: both interrupted uploads, direct and through serve with no AWS credentials, \
         were resumed and the objects are byte-identical"
    );
}
