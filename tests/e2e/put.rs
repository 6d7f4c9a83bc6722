//! `s3up put` end to end, through the built binary, against Garage and moto.

use crate::support;
use crate::support::proxy::{FaultProxy, Match};
use crate::support::{assert_exit, assert_object_equals, assert_ok, Scratch, Server, MIB};

fn put_and_check(srv: &Server, size: u64, part_size: Option<&str>) {
    let s = Scratch::new();
    let bucket = srv.new_bucket("put");
    let file = s.file("data.bin", size, size + 7);
    let key = format!("sizes/{size}.bin");
    let mut cmd = s.s3up(srv, &srv.endpoint);
    cmd.arg("put")
        .arg(&file)
        .arg(format!("s3://{bucket}/{key}"));
    if let Some(ps) = part_size {
        cmd.args(["--part-size", ps]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "put of {size} bytes failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_object_equals(srv, &bucket, &key, &file);
    assert_eq!(srv.object_size(&bucket, &key), Some(size));
    assert!(
        s.journals().is_empty(),
        "journal left behind: {:?}",
        s.journals()
    );
    assert!(srv.list_uploads(&bucket).is_empty(), "upload left pending");
}

on_both_servers!(empty_file, |srv| put_and_check(srv, 0, Some("5MiB")));
on_both_servers!(one_byte, |srv| put_and_check(srv, 1, Some("5MiB")));
on_both_servers!(five_mib_minus_one, |srv| put_and_check(
    srv,
    5 * MIB - 1,
    Some("5MiB")
));
on_both_servers!(five_mib, |srv| put_and_check(srv, 5 * MIB, Some("5MiB")));
on_both_servers!(five_mib_plus_one, |srv| put_and_check(
    srv,
    5 * MIB + 1,
    Some("5MiB")
));
// Default 8 MiB parts: three full parts and a short last one.
on_both_servers!(multipart_short_last_part, |srv| put_and_check(
    srv,
    24 * MIB + 12345,
    None
));

on_both_servers!(json_summary_and_object_options, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("opts");
    let file = s.file("page.html", 11 * MIB, 3);
    let out = s
        .s3up(srv, &srv.endpoint)
        .args([
            "put",
            "--json",
            "--metadata",
            "Owner=team-a",
            "--metadata",
            "run=42",
        ])
        .arg(&file)
        .arg(format!("s3://{bucket}/site/"))
        .output()
        .unwrap();
    assert_ok(&out);
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    assert_eq!(v["bucket"], bucket.as_str());
    assert_eq!(
        v["key"], "site/page.html",
        "a key ending in '/' gets the file name"
    );
    assert_eq!(v["size"], 11 * MIB);
    assert_eq!(v["sent_bytes"], 11 * MIB, "a fresh put sends every byte");
    assert_eq!(v["parts"], 2);
    assert!(v["upload_id"].as_str().is_some_and(|u| !u.is_empty()));
    assert!(v["etag"].as_str().is_some_and(|e| e.contains("-2")), "{v}");
    assert!(v["seconds"].as_f64().is_some());
    assert_object_equals(srv, &bucket, "site/page.html", &file);
    let head = support::head(srv, &bucket, "site/page.html");
    assert_eq!(
        head.content_type.as_deref(),
        Some("text/html"),
        "guessed from .html"
    );
    assert_eq!(
        head.metadata.get("owner").map(String::as_str),
        Some("team-a")
    );
    assert_eq!(head.metadata.get("run").map(String::as_str), Some("42"));
});

on_both_servers!(explicit_content_type_and_storage_class, |srv: &Server| {
    let s = Scratch::new();
    let bucket = srv.new_bucket("ctype");
    let file = s.file("x.html", 1000, 5);
    s.s3up(srv, &srv.endpoint)
        .args([
            "put",
            "-q",
            "--content-type",
            "application/x-test",
            "--storage-class",
            "STANDARD",
        ])
        .arg(&file)
        .arg(format!("s3://{bucket}/x"))
        .assert()
        .success()
        .stdout("");
    assert_eq!(
        support::head(srv, &bucket, "x").content_type.as_deref(),
        Some("application/x-test")
    );
});

/// The checksum is really sent: an upload stopped before Complete leaves parts
/// that Garage lists with the SHA-256 of each part's bytes. (moto does not
/// return part checksums in ListParts, so this is Garage's test.)
#[test]
fn garage_lists_each_parts_sha256() {
    let srv = support::server(support::Kind::Garage);
    let proxy = support::proxy::FaultProxy::start(&srv.endpoint);
    proxy.add_rule(support::proxy::Rule::always(
        support::proxy::Match::CompleteMultipartUpload,
        support::proxy::Fault::internal_error(),
    ));
    let s = Scratch::new();
    let bucket = srv.new_bucket("cksum");
    let size = 13 * MIB + 5;
    let file = s.file("c.bin", size, 11);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--part-size", "5MiB", "--retries", "0"])
        .arg(&file)
        .arg(format!("s3://{bucket}/c.bin"))
        .output()
        .unwrap();
    assert_exit(&out, 3);
    let journal = s.only_journal();
    let upload_id = journal["upload_id"].as_str().unwrap();
    let parts = srv.list_parts(&bucket, "c.bin", upload_id);
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(parts.len(), 3);
    for p in &parts {
        let start = (p.number as u64 - 1) * 5 * MIB;
        let end = (start + 5 * MIB).min(size);
        let want = support::sha256_b64(&bytes[start as usize..end as usize]);
        assert_eq!(
            p.checksum_sha256.as_deref(),
            Some(want.as_str()),
            "part {}",
            p.number
        );
    }
}

/// Issue 18, item 4: `--limit-rate 5MiB/s` holds the whole run, every part in
/// flight together, to 5 MiB/s as the far end of the link measures it (the
/// proxy, from the first byte of a part's body to the last byte of any).
#[test]
fn limit_rate_holds_the_run_to_the_rate() {
    let srv = support::server(support::Kind::Garage);
    let proxy = FaultProxy::start(&srv.endpoint);
    let s = Scratch::new();
    let bucket = srv.new_bucket("rate");
    let size = 40 * MIB;
    let file = s.file("r.bin", size, 18);
    let out = s
        .s3up(srv, &proxy.endpoint())
        .args(["put", "--no-progress", "--part-size", "5MiB"])
        .args(["--limit-rate", "5MiB/s"])
        .arg(&file)
        .arg(format!("s3://{bucket}/r.bin"))
        .output()
        .unwrap();
    assert_ok(&out);
    assert_object_equals(srv, &bucket, "r.bin", &file);
    let (bytes, span) = proxy
        .body_rate(Match::UploadPart)
        .expect("the proxy saw part bodies");
    assert_eq!(bytes, size, "every part sent once");
    let want = 5.0 * MIB as f64;
    let rate = bytes as f64 / span.as_secs_f64();
    eprintln!(
        "--limit-rate 5MiB/s: the proxy measured {:.3} MiB/s ({bytes} bytes in {:.2} s)",
        rate / MIB as f64,
        span.as_secs_f64()
    );
    assert!(
        (rate - want).abs() <= 0.1 * want,
        "the proxy measured {:.3} MiB/s for --limit-rate 5MiB/s",
        rate / MIB as f64
    );
}
