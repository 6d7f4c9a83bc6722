//! `s3up serve` end to end: the built binary serves on loopback in front of
//! Garage or moto, and a plain HTTP client that holds no AWS credential
//! creates, signs, PUTs, lists and completes. Checksum and expiry enforcement
//! are proved on Garage only: moto accepts any presigned PUT (DESIGN §4b).

use std::time::{Duration, Instant};

use crate::support;
use crate::support::proxy::{Fault, FaultProxy, Match, Rule};
use crate::support::serve::{hashed, Serve};
use crate::support::{assert_object_equals, random_bytes, sha256_b64, Scratch, Server, MIB};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::{json, Value};

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789";
const JWT_SECRET: &str = "jwt-secret-0123456789abcdef0123456789";

/// `s3up serve` for `bucket` under prefix `up`, with two tokens (alice may
/// write `up/alice/`, bob `up/bob/`) and JWTs; `extra` adds options.
fn start_serve(srv: &Server, endpoint: &str, bucket: &str, extra: &[&str]) -> Serve {
    start_serve_env(srv, endpoint, bucket, extra, &[])
}

fn start_serve_env(
    srv: &Server,
    endpoint: &str,
    bucket: &str,
    extra: &[&str],
    envs: &[(&str, &str)],
) -> Serve {
    Serve::on(srv, endpoint, bucket)
        .tokens(&format!(
            "# test tokens\n{} alice alice-id\n{BOB} bob/ bob-id\n",
            hashed(ALICE)
        ))
        .jwt_secret(&format!("{JWT_SECRET}\n"))
        .args(extra)
        .envs(envs)
        .start()
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

fn as_alice(r: RequestBuilder) -> RequestBuilder {
    r.bearer_auth(ALICE)
}

fn json_of(r: Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, v)
}

fn ok_json(r: Response) -> Value {
    let (status, v) = json_of(r);
    assert_eq!(status, 200, "{v}");
    v
}

/// Asserts an error answer: the status, the JSON `{error, code}`, and the code.
fn assert_error(r: Response, status: u16, code: &str) -> String {
    let (got, v) = json_of(r);
    assert_eq!(got, status, "{v}");
    assert_eq!(v["code"], code, "{v}");
    let error = v["error"].as_str().expect("error is a string").to_string();
    assert!(!error.is_empty());
    error
}

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    k.sort();
    k
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The parts of `data` at `part` bytes each.
fn chunks(data: &[u8], part: usize) -> Vec<&[u8]> {
    data.chunks(part).collect()
}

