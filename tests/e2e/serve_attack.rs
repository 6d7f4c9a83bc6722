//! `s3up serve` under attack, on loopback (issue 21): slow bodies, partial
//! headers, floods of silent connections, answers nobody reads, greedy and
//! guessing tokens, JWTs short of the RFCs, and hyper's own error answers.
//! Each test is scaled by small limits on the command line so that it runs
//! in seconds, and prints what it measured (`--nocapture` shows it).
//! The metrics an upload produces are checked here too.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support;
use crate::support::serve::{hashed, Serve};
use crate::support::{sha256_b64, Server};
use reqwest::blocking::{Client, Response};
use serde_json::{json, Value};

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789";
const JWT_SECRET: &str = "jwt-secret-0123456789abcdef0123456789";

fn start(srv: &Server, bucket: &str, extra: &[&str]) -> Serve {
    Serve::on(srv, &srv.endpoint, bucket)
        .tokens(&format!(
            "{} alice alice-id\n{} bob/ bob-id\n",
            hashed(ALICE),
            hashed(BOB)
        ))
        .jwt_secret(&format!("{JWT_SECRET}\n"))
        .args(extra)
        .start()
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn addr(serve: &Serve) -> String {
    serve.url.trim_start_matches("http://").to_string()
}

fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

/// A `/proc/PID/status` field in KiB (VmRSS, VmHWM).
fn status_kib(pid: u32, field: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// Descriptors `pid` has open: its connections, mostly.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}

/// Whether the server closed `s`: reads what is there, and tells whether
/// the end came (EOF or reset) within `wait`.
fn closed_by_server(mut s: &TcpStream, wait: Duration) -> bool {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = [0u8; 64 << 10];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

/// What the server has answered on `s` so far (up to `wait`).
fn answer_on(mut s: &TcpStream, wait: Duration) -> String {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut buf = vec![0u8; 16 << 10];
    match s.read(&mut buf) {
        Ok(n) => String::from_utf8_lossy(&buf[..n]).into_owned(),
        Err(_) => String::new(),
    }
}

/// A request that must answer 200 in under a second, and how long it took.
fn quick_200(r: reqwest::blocking::RequestBuilder, what: &str) -> Duration {
    let started = Instant::now();
    let r = r.send().unwrap();
    let took = started.elapsed();
    let (status, v) = json_of(r);
    assert_eq!(status, 200, "{what}: {v}");
    assert!(took < Duration::from_secs(1), "{what} took {took:?}");
    took
}

/// Finding 1: 256 connections of token A each send a create's headers and
/// one byte of its body. Before, they held every `--max-concurrent` slot
/// (256) until the request timeout, and B and `/healthz` got 503. Now A
/// holds at most `--max-concurrent-per-caller` of its own, the rest are
/// 429 at once, and slow bodies are 408 at `--body-timeout`.
#[test]
fn slow_bodies_from_one_token_shut_out_no_one() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-slow-body");
    // No rates here: the per-caller count of requests in flight is on trial.
    let serve = start(
        srv,
        &bucket,
        &[
            "--body-timeout",
            "4",
            "--rate-limit",
            "0",
            "--create-rate-limit",
            "0",
        ],
    );
    let at = addr(&serve);
    let head = format!(
        "POST /s3/multipart HTTP/1.1\r\nHost: {at}\r\nAuthorization: Bearer {ALICE}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"
    );
    let started = Instant::now();
    let mut slow: Vec<TcpStream> = (0..256)
        .map(|_| {
            let mut s = TcpStream::connect(&at).unwrap();
            s.write_all(head.as_bytes()).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let http = client();
    let healthz = quick_200(http.get(serve.url("/healthz")), "/healthz");
    let whoami = quick_200(
        http.get(serve.url("/s3/whoami")).bearer_auth(BOB),
        "bob's whoami",
    );
    let create = quick_200(
        http.post(serve.url("/s3/multipart"))
            .bearer_auth(BOB)
            .json(&json!({"filename": "b.bin"})),
        "bob's create",
    );
    let page = quick_200(http.get(serve.url("/openapi.json")), "/openapi.json");
    // A's own connections beyond its share were refused at once.
    let refused = slow
        .iter()
        .filter(|s| answer_on(s, Duration::from_millis(20)).starts_with("HTTP/1.1 429"))
        .count();
    eprintln!(
        "256 slow bodies from alice: bob's whoami {whoami:?}, create {create:?}, /healthz {healthz:?}, \
         /openapi.json {page:?}; {refused} of alice's refused 429 at once"
    );
    assert_eq!(
        refused,
        256 - 32,
        "the default --max-concurrent-per-caller is 32"
    );
    // The 32 that were let in are cut off at the body timeout, 408 in JSON.
    let timed_out = slow
        .iter_mut()
        .map(|s| answer_on(s, Duration::from_secs(6)))
        .filter(|a| a.starts_with("HTTP/1.1 408") && a.contains("body_timeout"))
        .count();
    eprintln!(
        "{timed_out} slow bodies answered 408 body_timeout after {:?}",
        started.elapsed()
    );
    assert_eq!(timed_out, 32);
}

/// Finding 2: 2,000 connections that send part of a header (16 KiB each)
/// and stop. Before, they stayed open for good (no header timeout under
/// axum::serve). Now each is closed at `--header-timeout`, a real request
/// answers meanwhile, and RSS stays under 100 MB.
#[test]
fn partial_headers_are_closed_at_the_header_timeout() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-headers");
    let serve = start(srv, &bucket, &["--header-timeout", "3"]);
    let at = addr(&serve);
    let rss_before = status_kib(serve.pid(), "VmRSS");
    let partial = format!(
        "GET /healthz HTTP/1.1\r\nHost: {at}\r\nX-Pad: {}",
        "a".repeat(16 << 10)
    );
    let started = Instant::now();
    let mut held: Vec<TcpStream> = (0..2000)
        .map(|_| {
            let mut s = TcpStream::connect(&at).unwrap();
            s.write_all(partial.as_bytes()).unwrap();
            s
        })
        .collect();
    let opened = started.elapsed();
    let http = client();
    let healthz = quick_200(http.get(serve.url("/healthz")), "/healthz");
    let whoami = quick_200(
        http.get(serve.url("/s3/whoami")).bearer_auth(BOB),
        "bob's whoami",
    );
    let rss_held = status_kib(serve.pid(), "VmRSS");
    // The last was opened `opened` after the first; each has 3 s.
    let deadline = started + Duration::from_secs(3) + opened + Duration::from_millis(1500);
    let mut open = 0;
    for s in held.iter_mut() {
        let left = deadline.saturating_duration_since(Instant::now());
        if !closed_by_server(s, left.max(Duration::from_millis(1))) {
            open += 1;
        }
    }
    let peak = status_kib(serve.pid(), "VmHWM");
    eprintln!(
        "2000 partial headers opened in {opened:?}: /healthz {healthz:?}, whoami {whoami:?} meanwhile; \
         {open} still open at the header timeout + {:?}; RSS {} MiB before, {} MiB held, peak {} MiB",
        opened + Duration::from_millis(1500),
        rss_before / 1024,
        rss_held / 1024,
        peak / 1024
    );
    assert_eq!(open, 0, "connections outlived the header timeout");
    assert!(peak < 100 * 1024, "peak RSS {} MiB", peak / 1024);
}

/// Finding 2, the descriptors: 10,000 silent connections against
/// `--max-connections 50`, with the process held to 1,024 open files.
/// Before, accept failed ("Too many open files") and real requests timed
/// out. Now the 51st and later are answered 503 and closed at once; no
/// accept error is logged, and a real request succeeds once the silent ones
/// reach the header timeout.
#[test]
fn silent_connections_past_the_cap_are_refused_without_accept_errors() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-silent");
    let serve = start(
        srv,
        &bucket,
        &["--max-connections", "50", "--header-timeout", "2"],
    );
    let pid = serve.pid().to_string();
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &pid, "--nofile=1024:1024"])
        .status()
        .unwrap();
    assert!(limited.success());
    let at = addr(&serve);
    let started = Instant::now();
    let mut silent = Vec::with_capacity(10_000);
    let mut failed = 0;
    for _ in 0..10_000 {
        match TcpStream::connect_timeout(&at.parse().unwrap(), Duration::from_secs(3)) {
            Ok(s) => silent.push(s),
            Err(_) => failed += 1,
        }
    }
    let opened = started.elapsed();
    let refused = silent
        .iter()
        .take(200)
        .filter(|s| answer_on(s, Duration::from_millis(50)).starts_with("HTTP/1.1 503"))
        .count();
    std::thread::sleep(Duration::from_secs(3));
    let http = client();
    let healthz = quick_200(http.get(serve.url("/healthz")), "/healthz after the flood");
    let log = serve.log();
    let accept_errors = log
        .lines()
        .filter(|l| l.contains("accept") || l.contains("Too many open files"))
        .count();
    eprintln!(
        "10000 silent connections in {opened:?} ({failed} could not connect): {refused} of the first 200 \
         answered 503; {accept_errors} accept errors logged; /healthz then {healthz:?}"
    );
    assert_eq!(accept_errors, 0, "{log}");
    assert!(refused >= 140, "{refused} of the first 200 refused");
    drop(silent);
}

