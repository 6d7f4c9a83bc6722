//! `s3up put --via` end to end: the built binary uploads through `s3up serve`
//! (started here, in front of Garage or moto) with a token and no AWS
//! variable at all in its environment. Checksum and expiry enforcement are
//! proved on Garage only: moto accepts any presigned PUT (DESIGN §4b).

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support;
use crate::support::companion::Companion;
use crate::support::proxy::{Fault, FaultProxy, Match, Rule, Schedule};
use crate::support::serve::{hashed, Serve};
use crate::support::{assert_exit, assert_object_equals, sha256_b64, Scratch, Server, MIB};

const TOKEN: &str = "via-token-0123456789abcdef";

/// `s3up serve` for `bucket` under prefix `up`, where [`TOKEN`] may write
/// `up/alice/`.
fn start_serve(srv: &Server, endpoint: &str, bucket: &str, extra: &[&str]) -> Serve {
    Serve::on(srv, endpoint, bucket)
        .tokens(&format!("{} alice alice-id\n", hashed(TOKEN)))
        .args(extra)
        .start()
}

/// `s3up` as a client holding only the token: no AWS_* variable at all.
fn client(scratch: &Scratch) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("s3up"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", scratch.dir.path())
        .env("S3UP_JOURNAL_DIR", scratch.journal_dir())
        .env("S3UP_TOKEN", TOKEN)
        .stdin(Stdio::null());
    cmd
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("run s3up")
}

/// `put FILE --via URL [KEY] --json` that must succeed; its summary.
fn put_ok(
    scratch: &Scratch,
    serve: &Serve,
    file: &Path,
    key: Option<&str>,
    extra: &[&str],
) -> serde_json::Value {
    let mut cmd = client(scratch);
    cmd.arg("put")
        .arg(file)
        .args(["--via", &serve.url, "--json"]);
    cmd.args(key).args(extra);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("no JSON summary: {}", support::describe(&out)))
}

/// The SHA-256 (base64) of each `part_size` slice of `file`.
fn part_sums(file: &Path, part_size: u64) -> Vec<String> {
    let bytes = std::fs::read(file).unwrap();
    bytes.chunks(part_size as usize).map(sha256_b64).collect()
}

/// Every file under `dir`, read whole, as text.
fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            out.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    out
}

/// The throttle rule: every part's body at `bytes_per_sec`.
fn throttle(proxy: &FaultProxy, bytes_per_sec: u64) {
    proxy.add_rule(Rule::always(
        Match::UploadPart,
        Fault::Throttle { bytes_per_sec },
    ));
}

on_both_servers!(sizes_through_serve, |srv: &Server| {
    let bucket = srv.new_bucket("via-sizes");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let s = Scratch::new();
    for (name, size) in [
        ("empty", 0),
        ("one", 1),
        ("five", 5 * MIB),
        ("short-last", 2 * 5 * MIB + 1234),
    ] {
        let file = s.file(name, size, size + 7);
        let key = format!("up/alice/{name}");
        let done = put_ok(&s, &serve, &file, Some(&key), &["--part-size", "5MiB"]);
        assert_eq!(done["key"], key.as_str(), "{done}");
        if size > 0 {
            // A multipart upload's summary names the bucket the backend chose.
            assert_eq!(done["bucket"], bucket.as_str(), "{done}");
        }
        assert_object_equals(srv, &bucket, &key, &file);
        if srv.kind == support::Kind::Garage && size > 0 {
            assert!(done["checksum_sha256"].is_string(), "{done}");
        }
    }
    assert!(s.journals().is_empty(), "{:?}", s.journals());
    // Without a KEY the backend chooses one, under the token's prefix.
    let file = s.file("chosen.bin", 6 * MIB, 3);
    let done = put_ok(&s, &serve, &file, None, &[]);
    let key = done["key"].as_str().unwrap();
    assert!(
        key.starts_with("up/alice/") && key.ends_with("chosen.bin"),
        "{done}"
    );
    assert_object_equals(srv, &bucket, key, &file);
});

