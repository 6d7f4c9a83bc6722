//! A store wrapper for tests that injects faults at chosen calls: any
//! [`Store`] inside, the same calls outside.
//!
//! [`Faulty`] counts every call by kind ([`Op`]), and by part for UploadPart.
//! It can fail the Nth call of a kind (optionally of one part) with a given
//! [`ErrorKind`] without passing it on, lose the answer of a call (the call
//! reaches the store inside and takes effect; the caller sees a retryable
//! error), and hold a call until the test releases it ([`Gate`]). The engine
//! tests wrap the in-memory store ([`super::memory`]) in it, so every failure
//! point of the engine can be reached in milliseconds, deterministically.
//!
//! The shape follows mountpoint-s3's failure client: the fault policy wraps a
//! plain store instead of living in it.

use std::collections::HashMap;
use std::future::Future;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Semaphore;

use super::{
    CompletedPart, ErrorKind, FileRange, Finished, ListedPart, ListedUpload, ObjectInfo,
    ObjectOptions, PartSums, Store, StoreError, UploadHandle,
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

impl Op {
    /// The S3 operation an injected error names, as a real store's would.
    fn name(self) -> &'static str {
        match self {
            Op::HeadObject | Op::CompletedObject => "HeadObject",
            Op::PutObject => "PutObject",
            Op::CreateUpload => "CreateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::CompleteUpload => "CompleteMultipartUpload",
            Op::AbortUpload => "AbortMultipartUpload",
            Op::ListParts => "ListParts",
            Op::ListUploads => "ListMultipartUploads",
        }
    }
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

    /// Holds the calling call until the test releases it.
    async fn hold(&self) {
        self.arrived.add_permits(1);
        self.release
            .acquire()
            .await
            .expect("the gate is never closed")
            .forget();
    }
}

#[derive(Clone)]
enum Fault {
    Fail(ErrorKind),
    LoseAnswer,
    Hold(Arc<Gate>),
    /// While the flag is up, the call gets no answer (connection refused).
    Down(Arc<AtomicBool>),
}

impl Fault {
    fn applies(&self) -> bool {
        match self {
            Fault::Down(down) => down.load(Ordering::SeqCst),
            _ => true,
        }
    }
}

struct Rule {
    op: Op,
    part: Option<u32>,
    /// The calls it applies to, counted from 1 among calls of `op` (and `part`).
    calls: RangeInclusive<u32>,
    fault: Fault,
}

#[derive(Default)]
struct Counts {
    /// Calls by kind (`None`), and UploadPart calls by part too.
    by: HashMap<(Op, Option<u32>), u32>,
    /// UploadPart calls, in the order they arrived.
    part_calls: Vec<u32>,
}

/// `S` with faults injected where the test asks. Share it with `Arc`; the
/// engine takes an `Arc<S>`.
pub struct Faulty<S> {
    inner: S,
    rules: Mutex<Vec<Rule>>,
    counts: Mutex<Counts>,
}

impl<S: Store> Faulty<S> {
    /// `inner`, with no fault yet.
    pub fn new(inner: S) -> Faulty<S> {
        Faulty {
            inner,
            rules: Mutex::default(),
            counts: Mutex::default(),
        }
    }