/// Finding 3: 10 connections each ask for a batch of 100 parts with their
/// SHA-256s (a 60 KB answer; a debug build signs too slowly for more) and,
/// pipelined behind it, 400 copies of `/openapi.json` (6 MB in all: the
/// kernel's buffers alone take up to 4 MB a connection on loopback), and
/// never read. Before, every
/// connection kept its answer in memory until the client closed. Now each is
/// closed at `--write-timeout` (the header timeout is set long here, so only
/// the write timeout can close them), and the memory goes with it.
#[test]
fn unread_answers_are_dropped_at_the_write_timeout() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-unread");
    let serve = start(
        srv,
        &bucket,
        &[
            "--write-timeout",
            "2",
            "--header-timeout",
            "120",
            "--rate-limit",
            "0",
            "--address-rate-limit",
            "0",
        ],
    );
    let http = client();
    let (_, created) = json_of(
        http.post(serve.url("/s3/multipart"))
            .bearer_auth(ALICE)
            .json(&json!({"filename": "u.bin"}))
            .send()
            .unwrap(),
    );
    let (key, id) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let numbers: Vec<String> = (1..=100).map(|n| n.to_string()).collect();
    let sums: Vec<String> = (1..=100u32).map(|n| sha256_b64(&n.to_be_bytes())).collect();
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let target = format!(
        "/s3/multipart/{id}/batch?key={}&partNumbers={}&sha256={}",
        enc(key),
        enc(&numbers.join(",")),
        enc(&sums.join(","))
    );
    let at = addr(&serve);
    let request =
        format!("GET {target} HTTP/1.1\r\nHost: {at}\r\nAuthorization: Bearer {ALICE}\r\n\r\n");
    let pid = serve.pid();
    let fds_before = open_fds(pid);
    let rss_before = status_kib(pid, "VmRSS");
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let unread: Vec<TcpStream> = (0..10)
        .map(|_| {
            let socket = tokio::net::TcpSocket::new_v4().unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            let s = rt
                .block_on(socket.connect(at.parse().unwrap()))
                .unwrap()
                .into_std()
                .unwrap();
            s.set_nonblocking(false).unwrap();
            let mut w = &s;
            let filler = format!("GET /openapi.json HTTP/1.1\r\nHost: {at}\r\n\r\n");
            w.write_all(format!("{request}{}", filler.repeat(400)).as_bytes())
                .unwrap();
            s
        })
        .collect();
    // Wait for the signing to end (debug builds sign slowly): the process's
    // CPU time stops growing.
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let f: Vec<u64> = stat
            .rsplit(')')
            .next()
            .unwrap()
            .split_whitespace()
            .skip(11)
            .take(2)
            .map(|v| v.parse().unwrap())
            .collect();
        f[0] + f[1]
    };
    let mut last = cpu();
    let mut held = (0, 0);
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = cpu();
        held = (
            held.0.max(open_fds(pid)),
            held.1.max(status_kib(pid, "VmRSS")),
        );
        if now - last <= 2 || started.elapsed() > Duration::from_secs(120) {
            break;
        }
        last = now;
    }
    let signed_in = started.elapsed();
    // Every connection closed within the write timeout of the signing's end.
    let deadline = Instant::now() + Duration::from_secs(2 + 3);
    while open_fds(pid) > fds_before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let closed_after = started.elapsed();
    let fds_after = open_fds(pid);
    let rss_after = status_kib(pid, "VmRSS");
    eprintln!(
        "10 connections, a batch of 100 and 400 API documents each unread, signed in {signed_in:?}: fds {fds_before} -> {} -> {fds_after} \
         (all closed after {closed_after:?}); RSS {} MiB before, {} MiB held, {} MiB after",
        held.0,
        rss_before / 1024,
        held.1 / 1024,
        rss_after / 1024
    );
    assert!(
        held.0 >= fds_before + 10,
        "the connections were not held open"
    );
    let answered = serve.log().lines().filter(|l| l.contains("/batch")).count();
    assert_eq!(answered, 10, "the batches were not all answered");
    assert!(
        fds_after <= fds_before,
        "connections still open: {fds_after} > {fds_before}"
    );
    assert!(rss_after < 50 * 1024, "RSS {} MiB", rss_after / 1024);
    drop(unread);
    // A batch over the limit is refused, naming it.
    let many: Vec<String> = (1..=1001).map(|n| n.to_string()).collect();
    let (status, v) = json_of(
        http.get(serve.url(&format!(
            "/s3/multipart/{id}/batch?key={}&partNumbers={}",
            enc(key),
            many.join(",")
        )))
        .bearer_auth(ALICE)
        .send()
        .unwrap(),
    );
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("too_many_parts")),
        "{v}"
    );
    assert!(v["error"].as_str().unwrap().contains("at most 1000"), "{v}");
}