/// Create with SHA-256, sign each part with its SHA-256, PUT the bodies, list,
/// complete with the checksums: the object equals the file.
fn whole_flow(srv: &Server) {
    let bucket = srv.new_bucket("serve-flow");
    // Two parts a ListParts page: listing 3 parts proves serve reads every page.
    let serve = start_serve_env(
        srv,
        &srv.endpoint,
        &bucket,
        &[],
        &[("S3UP_LIST_PAGE_SIZE", "2")],
    );
    let http = client();
    let scratch = Scratch::new();
    let file = scratch.file("big.bin", 11 * MIB + 12345, 1);
    let data = std::fs::read(&file).unwrap();

    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(
                &json!({"filename": "big.bin", "type": "application/octet-stream",
                "metadata": {"owner": "alice", "name": "bïg.bin", "n": 3},
                "checksumAlgorithm": "SHA256"}),
            )
            .send()
            .unwrap(),
    );
    let key = created["key"].as_str().unwrap().to_string();
    let upload_id = created["uploadId"].as_str().unwrap().to_string();
    assert!(
        key.starts_with("up/alice/") && key.ends_with("-big.bin"),
        "{key}"
    );
    assert_eq!(created["bucket"], bucket.as_str());
    assert_eq!(created["checksumAlgorithm"], "SHA256");

    let mut parts = Vec::new();
    for (i, body) in chunks(&data, 5 * MIB as usize).into_iter().enumerate() {
        let n = i + 1;
        let sum = sha256_b64(body);
        let signed = ok_json(
            as_alice(http.get(serve.url(&format!(
                "/s3/multipart/{upload_id}/{n}?key={}&sha256={}",
                enc(&key),
                enc(&sum)
            ))))
            .send()
            .unwrap(),
        );
        let url = signed["url"].as_str().unwrap();
        assert!(url.contains("X-Amz-Signature"), "{url}");
        assert_eq!(signed["expires"], 900);
        assert_eq!(signed["headers"]["x-amz-checksum-sha256"], sum.as_str());
        let mut put = http.put(url).body(body.to_vec());
        for (name, value) in signed["headers"].as_object().unwrap() {
            put = put.header(name.as_str(), value.as_str().unwrap());
        }
        let r = put.send().unwrap();
        assert!(r.status().is_success(), "PUT part {n}: {}", r.status());
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        parts.push(json!({"PartNumber": n, "ETag": etag, "ChecksumSHA256": sum}));
    }

    let listed = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/multipart/{upload_id}?key={}", enc(&key)))))
            .send()
            .unwrap(),
    );
    let listed = listed.as_array().unwrap();
    assert_eq!(listed.len(), 3);
    for (l, p) in listed.iter().zip(&parts) {
        assert_eq!(l["PartNumber"], p["PartNumber"]);
        assert_eq!(l["ETag"], p["ETag"]);
        if srv.kind == support::Kind::Garage {
            assert_eq!(l["ChecksumSHA256"], p["ChecksumSHA256"], "{l}");
        }
    }
    assert_eq!(listed[2]["Size"], MIB + 12345);

    // Out of order on purpose: serve sorts them for S3.
    parts.reverse();
    let done = ok_json(
        as_alice(http.post(serve.url(&format!(
            "/s3/multipart/{upload_id}/complete?key={}",
            enc(&key)
        ))))
        .json(&json!({ "parts": parts }))
        .send()
        .unwrap(),
    );
    assert_eq!(done["key"], key.as_str());
    assert_eq!(done["bucket"], bucket.as_str());
    assert_object_equals(srv, &bucket, &key, &file);

    let status = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/object?key={}", enc(&key)))))
            .send()
            .unwrap(),
    );
    assert_eq!(status["exists"], true);
    assert_eq!(status["size"], data.len() as u64);
    let missing = ok_json(
        as_alice(http.get(serve.url("/s3/object?key=up/alice/nothing")))
            .send()
            .unwrap(),
    );
    assert_eq!(missing["exists"], false);

    // One line per request, naming the caller's id, never the token.
    let log = serve.log();
    assert!(
        log.contains("alice-id") && log.contains("/s3/multipart/{upload_id}/complete"),
        "{log}"
    );
    assert!(!log.contains(ALICE), "{log}");
    assert!(!log.contains("X-Amz-Signature"), "{log}");
}

on_both_servers!(whole_flow_with_sha256_signed_parts, |srv: &Server| {
    whole_flow(srv)
});

