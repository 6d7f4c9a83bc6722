//! The workers: take each hashed part, send it, and hand its ETag to the
//! journal.
//!
//! Parts come from a queue. It holds the parts left to send, and a resume's
//! verifier ([`super::verify`]) adds to it every part on the store whose
//! bytes turn out not to match the file, while the workers are busy; the
//! queue closes once the verifier is done, and only then can Complete follow.
//! The queue is hashed ahead of the workers ([`super::hash`]).
//!
//! At most the concurrency's limit of parts are in flight, one slot of a
//! [`Gate`] each; the limit is fixed or adapts to the link while the run goes
//! ([`super::concurrency`]). In an adaptive run on a long or thin link a part
//! gives its slot back once its body is all handed over, while it awaits the store's answer, so
//! the next part fills that round trip ([`Lease`]). A part that fails closes
//! the gate, so no part starts after it, however the wake-ups race; the parts
//! in flight finish and are journalled. Ctrl-C drops them instead.

use std::fs::File;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use tokio::sync::{mpsc, Semaphore};
use tokio::task::{JoinError, JoinHandle, JoinSet};

use super::context::Run;
use super::controller::{Controller, Gate, Lease, Slot};
use super::error::Stop;
use super::hash::{hash_ahead, Hashed, HASH_JOBS};
use super::meter::send_metered;
use super::retry::Retry;
use super::verify::{verify_all, Candidate, Verifier};
use super::{Cancel, Progress};
use crate::journal::{Journal, JournalWriter, PartRecord, PartSender};
use crate::plan::Part;
use crate::store::body::Origin;
use crate::store::{b64, Store, UploadHandle};

/// Sends the queue's parts (`todo`, then whatever the verifier of
/// `candidates` finds changed), or a stream's (`feed`: parts read and hashed
/// by `super::stream`); returns why it stopped early, if it did, and the
/// candidates that were sent again.
pub(super) async fn send_parts<S: Store>(
    run: &Run<S>,
    journal: &Journal,
    writer: &JournalWriter,
    first_part_at: &Arc<OnceLock<Instant>>,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
    feed: Option<mpsc::Receiver<Hashed>>,
) -> (Option<Stop>, Vec<u32>) {
    // Gate 0: the parts in flight; gate 1: the parts hashed ahead of them.
    let controller = Controller::new(
        run.concurrency,
        run.plan.part_size,
        2,
        run.store.round_trip(),
    );
    let permits = controller.gate(0);
    if feed.is_none() {
        controller.expect(todo.len() as u64);
    }
    let _adapting = controller.spawn();
    // Hashing is CPU-bound: a few at once keep the cores busy, and leave the
    // blocking pool free for the body reads of parts already on the wire
    // (which would otherwise queue behind hashes and look stalled).
    let hashing = Arc::new(Semaphore::new(HASH_JOBS));
    let upload = Arc::new(journal.upload());

    // Unbounded, because it never holds more than the plan's parts; the
    // permits bound what is in flight, and `hash_ahead` what is hashed.
    let (queue_tx, queue) = mpsc::unbounded_channel();
    for part in todo {
        // Cannot fail: the receiver is right here.
        let _ = queue_tx.send(part);
    }
    let verifier = (!candidates.is_empty()).then(|| {
        let v = Verifier {
            file: run.file.clone(),
            hashing: hashing.clone(),
            journal: writer.sender(),
            also: journal.object.checksum.extra(),
            queue: queue_tx.clone(),
            progress: run.progress.clone(),
        };
        spawn_verifier(v, candidates, permits.clone())
    });
    // The queue closes once the verifier is done with it.
    drop(queue_tx);
    let (mut hashed, hasher) = match feed {
        Some(feed) => (feed, None),
        None => {
            let (hashed, hasher) = hash_ahead(
                run.store.clone(),
                upload.clone(),
                run.file.clone(),
                hashing.clone(),
                queue,
                controller.gate(1),
                run.concurrency.ceiling(),
                journal.object.checksum.extra(),
            );
            (hashed, Some(hasher))
        }
    };

    let mut workers = Workers {
        set: JoinSet::new(),
        permits,
        verifier,
        stop: None,
    };
    loop {
        match workers.next(&mut hashed, &run.cancel).await {
            Next::Send(permit, part) => {
                controller.started();
                let worker = Worker {
                    store: run.store.clone(),
                    file: run.file.clone(),
                    upload: upload.clone(),
                    journal: writer.sender(),
                    progress: run.progress.clone(),
                    controller: controller.clone(),
                    retry: run.retry.clone(),
                    first_part_at: first_part_at.clone(),
                };
                workers.spawn(worker, part, permit);
            }
            Next::NoMore => break,
            Next::Cancelled => return workers.cancelled().await,
        }
    }
    // No new parts: stop hashing (and announcing) parts that will not be sent.
    drop(hashed);
    drop(hasher);
    let resent = workers.verifier_done().await;
    // Let the parts in flight finish so they are journalled.
    if workers.finish(&run.cancel).await.is_err() {
        return workers.cancelled().await;
    }
    (workers.stop, resent)
}

