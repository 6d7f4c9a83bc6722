//! Issue 23, section 1: the object options of `aws s3 cp`, end to end.
//! Each option is read back from the object (HeadObject, GetObjectTagging,
//! GetObjectAcl) after a multi-part `put` and after one killed (SIGKILL)
//! and resumed; an SSE-C upload resumes only with its own key. moto models
//! SSE-KMS, SSE-C, ACLs and tags; Garage 2.5 keeps the headers and SSE-C.

use std::path::Path;
use std::process::Output;

use aws_sdk_s3::Client;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, RequestRecord, Rule, Schedule};
use crate::support::{
    assert_exit, assert_ok, child_stderr, sha256_file, spawn_held_put, Scratch, Server, MIB,
};

/// Sets the three SSE-C fields on any request builder that has them.
macro_rules! with_key {
    ($req:expr, $k:expr) => {{
        let b64 = base64::engine::general_purpose::STANDARD;
        $req.sse_customer_algorithm("AES256")
            .sse_customer_key(b64.encode($k))
            .sse_customer_key_md5(b64.encode(md5::Md5::digest($k)))
    }};
}

const EXPIRES: &str = "2027-01-01T00:00:00Z";

/// The header options, which both stores keep.
const HEADERS: &[&str] = &[
    "--cache-control",
    "max-age=60",
    "--content-disposition",
    "attachment; filename=\"o.bin\"",
    "--content-encoding",
    "identity",
    "--content-language",
    "fr-CH",
    "--expires",
    EXPIRES,
];

/// What moto models beyond the headers.
const MOTO_ONLY: &[&str] = &[
    "--sse",
    "aws:kms",
    "--sse-kms-key-id",
    "alias/s3up-test",
    "--acl",
    "public-read",
    "--tagging",
    "team=a&run=42",
    "--request-payer",
    "requester",
];

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Everything the store says about an object's options.
#[derive(Debug, Default)]
struct Seen {
    cache_control: Option<String>,
    content_disposition: Option<String>,
    content_encoding: Option<String>,
    content_language: Option<String>,
    expires: Option<String>,
    sse: Option<String>,
    kms_key: Option<String>,
    sse_c: Option<String>,
    tags: Vec<(String, String)>,
    public_read: bool,
}

/// HeadObject (with the SSE-C key, when given), and on moto the tags and ACL.
fn seen(srv: &Server, bucket: &str, key: &str, sse_c: Option<&[u8; 32]>, full: bool) -> Seen {
    let client: Client = srv.client();
    rt().block_on(async {
        let mut head = client.head_object().bucket(bucket).key(key);
        if let Some(k) = sse_c {
            head = with_key!(head, k);
        }
        let h = head
            .send()
            .await
            .unwrap_or_else(|e| panic!("HeadObject {bucket}/{key}: {e:?}"));
        let mut seen = Seen {
            cache_control: h.cache_control().map(str::to_string),
            content_disposition: h.content_disposition().map(str::to_string),
            content_encoding: h.content_encoding().map(str::to_string),
            content_language: h.content_language().map(str::to_string),
            expires: h.expires_string().map(str::to_string),
            sse: h.server_side_encryption().map(|s| s.as_str().to_string()),
            kms_key: h.ssekms_key_id().map(str::to_string),
            sse_c: h.sse_customer_algorithm().map(str::to_string),
            ..Seen::default()
        };
        if full {
            let t = client
                .get_object_tagging()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GetObjectTagging: {e:?}"));
            seen.tags = t
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            seen.tags.sort();
            let acl = client
                .get_object_acl()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("GetObjectAcl: {e:?}"));
            seen.public_read = acl.grants().iter().any(|g| {
                let all_users = g
                    .grantee()
                    .and_then(|g| g.uri())
                    .is_some_and(|u| u.ends_with("/global/AllUsers"));
                all_users && g.permission().map(|p| p.as_str()) == Some("READ")
            });
        }
        seen
    })
}

/// SHA-256 of the object's bytes, read with the SSE-C key when given.
fn object_sha256(srv: &Server, bucket: &str, key: &str, sse_c: Option<&[u8; 32]>) -> [u8; 32] {
    let client = srv.client();
    rt().block_on(async {
        let mut get = client.get_object().bucket(bucket).key(key);
        if let Some(k) = sse_c {
            get = with_key!(get, k);
        }
        let out = get
            .send()
            .await
            .unwrap_or_else(|e| panic!("GetObject {bucket}/{key}: {e:?}"));
        let bytes = out.body.collect().await.unwrap().into_bytes();
        Sha256::digest(&bytes).into()
    })
}