/// Exactly what `@uppy/aws-s3` 6 sends and reads through a Companion endpoint,
/// and nothing more: field names and casing as in serve's module docs.
fn companion_wire_format(srv: &Server) {
    let bucket = srv.new_bucket("serve-companion");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let http = client();
    let data = random_bytes(5 * MIB + 100, 2);

    // Uppy proposes `{randomId}-{filename}` as filename.
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .header("content-type", "application/json")
            .body(
                json!({"filename": "uppy123-photo.jpg", "metadata": {"name": "photo.jpg", "relativePath": null}, "type": "image/jpeg"})
                    .to_string(),
            )
            .send()
            .unwrap(),
    );
    assert_eq!(sorted_keys(&created), ["bucket", "key", "uploadId"]);
    let key = created["key"].as_str().unwrap().to_string();
    let id = created["uploadId"].as_str().unwrap().to_string();
    assert!(key.ends_with("-uppy123-photo.jpg"), "{key}");

    let q = format!("key={}", enc(&key));
    let one = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/multipart/{id}/1?{q}"))))
            .send()
            .unwrap(),
    );
    assert_eq!(sorted_keys(&one), ["expires", "url"]);
    let batch = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/multipart/{id}/batch?{q}&partNumbers=1,2"))))
            .send()
            .unwrap(),
    );
    assert_eq!(sorted_keys(&batch), ["expires", "presignedUrls"]);
    assert_eq!(sorted_keys(&batch["presignedUrls"]), ["1", "2"]);

    let mut parts = Vec::new();
    for (i, body) in chunks(&data, 5 * MIB as usize).into_iter().enumerate() {
        let n = (i + 1).to_string();
        let url = batch["presignedUrls"][&n].as_str().unwrap();
        // No header of any kind: the browser's XHR sends only the body.
        let r = http.put(url).body(body.to_vec()).send().unwrap();
        assert!(r.status().is_success(), "PUT part {n}: {}", r.status());
        let etag = r.headers()["etag"].to_str().unwrap().to_string();
        parts.push(json!({"PartNumber": i + 1, "ETag": etag}));
    }
    let listed = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/multipart/{id}?{q}"))))
            .send()
            .unwrap(),
    );
    for p in listed.as_array().unwrap() {
        let mut k = sorted_keys(p);
        k.retain(|k| k != "ChecksumSHA256");
        assert_eq!(k, ["ETag", "PartNumber", "Size"]);
    }
    let done = ok_json(
        as_alice(http.post(serve.url(&format!("/s3/multipart/{id}/complete?{q}"))))
            .json(&json!({ "parts": parts }))
            .send()
            .unwrap(),
    );
    for field in ["location", "key", "bucket"] {
        assert!(done.get(field).is_some(), "{field} missing: {done}");
    }
    let scratch = Scratch::new();
    let file = scratch.dir.path().join("f");
    std::fs::write(&file, &data).unwrap();
    assert_object_equals(srv, &bucket, &key, &file);

    // Abort answers {}.
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(&json!({"filename": "x.bin", "type": "application/octet-stream"}))
            .send()
            .unwrap(),
    );
    let (key2, id2) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let aborted = ok_json(
        as_alice(http.delete(serve.url(&format!("/s3/multipart/{id2}?key={}", enc(key2)))))
            .send()
            .unwrap(),
    );
    assert_eq!(aborted, json!({}));
    assert!(srv.list_uploads(&bucket).iter().all(|(_, u)| u != id2));

    // Small files: GET /s3/params, then a multipart/form-data POST of the
    // fields and the file, as CompanionS3.putObject does.
    let form = ok_json(
        as_alice(http.get(
            serve.url("/s3/params?filename=small.txt&type=text%2Fplain&metadata%5Bowner%5D=alice"),
        ))
        .send()
        .unwrap(),
    );
    assert_eq!(sorted_keys(&form), ["expires", "fields", "method", "url"]);
    assert_eq!(form["method"], "POST");
    let url = form["url"].as_str().unwrap();
    assert!(url.ends_with('/'), "{url}");
    let small_key = form["fields"]["key"].as_str().unwrap().to_string();
    assert!(small_key.starts_with("up/alice/"), "{small_key}");
    let mut multipart = reqwest::blocking::multipart::Form::new();
    for (name, value) in form["fields"].as_object().unwrap() {
        multipart = multipart.text(name.clone(), value.as_str().unwrap().to_string());
    }
    multipart = multipart.part(
        "file",
        reqwest::blocking::multipart::Part::bytes(b"hello, small file".to_vec())
            .file_name("small.txt"),
    );
    let r = http.post(url).multipart(multipart).send().unwrap();
    let status = r.status();
    assert!(
        status.is_success(),
        "POST form: {status}: {}",
        r.text().unwrap()
    );
    assert_eq!(srv.object_size(&bucket, &small_key), Some(17));
}

on_both_servers!(companion_exact_wire_format, |srv: &Server| {
    companion_wire_format(srv)
});

