//! Faults through the real SDK: a proxy between s3up and the server resets
//! connections, stalls, and answers errors; the process is killed mid-run.

use std::time::{Duration, Instant};

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, Rule, Schedule};
use crate::support::{
    assert_exit, assert_object_equals, assert_ok, wait_for, Scratch, Server, MIB,
};

on_both_servers!(resets_and_slowdowns_are_retried, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPart,
        Fault::ResetMidBody,
        Schedule::Ratio {
            percent: 20,
            seed: 7,
        },
    ));
    proxy.add_rule(Rule::new(
        Match::UploadPart,
        Fault::slow_down(),
        Schedule::Ratio {
            percent: 20,
            seed: 99,
        },
    ));
    proxy.add_rule(Rule::new(
        Match::CreateMultipartUpload,
        Fault::slow_down(),
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("faults");
    let file = s.file("f.bin", 64 * MIB, 64);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args([
            "put",
            "--part-size",
            "5MiB",
            "--retries",
            "10",
            "--concurrency",
            "4",
        ])
        .arg(&file)
        .arg(format!("s3://{bucket}/f.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "f.bin", &file);
    let faults: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter_map(|r| r.fault)
        .collect();
    assert!(
        faults.iter().any(|f| f.contains("Reset")),
        "no reset was injected: {faults:?}"
    );
    assert!(
        faults.iter().any(|f| f.contains("503")),
        "no 503 was injected: {faults:?}"
    );
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
});

on_both_servers!(
    part_failing_past_retries_exits_3_with_journal,
    |srv: &Server| {
        let proxy = FaultProxy::start(&srv.endpoint);
        proxy.add_rule(Rule::new(
            Match::UploadPartNumber(2),
            Fault::internal_error(),
            Schedule::Always,
        ));
        let s = Scratch::new();
        let bucket = srv.new_bucket("giveup");
        let file = s.file("g.bin", 20 * MIB, 2);
        let out = s
            .s3up(srv, &proxy.endpoint())
            .args([
                "put",
                "--part-size",
                "5MiB",
                "--retries",
                "2",
                "--concurrency",
                "2",
            ])
            .arg(&file)
            .arg(format!("s3://{bucket}/g.bin"))
            .output()
            .unwrap();
        assert_exit(&out, 3);
        let line = support::one_error_line(&out);
        let journal = s.only_journal();
        let id = journal["id"].as_str().unwrap();
        assert!(line.contains(&format!("s3up resume {id}")), "{line}");
        assert!(
            line.contains("part 2") && line.contains("3 attempts"),
            "{line}"
        );
        let upload_id = journal["upload_id"].as_str().unwrap();
        assert!(
            srv.list_uploads(&bucket)
                .iter()
                .any(|(_, u)| u == upload_id),
            "upload still open on S3"
        );
        // The first attempt and `--retries 2` more at part 2, each answered 500
        // by the proxy (issue 9, item 9: N retries means N after the first).
        let attempts = proxy
            .requests()
            .iter()
            .filter(|r| r.is_upload_part() && r.part_number() == Some(2))
            .count();
        assert_eq!(attempts, 3);
        // The parts that did finish are journalled with their ETags.
        let numbers: Vec<u64> = journal["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect();
        assert!(!numbers.contains(&2), "{numbers:?}");
        let listed = srv.list_parts(&bucket, "g.bin", upload_id);
        for p in journal["parts"].as_array().unwrap() {
            let n = p["number"].as_u64().unwrap() as i32;
            let on_s3 = listed
                .iter()
                .find(|l| l.number == n)
                .expect("journalled part is on S3");
            assert_eq!(on_s3.etag, p["etag"].as_str().unwrap());
        }
    }
);

on_both_servers!(stalled_request_is_retried, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(1),
        Fault::Stall,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("stall");
    let file = s.file("s.bin", 11 * MIB, 9);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--stall-timeout", "2"])
        .arg(&file)
        .arg(format!("s3://{bucket}/s.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(proxy.faults_applied(), 1);
    assert_object_equals(srv, &bucket, "s.bin", &file);
});

on_both_servers!(complete_200_with_error_body_is_a_failure, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::Error200,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("err200");
    let file = s.file("e.bin", 6 * MIB, 1);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB"])
        .arg(&file)
        .arg(format!("s3://{bucket}/e.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    // The 200 answer was not taken for success: Complete was sent again.
    let completes = proxy.count(Match::CompleteMultipartUpload);
    assert_eq!(completes, 2);
    assert_object_equals(srv, &bucket, "e.bin", &file);

    // And when it never stops, the run ends resumable.
    proxy.clear_rules();
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::Error200,
        Schedule::Always,
    ));
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--retries", "2"])
        .arg(&file)
        .arg(format!("s3://{bucket}/e2.bin"))
        .output()
        .unwrap();
    assert_exit(&out, 3);
    assert!(srv.object_size(&bucket, "e2.bin").is_none());
    assert_eq!(s.journals().len(), 1);
});

// Each byte is hashed once: the part's SHA-256 goes in x-amz-checksum-sha256 and
// is also the signed payload hash (x-amz-content-sha256), and no SDK default
// checksum (CRC32, CRC64NVME, trailers) rides along.
on_both_servers!(parts_carry_one_sha256_and_no_sdk_crc, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    let s = Scratch::new();
    let bucket = srv.new_bucket("hdrs");
    let file = s.file("h.bin", 12 * MIB, 4);
    s.s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB"])
        .arg(&file)
        .arg(format!("s3://{bucket}/h.bin"))
        .assert()
        .success();
    let bytes = std::fs::read(&file).unwrap();
    let parts: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.is_upload_part())
        .collect();
    assert_eq!(parts.len(), 3);
    for r in &parts {
        let n = r.part_number().unwrap() as u64;
        let range = &bytes[((n - 1) * 5 * MIB) as usize..((n * 5 * MIB).min(12 * MIB)) as usize];
        let b64 = support::sha256_b64(range);
        assert_eq!(
            r.header("x-amz-checksum-sha256"),
            Some(b64.as_str()),
            "part {n}"
        );
        let hex_sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(range));
        assert_eq!(
            r.header("x-amz-content-sha256"),
            Some(hex_sha.as_str()),
            "part {n} is signed over its SHA-256"
        );
        for h in [
            "x-amz-checksum-crc32",
            "x-amz-checksum-crc32c",
            "x-amz-checksum-crc64nvme",
            "x-amz-trailer",
            "x-amz-sdk-checksum-algorithm",
        ] {
            assert_eq!(r.header(h), None, "part {n} carries {h}");
        }
        assert_eq!(r.body_len, range.len() as u64);
    }
});