fn assert_headers(s: &Seen) {
    assert_eq!(s.cache_control.as_deref(), Some("max-age=60"), "{s:?}");
    assert_eq!(
        s.content_disposition.as_deref(),
        Some("attachment; filename=\"o.bin\""),
        "{s:?}"
    );
    assert_eq!(s.content_encoding.as_deref(), Some("identity"), "{s:?}");
    assert_eq!(s.content_language.as_deref(), Some("fr-CH"), "{s:?}");
    assert_eq!(
        s.expires.as_deref(),
        Some("Fri, 01 Jan 2027 00:00:00 GMT"),
        "{s:?}"
    );
}

fn assert_moto_options(s: &Seen) {
    assert_headers(s);
    assert_eq!(s.sse.as_deref(), Some("aws:kms"), "{s:?}");
    assert!(
        s.kms_key
            .as_deref()
            .is_some_and(|k| k.ends_with("alias/s3up-test")),
        "{s:?}"
    );
    let tags = vec![
        ("run".to_string(), "42".to_string()),
        ("team".to_string(), "a".to_string()),
    ];
    assert_eq!(s.tags, tags, "{s:?}");
    assert!(
        s.public_read,
        "the public-read ACL grants AllUsers READ: {s:?}"
    );
}

fn put(s: &Scratch, srv: &Server, opts: &[&str], file: &Path, url: &str) -> Output {
    s.s3up(srv, &srv.endpoint)
        .args(["put", "--part-size", "5MiB"])
        .args(opts)
        .arg(file)
        .arg(url)
        .output()
        .unwrap()
}

/// Starts `put OPTS` through a proxy that stalls part 3, kills it (SIGKILL)
/// once parts 1 and 2 are journalled, and returns the journal's text and
/// the requests the proxy saw.
fn killed_put(
    s: &Scratch,
    srv: &Server,
    opts: &[&str],
    file: &Path,
    url: &str,
) -> (String, Vec<RequestRecord>) {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(3),
        Fault::Stall,
        Schedule::Always,
    ));
    let mut child = spawn_held_put(s, srv, &proxy, opts, file, url);
    let journalled = || s.journalled_parts() == 2;
    support::wait_for(
        "parts 1 and 2 journalled",
        &mut child,
        || child_stderr(s),
        journalled,
    );
    support::sigkill(&mut child);
    proxy.sever();
    let path = s.journals().pop().expect("the journal is kept");
    (std::fs::read_to_string(path).unwrap(), proxy.requests())
}

fn resume(s: &Scratch, srv: &Server, args: &[&str]) -> Output {
    s.s3up(srv, &srv.endpoint)
        .arg("resume")
        .args(args)
        .output()
        .unwrap()
}

/// Every option moto models, on a 4-part put, read back from the object.
#[test]
fn moto_every_option_on_a_multipart_put() {
    let srv = support::server(support::Kind::Moto);
    let s = Scratch::new();
    let bucket = srv.new_bucket("opts");
    let file = s.file("o.bin", 18 * MIB, 23);
    let opts = [HEADERS, MOTO_ONLY].concat();
    let out = put(&s, srv, &opts, &file, &format!("s3://{bucket}/o.bin"));
    assert_ok(&out);
    assert_moto_options(&seen(srv, &bucket, "o.bin", None, true));
    assert_eq!(
        object_sha256(srv, &bucket, "o.bin", None),
        sha256_file(&file)
    );
}

/// The same options survive a SIGKILL: the journal holds them, and `resume`
/// (given none of them) completes the object with every one.
#[test]
fn moto_every_option_survives_a_kill_and_resume() {
    let srv = support::server(support::Kind::Moto);
    let s = Scratch::new();
    let bucket = srv.new_bucket("optsk");
    let file = s.file("o.bin", 18 * MIB, 24);
    let opts = [HEADERS, MOTO_ONLY].concat();
    let (journal, _) = killed_put(&s, srv, &opts, &file, &format!("s3://{bucket}/o.bin"));
    for recorded in [
        "\"aws:kms\"",
        "alias/s3up-test",
        "team=a&run=42",
        "public-read",
    ] {
        assert!(
            journal.contains(recorded),
            "{recorded} not journalled: {journal}"
        );
    }
    let out = resume(&s, srv, &[]);
    assert_ok(&out);
    assert_moto_options(&seen(srv, &bucket, "o.bin", None, true));
    assert_eq!(
        object_sha256(srv, &bucket, "o.bin", None),
        sha256_file(&file)
    );
}

