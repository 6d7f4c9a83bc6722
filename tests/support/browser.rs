//! The browser half of the end-to-end tests: Debian's headless Chromium driven
//! over WebDriver (fantoccini) through a chromedriver this fixture starts and
//! stops, and a static file server for a page on an origin of its own. The
//! recording proxy the page is loaded through is the fault proxy's recording
//! mode ([`super::proxy::FaultProxy::recording`]).
//!
//! A missing browser fails the test with a message naming
//! `scripts/install-servers`; it never skips, so CI cannot pass without it.
//!
//! Chrome DevTools Protocol commands (network conditions, for one) go through
//! chromedriver's `goog/cdp/execute` endpoint ([`Browser::cdp`]), which
//! fantoccini does not wrap.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Chromium's flags here (DESIGN §4b, .library's rust.md): root needs
/// `--no-sandbox`; a small /dev/shm needs `--disable-dev-shm-usage`; the
/// closed network refuses Chromium's own background connections unless they
/// are turned off.
const CHROMIUM_FLAGS: [&str; 11] = [
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1100,900",
    "--hide-scrollbars",
];

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A headless Chromium session. Dropping it ends the session (and Chromium)
/// and stops chromedriver.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    _profile: tempfile::TempDir,
    driver_log: PathBuf,
    /// chromedriver's URL, `http://127.0.0.1:PORT`.
    webdriver: String,
}

