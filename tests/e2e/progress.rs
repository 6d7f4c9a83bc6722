//! Issue 13, item 1: the progress display follows what the store has
//! acknowledged, on a slow link, and Ctrl-C says how much is saved.
//!
//! The link is the fault proxy's Throttle: each part's body passes at 4 MiB/s,
//! one part at a time (`--concurrency 1`), so the link's rate is known. The
//! proxy records each request's body length once it has forwarded all of it,
//! which is the most the store can have acknowledged at any moment.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, Rule};
use crate::support::{assert_object_equals, Kind, Scratch, Server, MIB};
use serde_json::Value;

/// The link's rate.
const RATE: u64 = 4 * MIB;

/// Starts `put --progress json` of a 24 MiB file (five parts: 5 MiB each and
/// a last of 4 MiB) through a proxy throttled to [`RATE`].
fn throttled_put(s: &Scratch, srv: &Server, bucket: &str) -> (FaultProxy, Child) {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::always(
        Match::UploadPart,
        Fault::Throttle {
            bytes_per_sec: RATE,
        },
    ));
    let file = s.file("slow.bin", 24 * MIB, 13);
    let child = s
        .s3up_std(srv, &proxy.endpoint())
        .args([
            "put",
            "--progress",
            "json",
            "--part-size",
            "5MiB",
            "--concurrency",
            "1",
        ])
        .arg(&file)
        .arg(format!("s3://{bucket}/slow.bin"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (proxy, child)
}

/// Body bytes the proxy has passed on in full, over every UploadPart.
fn forwarded(proxy: &FaultProxy) -> u64 {
    proxy
        .requests()
        .iter()
        .filter(|r| r.is_upload_part())
        .map(|r| r.body_len)
        .sum()
}

#[test]
fn progress_json_follows_what_the_link_delivered() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("slow");
    let (proxy, mut child) = throttled_put(&s, srv, &bucket);
    let proxy = std::sync::Arc::new(proxy);
    // When the proxy had forwarded the last byte, polled. The link's rate is
    // measured over the span the display measures its own over: from the
    // run's start (Create and the first hash included, which take a second or
    // more on a loaded machine) until then.
    let poller = {
        let proxy = proxy.clone();
        std::thread::spawn(move || loop {
            if forwarded(&proxy) >= 24 * MIB {
                return Instant::now();
            }
            std::thread::sleep(Duration::from_millis(10));
        })
    };
    let mut began = None;
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let mut samples = Vec::new();
    let mut other = String::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        let Ok(sample) = serde_json::from_str::<Value>(&line) else {
            other.push_str(&line);
            continue;
        };
        // Read after the sample was printed, so what the proxy has forwarded
        // can only have grown since.
        let through = forwarded(&proxy);
        let elapsed = sample["elapsed_seconds"].as_f64().unwrap();
        began.get_or_insert_with(|| Instant::now() - Duration::from_secs_f64(elapsed));
        let acked = sample["acked_bytes"].as_u64().unwrap();
        let sent = sample["sent_bytes"].as_u64().unwrap();
        assert!(
            acked <= through,
            "the display counts {acked} bytes acknowledged, but the proxy had forwarded only \
             {through}: {line}"
        );
        assert!(sent >= acked, "{line}");
        samples.push(sample);
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}: {other}");
    let took = poller.join().unwrap() - began.expect("a sample");
    let link = (24 * MIB) as f64 / took.as_secs_f64();
    assert_object_equals(srv, &bucket, "slow.bin", &s.dir.path().join("slow.bin"));

    assert!(samples.len() >= 4, "one sample a second: {samples:?}");
    let last = samples.last().unwrap();
    assert_eq!(last["acked_bytes"], 24 * MIB, "{last}");
    assert_eq!(
        (last["parts_done"].as_u64(), last["parts_total"].as_u64()),
        (Some(5), Some(5))
    );
    // Once a few parts are done, the rate is the link's (which is below the
    // throttle's: each part is hashed before it is sent). From the third on,
    // the start's second or two weighs less than 25 % (CI failed once at the
    // second part, 34 % off, the start then counted in the display only).
    let settled: Vec<&Value> = samples
        .iter()
        .filter(|s| s["parts_done"].as_u64() >= Some(3))
        .collect();
    assert!(settled.len() >= 2, "{samples:?}");
    for sample in settled {
        let rate = sample["rate_bytes_per_sec"].as_f64().unwrap();
        let off = (rate - link).abs() / link;
        assert!(
            off <= 0.25,
            "rate {rate} is {:.0}% off the link's {link}: {sample}",
            off * 100.0
        );
        assert!(sample["eta_seconds"].is_u64(), "{sample}");
    }
}

#[test]
fn ctrl_c_says_how_many_parts_are_saved() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("intr");
    let (_proxy, mut child) = throttled_put(&s, srv, &bucket);
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Wait for a sample that shows two parts done.
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "s3up ended early");
        let done = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["parts_done"].as_u64());
        if done >= Some(2) {
            break;
        }
    }
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{rest}");
    let journal = s.only_journal();
    let saved = journal["parts"].as_array().unwrap().len();
    assert!(saved >= 2, "{journal}");
    let id = journal["id"].as_str().unwrap();
    let want = format!(
        "s3up: error: interrupted: {saved} of 5 parts saved; `s3up resume {id}` sends the other {}",
        5 - saved
    );
    assert!(
        rest.lines().any(|l| l == want),
        "want the line {want:?} in: {rest}"
    );
}