// The header options on both stores, and a single-request put (a file
// smaller than a part) carries them too.
on_both_servers!(headers_on_multipart_and_single_puts, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("hdrs");
    let big = s.file("big.bin", 11 * MIB, 25);
    let small = s.file("small.bin", 1000, 26);
    assert_ok(&put(
        &s,
        srv,
        HEADERS,
        &big,
        &format!("s3://{bucket}/big.bin"),
    ));
    assert_ok(&put(
        &s,
        srv,
        HEADERS,
        &small,
        &format!("s3://{bucket}/small.bin"),
    ));
    assert_headers(&seen(srv, &bucket, "big.bin", None, false));
    assert_headers(&seen(srv, &bucket, "small.bin", None, false));
});

// SSE-C: the key is never journalled (only its MD5); `resume` without it,
// or with another key, is refused before anything is sent; with it, the
// object is complete, encrypted with that key, and its bytes the file's.
on_both_servers!(sse_c_resume_needs_the_same_key, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("ssec");
    let file = s.file("c.bin", 18 * MIB, 27);
    let key: [u8; 32] = *b"0123456789abcdef0123456789abcdef";
    let key_file = s.dir.path().join("key");
    std::fs::write(&key_file, key).unwrap();
    let wrong_file = s.dir.path().join("wrong");
    std::fs::write(
        &wrong_file,
        base64::engine::general_purpose::STANDARD.encode([7u8; 32]),
    )
    .unwrap();
    let key_arg = format!("fileb://{}", key_file.display());
    let opts = ["--sse-c", "AES256", "--sse-c-key", &key_arg];
    let (journal, killed) = killed_put(&s, srv, &opts, &file, &format!("s3://{bucket}/c.bin"));
    let b64 = base64::engine::general_purpose::STANDARD;
    assert!(
        !journal.contains(&b64.encode(key)),
        "the key is in the journal"
    );
    assert!(
        journal.contains(&b64.encode(md5::Md5::digest(key))),
        "the key's MD5 is not journalled: {journal}"
    );

    let out = resume(&s, srv, &[]);
    assert_exit(&out, 1);
    let err = support::text(&out.stderr);
    assert!(
        err.contains("encrypted with your own key (SSE-C)") && err.contains("--sse-c-key FILE"),
        "{err}"
    );

    let out = resume(&s, srv, &["--sse-c-key", wrong_file.to_str().unwrap()]);
    assert_exit(&out, 1);
    let err = support::text(&out.stderr);
    assert!(err.contains("is not the one upload"), "{err}");
    assert_eq!(s.journals().len(), 1, "a refused resume keeps the journal");

    let proxy = FaultProxy::start(&srv.endpoint);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["resume", "--sse-c-key", key_file.to_str().unwrap()])
        .output()
        .unwrap();
    assert_ok(&out);
    // Every request that touches the object's bytes carried the key: the
    // killed put's Create and parts, the resume's parts, ListParts and Complete.
    let md5 = b64.encode(md5::Md5::digest(key));
    let resumed = proxy.requests();
    let with_key = |r: &RequestRecord| {
        r.headers
            .iter()
            .any(|(n, v)| n == "x-amz-server-side-encryption-customer-key-md5" && *v == md5)
    };
    let touching = |r: &&RequestRecord| r.path.ends_with("/c.bin") && r.query.contains("upload");
    let all: Vec<&RequestRecord> = killed.iter().chain(&resumed).filter(touching).collect();
    assert!(
        all.len() >= 7,
        "create, 4 parts, list and complete: {all:?}"
    );
    for r in all {
        assert!(
            with_key(r),
            "{} ?{} went without the key",
            r.method,
            r.query
        );
    }
    assert_eq!(
        object_sha256(srv, &bucket, "c.bin", Some(&key)),
        sha256_file(&file)
    );
    // moto 5.1.22 accepts SSE-C's headers and ignores them (measured: HeadObject
    // reports no SSECustomerAlgorithm); Garage encrypts and reports it.
    if srv.kind == support::Kind::Garage {
        let seen = seen(srv, &bucket, "c.bin", Some(&key), false);
        assert_eq!(seen.sse_c.as_deref(), Some("AES256"), "{seen:?}");
    }
});

