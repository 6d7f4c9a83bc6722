//! `resume`, `list-pending` and `abort` end to end (issue 3's "Must show"):
//! uploads interrupted at every phase (SIGKILL, SIGINT, a journal that lost
//! parts, a changed source, an upload aborted elsewhere, a held lock, a
//! truncated journal) are finished or refused as promised, and forgotten
//! uploads on S3 are found and cleaned up, against Garage and moto.

use std::path::{Path, PathBuf};
use std::process::{Child, Output};
use std::time::{Duration, Instant, SystemTime};

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, RequestRecord, Rule, Schedule};
use crate::support::{
    assert_object_equals, assert_ok, child_stderr, one_error_line, random_bytes, spawn_held_put,
    Kind, Scratch, Server, MIB,
};
use serde_json::Value;

fn read_json(path: &Path) -> Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn part_numbers(journal: &Value) -> Vec<u64> {
    journal["parts"]
        .as_array()
        .expect("journal has a parts array")
        .iter()
        .map(|p| p["number"].as_u64().expect("part number"))
        .collect()
}

/// Parts recorded in the only journal, `None` while there is none.
fn journalled_parts(s: &Scratch) -> Option<usize> {
    s.journals()
        .first()
        .map(|p| part_numbers(&read_json(p)).len())
}

fn uploaded_parts(reqs: &[RequestRecord]) -> Vec<u32> {
    let mut v: Vec<u32> = reqs
        .iter()
        .filter(|r| r.is_upload_part())
        .filter_map(RequestRecord::part_number)
        .collect();
    v.sort_unstable();
    v
}

fn is_list_parts(r: &RequestRecord) -> bool {
    r.method == "GET" && r.query.split('&').any(|p| p.starts_with("uploadId="))
}

fn is_list_uploads(r: &RequestRecord) -> bool {
    r.method == "GET"
        && r.query
            .split('&')
            .any(|p| p == "uploads" || p.starts_with("uploads="))
}

fn pending_keys(srv: &Server, bucket: &str) -> Vec<String> {
    srv.list_uploads(bucket)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

fn is_listed(srv: &Server, bucket: &str, upload_id: &str) -> bool {
    srv.list_uploads(bucket).iter().any(|(_, u)| u == upload_id)
}

/// Polls `cond` until it holds; fails if `child` exits first or after 60 s.
fn wait_for(s: &Scratch, what: &str, child: &mut Child, cond: impl FnMut() -> bool) {
    support::wait_for(what, child, || child_stderr(s), cond);
}

struct Pending {
    id: String,
    upload_id: String,
}

/// Leaves a pending upload of `file` at `bucket/key`: every part is on S3 and
/// journalled, but CompleteMultipartUpload is answered 500, so `put` exits 3.
fn pending_upload(s: &Scratch, srv: &Server, bucket: &str, key: &str, file: &Path) -> Pending {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::internal_error(),
        Schedule::Always,
    ));
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "-q", "--part-size", "5MiB", "--retries", "0"])
        .arg(file)
        .arg(format!("s3://{bucket}/{key}"))
        .output()
        .unwrap();
    let err = support::text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    let id = err
        .split("s3up resume ")
        .nth(1)
        .and_then(|rest| rest.get(..12))
        .unwrap_or_else(|| panic!("no resume hint: {err}"))
        .to_string();
    // The proxy was there only to fail Complete; the upload lives on the
    // server itself. Point the journal there, as if the put had gone straight
    // to it, so that resume reaches the recorded endpoint (issue 9).
    let jpath = s.journal_dir().join(format!("{id}.json"));
    let mut journal = read_json(&jpath);
    assert_eq!(
        journal["connection"]["endpoint_url"].as_str(),
        Some(proxy.endpoint().as_str())
    );
    journal["connection"]["endpoint_url"] = Value::String(srv.endpoint.clone());
    std::fs::write(&jpath, serde_json::to_vec(&journal).unwrap()).unwrap();
    assert_eq!(
        part_numbers(&journal).len() as u64,
        journal["part_count"].as_u64().unwrap(),
        "every part is journalled"
    );
    let upload_id = journal["upload_id"].as_str().unwrap().to_string();
    assert!(is_listed(srv, bucket, &upload_id));
    Pending { id, upload_id }
}

/// Aborts an upload with the SDK, as another tool or a lifecycle rule would.
fn abort_behind_s3ups_back(srv: &Server, bucket: &str, key: &str, upload_id: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        srv.client()
            .abort_multipart_upload()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .send(),
    )
    .unwrap_or_else(|e| panic!("AbortMultipartUpload: {e:?}"));
    assert!(!is_listed(srv, bucket, upload_id));
}

fn resume(s: &Scratch, srv: &Server, args: &[&str]) -> Output {
    s.s3up(srv, &srv.endpoint)
        .arg("resume")
        .args(args)
        .output()
        .unwrap()
}

