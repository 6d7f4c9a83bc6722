//! Links that die for minutes (issue 18), end to end on Garage through the
//! fault proxy: a hang of 120 s, a refusal of 60 s, a refusal that outlasts
//! `--max-offline`, and the s3up process stopped (SIGSTOP) for 60 s; each
//! with `--no-progress` (one stderr line per state) and with `--progress
//! json` (a `state` in the samples).
//!
//! The same for `put --via`: the backend, then S3, refused for 30 s each.
//!
//! The ten scenarios wait out their outages side by side, in one test, so
//! the suite pays for the longest (about three minutes), not for their sum.
//! Parts go through the proxy at 1 MiB/s each, so the upload is still busy
//! when the outage begins: after two parts are journalled.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::support::proxy::{Fault, FaultProxy, Match, Rule};
use crate::support::serve::{hashed, Serve};
use crate::support::{
    assert_object_equals, child_stderr, signal, spawn, wait_for, Scratch, Server, MIB,
};

/// How each scenario shows its progress.
#[derive(Clone, Copy, Debug)]
enum Shown {
    Lines,
    Json,
}

impl Shown {
    fn args(self) -> &'static [&'static str] {
        match self {
            Shown::Lines => &["--no-progress"],
            Shown::Json => &["--progress", "json"],
        }
    }
}

/// One upload under way through its own proxy.
struct Upload {
    s: Scratch,
    proxy: FaultProxy,
    bucket: String,
    file: std::path::PathBuf,
    child: Child,
    spawned: Instant,
    shown: Shown,
}

