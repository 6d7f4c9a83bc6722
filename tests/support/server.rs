//! Real S3 servers for the end-to-end tests: it starts Garage 2.5.0 (one node)
//! or moto's standalone server on free loopback ports, once per test binary,
//! and gives tests buckets, credentials, a client, and blocking helpers to
//! check what actually landed on the server. DESIGN.md section 5 explains why
//! the suite always runs against real servers, and against these two.
//!
//! Install both with `scripts/install-servers`. `S3UP_GARAGE` and
//! `S3UP_MOTO_SERVER` name other binaries to use instead of the installed ones.
//!
//! When `S3UP_TEST_ENDPOINT` is set, no server is started: `server(Kind::Garage)`
//! and `server(Kind::Moto)` both return one `Kind::External` server for that
//! endpoint, with credentials from `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`
//! (and `AWS_SESSION_TOKEN` if set) and the region from `AWS_REGION` (default
//! us-east-1). `new_bucket` still creates a fresh bucket per call there; the
//! buckets are not deleted afterwards.
//!
//! A started server lives exactly as long as the test process. Statics never
//! drop, so each server runs under a small `sh` watchdog whose stdin is a pipe
//! held by the `Server`: when the test process exits for any reason, even
//! SIGKILL, the pipe closes, the watchdog kills the server and removes its temp
//! directory (config, data, log) under the system temp dir.

use std::fmt::Write as _;
use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::{
    BehaviorVersion, Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Garage,
    Moto,
    External,
}

pub struct Server {
    pub kind: Kind,
    /// `http://127.0.0.1:PORT` for the local servers.
    pub endpoint: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
    session_token: Option<String>,
    /// Serves the blocking helpers; a runtime of our own so they work from
    /// plain `#[test]`s and from inside a test's own runtime alike.
    runtime: tokio::runtime::Runtime,
    /// Only ever driven on `runtime`: its pooled connections belong there.
    helper_client: Client,
    /// `None` for `Kind::External`. Held for the life of the process:
    /// dropping its stdin end stops the server.
    watchdog: Option<Watchdog>,
}

#[derive(Debug, Clone)]
pub struct ListedPart {
    pub number: i32,
    pub size: i64,
    /// As the server sends it, quotes included.
    pub etag: String,
    /// moto leaves this out of ListParts; Garage returns it for parts uploaded
    /// with a SHA-256 checksum.
    pub checksum_sha256: Option<String>,
}

