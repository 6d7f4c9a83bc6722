//! The browser page (issue 12) end to end: headless Chromium, driven over
//! WebDriver, loads the page from `s3up serve`, picks files and uploads them
//! through `serve` to Garage. The part PUTs go through the fault proxy, which
//! slows chosen parts (so a test can reload, pause or cancel mid-upload) and
//! records every part it saw; the page is loaded through a second, recording proxy, which
//! keeps every answer the page got from `serve`, so each test can check that
//! none carries a credential.
//!
//! The tests take turns (one Chromium at a time): the machine has two cores,
//! and a browser, Garage and `serve` each want one.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::support;
use crate::support::browser::{Browser, StaticSite};
use crate::support::proxy::{Fault, FaultProxy, Match, Rule, Schedule};
use crate::support::serve::{hashed, Serve};
use crate::support::{assert_object_equals, random_bytes, sha256_b64, Scratch, Server, MIB};
use serde_json::Value;

const TOKEN: &str = "alice-browser-token-0123456789";
const JWT_SECRET: &str = "browser-jwt-secret-0123456789abcdef0123";
/// serve's `--prefix` and alice's own prefix.
const SCOPE: &str = "up/alice/";
const PART: u64 = 5 * MIB;
const LONG: Duration = Duration::from_secs(180);

/// One browser at a time.
static TURN: Mutex<()> = Mutex::new(());

/// What the page shows about its files, for failure messages.
const DESCRIBE: &str = "return JSON.stringify({notice: document.getElementById('notice').textContent, \
    files: Array.from(document.querySelectorAll('li.file')).map(li => ({state: li.dataset.state, \
    done: li.dataset.partsDone, parts: li.dataset.parts, msg: li.querySelector('.msg').textContent}))})";

/// `s3up serve` for one bucket, applying the bucket's CORS; with `no_auth`,
/// `--no-auth` instead of the tokens file and the JWT secret.
fn start_serve(srv: &Server, endpoint: &str, bucket: &str, no_auth: bool, extra: &[&str]) -> Serve {
    let serve = Serve::on(srv, endpoint, bucket).args(&["--apply-bucket-cors"]);
    let serve = if no_auth {
        serve.args(&["--no-auth"])
    } else {
        serve
            .tokens(&format!("{} alice alice-id\n", hashed(TOKEN)))
            .jwt_secret(JWT_SECRET)
    };
    serve.args(extra).start()
}