fn journalled(s: &Scratch) -> Vec<u64> {
    let Some(path) = s.journals().into_iter().next() else {
        return Vec::new();
    };
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    v["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["number"].as_u64()).collect())
        .unwrap_or_default()
}

impl Upload {
    /// `put` of 40 MiB in 5 MiB parts, two at a time at 1 MiB/s each, with
    /// a 10 s stall timeout; returns once two parts are journalled.
    fn start(srv: &Server, shown: Shown, extra: &[&str]) -> Upload {
        let proxy = FaultProxy::start(&srv.endpoint);
        proxy.add_rule(Rule::always(
            Match::UploadPart,
            Fault::Throttle { bytes_per_sec: MIB },
        ));
        let s = Scratch::new();
        let bucket = srv.new_bucket("outage");
        let file = s.file("f.bin", 40 * MIB, 18);
        let mut args = vec![
            "put",
            "--part-size",
            "5MiB",
            "--concurrency",
            "2",
            "--stall-timeout",
            "10s",
        ];
        args.extend(shown.args());
        args.extend(extra);
        let url = format!("s3://{bucket}/f.bin");
        let spawned = Instant::now();
        let mut child = spawn(&s, srv, &proxy.endpoint(), &args, &file, &url);
        wait_for(
            "two parts journalled",
            &mut child,
            || child_stderr(&s),
            || journalled(&s).len() >= 2,
        );
        Upload {
            s,
            proxy,
            bucket,
            file,
            child,
            spawned,
            shown,
        }
    }

    /// Waits for s3up to exit (at most `limit`); its exit code and when.
    fn exit(&mut self, limit: Duration) -> (Option<i32>, Instant) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status.code(), Instant::now());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "s3up still running after {limit:?}: {}",
                    child_stderr(&self.s)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn stderr(&self) -> String {
        child_stderr(&self.s)
    }

    /// The `--progress json` samples: (seconds since s3up started, sample).
    fn samples(&self) -> Vec<serde_json::Value> {
        self.stderr()
            .lines()
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// What the run said of its states, for `--nocapture`: the lines, or
    /// the samples whose state is not `sending`.
    fn show(&self, scenario: &str) {
        let said: Vec<String> = match self.shown {
            Shown::Lines => self.stderr().lines().map(str::to_string).collect(),
            Shown::Json => self
                .samples()
                .iter()
                .filter(|v| v["state"] != "sending")
                .map(|v| v.to_string())
                .collect(),
        };
        let (shown, count) = (self.shown, said.len());
        let last = said.len().saturating_sub(2).max(6);
        println!("{scenario}, {shown:?}, {count} lines; the first 6 and the last 2:");
        for line in said.iter().take(6).chain(said.iter().skip(last)) {
            println!("    {line}");
        }
    }

    /// Exit 0 and the object equal to the file.
    fn completes(&mut self, srv: &Server) {
        let (code, _) = self.exit(Duration::from_secs(240));
        assert_eq!(code, Some(0), "{}", self.stderr());
        assert_object_equals(srv, &self.bucket, "f.bin", &self.file);
        assert!(self.s.journals().is_empty(), "the journal is removed");
    }

    /// The run said so while it waited: a line with `--no-progress`, a
    /// sample's state with `--progress json`.
    fn said(&self, line: &str, state: &str) {
        match self.shown {
            Shown::Lines => assert!(
                self.stderr().contains(line),
                "no line with {line:?}: {}",
                self.stderr()
            ),
            Shown::Json => assert!(
                self.samples().iter().any(|v| v["state"] == state),
                "no sample with state {state:?}: {}",
                self.stderr()
            ),
        }
    }

    /// Seconds from s3up's start to `at`.
    fn at(&self, at: Instant) -> f64 {
        at.duration_since(self.spawned).as_secs_f64()
    }
}

/// The proxy stops forwarding for 120 s: the run waits, says so, completes.
fn hang(srv: &Server, shown: Shown) {
    let mut up = Upload::start(srv, shown, &[]);
    up.proxy.freeze();
    let frozen = Instant::now();
    std::thread::sleep(Duration::from_secs(120));
    up.proxy.thaw();
    let thawed = Instant::now();
    up.completes(srv);
    up.show("hang 120 s");
    up.said("stalled", "stalled");
    up.said("waiting for the network", "offline");
    if let Shown::Json = shown {
        // Every sample from 20 s into the hang until it ends: rate 0, no ETA.
        // A sample's clock starts when s3up begins sending, a few seconds
        // after it was spawned, hence the margin at the end.
        let (from, to) = (up.at(frozen) + 21.0, up.at(thawed) - 6.0);
        let during: Vec<_> = up
            .samples()
            .into_iter()
            .filter(|v| {
                v["elapsed_seconds"]
                    .as_f64()
                    .is_some_and(|t| t > from && t < to)
            })
            .collect();
        assert!(during.len() >= 75, "{} samples in the hang", during.len());
        for v in &during {
            assert_eq!(v["rate_bytes_per_sec"], 0, "{v}");
            assert!(v["eta_seconds"].is_null(), "{v}");
        }
    }
}

/// The proxy refuses connections for 60 s, then listens again on its port:
/// the run completes, and no part the store had acknowledged is sent again.
fn refused(srv: &Server, shown: Shown) {
    let mut up = Upload::start(srv, shown, &[]);
    let held = journalled(&up.s);
    up.proxy.close();
    std::thread::sleep(Duration::from_secs(60));
    up.proxy.reopen();
    up.completes(srv);
    up.show("refused 60 s");
    up.said("waiting for the network", "offline");
    let requests = up.proxy.requests();
    for n in held {
        let sent = requests
            .iter()
            .filter(|r| r.is_upload_part() && r.part_number() == Some(n as u32))
            .count();
        assert_eq!(sent, 1, "part {n} was journalled, yet sent {sent} times");
    }
}

/// Refused for longer than `--max-offline 10s`: exit 3 within 10 s and one
/// probe interval of the outage's start, the journal kept; `resume` then
/// completes.
fn max_offline(srv: &Server, shown: Shown) {
    let mut up = Upload::start(srv, shown, &["--max-offline", "10s"]);
    up.proxy.close();
    let closed = Instant::now();
    let (code, at) = up.exit(Duration::from_secs(90));
    let waited = at - closed;
    assert_eq!(code, Some(3), "{}", up.stderr());
    // PROBE_CAP (15 s) is the longest probe interval; a second of slack.
    assert!(
        waited >= Duration::from_secs(10) && waited <= Duration::from_secs(10 + 15 + 1),
        "exit {waited:?} after the outage began: {}",
        up.stderr()
    );
    assert!(up.stderr().contains("--max-offline"), "{}", up.stderr());
    assert_eq!(up.s.journals().len(), 1, "the journal is kept");
    up.proxy.reopen();
    let out =
        up.s.s3up(srv, &up.proxy.endpoint())
            .args(["resume", "--all", "--no-progress"])
            .output()
            .unwrap();
    crate::support::assert_ok(&out);
    assert_object_equals(srv, &up.bucket, "f.bin", &up.file);
    assert!(up.s.journals().is_empty());
}

/// s3up is stopped for 60 s (a laptop asleep): once continued, it sends a
/// part within seconds, not after the stall timeout, and completes.
fn sigstop(srv: &Server, shown: Shown) {
    let mut up = Upload::start(srv, shown, &[]);
    signal(&up.child, "-STOP");
    std::thread::sleep(Duration::from_secs(60));
    let continued = Instant::now();
    signal(&up.child, "-CONT");
    up.completes(srv);
    up.show("SIGSTOP 60 s");
    up.said("asleep", "woke");
    let first = up
        .proxy
        .requests()
        .into_iter()
        .filter(|r| r.is_upload_part() && r.arrived > continued)
        .map(|r| r.arrived - continued)
        .min()
        .expect("parts were sent after SIGCONT");
    assert!(
        first < Duration::from_secs(5),
        "the first part after SIGCONT came {first:?} later"
    );
}

/// `put --via`: the backend (`serve`) stops answering for 30 s, then S3
/// (where the presigned parts go) for 30 s: the run waits each time and
/// completes.
fn via(srv: &Server, shown: Shown) {
    const TOKEN: &str = "outage-token-0123456789abcdef";
    let bucket = srv.new_bucket("outage-via");
    let s3 = FaultProxy::start(&srv.endpoint);
    s3.add_rule(Rule::always(
        Match::UploadPart,
        Fault::Throttle { bytes_per_sec: MIB },
    ));
    let serve = Serve::on(srv, &s3.endpoint(), &bucket)
        .tokens(&format!("{} alice alice-id\n", hashed(TOKEN)))
        .start();
    let front = FaultProxy::start(&serve.url);
    let s = Scratch::new();
    let file = s.file("v.bin", 40 * MIB, 19);
    let log = std::fs::File::create(s.dir.path().join("child.err")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", s.dir.path())
        .env("S3UP_JOURNAL_DIR", s.journal_dir())
        .env("S3UP_TOKEN", TOKEN)
        .arg("put")
        .arg(&file)
        .args(["--via", &front.endpoint(), "up/alice/v.bin"])
        .args(["--part-size", "5MiB", "--concurrency", "2"])
        .args(["--stall-timeout", "10s"])
        .args(shown.args())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let stderr = || child_stderr(&s);
    wait_for("two parts journalled", &mut child, stderr, || {
        journalled(&s).len() >= 2
    });
    front.close();
    std::thread::sleep(Duration::from_secs(30));
    front.reopen();
    wait_for("four parts journalled", &mut child, stderr, || {
        journalled(&s).len() >= 4
    });
    s3.close();
    std::thread::sleep(Duration::from_secs(30));
    s3.reopen();
    let status = child.wait().unwrap();
    assert!(status.success(), "{}", stderr());
    assert_object_equals(srv, &bucket, "up/alice/v.bin", &file);
    if let Shown::Lines = shown {
        let text = stderr();
        assert!(
            text.contains(&format!("no answer from {}", front.endpoint())),
            "{text}"
        );
        assert!(text.contains("sending again after"), "{text}");
    }
}

#[test]
fn links_that_die_for_minutes() {
    let srv = crate::support::server(crate::support::Kind::Garage);
    type Scenario = fn(&Server, Shown);
    let scenarios: [(&str, Scenario); 5] = [
        ("hang 120 s", hang),
        ("refused 60 s", refused),
        ("--max-offline 10s", max_offline),
        ("SIGSTOP 60 s", sigstop),
        ("--via, backend then S3 refused 30 s", via),
    ];
    let failures: Vec<String> = std::thread::scope(|scope| {
        let running: Vec<_> = scenarios
            .iter()
            .flat_map(|&(name, run)| {
                [Shown::Lines, Shown::Json].map(|shown| {
                    let name = format!("{name}, {shown:?}");
                    (name, scope.spawn(move || run(srv, shown)))
                })
            })
            .collect();
        running
            .into_iter()
            .filter_map(|(name, handle)| {
                let panic = handle.join().err()?;
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Some(format!("{name}: {why}"))
            })
            .collect()
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
