//! `--checksum-algorithm` and `--checksum-type` end to end (issue 23, section
//! 2), on Garage and moto: each choice a store accepts round-trips through a
//! multi-part put and through a put killed and resumed (a lost journal entry
//! adopted, the object's checksum as expected); each choice it refuses is
//! refused before anything is created, naming the store's answer; a part
//! whose bytes change in flight is refused by the store and sent again; a
//! Complete whose answer is lost is recognised by the chosen checksum.
//!
//! The expected checksums are computed here from the file with the crates
//! themselves (crc-fast, sha1, sha2), not with s3up's code.

use std::path::Path;

use aws_sdk_s3::types::ChecksumMode;
use base64::Engine;
use sha2::Digest;

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, RequestRecord, Rule, Schedule};
use crate::support::{
    assert_exit, assert_object_equals, assert_ok, child_stderr, one_error_line, spawn_held_put,
    Kind, Scratch, Server, MIB,
};

/// A choice as the flags give it: the algorithm, and `--checksum-type` if any.
pub(crate) type Choice = (&'static str, Option<&'static str>);

/// Every choice s3up offers, default type and explicit.
pub(crate) const CHOICES: [Choice; 8] = [
    ("SHA256", None),
    ("SHA1", None),
    ("CRC32", None),
    ("CRC32C", None),
    ("CRC64NVME", None),
    ("CRC32", Some("full-object")),
    ("CRC32C", Some("full-object")),
    ("CRC64NVME", Some("full-object")),
];

/// What each store was measured to accept (README, "Checksums"); the rest
/// s3up must refuse before creating anything.
pub(crate) fn accepts(kind: Kind, choice: Choice) -> bool {
    match kind {
        // moto stores a wrong checksum for the others (README, "Checksums").
        Kind::Moto => matches!(choice, ("SHA256" | "SHA1" | "CRC32", None)),
        _ => true,
    }
}

pub(crate) fn flags(choice: Choice) -> Vec<&'static str> {
    let mut v = vec!["--checksum-algorithm", choice.0];
    if let Some(t) = choice.1 {
        v.extend(["--checksum-type", t]);
    }
    v
}

