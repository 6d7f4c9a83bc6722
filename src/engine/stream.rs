//! A stream (standard input, a FIFO) as a multipart upload, through the same
//! workers, journal and Complete as a file ([`run_stream`]).
//!
//! A stream cannot be read twice, so each part is read into memory once,
//! hashed as it is read, and sent from that buffer (`Hashed::buffered`).
//! The parts' sizes follow a [`Schedule`] that grows as the stream does
//! (its length is not known), recorded in the journal. Memory is bounded:
//! a part takes its share of the cap (`--max-memory`) before it is read and
//! gives it back once the store has acknowledged it, so as parts grow fewer
//! go at once, whatever the stream's size.
//!
//! What a stream's memory is, besides the process: the parts in flight, and
//! one more read ahead of them (the reader waits for the workers to take a
//! part before it reads the next). One thread reads every part
//! ([`PartReader`]), so every part's buffer comes from the same allocator
//! arena, and a part acknowledged makes room for the next one read: glibc's
//! malloc keeps an arena per thread, and parts read on the blocking pool's
//! threads each went to another, where the memory freed by one part was
//! kept but not reused by the next (measured at 1 GiB with 8 in flight:
//! 120 MiB peak RSS, 70 MiB with `MALLOC_ARENA_MAX=1`).
//!
//! Resuming: the same stream, piped again, is read from its start; a part the
//! journal holds (and the store lists) is hashed and compared with the
//! journal's SHA-256: the same, it is skipped; different, the stream is not
//! the one the upload began with, and the run stops before sending anything
//! more, keeping the upload and the journal ([`StreamError::Differs`]).

use std::fs::File;
use std::io::Read;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use tokio::sync::{mpsc, Semaphore};

use super::complete::complete;
use super::context::Run;
use super::error::Stop;
use super::gone::stopped_by;
use super::hash::Hashed;
use super::run::Completed;
use super::workers::send_parts;
use super::{Error, PartStats, Progress};
use crate::checksum::Algorithm;
use crate::journal::{Journal, JournalWriter, Lock, PartRecord};
use crate::plan::{Part, Plan, Schedule};
use crate::s3::MAX_PARTS;
use crate::store::body::{hash_bytes, PartHasher};
use crate::store::{b64, PartSums, Store, UploadHandle};

/// The memory cap is counted in units of this many bytes (a semaphore's
/// permits are counted in `u32` at a time, and a part may be 5 GiB).
const MEMORY_UNIT: u64 = 1024;

/// Bytes read from the stream at a time, and hashed while they are in the
/// cache.
const READ_CHUNK: u64 = 256 * 1024;

/// Reads up to `len` bytes of `reader` into one buffer, hashing them as they
/// come; fewer only at the end of the stream. Blocks.
pub fn read_part(
    reader: &File,
    len: u64,
    with_md5: bool,
    also: Option<Algorithm>,
) -> std::io::Result<(Bytes, PartSums)> {
    let mut buf = Vec::with_capacity(len as usize);
    let mut sums = PartHasher::new(with_md5, also);
    while (buf.len() as u64) < len {
        let at = buf.len();
        let want = (len - at as u64).min(READ_CHUNK);
        let n = reader.take(want).read_to_end(&mut buf)?;
        if n == 0 {
            break;
        }
        sums.update(&buf[at..]);
    }
    Ok((Bytes::from(buf), sums.finish()))
}

/// The one thread that reads the stream (see the module docs for why one):
/// it reads a part of the length asked for, hashed, and hands it back.
struct PartReader {
    ask: std::sync::mpsc::Sender<(u64, ReadReply)>,
}

type ReadReply = tokio::sync::oneshot::Sender<std::io::Result<(Bytes, PartSums)>>;

impl PartReader {
    /// Starts the thread; it ends when the reader is dropped (after the part
    /// it is reading, if any).
    fn spawn(
        reader: Arc<File>,
        with_md5: bool,
        also: Option<Algorithm>,
    ) -> std::io::Result<PartReader> {
        let (ask, asked) = std::sync::mpsc::channel::<(u64, ReadReply)>();
        std::thread::Builder::new()
            .name("s3up-stdin".into())
            .spawn(move || {
                for (len, reply) in asked {
                    let _ = reply.send(read_part(&reader, len, with_md5, also));
                }
            })?;
        Ok(PartReader { ask })
    }

