//! Uppy Companion as a `--via` backend (DESIGN §4b): the stock npm package
//! from tests/companion, started on loopback in front of a test server, for
//! the tests that check s3up against the real peer (files in via.rs, streams
//! in stdin.rs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::{Scratch, Server};

/// Uppy Companion (tests/companion, installed by scripts/install-servers),
/// configured as its docs say, on loopback in front of `endpoint`; killed
/// when dropped.
pub struct Companion {
    child: Child,
    pub url: String,
    log: PathBuf,
    _dir: Scratch,
}

impl Companion {
    pub fn start(srv: &Server, endpoint: &str, bucket: &str) -> Companion {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/companion");
        let bin = root.join("node_modules/@uppy/companion/bin/companion");
        assert!(
            bin.exists(),
            "Uppy Companion is not installed: run scripts/install-servers ({})",
            bin.display()
        );
        let dir = Scratch::new();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let env: std::collections::HashMap<String, String> = srv.env().into_iter().collect();
        let log = dir.dir.path().join("companion.log");
        let child = Command::new("node")
            .arg(&bin)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir.dir.path())
            .env("COMPANION_AWS_KEY", &env["AWS_ACCESS_KEY_ID"])
            .env("COMPANION_AWS_SECRET", &env["AWS_SECRET_ACCESS_KEY"])
            .env("COMPANION_AWS_REGION", &env["AWS_REGION"])
            .env("COMPANION_AWS_BUCKET", bucket)
            .env("COMPANION_AWS_ENDPOINT", endpoint)
            .env("COMPANION_AWS_FORCE_PATH_STYLE", "true")
            .env("COMPANION_DATADIR", dir.dir.path())
            .env("COMPANION_DOMAIN", format!("127.0.0.1:{port}"))
            .env("COMPANION_PROTOCOL", "http")
            .env("COMPANION_PORT", port.to_string())
            .env("COMPANION_SECRET", "companion-test-secret-0123456789")
            .env("COMPANION_CLIENT_ORIGINS", "true")
            .env("COMPANION_UPLOAD_URLS", "http://127.0.0.1/.*")
            // DESIGN §4b: without it, aws-sdk-js signs a CRC32 of an empty
            // body into every part URL, and Garage refuses the parts.
            .env("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.dir.path().join("companion.err")).unwrap())
            .spawn()
            .expect("spawn node (Uppy Companion)");
        let mut companion = Companion {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = companion.child.try_wait().unwrap() {
                panic!("Companion exited ({status}): {}", companion.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "Companion did not listen: {}",
                companion.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        companion
    }

    pub fn log_text(&self) -> String {
        let err = self.log.with_file_name("companion.err");
        format!(
            "{}{}",
            std::fs::read_to_string(&self.log).unwrap_or_default(),
            std::fs::read_to_string(err).unwrap_or_default()
        )
    }
}

impl Drop for Companion {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