/// Through `serve`, part URLs are signed ahead of need: each part is
/// announced once hashed, up to `--concurrency` parts before it is sent, and
/// the announced parts are signed in `/batch` requests with their SHA-256s.
/// Every signing request is held 300 ms at a proxy in front of `serve`, and
/// each 5 MiB part takes 2.5 s on the link. Then no part is signed on its
/// own, each is signed once with its own checksum, the batches are fewer
/// than the parts, and past the first two rounds (whose parts must wait:
/// nothing is signed before it is hashed) every part's batch was asked for
/// over a second before its body arrived, where a part signed on the hot
/// path would have its body follow its signing request by 300 ms.
#[test]
fn serve_signs_parts_ahead_in_batches() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-ahead");
    let s3 = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &s3.endpoint(), &bucket, &[]);
    throttle(&s3, 2 * MIB);
    let front = FaultProxy::start(&serve.url);
    front.add_rule(Rule::always(
        Match::Method("GET"),
        Fault::Delay { millis: 300 },
    ));
    let s = Scratch::new();
    let parts = 8u32;
    let concurrency = 2u32;
    let file = s.file("ahead.bin", 7 * 5 * MIB + 777, 31);
    let key = "up/alice/ahead.bin";
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &front.endpoint(),
        key,
        "--part-size",
        "5MiB",
        "--concurrency",
        &concurrency.to_string(),
    ]));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);

    let sums = part_sums(&file, 5 * MIB);
    let (batches, singles) = sign_requests(&front);
    assert!(
        singles.is_empty(),
        "parts signed as they were about to be sent: {singles:?}"
    );
    let mut asked = std::collections::BTreeMap::new();
    for (at, batch) in &batches {
        for (n, sum) in batch {
            assert_eq!(
                sum.as_deref(),
                Some(sums[*n as usize - 1].as_str()),
                "part {n}"
            );
            assert!(asked.insert(*n, *at).is_none(), "part {n} signed twice");
        }
    }
    assert_eq!(
        asked.keys().copied().collect::<Vec<_>>(),
        (1..=parts).collect::<Vec<_>>()
    );
    assert!(
        batches.len() < parts as usize,
        "{} batches for {parts} parts",
        batches.len()
    );
    for put in s3.requests().iter().filter(|r| r.is_upload_part()) {
        let n = put.part_number().unwrap();
        if n > 2 * concurrency {
            let ahead = put.arrived - asked[&n];
            assert!(
                ahead > Duration::from_secs(1),
                "part {n}'s body came {ahead:?} after its URL was asked for"
            );
        }
    }
}

/// `resume` through `serve` when the first look at the backend (`/healthz`,
/// which says whether it signs checksums) fails: nothing is signed ahead
/// without knowing, and every part still goes up with its SHA-256 signed in.
#[test]
fn parts_are_never_signed_without_their_checksum() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-probe");
    let s3 = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &s3.endpoint(), &bucket, &[]);
    s3.add_rule(Rule::always(Match::UploadPart, Fault::internal_error()));
    let front = FaultProxy::start(&serve.url);
    let s = Scratch::new();
    let file = s.file("probe.bin", 3 * 5 * MIB + 5, 43);
    let key = "up/alice/probe.bin";
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &front.endpoint(),
        key,
        "--part-size",
        "5MiB",
        "--retries",
        "0",
    ]));
    assert_exit(&out, 3);
    s3.clear_rules();
    front.add_rule(Rule::new(
        Match::PathEnds("GET", "/healthz"),
        Fault::Status(503, "SlowDown"),
        Schedule::FirstN(1),
    ));
    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
    assert_eq!(front.faults_applied(), 1, "{:?}", front.requests());
    let puts: Vec<_> = s3
        .requests()
        .into_iter()
        .filter(|r| r.is_upload_part())
        .collect();
    let sums = part_sums(&file, 5 * MIB);
    for p in puts.iter().filter(|p| p.fault.is_none()) {
        let n = p.part_number().unwrap();
        assert_eq!(
            p.header("x-amz-checksum-sha256"),
            Some(sums[n as usize - 1].as_str()),
            "part {n} went up without its checksum: {p:?}"
        );
    }
}

/// A batch of signed parts: (part number, the SHA-256 sent for it).
type Batch = Vec<(u32, Option<String>)>;