// SIGKILL in the middle of the parts leaves a parseable journal with the
// UploadId and the finished parts, and the lock is free again.
on_both_servers!(sigkill_leaves_a_usable_journal, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    // Part 6 hangs, so the run is still going when it is killed.
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(6),
        Fault::Stall,
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("kill");
    let file = s.file("k.bin", 40 * MIB, 6);
    let mut child = s
        .s3up_std(srv, &proxy.endpoint())
        .args([
            "put",
            "--part-size",
            "5MiB",
            "--concurrency",
            "2",
            "--stall-timeout",
            "600",
        ])
        .arg(&file)
        .arg(format!("s3://{bucket}/k.bin"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for("3 parts in the journal", &mut child, String::new, || {
        s.journalled_parts() >= 3
    });
    support::sigkill(&mut child);
    proxy.sever();
    let journal = s.only_journal();
    let upload_id = journal["upload_id"].as_str().unwrap();
    assert!(!upload_id.is_empty());
    let listed = srv.list_parts(&bucket, "k.bin", upload_id);
    let parts = journal["parts"].as_array().unwrap();
    assert!(parts.len() >= 3);
    for p in parts {
        let n = p["number"].as_u64().unwrap() as i32;
        let on_s3 = listed
            .iter()
            .find(|l| l.number == n)
            .expect("journalled part is on S3");
        assert_eq!(on_s3.etag, p["etag"].as_str().unwrap());
    }
    let lock = s
        .journal_dir()
        .join(format!("{}.lock", journal["id"].as_str().unwrap()));
    let f = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    f.try_lock().expect("the dead process's lock is released");
    assert!(!s.journal_dir().read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .ends_with(".tmp")));
});