/// `s3up resume ID` through a proxy that only watches, to count what it sent.
fn resume_watched(s: &Scratch, srv: &Server, id: &str) -> (FaultProxy, Output) {
    let proxy = FaultProxy::start(&srv.endpoint);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["resume", id])
        .output()
        .unwrap();
    (proxy, out)
}

#[derive(Clone, Copy)]
enum Phase {
    AfterCreate,
    MidParts,
    BeforeComplete,
}

/// Kills `put` (SIGKILL) at `phase`, then `resume` with no argument, straight
/// to the server, must finish the object and leave nothing behind.
fn sigkill_then_resume(srv: &Server, phase: Phase) {
    let proxy = FaultProxy::start(&srv.endpoint);
    let (matcher, fault, parts_before_kill) = match phase {
        Phase::AfterCreate => (Match::UploadPartNumber(1), Fault::Stall, 0),
        Phase::MidParts => (Match::UploadPartNumber(3), Fault::Stall, 2),
        Phase::BeforeComplete => (Match::CompleteMultipartUpload, Fault::internal_error(), 4),
    };
    proxy.add_rule(Rule::new(matcher, fault, Schedule::Always));
    let s = Scratch::new();
    let bucket = srv.new_bucket("kill");
    // 4 parts: 5 + 5 + 5 + 3 MiB.
    let file = s.file("k.bin", 18 * MIB, 18 + parts_before_kill);
    let mut child = spawn_held_put(
        &s,
        srv,
        &proxy,
        &["--retries", "100"],
        &file,
        &format!("s3://{bucket}/k.bin"),
    );
    wait_for(&s, "the phase to kill at", &mut child, || {
        let reached = proxy.requests().iter().any(|r| matcher_hit(r, phase));
        reached && journalled_parts(&s) == Some(parts_before_kill as usize)
    });
    support::sigkill(&mut child);
    proxy.sever();

    let journal = s.only_journal();
    assert_eq!(
        part_numbers(&journal),
        (1..=parts_before_kill).collect::<Vec<_>>()
    );
    let upload_id = journal["upload_id"].as_str().unwrap();
    assert!(is_listed(srv, &bucket, upload_id), "the upload is open");
    assert!(srv.object_size(&bucket, "k.bin").is_none());

    let out = resume(&s, srv, &[]);
    assert_ok(&out);
    let err = support::text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{parts_before_kill} of 4 parts already on S3, sending {}",
            4 - parts_before_kill
        )),
        "{err}"
    );
    // The summary tells the bytes this run sent (and its rate) from the object's size.
    let summary = support::text(&out.stdout);
    let left: u64 = [5, 5, 5, 3][parts_before_kill as usize..].iter().sum();
    let sent = if left == 18 {
        String::from("; ") // all of it: no separate figure
    } else if left == 0 {
        String::from("; this run sent 0 B in ")
    } else {
        format!("; this run sent {left}.0 MiB in ")
    };
    assert!(
        summary.contains(&format!("(18.0 MiB, 4 parts{sent}")),
        "{summary}"
    );
    assert_object_equals(srv, &bucket, "k.bin", &file);
    assert!(s.journals().is_empty(), "journal left: {:?}", s.journals());
    assert!(
        !pending_keys(srv, &bucket).contains(&"k.bin".to_string()),
        "an upload is still pending for the key"
    );
}

fn matcher_hit(r: &RequestRecord, phase: Phase) -> bool {
    match phase {
        Phase::AfterCreate => r.is_upload_part() && r.part_number() == Some(1),
        Phase::MidParts => r.is_upload_part() && r.part_number() == Some(3),
        Phase::BeforeComplete => r.method == "POST" && r.query.contains("uploadId="),
    }
}

on_both_servers!(sigkill_after_create_then_resume, |srv: &Server| {
    sigkill_then_resume(srv, Phase::AfterCreate)
});
on_both_servers!(sigkill_mid_parts_then_resume, |srv: &Server| {
    sigkill_then_resume(srv, Phase::MidParts)
});
on_both_servers!(sigkill_before_complete_then_resume, |srv: &Server| {
    sigkill_then_resume(srv, Phase::BeforeComplete)
});

on_both_servers!(sigint_then_resume, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(3),
        Fault::Stall,
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("sigint");
    let file = s.file("i.bin", 18 * MIB, 21);
    let mut child = spawn_held_put(&s, srv, &proxy, &[], &file, &format!("s3://{bucket}/i.bin"));
    wait_for(&s, "part 3 to be sent", &mut child, || {
        uploaded_parts(&proxy.requests()).contains(&3)
    });
    support::signal(&child, "-INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{}", child_stderr(&s));
    let journal = s.only_journal();
    let id = journal["id"].as_str().unwrap();
    assert!(
        child_stderr(&s).contains(&format!("s3up resume {id}")),
        "{}",
        child_stderr(&s)
    );
    assert_eq!(part_numbers(&journal), vec![1, 2]);

    let out = resume(&s, srv, &[]);
    assert_ok(&out);
    assert!(
        support::text(&out.stderr).contains("2 of 4 parts already on S3"),
        "{}",
        support::text(&out.stderr)
    );
    assert_object_equals(srv, &bucket, "i.bin", &file);
    assert!(s.journals().is_empty());
    assert!(pending_keys(srv, &bucket).is_empty());
});

