//! Every bad input: one error line that names the value, a documented exit
//! code, no journal, nothing pending on S3.

use std::process::Output;

use crate::support;
use crate::support::proxy::FaultProxy;
use crate::support::{assert_exit, one_error_line, Scratch, Server, MIB};

/// Runs `s3up put ARGS…` against `srv` and checks the common promises.
fn refused(
    srv: &Server,
    s: &Scratch,
    bucket: &str,
    endpoint: &str,
    args: &[&str],
    code: i32,
) -> String {
    let out: Output = s
        .s3up(srv, endpoint)
        .arg("put")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(code),
        "args {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing on stdout");
    let line = one_error_line(&out);
    assert!(!line.contains("panicked"), "{line}");
    assert!(s.journals().is_empty(), "no journal for a refused put");
    assert!(srv.list_uploads(bucket).is_empty(), "nothing pending on S3");
    line
}

fn local_cases(srv: &Server) {
    let s = Scratch::new();
    let bucket = srv.new_bucket("bad");
    let url = format!("s3://{bucket}/k");
    let ep = srv.endpoint.as_str();
    let file = s.file("ok.bin", 6 * MIB, 1);
    let file = file.to_str().unwrap();

    let missing = s.dir.path().join("nope.bin");
    let line = refused(srv, &s, &bucket, ep, &[missing.to_str().unwrap(), &url], 1);
    assert!(
        line.contains("nope.bin") && line.contains("does not exist"),
        "{line}"
    );

    let dir = s.dir.path().to_str().unwrap();
    // A directory is a tree (issue 19): its destination must be a prefix.
    let line = refused(srv, &s, &bucket, ep, &[dir, &url], 2);
    assert!(line.contains(dir) && line.contains("directory"), "{line}");

    let line = refused(srv, &s, &bucket, ep, &[file, "s3:/bucket-x/k"], 2);
    assert!(line.contains("s3:/bucket-x/k"), "{line}");
    let line = refused(srv, &s, &bucket, ep, &[file, "s3://Bad_Bucket/k"], 2);
    assert!(line.contains("Bad_Bucket"), "{line}");

    let line = refused(
        srv,
        &s,
        &bucket,
        ep,
        &[file, &url, "--part-size", "4MiB"],
        2,
    );
    assert!(
        line.contains("4MiB") && line.contains("5MiB to 5GiB"),
        "{line}"
    );
    let line = refused(
        srv,
        &s,
        &bucket,
        ep,
        &[file, &url, "--part-size", "6GiB"],
        2,
    );
    assert!(line.contains("6GiB"), "{line}");
    let line = refused(
        srv,
        &s,
        &bucket,
        ep,
        &[file, &url, "--part-size", "lots"],
        2,
    );
    assert!(line.contains("lots"), "{line}");

    let line = refused(srv, &s, &bucket, ep, &[file, &url, "--concurrency", "0"], 2);
    assert!(
        line.contains("'0'") && line.contains("concurrency"),
        "{line}"
    );

    let line = refused(
        srv,
        &s,
        &bucket,
        ep,
        &[file, "s3://no-such-bucket-s3up/k"],
        1,
    );
    assert!(
        line.contains("no-such-bucket-s3up") && line.contains("does not exist"),
        "{line}"
    );

    // --if-none-match on an existing key: refused, the object left as it was.
    srv.put_object(&bucket, "taken", b"original".to_vec());
    let taken = format!("s3://{bucket}/taken");
    let line = refused(srv, &s, &bucket, ep, &[file, &taken, "--if-none-match"], 1);
    assert!(
        line.contains(&taken) && line.contains("already exists"),
        "{line}"
    );
    assert_eq!(srv.object_size(&bucket, "taken"), Some(8));
}

#[test]
fn garage_local_and_remote_bad_inputs() {
    local_cases(support::server(support::Kind::Garage));
}

#[test]
fn moto_local_and_remote_bad_inputs() {
    local_cases(support::server(support::Kind::Moto));
}

/// An unreadable file. Root reads anything, so as root s3up runs as `nobody`.
#[test]
fn unreadable_file() {
    use std::os::unix::fs::PermissionsExt;
    let srv = support::server(support::Kind::Garage);
    let s = Scratch::new();
    std::fs::set_permissions(s.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let file = s.file("secret.bin", 100, 1);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let bucket = srv.new_bucket("unread");
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    let root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let bin = assert_cmd::cargo::cargo_bin("s3up");
    let mut cmd = if root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = cmd
        .env_clear()
        .envs(srv.env())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("S3UP_JOURNAL_DIR", s.journal_dir())
        .arg("put")
        .arg(&file)
        .arg(format!("s3://{bucket}/k"))
        .output()
        .expect("run s3up (as root this needs setpriv from util-linux)");
    assert_exit(&out, 1);
    let line = one_error_line(&out);
    assert!(
        line.contains("secret.bin") && line.contains("permission denied"),
        "{line}"
    );
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
}

/// Wrong credentials fail at the first request, without a retry loop: through
/// the proxy, exactly one request reaches the server. (moto accepts any
/// credentials, so this is Garage's test.)
#[test]
fn garage_bad_credentials_fail_fast() {
    let srv = support::server(support::Kind::Garage);
    let proxy = FaultProxy::start(&srv.endpoint);
    let s = Scratch::new();
    let bucket = srv.new_bucket("creds");
    let file = s.file("c.bin", 12 * MIB, 1);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .env("AWS_SECRET_ACCESS_KEY", "0".repeat(64))
        .args(["put", "--retries", "5"])
        .arg(&file)
        .arg(format!("s3://{bucket}/c.bin"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let line = one_error_line(&out);
    assert!(
        line.contains("denied") && line.contains("credentials"),
        "{line}"
    );
    assert_eq!(
        proxy.requests().len(),
        1,
        "retried a request that cannot succeed"
    );
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
}

/// An ID is only ever 12 hex digits: `abort` and `resume` refuse a path with
/// a usage error (exit 2) that quotes it, and touch no file outside the
/// journal directory, even one that looks like a journal (issue 9, item 2).
#[test]
fn ids_that_are_paths_are_refused_and_nothing_outside_is_touched() {
    let s = Scratch::new();
    let jdir = s.journal_dir();
    std::fs::create_dir_all(&jdir).unwrap();
    // A journal-looking file beside the journal directory, and one in /tmp.
    let beside = s.dir.path().join("x.json");
    std::fs::write(&beside, b"{\"version\": 1}").unwrap();
    let in_tmp = tempfile::Builder::new().suffix(".json").tempfile().unwrap();
    let tmp_target = in_tmp.path().with_extension("");
    for args in [
        vec!["abort".to_string(), "../x".to_string()],
        vec!["abort".to_string(), tmp_target.display().to_string()],
        vec!["resume".to_string(), "../x".to_string()],
    ] {
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"))
            .env_clear()
            .env("HOME", s.dir.path())
            .env("S3UP_JOURNAL_DIR", &jdir)
            .current_dir(&jdir)
            .args(&args)
            .output()
            .unwrap();
        assert_exit(&out, 2);
        let line = one_error_line(&out);
        assert!(line.contains(&format!("'{}'", args[1])), "{args:?}: {line}");
        assert!(
            beside.exists() && in_tmp.path().exists(),
            "{args:?} touched a file"
        );
    }
}