/// `serve --sse aws:kms --sse-kms-key-id … --tagging …` imposes both on a
/// client's multi-part upload (`put --via`, which cannot ask for anything
/// else: it is refused options of its own), and its POST form for small
/// files carries them as fields the policy pins.
#[test]
fn moto_serve_imposes_sse_and_tagging() {
    use crate::support::serve::{hashed, Serve};
    let srv = support::server(support::Kind::Moto);
    let bucket = srv.new_bucket("imposed");
    let token = "imposed-token-0123456789";
    let serve = Serve::on(srv, &srv.endpoint, &bucket)
        .tokens(&format!("{} alice alice-id\n", hashed(token)))
        .args(&[
            "--sse",
            "aws:kms",
            "--sse-kms-key-id",
            "alias/s3up-serve",
            "--tagging",
            "owner=serve&policy=imposed",
        ])
        .start();
    let s = Scratch::new();
    let file = s.file("v.bin", 11 * MIB, 28);
    let client = |args: &[&str]| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.dir.path())
            .env("S3UP_JOURNAL_DIR", s.journal_dir())
            .env("S3UP_TOKEN", token)
            .args(["put", "--part-size", "5MiB", "--via", &serve.url])
            .args(args)
            .arg(&file)
            .arg("up/alice/v.bin");
        cmd.output().unwrap()
    };
    // A client cannot ask for other options (nor drop the imposed ones).
    let refused = client(&["--sse", "AES256"]);
    assert_exit(&refused, 2);
    assert!(
        support::text(&refused.stderr).contains("not sent through a --via backend"),
        "{}",
        support::describe(&refused)
    );
    let out = client(&[]);
    assert_ok(&out);
    let key = "up/alice/v.bin";
    let seen = seen(srv, &bucket, key, None, true);
    assert_eq!(seen.sse.as_deref(), Some("aws:kms"), "{seen:?}");
    assert!(
        seen.kms_key
            .as_deref()
            .is_some_and(|k| k.ends_with("alias/s3up-serve")),
        "{seen:?}"
    );
    let tags = vec![
        ("owner".to_string(), "serve".to_string()),
        ("policy".to_string(), "imposed".to_string()),
    ];
    assert_eq!(seen.tags, tags);
    assert_eq!(object_sha256(srv, &bucket, key, None), sha256_file(&file));

    // The POST form: the imposed options are fields, each pinned by the policy.
    let form: serde_json::Value = reqwest::blocking::Client::new()
        .get(serve.url("/s3/params?filename=small.txt"))
        .bearer_auth(token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let fields = &form["fields"];
    assert_eq!(fields["x-amz-server-side-encryption"], "aws:kms", "{form}");
    assert_eq!(
        fields["tagging"],
        "<Tagging><TagSet><Tag><Key>owner</Key><Value>serve</Value></Tag>\
         <Tag><Key>policy</Key><Value>imposed</Value></Tag></TagSet></Tagging>",
        "{form}"
    );
    let policy = base64::engine::general_purpose::STANDARD
        .decode(fields["policy"].as_str().unwrap())
        .unwrap();
    let policy = String::from_utf8(policy).unwrap();
    for pinned in [
        r#"["eq","$x-amz-server-side-encryption","aws:kms"]"#,
        r#"["eq","$x-amz-server-side-encryption-aws-kms-key-id","alias/s3up-serve"]"#,
        r#""$tagging""#,
    ] {
        assert!(policy.contains(pinned), "{pinned} not in {policy}");
    }
}

/// Runs `openssl ARGS` in `dir`, failing the test with its stderr.
fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is needed to make a private CA for the --ca-bundle test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        support::text(&out.stderr)
    );
}