// Parts 2 and 3 are on S3 but the journal forgot them (as a SIGKILL between
// batched journal saves leaves it), and part 4's ETag in the journal is wrong:
// all three are checked against the file, by the SHA-256 the store lists
// (Garage) or by the MD5 in the ETag (moto), and adopted. Nothing is sent
// again (issue 9, item 12).
on_both_servers!(
    parts_the_journal_lost_are_verified_and_adopted,
    |srv: &Server| {
        let s = Scratch::new();
        let bucket = srv.new_bucket("lost");
        // 5 parts: 4 × 5 MiB + 2 MiB.
        let file = s.file("l.bin", 22 * MIB, 5);
        let p = pending_upload(&s, srv, &bucket, "l.bin", &file);
        let path = s.journal_dir().join(format!("{}.json", p.id));
        let mut journal = read_json(&path);
        let parts = journal["parts"].as_array_mut().unwrap();
        parts.retain(|r| !matches!(r["number"].as_u64(), Some(2 | 3)));
        let four = parts
            .iter_mut()
            .find(|r| r["number"] == 4)
            .expect("part 4 journalled");
        four["etag"] = Value::from("\"00000000000000000000000000000000\"");
        std::fs::write(&path, serde_json::to_vec_pretty(&journal).unwrap()).unwrap();
        let listed = srv.list_parts(&bucket, "l.bin", &p.upload_id);
        assert_eq!(listed.len(), 5);
        // Which check adopts them: Garage lists each part's SHA-256, moto does not.
        assert_eq!(
            listed.iter().all(|l| l.checksum_sha256.is_some()),
            srv.kind == Kind::Garage
        );

        let (proxy, out) = resume_watched(&s, srv, &p.id);
        assert_ok(&out);
        assert!(
            support::text(&out.stderr).contains("5 of 5 parts already on S3, sending 0"),
            "{}",
            support::text(&out.stderr)
        );
        assert_eq!(uploaded_parts(&proxy.requests()), Vec::<u32>::new());
        assert_object_equals(srv, &bucket, "l.bin", &file);
        assert!(s.journals().is_empty());
        assert!(pending_keys(srv, &bucket).is_empty());
    }
);

// A part attempt that died mid-body reaches the store after the part was
// uploaded and journalled: as a killed client's bytes, left in a middlebox's
// buffers, arrive late. Garage 2.5.0 then lists the finished part but its
// Complete takes the dead attempt, the part's latest, and answers InvalidPart,
// on every resume. So resume sends the parts again once and completes.
on_both_servers!(a_late_dead_part_attempt_is_overcome, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("late");
    // 3 parts: 5 + 5 + 2 MiB.
    let file = s.file("d.bin", 12 * MIB, 12);
    let p = pending_upload(&s, srv, &bucket, "d.bin", &file);
    srv.abandon_part_attempt(
        &bucket,
        "d.bin",
        &p.upload_id,
        2,
        (2 * MIB as usize, 5 * MIB as usize),
    );
    assert_eq!(srv.list_parts(&bucket, "d.bin", &p.upload_id).len(), 3);

    let (proxy, out) = resume_watched(&s, srv, &p.id);
    assert_ok(&out);
    let refused = proxy.count(Match::CompleteMultipartUpload);
    if srv.kind == Kind::Garage {
        // Complete refused once, then every part sent again, then Complete.
        assert_eq!(refused, 2);
        assert_eq!(uploaded_parts(&proxy.requests()), vec![1, 2, 3]);
        let err = support::text(&out.stderr);
        assert!(err.contains("InvalidPart"), "{err}");
    }
    assert_object_equals(srv, &bucket, "d.bin", &file);
    assert!(s.journals().is_empty());
    assert!(pending_keys(srv, &bucket).is_empty());
});

/// Flips one byte of `file` at `at` and puts its mtime back, as `cp -p`,
/// `rsync -t` or `tar x` leave a file: size and mtime say it is unchanged.
fn flip_byte_keep_mtime(file: &Path, at: u64) {
    use std::os::unix::fs::FileExt;
    let f = std::fs::File::options()
        .read(true)
        .write(true)
        .open(file)
        .unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    let mut b = [0u8];
    f.read_exact_at(&mut b, at).unwrap();
    f.write_all_at(&[!b[0]], at).unwrap();
    f.set_times(std::fs::FileTimes::new().set_modified(mtime))
        .unwrap();
    drop(f);
    assert_eq!(std::fs::metadata(file).unwrap().modified().unwrap(), mtime);
}

