//! Checks the test fixture itself: each local S3 server starts, takes a
//! bucket, stores and returns an object byte for byte, and lists a multipart
//! upload made outside s3up. When these fail, the e2e failures that follow are
//! about the fixture, not s3up.

use crate::support::server::{server, Kind};
use sha2::{Digest, Sha256};

fn round_trip(kind: Kind) {
    let server = server(kind);
    assert!(server.endpoint.starts_with("http"), "{}", server.endpoint);
    let bucket = server.new_bucket("Selftest_Round.Trip");
    assert!(bucket.starts_with("selftest-round-trip-"), "{bucket}");
    assert_ne!(bucket, server.new_bucket("Selftest_Round.Trip"));

    // Not a multiple of any likely chunk size, to catch truncation.
    let body: Vec<u8> = (0..300_007u32).map(|i| (i * 31 % 251) as u8).collect();
    let expected: [u8; 32] = Sha256::digest(&body).into();
    assert_eq!(server.object_sha256(&bucket, "dir/obj.bin"), None);
    assert_eq!(server.object_size(&bucket, "dir/obj.bin"), None);
    server.put_object(&bucket, "dir/obj.bin", body);
    assert_eq!(server.object_sha256(&bucket, "dir/obj.bin"), Some(expected));
    assert_eq!(server.object_size(&bucket, "dir/obj.bin"), Some(300_007));

    assert!(server.list_uploads(&bucket).is_empty());
    let upload_id = server.create_upload(&bucket, "orphan.bin");
    assert_eq!(
        server.list_uploads(&bucket),
        vec![("orphan.bin".to_owned(), upload_id.clone())]
    );
    assert!(server
        .list_parts(&bucket, "orphan.bin", &upload_id)
        .is_empty());

    // From inside a test's own runtime: the fresh client works there, and the
    // blocking helpers must not trip over the running runtime.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(async {
            let client = server.client();
            let head = client
                .head_object()
                .bucket(&bucket)
                .key("dir/obj.bin")
                .send()
                .await
                .expect("HeadObject through server.client()");
            assert_eq!(head.content_length(), Some(300_007));
            assert_eq!(server.object_size(&bucket, "dir/obj.bin"), Some(300_007));
            client
                .upload_part()
                .bucket(&bucket)
                .key("orphan.bin")
                .upload_id(&upload_id)
                .part_number(1)
                .body(vec![7u8; 1024].into())
                .send()
                .await
                .expect("UploadPart through server.client()");
        });
    let parts = server.list_parts(&bucket, "orphan.bin", &upload_id);
    assert_eq!(parts.len(), 1, "{parts:?}");
    assert_eq!((parts[0].number, parts[0].size), (1, 1024));
    assert!(!parts[0].etag.is_empty());

    let env = server.env();
    let get = |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(get("AWS_ENDPOINT_URL"), Some(server.endpoint.as_str()));
    assert_eq!(get("AWS_ACCESS_KEY_ID"), Some(server.access_key.as_str()));
}

#[test]
fn garage_round_trip() {
    round_trip(Kind::Garage);
}

#[test]
fn moto_round_trip() {
    round_trip(Kind::Moto);
}