on_both_servers!(sigint_exits_130_with_journal, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(3),
        Fault::Stall,
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("sigint");
    let file = s.file("i.bin", 20 * MIB, 8);
    let mut child =
        support::spawn_held_put(&s, srv, &proxy, &[], &file, &format!("s3://{bucket}/i.bin"));
    wait_for("part 3 to be sent", &mut child, String::new, || {
        proxy.requests().iter().any(|r| r.part_number() == Some(3))
    });
    support::signal(&child, "-INT");
    let status = child.wait().unwrap();
    let stderr = support::child_stderr(&s);
    assert_eq!(status.code(), Some(130), "{status}\nstderr: {stderr}");
    let journal = s.only_journal();
    assert!(
        stderr.contains(&format!("s3up resume {}", journal["id"].as_str().unwrap())),
        "{stderr}"
    );
    let numbers: Vec<u64> = journal["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["number"].as_u64().unwrap())
        .collect();
    assert_eq!(
        numbers,
        vec![1, 2],
        "parts finished before Ctrl-C are journalled"
    );
});

// A slow link that keeps moving is not a stall: a part that takes several times
// --stall-timeout to send still succeeds at the first attempt. (Client-side
// behaviour, so one server is enough.)
#[test]
fn garage_slow_but_moving_part_is_not_a_stall() {
    let srv = support::server(support::Kind::Garage);
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPart,
        Fault::Throttle {
            bytes_per_sec: 4 * MIB,
        },
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("slow");
    let file = s.file("slow.bin", 40 * MIB, 3);
    let started = Instant::now();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args([
            "put",
            "--part-size",
            "32MiB",
            "--stall-timeout",
            "3",
            "--retries",
            "0",
        ])
        .arg(&file)
        .arg(format!("s3://{bucket}/slow.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    // The 32 MiB part alone took about 8 s at 4 MiB/s, well past the 3 s limit.
    assert!(
        started.elapsed() > Duration::from_secs(6),
        "the throttle did not slow the upload"
    );
    assert_object_equals(srv, &bucket, "slow.bin", &file);
}

// Ctrl-C while CompleteMultipartUpload hangs: exit 130 at once, journal kept with
// every part, and resume completes.
on_both_servers!(sigint_during_complete_exits_130, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::Stall,
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("intcomplete");
    let file = s.file("c.bin", 11 * MIB, 5);
    let mut child = s
        .s3up_std(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--stall-timeout", "600"])
        .arg(&file)
        .arg(format!("s3://{bucket}/c.bin"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_for("Complete to be sent", &mut child, String::new, || {
        proxy.count(Match::CompleteMultipartUpload) > 0
    });
    let signalled = Instant::now();
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_exit(&out, 130);
    assert!(
        signalled.elapsed() < Duration::from_secs(10),
        "Ctrl-C took {:?}",
        signalled.elapsed()
    );
    let journal = s.only_journal();
    assert_eq!(journal["parts"].as_array().unwrap().len(), 3);
    s.s3up(srv, &srv.endpoint).arg("resume").assert().success();
    assert_object_equals(srv, &bucket, "c.bin", &file);
    assert!(s.journals().is_empty());
});

// The Complete reached the server and succeeded, but its answer was lost. The
// retried Complete finds the upload gone (or, on moto, answered again), and s3up
// recognises the object as its own instead of failing. With no retry left the
// run stops resumable, and `resume` finds the object complete.
on_both_servers!(lost_complete_answer_is_recognised, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::SwallowAnswer,
        Schedule::FirstN(1),
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("lostanswer");
    let file = s.file("l.bin", 11 * MIB, 21);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB"])
        .arg(&file)
        .arg(format!("s3://{bucket}/l.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "l.bin", &file);
    assert!(s.journals().is_empty());

    proxy.clear_rules();
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::SwallowAnswer,
        Schedule::Always,
    ));
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--retries", "0"])
        .arg(&file)
        .arg(format!("s3://{bucket}/l2.bin"))
        .output()
        .unwrap();
    assert_exit(&out, 3);
    assert_eq!(s.journals().len(), 1);
    // Resume reaches the store at the endpoint the journal records (issue 9:
    // another endpoint's answers would say nothing about this upload).
    proxy.clear_rules();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .arg("resume")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("already completed"),
        "resume should find the object complete: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_object_equals(srv, &bucket, "l2.bin", &file);
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
});
