//! The wire protocol between an upload client and its backend: Uppy
//! Companion's S3 multipart routes and s3up's additive extensions, one type
//! per JSON request and answer body. Both ends use these types: `serve::api`
//! reads the requests and writes the answers, and `store::via` writes the
//! requests and reads the answers (from `serve` or from a real Companion). So
//! a field renamed here renames it on both ends at once, and a field renamed
//! on one end alone no longer compiles.
//!
//! Field names and casing are exactly Companion's (`controllers/s3.ts`; the
//! route table is in `crate::serve`'s module docs), S3's own casing where
//! Companion passes S3's objects through (`PartNumber`, `ETag`). Fields that
//! are s3up's are marked "s3up:" in their docs.
//!
//! **Written exactly, read tolerantly.** `serve` always sends every field its
//! answer declares; Companion leaves some out (no `bucket` when S3 names
//! none, no `expires` on a batch, nothing but `location`, `key` and `bucket`
//! on a Complete). Such fields are `#[serde(default)]`, so the via store
//! reads a Companion answer, and `#[schema(required = true)]`, so
//! `/openapi.json` still says that `serve` sends them. A URL's lifetime stays
//! an `Option`: "not said" must not read as "expires at once". Fields an
//! answer leaves out are not written (`skip_serializing_if`), fields a
//! reader does not know are ignored (serde's default).
//!
//! The doc comments on these types and their fields are `/openapi.json`'s
//! descriptions: changing one changes the document. Notes for the code's
//! readers are `//` comments.
//!
//! Query strings are not types here: `serve` parses them by hand, to word each
//! refusal (see `serve::api`), and the via store builds them as pairs. Their
//! names (`key`, `sha256`, `partNumbers`, `filename`, `type`,
//! `metadata[NAME]`) are written down in `crate::serve`'s route table.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::checksum::{Algorithm, Tagged};

/// The checksum algorithm s3up asks for on create and `serve` confirms.
pub const SHA256: &str = "SHA256";

/// `POST /s3/multipart`: Companion's fields, plus s3up's `key` and `checksumAlgorithm`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateRequest {
    /// The file's name; the key is a random id, `-` and this, under the caller's prefix.
    /// (`@uppy/aws-s3` 6 sends its own proposed key here.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    /// The object's Content-Type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// User metadata (x-amz-meta-*); values that are not strings are ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// s3up: the exact key wanted, which must lie under the caller's prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// s3up: `SHA256`, `CRC64NVME`, `CRC32C`, `CRC32` or `SHA1` creates the
    /// upload with that checksum algorithm; each part must then be signed with
    /// its checksum (`sha256`, or `checksumAlgorithm` and `checksum`) and
    /// Complete must carry them. An algorithm the bucket's store is known to
    /// refuse is answered 400 before anything is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// s3up: `COMPOSITE` or `FULL_OBJECT` (CRCs only; CRC64NVME is
    /// `FULL_OBJECT` only, and its default) with `checksumAlgorithm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateResponse {
    pub key: String,
    pub upload_id: String,
    // Companion sends S3's `Bucket`, which a store may leave out.
    #[serde(default)]
    #[schema(required = true)]
    pub bucket: String,
    /// s3up: the algorithm the upload was created with, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// s3up: `COMPOSITE` or `FULL_OBJECT`, with `checksumAlgorithm`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
}

/// One part S3 holds, in S3's own casing as Companion returns it.
// Companion passes S3's whole Part object through (LastModified, CRCs …):
// what is not named here is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PartEntry {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "Size", default)]
    #[schema(required = true)]
    pub size: u64,
    #[serde(rename = "ETag", default)]
    #[schema(required = true)]
    pub etag: String,
    /// When the store reports it (AWS and Garage do; moto does not).
    #[serde(
        rename = "ChecksumSHA256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SignResponse {
    /// The presigned UploadPart URL: PUT the part's bytes to it.
    pub url: String,
    /// Seconds the URL stays valid.
    // `serve` always says; a client that is not told assumes a lifetime.
    #[serde(default)]
    #[schema(value_type = u64, required = true)]
    pub expires: Option<u64>,
    /// s3up: headers the PUT must carry, e.g. `x-amz-checksum-sha256` (present
    /// when `sha256` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// Part number (as a string) to presigned URL.
    pub presigned_urls: BTreeMap<String, String>,
    /// s3up: seconds the URLs stay valid.
    // Companion's batch answer has no `expires`.
    #[serde(default)]
    #[schema(value_type = u64, required = true)]
    pub expires: Option<u64>,
    /// s3up: part number to the headers its PUT must carry (when `sha256` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, BTreeMap<String, String>>>,
}

