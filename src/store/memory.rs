//! An in-memory store for engine tests: uploads, parts and objects in a map,
//! and faults injected at chosen calls.
//!
//! It can fail the Nth call of a kind (optionally of one part) with a given
//! [`ErrorKind`], lose the answer of a call that succeeded (the call takes
//! effect, the caller sees a retryable error), and hold a call until the test
//! releases it. Like S3, it checks each body against the SHA-256 it was sent
//! with, checks each part's ETag at Complete, and reports the composite
//! checksum of a completed upload. [`MemoryStore::like_moto`] makes one that,
//! like moto, lists parts without their checksum and gives each part the MD5
//! of its bytes as ETag.
//!
//! These tests are fast and deterministic; they come in addition to the
//! end-to-end tests on Garage and moto, never instead of them.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::FileExt;
use std::sync::{Arc, Mutex};

use md5::Md5;
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{
    b64, CompletedPart, ErrorKind, FileRange, Finished, ListUploads, ListedPart, ListedUpload,
    ObjectInfo, ObjectOptions, PartSums, Store, StoreError, UploadHandle,
};

/// The kinds of call, for counting and for choosing where a fault goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    HeadObject,
    PutObject,
    CreateUpload,
    UploadPart,
    CompleteUpload,
    AbortUpload,
    ListParts,
    CompletedObject,
    ListUploads,
}

/// A held call: the test waits for it to arrive, then releases it.
pub struct Gate {
    arrived: Semaphore,
    release: Semaphore,
}

impl Default for Gate {
    fn default() -> Gate {
        Gate {
            arrived: Semaphore::new(0),
            release: Semaphore::new(0),
        }
    }
}

impl Gate {
    /// Waits until a call is held here.
    pub async fn arrived(&self) {
        self.arrived
            .acquire()
            .await
            .expect("the gate is never closed")
            .forget();
    }

    /// Lets the held call go on.
    pub fn release(&self) {
        self.release.add_permits(1);
    }
}

#[derive(Clone)]
enum Fault {
    Fail(ErrorKind),
    LoseAnswer,
    Hold(Arc<Gate>),
}

struct Rule {
    op: Op,
    part: Option<u32>,
    /// The calls it applies to, counted from 1 among calls of `op` (and `part`).
    calls: std::ops::RangeInclusive<u32>,
    fault: Fault,
}

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
}

#[derive(Default)]
struct State {
    next_id: u64,
    uploads: BTreeMap<String, Upload>,
    objects: HashMap<(String, String), ObjectInfo>,
    counts: HashMap<(Op, Option<u32>), u32>,
    /// UploadPart calls, in the order they arrived.
    part_calls: Vec<u32>,
    /// UploadPart calls that succeeded.
    parts_stored: u32,
    /// [`Store::will_send`] hints: part, SHA-256, and how many UploadPart
    /// calls had succeeded when it came.
    announced: Vec<(u32, [u8; 32], u32)>,
}