/// Garage, a bucket, the fault proxy in front of it, `serve` on the proxy,
/// the recorder in front of `serve`, and a browser.
struct Rig {
    srv: &'static Server,
    bucket: String,
    proxy: FaultProxy,
    serve: Serve,
    recorder: FaultProxy,
    browser: Browser,
    scratch: Scratch,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Rig {
    fn new(name: &str) -> Rig {
        Rig::with_auth(name, true)
    }

    fn with_auth(name: &str, auth: bool) -> Rig {
        let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
        let srv = support::server(support::Kind::Garage);
        let bucket = srv.new_bucket(name);
        let proxy = FaultProxy::start(&srv.endpoint);
        let serve = start_serve(srv, &proxy.endpoint(), &bucket, !auth, &[]);
        let recorder = FaultProxy::recording(&serve.url);
        let browser = Browser::start();
        Rig {
            srv,
            bucket,
            proxy,
            serve,
            recorder,
            browser,
            scratch: Scratch::new(),
            _turn: turn,
        }
    }

    /// Opens the page with the token in the fragment, 5 MiB parts and
    /// `concurrency` parts at once, and waits for it to accept the token.
    fn open(&self, concurrency: u32) {
        self.browser
            .goto(&format!("{}/#token={TOKEN}", self.recorder.endpoint()));
        self.wait_ready();
        self.settings(concurrency);
    }

    fn wait_ready(&self) {
        self.browser.wait_for(
            "the page to accept the token",
            "return !document.getElementById('uploader').hidden",
            Duration::from_secs(30),
            DESCRIBE,
        );
    }

    fn settings(&self, concurrency: u32) {
        self.browser.js(&format!(
            "document.getElementById('partsize').value = '5'; \
             document.getElementById('concurrency').value = '{concurrency}'; return true"
        ));
    }

    /// Parts `from..=to` go through at `bytes_per_sec`: slow enough to act
    /// while they are on the way.
    fn slow_parts(&self, from: u32, to: u32, bytes_per_sec: u64) {
        for n in from..=to {
            self.proxy.add_rule(Rule::always(
                Match::UploadPartNumber(n),
                Fault::Throttle { bytes_per_sec },
            ));
        }
    }

    fn click(&self, css: &str) {
        self.browser.click(css);
    }

    fn file(&self, name: &str, size: u64, seed: u64) -> PathBuf {
        self.scratch.file(name, size, seed)
    }

    fn pick(&self, file: &Path) {
        self.browser.pick("#files", &[file]);
    }

    fn file_attr(&self, attr: &str) -> Value {
        self.browser.js(&format!(
            "const li = document.querySelector('li.file:last-child'); return li ? li.dataset.{attr} : null"
        ))
    }

    fn wait_parts_done(&self, at_least: u32) {
        self.browser.wait_for(
            &format!("{at_least} parts done"),
            &format!(
                "const li = document.querySelector('li.file:last-child'); \
                 return !!li && Number(li.dataset.partsDone) >= {at_least}"
            ),
            LONG,
            DESCRIBE,
        );
    }

    fn wait_state(&self, state: &str) {
        self.browser.wait_for(
            &format!("the file to be {state}"),
            &format!(
                "const li = document.querySelector('li.file:last-child'); \
                 return !!li && li.dataset.state === '{state}'"
            ),
            LONG,
            DESCRIBE,
        );
    }

    fn key_and_upload(&self) -> (String, String) {
        let key = self
            .file_attr("key")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let upload = self
            .file_attr("uploadId")
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(key.starts_with(SCOPE), "key {key:?}");
        assert!(!upload.is_empty(), "no upload ID on the page");
        (key, upload)
    }

    /// Part numbers the page has written down as done, in localStorage.
    fn stored_parts(&self) -> Vec<u32> {
        let v = self.browser.js(
            "const all = JSON.parse(localStorage.getItem('s3up.uploads.v1') || '{}'); \
             return Object.values(all).flatMap(r => Object.keys(r.parts).map(Number))",
        );
        let mut parts: Vec<u32> = v
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n.as_u64())
                    .map(|n| n as u32)
                    .collect()
            })
            .unwrap_or_default();
        parts.sort_unstable();
        parts
    }

    /// How many PUTs of each part number the proxy passed on.
    fn puts_of(&self, part: u32) -> usize {
        self.proxy
            .requests()
            .iter()
            .filter(|r| r.is_upload_part() && r.part_number() == Some(part))
            .count()
    }

    /// The checks every browser test ends with: the page met no CSP
    /// violation, and no answer it got from `serve` carried a credential.
    fn finish(&self) {
        let notice = self
            .browser
            .js("return document.getElementById('notice').textContent");
        assert!(
            !notice
                .as_str()
                .unwrap_or_default()
                .contains("security policy"),
            "{notice}"
        );
        self.assert_no_credentials();
    }

    /// No answer the page received from `serve` carries a credential. The
    /// secret key never appears; the access key ID appears only where SigV4
    /// presigning puts it, in each URL's `X-Amz-Credential`.
    fn assert_no_credentials(&self) {
        let exchanges = self.recorder.exchanges();
        assert!(
            exchanges.iter().any(|x| x.target == "/")
                && exchanges.iter().any(|x| x.target.starts_with("/s3/")),
            "the recorder saw neither the page nor the API: {:?}",
            exchanges.iter().map(|x| &x.target).collect::<Vec<_>>()
        );
        assert!(!self.serve.log().contains(TOKEN), "serve logged the token");
        let secret = self.srv.secret_key.as_bytes();
        let key_id = self.srv.access_key.as_str();
        let signed = exchanges
            .iter()
            .filter(|x| x.target.contains("sha256=") && x.status == 200)
            .collect::<Vec<_>>();
        // The scan sees the presigned URLs themselves (else it proves nothing).
        assert!(
            signed
                .iter()
                .all(|x| String::from_utf8_lossy(&x.body).contains(key_id)),
            "a sign answer without a presigned URL"
        );
        for x in &exchanges {
            let body = String::from_utf8_lossy(&x.body);
            assert!(
                !x.body.windows(secret.len()).any(|w| w == secret),
                "the secret key is in the answer to {} {}",
                x.method,
                x.target
            );
            for (at, _) in body.match_indices(key_id) {
                let before = &body[..at];
                assert!(
                    before.ends_with("X-Amz-Credential=") || before.ends_with("\"x-amz-credential\":\""),
                    "the access key ID is in the answer to {} {} outside a presigned URL's X-Amz-Credential: {body}",
                    x.method,
                    x.target
                );
            }
        }
    }
}

fn part_sums(file: &Path) -> Vec<String> {
    std::fs::read(file)
        .unwrap()
        .chunks(PART as usize)
        .map(sha256_b64)
        .collect()
}