/// A part for Complete, in S3's casing as Companion takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletePartEntry {
    #[serde(rename = "PartNumber")]
    pub part_number: u32,
    #[serde(rename = "ETag")]
    pub etag: String,
    /// s3up: the part's SHA-256 in base64; required for uploads created with SHA256.
    #[serde(
        rename = "ChecksumSHA256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha256: Option<String>,
    /// s3up: the part's CRC64NVME in base64, for uploads created with it.
    #[serde(
        rename = "ChecksumCRC64NVME",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_crc64nvme: Option<String>,
    /// s3up: the part's CRC32C in base64, for uploads created with it.
    #[serde(
        rename = "ChecksumCRC32C",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_crc32c: Option<String>,
    /// s3up: the part's CRC32 in base64, for uploads created with it.
    #[serde(
        rename = "ChecksumCRC32",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_crc32: Option<String>,
    /// s3up: the part's SHA-1 in base64, for uploads created with it.
    #[serde(
        rename = "ChecksumSHA1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha1: Option<String>,
}

impl CompletePartEntry {
    /// A part with its checksum, in the field S3 names for its algorithm.
    pub fn new(part_number: u32, etag: String, checksum: Option<&Tagged>) -> CompletePartEntry {
        let mut entry = CompletePartEntry {
            part_number,
            etag,
            checksum_sha256: None,
            checksum_crc64nvme: None,
            checksum_crc32c: None,
            checksum_crc32: None,
            checksum_sha1: None,
        };
        if let Some(t) = checksum {
            *entry.field(t.algorithm) = Some(t.b64.clone());
        }
        entry
    }

    fn field(&mut self, algorithm: Algorithm) -> &mut Option<String> {
        match algorithm {
            Algorithm::Sha256 => &mut self.checksum_sha256,
            Algorithm::Crc64Nvme => &mut self.checksum_crc64nvme,
            Algorithm::Crc32c => &mut self.checksum_crc32c,
            Algorithm::Crc32 => &mut self.checksum_crc32,
            Algorithm::Sha1 => &mut self.checksum_sha1,
        }
    }