/// Runs a resume's verifier beside the workers. A part that cannot be read
/// stops the run like a failed part: it closes the workers' permits.
fn spawn_verifier(
    v: Verifier,
    candidates: Vec<Candidate>,
    permits: Arc<Gate>,
) -> JoinHandle<Result<Vec<u32>, Stop>> {
    tokio::spawn(async move {
        let verdict = verify_all(v, candidates).await;
        if verdict.is_err() {
            permits.close();
        }
        verdict
    })
}

/// What the dispatch loop does next.
enum Next {
    /// Send this part in this slot.
    Send(Slot, Hashed),
    /// No part will start: the queue is done, or the run is stopping.
    NoMore,
    /// Ctrl-C.
    Cancelled,
}

/// The parts in flight, the verifier beside them, and the first reason to
/// stop, once there is one.
struct Workers {
    set: JoinSet<Result<(), Stop>>,
    /// One slot per part in flight; closed by a part (or the verifier) that fails.
    permits: Arc<Gate>,
    verifier: Option<JoinHandle<Result<Vec<u32>, Stop>>>,
    stop: Option<Stop>,
}

impl Workers {
    /// Keeps the first reason to stop among finished workers.
    fn note(&mut self, res: Result<Result<(), Stop>, JoinError>) {
        let err = match res {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e,
            Err(join) => Stop::Worker(join.to_string()),
        };
        self.stop.get_or_insert(err);
    }

    /// A permit first: a failing part closes the semaphore, so no part
    /// starts after a failure, however the wake-ups race. Parts are hashed
    /// ahead meanwhile, up to `concurrency` of them. Then a part; meanwhile,
    /// notice a worker that failed (the queue may stay empty for a while as
    /// the verifier hashes).
    async fn next(&mut self, hashed: &mut mpsc::Receiver<Hashed>, cancel: &Cancel) -> Next {
        let permit = tokio::select! {
            permit = self.permits.acquire() => match permit {
                Ok(p) => p,
                Err(_closed) => return Next::NoMore,
            },
            () = cancel.cancelled() => return Next::Cancelled,
        };
        let next = loop {
            tokio::select! {
                next = hashed.recv() => break next,
                Some(res) = self.set.join_next(), if !self.set.is_empty() => {
                    self.note(res);
                    if self.stop.is_some() {
                        break None;
                    }
                }
                () = cancel.cancelled() => return Next::Cancelled,
            }
        };
        while let Some(res) = self.set.try_join_next() {
            self.note(res);
        }
        // A closed semaphore: a worker or the verifier failed meanwhile.
        match next.filter(|_| self.stop.is_none() && !self.permits.is_closed()) {
            Some(mut part) => {
                // On its way to the wire: no longer ahead.
                part.ahead = None;
                Next::Send(permit, part)
            }
            None => Next::NoMore,
        }
    }

    /// Sends `part` on its own task; a failure closes the permits.
    fn spawn<S: Store>(&mut self, worker: Worker<S>, part: Hashed, permit: Slot) {
        let permits = self.permits.clone();
        let lease = Lease::new(permits.clone(), permit);
        self.set.spawn(async move {
            let result = worker.send(part, &lease).await;
            if result.is_err() {
                permits.close();
            }
            lease.give_back();
            result
        });
    }