/// 64 MiB from the page through serve to Garage, 13 parts of 5 MiB, 4 at a
/// time. Mid-upload (the last parts slowed): Garage's ListParts shows each
/// finished part's SHA-256, and the screenshot for the README is taken. The
/// object equals the file.
#[test]
fn upload_64_mib_through_serve_to_garage() {
    let rig = Rig::new("web-64");
    let file = rig.file("big-64.bin", 64 * MIB, 64);
    rig.slow_parts(6, 13, 3 * MIB / 2);
    rig.open(4);
    rig.pick(&file);
    rig.wait_parts_done(5);
    let (key, upload) = rig.key_and_upload();

    let sums = part_sums(&file);
    let listed = rig.srv.list_parts(&rig.bucket, &key, &upload);
    assert!(listed.len() >= 5, "ListParts: {listed:?}");
    for p in &listed {
        assert_eq!(
            p.checksum_sha256.as_deref(),
            Some(sums[p.number as usize - 1].as_str()),
            "part {} on Garage has another SHA-256, or none",
            p.number
        );
    }
    std::thread::sleep(Duration::from_millis(1000)); // a rate and an ETA to show
    rig.browser
        .screenshot(&Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/page.png"));
    rig.proxy.clear_rules();

    rig.wait_state("done");
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    for n in 1..=13 {
        assert_eq!(rig.puts_of(n), 1, "part {n} was sent more than once");
    }
    assert!(rig.srv.list_uploads(&rig.bucket).is_empty());
    rig.finish();
}

/// A reload with parts done, then the same file picked again: the upload
/// completes, and the parts done before the reload were not sent again.
#[test]
fn reload_mid_upload_then_same_file_resumes() {
    let rig = Rig::new("web-reload");
    let file = rig.file("reload.bin", 32 * MIB, 7);
    rig.slow_parts(4, 7, 256 * 1024);
    rig.open(3);
    rig.pick(&file);
    rig.wait_parts_done(3);
    let (key, upload) = rig.key_and_upload();
    // The page writes finished parts down within a second.
    rig.browser.wait_for(
        "3 parts written down",
        "const all = JSON.parse(localStorage.getItem('s3up.uploads.v1') || '{}'); \
         return Object.values(all).some(r => Object.keys(r.parts).length >= 3)",
        Duration::from_secs(10),
        DESCRIBE,
    );
    let before = rig.stored_parts();

    rig.browser.refresh();
    rig.wait_ready();
    rig.settings(3);
    let pending = rig.browser.js(
        "return document.getElementById('pending').hidden ? '' : document.getElementById('pendinglist').textContent",
    );
    assert!(
        pending.as_str().is_some_and(|t| t.contains("reload.bin")),
        "the page lists no interrupted upload after the reload: {pending}"
    );
    rig.proxy.clear_rules();
    rig.pick(&file);
    rig.wait_state("done");
    let msg = rig
        .browser
        .js("return document.querySelector('li.file .msg').textContent");
    assert!(
        msg.as_str().is_some_and(|m| m.contains("parts were kept")),
        "{msg}"
    );
    assert_eq!(rig.key_and_upload(), (key.clone(), upload));
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    for n in &before {
        assert_eq!(
            rig.puts_of(*n),
            1,
            "part {n}, done before the reload, was sent again"
        );
    }
    assert!(rig.srv.list_uploads(&rig.bucket).is_empty());
    rig.finish();
}

/// Part PUTs that fail (a reset mid-body, a 500, a 503 SlowDown) are retried
/// with backoff, and so is a throttled create (serve passes S3's 503 on);
/// two files picked together both complete.
#[test]
fn failed_parts_are_retried_and_a_batch_completes() {
    let rig = Rig::new("web-retry");
    let a = rig.file("a.bin", 12 * MIB, 11);
    let b = rig.file("b.bin", 7 * MIB, 12);
    for (part, fault, times) in [
        (1, Fault::ResetMidBody, 1),
        (2, Fault::internal_error(), 2),
        (3, Fault::slow_down(), 1),
    ] {
        rig.proxy.add_rule(Rule::new(
            Match::UploadPartNumber(part),
            fault,
            Schedule::FirstN(times),
        ));
    }
    rig.proxy.add_rule(Rule::new(
        Match::CreateMultipartUpload,
        Fault::slow_down(),
        Schedule::FirstN(1),
    ));
    rig.open(3);
    rig.browser.pick("#files", &[&a, &b]);
    rig.browser.wait_for(
        "both files done",
        "const lis = document.querySelectorAll('li.file'); \
         return lis.length === 2 && Array.from(lis).every(li => li.dataset.state === 'done')",
        LONG,
        DESCRIBE,
    );
    assert_eq!(rig.proxy.faults_applied(), 5);
    let log = rig.serve.log();
    assert!(
        log.lines()
            .any(|l| l.contains("route=/s3/multipart ") && l.contains("status=503")),
        "serve never answered the throttled create with 503, so the page's retry was not needed: {log}"
    );
    let keys = rig.browser.js(
        "return Array.from(document.querySelectorAll('li.file')).map(li => \
         [li.querySelector('.name').textContent, li.dataset.key])",
    );
    for pair in keys.as_array().expect("a list") {
        let (name, key) = (pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        let file = if name == "a.bin" { &a } else { &b };
        assert_object_equals(rig.srv, &rig.bucket, key, file);
    }
    let batch = rig
        .browser
        .js("return document.getElementById('batchstats').textContent");
    assert!(
        batch
            .as_str()
            .is_some_and(|t| t.starts_with("19.0 MiB of 19.0 MiB")),
        "{batch}"
    );
    rig.finish();
}

/// Complete lands on S3 but its answer is lost on the way back to serve:
/// the page finds the object it made and reports the file done.
#[test]
fn lost_complete_answer_is_recovered() {
    let rig = Rig::new("web-lost");
    let file = rig.file("lost.bin", 11 * MIB, 13);
    rig.proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::SwallowAnswer,
        Schedule::FirstN(1),
    ));
    rig.open(3);
    rig.pick(&file);
    rig.wait_state("done");
    assert_eq!(rig.proxy.faults_applied(), 1);
    // serve answered 502 (the store's answer lost), then 404 (the upload
    // already completed), and the page then asked whether the object exists.
    let log = rig.serve.log();
    let complete_404 = log.lines().any(|l| {
        l.contains("route=/s3/multipart/{upload_id}/complete ") && l.contains("status=404")
    });
    assert!(complete_404 && log.contains("route=/s3/object "), "{log}");
    let (key, _) = rig.key_and_upload();
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    assert!(rig.srv.list_uploads(&rig.bucket).is_empty());
    rig.finish();
}

