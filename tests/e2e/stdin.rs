//! Standard input end to end (issue 20): `put - s3://B/KEY` from a pipe, at
//! the sizes that matter to the part schedule; a SIGKILL mid-stream, then
//! the same stream again; a different stream refused; `resume ID` with the
//! stream piped in; a stream through `s3up serve`. On Garage and moto.
//!
//! The schedule starts small here (`S3UP_STREAM_SCHEDULE=5MiB,2`: 5 MiB
//! parts, doubling every 2 parts), so a few tens of MiB cross two steps.

use std::io::Write;
use std::process::{Child, Output, Stdio};

use crate::support;
use crate::support::companion::Companion;
use crate::support::proxy::{Fault, FaultProxy, Match, Rule};
use crate::support::serve::{hashed, Serve};
use crate::support::{assert_exit, Scratch, Server, MIB};

/// 5 MiB, 5 MiB, 10 MiB, 10 MiB, 20 MiB, 20 MiB, …
const SCHEDULE: &str = "5MiB,2";

/// Starts `s3up ARGS` with `data` written into its standard input (a pipe)
/// from a thread, which gives up quietly if s3up stops reading.
fn spawn_piped(
    s: &Scratch,
    srv: &Server,
    endpoint: &str,
    args: &[&str],
    data: Vec<u8>,
    stderr: Stdio,
) -> Child {
    let mut child = s
        .s3up_std(srv, endpoint)
        .env("S3UP_STREAM_SCHEDULE", SCHEDULE)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    child
}

/// `s3up ARGS` with `data` piped in, to the end.
fn piped(s: &Scratch, srv: &Server, endpoint: &str, args: &[&str], data: &[u8]) -> Output {
    spawn_piped(s, srv, endpoint, args, data.to_vec(), Stdio::piped())
        .wait_with_output()
        .unwrap()
}

/// The one `s3up: error:` line of stderr (notes of the resume come before it).
fn error_line(out: &Output) -> String {
    let err = support::text(&out.stderr);
    let errors: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("s3up: error: "))
        .collect();
    assert_eq!(errors.len(), 1, "expected one error line: {err}");
    errors[0].to_string()
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON on stdout: {} / {}",
            support::text(&out.stdout),
            support::text(&out.stderr)
        )
    })
}

fn assert_object_is(srv: &Server, bucket: &str, key: &str, data: &[u8]) {
    let got = srv
        .object_sha256(bucket, key)
        .unwrap_or_else(|| panic!("s3://{bucket}/{key} does not exist"));
    assert_eq!(
        hex::encode(got),
        hex::encode(sha(data)),
        "s3://{bucket}/{key} differs from the stream of {} bytes",
        data.len()
    );
}

fn sha(data: &[u8]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).into()
}

on_both_servers!(streams_of_every_size_land_whole, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("stdin");
    // (size, parts): empty, one byte, one part less a byte (one PutObject),
    // exactly two parts, and past two steps of the schedule (5+5+10+10 MiB,
    // then a part of the 20 MiB step).
    let cases = [
        (0, 1),
        (1, 1),
        (5 * MIB - 1, 1),
        (10 * MIB, 2),
        (30 * MIB + 12_345, 5),
    ];
    for (i, (size, parts)) in cases.into_iter().enumerate() {
        let data = support::random_bytes(size, 100 + i as u64);
        let key = format!("s/{size}.bin");
        let url = format!("s3://{bucket}/{key}");
        let out = piped(&s, srv, &srv.endpoint, &["put", "--json", "-", &url], &data);
        assert_exit(&out, 0);
        let record = json(&out);
        assert_eq!(record["size"], size, "{record}");
        assert_eq!(record["parts"], parts, "{record}");
        assert_object_is(srv, &bucket, &key, &data);
        assert_eq!(srv.object_size(&bucket, &key), Some(size));
    }
    assert!(srv.list_uploads(&bucket).is_empty(), "nothing pending");
    assert!(s.journals().is_empty(), "{:?}", s.journals());

    // A destination without a key is refused, naming why.
    let out = piped(
        &s,
        srv,
        &srv.endpoint,
        &["put", "-", &format!("s3://{bucket}/dir/")],
        b"x",
    );
    assert_exit(&out, 2);
    let line = support::one_error_line(&out);
    assert!(line.contains("no file name"), "{line}");
});

/// A proxy in front of `srv` that slows parts down, so that a kill finds
/// some parts sent and others not.
fn throttled(srv: &Server) -> FaultProxy {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::always(
        Match::UploadPart,
        Fault::Throttle {
            bytes_per_sec: 4 * MIB,
        },
    ));
    proxy
}