/// Finding 4: a token over `--rate-limit` gets 429 with `Retry-After` and
/// JSON, another token does not; creates have their own, lower rate; and an
/// address that keeps presenting bad tokens is slowed down.
#[test]
fn a_token_over_its_rate_gets_429_and_another_does_not() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-rate");
    let serve = start(
        srv,
        &bucket,
        &["--rate-limit", "20", "--create-rate-limit", "3"],
    );
    let http = client();
    let whoami = |token: &str| {
        http.get(serve.url("/s3/whoami"))
            .bearer_auth(token)
            .send()
            .unwrap()
    };
    let mut limited = None;
    let mut ok = 0;
    for _ in 0..40 {
        let r = whoami(ALICE);
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
        ok += 1;
    }
    let r = limited.expect("alice was never limited");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (_, v) = json_of(r);
    assert_eq!(v["code"], "rate_limited", "{v}");
    assert!(v["error"].as_str().unwrap().contains("--rate-limit"), "{v}");
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
    let (status, v) = json_of(whoami(BOB));
    assert_eq!(status, 200, "bob is not limited by alice's rate: {v}");
    eprintln!("alice: {ok} answered, then 429 with Retry-After {retry}; bob: 200");

    // Creates: 3 a second.
    let mut created = 0;
    let refusal = loop {
        let (status, v) = json_of(
            http.post(serve.url("/s3/multipart"))
                .bearer_auth(BOB)
                .json(&json!({"filename": "c.bin"}))
                .send()
                .unwrap(),
        );
        if status != 200 {
            break (status, v);
        }
        created += 1;
        assert!(created <= 4, "no create limit");
    };
    assert_eq!(refusal.0, 429, "{}", refusal.1);
    assert!(refusal.1["error"]
        .as_str()
        .unwrap()
        .contains("--create-rate-limit"));
    eprintln!("bob created {created}, then 429");

    // Bad tokens from one address: refused 401 until the address is slowed down.
    let started = Instant::now();
    let mut unauthorized = 0;
    let slowed = loop {
        let r = whoami("guess-0123456789");
        if r.status() == 429 {
            break r;
        }
        assert_eq!(r.status(), 401);
        unauthorized += 1;
        assert!(unauthorized <= 30, "bad tokens are never slowed down");
    };
    assert!(slowed.headers().contains_key("retry-after"));
    let (_, v) = json_of(slowed);
    assert_eq!(v["code"], "auth_failures", "{v}");
    eprintln!(
        "{unauthorized} bad tokens answered 401 in {:?}, then 429 auth_failures",
        started.elapsed()
    );
}

