//! Trees end to end (issue 19): `put DIR… s3://B/PREFIX/`, the session that
//! survives a SIGKILL, `resume ID` and `abort ID` of it, `sync`, filters,
//! failures, and a tree through `s3up serve`; on Garage and moto, through
//! the fault proxy.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, RequestRecord, Rule};
use crate::support::serve::{hashed, Serve};
use crate::support::{assert_exit, assert_object_equals, Scratch, Server, MIB};

/// Writes `size` pseudo-random bytes at `root/rel`, creating folders.
fn write(root: &Path, rel: &str, size: u64, seed: u64) -> PathBuf {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, support::random_bytes(size, seed)).unwrap();
    path
}

/// Relative paths of the test tree: subfolders, an empty file, an empty
/// folder, a unicode name, a file of three 5 MiB parts, 200 small files.
fn documented_tree(root: &Path) -> Vec<String> {
    let mut rels = vec![
        ("a.txt".to_string(), 10),
        ("sub/deeper/b.bin".to_string(), 3000),
        ("empty.dat".to_string(), 0),
        ("sub/naïve café ☕.txt".to_string(), 77),
        ("big/parts.bin".to_string(), 11 * MIB + 17),
    ];
    for i in 0..200 {
        rels.push((format!("many/{:03}/f{i}.dat", i % 7), 100 + i * 13));
    }
    std::fs::create_dir_all(root.join("empty-folder")).unwrap();
    for (i, (rel, size)) in rels.iter().enumerate() {
        write(root, rel, *size, i as u64 + 1);
    }
    rels.into_iter().map(|(r, _)| r).collect()
}

fn sent_by(requests: &[RequestRecord], m: impl Fn(&RequestRecord) -> bool) -> u64 {
    requests.iter().filter(|r| m(r)).map(|r| r.body_len).sum()
}

fn is_put_object(r: &RequestRecord) -> bool {
    r.method == "PUT" && !r.query.contains("uploadId") && r.path.matches('/').count() >= 2
}

/// The key of a path-style request (`/bucket/key`), percent-decoded.
fn key_of(r: &RequestRecord) -> String {
    let key = r.path.trim_start_matches('/').split_once('/').unwrap().1;
    percent_decode(key)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON on stdout: {} / {}",
            support::text(&out.stdout),
            support::text(&out.stderr)
        )
    })
}

on_both_servers!(a_tree_lands_as_documented, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("tree");
    let root = s.dir.path().join("tree");
    let rels = documented_tree(&root);
    let proxy = FaultProxy::start(&srv.endpoint);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--json"])
        .arg(&root)
        .arg(format!("s3://{bucket}/t/"))
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let doc = json(&out);
    assert_eq!(doc["files_sent"], 205, "{doc}");
    assert_eq!(doc["files_failed"], 0, "{doc}");
    let want: BTreeSet<String> = rels.iter().map(|r| format!("t/{r}")).collect();
    let got: BTreeSet<String> = srv.list_keys(&bucket, "t/").into_iter().collect();
    assert_eq!(got, want, "every key as documented, no folder key");
    for rel in &rels {
        assert_object_equals(srv, &bucket, &format!("t/{rel}"), &root.join(rel));
    }
    let requests = proxy.requests();
    let puts = requests.iter().filter(|r| is_put_object(r)).count();
    let creates = requests
        .iter()
        .filter(|r| r.method == "POST" && r.query.contains("uploads"))
        .count();
    assert_eq!((puts, creates), (204, 1), "small files in one request each");
    assert!(srv.list_uploads(&bucket).is_empty(), "nothing pending");
    assert!(
        s.journals().is_empty(),
        "no journal left: {:?}",
        s.journals()
    );
    println!("tree: 205 files, {puts} PutObject, {creates} multipart; keys as documented");
});

/// Three large files and `small` small ones under `root`; their total size.
fn mixed_tree(root: &Path, small: u64) -> u64 {
    let mut total = 0;
    for i in 0..3 {
        total += 20 * MIB;
        write(root, &format!("big{i}.bin"), 20 * MIB, 100 + i);
    }
    for i in 0..small {
        total += 1000 + i;
        write(root, &format!("small/s{i:03}.dat"), 1000 + i, i + 1);
    }
    total
}

/// The session file, parsed, if there is one.
fn session(s: &Scratch) -> Option<serde_json::Value> {
    s.journals()
        .into_iter()
        .find(|p| p.to_string_lossy().ends_with(".tree.json"))
        .and_then(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
}

/// Per-file journals, parsed.
fn file_journals(s: &Scratch) -> Vec<serde_json::Value> {
    s.journals()
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".tree.json"))
        .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        .collect()
}