/// What the last file shows, and the offline note.
const STATUS: &str = "const li = document.querySelector('li.file:last-child'); \
    const note = document.getElementById('offline'); \
    return {state: li ? li.dataset.state : '', msg: li ? li.querySelector('.msg').textContent : '', \
    note: !note || note.hidden ? '' : note.textContent, online: navigator.onLine}";

/// The connection drops as the last part finishes (issue 18), so Complete
/// goes while the browser is offline: at the default 4 parts in parallel,
/// the browser is taken offline (DevTools' network conditions) while the last
/// part, a small one, is held 3 s by the fault proxy, for 20 s. (Chromium
/// lets a request already on its way finish; new ones fail at once.)
/// Throughout, the file never shows "failed" and says it waits for the
/// connection to complete, under an offline note. Once the connection is back
/// the note goes, before Complete has answered (its next try is held 3 s in
/// the recorder), and the file completes; the object equals the file.
#[test]
fn offline_while_completing_waits_for_the_connection() {
    const OUTAGE: Duration = Duration::from_secs(20);
    let rig = Rig::new("web-offline");
    // Four parts of 5 MiB and a last one of 100 KiB, which fits in the
    // sockets' buffers: its PUT is whole on its way when the outage begins.
    let file = rig.file("offline.bin", 20 * MIB + 100 * 1024, 18);
    rig.proxy.add_rule(Rule::new(
        Match::UploadPartNumber(5),
        Fault::Delay { millis: 3000 },
        Schedule::FirstN(1),
    ));
    rig.recorder.add_rule(Rule::new(
        Match::PathEnds("POST", "/complete"),
        Fault::Delay { millis: 3000 },
        Schedule::FirstN(1),
    ));
    let completes = || rig.recorder.count(Match::PathEnds("POST", "/complete"));
    rig.open(4);
    rig.pick(&file);
    let started = Instant::now();
    while rig.puts_of(5) == 0 {
        assert!(
            started.elapsed() < LONG,
            "part 5 never came: {}",
            rig.browser.js(DESCRIBE)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    rig.browser.set_offline(true);

    let offline = Instant::now();
    let (mut waited, mut noted) = (false, false);
    let mut samples = 0;
    while offline.elapsed() < OUTAGE {
        let s = rig.browser.js(STATUS);
        let (state, msg) = (s["state"].as_str().unwrap(), s["msg"].as_str().unwrap());
        assert!(
            state != "failed" && !msg.contains("failed"),
            "{:.1} s into the outage the file shows {s}",
            offline.elapsed().as_secs_f64()
        );
        assert_ne!(state, "done", "done while offline: {s}");
        waited |= msg.contains("Waiting for the connection to complete the upload");
        noted |= s["note"].as_str().unwrap().starts_with("Offline since");
        samples += 1;
        std::thread::sleep(Duration::from_millis(200));
    }
    let during = rig.browser.js(STATUS);
    assert!(
        waited && noted,
        "the page never said it waits for the connection to complete: {during}"
    );
    assert_eq!(completes(), 0, "a Complete got through the outage");

    rig.browser.set_offline(false);
    let back = Instant::now();
    rig.browser.wait_for(
        "the offline note to go",
        "return document.getElementById('offline').hidden && \
         !document.querySelector('li.file[data-waiting=\"true\"]')",
        Duration::from_secs(30),
        STATUS,
    );
    let cleared = back.elapsed();
    let after = rig.browser.js(STATUS);
    assert_eq!(
        after["state"], "completing",
        "the note went only when Complete answered: {after}"
    );
    rig.wait_state("done");
    let done = back.elapsed();
    let end = rig.browser.js(STATUS);
    assert_eq!(end["note"], "", "{end}");
    assert!(
        !end["msg"].as_str().unwrap().contains("connection"),
        "{end}"
    );
    println!(
        "offline for {OUTAGE:?} from the last part's PUT ({samples} looks, none failed); \
         during: {during}; back online: the note went after {cleared:?} ({after}), \
         done after {done:?}; Complete was sent {} times",
        completes()
    );
    let (key, _) = rig.key_and_upload();
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    assert!(rig.srv.list_uploads(&rig.bucket).is_empty());
    rig.finish();
}

/// Offline mid-upload for 5 s, while three slow parts are on their way and
/// the next part is to be signed (the 4th is held 1.5 s by the fault proxy,
/// so the outage begins before it ends): the file waits to send the
/// remaining parts. The page is kept from hearing the `online` event, which
/// browsers fire late or not at all, so its periodic probe must find the
/// connection back; the offline note then goes while the slow parts still
/// upload (before issue 18 it stayed), and the file completes.
#[test]
fn offline_mid_upload_parts_wait_and_the_note_goes() {
    let rig = Rig::new("web-offline-parts");
    let file = rig.file("offline-parts.bin", 30 * MIB, 19);
    rig.slow_parts(1, 3, 256 * 1024); // 20 s each
    rig.proxy.add_rule(Rule::new(
        Match::UploadPartNumber(4),
        Fault::Delay { millis: 1500 },
        Schedule::FirstN(1),
    ));
    // Registered before the page's scripts run, so ahead of their listener
    // (at the window, listeners run in the order they were added).
    rig.browser.cdp(
        "Page.addScriptToEvaluateOnNewDocument",
        serde_json::json!({"source": "window.__onlineEvents = 0; window.addEventListener('online', \
            (e) => { window.__onlineEvents += 1; e.stopImmediatePropagation(); });"}),
    );
    rig.open(4);
    rig.pick(&file);
    let started = Instant::now();
    while rig.puts_of(4) == 0 {
        assert!(started.elapsed() < LONG, "part 4 never came");
        std::thread::sleep(Duration::from_millis(20));
    }
    rig.browser.set_offline(true);
    rig.browser.wait_for(
        "the file to wait for the connection",
        "const li = document.querySelector('li.file:last-child'); \
         return li.dataset.waiting === 'true' && !document.getElementById('offline').hidden \
         && li.querySelector('.msg').textContent.includes('to send the remaining parts')",
        Duration::from_secs(10),
        STATUS,
    );
    std::thread::sleep(Duration::from_secs(5));
    let during = rig.browser.js(STATUS);
    assert_eq!(during["state"], "uploading", "{during}");
    rig.browser.set_offline(false);
    let back = Instant::now();
    rig.browser.wait_for(
        "the offline note to go",
        "return document.getElementById('offline').hidden && \
         !document.querySelector('li.file[data-waiting=\"true\"]')",
        Duration::from_secs(30),
        STATUS,
    );
    let after = rig.browser.js(STATUS);
    assert_eq!(
        rig.browser.js("return window.__onlineEvents"),
        Value::from(1),
        "the browser fired no `online`, so the test proves nothing of the probe"
    );
    assert_eq!(
        after["state"], "uploading",
        "the note went only at the end: {after}"
    );
    assert!(
        !after["msg"].as_str().unwrap().contains("connection"),
        "{after}"
    );
    println!(
        "during: {during}; back online: the note went after {:?} ({after})",
        back.elapsed()
    );
    rig.wait_state("done");
    let (key, _) = rig.key_and_upload();
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    rig.finish();
}

/// Pause stops the parts and keeps the upload on S3; resume completes it.
#[test]
fn pause_then_resume_completes() {
    let rig = Rig::new("web-pause");
    let file = rig.file("pause.bin", 24 * MIB, 3);
    rig.slow_parts(3, 5, 512 * 1024);
    rig.open(2);
    rig.pick(&file);
    rig.wait_parts_done(2);
    rig.click("li.file .pause");
    rig.wait_state("paused");
    let (key, upload) = rig.key_and_upload();
    assert_eq!(
        rig.srv.list_uploads(&rig.bucket),
        vec![(key.clone(), upload)],
        "the paused upload should stay on S3"
    );
    let seen = rig.proxy.requests().len();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        rig.proxy.requests().len(),
        seen,
        "requests reached the store while the upload was paused"
    );
    let done = rig.file_attr("partsDone");
    rig.proxy.clear_rules();
    rig.click("li.file .resume");
    rig.wait_state("done");
    assert!(
        done.as_str().is_some_and(|d| d != "5"),
        "paused after all parts: {done}"
    );
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    rig.finish();
}

/// A PUT stopped by Pause can still reach the store after the part was sent
/// again (its body sat in buffers on the way). Garage keeps the attempt whose
/// body started arriving last, so that stale body replaces the new attempt and
/// Complete answers InvalidPart: the page sends such parts once more.
#[test]
fn a_stale_part_landing_after_resume_is_sent_again() {
    let rig = Rig::new("web-stale");
    let file = rig.file("stale.bin", 24 * MIB, 5);
    // Part 3's first PUT is held in the proxy, its body buffered, and goes on
    // to the store 3 s later: after Pause aborted it and Resume sent it again.
    rig.proxy.add_rule(Rule::new(
        Match::UploadPartNumber(3),
        Fault::Delay { millis: 3000 },
        Schedule::FirstN(1),
    ));
    // Part 5 is slow, so that Complete comes after the stale body landed.
    rig.slow_parts(5, 5, 1024 * 1024);
    rig.open(2);
    rig.pick(&file);
    let part3 = || {
        rig.proxy
            .requests()
            .iter()
            .filter(|r| r.method == "PUT" && r.query.split('&').any(|q| q == "partNumber=3"))
            .count()
    };
    let started = std::time::Instant::now();
    while part3() == 0 {
        assert!(started.elapsed() < LONG, "part 3 never reached the proxy");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300)); // its body into the buffers
    rig.click("li.file .pause");
    rig.wait_state("paused");
    rig.click("li.file .resume");
    rig.wait_state("done");
    // Sent before the pause, after it, and again after Complete's InvalidPart.
    assert!(part3() >= 3, "part 3 was not sent again: {}", part3());
    let (key, _) = rig.key_and_upload();
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    rig.finish();
}