/// The part-signing requests a proxy in front of the backend saw: the
/// `/batch` requests, and the parts signed on their own
/// (`GET /s3/multipart/{id}/{n}`, made as the part was about to be sent).
fn sign_requests(front: &FaultProxy) -> (Vec<(Instant, Batch)>, Vec<u32>) {
    let mut batches = Vec::new();
    let mut singles = Vec::new();
    for r in front.requests() {
        let segments: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
        if r.method != "GET" || segments.len() != 4 || segments[..2] != ["s3", "multipart"] {
            continue;
        }
        if segments[3] != "batch" {
            singles.push(segments[3].parse().unwrap());
            continue;
        }
        let url = reqwest::Url::parse(&format!("http://x/?{}", r.query)).unwrap();
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let numbers = param("partNumbers").unwrap_or_else(|| panic!("{}", r.query));
        let numbers: Vec<u32> = numbers.split(',').map(|n| n.parse().unwrap()).collect();
        let sums: Vec<Option<String>> = match param("sha256") {
            Some(sums) => sums.split(',').map(|s| Some(s.to_string())).collect(),
            None => vec![None; numbers.len()],
        };
        assert_eq!(sums.len(), numbers.len(), "{}", r.query);
        batches.push((r.arrived, numbers.into_iter().zip(sums).collect()));
    }
    (batches, singles)
}

/// SIGKILL mid-upload, then `resume` with no argument completes. The journal
/// holds neither the token nor a presigned URL; on Garage, ListParts of the
/// open upload shows each part's SHA-256, as signed.
fn kill_then_resume(srv: &Server) {
    let bucket = srv.new_bucket("via-kill");
    let proxy = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    throttle(&proxy, 4 * MIB);
    let s = Scratch::new();
    let file = s.file("big.bin", 40 * MIB, 11);
    let key = "up/alice/big.bin";
    let mut cmd = client(&s);
    cmd.arg("put")
        .arg(&file)
        .args([
            "--via",
            &serve.url,
            key,
            "--part-size",
            "5MiB",
            "--concurrency",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    support::wait_for(
        "two parts in the journal",
        &mut child,
        || serve.log(),
        || s.journalled_parts() >= 2,
    );
    support::sigkill(&mut child);
    proxy.sever();

    let journal = s.only_journal();
    assert_eq!(
        journal["connection"]["via"],
        serve.url.as_str(),
        "{journal}"
    );
    assert_eq!(journal["key"], key);
    let everything = all_text(&s.journal_dir());
    assert!(
        !everything.contains(TOKEN),
        "the token is in the journal dir"
    );
    assert!(
        !everything.to_ascii_lowercase().contains("x-amz-signature"),
        "a presigned URL is in the journal dir"
    );
    if srv.kind == support::Kind::Garage {
        let upload_id = journal["upload_id"].as_str().unwrap();
        assert_eq!(
            srv.object_size(&bucket, key),
            None,
            "completed before the kill: {journal}"
        );
        let sums = part_sums(&file, 5 * MIB);
        let listed = srv.list_parts(&bucket, key, upload_id);
        assert!(!listed.is_empty());
        for p in listed {
            assert_eq!(
                p.checksum_sha256.as_deref(),
                Some(sums[p.number as usize - 1].as_str()),
                "part {}",
                p.number
            );
        }
    }

    proxy.clear_rules();
    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
    assert!(s.journals().is_empty());
}

on_both_servers!(sigkill_then_resume, kill_then_resume);

/// A token the backend refuses: exit 1 within 5 s, one line that names the
/// token, and nothing left behind.
#[test]
fn wrong_token_fails_at_once() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-token");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let s = Scratch::new();
    let file = s.file("f.bin", 6 * MIB, 5);
    let started = Instant::now();
    let out = run(client(&s)
        .env("S3UP_TOKEN", "not-the-token")
        .arg("put")
        .arg(&file)
        .args(["--via", &serve.url, "up/alice/f.bin"]));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains("refused the token") && line.contains("--token-file"),
        "{line}"
    );
    assert!(s.journals().is_empty());

    // --token works, with a warning that it shows in `ps`.
    let out = run(client(&s)
        .env_remove("S3UP_TOKEN")
        .arg("put")
        .arg(&file)
        .args([
            "--via",
            &serve.url,
            "up/alice/f.bin",
            "--token",
            TOKEN,
            "-q",
        ]));
    assert_exit(&out, 0);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning") && err.contains("`ps`"), "{err}");
    assert_object_equals(srv, &bucket, "up/alice/f.bin", &file);

    // No token at all: none is sent, and the backend's 401 is worded as a
    // token wanted, with how to give one (issue 23).
    let out = run(client(&s)
        .env_remove("S3UP_TOKEN")
        .arg("put")
        .arg(&file)
        .args(["--via", &serve.url]));
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains("wants a token")
            && line.contains("--token-file")
            && line.contains("S3UP_TOKEN"),
        "{line}"
    );
}