/// Starts the mixed tree's put through a slow proxy and SIGKILLs it once the
/// three large files each have a part journalled and some small files are
/// done. Returns the proxy (its faults cleared: the same command again must
/// reach the same endpoint to find its session) and the session at the kill.
fn put_and_kill(
    srv: &Server,
    s: &Scratch,
    root: &Path,
    url: &str,
) -> (FaultProxy, serde_json::Value) {
    let proxy = FaultProxy::start(&srv.endpoint);
    // Each large file's last part crawls, so none can finish (and drop its
    // journal) before all three have a part journalled, however fast the
    // store is; the first rule that matches wins.
    proxy.add_rule(Rule::always(
        Match::UploadPartNumber(4),
        Fault::Throttle {
            bytes_per_sec: 128 * 1024,
        },
    ));
    proxy.add_rule(Rule::always(
        Match::UploadPart,
        Fault::Throttle {
            bytes_per_sec: 3 * MIB,
        },
    ));
    proxy.add_rule(Rule::always(Match::PutObject, Fault::Delay { millis: 150 }));
    let args = ["put", "--part-size", "5MiB", "--concurrency", "6"];
    let mut child = support::spawn_args(
        s,
        srv,
        &proxy.endpoint(),
        args.iter()
            .map(std::ffi::OsStr::new)
            .chain([root.as_os_str(), std::ffi::OsStr::new(url)]),
    );
    support::wait_for(
        "three large files partly sent",
        &mut child,
        || support::child_stderr(s),
        || {
            let js = file_journals(s);
            let parts = js
                .iter()
                .filter(|j| j["parts"].as_array().is_some_and(|p| !p.is_empty()));
            parts.count() == 3
                && session(s).is_some_and(|t| t["done"].as_object().is_some_and(|d| d.len() >= 10))
        },
    );
    support::sigkill(&mut child);
    proxy.sever();
    let at_kill = session(s).expect("the session survives the kill");
    proxy.clear_rules();
    (proxy, at_kill)
}

/// What S3 holds of the tree: bytes of listed parts and of objects.
fn held(srv: &Server, bucket: &str, prefix: &str) -> u64 {
    let parts: u64 = srv
        .list_uploads(bucket)
        .iter()
        .flat_map(|(key, id)| srv.list_parts(bucket, key, id))
        .map(|p| p.size as u64)
        .sum();
    let objects: u64 = srv
        .list_keys(bucket, prefix)
        .iter()
        .map(|k| srv.object_size(bucket, k).unwrap())
        .sum();
    parts + objects
}

/// Every file of `root` is an object under `prefix` equal to it, nothing
/// is pending and no journal is left.
fn all_landed(srv: &Server, s: &Scratch, bucket: &str, root: &Path, prefix: &str, files: usize) {
    let keys = srv.list_keys(bucket, prefix);
    assert_eq!(keys.len(), files, "{keys:?}");
    for k in &keys {
        assert_object_equals(srv, bucket, k, &root.join(&k[prefix.len()..]));
    }
    assert!(srv.list_uploads(bucket).is_empty(), "nothing pending");
    assert!(s.journals().is_empty(), "no journal: {:?}", s.journals());
}

on_both_servers!(a_killed_tree_continues_mid_file, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("treekill");
    let root = s.dir.path().join("mixed");
    let total = mixed_tree(&root, 120);
    let url = format!("s3://{bucket}/m/");
    let (proxy, at_kill) = put_and_kill(srv, &s, &root, &url);
    let done_at_kill: BTreeSet<String> = at_kill["done"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| format!("m/{k}"))
        .collect();
    let held_before = held(srv, &bucket, "m/");
    let listed: Vec<(String, BTreeSet<u32>)> = srv
        .list_uploads(&bucket)
        .iter()
        .map(|(key, id)| {
            let numbers = srv
                .list_parts(&bucket, key, id)
                .iter()
                .map(|p| p.number as u32)
                .collect();
            (key.clone(), numbers)
        })
        .collect();
    assert_eq!(listed.len(), 3, "three large files open: {listed:?}");

    let before = proxy.requests().len();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--concurrency", "6"])
        .arg(&root)
        .arg(&url)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let stderr = support::text(&out.stderr);
    assert!(
        stderr.contains("continuing tree upload"),
        "{stderr} / {}",
        support::text(&out.stdout)
    );
    let requests = proxy.requests().split_off(before);
    let again: Vec<String> = requests
        .iter()
        .filter(|r| is_put_object(r))
        .map(key_of)
        .filter(|k| done_at_kill.contains(k))
        .collect();
    assert!(again.is_empty(), "finished files sent again: {again:?}");
    for (key, numbers) in &listed {
        let resent: Vec<u32> = requests
            .iter()
            .filter(|r| r.is_upload_part() && key_of(r) == *key)
            .filter_map(|r| r.part_number())
            .filter(|n| numbers.contains(n))
            .collect();
        assert!(
            resent.is_empty(),
            "{key}: parts S3 held sent again: {resent:?}"
        );
    }
    let sent = sent_by(&requests, |r| r.is_upload_part() || is_put_object(r));
    let bound = total - held_before + 6 * 5 * MIB;
    assert!(
        sent <= bound,
        "sent {sent} > tree {total} - held {held_before} + in flight"
    );
    all_landed(srv, &s, &bucket, &root, "m/", 123);
    println!(
        "killed tree: S3 held {held_before} of {total} bytes; the same put sent {sent} (bound {bound})"
    );
});