/// Cancel aborts the upload on S3: ListMultipartUploads shows nothing.
#[test]
fn cancel_leaves_nothing_on_s3() {
    let rig = Rig::new("web-cancel");
    let file = rig.file("cancel.bin", 24 * MIB, 4);
    rig.slow_parts(2, 5, 256 * 1024);
    rig.open(2);
    rig.pick(&file);
    rig.wait_parts_done(1);
    assert_eq!(rig.srv.list_uploads(&rig.bucket).len(), 1);
    rig.click("li.file .cancel");
    rig.wait_state("cancelled");
    let uploads = rig.srv.list_uploads(&rig.bucket);
    assert!(uploads.is_empty(), "left on S3 after cancel: {uploads:?}");
    assert!(
        rig.stored_parts().is_empty(),
        "the page still remembers the upload"
    );
    rig.finish();
}

/// After a reload, *Discard* on an interrupted upload aborts it on S3 and
/// forgets it.
#[test]
fn discarding_an_interrupted_upload_aborts_it() {
    let rig = Rig::new("web-discard");
    let file = rig.file("discard.bin", 16 * MIB, 8);
    rig.slow_parts(2, 4, 256 * 1024);
    rig.open(2);
    rig.pick(&file);
    rig.wait_parts_done(1);
    assert_eq!(rig.srv.list_uploads(&rig.bucket).len(), 1);
    rig.browser.refresh();
    rig.wait_ready();
    rig.click("#pendinglist .discard");
    rig.browser.wait_for(
        "the interrupted upload to go",
        "return document.getElementById('pending').hidden",
        Duration::from_secs(30),
        DESCRIBE,
    );
    let uploads = rig.srv.list_uploads(&rig.bucket);
    assert!(uploads.is_empty(), "left on S3 after Discard: {uploads:?}");
    assert!(rig.stored_parts().is_empty());
    rig.finish();
}