fn full_object(choice: Choice) -> bool {
    choice.1 == Some("full-object") || choice.0 == "CRC64NVME"
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// One algorithm's digest of `data`, as S3 writes it (CRCs big-endian).
fn digest(algorithm: &str, data: &[u8]) -> Vec<u8> {
    use crc_fast::CrcAlgorithm as C;
    match algorithm {
        "SHA256" => sha2::Sha256::digest(data).to_vec(),
        "SHA1" => <sha1::Sha1 as sha1::Digest>::digest(data).to_vec(),
        "CRC32" => (crc_fast::checksum(C::Crc32IsoHdlc, data) as u32)
            .to_be_bytes()
            .to_vec(),
        "CRC32C" => (crc_fast::checksum(C::Crc32Iscsi, data) as u32)
            .to_be_bytes()
            .to_vec(),
        "CRC64NVME" => crc_fast::checksum(C::Crc64Nvme, data)
            .to_be_bytes()
            .to_vec(),
        other => panic!("no algorithm {other}"),
    }
}

/// The checksum S3 should report for `file` sent in `part_size` parts.
fn expected(choice: Choice, file: &Path, part_size: usize) -> String {
    let data = std::fs::read(file).unwrap();
    if full_object(choice) {
        return b64(&digest(choice.0, &data));
    }
    let parts: Vec<&[u8]> = data.chunks(part_size).collect();
    let joined: Vec<u8> = parts.iter().flat_map(|p| digest(choice.0, p)).collect();
    format!("{}-{}", b64(&digest(choice.0, &joined)), parts.len())
}

/// The checksum of `algorithm` that HeadObject reports, if any, and the type.
fn reported(srv: &Server, bucket: &str, key: &str, algorithm: &str) -> (Option<String>, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let req = srv
        .client()
        .head_object()
        .bucket(bucket)
        .key(key)
        .checksum_mode(ChecksumMode::Enabled)
        .send();
    let out = rt
        .block_on(req)
        .unwrap_or_else(|e| panic!("HeadObject: {e:?}"));
    let sum = match algorithm {
        "SHA256" => out.checksum_sha256(),
        "SHA1" => out.checksum_sha1(),
        "CRC32" => out.checksum_crc32(),
        "CRC32C" => out.checksum_crc32_c(),
        "CRC64NVME" => out.checksum_crc64_nvme(),
        _ => None,
    };
    let kind = out
        .checksum_type()
        .map(|t| t.as_str().to_string())
        .unwrap_or_default();
    (sum.map(str::to_string), kind)
}

/// The object's checksum, when the store reports one, is the expected one.
/// (Which stores report one is in the README; a store that stores none is
/// still checked on the way in, by the corrupted-part test.)
pub(crate) fn assert_checksum(srv: &Server, bucket: &str, key: &str, choice: Choice, file: &Path) {
    let want = expected(choice, file, 5 * MIB as usize);
    let (got, kind) = reported(srv, bucket, key, choice.0);
    let digest_of = |s: &str| s.split('-').next().unwrap_or("").to_string();
    match got {
        Some(got) => {
            assert_eq!(digest_of(&got), digest_of(&want), "{choice:?}: {kind}");
            if full_object(choice) && !kind.is_empty() {
                assert_eq!(kind, "FULL_OBJECT", "{choice:?}");
            }
        }
        None => assert!(
            srv.kind == Kind::Moto,
            "{choice:?}: {:?} reports no {} checksum",
            srv.kind,
            choice.0
        ),
    }
}

fn is_create(r: &RequestRecord) -> bool {
    r.method == "POST"
        && r.query
            .split('&')
            .any(|q| q == "uploads" || q == "uploads=")
}

on_both_servers!(each_accepted_choice_round_trips, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    let bucket = srv.new_bucket("sums");
    let s = Scratch::new();
    // 3 parts of 5 MiB, the last one short.
    let file = s.file("multi.bin", 12 * MIB + 1234, 41);
    let small = s.file("small.bin", 300_000, 42);
    for choice in CHOICES.into_iter().filter(|c| accepts(srv.kind, *c)) {
        let key = format!("{}-{}", choice.0, choice.1.unwrap_or("default"));
        let out = s
            .s3up(srv, &proxy.endpoint())
            .arg("put")
            .args(flags(choice))
            .args(["--part-size", "5MiB", "--no-progress"])
            .arg(&file)
            .arg(format!("s3://{bucket}/{key}"))
            .output()
            .unwrap();
        assert_ok(&out);
        assert_object_equals(srv, &bucket, &key, &file);
        assert_checksum(srv, &bucket, &key, choice, &file);
        // Each part carried the chosen algorithm's header, and no other.
        let header = format!("x-amz-checksum-{}", choice.0.to_lowercase());
        let parts: Vec<_> = proxy
            .requests()
            .into_iter()
            .filter(|r| r.is_upload_part() && r.path.ends_with(&key))
            .collect();
        assert_eq!(parts.len(), 3, "{choice:?}");
        for p in &parts {
            assert!(p.header(&header).is_some(), "{choice:?}: {p:?}");
            if choice.0 != "SHA256" {
                assert!(p.header("x-amz-checksum-sha256").is_none(), "{p:?}");
            }
        }
        // One PutObject for a file smaller than a part, with the same checksum.
        let small_key = format!("{key}-small");
        let out = s
            .s3up(srv, &srv.endpoint)
            .arg("put")
            .args(flags(choice))
            .arg("--no-progress")
            .arg(&small)
            .arg(format!("s3://{bucket}/{small_key}"))
            .output()
            .unwrap();
        assert_ok(&out);
        assert_object_equals(srv, &bucket, &small_key, &small);
        let (got, _) = reported(srv, &bucket, &small_key, choice.0);
        if let Some(got) = got {
            let data = std::fs::read(&small).unwrap();
            assert_eq!(got, b64(&digest(choice.0, &data)), "{choice:?}");
        }
    }
    assert!(s.journals().is_empty());
});