/// Starts `s3up ARGS` (a `put -`, straight to S3 through `proxy`, or through
/// a backend whose part URLs lead to it) with `data` piped in, and SIGKILLs
/// it once two parts are journalled. Clears the proxy's faults; returns the
/// journal at the kill.
fn put_and_kill(
    srv: &Server,
    s: &Scratch,
    proxy: &FaultProxy,
    args: &[&str],
    data: &[u8],
) -> serde_json::Value {
    let log = std::fs::File::create(s.dir.path().join("child.err")).unwrap();
    let mut child = spawn_piped(s, srv, &proxy.endpoint(), args, data.to_vec(), log.into());
    support::wait_for(
        "two parts journalled",
        &mut child,
        || support::child_stderr(s),
        || {
            s.journals().len() == 1
                && s.only_journal()["parts"]
                    .as_array()
                    .is_some_and(|p| p.len() >= 2)
        },
    );
    support::sigkill(&mut child);
    proxy.sever();
    let at_kill = s.only_journal();
    proxy.clear_rules();
    at_kill
}

/// Bytes of the parts S3 holds for `bucket`'s open uploads.
fn held(srv: &Server, bucket: &str) -> u64 {
    srv.list_uploads(bucket)
        .iter()
        .flat_map(|(key, id)| srv.list_parts(bucket, key, id))
        .map(|p| p.size as u64)
        .sum()
}

fn sent_in_parts(proxy: &FaultProxy, from: usize) -> u64 {
    proxy.requests()[from..]
        .iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.body_len)
        .sum()
}

on_both_servers!(
    a_killed_stream_piped_again_skips_what_s3_holds,
    |srv: &Server| {
        let s = Scratch::new();
        let bucket = srv.new_bucket("stdinkill");
        let data = support::random_bytes(50 * MIB + 77, 7);
        let url = format!("s3://{bucket}/backup.tar");
        let proxy = throttled(srv);
        let args = ["put", "--concurrency", "2", "-", &url];
        kill_and_pipe_again(srv, &s, &bucket, &proxy, &args, &data);
    }
);

/// SIGKILLs `s3up ARGS` (a `put -` of `data` through `proxy`) once two parts
/// are journalled, then runs the same command with the same stream: exit 0,
/// the object (its key read from the journal) equals the stream, and the
/// parts sent the second time are at most what S3 did not hold plus the
/// parts in flight at the kill.
fn kill_and_pipe_again(
    srv: &Server,
    s: &Scratch,
    bucket: &str,
    proxy: &FaultProxy,
    args: &[&str],
    data: &[u8],
) {
    let at_kill = put_and_kill(srv, s, proxy, args, data);
    assert!(at_kill["stream"].is_object(), "{at_kill}");
    let key = at_kill["key"].as_str().unwrap().to_string();
    let held_before = held(srv, bucket);
    assert!(held_before >= 10 * MIB, "S3 holds {held_before} bytes");

    // The same stream again: the parts S3 holds are read, checked, skipped.
    let before = proxy.requests().len();
    let out = piped(s, srv, &proxy.endpoint(), args, data);
    assert_exit(&out, 0);
    let stderr = support::text(&out.stderr);
    assert!(stderr.contains("resum"), "{stderr}");
    assert_object_is(srv, bucket, &key, data);
    let sent = sent_in_parts(proxy, before);
    // At most what S3 did not hold, plus the parts in flight at the kill
    // (2 at once, of at most 20 MiB at this point of the schedule).
    let bound = data.len() as u64 - held_before + 2 * 20 * MIB;
    assert!(
        sent <= bound,
        "sent {sent} > stream {} - held {held_before} + in flight",
        data.len()
    );
    assert!(sent < data.len() as u64, "sent {sent}: nothing was skipped");
    assert!(srv.list_uploads(bucket).is_empty(), "nothing pending");
    assert!(s.journals().is_empty(), "{:?}", s.journals());
    println!(
        "killed stream: S3 held {held_before} of {} bytes; the same stream sent {sent} (bound {bound})",
        data.len()
    );
}