    /// Reads the next `len` bytes (fewer at the end of the stream).
    async fn read(&self, len: u64) -> std::io::Result<(Bytes, PartSums)> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.ask
            .send((len, reply))
            .map_err(|_| std::io::Error::other("the reading thread is gone"))?;
        answer
            .await
            .map_err(|_| std::io::Error::other("the reading thread is gone"))?
    }
}

/// The stream, and how to cut it.
pub struct Stream {
    /// Standard input, or the FIFO, read in order (never by offset).
    pub reader: Arc<File>,
    pub schedule: Schedule,
    /// The memory cap: bytes of parts read and not yet acknowledged.
    pub memory: u64,
    /// The size `--expected-size` announced, for the display's total.
    pub expected: Option<u64>,
    /// The first part, read before the upload was created (it showed the
    /// stream to be larger than one PutObject).
    pub first: Bytes,
}

/// Why a stream's run stopped reading.
#[derive(Debug)]
pub enum StreamError {
    /// Part `number` could not be read.
    Read(u32, std::io::Error),
    /// Part `number` is not the part the journal holds: another stream.
    Differs(u32),
    /// The stream needs more than 10,000 parts at this schedule.
    TooLong { read: u64 },
}

/// What the reader hands back when it is done.
type ReaderEnd = Result<u64, StreamError>;

/// Sends the stream's parts (skipping those `journal` holds, once they are
/// found equal), completes the upload and removes the journal. `journal`
/// holds only parts the store lists, and is saved; `lock` is held.
pub async fn run_stream<S: Store>(
    mut run: Run<S>,
    journal: Journal,
    lock: Lock,
    stream: Stream,
) -> Result<Completed, Error> {
    let reused = journal.parts.clone();
    let reused_bytes: u64 = reused.iter().map(|p| p.size).sum();
    run.progress.begin(
        stream.expected.unwrap_or(0),
        0,
        stream.expected.map_or(0, |e| stream.schedule.parts_for(e)),
        0,
    );
    let writer = JournalWriter::spawn(run.dir.clone(), journal.clone());
    let (tx, feed) = mpsc::channel(1);
    let reader = tokio::spawn(read_stream(
        run.store.clone(),
        journal.upload(),
        stream,
        reused,
        journal.object.checksum.extra(),
        run.progress.clone(),
        tx,
    ));
    let first_part_at = Arc::new(OnceLock::new());
    let (stopped, _) = send_parts(
        &run,
        &journal,
        &writer,
        &first_part_at,
        Vec::new(),
        Vec::new(),
        Some(feed),
    )
    .await;
    // The workers stop taking parts first when they fail; the reader then
    // finds its channel closed and stops too.
    let end = reader
        .await
        .unwrap_or_else(|e| Err(StreamError::Read(0, std::io::Error::other(e))));
    run.progress.end();
    let saved = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    let id = journal.id.clone();
    if let Some(Stop::Cancelled) = stopped {
        let saved = saved.ok().map(|(j, _)| (j.parts.len() as u64, 0));
        return Err(Error::Interrupted { id, saved });
    }
    let (mut journal, saves) = saved.map_err(|error| Error::JournalSave {
        id: id.clone(),
        dir: run.dir.path().to_path_buf(),
        error,
    })?;
    match stopped {
        None | Some(Stop::Cancelled) | Some(Stop::Journal) => {}
        Some(Stop::Read(number, error)) => {
            return Err(Error::Read {
                id,
                path: journal.source.path.clone(),
                number,
                error,
            })
        }
        Some(Stop::Worker(message)) => return Err(Error::Worker { id, message }),
        Some(Stop::Part(n, e)) => return Err(stopped_by(&run, &journal, Some(n), e).await),
    }
    let size = match end {
        Ok(size) => size,
        Err(StreamError::Read(number, error)) => {
            return Err(Error::Read {
                id,
                path: journal.source.path.clone(),
                number,
                error,
            })
        }
        Err(StreamError::Differs(number)) => return Err(Error::StreamDiffers { id, number }),
        Err(StreamError::TooLong { read }) => return Err(Error::StreamTooLong { id, read }),
    };
    run.progress.parts_finished(&PartStats {
        parts: journal.parts.len(),
        first_part_at: first_part_at.get().copied(),
        saves,
    });
    // Now the stream's length is known, and so is its plan.
    let schedule = journal
        .stream
        .unwrap_or(Schedule::uniform(run.plan.part_size));
    run.plan = Plan::stream(schedule, size);
    journal.source.size = size;
    // A stream is read once, so a part Complete refuses as shadowed cannot be
    // sent again here: the run stops with the store's refusal, journal kept.
    let (journal, finished) = complete(&run, journal, lock).await?.or_stop(&run).await?;
    Ok(Completed {
        journal,
        finished,
        sent: size.saturating_sub(reused_bytes),
        resent: Vec::new(),
    })
}