/// The in-memory store. Share it with `Arc`; the engine takes an `Arc<S>`.
#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    rules: Mutex<Vec<Rule>>,
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
    pub fn new() -> Arc<MemoryStore> {
        Arc::new(MemoryStore::default())
    }

    /// A store that, like moto, lists parts without a checksum and gives each
    /// part the MD5 of its bytes as ETag (a plain 32-hex ETag).
    pub fn like_moto() -> Arc<MemoryStore> {
        Arc::new(MemoryStore {
            moto: true,
            ..MemoryStore::default()
        })
    }

    /// A store that wants each part's MD5 ([`Store::wants_md5`]) and checks it.
    pub fn wanting_md5() -> Arc<MemoryStore> {
        Arc::new(MemoryStore {
            md5: true,
            ..MemoryStore::default()
        })
    }

    fn rule(&self, op: Op, part: Option<u32>, calls: std::ops::RangeInclusive<u32>, fault: Fault) {
        self.rules.lock().unwrap().push(Rule {
            op,
            part,
            calls,
            fault,
        });
    }

    /// Fails calls `calls` (counted from 1) of `op` with `kind`.
    pub fn fail(&self, op: Op, calls: std::ops::RangeInclusive<u32>, kind: ErrorKind) {
        self.rule(op, None, calls, Fault::Fail(kind));
    }

    /// Fails attempts `calls` at part `number` with `kind`.
    pub fn fail_part(&self, number: u32, calls: std::ops::RangeInclusive<u32>, kind: ErrorKind) {
        self.rule(Op::UploadPart, Some(number), calls, Fault::Fail(kind));
    }

    /// Call `nth` of `op` takes effect, but its caller sees a lost answer.
    pub fn lose_answer(&self, op: Op, nth: u32) {
        self.rule(op, None, nth..=nth, Fault::LoseAnswer);
    }

    /// The first attempt at part `number` takes effect; its answer is lost.
    pub fn lose_part_answer(&self, number: u32) {
        self.rule(Op::UploadPart, Some(number), 1..=1, Fault::LoseAnswer);
    }

    /// Call `nth` of `op` waits at the returned gate until the test releases it.
    pub fn hold(&self, op: Op, nth: u32) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        self.rule(op, None, nth..=nth, Fault::Hold(gate.clone()));
        gate
    }

    /// The first attempt at part `number` waits at the returned gate.
    pub fn hold_part(&self, number: u32) -> Arc<Gate> {
        let gate = Arc::new(Gate::default());
        self.rule(
            Op::UploadPart,
            Some(number),
            1..=1,
            Fault::Hold(gate.clone()),
        );
        gate
    }

    /// How many calls of `op` were made.
    pub fn calls(&self, op: Op) -> u32 {
        let state = self.state.lock().unwrap();
        state.counts.get(&(op, None)).copied().unwrap_or(0)
    }

    /// The part numbers of every UploadPart call, in order of arrival.
    pub fn part_calls(&self) -> Vec<u32> {
        self.state.lock().unwrap().part_calls.clone()
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

    /// Aborts an upload behind the engine's back (another client, a lifecycle rule).
    pub fn abort_behind(&self, upload_id: &str) {
        self.state.lock().unwrap().uploads.remove(upload_id);
    }

    /// Counts the call, then applies the fault chosen for it: a hold waits
    /// here; a failure or a lost answer is returned for the call to act on.
    async fn enter(&self, op: Op, part: Option<u32>) -> Option<Fault> {
        let (nth, nth_of_part) = {
            let mut state = self.state.lock().unwrap();
            let mut count = |k| {
                let c = state.counts.entry(k).or_insert(0);
                *c += 1;
                *c
            };
            let nth = count((op, None));
            let nth_of_part = part.map(|n| count((op, Some(n))));
            if let Some(n) = part {
                state.part_calls.push(n);
            }
            (nth, nth_of_part)
        };
        let fault = self.rules.lock().unwrap().iter().find_map(|r| {
            let n = match r.part {
                None => nth,
                Some(p) if Some(p) == part => nth_of_part.unwrap_or(0),
                Some(_) => return None,
            };
            (r.op == op && r.calls.contains(&n)).then(|| r.fault.clone())
        });
        match fault {
            Some(Fault::Hold(gate)) => {
                gate.arrived.add_permits(1);
                gate.release
                    .acquire()
                    .await
                    .expect("the gate is never closed")
                    .forget();
                None
            }
            other => other,
        }
    }

    /// Runs `call` under the fault chosen for it.
    async fn with_fault<T>(
        &self,
        op: Op,
        name: &'static str,
        part: Option<u32>,
        call: impl FnOnce() -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match self.enter(op, part).await {
            Some(Fault::Fail(kind)) => Err(err(kind, name, "injected failure")),
            Some(Fault::LoseAnswer) => {
                call()?;
                Err(StoreError::transport(name, "the answer was lost"))
            }
            Some(Fault::Hold(_)) | None => call(),
        }
    }
}