/// `serve` stopped mid-upload: the parts that need a signature are retried,
/// then the run stops resumable (exit 3); once serve is back, `resume`
/// without the token is told one is wanted, and with it completes.
#[test]
fn serve_stopped_mid_upload_is_resumable() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-down");
    let proxy = FaultProxy::start(&srv.endpoint);
    let mut serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    throttle(&proxy, 8 * MIB);
    let s = Scratch::new();
    let file = s.file("down.bin", 30 * MIB, 13);
    let key = "up/alice/down.bin";
    let mut cmd = client(&s);
    cmd.arg("put")
        .arg(&file)
        .args([
            "--via",
            &serve.url,
            key,
            "--part-size",
            "5MiB",
            "--concurrency",
            "1",
        ])
        // The backend will not come back within the run: stop after 3 s
        // of no answer instead of the default hour.
        .args(["--retries", "2", "--max-offline", "3s"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    support::wait_for(
        "a part in the journal",
        &mut child,
        || serve.log(),
        || {
            s.journals()
                .first()
                .is_some_and(|j| std::fs::read_to_string(j).is_ok_and(|t| t.contains("\"etag\"")))
        },
    );
    serve.stop();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 3);
    let line = support::one_error_line(&out);
    assert!(line.contains("s3up resume"), "{line}");
    assert!(line.contains("--max-offline"), "{line}");

    serve.restart(srv);
    proxy.clear_rules();
    // Without the token, none is sent: serve's 401 stops the run at once,
    // worded as a token wanted, and the journal stays (issue 23).
    let out = run(client(&s).env_remove("S3UP_TOKEN").arg("resume"));
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains("wants a token") && line.contains(&serve.url),
        "{line}"
    );
    assert_eq!(s.journals().len(), 1);

    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
}

/// A `--via` upload whose backend is gone for good: `abort ID` fails (exit
/// 1), keeps the journal and names `--forget`; `abort ID --forget` removes
/// the journal and names the upload it may leave open, which is indeed still
/// open on the store.
#[test]
fn abort_forget_drops_a_journal_whose_backend_is_gone() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-forget");
    let proxy = FaultProxy::start(&srv.endpoint);
    let mut serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    proxy.add_rule(Rule::always(Match::UploadPart, Fault::internal_error()));
    let s = Scratch::new();
    let file = s.file("forget.bin", 6 * MIB, 41);
    let key = "up/alice/forget.bin";
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &serve.url,
        key,
        "--part-size",
        "5MiB",
        "--retries",
        "0",
    ]));
    assert_exit(&out, 3);
    let journal = s.only_journal();
    let id = journal["id"].as_str().unwrap();
    let upload_id = journal["upload_id"].as_str().unwrap();
    serve.stop();

    let out = run(client(&s).args(["abort", id]));
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains(&format!("s3up abort {id} --forget")),
        "{line}"
    );
    assert_eq!(s.journals().len(), 1, "a failed abort removed the journal");

    let out = run(client(&s).args(["abort", id, "--forget"]));
    assert_exit(&out, 0);
    assert!(s.journals().is_empty(), "{:?}", s.journals());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(upload_id) && err.contains("may stay open"),
        "{err}"
    );
    // What the warning says: the upload is still open on the store.
    srv.list_parts(&bucket, key, upload_id);
}

