//! Nothing lost, nothing orphaned (issue 9), end to end on Garage and moto:
//! a resume pointed at another store keeps the journal; a Create whose answer
//! was lost, or that Ctrl-C interrupted, leaves no upload nobody knows; the
//! same `put` run again resumes instead of starting a second upload, and
//! `--restart` aborts the old one.

use std::path::Path;

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, RequestRecord, Rule, Schedule};
use crate::support::{
    assert_exit, assert_object_equals, assert_ok, child_stderr, spawn, spawn_held_put, Kind,
    Scratch, Server, MIB,
};

fn count(reqs: &[RequestRecord], m: impl Fn(&RequestRecord) -> bool) -> usize {
    reqs.iter().filter(|r| m(r)).count()
}

fn is_create(r: &RequestRecord) -> bool {
    r.method == "POST"
        && r.query
            .split('&')
            .any(|q| q == "uploads" || q == "uploads=")
}

/// Puts `file` through a proxy that stalls part 3, and interrupts it with
/// `sig` once part 3 is on its way: parts 1 and 2 are on S3.
fn interrupted_put(
    s: &Scratch,
    srv: &Server,
    proxy: &FaultProxy,
    file: &Path,
    url: &str,
    sig: &str,
) {
    proxy.add_rule(Rule::new(
        Match::UploadPartNumber(3),
        Fault::Stall,
        Schedule::Always,
    ));
    // The proxy may have seen a part 3 from an earlier put: wait for a new one.
    let part3 = |proxy: &FaultProxy| {
        count(&proxy.requests(), |r| {
            r.is_upload_part() && r.part_number() == Some(3)
        })
    };
    let before = part3(proxy);
    let mut child = spawn_held_put(s, srv, proxy, &[], file, url);
    let log = || child_stderr(s);
    support::wait_for("part 3 to be sent", &mut child, log, || {
        part3(proxy) > before
    });
    // Let the journal writer save parts 1 and 2 (it saves every 200 ms).
    std::thread::sleep(std::time::Duration::from_millis(500));
    support::signal(&child, sig);
    let status = child.wait().unwrap();
    if sig == "-INT" {
        assert_eq!(status.code(), Some(130), "{}", child_stderr(s));
    }
    proxy.clear_rules();
}

fn other(srv: &Server) -> &'static Server {
    support::server(match srv.kind {
        Kind::Moto => Kind::Garage,
        _ => Kind::Moto,
    })
}

on_both_servers!(
    resume_at_another_endpoint_keeps_the_journal,
    |srv: &Server| {
        let proxy = FaultProxy::start(&srv.endpoint);
        let s = Scratch::new();
        let bucket = srv.new_bucket("elsewhere");
        let url = format!("s3://{bucket}/e.bin");
        let file = s.file("e.bin", 18 * MIB, 31);
        interrupted_put(&s, srv, &proxy, &file, &url, "-KILL");
        let journal = s.only_journal();
        let id = journal["id"].as_str().unwrap().to_string();
        assert_eq!(
            journal["connection"]["endpoint_url"].as_str(),
            Some(proxy.endpoint().as_str()),
            "the journal records the endpoint used (here from AWS_ENDPOINT_URL)"
        );

        // Store B has a bucket of the same name, and knows nothing of the upload.
        let b = other(srv);
        b.create_bucket_named(&bucket);
        let out = s
            .s3up(b, &b.endpoint)
            .args(["resume", "--region", &b.region])
            .output()
            .unwrap();
        assert_exit(&out, 3);
        let err = support::text(&out.stderr);
        assert!(
            err.contains("another endpoint") && err.contains(&format!("s3up abort {id}")),
            "{err}"
        );
        assert!(
            err.contains(&b.endpoint),
            "the warning names the endpoint used: {err}"
        );
        assert!(
            s.journal_dir().join(format!("{id}.json")).exists(),
            "the journal is kept"
        );

        // Without the override, resume reconnects to the recorded endpoint.
        let out = s
            .s3up(srv, &proxy.endpoint())
            .env_remove("AWS_ENDPOINT_URL")
            .arg("resume")
            .output()
            .unwrap();
        assert_ok(&out);
        assert_object_equals(srv, &bucket, "e.bin", &file);
        assert!(s.journals().is_empty());
        assert!(srv.list_uploads(&bucket).is_empty());
    }
);