/// Reads a body as an HTTP client would, telling its meter of each chunk, and
/// returns its SHA-256 and MD5.
fn read_body(body: &FileRange) -> std::io::Result<([u8; 32], [u8; 16])> {
    const CHUNK: u64 = 64 * 1024;
    let mut h = Sha256::new();
    let mut md5 = Md5::new();
    let mut buf = vec![0; CHUNK as usize];
    let mut at = 0;
    while at < body.len {
        let n = (body.len - at).min(CHUNK) as usize;
        body.file.read_exact_at(&mut buf[..n], body.offset + at)?;
        h.update(&buf[..n]);
        md5.update(&buf[..n]);
        if let Some(meter) = &body.meter {
            meter.sent(n as u64);
        }
        at += n as u64;
    }
    Ok((h.finalize().into(), md5.finalize().into()))
}

/// Checks a body against its signed SHA-256, as S3 does; returns its MD5.
fn checked_body(
    op: &'static str,
    body: &FileRange,
    sha256: &[u8; 32],
) -> Result<[u8; 16], StoreError> {
    let (got, md5) = read_body(body).map_err(|e| err(ErrorKind::Fatal, op, &e.to_string()))?;
    if got != *sha256 {
        return Err(err(ErrorKind::Retryable, op, "BadDigest"));
    }
    Ok(md5)
}

impl Store for MemoryStore {
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.with_fault(Op::HeadObject, "HeadObject", None, || {
            Ok(self.object(bucket, key))
        })
        .await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sha256: [u8; 32],
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        self.with_fault(Op::PutObject, "PutObject", None, || {
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
            };
            state.objects.insert(at, info.clone());
            Ok(Finished {
                etag: info.etag,
                checksum_sha256: info.checksum_sha256,
            })
        })
        .await
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        _opts: &ObjectOptions,
    ) -> Result<UploadHandle, StoreError> {
        self.with_fault(Op::CreateUpload, "CreateMultipartUpload", None, || {
            let mut state = self.state.lock().unwrap();
            state.next_id += 1;
            let upload_id = format!("upload-{}", state.next_id);
            state.uploads.insert(
                upload_id.clone(),
                Upload {
                    bucket: bucket.into(),
                    key: key.into(),
                    initiated_unix: crate::journal::now_unix(),
                    parts: BTreeMap::new(),
                },
            );
            Ok(UploadHandle {
                bucket: bucket.into(),
                key: key.into(),
                upload_id,
            })
        })
        .await
    }

    async fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> Result<String, StoreError> {
        let sha256 = sums.sha256;
        self.with_fault(Op::UploadPart, "UploadPart", Some(number), || {
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
        })
        .await
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
        if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        const OP: &str = "CompleteMultipartUpload";
        self.with_fault(Op::CompleteUpload, OP, None, || {
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
                    .filter(|s| s.etag == p.etag && s.sha256 == p.sha256)
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
            };
            state.uploads.remove(&upload.upload_id);
            state.objects.insert(at, info.clone());
            Ok(Finished {
                etag: info.etag,
                checksum_sha256: info.checksum_sha256,
            })
        })
        .await
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        self.with_fault(Op::AbortUpload, "AbortMultipartUpload", None, || {
            let mut state = self.state.lock().unwrap();
            match state.uploads.remove(&upload.upload_id) {
                Some(_) => Ok(()),
                None => Err(err(
                    ErrorKind::NoSuchUpload,
                    "AbortMultipartUpload",
                    "NoSuchUpload",
                )),
            }
        })
        .await
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        self.with_fault(Op::ListParts, "ListParts", None, || {
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
        })
        .await
    }

    async fn completed_object(
        &self,
        upload: &UploadHandle,
    ) -> Result<Option<ObjectInfo>, StoreError> {
        self.with_fault(Op::CompletedObject, "HeadObject", None, || {
            Ok(self.object(&upload.bucket, &upload.key))
        })
        .await
    }
}

impl ListUploads for MemoryStore {
    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedUpload>, StoreError> {
        self.with_fault(Op::ListUploads, "ListMultipartUploads", None, || {
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
        })
        .await
    }
}