/// Starts `put` of an 18 MiB file (parts of 5 + 5 + 5 + 3 MiB, one at a
/// time) through a proxy that stalls part `stall`, and kills it (SIGKILL) once
/// the parts before it are journalled. Returns the file, the bucket and the
/// journal's path.
fn killed_mid_parts(
    s: &Scratch,
    srv: &Server,
    name: &str,
    stall: u32,
) -> (PathBuf, String, PathBuf) {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(stall),
        Fault::Stall,
        Schedule::Always,
    ));
    let bucket = srv.new_bucket(name);
    let file = s.file("k.bin", 18 * MIB, 50 + u64::from(stall));
    let mut child = spawn_held_put(s, srv, &proxy, &[], &file, &format!("s3://{bucket}/k.bin"));
    wait_for(s, "the stalled part", &mut child, || {
        uploaded_parts(&proxy.requests()).contains(&stall)
            && journalled_parts(s) == Some(stall as usize - 1)
    });
    support::sigkill(&mut child);
    proxy.sever();
    let journal = s.journals().pop().expect("the journal is kept");
    (file, bucket, journal)
}

// Issue 9, item 11: a byte flipped inside a part already on S3, with the
// file's mtime put back, is found by the re-hash resume does by default, and
// that part is sent again: the object is the file as it is now.
on_both_servers!(
    a_changed_byte_in_an_uploaded_part_is_sent_again,
    |srv: &Server| {
        let s = Scratch::new();
        let (file, bucket, _) = killed_mid_parts(&s, srv, "flip", 3);
        flip_byte_keep_mtime(&file, MIB + 1234); // inside part 1
        let proxy = FaultProxy::start(&srv.endpoint);
        let out = s
            .s3up(srv, &proxy.endpoint())
            .arg("resume")
            .output()
            .unwrap();
        assert_ok(&out);
        assert_object_equals(srv, &bucket, "k.bin", &file);
        assert_eq!(uploaded_parts(&proxy.requests()), vec![1, 3, 4]);
        let err = support::text(&out.stderr);
        assert!(
            err.contains("2 of 4 parts already on S3, sending 2 (checking 2 of them")
                && err.contains("part 1 on S3 did not match")
                && err.contains("so it was sent again"),
            "{err}"
        );
        assert!(s.journals().is_empty());
        assert!(pending_keys(srv, &bucket).is_empty());
    }
);

// Issue 9, item 12: after a SIGKILL whose last journal saves were lost (the
// journal names only part 1 of the three on S3), resume sends only the part
// S3 did not have. Garage adopts parts 2 and 3 by their listed SHA-256, moto
// by the MD5 in their ETags.
on_both_servers!(a_sigkill_costs_no_part_s3_already_had, |srv: &Server| {
    let s = Scratch::new();
    let (file, bucket, jpath) = killed_mid_parts(&s, srv, "nolost", 4);
    // The saves that would have recorded parts 2 and 3 never happened.
    let mut journal = read_json(&jpath);
    journal["parts"]
        .as_array_mut()
        .unwrap()
        .retain(|r| r["number"] == 1);
    std::fs::write(&jpath, serde_json::to_vec(&journal).unwrap()).unwrap();
    let upload_id = journal["upload_id"].as_str().unwrap().to_string();
    let etags_before: Vec<String> = srv
        .list_parts(&bucket, "k.bin", &upload_id)
        .into_iter()
        .map(|p| p.etag)
        .collect();
    assert_eq!(etags_before.len(), 3, "parts 1 to 3 are on S3");

    let proxy = FaultProxy::start(&srv.endpoint);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .arg("resume")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_eq!(uploaded_parts(&proxy.requests()), vec![4]);
    assert_object_equals(srv, &bucket, "k.bin", &file);
    assert!(s.journals().is_empty());
});

// Six parts on S3 and a page size of 2: ListParts must follow three pages,
// or the parts on later pages would be sent again.
on_both_servers!(list_parts_is_paginated, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("pages");
    let file = s.file("p.bin", 26 * MIB, 6);
    let p = pending_upload(&s, srv, &bucket, "p.bin", &file);
    let proxy = FaultProxy::start(&srv.endpoint);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .env("S3UP_LIST_PAGE_SIZE", "2")
        .args(["resume", &p.id])
        .output()
        .unwrap();
    assert_ok(&out);
    let reqs = proxy.requests();
    let pages: Vec<&RequestRecord> = reqs.iter().filter(|r| is_list_parts(r)).collect();
    assert!(pages.len() >= 3, "{} ListParts requests", pages.len());
    assert!(
        pages.iter().all(|r| r.query.contains("max-parts=2")),
        "{:?}",
        pages.iter().map(|r| &r.query).collect::<Vec<_>>()
    );
    assert_eq!(
        uploaded_parts(&reqs),
        Vec::<u32>::new(),
        "all 6 parts were found across the pages"
    );
    assert!(
        support::text(&out.stderr).contains("6 of 6 parts already on S3, sending 0"),
        "{}",
        support::text(&out.stderr)
    );
    assert_object_equals(srv, &bucket, "p.bin", &file);
    assert!(s.journals().is_empty());
});