impl Browser {
    pub fn start() -> Browser {
        let (Some(chromium), Some(chromedriver)) =
            (find_program("chromium"), find_program("chromedriver"))
        else {
            panic!(
                "the browser tests need Debian's chromium and chromium-driver, and `chromium` or \
                 `chromedriver` is not on PATH: run scripts/install-servers, which installs them"
            );
        };
        let profile = tempfile::tempdir().expect("temp dir for the Chromium profile");
        let driver_log = profile.path().join("chromedriver.log");
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&driver_log).expect("chromedriver log"))
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}. Run scripts/install-servers",
                    chromedriver.display()
                )
            });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            rt,
            client: None,
            driver,
            _profile: profile,
            driver_log,
            webdriver: webdriver.clone(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = browser.driver.try_wait() {
                panic!("chromedriver exited ({status}): {}", browser.driver_log());
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen within 20 s: {}",
                browser.driver_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser._profile.path().join("profile").display()
        ));
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium.to_string_lossy(), "args": args },
        });
        let Value::Object(caps) = caps else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = browser
            .rt
            .block_on(
                ClientBuilder::new(connector)
                    .capabilities(caps)
                    .connect(&webdriver),
            )
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start a Chromium session ({e}); is chromium-driver the same version as chromium? \
                     Run scripts/install-servers. chromedriver said: {}",
                    browser.driver_log()
                )
            });
        browser.client = Some(client);
        browser
    }

    fn driver_log(&self) -> String {
        std::fs::read_to_string(&self.driver_log).unwrap_or_default()
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.c().goto(url))
            .unwrap_or_else(|e| panic!("goto {url}: {e}"));
    }

    pub fn refresh(&self) {
        self.rt
            .block_on(self.c().refresh())
            .unwrap_or_else(|e| panic!("reload: {e}"));
    }

    pub fn current_url(&self) -> String {
        self.rt
            .block_on(self.c().current_url())
            .map(|u| u.to_string())
            .unwrap_or_else(|e| panic!("current URL: {e}"))
    }

    /// Runs `script` (a function body: `return …`) in the page.
    pub fn js(&self, script: &str) -> Value {
        self.rt
            .block_on(self.c().execute(script, vec![]))
            .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Polls `script` until it returns true; panics after `timeout`, quoting
    /// what `describe` (another script) says about the page then.
    pub fn wait_for(&self, what: &str, script: &str, timeout: Duration, describe: &str) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.js(script) == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "timed out after {timeout:?} waiting for {what}; the page: {}",
                    self.js(describe)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Picks `files` in the file input, as a user choosing them would.
    pub fn pick(&self, css: &str, files: &[&Path]) {
        let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
        self.rt
            .block_on(async {
                let input = self.c().find(Locator::Css(css)).await?;
                input.send_keys(&paths.join("\n")).await
            })
            .unwrap_or_else(|e| panic!("pick {paths:?} in {css}: {e}"));
    }

    pub fn click(&self, css: &str) {
        self.rt
            .block_on(async { self.c().find(Locator::Css(css)).await?.click().await })
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    pub fn fill(&self, css: &str, text: &str) {
        self.rt
            .block_on(async {
                let e = self.c().find(Locator::Css(css)).await?;
                e.clear().await?;
                e.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Runs the Chrome DevTools Protocol command `cmd` with `params` in the
    /// page's target and returns its result.
    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        let session = self
            .rt
            .block_on(self.c().session_id())
            .ok()
            .flatten()
            .expect("a WebDriver session id");
        let url = format!("{}/session/{session}/goog/cdp/execute", self.webdriver);
        let answer = reqwest::blocking::Client::new()
            .post(&url)
            .json(&json!({ "cmd": cmd, "params": params }))
            .timeout(Duration::from_secs(30))
            .send()
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"));
        let status = answer.status();
        let body: Value = answer
            .json()
            .unwrap_or_else(|e| panic!("CDP {cmd}: an answer that is not JSON ({e})"));
        assert!(status.is_success(), "CDP {cmd} {params}: {status} {body}");
        body["value"].clone()
    }

    /// Takes the page offline, or back online, as DevTools' *Offline* does:
    /// new requests fail at once and `navigator.onLine` follows; requests
    /// already on their way finish (Chromium 156).
    pub fn set_offline(&self, offline: bool) {
        // The conditions apply only with the Network domain on. Without a
        // limit on the request bodies its events carry, each part's body is
        // copied into them, and the page's thread stalls for seconds.
        self.cdp("Network.enable", json!({ "maxPostDataSize": 1 }));
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({
                "offline": offline,
                "latency": 0,
                "downloadThroughput": -1,
                "uploadThroughput": -1,
            }),
        );
    }

    pub fn screenshot(&self, to: &Path) {
        let png = self
            .rt
            .block_on(self.c().screenshot())
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).expect("screenshot directory");
        }
        std::fs::write(to, png).expect("write the screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(10), client.close()).await
            });
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A static file server on loopback, for a page whose origin is not
/// `serve`'s (the stock Uppy page). `/` is `index.html`.
pub struct StaticSite {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl StaticSite {
    pub fn start(dir: &Path) -> StaticSite {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the static site");
        let addr = listener.local_addr().expect("static site address");
        let stop = Arc::new(AtomicBool::new(false));
        let (dir, stop2) = (dir.to_path_buf(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let dir = dir.clone();
                std::thread::spawn(move || serve_file(conn, &dir));
            }
        });
        StaticSite { addr, stop }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for StaticSite {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve_file(conn: TcpStream, dir: &Path) {
    let Ok(clone) = conn.try_clone() else { return };
    let mut reader = BufReader::new(clone);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/");
    let name = match path.split(['?', '#']).next().unwrap_or("/") {
        "/" => "index.html",
        p => p.trim_start_matches('/'),
    };
    let found = (!name.contains("..") && !name.contains('/'))
        .then(|| std::fs::read(dir.join(name)).ok())
        .flatten();
    let mut conn = conn;
    let (status, kind, body) = match found {
        Some(body) if name.ends_with(".js") => ("200 OK", "text/javascript", body),
        Some(body) => ("200 OK", "text/html; charset=utf-8", body),
        None => ("404 Not Found", "text/plain", b"not found".to_vec()),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(&body);
    let _ = conn.shutdown(Shutdown::Both);
}