/// Reads the stream part by part (each taking its share of the memory cap
/// first), checks the parts `reused` records against it, and hands the others
/// on to the workers, hashed. Returns the stream's length.
async fn read_stream<S: Store>(
    store: Arc<S>,
    upload: UploadHandle,
    stream: Stream,
    reused: Vec<PartRecord>,
    also: Option<Algorithm>,
    progress: Arc<dyn Progress>,
    tx: mpsc::Sender<Hashed>,
) -> ReaderEnd {
    let Stream {
        reader,
        schedule,
        memory,
        first,
        ..
    } = stream;
    let with_md5 = store.wants_md5().await;
    let units = |len: u64| len.div_ceil(MEMORY_UNIT).max(1) as u32;
    // Never less than the largest part, which must fit on its own.
    let cap = memory.max(schedule.part_size(MAX_PARTS as u32));
    let budget = Arc::new(Semaphore::new(cap.div_ceil(MEMORY_UNIT) as usize));
    let mut first = Some(first);
    let parts = PartReader::spawn(reader, with_md5, also).map_err(|e| StreamError::Read(2, e))?;
    let mut offset = 0u64;
    for number in 1..=MAX_PARTS as u32 + 1 {
        let len = schedule.part_size(number);
        // Room in the channel first: the part before this one has gone to a
        // worker, so at most one part waits read ahead of the workers.
        let Ok(slot) = tx.reserve().await else {
            // The workers stopped; they say why.
            return Err(StreamError::Read(number, std::io::Error::other("stopped")));
        };
        let Ok(permit) = budget.clone().acquire_many_owned(units(len)).await else {
            return Err(StreamError::Read(number, std::io::Error::other("closed")));
        };
        let (bytes, sums) = match first.take() {
            Some(bytes) => {
                let b = bytes.clone();
                let sums = tokio::task::spawn_blocking(move || hash_bytes(&b, with_md5, also))
                    .await
                    .map_err(|e| StreamError::Read(number, std::io::Error::other(e)))?;
                (bytes, sums)
            }
            None => parts
                .read(len)
                .await
                .map_err(|e| StreamError::Read(number, e))?,
        };
        let got = bytes.len() as u64;
        let record = reused.iter().find(|r| r.number == number);
        if got == 0 && number > 1 {
            // The end of the stream: parts the journal holds beyond it were
            // another, longer stream's.
            if record.is_some() || reused.iter().any(|r| r.number > number) {
                return Err(StreamError::Differs(number));
            }
            return Ok(offset);
        }
        if number as u64 > MAX_PARTS {
            return Err(StreamError::TooLong { read: offset });
        }
        let part = Part {
            number,
            offset,
            len: got,
        };
        offset += got;
        if let Some(record) = record {
            if record.size != got || record.sha256 != b64(&sums.sha256) {
                return Err(StreamError::Differs(number));
            }
            // On the store already, and the same bytes: not sent again.
            progress.part_reused(got);
        } else {
            store.will_send(&upload, number, sums.sha256);
            let hashed = Hashed {
                part,
                sums: tokio::spawn(async move { Ok(sums) }),
                ahead: None,
                buffered: Some((bytes, permit)),
            };
            slot.send(hashed);
        }
        if got < len {
            if reused.iter().any(|r| r.number > number) {
                return Err(StreamError::Differs(number + 1));
            }
            return Ok(offset);
        }
    }
    Err(StreamError::TooLong { read: offset })
}