on_both_servers!(list_uploads_is_paginated, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("upages");
    let mut ids: Vec<String> = (1..=3)
        .map(|i| srv.create_upload(&bucket, &format!("orphan/{i}.bin")))
        .collect();
    ids.sort();
    let proxy = FaultProxy::start(&srv.endpoint);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .env("S3UP_LIST_PAGE_SIZE", "2")
        .args(["list-pending", "--json", "--remote"])
        .arg(format!("s3://{bucket}"))
        .output()
        .unwrap();
    assert_ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).expect("a JSON array");
    let mut listed: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["upload_id"].as_str().unwrap().to_string())
        .collect();
    listed.sort();
    assert_eq!(listed, ids);
    let pages: Vec<RequestRecord> = proxy
        .requests()
        .into_iter()
        .filter(is_list_uploads)
        .collect();
    assert!(pages.iter().all(|r| r.query.contains("max-uploads=2")));
    if srv.kind == Kind::Moto {
        // moto 5.1.22 ignores max-uploads (its models.py: "The delimiter and
        // max-uploads parameters have not yet been implemented") and answers
        // all uploads in one page, so only Garage can show the second page.
        assert_eq!(pages.len(), 1);
    } else {
        assert!(pages.len() >= 2, "{} ListMultipartUploads", pages.len());
    }
});

// The source changes between runs: resume refuses and touches nothing, and
// once the file is back as it was, it finishes.
on_both_servers!(changed_source_is_refused, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("changed");
    let size = 11 * MIB;
    let file = s.file("c.bin", size, 11);
    let p = pending_upload(&s, srv, &bucket, "c.bin", &file);
    let jpath = s.journal_dir().join(format!("{}.json", p.id));
    let journal_before = std::fs::read(&jpath).unwrap();
    let parts_before = srv.list_parts(&bucket, "c.bin", &p.upload_id).len();
    let mtime = std::fs::metadata(&file).unwrap().modified().unwrap();
    let abs = std::fs::canonicalize(&file).unwrap();
    let set_mtime = |t: SystemTime| {
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(t)
            .unwrap()
    };
    let refused = |args: &[&str], why: &str| {
        let out = resume(&s, srv, args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{why}: {}",
            support::text(&out.stderr)
        );
        let line = one_error_line(&out);
        assert!(
            line.contains(abs.to_str().unwrap()) && line.contains("changed"),
            "{why}: {line}"
        );
        assert_eq!(
            std::fs::read(&jpath).unwrap(),
            journal_before,
            "{why}: journal untouched"
        );
        assert!(is_listed(srv, &bucket, &p.upload_id), "{why}: upload kept");
        assert_eq!(
            srv.list_parts(&bucket, "c.bin", &p.upload_id).len(),
            parts_before
        );
        assert!(srv.object_size(&bucket, "c.bin").is_none(), "{why}");
    };

    // Same size, other bytes, newer mtime: --no-verify would trust parts
    // nothing vouches for any more, so it is refused. (Without it, resume
    // hashes every part and sends the changed ones again: below.)
    std::fs::write(&file, random_bytes(size, 12)).unwrap();
    set_mtime(mtime + Duration::from_secs(2));
    refused(&["--no-verify"], "same size, newer mtime, --no-verify");

    // Appended to.
    let mut grown = random_bytes(size, 11);
    grown.extend_from_slice(b"more");
    std::fs::write(&file, grown).unwrap();
    refused(&[&p.id], "appended");

    // Same size, other bytes, newer mtime (issue 13, item 2): the parts on S3
    // do not match the file, so every one is sent again; the object is the
    // file as it is now, never a mix.
    std::fs::write(&file, random_bytes(size, 12)).unwrap();
    set_mtime(mtime + Duration::from_secs(4));
    let out = resume(&s, srv, &[]);
    assert_ok(&out);
    assert!(
        support::text(&out.stderr).contains("did not match"),
        "{}",
        support::text(&out.stderr)
    );
    assert_object_equals(srv, &bucket, "c.bin", &file);
    assert!(s.journals().is_empty());
});