/// A private CA (`ca.pem`) and a certificate for 127.0.0.1 signed by it
/// (`leaf.pem`, `leaf.key`), in `d`.
fn private_ca(d: &Path) {
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=s3up test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        d.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "ext",
        ],
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// `--no-verify-ssl`: moto serving HTTPS with a certificate from a private
/// CA that s3up is not given. Without the flag the put is refused for the
/// certificate; with it a multi-part put lands byte for byte (read back
/// with the CA trusted), the warning is said once, and the flag cannot be
/// combined with --ca-bundle.
#[test]
fn no_verify_ssl_accepts_any_certificate_with_a_warning() {
    let srv = support::server(support::Kind::Moto);
    let s = Scratch::new();
    let d = s.dir.path();
    private_ca(d);
    let port = free_port();
    let mut moto = std::process::Command::new(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"),
    )
    .current_dir(d)
    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
    .args(["-c", "leaf.pem", "-k", "leaf.key"])
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .spawn()
    .expect("moto_server (scripts/install-servers) is needed for the --no-verify-ssl test");
    wait_for_port(port, "moto_server with TLS");
    let endpoint = format!("https://127.0.0.1:{port}");
    let ca = std::fs::read(d.join("ca.pem")).unwrap();
    let http = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
        .build()
        .unwrap();
    let made = http.put(format!("{endpoint}/tls")).send().unwrap();
    assert!(made.status().is_success(), "bucket: {}", made.status());

    let file = s.file("t.bin", 9 * MIB, 31);
    let run = |extra: &[&str]| {
        s.s3up(srv, &endpoint)
            .args([
                "put",
                "--retries",
                "0",
                "--max-offline",
                "0",
                "--part-size",
                "5MiB",
            ])
            .args(extra)
            .arg(&file)
            .arg("s3://tls/t.bin")
            .output()
            .unwrap()
    };
    let without = run(&[]);
    let err = support::text(&without.stderr);
    assert!(!without.status.success(), "{}", support::describe(&without));
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    assert!(!err.contains("--no-verify-ssl"), "{err}");

    let with = run(&["--no-verify-ssl"]);
    assert_ok(&with);
    let err = support::text(&with.stderr);
    assert_eq!(
        err.matches("--no-verify-ssl: the endpoint's TLS certificate is not checked")
            .count(),
        1,
        "{err}"
    );
    let got = http
        .get(format!("{endpoint}/tls/t.bin"))
        .send()
        .unwrap()
        .bytes()
        .unwrap();
    assert_eq!(got.len() as u64, 9 * MIB);
    assert!(
        got[..] == std::fs::read(&file).unwrap()[..],
        "the object differs from the file"
    );

    let both = run(&["--no-verify-ssl", "--ca-bundle", "ca.pem"]);
    assert_exit(&both, 2);
    assert!(
        support::text(&both.stderr).contains("--ca-bundle"),
        "{}",
        support::describe(&both)
    );
    let _ = moto.kill();
    let _ = moto.wait();
}

/// `--ca-bundle`: an endpoint whose certificate comes from a private CA is
/// refused for its certificate without the bundle, and passes TLS with it
/// (the endpoint, `openssl s_server -www`, is no S3, so the run still fails,
/// but for what it answered, not for its certificate). A missing or non-PEM
/// bundle is one clear error.
#[test]
fn ca_bundle_trusts_a_private_ca() {
    let srv = support::server(support::Kind::Moto);
    let s = Scratch::new();
    let d = s.dir.path();
    private_ca(d);
    let port = free_port();
    let mut server = std::process::Command::new("openssl")
        .current_dir(d)
        .args([
            "s_server",
            "-accept",
            &port.to_string(),
            "-cert",
            "leaf.pem",
            "-key",
            "leaf.key",
            "-www",
            "-quiet",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let endpoint = format!("https://127.0.0.1:{port}");
    wait_for_port(port, "openssl s_server");
    let file = s.file("t.bin", 1000, 29);
    let run = |extra: &[&str]| {
        s.s3up(srv, &endpoint)
            .args(["put", "--retries", "0", "--max-offline", "0"])
            .args(extra)
            .arg(&file)
            .arg("s3://bkt/t.bin")
            .output()
            .unwrap()
    };
    let without = run(&[]);
    let err = support::text(&without.stderr);
    assert!(!without.status.success());
    assert!(err.to_lowercase().contains("certificate"), "{err}");
    let ca = d.join("ca.pem");
    let with = run(&["--ca-bundle", ca.to_str().unwrap()]);
    let err = support::text(&with.stderr);
    assert!(
        with.status.success() || !err.to_lowercase().contains("certificate"),
        "TLS failed with the bundle: {err}"
    );
    let _ = server.kill();
    let _ = server.wait();

    let missing = run(&["--ca-bundle", "/nonexistent/ca.pem"]);
    assert_exit(&missing, 1);
    assert!(
        support::text(&missing.stderr).contains("cannot use the CA bundle '/nonexistent/ca.pem'"),
        "{}",
        support::describe(&missing)
    );
    let not_pem = run(&["--ca-bundle", file.to_str().unwrap()]);
    assert_exit(&not_pem, 1);
    assert!(
        support::text(&not_pem.stderr).contains("holds no PEM certificate"),
        "{}",
        support::describe(&not_pem)
    );
}