fn jwt(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[test]
fn every_refusal_has_its_status_and_json_body() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-refusals");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let http = client();
    let create = |token: &str, body: Value| {
        http.post(serve.url("/s3/multipart"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .unwrap()
    };

    // Authentication.
    let r = http
        .post(serve.url("/s3/multipart"))
        .json(&json!({"filename": "a"}))
        .send()
        .unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_error(r, 401, "missing_token");
    assert_error(
        create("wrong-token", json!({"filename": "a"})),
        401,
        "bad_token",
    );
    let expired = jwt(json!({"exp": now() - 30, "prefix": "carol", "sub": "carol"}));
    assert_error(
        create(&expired, json!({"filename": "a"})),
        401,
        "expired_token",
    );
    let carol = jwt(json!({"exp": now() + 600, "prefix": "carol", "sub": "carol"}));
    let ok = ok_json(create(&carol, json!({"filename": "a"})));
    assert!(ok["key"].as_str().unwrap().starts_with("up/carol/"));

    // Keys.
    let e = assert_error(
        create(ALICE, json!({"key": "up/alice/../bob/x"})),
        400,
        "bad_key",
    );
    assert!(e.contains("up/alice/../bob/x"), "{e}");
    assert_error(create(ALICE, json!({"key": "/up/alice/x"})), 400, "bad_key");
    assert_error(
        create(ALICE, json!({"key": "up/alice/a\u{7}b"})),
        400,
        "bad_key",
    );
    let long = format!("up/alice/{}", "k".repeat(1100));
    assert_error(create(ALICE, json!({ "key": long })), 400, "bad_key");
    let e = assert_error(
        create(ALICE, json!({"key": "up/bob/x"})),
        403,
        "outside_prefix",
    );
    assert!(e.contains("up/bob/x") && e.contains("up/alice/"), "{e}");
    // Found by schemathesis: a type no HTTP header can carry is bad input, not a 502.
    let e = assert_error(
        create(ALICE, json!({"filename": "a", "type": "text/\u{7}plain"})),
        400,
        "bad_content_type",
    );
    assert!(e.contains("text/\\u{7}plain"), "{e}");
    let mine = ok_json(create(ALICE, json!({"key": "up/alice/exact.bin"})));
    assert_eq!(mine["key"], "up/alice/exact.bin");

    // Bob's upload: alice may neither list, sign, complete nor abort it.
    let bobs = ok_json(create(BOB, json!({"filename": "b.bin"})));
    let (bkey, bid) = (
        bobs["key"].as_str().unwrap(),
        bobs["uploadId"].as_str().unwrap(),
    );
    let q = format!("key={}", enc(bkey));
    for r in [
        as_alice(http.get(serve.url(&format!("/s3/multipart/{bid}?{q}")))),
        as_alice(http.get(serve.url(&format!("/s3/multipart/{bid}/1?{q}")))),
        as_alice(http.get(serve.url(&format!("/s3/multipart/{bid}/batch?{q}&partNumbers=1")))),
        as_alice(http.post(serve.url(&format!("/s3/multipart/{bid}/complete?{q}"))))
            .json(&json!({"parts": [{"PartNumber": 1, "ETag": "\"x\""}]})),
        as_alice(http.delete(serve.url(&format!("/s3/multipart/{bid}?{q}")))),
        as_alice(http.get(serve.url(&format!("/s3/object?{q}")))),
    ] {
        assert_error(r.send().unwrap(), 403, "outside_prefix");
    }
    assert!(
        srv.list_uploads(&bucket).iter().any(|(_, u)| u == bid),
        "bob's upload is still there"
    );

    // Bad input.
    let (mkey, mid) = (
        mine["key"].as_str().unwrap(),
        mine["uploadId"].as_str().unwrap(),
    );
    let q = format!("key={}", enc(mkey));
    let r = as_alice(http.post(serve.url("/s3/multipart")))
        .header("content-type", "application/json")
        .body("{\"filename\": ")
        .send()
        .unwrap();
    assert_error(r, 400, "bad_json");
    for n in ["0", "10001", "x", "-1"] {
        let r = as_alice(http.get(serve.url(&format!("/s3/multipart/{mid}/{n}?{q}"))))
            .send()
            .unwrap();
        let e = assert_error(r, 400, "bad_part_number");
        assert!(e.contains(&format!("'{n}'")), "{e}");
    }
    let r =
        as_alice(http.get(serve.url(&format!("/s3/multipart/{mid}/batch?{q}&partNumbers=1,0"))))
            .send()
            .unwrap();
    assert_error(r, 400, "bad_part_number");
    let many: Vec<String> = (1..=10_001).map(|n| (n % 10_000 + 1).to_string()).collect();
    let r = as_alice(http.get(serve.url(&format!(
        "/s3/multipart/{mid}/batch?{q}&partNumbers={}",
        many.join(",")
    ))))
    .send()
    .unwrap();
    assert_error(r, 400, "too_many_parts");
    let r =
        as_alice(http.get(serve.url(&format!("/s3/multipart/{mid}/batch?{q}&partNumbers=2,3,2"))))
            .send()
            .unwrap();
    let e = assert_error(r, 400, "bad_part_number");
    assert!(e.contains("part number 2 appears twice"), "{e}");
    let r = as_alice(http.get(serve.url(&format!("/s3/multipart/{mid}/1?{q}&sha256=abc"))))
        .send()
        .unwrap();
    assert_error(r, 400, "bad_checksum");
    for parts in [
        json!([]),
        json!([{"PartNumber": 0, "ETag": "\"e\""}]),
        json!([{"PartNumber": 10001, "ETag": "\"e\""}]),
    ] {
        let r = as_alice(http.post(serve.url(&format!("/s3/multipart/{mid}/complete?{q}"))))
            .json(&json!({ "parts": parts }))
            .send()
            .unwrap();
        let (status, v) = json_of(r);
        assert_eq!(status, 400, "{v}");
    }
    let r = as_alice(http.get(serve.url(&format!("/s3/multipart/{mid}/1"))))
        .send()
        .unwrap();
    assert_error(r, 400, "missing_key");

    // Over 1 MiB (2 MiB for Complete): 413, in JSON.
    let r = as_alice(http.post(serve.url("/s3/multipart")))
        .json(&json!({"filename": "f".repeat(1 << 20)}))
        .send()
        .unwrap();
    assert_error(r, 413, "body_too_large");
    let big = json!({"parts": [{"PartNumber": 1, "ETag": "e".repeat(2 << 20)}]});
    let r = as_alice(http.post(serve.url(&format!("/s3/multipart/{mid}/complete?{q}"))))
        .json(&big)
        .send()
        .unwrap();
    assert_error(r, 413, "body_too_large");
    // 10,000 parts with checksums fit in 2 MiB: the store, not the limit, answers.
    let full: Vec<Value> = (1..=10_000)
        .map(|n| {
            json!({"PartNumber": n, "ETag": "\"0123456789abcdef0123456789abcdef\"",
                         "ChecksumSHA256": sha256_b64(b"x")})
        })
        .collect();
    let body = json!({ "parts": full }).to_string();
    assert!(
        body.len() > 1 << 20 && body.len() < 2 << 20,
        "{}",
        body.len()
    );
    let r = as_alice(http.post(serve.url(&format!("/s3/multipart/{mid}/complete?{q}"))))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .unwrap();
    let (status, v) = json_of(r);
    assert!(status == 400 || status == 404, "{status} {v}");

    // No such upload, an unknown route, a wrong method: JSON too.
    let r = as_alice(http.get(serve.url(&format!("/s3/multipart/nosuchupload?{q}"))))
        .send()
        .unwrap();
    assert_error(r, 404, "no_such_upload");
    assert_error(
        as_alice(http.get(serve.url("/nothing"))).send().unwrap(),
        404,
        "not_found",
    );
    assert_error(
        as_alice(http.put(serve.url("/s3/multipart")))
            .send()
            .unwrap(),
        405,
        "method_not_allowed",
    );

    // Health and the API document need no token.
    let health = ok_json(http.get(serve.url("/healthz")).send().unwrap());
    assert_eq!(health["status"], "ok");
    let doc = ok_json(http.get(serve.url("/openapi.json")).send().unwrap());
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/s3/multipart",
        "/s3/multipart/{uploadId}/{partNumber}",
        "/s3/multipart/{uploadId}/batch",
        "/s3/multipart/{uploadId}/complete",
        "/s3/params",
        "/s3/object",
        "/healthz",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from /openapi.json"
        );
    }
}