on_both_servers!(
    each_refused_choice_is_refused_before_create,
    |srv: &Server| {
        let proxy = FaultProxy::start(&srv.endpoint);
        let bucket = srv.new_bucket("nosums");
        let s = Scratch::new();
        let file = s.file("r.bin", 12 * MIB, 43);
        let small = s.file("rs.bin", 1000, 44);
        let refused: Vec<Choice> = CHOICES
            .into_iter()
            .filter(|c| !accepts(srv.kind, *c))
            .collect();
        for choice in &refused {
            for f in [&file, &small] {
                let out = s
                    .s3up(srv, &proxy.endpoint())
                    .arg("put")
                    .args(flags(*choice))
                    .args(["--part-size", "5MiB"])
                    .arg(f)
                    .arg(format!("s3://{bucket}/refused"))
                    .output()
                    .unwrap();
                assert_exit(&out, 1);
                let line = one_error_line(&out);
                let store = if srv.kind == Kind::Garage {
                    "Garage"
                } else {
                    "moto"
                };
                assert!(line.contains(store), "{line}");
                assert!(line.contains(choice.0), "{line}");
                assert!(line.contains("Nothing was created"), "{line}");
            }
        }
        let reqs = proxy.requests();
        assert!(!reqs.iter().any(is_create), "a Create was sent");
        assert!(!reqs.iter().any(|r| r.method == "PUT"), "a body was sent");
        assert!(srv.list_uploads(&bucket).is_empty());
        assert!(srv.object_size(&bucket, "refused").is_none());
        assert!(s.journals().is_empty());
    }
);

/// Kills a put after parts 1 and 2 (part 3 stalls), drops part 2 from the
/// journal (a save the kill lost: the part is on the store, the journal does
/// not know it), and resumes: part 2 is adopted after a check against the
/// file, and the object and its checksum are the file's.
fn killed_then_resumed(srv: &Server, choice: Choice) {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(3),
        Fault::Stall,
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("sumkill");
    let file = s.file("k.bin", 18 * MIB, 45);
    let url = format!("s3://{bucket}/k.bin");
    let mut child = spawn_held_put(&s, srv, &proxy, &flags(choice), &file, &url);
    let saved = |s: &Scratch| s.journalled_parts() == 2;
    support::wait_for(
        "parts 1 and 2 journalled",
        &mut child,
        || child_stderr(&s),
        || saved(&s),
    );
    support::sigkill(&mut child);
    proxy.sever();

    let path = s.journals()[0].clone();
    let mut journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        journal["object"]["checksum"]["algorithm"], choice.0,
        "{journal}"
    );
    let want_type = if full_object(choice) {
        "full-object"
    } else {
        "composite"
    };
    assert_eq!(
        journal["object"]["checksum"]["type"], want_type,
        "{journal}"
    );
    for p in journal["parts"].as_array().unwrap() {
        // Each part's digest of the chosen algorithm is journalled for Complete.
        assert_eq!(p["checksum"].is_string(), choice.0 != "SHA256", "{p}");
    }
    journal["parts"].as_array_mut().unwrap().truncate(1);
    std::fs::write(&path, serde_json::to_vec(&journal).unwrap()).unwrap();

    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["resume", "--no-progress"])
        .output()
        .unwrap();
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "k.bin", &file);
    assert_checksum(srv, &bucket, "k.bin", choice, &file);
    assert!(s.journals().is_empty());
}

on_both_servers!(killed_then_resumed_with_each_choice, |srv: &Server| {
    for choice in CHOICES.into_iter().filter(|c| accepts(srv.kind, *c)) {
        killed_then_resumed(srv, choice);
    }
});

