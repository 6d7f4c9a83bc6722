//! The one `s3up serve` fixture of the end-to-end tests: the built binary on a
//! free loopback port, in front of a store endpoint (a server or a fault proxy),
//! with the tokens, JWT secret, options and environment a test asks for. Its
//! log is kept in its own scratch dir; it can be stopped and started again on
//! the same address (a backend that goes away and comes back); it is killed
//! when dropped.

use std::path::PathBuf;
use std::process::{Child, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{Scratch, Server};

/// A running `s3up serve`, killed when dropped.
pub struct Serve {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`, as serve printed it.
    pub url: String,
    log: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    endpoint: String,
    scratch: Scratch,
}

/// What a [`Serve`] starts with; see [`Serve::on`].
pub struct ServeBuilder<'s> {
    srv: &'s Server,
    endpoint: String,
    bucket: String,
    tokens: Option<String>,
    jwt_secret: Option<String>,
    args: Vec<String>,
    envs: Vec<(String, String)>,
}

/// A tokens-file entry's first field for `token`: its SHA-256, as serve reads it.
pub fn hashed(token: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(token.as_bytes())))
}

impl<'s> ServeBuilder<'s> {
    /// The `--tokens` file's text.
    pub fn tokens(mut self, text: &str) -> Self {
        self.tokens = Some(text.to_string());
        self
    }

    /// The `--jwt-secret-file`'s text.
    pub fn jwt_secret(mut self, text: &str) -> Self {
        self.jwt_secret = Some(text.to_string());
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    pub fn envs(mut self, envs: &[(&str, &str)]) -> Self {
        self.envs
            .extend(envs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        self
    }

    /// Starts it and waits for the address it prints.
    pub fn start(self) -> Serve {
        let scratch = Scratch::new();
        let mut args: Vec<String> = ["serve", "--listen", "127.0.0.1:0", "--bucket"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        args.extend([self.bucket, "--prefix".into(), "up".into()]);
        let mut file = |name: &str, flag: &str, text: Option<String>| {
            if let Some(text) = text {
                let path = scratch.dir.path().join(name);
                std::fs::write(&path, text).unwrap();
                args.extend([flag.to_string(), path.to_string_lossy().into_owned()]);
            }
        };
        file("tokens", "--tokens", self.tokens);
        file("jwt-secret", "--jwt-secret-file", self.jwt_secret);
        args.extend(self.args);
        let mut serve = Serve {
            child: None,
            url: String::new(),
            log: scratch.dir.path().join("serve.log"),
            args,
            envs: self.envs,
            endpoint: self.endpoint,
            scratch,
        };
        serve.spawn(self.srv, None);
        serve
    }
}

impl Serve {
    /// `s3up serve` for `bucket` under `--prefix up`, with the credentials of
    /// `srv`, in front of `endpoint`.
    pub fn on<'s>(srv: &'s Server, endpoint: &str, bucket: &str) -> ServeBuilder<'s> {
        ServeBuilder {
            srv,
            endpoint: endpoint.to_string(),
            bucket: bucket.to_string(),
            tokens: None,
            jwt_secret: None,
            args: Vec::new(),
            envs: Vec::new(),
        }
    }

    /// Starts the process; `at` reuses an earlier address (a restart). The
    /// log is appended to, so it tells the whole story across restarts.
    fn spawn(&mut self, srv: &Server, at: Option<&str>) {
        let mut args = self.args.clone();
        if let Some(addr) = at {
            args[2] = addr.to_string();
        }
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let mut child = self
            .scratch
            .s3up_std(srv, &self.endpoint)
            .args(&args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("spawn s3up serve");
        self.url = super::serve_address(&mut child, &self.log);
        self.child = Some(child);
    }

    /// `path` on serve, e.g. `/healthz`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// What serve has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("serve is running").id()
    }

    /// Its exit status, if it has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut()?.try_wait().unwrap()
    }

    /// Kills it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same address.
    pub fn restart(&mut self, srv: &Server) {
        let addr = self.url.trim_start_matches("http://").to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // The old socket may linger a moment; serve reuses the address as
            // soon as the kernel lets it.
            if std::net::TcpListener::bind(&addr).is_ok() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.spawn(srv, Some(&addr));
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.stop();
    }
}