/// A part whose bytes differ from the SHA-256 it was signed with is refused
/// by Garage itself; Complete with a wrong checksum is refused, in JSON.
#[test]
fn checksums_are_enforced_by_garage() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-checksum");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let http = client();
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(&json!({"filename": "c.bin", "checksumAlgorithm": "SHA256"}))
            .send()
            .unwrap(),
    );
    let (key, id) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let q = format!("key={}", enc(key));
    let good = random_bytes(1000, 3);
    let mut bad = good.clone();
    bad[10] ^= 1;
    let signed = ok_json(
        as_alice(http.get(serve.url(&format!(
            "/s3/multipart/{id}/1?{q}&sha256={}",
            enc(&sha256_b64(&good))
        ))))
        .send()
        .unwrap(),
    );
    let put = |body: &[u8], with_header: bool| {
        let mut r = http
            .put(signed["url"].as_str().unwrap())
            .body(body.to_vec());
        if with_header {
            r = r.header(
                "x-amz-checksum-sha256",
                signed["headers"]["x-amz-checksum-sha256"].as_str().unwrap(),
            );
        }
        r.send().unwrap()
    };
    let r = put(&bad, true);
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    assert_eq!(status, 400, "{text}");
    assert!(
        text.contains("InvalidDigest") || text.contains("BadDigest"),
        "{text}"
    );
    // Leaving out the signed header is refused too.
    assert!(!put(&good, false).status().is_success());
    let r = put(&good, true);
    assert!(r.status().is_success());
    let etag = r.headers()["etag"].to_str().unwrap().to_string();

    // Complete naming a checksum other than the part's: the store refuses it,
    // and the client gets S3's reason in JSON.
    let r = as_alice(http.post(serve.url(&format!("/s3/multipart/{id}/complete?{q}"))))
        .json(&json!({"parts": [{"PartNumber": 1, "ETag": etag, "ChecksumSHA256": sha256_b64(&bad)}]}))
        .send()
        .unwrap();
    let e = assert_error(r, 400, "store_rejected");
    assert!(e.contains("CompleteMultipartUpload failed"), "{e}");
}