// Issue 13, item 2: a file only `touch`ed since a put was killed resumes:
// every part on S3 is hashed against it and reused, the new mtime is
// recorded, and only the missing parts are sent. Touched and changed, the
// changed part is sent again: the object is the file as it is now.
on_both_servers!(
    a_touched_file_resumes_after_its_parts_are_checked,
    |srv: &Server| {
        let s = Scratch::new();
        let (file, bucket, jpath) = killed_mid_parts(&s, srv, "touch", 3);
        let touch = |file: &Path| {
            let later = SystemTime::now() + Duration::from_secs(3);
            std::fs::File::options()
                .write(true)
                .open(file)
                .unwrap()
                .set_modified(later)
                .unwrap();
        };
        touch(&file);
        let mtime_ns = |p: &Path| {
            std::fs::metadata(p)
                .unwrap()
                .modified()
                .unwrap()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        };
        assert_ne!(
            read_json(&jpath)["source"]["mtime_ns"].as_u64(),
            Some(mtime_ns(&file))
        );

        // --no-verify cannot vouch for the parts: refused, nothing changed.
        let out = resume(&s, srv, &["--no-verify"]);
        assert_eq!(out.status.code(), Some(1), "{}", support::text(&out.stderr));
        let line = one_error_line(&out);
        assert!(
            line.contains("was modified since upload")
                && line.contains("(same size, new modification time), so --no-verify would trust"),
            "{line}"
        );

        // A resume killed after checking: the journal already holds the new
        // mtime and only parts whose hashes matched.
        let proxy = FaultProxy::start(&srv.endpoint);
        proxy.add_rule(Rule::new(
            Match::UploadPartNumber(4),
            Fault::Stall,
            Schedule::Always,
        ));
        let mut child = support::spawn_held(&s, srv, &proxy, ["resume"]);
        wait_for(&s, "part 4", &mut child, || {
            uploaded_parts(&proxy.requests()).contains(&4) && journalled_parts(&s) == Some(3)
        });
        support::sigkill(&mut child);
        proxy.sever();
        assert!(
            child_stderr(&s).contains("was modified since upload"),
            "{}",
            child_stderr(&s)
        );
        assert_eq!(
            read_json(&jpath)["source"]["mtime_ns"].as_u64(),
            Some(mtime_ns(&file))
        );
        assert_eq!(
            uploaded_parts(&proxy.requests()),
            vec![3, 4],
            "parts 1 and 2 were reused"
        );

        // Touched again, and a byte of part 2 changed: part 2 is sent again.
        flip_byte_keep_mtime(&file, 5 * MIB + 77);
        touch(&file);
        let proxy = FaultProxy::start(&srv.endpoint);
        let out = s
            .s3up(srv, &proxy.endpoint())
            .arg("resume")
            .output()
            .unwrap();
        assert_ok(&out);
        assert_eq!(uploaded_parts(&proxy.requests()), vec![2, 4]);
        assert_object_equals(srv, &bucket, "k.bin", &file);
        assert!(s.journals().is_empty());
    }
);

on_both_servers!(upload_aborted_elsewhere, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("gone");
    let file = s.file("g.bin", 11 * MIB, 13);
    let p = pending_upload(&s, srv, &bucket, "g.bin", &file);
    abort_behind_s3ups_back(srv, &bucket, "g.bin", &p.upload_id);
    let started = Instant::now();
    let out = resume(&s, srv, &[]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", support::text(&out.stderr));
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let line = one_error_line(&out);
    assert!(
        line.contains("no longer exists") && line.contains("s3up put") && line.contains(&p.id),
        "{line}"
    );
    // The message says the journal was removed; it must have been.
    assert!(s.journals().is_empty(), "{:?}", s.journals());
    assert!(srv.object_size(&bucket, "g.bin").is_none());
});

// One resume holds the upload (a part stalls at the proxy); a second one
// fails at once naming the lock, and the upload still finishes later.
on_both_servers!(second_resume_fails_on_the_lock, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("lock");
    let file = s.file("w.bin", 16 * MIB, 14);
    let url = format!("s3://{bucket}/w.bin");
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(2),
        Fault::internal_error(),
        Schedule::Always,
    ));
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--concurrency", "1"])
        .args(["--retries", "0"])
        .arg(&file)
        .arg(&url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", support::text(&out.stderr));
    let journal = s.only_journal();
    let id = journal["id"].as_str().unwrap().to_string();
    let done = part_numbers(&journal);
    // With one part at a time, nothing starts after the part that failed.
    assert_eq!(done, vec![1]);
    assert!(
        !proxy
            .requests()
            .iter()
            .any(|r| r.part_number().is_some_and(|n| n > 2)),
        "a part started after part 2 had failed"
    );

    proxy.clear_rules();
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(2),
        Fault::Stall,
        Schedule::Always,
    ));
    let mut first = support::spawn_held(&s, srv, &proxy, ["resume"]);
    let sent_before = proxy.requests().len();
    wait_for(&s, "the first resume to send part 2", &mut first, || {
        proxy.requests()[sent_before..]
            .iter()
            .any(|r| r.is_upload_part() && r.part_number() == Some(2))
    });

    let listing = s
        .s3up(srv, &srv.endpoint)
        .args(["list-pending", "--json"])
        .output()
        .unwrap();
    assert_ok(&listing);
    let v: Value = serde_json::from_slice(&listing.stdout).unwrap();
    assert_eq!(v[0]["id"], id.as_str());
    assert_eq!(v[0]["running"], true, "{v}");

    let started = Instant::now();
    let out = resume(&s, srv, &[&id]);
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(1), "{}", support::text(&out.stderr));
    let line = one_error_line(&out);
    assert!(
        line.contains(&id) && line.contains("in use") && line.contains(".lock"),
        "{line}"
    );
    assert!(first.try_wait().unwrap().is_none(), "the first run goes on");
    first.kill().unwrap();
    first.wait().unwrap();

    let out = resume(&s, srv, &[]);
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "w.bin", &file);
    assert!(s.journals().is_empty());
});