on_both_servers!(resume_id_and_abort_id_of_a_tree, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("treeid");
    let root = s.dir.path().join("mixed");
    mixed_tree(&root, 40);
    let (proxy, at_kill) = put_and_kill(srv, &s, &root, &format!("s3://{bucket}/r/"));
    let id = at_kill["id"].as_str().unwrap().to_string();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["list-pending", "--json"])
        .output()
        .unwrap();
    let rows = json(&out);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "one row for the tree: {rows:?}");
    assert_eq!(rows[0]["id"], id.as_str());
    assert_eq!(rows[0]["kind"], "tree");
    assert_eq!(rows[0]["files_total"], 43);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["resume", &id])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    all_landed(srv, &s, &bucket, &root, "r/", 43);

    let (_, at_kill) = put_and_kill(srv, &s, &root, &format!("s3://{bucket}/a/"));
    let id = at_kill["id"].as_str().unwrap().to_string();
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", &id])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        support::text(&out.stdout).contains("3 uploads open"),
        "{}",
        support::text(&out.stdout)
    );
    assert!(
        srv.list_uploads(&bucket).is_empty(),
        "nothing pending after abort"
    );
    assert!(
        s.journals().is_empty(),
        "no journal after abort: {:?}",
        s.journals()
    );
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["list-pending"])
        .output()
        .unwrap();
    assert!(support::text(&out.stdout).contains("no pending uploads"));
});

/// Sets a file's mtime `secs` from now.
fn set_mtime(path: &Path, at: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

on_both_servers!(sync_sends_only_what_changed, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("sync");
    let root = s.dir.path().join("tree");
    let rels = documented_tree(&root);
    let url = format!("s3://{bucket}/s/");
    let sync = |extra: &[&str]| {
        let proxy = FaultProxy::start(&srv.endpoint);
        let out = s
            .s3up(srv, &proxy.endpoint())
            .args(["sync", "--part-size", "5MiB"])
            .args(extra)
            .arg(&root)
            .arg(&url)
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let mut keys: Vec<String> = proxy
            .requests()
            .iter()
            .filter(|r| is_put_object(r) || (r.method == "POST" && r.query.contains("uploads")))
            .map(key_of)
            .collect();
        keys.sort();
        (support::text(&out.stdout), keys)
    };
    let (_, first) = sync(&[]);
    assert_eq!(first.len(), rels.len());
    let (said, none) = sync(&[]);
    assert!(none.is_empty(), "sent again: {none:?}");
    assert!(said.contains("nothing to send"), "{said}");

    // Touched a second after its upload: newer than its object.
    std::thread::sleep(Duration::from_millis(1100));
    set_mtime(&root.join("a.txt"), std::time::SystemTime::now());
    let grown = root.join("sub/deeper/b.bin");
    let mut bytes = std::fs::read(&grown).unwrap();
    bytes.extend_from_slice(b"more");
    std::fs::write(&grown, bytes).unwrap();
    let (_, changed) = sync(&[]);
    assert_eq!(changed, ["s/a.txt", "s/sub/deeper/b.bin"]);

    // Same size, mtime put back: only --checksum sees it.
    let victim = root.join("many/003/f3.dat");
    let before = std::fs::metadata(&victim).unwrap().modified().unwrap();
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();
    set_mtime(&victim, before);
    let (_, missed) = sync(&[]);
    assert!(missed.is_empty(), "{missed:?}");
    let (_, caught) = sync(&["--checksum"]);
    assert_eq!(caught, ["s/many/003/f3.dat"]);
    assert_object_equals(srv, &bucket, "s/many/003/f3.dat", &victim);
    let (_, size_only) = sync(&["--size-only"]);
    assert!(size_only.is_empty(), "{size_only:?}");
    assert!(s.journals().is_empty());
});