    /// Stops the verifier, if it runs, and waits until it has let go of its
    /// journal sender and the queue. Its verdict, if it finished first, counts.
    async fn stop_verifier(&mut self) {
        if let Some(handle) = self.verifier.take() {
            handle.abort();
            match handle.await {
                Ok(Err(e)) => {
                    self.stop.get_or_insert(e);
                }
                Err(join) if !join.is_cancelled() => {
                    self.stop.get_or_insert(Stop::Worker(join.to_string()));
                }
                Ok(Ok(_)) | Err(_) => {}
            }
        }
    }

    /// Once no part starts: the verifier is done if the queue closed, and
    /// its verdict is the candidates sent again; otherwise the run is
    /// stopping, and parts it has not verified stay unjournalled (a later
    /// resume verifies them again).
    async fn verifier_done(&mut self) -> Vec<u32> {
        if self.stop.is_some() || self.permits.is_closed() {
            self.stop_verifier().await;
            return Vec::new();
        }
        let Some(handle) = self.verifier.take() else {
            return Vec::new();
        };
        match handle.await {
            Ok(Ok(numbers)) => return numbers,
            Ok(Err(e)) => {
                self.stop.get_or_insert(e);
            }
            Err(join) => {
                self.stop.get_or_insert(Stop::Worker(join.to_string()));
            }
        }
        Vec::new()
    }

    /// Waits for the parts in flight; `Err` on Ctrl-C.
    async fn finish(&mut self, cancel: &Cancel) -> Result<(), ()> {
        loop {
            tokio::select! {
                res = self.set.join_next() => match res {
                    None => return Ok(()),
                    Some(res) => self.note(res),
                },
                () = cancel.cancelled() => return Err(()),
            }
        }
    }

    /// Ctrl-C: the verifier and the parts in flight are dropped.
    async fn cancelled(mut self) -> (Option<Stop>, Vec<u32>) {
        self.stop_verifier().await;
        self.set.shutdown().await;
        (Some(Stop::Cancelled), Vec::new())
    }
}

/// What one part's task needs.
struct Worker<S> {
    store: Arc<S>,
    file: Arc<File>,
    upload: Arc<UploadHandle>,
    journal: PartSender,
    progress: Arc<dyn Progress>,
    /// Sees each attempt: its bytes, and whether the store was overloaded.
    controller: Arc<Controller>,
    retry: Retry,
    first_part_at: Arc<OnceLock<Instant>>,
}

impl<S: Store> Worker<S> {
    /// Waits for the part's hash, sends the part (retried), journals its
    /// ETag and counts it done.
    async fn send(self, mut next: Hashed, lease: &Arc<Lease>) -> Result<(), Stop> {
        let part = next.part;
        let sums = (&mut next.sums)
            .await
            .map_err(|e| Stop::Worker(e.to_string()))?
            .map_err(|e| Stop::Read(part.number, e))?;
        self.first_part_at.get_or_init(Instant::now);
        // A file's bytes are read a second time as they are sent; if the file
        // changed in between, S3's checksum check rejects the part. A
        // stream's part is sent from its buffer, held until it is acknowledged.
        // (A buffer holds the part alone: its bytes start at 0.)
        let (origin, range) = match &next.buffered {
            Some((bytes, _memory)) => (Origin::Memory(bytes.clone()), Part { offset: 0, ..part }),
            None => (Origin::File(self.file.clone()), part),
        };
        let etag = send_metered(
            &self.retry.part(part.number),
            &self.progress,
            &origin,
            range,
            |body| {
                self.controller.watch(body, lease, |body| {
                    self.store
                        .upload_part(&self.upload, part.number, body, sums)
                })
            },
        )
        .await
        .map_err(|e| Stop::Part(part.number, e))?;
        self.journal
            .record(PartRecord {
                number: part.number,
                size: part.len,
                etag,
                sha256: b64(&sums.sha256),
                checksum: sums.checksum.map(|s| s.b64()),
            })
            .map_err(|_| Stop::Journal)?;
        self.progress.part_done(part.len);
        Ok(())
    }
}