/// The same name, size and modification time, but other bytes: the page finds
/// that the parts on S3 do not match the file, aborts the old upload, and
/// starts afresh. The object equals the new file.
#[test]
fn changed_file_with_same_name_does_not_reuse_parts() {
    let rig = Rig::new("web-changed");
    let file = rig.file("same.bin", 16 * MIB, 1);
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    rig.slow_parts(3, 4, 256 * 1024);
    rig.open(2);
    rig.pick(&file);
    rig.wait_parts_done(2);
    let (old_key, _) = rig.key_and_upload();
    rig.browser.refresh();
    rig.wait_ready();
    rig.settings(2);
    rig.proxy.clear_rules();

    std::fs::write(&file, random_bytes(16 * MIB, 2)).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&file)
        .and_then(|f| f.set_modified(mtime))
        .unwrap();
    rig.pick(&file);
    rig.wait_state("done");
    let msg = rig
        .browser
        .js("return document.querySelector('li.file .msg').textContent");
    let (key, _) = rig.key_and_upload();
    assert_ne!(
        key, old_key,
        "the changed file went to the old upload's key"
    );
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    assert!(
        rig.srv.object_size(&rig.bucket, &old_key).is_none(),
        "the old upload was completed"
    );
    assert!(
        rig.srv.list_uploads(&rig.bucket).is_empty(),
        "the old upload is still on S3"
    );
    let notice = rig
        .browser
        .js("return document.getElementById('list').textContent");
    assert!(
        notice.as_str().is_some_and(|t| t.contains("has changed"))
            || msg.as_str().is_some_and(|t| t.contains("has changed")),
        "the page did not say the file changed: {notice}"
    );
    rig.finish();
}