on_both_servers!(filters_keep_the_keys_they_should, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("filt");
    let root = s.dir.path().join("tree");
    for rel in [
        "keep.txt",
        "drop.tmp",
        "logs/a.gz",
        "logs/deep/b.gz",
        "logs/c.txt",
        "x/y.tmp",
    ] {
        write(&root, rel, 10, 1);
    }
    let put = |prefix: &str, extra: &[&str]| {
        let out = s
            .s3up(srv, &srv.endpoint)
            .arg("put")
            .args(extra)
            .arg(&root)
            .arg(format!("s3://{bucket}/{prefix}/"))
            .output()
            .unwrap();
        assert_exit(&out, 0);
        srv.list_keys(&bucket, &format!("{prefix}/"))
    };
    assert_eq!(
        put("e", &["--exclude", "*.tmp"]),
        [
            "e/keep.txt",
            "e/logs/a.gz",
            "e/logs/c.txt",
            "e/logs/deep/b.gz"
        ]
    );
    assert_eq!(
        put(
            "i",
            &[
                "--include",
                "logs/*.gz",
                "--include",
                "*.txt",
                "--exclude",
                "c.txt"
            ]
        ),
        ["i/keep.txt", "i/logs/a.gz"]
    );
    assert_eq!(
        put("r", &["-r", "--exclude", "logs/**"]),
        ["r/drop.tmp", "r/keep.txt", "r/x/y.tmp"]
    );
});

/// An unreadable file is reported and the rest complete, exit 1. Root reads
/// anything, so as root s3up runs as `nobody`.
#[test]
fn an_unreadable_file_is_reported_and_the_rest_complete() {
    use std::os::unix::fs::PermissionsExt;
    let srv = support::server(support::Kind::Garage);
    let s = Scratch::new();
    let mode =
        |p: &Path, m| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    mode(s.dir.path(), 0o755);
    let root = s.dir.path().join("tree");
    for rel in ["a.txt", "b/c.txt", "b/secret.txt", "d.txt"] {
        write(&root, rel, 100, 3);
    }
    mode(&root.join("b/secret.txt"), 0o000);
    std::fs::create_dir_all(s.journal_dir()).unwrap();
    mode(&s.journal_dir(), 0o777);
    let bucket = srv.new_bucket("unread");
    let uid = std::process::Command::new("id").arg("-u").output().unwrap();
    let root_user = String::from_utf8_lossy(&uid.stdout).trim() == "0";
    let bin = assert_cmd::cargo::cargo_bin("s3up");
    let mut cmd = if root_user {
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
        .arg(&root)
        .arg(format!("s3://{bucket}/u/"))
        .output()
        .unwrap();
    assert_exit(&out, 1);
    let err = support::text(&out.stderr);
    assert!(
        err.contains("secret.txt") && err.contains("ermission denied"),
        "{err}"
    );
    assert!(err.contains("1 file of 4 not uploaded"), "{err}");
    assert_eq!(
        srv.list_keys(&bucket, "u/"),
        ["u/a.txt", "u/b/c.txt", "u/d.txt"]
    );
    println!("{err}");
}

on_both_servers!(
    a_tree_through_serve_lands_under_the_token_prefix,
    |srv: &Server| {
        const TOKEN: &str = "tree-token-0123456789abcdef";
        let bucket = srv.new_bucket("treevia");
        let serve = Serve::on(srv, &srv.endpoint, &bucket)
            .tokens(&format!("{} alice alice-id\n", hashed(TOKEN)))
            .start();
        let s = Scratch::new();
        let root = s.dir.path().join("tree");
        let rels = ["a.txt", "empty.dat", "sub/b.bin", "sub/big.bin"];
        for (i, rel) in rels.iter().enumerate() {
            let size = match *rel {
                "empty.dat" => 0,
                "sub/big.bin" => 6 * MIB,
                _ => 500,
            };
            write(&root, rel, size, i as u64);
        }
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", s.dir.path())
            .env("S3UP_JOURNAL_DIR", s.journal_dir())
            .env("S3UP_TOKEN", TOKEN)
            .args(["put", "--part-size", "5MiB", "--via", &serve.url])
            .arg(&root)
            .arg("up/alice/t/")
            .output()
            .unwrap();
        assert_exit(&out, 0);
        let want: Vec<String> = rels.iter().map(|r| format!("up/alice/t/{r}")).collect();
        assert_eq!(srv.list_keys(&bucket, ""), want);
        for r in rels {
            assert_object_equals(srv, &bucket, &format!("up/alice/t/{r}"), &root.join(r));
        }
        assert!(s.journals().is_empty(), "{:?}", s.journals());
    }
);