on_both_servers!(truncated_journal_is_reported, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("trunc");
    let file = s.file("t.bin", 11 * MIB, 15);
    let p = pending_upload(&s, srv, &bucket, "t.bin", &file);
    let good = std::fs::read(s.journal_dir().join(format!("{}.json", p.id))).unwrap();
    let bad = s.journal_dir().join("truncated.json");
    std::fs::write(&bad, &good[..good.len() / 2]).unwrap();

    let out = s
        .s3up(srv, &srv.endpoint)
        .arg("list-pending")
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        support::text(&out.stdout).contains(&p.id),
        "{}",
        support::text(&out.stdout)
    );
    assert!(
        support::text(&out.stderr).contains("truncated.json"),
        "{}",
        support::text(&out.stderr)
    );

    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["list-pending", "--json"])
        .output()
        .unwrap();
    assert_ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON despite the bad journal");
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v}");
    assert!(rows.iter().any(|r| r["id"] == p.id.as_str()), "{v}");
    assert!(
        rows.iter().any(|r| r["error"].is_string()
            && r["journal"]
                .as_str()
                .is_some_and(|j| j.ends_with("truncated.json"))),
        "{v}"
    );

    let out = resume(&s, srv, &["truncated"]);
    assert_eq!(out.status.code(), Some(1), "{}", support::text(&out.stderr));
    let line = one_error_line(&out);
    assert!(
        line.contains(bad.to_str().unwrap()) && line.contains("damaged"),
        "{line}"
    );

    // The good one is unaffected.
    let out = resume(&s, srv, &[&p.id]);
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "t.bin", &file);
    assert_eq!(s.journals(), vec![bad]);
});