/// `serve --url-expiry 3s` on a slow link (each 5 MiB part takes ~4 s, the
/// whole upload over 20 s): a URL signed ahead that aged past three quarters
/// of its life while its part waited is signed again before use, so a part
/// that outlasts its URL still lands. Two part requests are held 4 s on the way
/// (a queue on the link), so Garage refuses their URLs as too old ("Date is
/// too old"): they are signed again and sent at once. `--retries 0` proves
/// that no attempt was spent on them.
#[test]
fn expired_urls_are_signed_again_for_free() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-expiry");
    let proxy = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &proxy.endpoint(), &bucket, &["--url-expiry", "3s"]);
    for n in [2, 4] {
        proxy.add_rule(Rule::new(
            Match::UploadPartNumber(n),
            Fault::Delay { millis: 4_000 },
            Schedule::FirstN(1),
        ));
    }
    throttle(&proxy, 1300 * 1024);
    let s = Scratch::new();
    let file = s.file("slow.bin", 25 * MIB, 17);
    let key = "up/alice/slow.bin";
    let started = Instant::now();
    let out = run(client(&s)
        .arg("put")
        .arg(&file)
        .args([
            "--via",
            &serve.url,
            key,
            "--part-size",
            "5MiB",
            "--concurrency",
            "1",
        ])
        .args(["--retries", "0"]));
    let took = started.elapsed();
    assert_exit(&out, 0);
    assert!(took > Duration::from_secs(20), "{took:?}");
    assert_object_equals(srv, &bucket, key, &file);

    // Parts 2 and 4 went twice: first with the URL that aged in the queue,
    // then with a new one (another X-Amz-Date and signature).
    let puts: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.is_upload_part())
        .collect();
    let param = |q: &str, name: &str| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .unwrap_or("")
            .to_string()
    };
    for n in 1..=5u32 {
        let tries: Vec<_> = puts.iter().filter(|r| r.part_number() == Some(n)).collect();
        let want = if n == 2 || n == 4 { 2 } else { 1 };
        assert_eq!(tries.len(), want, "part {n}: {tries:?}");
        if want == 2 {
            assert!(tries[0]
                .fault
                .as_deref()
                .is_some_and(|f| f.contains("Delay")));
            assert_eq!(param(&tries[0].query, "X-Amz-Expires"), "3");
            assert_ne!(
                param(&tries[0].query, "X-Amz-Signature"),
                param(&tries[1].query, "X-Amz-Signature"),
                "part {n} was sent again with the same URL"
            );
        }
    }
}

/// The backend says an open upload is gone (404): a backend cannot list
/// uploads, so that is never confirmed, and `resume` keeps the journal,
/// naming both `resume` and `abort`. `list-pending` shows the backend; a
/// refused token stops `resume` at once (exit 1) and keeps the journal; and
/// `abort ID` then cancels the upload and forgets it.
#[test]
fn a_404_from_the_backend_keeps_the_journal() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-gone");
    let proxy = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    throttle(&proxy, 4 * MIB);
    let s = Scratch::new();
    let file = s.file("gone.bin", 30 * MIB, 19);
    let key = "up/alice/gone.bin";
    let mut child = client(&s)
        .arg("put")
        .arg(&file)
        .args([
            "--via",
            &serve.url,
            key,
            "--part-size",
            "5MiB",
            "--concurrency",
            "1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    support::wait_for(
        "a journal",
        &mut child,
        || serve.log(),
        || !s.journals().is_empty(),
    );
    support::sigkill(&mut child);
    proxy.sever();
    let journal = s.only_journal();
    let id = journal["id"].as_str().unwrap();

    let out = run(client(&s).arg("list-pending"));
    assert_exit(&out, 0);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains(&serve.url) && listed.contains(id),
        "{listed}"
    );

    // A token the backend refuses: exit 1 at once, the journal kept.
    let started = Instant::now();
    let out = run(client(&s).env("S3UP_TOKEN", "wrong").arg("resume"));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains("refused the token") && line.contains(id),
        "{line}"
    );
    assert_eq!(s.journals().len(), 1);

    // Another client aborts it behind our back.
    let upload_id = journal["upload_id"].as_str().unwrap();
    let aborted = reqwest::blocking::Client::new()
        .delete(format!("{}/s3/multipart/{upload_id}", serve.url))
        .query(&[("key", key)])
        .bearer_auth(TOKEN)
        .send()
        .unwrap();
    assert_eq!(aborted.status().as_u16(), 200);

    proxy.clear_rules();
    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 3);
    let line = support::one_error_line(&out);
    assert!(line.contains(&format!("s3up abort {id}")), "{line}");
    assert_eq!(s.journals().len(), 1, "the journal was removed on one 404");

    let out = run(client(&s).args(["abort", id]));
    assert_exit(&out, 0);
    assert!(s.journals().is_empty());
}