fn jwt_with(header: &Value, claims: &Value) -> String {
    use base64::Engine;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
        jsonwebtoken::Algorithm::HS256,
    )
    .unwrap();
    format!("{input}.{sig}")
}

/// Finding 5 and 6: each JWT short of RFC 7519/7515 is refused with its own
/// reason; hyper's own 414 and 431 answers carry JSON.
#[test]
fn jwts_are_checked_to_the_rfcs_and_hypers_errors_are_json() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-jwt");
    let serve = start(srv, &bucket, &[]);
    let http = client();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let hs = json!({"alg": "HS256", "typ": "JWT"});
    let day = 86_400;
    let whoami = |token: &str| {
        json_of(
            http.get(serve.url("/s3/whoami"))
                .bearer_auth(token)
                .send()
                .unwrap(),
        )
    };
    let (status, v) = whoami(&jwt_with(
        &hs,
        &json!({"exp": now + 600, "iat": now, "prefix": "carol"}),
    ));
    assert_eq!(
        (status, v["prefix"].as_str()),
        (200, Some("up/carol/")),
        "{v}"
    );
    for (header, claims, reason) in [
        (
            &hs,
            json!({"exp": now + 600, "nbf": now + day, "prefix": "c"}),
            "not valid yet",
        ),
        (
            &hs,
            json!({"exp": now + 600, "iat": now + day, "prefix": "c"}),
            "issued in the future",
        ),
        (
            &hs,
            json!({"exp": now + 100 * 365 * day, "prefix": "c"}),
            "--jwt-max-lifetime",
        ),
        (
            &json!({"alg": "HS256", "crit": ["x-ext"], "x-ext": true}),
            json!({"exp": now + 600, "prefix": "c"}),
            "crit",
        ),
        (
            &hs,
            json!({"exp": now + 600, "prefix": "//"}),
            "'//' is not a prefix",
        ),
        (
            &hs,
            json!({"exp": (now + 600).to_string(), "prefix": "c"}),
            "'exp' claim is a string",
        ),
    ] {
        let (status, v) = whoami(&jwt_with(header, &claims));
        assert_eq!(
            (status, v["code"].as_str()),
            (401, Some("bad_token")),
            "{claims}: {v}"
        );
        let error = v["error"].as_str().unwrap();
        assert!(error.contains(reason), "{claims}: {error}");
        eprintln!("{header} {claims}: {error}");
    }

    // hyper's own answers: 414 for a target over 64 KiB, 431 for a head over 80 KiB.
    let at = addr(&serve);
    for (target_len, status, code) in [
        (70_000, 414, "uri_too_long"),
        (100_000, 431, "headers_too_large"),
    ] {
        let mut s = TcpStream::connect(&at).unwrap();
        let request = format!(
            "GET /s3/whoami?x={} HTTP/1.1\r\nHost: {at}\r\n\r\n",
            "a".repeat(target_len)
        );
        let _ = s.write_all(request.as_bytes());
        let mut answer = String::new();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let _ = s.read_to_string(&mut answer);
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
        assert!(head.contains("content-type: application/json"), "{head}");
        let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
        assert_eq!(v["code"], code, "{v}");
        eprintln!("{target_len}-byte target: {status} {v}");
    }
}