/// Returns the shared server of `kind`, starting it on first use. A failed
/// start is remembered, so every later test fails at once with the same
/// message instead of waiting out the startup deadline again.
pub fn server(kind: Kind) -> &'static Server {
    static GARAGE: OnceLock<Result<Server, String>> = OnceLock::new();
    static MOTO: OnceLock<Result<Server, String>> = OnceLock::new();
    static EXTERNAL: OnceLock<Result<Server, String>> = OnceLock::new();

    let external = std::env::var("S3UP_TEST_ENDPOINT")
        .ok()
        .filter(|e| !e.is_empty());
    let started = match (external, kind) {
        (Some(endpoint), _) => EXTERNAL.get_or_init(|| Server::external(endpoint)),
        (None, Kind::Garage) => GARAGE.get_or_init(start_garage),
        (None, Kind::Moto) => MOTO.get_or_init(start_moto),
        (None, Kind::External) => {
            panic!("server(Kind::External) needs S3UP_TEST_ENDPOINT (and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) to be set")
        }
    };
    match started {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// How long a server may take from spawn to answering S3 requests; Garage
/// typically needs well under 5 s, moto about 1 s, but CI machines are slow
/// while they compile.
const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// Garage signs and checks requests against its configured region, and
/// rejects a CreateBucket location constraint naming any other.
const GARAGE_REGION: &str = "garage";
/// moto's default; the one region where CreateBucket takes no constraint.
const MOTO_REGION: &str = "us-east-1";

/// A fixed key keeps failing runs reproducible with plain `aws` commands.
/// Garage wants `GK` + 24 hex digits and 64 hex digits of secret.
const GARAGE_KEY_ID: &str = "GK5333757074657374316b6579";
const GARAGE_SECRET: &str = "733375702d746573742d7365637265742d666f722d6761726167652d6e6f6465";
const GARAGE_KEY_NAME: &str = "s3up-test";
const GARAGE_VERSION: &str = "2.5.0";

/// Kills the server when our stdin closes, then removes `$S3UP_SERVER_DIR`.
/// The killer is a separate background job so that `sh` itself exits as soon
/// as the server dies on its own, which `try_wait` turns into an immediate,
/// explained startup failure; the directory, and its log, stay until the test
/// process exits, so the failure message can quote the log.
const WATCHDOG: &str = r#"exec 3<&0
"$@" </dev/null >>"$S3UP_SERVER_DIR/server.log" 2>&1 &
pid=$!
(
  read _ignored <&3
  kill "$pid" 2>/dev/null
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -rf "$S3UP_SERVER_DIR"
) </dev/null >/dev/null 2>&1 &
wait "$pid"
"#;

struct Watchdog {
    child: Child,
    _stdin: ChildStdin,
    dir: PathBuf,
}

impl Watchdog {
    fn spawn(dir: PathBuf, program: &Path, args: &[&str], envs: &[(&str, &str)]) -> Watchdog {
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(WATCHDOG)
            .arg("s3up-server-watchdog")
            .arg(program)
            .args(args)
            .env("S3UP_SERVER_DIR", &dir)
            .envs(envs.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run sh to start {}: {e}", program.display()));
        let stdin = child.stdin.take().expect("stdin was piped");
        Watchdog {
            child,
            _stdin: stdin,
            dir,
        }
    }

    /// Fails with the log tail when the server has already exited, so a bad
    /// config or a taken port is reported at once, not at the deadline.
    fn check_alive(&mut self, what: &str) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(format!(
                "{what} exited during startup ({status}){}",
                self.log_tail()
            )),
            Err(e) => Err(format!("cannot check on {what}: {e}")),
        }
    }

    fn log_tail(&self) -> String {
        let path = self.dir.join("server.log");
        match std::fs::read_to_string(&path) {
            Ok(log) => {
                let lines: Vec<&str> = log.lines().collect();
                let tail = &lines[lines.len().saturating_sub(40)..];
                format!(
                    "\n--- last lines of {} ---\n{}",
                    path.display(),
                    tail.join("\n")
                )
            }
            Err(e) => format!("\n(no log at {}: {e})", path.display()),
        }
    }
}

fn start_garage() -> Result<Server, String> {
    let started = Instant::now();
    let garage = find_garage()?;
    let dir = temp_dir("garage")?;
    let [s3_port, rpc_port] = free_ports::<2>()?;
    let config = format!(
        r#"metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "lmdb"
replication_factor = 1

rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "{GARAGE_REGION}"
api_bind_addr = "127.0.0.1:{s3_port}"
root_domain = ".s3.garage.localhost"
"#,
        dir = dir.display(),
        secret = random_hex64(),
    );
    let conf = dir.join("garage.toml");
    std::fs::write(&conf, config).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;

    let conf_arg = conf.to_string_lossy().into_owned();
    let mut watchdog = Watchdog::spawn(
        dir,
        &garage,
        &["-c", &conf_arg, "server"],
        &[("RUST_LOG", "garage=info")],
    );
    let cli = |args: &[&str]| -> Output {
        Command::new(&garage)
            .arg("-c")
            .arg(&conf)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", garage.display()))
    };
    let deadline = started + STARTUP_DEADLINE;

    // `status` answers once the RPC listener is up, and the node key that
    // `node id` reads is written before that.
    poll_until(&mut watchdog, deadline, "garage status", || {
        let out = cli(&["status"]);
        out.status
            .success()
            .then_some(())
            .ok_or_else(|| describe(&out))
    })?;
    let node_id = run_ok(cli(&["node", "id", "-q"]), "garage node id")
        .map_err(|e| e + &watchdog.log_tail())?;
    let node_id = node_id
        .trim()
        .split('@')
        .next()
        .unwrap_or_default()
        .to_owned();
    let steps: [&[&str]; 4] = [
        &["layout", "assign", "-z", "dc1", "-c", "1G", &node_id],
        &["layout", "apply", "--version", "1"],
        &[
            "key",
            "import",
            "--yes",
            "-n",
            GARAGE_KEY_NAME,
            GARAGE_KEY_ID,
            GARAGE_SECRET,
        ],
        // Lets new_bucket use CreateBucket like on every other server,
        // instead of two CLI round trips per bucket.
        &["key", "allow", "--create-bucket", GARAGE_KEY_NAME],
    ];
    for args in steps {
        run_ok(cli(args), &format!("garage {}", args.join(" ")))
            .map_err(|e| e + &watchdog.log_tail())?;
    }

    let mut server = Server::new(
        Kind::Garage,
        format!("http://127.0.0.1:{s3_port}"),
        GARAGE_REGION,
        GARAGE_KEY_ID,
        GARAGE_SECRET,
        None,
        Some(watchdog),
    )?;
    server.wait_until_serving(deadline)?;
    report_startup("garage", &server, started);
    Ok(server)
}