/// Uppy Companion as the backend, on Garage: a multi-part put whose object
/// equals the file. Companion has no checksum extension, so each PUT carries
/// Content-MD5: a part whose body the proxy alters in flight is refused by
/// Garage (BadDigest) and sent again.
#[test]
fn companion_on_garage() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-companion");
    let proxy = FaultProxy::start(&srv.endpoint);
    let companion = Companion::start(srv, &proxy.endpoint(), &bucket);
    let front = FaultProxy::start(&companion.url);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(2),
        Fault::CorruptBody,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let file = s.file("comp.bin", 2 * 5 * MIB + 4321, 23);
    let mut cmd = client(&s);
    cmd.arg("put")
        .arg(&file)
        .args(["--via", &front.endpoint(), "--json", "--part-size", "5MiB"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let key = done["key"].as_str().unwrap();
    assert!(key.ends_with("comp.bin"), "{done}");
    assert_object_equals(srv, &bucket, key, &file);

    let puts: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.is_upload_part())
        .collect();
    for p in &puts {
        assert!(p.header("content-md5").is_some(), "{p:?}");
    }
    let part2: Vec<_> = puts.iter().filter(|r| r.part_number() == Some(2)).collect();
    assert_eq!(part2.len(), 2, "{part2:?}");
    assert!(
        part2[0].fault.as_deref() == Some("CorruptBody"),
        "{part2:?}"
    );
    assert!(s.journals().is_empty());
    // Companion's URLs were asked for ahead, in `/batch` requests, without
    // checksums (Companion does not sign them); part 2's resend was signed
    // anew (each URL is used once).
    let (batches, singles) = sign_requests(&front);
    assert_eq!(singles, vec![2]);
    let mut signed: Vec<u32> = Vec::new();
    for (n, sum) in batches.into_iter().flat_map(|(_, batch)| batch) {
        assert!(sum.is_none(), "part {n}: a checksum was sent to Companion");
        signed.push(n);
    }
    signed.sort_unstable();
    assert_eq!(signed, vec![1, 2, 3], "each part signed ahead, once");
}

/// Through `serve`, Complete's answer lost on its way back (a proxy in front
/// of `serve` lets the work happen, then drops the answer): the retried
/// Complete finds no upload, and s3up asks `serve` about the object
/// (`GET /s3/object`), whose composite SHA-256 is the parts': recognised as
/// this upload's, exit 0, no journal left.
#[test]
fn serve_lost_complete_answer_is_recognised() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-lost-complete");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let front = FaultProxy::start(&serve.url);
    front.add_rule(Rule::new(
        Match::PathEnds("POST", "/complete"),
        Fault::SwallowAnswer,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let file = s.file("landed.bin", 2 * 5 * MIB + 99, 37);
    let key = "up/alice/landed.bin";
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &front.endpoint(),
        key,
        "--part-size",
        "5MiB",
    ]));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
    assert!(s.journals().is_empty(), "{:?}", s.journals());
    let requests = front.requests();
    let completes = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/complete"))
        .count();
    assert_eq!(completes, 2, "{requests:?}");
    assert_eq!(
        requests.iter().filter(|r| r.fault.is_some()).count(),
        1,
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.path == "/s3/object"),
        "the object was not looked at: {requests:?}"
    );
}