on_both_servers!(
    the_same_put_again_resumes_and_restart_starts_afresh,
    |srv: &Server| {
        let proxy = FaultProxy::start(&srv.endpoint);
        let s = Scratch::new();
        let bucket = srv.new_bucket("again");
        let url = format!("s3://{bucket}/a.bin");
        let file = s.file("a.bin", 18 * MIB, 32);
        interrupted_put(&s, srv, &proxy, &file, &url, "-INT");
        let first = s.only_journal();
        let upload_id = first["upload_id"].as_str().unwrap().to_string();

        let out = s
            .s3up(srv, &proxy.endpoint())
            .args(["put", "--part-size", "5MiB"])
            .arg(&file)
            .arg(&url)
            .output()
            .unwrap();
        assert_ok(&out);
        let err = support::text(&out.stderr);
        assert!(err.contains("resuming"), "{err}");
        let reqs = proxy.requests();
        assert_eq!(count(&reqs, is_create), 1, "no second upload was created");
        let parts_sent: Vec<u32> = reqs
            .iter()
            .filter(|r| r.is_upload_part() && r.fault.is_none())
            .filter_map(RequestRecord::part_number)
            .collect();
        assert_eq!(
            parts_sent.iter().filter(|n| **n == 1).count(),
            1,
            "part 1 was not sent again: {parts_sent:?}"
        );
        assert_object_equals(srv, &bucket, "a.bin", &file);
        assert!(srv.list_uploads(&bucket).is_empty());
        assert!(s.journals().is_empty());
        let _ = upload_id;

        // --restart: the old upload is aborted and the file sent afresh.
        let url2 = format!("s3://{bucket}/b.bin");
        interrupted_put(&s, srv, &proxy, &file, &url2, "-INT");
        let old = s.only_journal()["upload_id"].as_str().unwrap().to_string();
        let out = s
            .s3up(srv, &proxy.endpoint())
            .args(["put", "--part-size", "5MiB", "--restart"])
            .arg(&file)
            .arg(&url2)
            .output()
            .unwrap();
        assert_ok(&out);
        assert!(
            !srv.list_uploads(&bucket).iter().any(|(_, u)| *u == old),
            "the old upload is gone"
        );
        assert!(srv.list_uploads(&bucket).is_empty());
        assert_object_equals(srv, &bucket, "b.bin", &file);
        assert!(s.journals().is_empty());
    }
);

on_both_servers!(a_lost_create_answer_leaves_no_orphan, |srv: &Server| {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::new(
        Match::CreateMultipartUpload,
        Fault::SwallowAnswer,
        Schedule::FirstN(1),
    ));
    // Complete fails, so the uploads are looked at while still open: Garage
    // drops an older unfinished upload of a key once a newer one completes,
    // which would hide an orphan the run left.
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::internal_error(),
        Schedule::Always,
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("lostcreate");
    let file = s.file("c.bin", 12 * MIB, 33);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--retries", "2"])
        .arg(&file)
        .arg(format!("s3://{bucket}/c.bin"))
        .output()
        .unwrap();
    assert_exit(&out, 3);
    assert_eq!(count(&proxy.requests(), is_create), 2, "Create was retried");
    let ours = s.only_journal()["upload_id"].as_str().unwrap().to_string();
    let others: Vec<_> = srv
        .list_uploads(&bucket)
        .into_iter()
        .filter(|(_, id)| *id != ours)
        .collect();
    if srv.kind == Kind::Moto {
        // moto's ListMultipartUploads gives every upload the same Initiated
        // date (2010-11-10), so s3up cannot tell when the lost Create's upload
        // began and must not abort it: it names it instead.
        assert_eq!(others.len(), 1, "{others:?}");
        let err = support::text(&out.stderr);
        assert!(
            err.contains(&others[0].1) && err.contains("list-pending --remote"),
            "{err}"
        );
    } else {
        assert!(
            others.is_empty(),
            "the first Create's upload was not aborted: {others:?}"
        );
    }
    proxy.clear_rules();
    let out = s
        .s3up(srv, &proxy.endpoint())
        .arg("resume")
        .output()
        .unwrap();
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "c.bin", &file);
});

