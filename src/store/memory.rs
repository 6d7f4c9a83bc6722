//! An in-memory store for engine tests: uploads, parts and objects in a map.
//!
//! Like S3, it checks each body against the SHA-256 it was sent with, checks
//! each part's ETag at Complete, and reports the composite checksum of a
//! completed upload. [`MemoryStore::like_moto`] makes one that, like moto,
//! lists parts without their checksum and gives each part the MD5 of its
//! bytes as ETag; [`MemoryStore::wanting_md5`] one that, like a store reached
//! through Companion, is sent each part's MD5 and checks it. Faults are not
//! its business: the tests wrap it in [`Faulty`](super::faulty::Faulty).
//!
//! These tests are fast and deterministic; they come in addition to the
//! end-to-end tests on Garage and moto, never instead of them.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use super::body::hash_range;
use super::{
    b64, CompletedPart, ErrorKind, FileRange, Finished, ListedPart, ListedUpload, ObjectInfo,
    ObjectOptions, PartSums, Store, StoreError, UploadHandle,
};

struct StoredPart {
    size: u64,
    etag: String,
    sha256: String,
}

struct Upload {
    bucket: String,
    key: String,
    initiated_unix: u64,
    parts: BTreeMap<u32, StoredPart>,
    /// Parts with a later attempt that never finished ([`MemoryStore::shadow_part`]).
    shadowed: std::collections::BTreeSet<u32>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    uploads: BTreeMap<String, Upload>,
    objects: HashMap<(String, String), ObjectInfo>,
    /// UploadPart calls that succeeded.
    parts_stored: u32,
    /// [`Store::will_send`] hints: part, SHA-256, and how many UploadPart
    /// calls had succeeded when it came.
    announced: Vec<(u32, [u8; 32], u32)>,
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    /// Like moto: ListParts reports no checksum, and a part's ETag is its MD5.
    moto: bool,
    /// Like a store reached through Companion: each part comes with its MD5
    /// (`Content-MD5`), which is checked.
    md5: bool,
}

fn err(kind: ErrorKind, op: &'static str, message: &str) -> StoreError {
    StoreError::new(kind, op, message)
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// A store that, like moto, lists parts without a checksum and gives each
    /// part the MD5 of its bytes as ETag (a plain 32-hex ETag).
    pub fn like_moto() -> MemoryStore {
        MemoryStore {
            moto: true,
            ..MemoryStore::default()
        }
    }

    /// A store that wants each part's MD5 ([`Store::wants_md5`]) and checks it.
    pub fn wanting_md5() -> MemoryStore {
        MemoryStore {
            md5: true,
            ..MemoryStore::default()
        }
    }

    /// The [`Store::will_send`] hints, in order: (part, SHA-256, UploadPart
    /// calls that had succeeded by then).
    pub fn announced(&self) -> Vec<(u32, [u8; 32], u32)> {
        self.state.lock().unwrap().announced.clone()
    }

    /// The parts the store holds for an open upload: (number, ETag).
    pub fn stored_parts(&self, upload_id: &str) -> Option<Vec<(u32, String)>> {
        let state = self.state.lock().unwrap();
        let up = state.uploads.get(upload_id)?;
        Some(up.parts.iter().map(|(n, p)| (*n, p.etag.clone())).collect())
    }

    /// The open uploads' IDs.
    pub fn open_uploads(&self) -> Vec<String> {
        self.state.lock().unwrap().uploads.keys().cloned().collect()
    }

    pub fn object(&self, bucket: &str, key: &str) -> Option<ObjectInfo> {
        let state = self.state.lock().unwrap();
        state.objects.get(&(bucket.into(), key.into())).cloned()
    }

    /// A later attempt at part `number` of upload `upload_id` began and never
    /// finished, as Garage 2.5.0 records one: ListParts still lists the
    /// finished part, and Complete refuses it (InvalidPart) until the part is
    /// uploaded again.
    pub fn shadow_part(&self, upload_id: &str, number: u32) {
        let mut state = self.state.lock().unwrap();
        let up = state.uploads.get_mut(upload_id).expect("an open upload");
        up.shadowed.insert(number);
    }

    /// Aborts an upload behind the engine's back (another client, a lifecycle rule).
    pub fn abort_behind(&self, upload_id: &str) {
        self.state.lock().unwrap().uploads.remove(upload_id);
    }
}