/// A URL signed for 2 seconds and used after 3 is refused by Garage.
#[test]
fn url_expiry_is_real_on_garage() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-expiry");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &["--url-expiry", "2s"]);
    let http = client();
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(&json!({"filename": "e.bin"}))
            .send()
            .unwrap(),
    );
    let (key, id) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let signed = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/multipart/{id}/1?key={}", enc(key)))))
            .send()
            .unwrap(),
    );
    assert_eq!(signed["expires"], 2);
    std::thread::sleep(Duration::from_secs(3));
    let r = http
        .put(signed["url"].as_str().unwrap())
        .body(vec![1u8; 100])
        .send()
        .unwrap();
    let status = r.status();
    let text = r.text().unwrap();
    assert!(status.is_client_error(), "{status}: {text}");
    assert!(
        text.contains("Date is too old") || text.contains("expired"),
        "{text}"
    );
}

fn slow_complete_proxy(srv: &Server) -> FaultProxy {
    let proxy = FaultProxy::start(&srv.endpoint);
    proxy.add_rule(Rule::always(
        Match::CompleteMultipartUpload,
        Fault::Throttle { bytes_per_sec: 60 },
    ));
    proxy
}

/// Creates an upload of one small part through `serve` and returns the
/// Complete request for it, ready to send.
fn upload_one_part(serve: &Serve, http: &Client) -> RequestBuilder {
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(&json!({"filename": "s.bin"}))
            .send()
            .unwrap(),
    );
    let (key, id) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let q = format!("key={}", enc(key));
    let signed = ok_json(
        as_alice(http.get(serve.url(&format!("/s3/multipart/{id}/1?{q}"))))
            .send()
            .unwrap(),
    );
    let r = http
        .put(signed["url"].as_str().unwrap())
        .body(vec![7u8; 1000])
        .send()
        .unwrap();
    assert!(r.status().is_success());
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    as_alice(http.post(serve.url(&format!("/s3/multipart/{id}/complete?{q}"))))
        .json(&json!({"parts": [{"PartNumber": 1, "ETag": etag}]}))
}

/// SIGTERM during a slow Complete: the Complete finishes, new connections
/// are refused, and the process exits 0.
#[test]
fn sigterm_lets_a_slow_complete_finish() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-shutdown");
    let proxy = slow_complete_proxy(srv);
    let mut serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    let http = client();
    let complete = upload_one_part(&serve, &http);
    let started = Instant::now();
    let pending = std::thread::spawn(move || complete.send().map(json_of));
    std::thread::sleep(Duration::from_millis(1000));
    let pid = serve.pid().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(300));
    // New requests are refused while the Complete is still in flight.
    assert!(
        Client::new().get(serve.url("/healthz")).send().is_err(),
        "accepted after SIGTERM"
    );
    let (status, v) = pending.join().unwrap().expect("the Complete got an answer");
    assert_eq!(status, 200, "{v}");
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "the Complete was not slow"
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = serve.try_wait() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "serve did not exit: {}",
            serve.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(exit.code(), Some(0), "{}", serve.log());
}