/// A part whose first byte the proxy flips in flight is refused by the
/// store (it checks the checksum), and sent again.
fn corrupted_part_is_refused(srv: &Server, choice: Choice) {
    let proxy = FaultProxy::recording(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(2),
        Fault::CorruptBody,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("sumbad");
    let file = s.file("c.bin", 12 * MIB, 46);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .arg("put")
        .args(flags(choice))
        .args(["--part-size", "5MiB", "--no-progress"])
        .arg(&file)
        .arg(format!("s3://{bucket}/c.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "c.bin", &file);
    let part2: Vec<_> = proxy
        .exchanges()
        .into_iter()
        .filter(|e| e.method == "PUT" && e.target.contains("partNumber=2&"))
        .collect();
    assert_eq!(part2.len(), 2, "{choice:?}: part 2 sent twice");
    assert!(
        (400..500).contains(&part2[0].status),
        "{choice:?}: the corrupted part got {} {}",
        part2[0].status,
        String::from_utf8_lossy(&part2[0].body)
    );
    assert_eq!(part2[1].status, 200);
}

/// On Garage only: moto 5.1.22 checks no part checksum at all (measured
/// here: a part whose first byte was flipped is stored, with any algorithm,
/// SHA-256 included), which README, "Checksums", says.
#[test]
fn corrupted_part_is_refused_with_each_choice_on_garage() {
    let srv = support::server(Kind::Garage);
    for choice in CHOICES.into_iter().filter(|c| accepts(srv.kind, *c)) {
        corrupted_part_is_refused(srv, choice);
    }
}

// Complete lands but its answer is lost: the retry finds the upload gone,
// and the object is recognised as this upload's by the chosen checksum (or,
// where the store reports none, the multipart ETag); the put succeeds.
on_both_servers!(lost_complete_answer_with_each_choice, |srv: &Server| {
    for choice in CHOICES.into_iter().filter(|c| accepts(srv.kind, *c)) {
        let proxy = FaultProxy::start(&srv.endpoint);
        proxy.add_rule(Rule::new(
            Match::CompleteMultipartUpload,
            Fault::SwallowAnswer,
            Schedule::FirstN(1),
        ));
        let s = Scratch::new();
        let bucket = srv.new_bucket("sumlost");
        let file = s.file("l.bin", 11 * MIB, 47);
        let out = s
            .s3up(srv, &proxy.endpoint())
            .arg("put")
            .args(flags(choice))
            .args(["--part-size", "5MiB", "--no-progress"])
            .arg(&file)
            .arg(format!("s3://{bucket}/l.bin"))
            .output()
            .unwrap();
        assert_ok(&out);
        assert_object_equals(srv, &bucket, "l.bin", &file);
        assert!(s.journals().is_empty(), "{choice:?}");
    }
});

/// Bad combinations are usage errors (exit 2). (`--via`: a stock Companion
/// refuses every algorithm but SHA-256, `s3up serve` takes each its store
/// does: tests/e2e/via.rs.)
#[test]
fn bad_combinations_are_refused() {
    let s = Scratch::new();
    let file = s.file("u.bin", 6 * MIB, 48);
    let run = |args: &[&str], dest: &str| {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("s3up"));
        cmd.env("S3UP_JOURNAL_DIR", s.journal_dir())
            .arg("put")
            .args(args)
            .arg(&file)
            .arg(dest)
            .output()
            .unwrap()
    };
    let out = run(
        &[
            "--checksum-algorithm",
            "SHA1",
            "--checksum-type",
            "full-object",
        ],
        "s3://b/k",
    );
    assert_exit(&out, 2);
    assert!(one_error_line(&out).contains("SHA1 has no full-object form"));
    let out = run(
        &[
            "--checksum-algorithm",
            "crc64nvme",
            "--checksum-type",
            "composite",
        ],
        "s3://b/k",
    );
    assert_exit(&out, 2);
    assert!(one_error_line(&out).contains("CRC64NVME checksums are full-object only"));
    assert!(s.journals().is_empty());
}