/// Uppy Companion as the backend, and Complete's answer lost on its way back
/// (a proxy in front of Companion lets the work happen, then drops the
/// answer). Companion has no object-status route, so s3up cannot tell that
/// the object is this upload's: the put keeps the journal (exit 3) and says
/// the upload may have completed. `resume` cannot tell either, and says that
/// `abort ID` forgets the upload; `abort` does, and leaves the object alone.
#[test]
fn companion_lost_complete_answer_keeps_the_journal() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-comp-lost");
    let companion = Companion::start(srv, &srv.endpoint, &bucket);
    let front = FaultProxy::start(&companion.url);
    front.add_rule(Rule::new(
        Match::PathEnds("POST", "/complete"),
        Fault::SwallowAnswer,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let file = s.file("lost.bin", 2 * 5 * MIB + 777, 31);
    let out = run(client(&s).arg("put").arg(&file).args([
        "--via",
        &front.endpoint(),
        "--part-size",
        "5MiB",
    ]));
    let swallowed = front
        .requests()
        .into_iter()
        .filter(|r| r.fault.as_deref() == Some("SwallowAnswer"))
        .count();
    assert_eq!(swallowed, 1, "{:?}", front.requests());
    assert_exit(&out, 3);
    let journal = s.only_journal();
    let id = journal["id"].as_str().unwrap();
    let key = journal["key"].as_str().unwrap();
    // The Complete did land.
    assert_object_equals(srv, &bucket, key, &file);
    let line = support::one_error_line(&out);
    assert!(line.contains("may have completed"), "{line}");
    assert!(line.contains(&format!("s3up abort {id}")), "{line}");
    assert!(!line.contains("s3up resume"), "{line}");

    front.clear_rules();
    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 3);
    let line = support::one_error_line(&out);
    assert!(line.contains("does not know the upload"), "{line}");
    assert!(line.contains("may have completed"), "{line}");
    assert!(line.contains(&format!("s3up abort {id}")), "{line}");
    assert!(!line.contains("s3up resume"), "{line}");
    assert_eq!(s.journals().len(), 1, "the journal was removed unconfirmed");

    let out = run(client(&s).args(["abort", id]));
    assert_exit(&out, 0);
    assert!(s.journals().is_empty(), "{:?}", s.journals());
    assert_object_equals(srv, &bucket, key, &file);
}

/// The backend answering 429 and 503 (here, a proxy in front of `serve`):
/// each call is retried with backoff, and the upload completes.
#[test]
fn backend_429_and_503_are_retried() {
    let srv = support::server(support::Kind::Moto);
    let bucket = srv.new_bucket("via-busy");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let front = FaultProxy::start(&serve.url);
    for (method, status, code) in [("POST", 429, "TooManyRequests"), ("GET", 503, "SlowDown")] {
        front.add_rule(Rule::new(
            Match::Method(method),
            Fault::Status(status, code),
            Schedule::EveryNth(2),
        ));
    }
    let s = Scratch::new();
    let file = s.file("busy.bin", 12 * MIB, 29);
    let key = "up/alice/busy.bin";
    let mut cmd = client(&s);
    cmd.arg("put")
        .arg(&file)
        .args(["--via", &front.endpoint(), key, "--part-size", "5MiB"]);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
    assert!(front.faults_applied() >= 3, "{}", front.faults_applied());
}

/// `--checksum-algorithm` through `s3up serve` on Garage (which takes all
/// five algorithms and both types): every choice round-trips through a
/// multi-part put, and the object carries the expected checksum.
#[test]
fn serve_round_trips_every_checksum_choice() {
    use crate::checksums::{assert_checksum, flags, CHOICES};
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-sums");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let s = Scratch::new();
    let file = s.file("c.bin", 13 * MIB, 61);
    for (i, choice) in CHOICES.into_iter().enumerate() {
        let key = format!("up/alice/c{i}.bin");
        let mut args = flags(choice);
        args.extend(["--part-size", "5MiB"]);
        put_ok(&s, &serve, &file, Some(&key), &args);
        assert_object_equals(srv, &bucket, &key, &file);
        assert_checksum(srv, &bucket, &key, choice, &file);
    }
    assert!(s.journals().is_empty());
}