/// Reads a body as an HTTP client would, telling its meter of each chunk, and
/// checks it against its signed SHA-256, as S3 does; returns its MD5.
fn checked_body(
    op: &'static str,
    body: &FileRange,
    sha256: &[u8; 32],
) -> Result<[u8; 16], StoreError> {
    let sums = match &body.file {
        super::body::Origin::File(file) => {
            hash_range(file, body.offset, body.len, true, body.meter.as_deref())
        }
        memory => {
            if let Some(meter) = &body.meter {
                meter.sent(body.len);
            }
            memory.hash(body.offset, body.len, true, None)
        }
    }
    .map_err(|e| err(ErrorKind::Fatal, op, &e.to_string()))?;
    if sums.sha256 != *sha256 {
        return Err(err(ErrorKind::Retryable, op, "BadDigest"));
    }
    Ok(sums.md5.expect("asked for the MD5"))
}

impl Store for MemoryStore {
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        Ok(self.object(bucket, key))
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sums: PartSums,
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        let sha256 = sums.sha256;
        checked_body("PutObject", &body, &sha256)?;
        let mut state = self.state.lock().unwrap();
        let at = (bucket.to_string(), key.to_string());
        if opts.if_none_match && state.objects.contains_key(&at) {
            return Err(err(
                ErrorKind::PreconditionFailed,
                "PutObject",
                "the key exists",
            ));
        }
        let info = ObjectInfo {
            size: body.len,
            etag: Some(format!("\"{}\"", hex::encode(&sha256[..16]))),
            checksum_sha256: Some(b64(&sha256)),
            checksum: None,
        };
        state.objects.insert(at, info.clone());
        Ok(Finished {
            location: None,
            etag: info.etag,
            checksum_sha256: info.checksum_sha256,
            checksum: None,
        })
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        _opts: &ObjectOptions,
    ) -> Result<UploadHandle, StoreError> {
        let mut state = self.state.lock().unwrap();
        state.next_id += 1;
        let upload_id = format!("upload-{}", state.next_id);
        state.uploads.insert(
            upload_id.clone(),
            Upload {
                bucket: bucket.into(),
                key: key.into(),
                initiated_unix: crate::units::now_unix(),
                parts: BTreeMap::new(),
                shadowed: Default::default(),
            },
        );
        Ok(UploadHandle {
            bucket: bucket.into(),
            key: key.into(),
            upload_id,
        })
    }

    async fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> Result<String, StoreError> {
        let sha256 = sums.sha256;
        let md5 = checked_body("UploadPart", &body, &sha256)?;
        if self.md5 && sums.md5 != Some(md5) {
            let said = format!("InvalidDigest: Content-MD5 {:?}", sums.md5.map(hex::encode));
            return Err(err(ErrorKind::Fatal, "UploadPart", &said));
        }
        let mut state = self.state.lock().unwrap();
        let up = state
            .uploads
            .get_mut(&upload.upload_id)
            .ok_or_else(|| err(ErrorKind::NoSuchUpload, "UploadPart", "NoSuchUpload"))?;
        let etag = if self.moto {
            format!("\"{}\"", hex::encode(md5))
        } else {
            format!("\"{}\"", hex::encode(&sha256[..16]))
        };
        up.shadowed.remove(&number);
        up.parts.insert(
            number,
            StoredPart {
                size: body.len,
                etag: etag.clone(),
                sha256: b64(&sha256),
            },
        );
        state.parts_stored += 1;
        Ok(etag)
    }

    /// Like a presigning store, so the engine's look-ahead can be tested.
    fn signs_ahead(&self) -> bool {
        true
    }

    async fn wants_md5(&self) -> bool {
        self.md5
    }

    fn will_send(&self, _upload: &UploadHandle, number: u32, sha256: [u8; 32]) {
        let mut state = self.state.lock().unwrap();
        let stored = state.parts_stored;
        state.announced.push((number, sha256, stored));
    }

    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        _whole: Option<&crate::checksum::Tagged>,
        if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        const OP: &str = "CompleteMultipartUpload";
        let mut state = self.state.lock().unwrap();
        let up = state
            .uploads
            .get(&upload.upload_id)
            .ok_or_else(|| err(ErrorKind::NoSuchUpload, OP, "NoSuchUpload"))?;
        let mut size = 0;
        let mut digests = Sha256::new();
        for p in parts {
            let stored = up
                .parts
                .get(&p.number)
                .filter(|s| {
                    s.etag == p.etag && p.checksum.as_ref().map(|t| &t.b64) == Some(&s.sha256)
                })
                .filter(|_| !up.shadowed.contains(&p.number))
                .ok_or_else(|| err(ErrorKind::Fatal, OP, "InvalidPart"))?;
            size += stored.size;
            use base64::Engine;
            let digest = base64::engine::general_purpose::STANDARD
                .decode(&stored.sha256)
                .map_err(|e| err(ErrorKind::Fatal, OP, &e.to_string()))?;
            digests.update(digest);
        }
        let at = (up.bucket.clone(), up.key.clone());
        if if_none_match && state.objects.contains_key(&at) {
            return Err(err(ErrorKind::PreconditionFailed, OP, "the key exists"));
        }
        let n = parts.len();
        let info = ObjectInfo {
            size,
            etag: Some(format!(
                "\"{}-{n}\"",
                hex::encode(&digests.clone().finalize()[..16])
            )),
            checksum_sha256: Some(format!("{}-{n}", b64(&digests.finalize()))),
            checksum: None,
        };
        state.uploads.remove(&upload.upload_id);
        state.objects.insert(at, info.clone());
        Ok(Finished {
            location: None,
            etag: info.etag,
            checksum_sha256: info.checksum_sha256,
            checksum: None,
        })
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        let mut state = self.state.lock().unwrap();
        match state.uploads.remove(&upload.upload_id) {
            Some(_) => Ok(()),
            None => Err(err(
                ErrorKind::NoSuchUpload,
                "AbortMultipartUpload",
                "NoSuchUpload",
            )),
        }
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        let state = self.state.lock().unwrap();
        let up = state
            .uploads
            .get(&upload.upload_id)
            .ok_or_else(|| err(ErrorKind::NoSuchUpload, "ListParts", "NoSuchUpload"))?;
        Ok(up
            .parts
            .iter()
            .map(|(n, p)| ListedPart {
                number: *n,
                size: p.size,
                etag: p.etag.clone(),
                checksum_sha256: (!self.moto).then(|| p.sha256.clone()),
            })
            .collect())
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedUpload>, StoreError> {
        let state = self.state.lock().unwrap();
        Ok(state
            .uploads
            .iter()
            .filter(|(_, u)| u.bucket == bucket && u.key.starts_with(prefix))
            .map(|(id, u)| ListedUpload {
                key: u.key.clone(),
                upload_id: id.clone(),
                initiated_unix: Some(u.initiated_unix),
            })
            .collect())
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<super::ListedObject>, StoreError> {
        let state = self.state.lock().unwrap();
        let mut listed: Vec<super::ListedObject> = state
            .objects
            .iter()
            .filter(|((b, k), _)| b == bucket && k.starts_with(prefix))
            .map(|((_, k), o)| super::ListedObject {
                key: k.clone(),
                size: o.size,
                etag: o.etag.clone(),
                modified_unix: Some(crate::units::now_unix()),
            })
            .collect();
        listed.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(listed)
    }
}