/// `/metrics` after one small upload shows the counts it should produce.
#[test]
fn metrics_count_a_small_upload() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("attack-metrics");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_at = format!("127.0.0.1:{port}");
    let serve = start(srv, &bucket, &["--metrics-listen", &metrics_at]);
    let http = client();
    let (_, created) = json_of(
        http.post(serve.url("/s3/multipart"))
            .bearer_auth(ALICE)
            .json(&json!({"filename": "m.bin"}))
            .send()
            .unwrap(),
    );
    let (key, id) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let q = format!(
        "key={}",
        form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
    );
    let (_, signed) = json_of(
        http.get(serve.url(&format!("/s3/multipart/{id}/1?{q}")))
            .bearer_auth(ALICE)
            .send()
            .unwrap(),
    );
    let put = http
        .put(signed["url"].as_str().unwrap())
        .body(vec![1u8; 1000])
        .send()
        .unwrap();
    let etag = put.headers()["etag"].to_str().unwrap().to_string();
    let (status, v) = json_of(
        http.post(serve.url(&format!("/s3/multipart/{id}/complete?{q}")))
            .bearer_auth(ALICE)
            .json(&json!({"parts": [{"PartNumber": 1, "ETag": etag}]}))
            .send()
            .unwrap(),
    );
    assert_eq!(status, 200, "{v}");
    let (status, _) = json_of(
        http.get(serve.url("/s3/whoami"))
            .bearer_auth("nope")
            .send()
            .unwrap(),
    );
    assert_eq!(status, 401);
    let text = http
        .get(format!("http://{metrics_at}/metrics"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    let value = |line_start: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(line_start))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {line_start} in:\n{text}"))
    };
    for (series, want) in [
        ("s3up_serve_uploads_total{event=\"created\"}", 1.0),
        ("s3up_serve_uploads_total{event=\"completed\"}", 1.0),
        ("s3up_serve_signatures_total{kind=\"part\"}", 1.0),
        ("s3up_serve_rejections_total{reason=\"auth\"}", 1.0),
    ] {
        assert_eq!(value(series), want, "{series}:\n{text}");
    }
    let requests = |route: &str, method: &str, status: u16| {
        format!("s3up_serve_requests_total{{route=\"{route}\",method=\"{method}\",status=\"{status}\"}}")
    };
    assert_eq!(
        value(&requests("/s3/multipart", "POST", 200)),
        1.0,
        "{text}"
    );
    assert_eq!(
        value(&requests(
            "/s3/multipart/{upload_id}/{part_number}",
            "GET",
            200
        )),
        1.0
    );
    assert_eq!(
        value(&requests("/s3/multipart/{upload_id}/complete", "POST", 200)),
        1.0
    );
    assert_eq!(value(&requests("/s3/whoami", "GET", 401)), 1.0);
    assert!(value("s3up_serve_request_duration_seconds_count{route=\"/s3/multipart\"}") >= 1.0);
    assert!(
        text.contains("# TYPE s3up_serve_request_duration_seconds histogram"),
        "{text}"
    );
    let counts: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.contains("_bucket{"))
        .collect();
    eprintln!("{}", counts.join("\n"));
}