/// A CRC32C put through `serve`, killed after two parts, resumes (each part
/// signed with its CRC32C, the journal holding them for Complete) into the
/// file's bytes and the file's composite CRC32C.
#[test]
fn serve_resumes_a_killed_crc32c_upload() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("via-crc");
    let proxy = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    throttle(&proxy, 2 * MIB);
    let s = Scratch::new();
    let file = s.file("crc.bin", 60 * MIB, 62);
    let key = "up/alice/crc.bin";
    let mut cmd = client(&s);
    cmd.arg("put")
        .arg(&file)
        .args(["--via", &serve.url, key, "--part-size", "5MiB"])
        .args(["--concurrency", "2", "--checksum-algorithm", "CRC32C"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().unwrap();
    support::wait_for(
        "two parts in the journal",
        &mut child,
        || serve.log(),
        || s.journalled_parts() >= 2,
    );
    support::sigkill(&mut child);
    proxy.sever();
    let journal = s.only_journal();
    assert_eq!(journal["object"]["checksum"]["algorithm"], "CRC32C");
    assert_eq!(
        srv.object_size(&bucket, key),
        None,
        "completed before the kill"
    );

    proxy.clear_rules();
    let out = run(client(&s).arg("resume"));
    assert_exit(&out, 0);
    assert_object_equals(srv, &bucket, key, &file);
    crate::checksums::assert_checksum(srv, &bucket, key, ("CRC32C", None), &file);
    assert!(s.journals().is_empty());
}

/// An algorithm the bucket's store is known to refuse (moto stores a SHA-256
/// as a CRC64NVME): `serve` answers the create 400 with JSON, and the client
/// says so in one line; nothing is created.
#[test]
fn serve_refuses_an_algorithm_its_store_refuses() {
    let srv = support::server(support::Kind::Moto);
    let bucket = srv.new_bucket("via-nosum");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let asked = reqwest::blocking::Client::new()
        .post(serve.url("/s3/multipart"))
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({
            "filename": "n.bin", "type": "application/octet-stream",
            "key": "up/alice/n.bin", "checksumAlgorithm": "CRC64NVME"
        }))
        .send()
        .unwrap();
    assert_eq!(asked.status().as_u16(), 400);
    let body: serde_json::Value = asked.json().unwrap();
    assert_eq!(body["code"], "unsupported_checksum", "{body}");
    assert!(
        body["error"].as_str().unwrap_or("").contains("CRC64NVME"),
        "{body}"
    );

    let s = Scratch::new();
    let file = s.file("n.bin", 6 * MIB, 63);
    let mut cmd = client(&s);
    cmd.arg("put").arg(&file).args([
        "--via",
        &serve.url,
        "up/alice/n.bin",
        "--checksum-algorithm",
        "CRC64NVME",
    ]);
    let out = run(&mut cmd);
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(line.contains("does not take CRC64NVME"), "{line}");
    assert!(s.journals().is_empty());
    assert_eq!(srv.object_size(&bucket, "up/alice/n.bin"), None);
}

/// A stock Uppy Companion signs no checksum: any algorithm but SHA-256 is
/// refused before anything is created, in one line naming why.
#[test]
fn companion_refuses_other_checksums_before_creating() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("comp-sums");
    let companion = Companion::start(srv, &srv.endpoint, &bucket);
    let s = Scratch::new();
    let file = s.file("u.bin", 6 * MIB, 64);
    let mut cmd = client(&s);
    cmd.env_remove("S3UP_TOKEN").arg("put").arg(&file).args([
        "--via",
        &companion.url,
        "u.bin",
        "--checksum-algorithm",
        "CRC32C",
    ]);
    let out = run(&mut cmd);
    assert_exit(&out, 1);
    let line = support::one_error_line(&out);
    assert!(
        line.contains("the upload backend does not take CRC32C"),
        "{line}"
    );
    assert!(line.contains("Uppy Companion"), "{line}");
    assert!(line.contains("Nothing was created"), "{line}");
    assert!(s.journals().is_empty());
    assert!(
        srv.list_uploads(&bucket).is_empty(),
        "an upload was created: {}",
        companion.log_text()
    );
}