fn start_moto() -> Result<Server, String> {
    let started = Instant::now();
    let moto = find_moto()?;
    let dir = temp_dir("moto")?;
    let [port] = free_ports::<1>()?;
    let port_arg = port.to_string();
    let watchdog = Watchdog::spawn(dir, &moto, &["-H", "127.0.0.1", "-p", &port_arg], &[]);
    let mut server = Server::new(
        Kind::Moto,
        format!("http://127.0.0.1:{port}"),
        MOTO_REGION,
        // moto accepts any credentials; these only make requests look real.
        "AKIAS3UPTESTMOTO0000",
        "s3up-test-secret-for-local-moto-server-00",
        None,
        Some(watchdog),
    )?;
    server.wait_until_serving(started + STARTUP_DEADLINE)?;
    report_startup("moto", &server, started);
    Ok(server)
}

/// Startup time is worth seeing in `--nocapture` runs: it is most of a cold
/// e2e run's overhead.
fn report_startup(name: &str, server: &Server, started: Instant) {
    eprintln!(
        "[s3up test] {name} serving at {} after {:.2} s",
        server.endpoint,
        started.elapsed().as_secs_f64()
    );
}

impl Server {
    fn new(
        kind: Kind,
        endpoint: String,
        region: &str,
        access_key: &str,
        secret_key: &str,
        session_token: Option<String>,
        watchdog: Option<Watchdog>,
    ) -> Result<Server, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3up-test-server")
            .enable_all()
            .build()
            .map_err(|e| format!("cannot build the test fixture's tokio runtime: {e}"))?;
        let helper_client = Client::from_conf(
            client_config(&endpoint, region, access_key, secret_key, &session_token).build(),
        );
        Ok(Server {
            kind,
            endpoint,
            region: region.to_owned(),
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            session_token,
            runtime,
            helper_client,
            watchdog,
        })
    }

    fn external(endpoint: String) -> Result<Server, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let (Some(access_key), Some(secret_key)) =
            (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(format!(
                "S3UP_TEST_ENDPOINT={endpoint} also needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
            ));
        };
        let region = var("AWS_REGION").unwrap_or_else(|| "us-east-1".to_owned());
        Server::new(
            Kind::External,
            endpoint,
            &region,
            &access_key,
            &secret_key,
            var("AWS_SESSION_TOKEN"),
            None,
        )
    }

    /// Retries are off so each probe fails fast and the deadline stays ours.
    fn wait_until_serving(&mut self, deadline: Instant) -> Result<(), String> {
        let probe = Client::from_conf(
            self.client_config()
                .retry_config(RetryConfig::disabled())
                .build(),
        );
        loop {
            if let Some(watchdog) = &mut self.watchdog {
                watchdog.check_alive(&format!("{:?} server", self.kind))?;
            }
            let last_error = match self.block_on(probe.list_buckets().send()) {
                Ok(_) => return Ok(()),
                Err(e) => DisplayErrorContext(&e).to_string(),
            };
            if Instant::now() > deadline {
                let tail = self
                    .watchdog
                    .as_ref()
                    .map(Watchdog::log_tail)
                    .unwrap_or_default();
                return Err(format!(
                    "{:?} server at {} did not answer ListBuckets within {STARTUP_DEADLINE:?}: {last_error}{tail}",
                    self.kind, self.endpoint
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Unique, valid bucket name starting with `prefix` (lowercased, invalid
    /// characters replaced); the bucket exists and answers when this returns.
    pub fn new_bucket(&self, prefix: &str) -> String {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        // pid alone repeats across runs against a long-lived external server,
        // where names also live in a namespace shared with other accounts.
        let salt = process_salt();
        let mut clean: String = prefix
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9') => c,
                _ => '-',
            })
            .collect();
        clean = clean.trim_matches('-').to_owned();
        if clean.is_empty() {
            clean = "s3up".to_owned();
        }
        for _ in 0..10 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let suffix = format!("-{n}-{}-{salt:04x}", std::process::id());
            let mut name = clean.clone();
            name.truncate(63 - suffix.len());
            let name = format!("{}{suffix}", name.trim_end_matches('-'));

            let mut create = self.helper_client.create_bucket().bucket(&name);
            if self.region != "us-east-1" {
                create = create.create_bucket_configuration(
                    CreateBucketConfiguration::builder()
                        .location_constraint(BucketLocationConstraint::from(self.region.as_str()))
                        .build(),
                );
            }
            match self.block_on(create.send()) {
                Ok(_) => {
                    self.wait_for_bucket(&name);
                    return name;
                }
                Err(e)
                    if e.as_service_error().is_some_and(|s| {
                        s.is_bucket_already_exists() || s.is_bucket_already_owned_by_you()
                    }) =>
                {
                    continue
                }
                Err(e) => panic!(
                    "CreateBucket {name} on {:?} server {}: {}",
                    self.kind,
                    self.endpoint,
                    DisplayErrorContext(&e)
                ),
            }
        }
        panic!("no free bucket name for prefix {prefix:?} after 10 tries")
    }

    /// Creates a bucket with exactly this name (another server's, for tests
    /// that point a command at the wrong store).
    pub fn create_bucket_named(&self, name: &str) {
        let create = self.helper_client.create_bucket().bucket(name);
        if let Err(e) = self.block_on(create.send()) {
            panic!(
                "CreateBucket {name} on {:?} server {}: {}",
                self.kind,
                self.endpoint,
                DisplayErrorContext(&e)
            );
        }
        self.wait_for_bucket(name);
    }

    /// Real S3 may take a moment before a new bucket answers everywhere.
    fn wait_for_bucket(&self, bucket: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let result = self.block_on(self.helper_client.head_bucket().bucket(bucket).send());
            match result {
                Ok(_) => return,
                Err(e) if Instant::now() > deadline => panic!(
                    "bucket {bucket} was created but HeadBucket still fails: {}",
                    DisplayErrorContext(&e)
                ),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// The environment for running the s3up binary against this server.
    /// Beyond credentials, region and endpoint it points the AWS config files
    /// at nothing and blanks the session token, so a developer's `~/.aws` or
    /// shell cannot redirect or sign the test's requests differently.
    pub fn env(&self) -> Vec<(String, String)> {
        let none = std::env::temp_dir().join("s3up-test-no-aws-config");
        let none = none.to_string_lossy();
        let mut env = vec![
            ("AWS_ACCESS_KEY_ID", self.access_key.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret_key.as_str()),
            (
                "AWS_SESSION_TOKEN",
                self.session_token.as_deref().unwrap_or(""),
            ),
            ("AWS_REGION", self.region.as_str()),
            ("AWS_DEFAULT_REGION", self.region.as_str()),
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            // Takes precedence over AWS_ENDPOINT_URL in the SDK.
            ("AWS_ENDPOINT_URL_S3", self.endpoint.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_PROFILE", "default"),
            ("AWS_CONFIG_FILE", &none),
            ("AWS_SHARED_CREDENTIALS_FILE", &none),
        ];
        if self.kind == Kind::External {
            // The developer chose this endpoint and may rely on their config.
            env.retain(|(k, _)| {
                !matches!(
                    *k,
                    "AWS_PROFILE" | "AWS_CONFIG_FILE" | "AWS_SHARED_CREDENTIALS_FILE"
                )
            });
        }
        env.into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// A new client for this server. New on every call because a client's
    /// connection pool belongs to the runtime that first uses it, and each
    /// `#[tokio::test]` has its own runtime that dies with the test.
    pub fn client(&self) -> Client {
        Client::from_conf(self.client_config().build())
    }

    fn client_config(&self) -> aws_sdk_s3::config::Builder {
        client_config(
            &self.endpoint,
            &self.region,
            &self.access_key,
            &self.secret_key,
            &self.session_token,
        )
    }

    /// SHA-256 of the object's body, streamed; `None` when there is no such key.
    pub fn object_sha256(&self, bucket: &str, key: &str) -> Option<[u8; 32]> {
        let client = &self.helper_client;
        self.block_on(async {
            let mut body = match client.get_object().bucket(bucket).key(key).send().await {
                Ok(out) => out.body,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => return None,
                Err(e) => panic!("GetObject {bucket}/{key}: {}", DisplayErrorContext(&e)),
            };
            let mut hasher = Sha256::new();
            while let Some(chunk) = body
                .try_next()
                .await
                .unwrap_or_else(|e| panic!("reading {bucket}/{key}: {e}"))
            {
                hasher.update(&chunk);
            }
            Some(hasher.finalize().into())
        })
    }

    pub fn object_size(&self, bucket: &str, key: &str) -> Option<u64> {
        let result = self.block_on(
            self.helper_client
                .head_object()
                .bucket(bucket)
                .key(key)
                .send(),
        );
        match result {
            Ok(out) => {
                let len = out.content_length().unwrap_or_else(|| {
                    panic!("HeadObject {bucket}/{key} returned no Content-Length")
                });
                Some(u64::try_from(len).unwrap_or_else(|_| {
                    panic!("HeadObject {bucket}/{key}: negative Content-Length {len}")
                }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => None,
            Err(e) => panic!("HeadObject {bucket}/{key}: {}", DisplayErrorContext(&e)),
        }
    }

    /// Every key under `prefix` in `bucket`, sorted, following pagination.
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let client = &self.helper_client;
        self.block_on(async {
            let mut keys = Vec::new();
            let mut token = None;
            loop {
                let out = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(prefix)
                    .set_continuation_token(token.take())
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("ListObjectsV2 {bucket}: {}", DisplayErrorContext(&e))
                    });
                keys.extend(
                    out.contents()
                        .iter()
                        .filter_map(|o| o.key().map(str::to_string)),
                );
                token = out.next_continuation_token().map(str::to_string);
                if token.is_none() {
                    break;
                }
            }
            keys.sort();
            keys
        })
    }

    pub fn put_object(&self, bucket: &str, key: &str, body: Vec<u8>) {
        let request = self
            .helper_client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send();
        if let Err(e) = self.block_on(request) {
            panic!("PutObject {bucket}/{key}: {}", DisplayErrorContext(&e));
        }
    }

    /// Every in-progress multipart upload in `bucket` as (key, upload id),
    /// following pagination.
    pub fn list_uploads(&self, bucket: &str) -> Vec<(String, String)> {
        let client = &self.helper_client;
        self.block_on(async {
            let mut uploads = Vec::new();
            let mut markers: (Option<String>, Option<String>) = (None, None);
            loop {
                let out = client
                    .list_multipart_uploads()
                    .bucket(bucket)
                    .set_key_marker(markers.0.take())
                    .set_upload_id_marker(markers.1.take())
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!("ListMultipartUploads {bucket}: {}", DisplayErrorContext(&e))
                    });
                for upload in out.uploads() {
                    uploads.push((
                        upload.key().unwrap_or_default().to_owned(),
                        upload.upload_id().unwrap_or_default().to_owned(),
                    ));
                }
                if !out.is_truncated().unwrap_or(false) {
                    return uploads;
                }
                markers = (
                    out.next_key_marker().map(str::to_owned),
                    out.next_upload_id_marker().map(str::to_owned),
                );
                assert!(
                    markers.0.is_some(),
                    "ListMultipartUploads {bucket} is truncated but gives no NextKeyMarker"
                );
            }
        })
    }

    /// Every part of one upload, following pagination.
    pub fn list_parts(&self, bucket: &str, key: &str, upload_id: &str) -> Vec<ListedPart> {
        let client = &self.helper_client;
        self.block_on(async {
            let mut parts = Vec::new();
            let mut marker: Option<String> = None;
            loop {
                let out = client
                    .list_parts()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .set_part_number_marker(marker.take())
                    .send()
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "ListParts {bucket}/{key} {upload_id}: {}",
                            DisplayErrorContext(&e)
                        )
                    });
                parts.extend(out.parts().iter().map(|p| ListedPart {
                    number: p.part_number().unwrap_or_default(),
                    size: p.size().unwrap_or_default(),
                    etag: p.e_tag().unwrap_or_default().to_owned(),
                    checksum_sha256: p.checksum_sha256().map(str::to_owned),
                }));
                if !out.is_truncated().unwrap_or(false) {
                    return parts;
                }
                marker = out.next_part_number_marker().map(str::to_owned);
                assert!(
                    marker.is_some(),
                    "ListParts {bucket}/{key} is truncated but gives no NextPartNumberMarker"
                );
            }
        })
    }

    /// Starts an UploadPart of `declared` bytes for part `number`, sends only
    /// `sent` of them, then closes the connection: an attempt that died mid-body,
    /// as one a killed client left in a middlebox's buffers arrives late. Garage
    /// 2.5.0 records such an attempt once its first block is in, and its
    /// Complete takes each part's latest attempt, finished or not.
    pub fn abandon_part_attempt(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        number: i32,
        (sent, declared): (usize, usize),
    ) {
        use aws_sdk_s3::presigning::PresigningConfig;
        use std::io::Write as _;
        let presigned = self
            .block_on(
                self.helper_client
                    .upload_part()
                    .bucket(bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .content_length(declared as i64)
                    .presigned(PresigningConfig::expires_in(Duration::from_secs(600)).unwrap()),
            )
            .unwrap_or_else(|e| panic!("presign UploadPart: {}", DisplayErrorContext(&e)));
        let rest = presigned
            .uri()
            .strip_prefix("http://")
            .expect("a plain-http presigned URL");
        let (authority, target) = rest.split_at(rest.find('/').expect("a path"));
        let mut head =
            format!("PUT {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
        for (name, value) in presigned.headers() {
            if !name.eq_ignore_ascii_case("content-length") && !name.eq_ignore_ascii_case("host") {
                let _ = write!(head, "{name}: {value}\r\n");
            }
        }
        let _ = write!(head, "Content-Length: {declared}\r\n\r\n");
        let mut conn = std::net::TcpStream::connect(authority).expect("connect to the store");
        conn.write_all(head.as_bytes()).expect("send the head");
        conn.write_all(&vec![0x5a; sent])
            .expect("send part of the body");
        conn.flush().expect("flush");
        // Time for the store to take in the first block and record the attempt.
        std::thread::sleep(Duration::from_secs(1));
        drop(conn);
    }

    /// Starts a multipart upload that s3up knows nothing about and returns
    /// its upload id.
    pub fn create_upload(&self, bucket: &str, key: &str) -> String {
        let request = self
            .helper_client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .send();
        match self.block_on(request) {
            Ok(out) => out
                .upload_id()
                .unwrap_or_else(|| panic!("CreateMultipartUpload {bucket}/{key}: no upload id"))
                .to_owned(),
            Err(e) => panic!(
                "CreateMultipartUpload {bucket}/{key}: {}",
                DisplayErrorContext(&e)
            ),
        }
    }

    /// Runs `future` on our runtime from a scoped thread: `block_on` panics
    /// when called from inside another runtime, which is where
    /// `#[tokio::test]`s would call these helpers from.
    fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        std::thread::scope(|scope| {
            scope
                .spawn(|| self.runtime.block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

fn client_config(
    endpoint: &str,
    region: &str,
    access_key: &str,
    secret_key: &str,
    session_token: &Option<String>,
) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new(
            access_key,
            secret_key,
            session_token.clone(),
            None,
            "s3up-test-server",
        ))
        .force_path_style(true)
        // Neither Garage nor moto needs the SDK's default CRC32 on every
        // request, and validating checksums they may not send only adds noise.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
}

/// Runs `attempt` every 100 ms until it succeeds, the server exits, or the
/// deadline passes.
fn poll_until(
    watchdog: &mut Watchdog,
    deadline: Instant,
    what: &str,
    mut attempt: impl FnMut() -> Result<(), String>,
) -> Result<(), String> {
    loop {
        watchdog.check_alive("garage server")?;
        let error = match attempt() {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        if Instant::now() > deadline {
            return Err(format!(
                "{what} still failing after {STARTUP_DEADLINE:?}: {error}{}",
                watchdog.log_tail()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A finished process's status, stdout and stderr, for failure messages.
pub fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    )
}

fn run_ok(out: Output, what: &str) -> Result<String, String> {
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{what} failed: {}", describe(&out)))
    }
}

fn find_garage() -> Result<PathBuf, String> {
    const HOW: &str = "run scripts/install-servers, or set S3UP_GARAGE to a garage binary";
    if let Some(path) = std::env::var_os("S3UP_GARAGE").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("S3UP_GARAGE={} does not exist", path.display()))
        };
    }
    let on_path: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("garage"))
                .collect()
        })
        .unwrap_or_default();
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let in_cargo = cargo_home.map(|c| c.join("bin").join("garage"));
    let mut seen = String::new();
    for candidate in on_path.into_iter().chain(in_cargo) {
        if !candidate.is_file() {
            continue;
        }
        // Another garage version may differ in CLI syntax and S3 behaviour.
        let version = Command::new(&candidate)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
        if version
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .any(|word| word == GARAGE_VERSION)
        {
            return Ok(candidate);
        }
        let _ = write!(seen, " (found {} saying {version:?})", candidate.display());
    }
    Err(format!(
        "garage {GARAGE_VERSION} not found on PATH or in ~/.cargo/bin{seen}: {HOW}"
    ))
}

fn find_moto() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("S3UP_MOTO_SERVER").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "S3UP_MOTO_SERVER={} does not exist",
                path.display()
            ))
        };
    }
    // Only the pinned venv: the moto on PATH may be 5.2+, whose ListParts
    // answers aws-sdk-s3 cannot parse (DESIGN.md section 5).
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server");
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "moto_server not found at {}: run scripts/install-servers (installs moto[server]==5.1.22 there), or set S3UP_MOTO_SERVER",
            path.display()
        ))
    }
}