// An upload s3up never saw, next to one a local journal owns.
on_both_servers!(orphans_are_listed_and_aborted, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("orphan");
    let orphan = srv.create_upload(&bucket, "orphan/x.bin");
    let file = s.file("o.bin", 11 * MIB, 16);
    let owned = pending_upload(&s, srv, &bucket, "mine/o.bin", &file);

    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["list-pending", "--remote"])
        .arg(format!("s3://{bucket}"))
        .output()
        .unwrap();
    assert_ok(&out);
    let stdout = support::text(&out.stdout);
    let row = |needle: &str| {
        stdout
            .lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle}: {stdout}"))
            .to_string()
    };
    assert!(row(&orphan).contains("orphan/x.bin"), "{stdout}");
    assert!(!row(&orphan).contains(&owned.id), "{stdout}");
    let mine = row(&owned.upload_id);
    assert!(
        mine.contains("mine/o.bin") && mine.contains(&owned.id),
        "{stdout}"
    );

    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["list-pending", "--json", "--remote"])
        .arg(format!("s3://{bucket}"))
        .output()
        .unwrap();
    assert_ok(&out);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let by_id = |u: &str| {
        v.as_array()
            .unwrap()
            .iter()
            .find(|r| r["upload_id"] == u)
            .unwrap_or_else(|| panic!("{u} not in {v}"))
            .clone()
    };
    assert_eq!(by_id(&orphan)["journal"], Value::Null);
    assert_eq!(by_id(&orphan)["key"], "orphan/x.bin");
    assert_eq!(by_id(&owned.upload_id)["journal"], owned.id.as_str());
    // Issue 13, item 5: each record names its file, where a journal knows it.
    assert_eq!(
        by_id(&owned.upload_id)["file"],
        std::fs::canonicalize(&file).unwrap().to_str().unwrap()
    );
    assert_eq!(by_id(&orphan)["file"], Value::Null);
    assert_eq!(by_id(&owned.upload_id)["parts"], 3);

    // Without --yes it only lists.
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", "--older-than", "0s", "--remote"])
        .arg(format!("s3://{bucket}/orphan/"))
        .output()
        .unwrap();
    assert_ok(&out);
    let stdout = support::text(&out.stdout);
    assert!(
        stdout.contains("orphan/x.bin") && stdout.contains(&orphan) && stdout.contains("--yes"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("mine/o.bin"),
        "outside the prefix: {stdout}"
    );
    assert!(is_listed(srv, &bucket, &orphan), "listed, not aborted");

    // With --yes it aborts what is under the prefix, nothing else.
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", "--older-than", "0s", "--yes", "--remote"])
        .arg(format!("s3://{bucket}/orphan/"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        !is_listed(srv, &bucket, &orphan),
        "{}",
        support::text(&out.stdout)
    );
    assert!(is_listed(srv, &bucket, &owned.upload_id));
    assert_eq!(s.journals().len(), 1);

    // A bucket-wide clean-up leaves the owned upload alone (issue 23) ...
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", "--older-than", "0s", "--yes", "--remote"])
        .arg(format!("s3://{bucket}"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(is_listed(srv, &bucket, &owned.upload_id));
    assert_eq!(s.journals().len(), 1);
    // ... and with --include-local takes it, and its journal.
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", "--older-than", "0s", "--yes", "--include-local"])
        .arg("--remote")
        .arg(format!("s3://{bucket}"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(srv.list_uploads(&bucket).is_empty());
    assert!(s.journals().is_empty(), "{:?}", s.journals());
});

// Garage only: moto reports every upload as initiated on 2010-11-10 (a
// constant in its ListMultipartUploads template), so there no upload is young.
#[test]
fn abort_remote_spares_young_uploads_garage() {
    let srv = support::server(Kind::Garage);
    let s = Scratch::new();
    let bucket = srv.new_bucket("young");
    let upload = srv.create_upload(&bucket, "young.bin");
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", "--older-than", "1d", "--yes", "--remote"])
        .arg(format!("s3://{bucket}"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        is_listed(srv, &bucket, &upload),
        "{}",
        support::text(&out.stdout)
    );
    assert!(
        support::text(&out.stdout).contains("no in-progress uploads"),
        "{}",
        support::text(&out.stdout)
    );
}

on_both_servers!(abort_by_id, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("abort");
    let a_file = s.file("a.bin", 11 * MIB, 17);
    let b_file = s.file("b.bin", 11 * MIB, 18);
    let a = pending_upload(&s, srv, &bucket, "a.bin", &a_file);
    let b = pending_upload(&s, srv, &bucket, "b.bin", &b_file);
    let jpath = |id: &str| s.journal_dir().join(format!("{id}.json"));

    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", &a.id])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        support::text(&out.stdout).contains(&format!("aborted {}", a.id)),
        "{}",
        support::text(&out.stdout)
    );
    assert!(!is_listed(srv, &bucket, &a.upload_id));
    assert!(!jpath(&a.id).exists());
    assert!(is_listed(srv, &bucket, &b.upload_id), "b is untouched");
    assert!(jpath(&b.id).exists());

    abort_behind_s3ups_back(srv, &bucket, "b.bin", &b.upload_id);
    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", &b.id])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        support::text(&out.stdout).contains("already gone"),
        "{}",
        support::text(&out.stdout)
    );
    assert!(s.journals().is_empty(), "{:?}", s.journals());

    let out = s
        .s3up(srv, &srv.endpoint)
        .args(["abort", "0123456789ab"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(one_error_line(&out).contains("'0123456789ab'"));
});

on_both_servers!(resume_without_argument_and_all, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("all");
    let files: Vec<PathBuf> = (0..2)
        .map(|i| s.file(&format!("{i}.bin"), 11 * MIB, 30 + i))
        .collect();
    let ids: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, f)| pending_upload(&s, srv, &bucket, &format!("{i}.bin"), f).id)
        .collect();

    let out = resume(&s, srv, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", support::text(&out.stderr));
    let line = one_error_line(&out);
    assert!(
        ids.iter().all(|id| line.contains(id.as_str())) && line.contains("--all"),
        "{line}"
    );
    assert_eq!(s.journals().len(), 2, "nothing was resumed");

    let out = resume(&s, srv, &["--all"]);
    assert_ok(&out);
    for (i, f) in files.iter().enumerate() {
        assert_object_equals(srv, &bucket, &format!("{i}.bin"), f);
    }
    assert!(s.journals().is_empty());
    assert!(srv.list_uploads(&bucket).is_empty());
});

// With several uploads pending, `resume` alone names each one's file and
// destination, so the user can tell which ID to pick (issue 9, item 7).
on_both_servers!(
    several_pending_are_named_with_file_and_destination,
    |srv: &Server| {
        let s = Scratch::new();
        let bucket = srv.new_bucket("which");
        let pending: Vec<(String, PathBuf)> = (0..2)
            .map(|i| {
                let f = s.file(&format!("w{i}.bin"), 11 * MIB, 40 + i);
                let id = pending_upload(&s, srv, &bucket, &format!("dir/w{i}.bin"), &f).id;
                (id, std::fs::canonicalize(f).unwrap())
            })
            .collect();
        let out = resume(&s, srv, &[]);
        assert_eq!(out.status.code(), Some(1), "{}", support::text(&out.stderr));
        let line = one_error_line(&out);
        for (i, (id, file)) in pending.iter().enumerate() {
            let named = format!("{id} ({} -> s3://{bucket}/dir/w{i}.bin)", file.display());
            assert!(line.contains(&named), "{named} not in: {line}");
        }
        assert_eq!(s.journals().len(), 2, "nothing was resumed");
    }
);