    /// The checksums the part carries, by algorithm (S3 wants at most one).
    pub fn checksums(&self) -> Vec<Tagged> {
        let mut copy = self.clone();
        Algorithm::ALL
            .into_iter()
            .filter_map(|algorithm| {
                copy.field(algorithm)
                    .take()
                    .map(|b64| Tagged { algorithm, b64 })
            })
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompleteRequest {
    /// 1 to 10000 parts, each number once.
    pub parts: Vec<CompletePartEntry>,
    /// s3up: for a `FULL_OBJECT` upload, the whole object's checksum in the
    /// parts' algorithm (base64), which the store checks.
    #[serde(
        rename = "checksumFullObject",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_full_object: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompleteResponse {
    /// The object's URL, as the store reports it.
    pub location: Option<String>,
    // Companion sends S3's `Key` and `Bucket`, which a store may leave out.
    #[serde(default)]
    #[schema(required = true)]
    pub key: String,
    #[serde(default)]
    #[schema(required = true)]
    pub bucket: String,
    /// s3up: the object's ETag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// s3up: the object's composite SHA-256 ("…-N"), when the store reports it.
    #[serde(
        rename = "checksumSHA256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha256: Option<String>,
    /// s3up: the algorithm of `checksum`, for an upload created with another
    /// algorithm than SHA256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_algorithm: Option<String>,
    /// s3up: the object's checksum in that algorithm ("…-N" when composite),
    /// when the store reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Empty {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObjectStatus {
    // The via store reads `exists` and what follows.
    #[serde(default)]
    #[schema(required = true)]
    pub key: String,
    pub exists: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Composite SHA-256 ("…-N") for multipart objects, when stored.
    #[serde(
        rename = "checksumSHA256",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub checksum_sha256: Option<String>,
}

/// Who the caller is, for a client that wants to show keys before it creates
/// anything, or to check a token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    /// The token's ID or the JWT's subject, as the log names the caller.
    pub id: String,
    /// Every key the caller names must start with this (`--prefix` and the
    /// caller's own prefix); empty when any key is allowed.
    pub prefix: String,
    /// The bucket every key goes to (`serve --bucket`), so that a client
    /// can name where a refused key would have gone. Absent from older
    /// versions of serve.
    #[serde(default)]
    pub bucket: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParamsResponse {
    /// Always `POST`.
    // The via store reads `url` and `fields` only.
    #[serde(default)]
    #[schema(required = true)]
    pub method: String,
    /// The bucket's URL, ending in `/`.
    pub url: String,
    /// Form fields to send before the `file` field, `key` among them.
    #[serde(default)]
    #[schema(required = true)]
    pub fields: BTreeMap<String, String>,
    /// Seconds the form stays valid.
    #[serde(default)]
    #[schema(required = true)]
    pub expires: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// Always `ok` while the process serves.
    // The via store reads `service` only, from whatever answers: a backend
    // whose health check says something else is taken for Companion.
    #[serde(default)]
    #[schema(required = true)]
    pub status: String,
    /// `s3up`, so a client can tell `serve` (with its extensions) from Companion.
    #[serde(default)]
    #[schema(required = true)]
    pub service: String,
    #[serde(default)]
    #[schema(required = true)]
    pub version: String,
}

/// What `serve`'s health check names itself.
pub const SERVICE: &str = "s3up";

/// The JSON body of every error answer.
// Companion's errors are `{"error": …}` alone (an object, not a string, when
// it relays an S3 error): the via store reads them as loose JSON
// (`store::via::errors`), so this type is `serve`'s side only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// One line: what went wrong, quoting the value at fault, and what to do.
    pub error: String,
    /// Stable and machine-readable, e.g. `bad_key`, `outside_prefix`, `no_such_upload`.
    pub code: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::{json, Value};

    /// Serializes `value`, reads it back, checks that nothing changed, and
    /// returns the JSON for the caller to check its field names.
    fn round_trip<T>(value: T) -> Value
    where
        T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        let text = serde_json::to_string(&value).unwrap();
        let back: T = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// An object's field names, sorted.
    fn names(v: &Value) -> Vec<&str> {
        let mut names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn map<V: Clone>(pairs: &[(&str, V)]) -> BTreeMap<String, V> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn every_request_and_answer_round_trips_with_its_wire_names() {
        let mut metadata = serde_json::Map::new();
        metadata.insert("name".into(), json!("a.bin"));
        let create = round_trip(CreateRequest {
            filename: Some("a.bin".into()),
            content_type: Some("application/octet-stream".into()),
            metadata: Some(metadata),
            key: Some("up/a.bin".into()),
            checksum_algorithm: Some("CRC32C".into()),
            checksum_type: Some("COMPOSITE".into()),
        });
        assert_eq!(
            names(&create),
            [
                "checksumAlgorithm",
                "checksumType",
                "filename",
                "key",
                "metadata",
                "type"
            ]
        );
        let created = round_trip(CreateResponse {
            key: "up/a.bin".into(),
            upload_id: "u1".into(),
            bucket: "b".into(),
            checksum_algorithm: Some(SHA256.into()),
            checksum_type: Some("COMPOSITE".into()),
        });
        assert_eq!(
            names(&created),
            [
                "bucket",
                "checksumAlgorithm",
                "checksumType",
                "key",
                "uploadId"
            ]
        );
        let part = round_trip(PartEntry {
            part_number: 2,
            size: 5 << 20,
            etag: "\"e2\"".into(),
            checksum_sha256: Some("c2".into()),
        });
        assert_eq!(
            names(&part),
            ["ChecksumSHA256", "ETag", "PartNumber", "Size"]
        );
        let signed = round_trip(SignResponse {
            url: "https://s3/b/k?X-Amz-Signature=s".into(),
            expires: Some(900),
            headers: Some(map(&[("x-amz-checksum-sha256", "c".to_string())])),
        });
        assert_eq!(names(&signed), ["expires", "headers", "url"]);
        let batch = round_trip(BatchResponse {
            presigned_urls: map(&[("1", "u1".to_string()), ("2", "u2".to_string())]),
            expires: Some(900),
            headers: Some(map(&[(
                "1",
                map(&[("x-amz-checksum-sha256", "c".to_string())]),
            )])),
        });
        assert_eq!(names(&batch), ["expires", "headers", "presignedUrls"]);
        let sha = Tagged {
            algorithm: Algorithm::Sha256,
            b64: "c1".into(),
        };
        let complete = round_trip(CompleteRequest {
            parts: vec![CompletePartEntry::new(1, "\"e1\"".into(), Some(&sha))],
            checksum_full_object: None,
        });
        assert_eq!(names(&complete), ["parts"]);
        assert_eq!(
            names(&complete["parts"][0]),
            ["ChecksumSHA256", "ETag", "PartNumber"]
        );
        // Every other algorithm in S3's own field, read back as it was sent.
        for (algorithm, field) in [
            (Algorithm::Crc64Nvme, "ChecksumCRC64NVME"),
            (Algorithm::Crc32c, "ChecksumCRC32C"),
            (Algorithm::Crc32, "ChecksumCRC32"),
            (Algorithm::Sha1, "ChecksumSHA1"),
        ] {
            let t = Tagged {
                algorithm,
                b64: "x".into(),
            };
            let entry = CompletePartEntry::new(2, "e".into(), Some(&t));
            let value = round_trip(CompleteRequest {
                parts: vec![entry.clone()],
                checksum_full_object: Some("w".into()),
            });
            assert_eq!(
                names(&value["parts"][0]),
                [field, "ETag", "PartNumber"],
                "{algorithm:?}"
            );
            assert_eq!(names(&value), ["checksumFullObject", "parts"]);
            assert_eq!(entry.checksums(), vec![t]);
        }
        let completed = round_trip(CompleteResponse {
            location: Some("http://s3/b/k".into()),
            key: "k".into(),
            bucket: "b".into(),
            etag: Some("\"m-1\"".into()),
            checksum_sha256: Some("c-1".into()),
            checksum_algorithm: None,
            checksum: None,
        });
        assert_eq!(
            names(&completed),
            ["bucket", "checksumSHA256", "etag", "key", "location"]
        );
        assert_eq!(round_trip(Empty {}), json!({}));
        let status = round_trip(ObjectStatus {
            key: "k".into(),
            exists: true,
            size: Some(7),
            etag: Some("\"e\"".into()),
            checksum_sha256: Some("c-1".into()),
        });
        assert_eq!(
            names(&status),
            ["checksumSHA256", "etag", "exists", "key", "size"]
        );
        let who = round_trip(WhoAmI {
            id: "alice-id".into(),
            prefix: "up/alice/".into(),
            bucket: "b".into(),
        });
        assert_eq!(names(&who), ["bucket", "id", "prefix"]);
        let params = round_trip(ParamsResponse {
            method: "POST".into(),
            url: "http://s3/b/".into(),
            fields: map(&[("key", "k".to_string())]),
            expires: 900,
        });
        assert_eq!(names(&params), ["expires", "fields", "method", "url"]);
        let health = round_trip(Health {
            status: "ok".into(),
            service: SERVICE.into(),
            version: "0.1.0".into(),
        });
        assert_eq!(names(&health), ["service", "status", "version"]);
        let error = round_trip(ErrorBody {
            error: "no".into(),
            code: "bad_key".into(),
        });
        assert_eq!(names(&error), ["code", "error"]);
    }

    #[test]
    fn absent_options_are_left_out_except_a_completes_location() {
        let create = round_trip(CreateRequest::default());
        assert_eq!(create, json!({}));
        let part = round_trip(PartEntry {
            part_number: 1,
            size: 1,
            etag: "e".into(),
            checksum_sha256: None,
        });
        assert_eq!(names(&part), ["ETag", "PartNumber", "Size"]);
        let completed = round_trip(CompleteResponse {
            location: None,
            key: "k".into(),
            bucket: "b".into(),
            etag: None,
            checksum_sha256: None,
            checksum_algorithm: None,
            checksum: None,
        });
        // As `serve` always answered: `location` is null, never missing.
        assert_eq!(
            completed,
            json!({"location": null, "key": "k", "bucket": "b"})
        );
    }

    /// What the via store sends to create, byte for byte as before the types
    /// were shared: Companion requires `type` to be a string.
    #[test]
    fn the_via_stores_create_request_is_companions() {
        let body = CreateRequest {
            filename: Some("a.bin".into()),
            content_type: Some("application/octet-stream".into()),
            metadata: Some(serde_json::Map::new()),
            ..CreateRequest::default()
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            r#"{"filename":"a.bin","type":"application/octet-stream","metadata":{}}"#
        );
    }

    /// Answers as Companion (controllers/s3.ts) sends them, and requests as
    /// `@uppy/aws-s3` sends them, parse.
    #[test]
    fn companions_own_documents_parse() {
        let created: CreateResponse =
            serde_json::from_str(r#"{"key":"x-a.bin","uploadId":"u1","bucket":"b"}"#).unwrap();
        assert_eq!(
            (created.key.as_str(), created.bucket.as_str()),
            ("x-a.bin", "b")
        );
        // S3 named no bucket: Companion's JSON leaves it out.
        let created: CreateResponse =
            serde_json::from_str(r#"{"key":"x-a.bin","uploadId":"u1"}"#).unwrap();
        assert_eq!(
            (created.upload_id.as_str(), created.bucket.as_str()),
            ("u1", "")
        );
        // ListParts' Part objects, passed through with every field S3 sent.
        let parts: Vec<PartEntry> = serde_json::from_str(
            r#"[{"PartNumber":1,"LastModified":"2026-12-03T09:00:00.000Z","ETag":"\"e1\"",
                 "Size":5242880,"ChecksumCRC32":"AAAAAA=="},{"PartNumber":2}]"#,
        )
        .unwrap();
        assert_eq!((parts[0].part_number, parts[0].size), (1, 5242880));
        assert_eq!(parts[0].etag, "\"e1\"");
        assert_eq!((parts[1].size, parts[1].etag.as_str()), (0, ""));
        let signed: SignResponse =
            serde_json::from_str(r#"{"url":"https://s3/b/k?p=1","expires":800}"#).unwrap();
        assert_eq!((signed.expires, signed.headers), (Some(800), None));
        // Companion's batch answer says nothing of expiry.
        let batch: BatchResponse =
            serde_json::from_str(r#"{"presignedUrls":{"1":"https://s3/1","2":"https://s3/2"}}"#)
                .unwrap();
        assert_eq!(batch.presigned_urls.len(), 2);
        assert_eq!((batch.expires, batch.headers), (None, None));
        let completed: CompleteResponse =
            serde_json::from_str(r#"{"location":"http://s3/b/k","key":"k","bucket":"b"}"#).unwrap();
        assert_eq!((completed.etag, completed.checksum_sha256), (None, None));
        let completed: CompleteResponse = serde_json::from_str("{}").unwrap();
        assert_eq!(completed.location, None);
        let _: Empty = serde_json::from_str("{}").unwrap();
        let form: ParamsResponse = serde_json::from_str(
            r#"{"method":"POST","url":"http://s3/b","fields":{"key":"k","Policy":"p"},"expires":800}"#,
        )
        .unwrap();
        assert_eq!(form.fields.get("Policy").map(String::as_str), Some("p"));
        // What Uppy sends `serve`, which takes Companion's requests.
        let create: CreateRequest = serde_json::from_str(
            r#"{"filename":"r-a.bin","type":"image/png","metadata":{"name":"a.bin","relativePath":null}}"#,
        )
        .unwrap();
        assert_eq!(create.content_type.as_deref(), Some("image/png"));
        assert_eq!(create.metadata.map(|m| m.len()), Some(2));
        let complete: CompleteRequest =
            serde_json::from_str(r#"{"parts":[{"PartNumber":1,"ETag":"\"e1\""}]}"#).unwrap();
        assert_eq!(complete.parts[0].checksum_sha256, None);
    }

    /// A field the via store reads tolerantly is still one `serve` always
    /// sends, and `/openapi.json` says so.
    #[test]
    fn tolerated_fields_stay_required_in_the_schema() {
        fn required<T: utoipa::PartialSchema>() -> Vec<String> {
            let schema = serde_json::to_value(T::schema()).unwrap();
            serde_json::from_value(schema["required"].clone()).unwrap()
        }
        let has =
            |list: Vec<String>, names: &[&str]| names.iter().all(|n| list.iter().any(|r| r == n));
        assert!(has(
            required::<CreateResponse>(),
            &["key", "uploadId", "bucket"]
        ));
        assert!(has(
            required::<PartEntry>(),
            &["PartNumber", "Size", "ETag"]
        ));
        assert!(has(required::<SignResponse>(), &["url", "expires"]));
        assert!(has(
            required::<BatchResponse>(),
            &["presignedUrls", "expires"]
        ));
        assert!(has(required::<CompleteResponse>(), &["key", "bucket"]));
        assert!(has(required::<ObjectStatus>(), &["key", "exists"]));
        assert!(has(
            required::<ParamsResponse>(),
            &["method", "url", "fields", "expires"]
        ));
        assert!(has(required::<Health>(), &["status", "service", "version"]));
    }
}