/// The same name with another size: another file. The old upload is aborted
/// and the new file starts afresh, and the page says so.
#[test]
fn file_with_same_name_and_other_size_starts_afresh() {
    let rig = Rig::new("web-size");
    let file = rig.file("grow.bin", 12 * MIB, 5);
    rig.slow_parts(2, 3, 256 * 1024);
    rig.open(2);
    rig.pick(&file);
    rig.wait_parts_done(1);
    let (old_key, _) = rig.key_and_upload();
    rig.browser.refresh();
    rig.wait_ready();
    rig.settings(2);
    rig.proxy.clear_rules();
    std::fs::write(&file, random_bytes(13 * MIB, 6)).unwrap();
    rig.pick(&file);
    rig.wait_state("done");
    let msg = rig
        .browser
        .js("return document.querySelector('li.file .msg').textContent");
    assert!(
        msg.as_str()
            .is_some_and(|m| m.contains("is not the file whose upload was interrupted")),
        "{msg}"
    );
    let (key, _) = rig.key_and_upload();
    assert_ne!(key, old_key);
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    assert!(
        rig.srv.list_uploads(&rig.bucket).is_empty(),
        "the old upload is still on S3"
    );
    rig.finish();
}

/// An HS256 JWT for alice that expires `secs` seconds from now.
fn jwt(secs: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &serde_json::json!({"sub": "alice-jwt", "prefix": "alice", "exp": now + secs}),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

/// A token that expires mid-upload: the page pauses the file and asks for a
/// token; a fresh one resumes it where it stopped.
#[test]
fn expired_token_pauses_and_a_new_token_resumes() {
    let rig = Rig::new("web-expiry");
    let file = rig.file("expiry.bin", 16 * MIB, 17);
    rig.slow_parts(2, 4, MIB);
    rig.browser
        .goto(&format!("{}/#token={}", rig.recorder.endpoint(), jwt(4)));
    rig.wait_ready();
    rig.settings(1);
    rig.pick(&file);
    rig.browser.wait_for(
        "the expired token to be refused",
        "return document.getElementById('notice').textContent.includes('refused the token')",
        LONG,
        DESCRIBE,
    );
    rig.wait_state("paused");
    let msg = rig
        .browser
        .js("return document.querySelector('li.file .msg').textContent");
    assert!(
        msg.as_str()
            .is_some_and(|m| m.contains("token was refused")),
        "{msg}"
    );
    let done_before = rig.stored_parts();
    rig.proxy.clear_rules();
    rig.browser.fill("#token", &jwt(600));
    rig.click("#tokenform button");
    rig.wait_state("done");
    let (key, _) = rig.key_and_upload();
    assert_object_equals(rig.srv, &rig.bucket, &key, &file);
    for n in done_before {
        assert_eq!(rig.puts_of(n), 1, "part {n} was sent again");
    }
    rig.finish();
}

/// A wrong token: a clear message on the page, the token form again, and the
/// token gone from the address bar; the right one then works.
#[test]
fn wrong_token_shows_a_clear_message() {
    let rig = Rig::new("web-token");
    rig.browser
        .goto(&format!("{}/#token=not-the-token", rig.recorder.endpoint()));
    rig.browser.wait_for(
        "the refusal",
        "return !document.getElementById('notice').hidden && \
         document.getElementById('notice').textContent.includes('refused the token')",
        Duration::from_secs(30),
        DESCRIBE,
    );
    let notice = rig
        .browser
        .js("return document.getElementById('notice').textContent");
    // Issue 23: once, with its full stops ("…: the token was not accepted:
    // ask for a valid one Enter a valid upload token…" said it twice).
    assert_eq!(
        notice.as_str(),
        Some("The server refused the token. Enter a valid upload token to continue."),
        "{notice}"
    );
    assert_eq!(
        rig.browser
            .js("return document.getElementById('tokenform').hidden"),
        Value::Bool(false)
    );
    assert!(
        !rig.browser.current_url().contains("not-the-token"),
        "the token stayed in the URL: {}",
        rig.browser.current_url()
    );
    assert_eq!(
        rig.browser
            .js("return sessionStorage.getItem('s3up.token')"),
        Value::Null,
        "a refused token is kept"
    );
    assert!(
        !rig.serve.log().contains("not-the-token"),
        "serve logged the token"
    );

    rig.browser.fill("#token", TOKEN);
    rig.click("#tokenform button");
    rig.wait_ready();
    assert_eq!(
        rig.browser
            .js("return sessionStorage.getItem('s3up.token')"),
        Value::String(TOKEN.into())
    );
    assert_eq!(
        rig.browser.js("return localStorage.length"),
        Value::from(0),
        "the token must not reach localStorage"
    );
    let page = rig
        .recorder
        .exchanges()
        .into_iter()
        .find(|x| x.target == "/")
        .expect("the page was fetched");
    assert_eq!(page.status, 200);
    rig.finish();

    // The browser enforces the CSP: a connection to another origin is
    // blocked, and the page says so.
    rig.browser
        .js("fetch('http://127.0.0.1:9/elsewhere').catch(() => {}); return true");
    rig.browser.wait_for(
        "the CSP to block a connection elsewhere",
        "return document.getElementById('notice').textContent.includes('security policy blocked')",
        Duration::from_secs(10),
        DESCRIBE,
    );
}

/// A server that answers 503 to the page's first two questions (a Lambda
/// cold start, a throttle) is asked again with backoff: the page accepts the
/// token on the third, with nothing left on its notice.
#[test]
fn a_busy_server_at_start_is_asked_again() {
    let rig = Rig::new("web-busy");
    rig.recorder.add_rule(Rule::new(
        Match::PathEnds("GET", "/s3/whoami"),
        Fault::slow_down(),
        Schedule::FirstN(2),
    ));
    rig.open(2);
    let asked = rig.recorder.count(Match::PathEnds("GET", "/s3/whoami"));
    assert_eq!(asked, 3, "whoami: two 503s, then the answer");
    assert_eq!(
        rig.browser
            .js("return document.getElementById('notice').textContent"),
        Value::String(String::new()),
        "the notice stayed"
    );
}

/// Against `serve --no-auth` (loopback only) the page asks for no token.
#[test]
fn no_token_asked_with_no_auth() {
    let rig = Rig::with_auth("web-noauth", false);
    rig.browser.goto(&format!("{}/", rig.recorder.endpoint()));
    rig.wait_ready();
    rig.settings(2);
    assert_eq!(
        rig.browser
            .js("return document.getElementById('tokenform').hidden"),
        Value::Bool(true)
    );
    let file = rig.file("open.bin", 6 * MIB, 9);
    rig.pick(&file);
    rig.wait_state("done");
    let key = rig.file_attr("key");
    let key = key.as_str().unwrap_or_default();
    assert!(
        key.starts_with("up/") && key.ends_with("-open.bin"),
        "{key}"
    );
    assert_object_equals(rig.srv, &rig.bucket, key, &file);
}

/// The page is served with a strict Content-Security-Policy naming the
/// store's origin for the part PUTs.
#[test]
fn page_has_a_strict_csp() {
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("web-csp");
    let serve = start_serve(srv, &srv.endpoint, &bucket, false, &[]);
    let r = reqwest::blocking::get(format!("{}/", serve.url)).unwrap();
    assert_eq!(r.status(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(
        csp.contains(&format!("connect-src 'self' {}", srv.endpoint)),
        "{csp}"
    );
    assert!(!csp.contains("unsafe"), "{csp}");
    let html = r.text().unwrap();
    assert!(
        html.contains("app.js") && !html.contains("<script>"),
        "{html}"
    );
    for (path, kind) in [
        ("/app.js", "text/javascript"),
        ("/api.js", "text/javascript"),
        ("/dom.js", "text/javascript"),
        ("/records.js", "text/javascript"),
        ("/upload.js", "text/javascript"),
        ("/view.js", "text/javascript"),
        ("/style.css", "text/css"),
    ] {
        let r = reqwest::blocking::get(format!("{}{path}", serve.url)).unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(kind),
            "{path}"
        );
    }
}

/// A stock Uppy page (`@uppy/core` and `@uppy/aws-s3` 6.3.1 as published,
/// bundled in tests/uppy/bundle.js), on an origin of its own, with
/// `companionEndpoint` pointed at `serve`: a multipart file and a small one
/// (the presigned POST form of `/s3/params`) both arrive intact. Uppy's
/// Companion client sends no Authorization header and has no option to add
/// one, so a stock page works only with `--no-auth` (or behind a proxy that
/// authenticates); `--cors-origin` lets its origin call `serve`.
#[test]
fn stock_uppy_page_uploads_through_serve() {
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("web-uppy");
    let site = StaticSite::start(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/uppy"));
    let serve = start_serve(
        srv,
        &srv.endpoint,
        &bucket,
        true,
        &["--cors-origin", &site.url()],
    );
    let browser = Browser::start();
    browser.goto(&format!("{}/#endpoint={}", site.url(), serve.url));
    let scratch = Scratch::new();
    let big = scratch.file("uppy-big.bin", 12 * MIB + 17, 21);
    let small = scratch.file("uppy-small.bin", MIB, 22);
    browser.pick("#files", &[&big, &small]);
    browser.wait_for(
        "Uppy to finish",
        "return document.getElementById('status').textContent === 'done'",
        LONG,
        "return JSON.stringify(window.uppyResult || null)",
    );
    let result = browser.js("return window.uppyResult");
    assert_eq!(
        result["failed"].as_array().map(Vec::len),
        Some(0),
        "Uppy failed: {result}; serve: {}",
        serve.log()
    );
    let done = result["successful"].as_array().expect("a list");
    assert_eq!(done.len(), 2, "{result}");
    for f in done {
        let name = f["name"].as_str().unwrap_or_default();
        let key = f["key"].as_str().unwrap_or_default();
        assert!(key.starts_with("up/") && key.ends_with(name), "{result}");
        let file = if name == "uppy-big.bin" { &big } else { &small };
        assert_object_equals(srv, &bucket, key, file);
    }
    assert!(srv.list_uploads(&bucket).is_empty());
    let log = serve.log();
    for route in ["/s3/multipart/{upload_id}/complete", "/s3/params"] {
        assert!(log.contains(route), "Uppy never called {route}: {log}");
    }
}