    /// The store inside, to look at what the calls did to it.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn rule(&self, op: Op, part: Option<u32>, calls: RangeInclusive<u32>, fault: Fault) {
        self.rules.lock().unwrap().push(Rule {
            op,
            part,
            calls,
            fault,
        });
    }

    /// Fails calls `calls` (counted from 1) of `op` with `kind`.
    pub fn fail(&self, op: Op, calls: RangeInclusive<u32>, kind: ErrorKind) {
        self.rule(op, None, calls, Fault::Fail(kind));
    }

    /// Fails attempts `calls` at part `number` with `kind`.
    pub fn fail_part(&self, number: u32, calls: RangeInclusive<u32>, kind: ErrorKind) {
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

    /// Every call of `op` gets no answer while `down` is up, as through a
    /// link that went down.
    pub fn down_while(&self, op: Op, down: &Arc<AtomicBool>) {
        self.rule(op, None, 1..=u32::MAX, Fault::Down(down.clone()));
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
        let counts = self.counts.lock().unwrap();
        counts.by.get(&(op, None)).copied().unwrap_or(0)
    }

    /// The part numbers of every UploadPart call, in order of arrival.
    pub fn part_calls(&self) -> Vec<u32> {
        self.counts.lock().unwrap().part_calls.clone()
    }

    /// Counts the call and finds the fault chosen for it, if any.
    fn enter(&self, op: Op, part: Option<u32>) -> Option<Fault> {
        let (nth, nth_of_part) = {
            let mut counts = self.counts.lock().unwrap();
            let mut count = |k| {
                let c = counts.by.entry(k).or_insert(0);
                *c += 1;
                *c
            };
            let nth = count((op, None));
            let nth_of_part = part.map(|n| count((op, Some(n))));
            if let Some(n) = part {
                counts.part_calls.push(n);
            }
            (nth, nth_of_part)
        };
        self.rules.lock().unwrap().iter().find_map(|r| {
            let n = match r.part {
                None => nth,
                Some(p) if Some(p) == part => nth_of_part.unwrap_or(0),
                Some(_) => return None,
            };
            (r.op == op && r.calls.contains(&n) && r.fault.applies()).then(|| r.fault.clone())
        })
    }

    /// Runs `call` (a call to the store inside, not started yet) under the
    /// fault chosen for it: a failure never starts it, a hold waits first, a
    /// lost answer runs it and then fails.
    async fn with_fault<T>(
        &self,
        op: Op,
        part: Option<u32>,
        call: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        match self.enter(op, part) {
            Some(Fault::Fail(kind)) => Err(StoreError::new(kind, op.name(), "injected failure")),
            Some(Fault::Down(_)) => Err(StoreError {
                unsent: true,
                ..StoreError::transport(op.name(), "connection refused (injected)")
            }),
            Some(Fault::LoseAnswer) => {
                call.await?;
                Err(StoreError::transport(op.name(), "the answer was lost"))
            }
            Some(Fault::Hold(gate)) => {
                gate.hold().await;
                call.await
            }
            None => call.await,
        }
    }
}

impl<S: Store> Store for Faulty<S> {
    async fn head_object(&self, bucket: &str, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let call = self.inner.head_object(bucket, key);
        self.with_fault(Op::HeadObject, None, call).await
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: FileRange,
        sums: PartSums,
        opts: &ObjectOptions,
    ) -> Result<Finished, StoreError> {
        let call = self.inner.put_object(bucket, key, body, sums, opts);
        self.with_fault(Op::PutObject, None, call).await
    }

    async fn create_upload(
        &self,
        bucket: &str,
        key: &str,
        opts: &ObjectOptions,
    ) -> Result<UploadHandle, StoreError> {
        let call = self.inner.create_upload(bucket, key, opts);
        self.with_fault(Op::CreateUpload, None, call).await
    }

    async fn upload_part(
        &self,
        upload: &UploadHandle,
        number: u32,
        body: FileRange,
        sums: PartSums,
    ) -> Result<String, StoreError> {
        let call = self.inner.upload_part(upload, number, body, sums);
        self.with_fault(Op::UploadPart, Some(number), call).await
    }

    async fn wants_md5(&self) -> bool {
        self.inner.wants_md5().await
    }

    fn will_send(&self, upload: &UploadHandle, number: u32, sha256: [u8; 32]) {
        self.inner.will_send(upload, number, sha256);
    }

    fn signs_ahead(&self) -> bool {
        self.inner.signs_ahead()
    }

    async fn complete_upload(
        &self,
        upload: &UploadHandle,
        parts: &[CompletedPart],
        whole: Option<&crate::checksum::Tagged>,
        if_none_match: bool,
    ) -> Result<Finished, StoreError> {
        let call = self
            .inner
            .complete_upload(upload, parts, whole, if_none_match);
        self.with_fault(Op::CompleteUpload, None, call).await
    }

    async fn abort_upload(&self, upload: &UploadHandle) -> Result<(), StoreError> {
        let call = self.inner.abort_upload(upload);
        self.with_fault(Op::AbortUpload, None, call).await
    }

    async fn list_parts(&self, upload: &UploadHandle) -> Result<Vec<ListedPart>, StoreError> {
        let call = self.inner.list_parts(upload);
        self.with_fault(Op::ListParts, None, call).await
    }

    async fn completed_object(
        &self,
        upload: &UploadHandle,
    ) -> Result<Option<ObjectInfo>, StoreError> {
        let call = self.inner.completed_object(upload);
        self.with_fault(Op::CompletedObject, None, call).await
    }

    async fn list_uploads(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<ListedUpload>, StoreError> {
        let call = self.inner.list_uploads(bucket, prefix);
        self.with_fault(Op::ListUploads, None, call).await
    }

    async fn list_objects(
        &self,
        bucket: &str,
        prefix: &str,
    ) -> Result<Vec<super::ListedObject>, StoreError> {
        self.inner.list_objects(bucket, prefix).await
    }
}