on_both_servers!(
    another_stream_is_refused_then_resume_id_takes_the_same,
    |srv: &Server| {
        let s = Scratch::new();
        let bucket = srv.new_bucket("stdindiff");
        let data = support::random_bytes(50 * MIB + 5, 8);
        let url = format!("s3://{bucket}/dump.sql");
        let proxy = throttled(srv);
        let args = ["put", "--concurrency", "2", "-", &url];
        let at_kill = put_and_kill(srv, &s, &proxy, &args, &data);
        let id = at_kill["id"].as_str().unwrap().to_string();

        // Another stream: it differs within the first part the journal holds
        // (parts finish out of order, so that may not be part 1). Parts before
        // it that the journal does not hold are sent from this stream, which is
        // harmless: they are its bytes, and the run stops at the first check.
        let first = at_kill["parts"][0]["number"].as_u64().unwrap();
        // 5, 5, 10, 10, 20 MiB: where each part begins.
        let offsets = [0, 5, 10, 20, 30, 50];
        let mut other = data.clone();
        other[(offsets[first as usize - 1] * MIB + 100) as usize] ^= 0xff;
        let out = piped(&s, srv, &proxy.endpoint(), &["put", "-", &url], &other);
        assert_exit(&out, 1);
        let line = error_line(&out);
        assert!(
            line.contains(&format!("the stream differs from part {first}")),
            "{line}"
        );
        assert!(line.contains(&format!("resume {id}")), "{line}");
        assert_eq!(s.journals().len(), 1, "the journal is kept");
        assert_eq!(srv.list_uploads(&bucket).len(), 1, "the upload is kept");
        assert_eq!(srv.object_size(&bucket, "dump.sql"), None, "no object");

        // A stream that ends early differs where it ends.
        let short = &data[..5 * MIB as usize];
        let out = piped(&s, srv, &proxy.endpoint(), &["resume", &id], short);
        assert_exit(&out, 1);
        let line = error_line(&out);
        assert!(line.contains("the stream differs from part 2"), "{line}");
        assert_eq!(srv.object_size(&bucket, "dump.sql"), None, "no object");

        // `resume ID` with the same stream on standard input finishes it.
        let out = piped(&s, srv, &proxy.endpoint(), &["resume", &id], &data);
        assert_exit(&out, 0);
        assert_object_is(srv, &bucket, "dump.sql", &data);
        assert!(s.journals().is_empty(), "{:?}", s.journals());
    }
);

on_both_servers!(a_stream_goes_through_serve, |srv: &Server| {
    const TOKEN: &str = "stdin-token-0123456789abcdef";
    let bucket = srv.new_bucket("stdinvia");
    let serve = Serve::on(srv, &srv.endpoint, &bucket)
        .tokens(&format!("{} alice alice-id\n", hashed(TOKEN)))
        .start();
    let s = Scratch::new();
    for (size, key) in [
        (0, "up/alice/e.bin"),
        (1000, "up/alice/s.bin"),
        (21 * MIB + 3, "up/alice/l.bin"),
    ] {
        let data = support::random_bytes(size, size + 1);
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.dir.path())
            .env("S3UP_JOURNAL_DIR", s.journal_dir())
            .env("S3UP_TOKEN", TOKEN)
            .env("S3UP_STREAM_SCHEDULE", SCHEDULE)
            .args(["put", "--via", &serve.url, "-", key])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
            data
        });
        let out = child.wait_with_output().unwrap();
        let data = writer.join().unwrap();
        assert_exit(&out, 0);
        assert_object_is(srv, &bucket, key, &data);
    }
    assert!(s.journals().is_empty(), "{:?}", s.journals());
});

/// A stream through stock Uppy Companion (DESIGN §4b), on Garage as via.rs
/// tests it: no token, no checksum extension (each part carries its
/// Content-MD5 instead), and Companion chooses the key (`{uuid}-{name}`).
/// Streams of 0 B, under a part and of several parts land whole; then a
/// stream killed mid-way and piped
/// again through Companion resumes the same upload (found by the key asked
/// for), skipping what S3 holds.
#[test]
fn a_stream_goes_through_companion() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("stdincomp");
    let proxy = FaultProxy::start(&srv.endpoint);
    let companion = Companion::start(srv, &proxy.endpoint(), &bucket);
    let s = Scratch::new();

    // (size, parts): empty (Companion's single upload, a presigned POST),
    // shorter than a part (one part: through a backend only an empty stream
    // goes up in one request, as for a file), and past one step.
    for (size, parts) in [(0, 1), (1000, 1), (21 * MIB + 3, 4)] {
        let data = support::random_bytes(size, 41 + size);
        let name = format!("{size}.bin");
        let args = ["put", "--json", "--via", &companion.url, "-", &name];
        let out = piped(&s, srv, &proxy.endpoint(), &args, &data);
        assert_exit(&out, 0);
        let record = json(&out);
        assert_eq!(record["parts"], parts, "{record}");
        // Companion chose the key, `{uuid}-{name}`: the only one ending so.
        let keys: Vec<String> = srv
            .list_keys(&bucket, "")
            .into_iter()
            .filter(|k| k.ends_with(&format!("-{name}")))
            .collect();
        assert_eq!(keys.len(), 1, "{keys:?} / {record}");
        assert_object_is(srv, &bucket, &keys[0], &data);
    }
    let puts: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.is_upload_part())
        .collect();
    assert_eq!(puts.len(), 5, "1 + 4 parts: {puts:?}");
    for p in &puts {
        assert!(p.header("content-md5").is_some(), "{p:?}");
    }
    assert!(s.journals().is_empty(), "{:?}", s.journals());

    let data = support::random_bytes(50 * MIB + 77, 42);
    proxy.add_rule(Rule::always(
        Match::UploadPart,
        Fault::Throttle {
            bytes_per_sec: 4 * MIB,
        },
    ));
    let args = [
        "put",
        "--concurrency",
        "2",
        "--via",
        &companion.url,
        "-",
        "in/killed.tar",
    ];
    kill_and_pipe_again(srv, &s, &bucket, &proxy, &args, &data);
}