/// The request timeout answers 408, and API requests past --max-concurrent
/// 503, both in JSON; `/healthz` takes no slot, so it still answers.
#[test]
fn request_timeout_and_concurrency_cap() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-limits");
    let proxy = slow_complete_proxy(srv);
    let serve = start_serve(
        srv,
        &proxy.endpoint(),
        &bucket,
        &["--request-timeout", "2", "--max-concurrent", "1"],
    );
    let http = client();
    let complete = upload_one_part(&serve, &http);
    let pending = std::thread::spawn(move || complete.send().unwrap());
    std::thread::sleep(Duration::from_millis(700));
    let r = http
        .get(serve.url("/s3/whoami"))
        .bearer_auth(BOB)
        .send()
        .unwrap();
    assert_eq!(r.headers()["retry-after"], "1");
    assert_error(r, 503, "overloaded");
    ok_json(http.get(serve.url("/healthz")).send().unwrap());
    assert_error(pending.join().unwrap(), 408, "timeout");
    ok_json(http.get(serve.url("/healthz")).send().unwrap());
}

#[test]
fn no_auth_is_refused_off_loopback_and_without_it_auth_is_required() {
    let srv = support::server(support::Kind::Garage);
    let scratch = Scratch::new();
    let out = scratch
        .s3up(srv, &srv.endpoint)
        .args([
            "serve",
            "--listen",
            "0.0.0.0:0",
            "--bucket",
            "any-bucket",
            "--no-auth",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let line = support::one_error_line(&out);
    assert!(
        line.contains("--no-auth") && line.contains("0.0.0.0:0") && line.contains("loopback"),
        "{line}"
    );
    let out = scratch
        .s3up(srv, &srv.endpoint)
        .args(["serve", "--listen", "127.0.0.1:0", "--bucket", "any-bucket"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(support::one_error_line(&out).contains("--tokens"));
    let out = scratch
        .s3up(srv, &srv.endpoint)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--bucket",
            "any-bucket",
            "--no-auth",
            "--url-expiry",
            "8d",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(support::one_error_line(&out).contains("'8d'"));
}

/// The start-up check warns about a bucket browsers cannot use, in one line
/// with the configuration to apply; --apply-bucket-cors applies it.
#[test]
fn bucket_cors_is_checked_and_applied() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-cors");
    let origin = "http://127.0.0.1:9999";
    let serve = start_serve(srv, &srv.endpoint, &bucket, &["--cors-origin", origin]);
    let warned: Vec<String> = serve
        .log()
        .lines()
        .filter(|l| l.contains("CORS"))
        .map(String::from)
        .collect();
    assert_eq!(warned.len(), 1, "{}", serve.log());
    assert!(
        warned[0].contains("ETag") && warned[0].contains("--apply-bucket-cors"),
        "{}",
        warned[0]
    );
    // serve's own CORS answers a browser's preflight.
    let r = client()
        .request(reqwest::Method::OPTIONS, serve.url("/s3/multipart"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization,content-type",
        )
        .send()
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(r.headers()["access-control-allow-origin"], origin);
    drop(serve);

    let serve = start_serve(
        srv,
        &srv.endpoint,
        &bucket,
        &["--cors-origin", origin, "--apply-bucket-cors"],
    );
    assert!(serve.log().contains("applied"), "{}", serve.log());
    drop(serve);
    let serve = start_serve(srv, &srv.endpoint, &bucket, &["--cors-origin", origin]);
    assert!(!serve.log().contains("CORS"), "{}", serve.log());
}

/// Throttling keeps its status (503), other store failures are 502, and an
/// unreachable store is 502 too: JSON with S3's reason, never a bare 500.
#[test]
fn store_failures_keep_their_status() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-store-errors");
    let proxy = FaultProxy::start(&srv.endpoint);
    let serve = start_serve(srv, &proxy.endpoint(), &bucket, &[]);
    let http = client();
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(&json!({"filename": "t.bin"}))
            .send()
            .unwrap(),
    );
    let (key, id) = (
        created["key"].as_str().unwrap(),
        created["uploadId"].as_str().unwrap(),
    );
    let list = || {
        as_alice(http.get(serve.url(&format!("/s3/multipart/{id}?key={}", enc(key)))))
            .send()
            .unwrap()
    };
    for (fault, status, code) in [
        (Fault::slow_down(), 503, "store_throttled"),
        (
            Fault::Status(429, "TooManyRequests"),
            429,
            "store_throttled",
        ),
        (Fault::internal_error(), 502, "store_error"),
    ] {
        proxy.clear_rules();
        proxy.add_rule(Rule::always(Match::ListParts, fault));
        let r = list();
        if status != 502 {
            assert_eq!(r.headers()["retry-after"], "1");
        }
        let e = assert_error(r, status, code);
        assert!(e.contains("ListParts failed"), "{e}");
    }
    proxy.clear_rules();
    ok_json(list());
    drop(proxy);
    let r = as_alice(http.post(serve.url("/s3/multipart")))
        .json(&json!({"filename": "t.bin"}))
        .send()
        .unwrap();
    assert_error(r, 502, "store_unreachable");
}

/// schemathesis (pinned in .venv by scripts/install-servers) fuzzes every
/// route from `/openapi.json` against a serve on Garage: no 5xx, and every
/// answer matches the schema. Bounded by `--max-examples` and `--max-time`.
#[test]
fn schemathesis_finds_no_5xx_and_no_schema_break() {
    let st = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/schemathesis");
    assert!(
        st.exists(),
        "{} not found: run scripts/install-servers (installs schemathesis there)",
        st.display()
    );
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-fuzz");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &[]);
    let scratch = Scratch::new();
    let started = Instant::now();
    let out = std::process::Command::new(&st)
        .current_dir(scratch.dir.path())
        .env("HOME", scratch.dir.path())
        .env("SCHEMATHESIS_HOOKS", "")
        .args(["run", &serve.url("/openapi.json"), "--no-color"])
        .args(["--checks", "not_a_server_error,response_schema_conformance"])
        .args(["--header", &format!("Authorization: Bearer {ALICE}")])
        .args(["--max-examples", "25", "--max-time", "45", "--workers", "2"])
        .args(["--request-timeout", "20", "--seed", "1"])
        .args([
            "--suppress-health-check",
            "all",
            "--generation-database",
            "none",
        ])
        .output()
        .expect("run schemathesis");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "schemathesis failed after {:?}:\n{text}\nserve log:\n{}",
        started.elapsed(),
        serve.log()
    );
    eprintln!("schemathesis took {:?}", started.elapsed());
}

/// `--json-logs`: one JSON object per request, naming the route pattern and
/// the caller's ID, never the token or the key.
#[test]
fn json_logs_are_one_object_per_request() {
    let srv = support::server(support::Kind::Garage);
    let bucket = srv.new_bucket("serve-logs");
    let serve = start_serve(srv, &srv.endpoint, &bucket, &["--json-logs"]);
    let http = client();
    let created = ok_json(
        as_alice(http.post(serve.url("/s3/multipart")))
            .json(&json!({"filename": "secret-name.bin"}))
            .send()
            .unwrap(),
    );
    let key = created["key"].as_str().unwrap();
    assert_error(
        http.get(serve.url("/s3/object?key=x"))
            .bearer_auth("not-a-token")
            .send()
            .unwrap(),
        401,
        "bad_token",
    );
    let log = serve.log();
    let requests: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 2, "{log}");
    assert_eq!(requests[0]["method"], "POST");
    assert_eq!(requests[0]["route"], "/s3/multipart");
    assert_eq!(requests[0]["status"], 200);
    assert_eq!(requests[0]["caller"], "alice-id");
    assert!(requests[0]["latency_ms"].is_string() || requests[0]["latency_ms"].is_number());
    assert_eq!(requests[1]["status"], 401);
    assert_eq!(requests[1]["caller"], "-");
    for secret in [ALICE, "not-a-token", key] {
        assert!(!log.contains(secret), "{secret} in the log: {log}");
    }
}