on_both_servers!(
    ctrl_c_during_create_leaves_nothing_unrecorded,
    |srv: &Server| {
        let proxy = FaultProxy::start(&srv.endpoint);
        proxy.add_rule(Rule::new(
            Match::CreateMultipartUpload,
            Fault::Stall,
            Schedule::FirstN(1),
        ));
        let s = Scratch::new();
        let bucket = srv.new_bucket("ctrlcreate");
        let file = s.file("i.bin", 12 * MIB, 34);
        let mut child = spawn(
            &s,
            srv,
            &proxy.endpoint(),
            &["put", "--part-size", "5MiB", "--stall-timeout", "600"],
            &file,
            &format!("s3://{bucket}/i.bin"),
        );
        support::wait_for(
            "Create to be sent",
            &mut child,
            || child_stderr(&s),
            || proxy.requests().iter().any(is_create),
        );
        support::signal(&child, "-INT");
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{}", child_stderr(&s));
        assert!(
            child_stderr(&s).contains("before the upload started"),
            "{}",
            child_stderr(&s)
        );
        assert!(s.journals().is_empty());
        assert!(srv.list_uploads(&bucket).is_empty());
    }
);

// A journal exactly as the release before issue 9 wrote it (version 1,
// committed under tests/data) still resumes: the schema kept its version,
// and every field added since is optional.
on_both_servers!(
    a_journal_from_the_previous_release_still_resumes,
    |srv: &Server| {
        use sha2::{Digest, Sha256};
        let s = Scratch::new();
        let bucket = srv.new_bucket("oldjournal");
        let file = s.file("old.bin", 11 * MIB, 35);
        // Created as that release created uploads: with SHA-256 checksums.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let created = rt
            .block_on(
                srv.client()
                    .create_multipart_upload()
                    .bucket(&bucket)
                    .key("old.bin")
                    .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("CreateMultipartUpload: {e:?}"));
        let upload_id = created.upload_id().unwrap().to_string();
        let id = hex::encode(&Sha256::digest(upload_id.as_bytes())[..6]);
        let meta = std::fs::metadata(&file).unwrap();
        let mtime_ns = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let template = include_str!("../data/journal-v1.json");
        let journal = template
            .replace("@ID@", &id)
            .replace("@UPLOAD_ID@", &upload_id)
            .replace("@BUCKET@", &bucket)
            .replace("@KEY@", "old.bin")
            .replace("@ENDPOINT@", &srv.endpoint)
            .replace("@REGION@", &srv.region)
            .replace(
                "@PATH@",
                std::fs::canonicalize(&file).unwrap().to_str().unwrap(),
            )
            .replace("@SIZE@", &meta.len().to_string())
            .replace("@MTIME_NS@", &mtime_ns.to_string());
        std::fs::create_dir_all(s.journal_dir()).unwrap();
        std::fs::write(s.journal_dir().join(format!("{id}.json")), journal).unwrap();
        let out = s.s3up(srv, &srv.endpoint).arg("resume").output().unwrap();
        assert_ok(&out);
        assert_object_equals(srv, &bucket, "old.bin", &file);
        assert!(s.journals().is_empty());
        assert!(srv.list_uploads(&bucket).is_empty());
    }
);