fn temp_dir(what: &str) -> Result<PathBuf, String> {
    tempfile::Builder::new()
        .prefix(&format!("s3up-test-{what}-"))
        .tempdir()
        .map(tempfile::TempDir::keep)
        .map_err(|e| format!("cannot create a temp dir for {what}: {e}"))
}

/// Asks the OS for `N` distinct free loopback ports. They are released before
/// the server binds them, so another process could take one in between; the
/// server then exits with "address in use" and the log says so.
fn free_ports<const N: usize>() -> Result<[u16; N], String> {
    let listeners: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("cannot bind a free port on 127.0.0.1: {e}"))?;
    let mut ports = [0; N];
    for (port, listener) in ports.iter_mut().zip(&listeners) {
        *port = listener
            .local_addr()
            .map_err(|e| format!("cannot read a bound port: {e}"))?
            .port();
    }
    Ok(ports)
}

fn process_salt() -> u16 {
    static SALT: OnceLock<u16> = OnceLock::new();
    *SALT.get_or_init(|| {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        (nanos ^ (nanos >> 16)) as u16
    })
}

/// Garage's RPC secret: random per instance so two test binaries' nodes
/// could never join each other.
fn random_hex64() -> String {
    let seed = format!("{:?}-{}", SystemTime::now(), std::process::id());
    hex::encode(Sha256::digest(seed.as_bytes()))
}
