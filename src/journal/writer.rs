//! The thread that owns the journal while parts are sent: workers hand it
//! finished parts, and it saves them in batches (see the module docs of
//! [`crate::journal`] for how saves are spaced).

use std::io;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use super::{Journal, JournalDir, PartRecord};
use crate::units::now_unix;

/// The writer saves at most this often. A crash loses at most this much of the
/// parts' acknowledgements (resume re-hashes those parts and reuses them, or
/// sends them again where the store gives nothing to check them by), and a
/// 10,000-part upload is not rewritten 10,000 times.
pub(super) const SAVE_INTERVAL: Duration = Duration::from_millis(200);

/// ... and waits at least this many times as long as its last save took, so
/// saving takes at most 0.5% of the time, however large the journal grows.
/// (Measured before this rule: 470 saves of a journal growing to 10,000 parts
/// took 2.5 s of a 96 s upload, 2.6%.)
pub(super) const SAVE_SPACING: u32 = 200;

/// ... but never waits longer than this, even on a very slow disk, so a crash
/// loses at most this much progress.
pub(super) const SAVE_GAP_MAX: Duration = Duration::from_secs(5);

/// The journal writer has stopped after a failed save.
#[derive(Debug)]
pub struct WriterStopped;

/// Reports finished parts to the [`JournalWriter`].
#[derive(Clone)]
pub struct PartSender(mpsc::Sender<PartRecord>);

impl PartSender {
    /// Hands a finished part to the writer. Fails when the writer has stopped
    /// because a save failed; [`JournalWriter::finish`] then says why.
    pub fn record(&self, part: PartRecord) -> Result<(), WriterStopped> {
        self.0.send(part).map_err(|_| WriterStopped)
    }
}

/// The thread that owns the journal while parts are uploaded.
pub struct JournalWriter {
    tx: mpsc::Sender<PartRecord>,
    handle: thread::JoinHandle<io::Result<(Journal, SaveStats)>>,
}

/// What the writer's saves cost, for `S3UP_TIMINGS` and the benchmark.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveStats {
    pub saves: u64,
    pub time: Duration,
}

impl JournalWriter {
    /// Starts the writer. The journal must already be saved once (the UploadId is
    /// durable before any part is sent).
    pub fn spawn(dir: JournalDir, mut journal: Journal) -> JournalWriter {
        let (tx, rx) = mpsc::channel::<PartRecord>();
        let handle = thread::spawn(move || {
            // Block for one part, gather whatever arrives until SAVE_INTERVAL
            // has passed since the last save, save once. When the senders are
            // gone, save what is left and stop.
            let mut last_save: Option<(Instant, Duration)> = None;
            let mut stats = SaveStats::default();
            while let Ok(part) = rx.recv() {
                journal.record(part);
                let deadline = last_save.map_or_else(Instant::now, |(at, took)| {
                    at + SAVE_INTERVAL.max(took * SAVE_SPACING).min(SAVE_GAP_MAX)
                });
                loop {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match rx.recv_timeout(wait) {
                        Ok(part) => journal.record(part),
                        Err(mpsc::RecvTimeoutError::Timeout) => break,
                        Err(mpsc::RecvTimeoutError::Disconnected) => break,
                    }
                }
                journal.updated_unix = now_unix();
                // On failure the thread ends, so the next `record` fails and the
                // engine stops rather than upload parts it cannot remember.
                let started = Instant::now();
                dir.save(&journal)?;
                let took = started.elapsed();
                last_save = Some((Instant::now(), took));
                stats.saves += 1;
                stats.time += took;
            }
            Ok((journal, stats))
        });
        JournalWriter { tx, handle }
    }

    /// A handle a worker uses to report finished parts.
    pub fn sender(&self) -> PartSender {
        PartSender(self.tx.clone())
    }

    /// Waits until every recorded part is saved and returns the final journal.
    pub fn finish(self) -> io::Result<(Journal, SaveStats)> {
        drop(self.tx);
        self.handle
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the journal thread panicked")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::tests::sample;

    #[test]
    fn writer_saves_every_part_it_was_given() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = JournalDir::resolve(Some(tmp.path().to_path_buf())).unwrap();
        let j = sample(vec![]);
        dir.save(&j).unwrap();
        let w = JournalWriter::spawn(dir.clone(), j.clone());
        let tx = w.sender();
        for n in [3, 1, 2, 1] {
            let part = PartRecord {
                number: n,
                size: 1,
                etag: format!("e{n}"),
                sha256: "x".into(),
                checksum: None,
            };
            tx.record(part).unwrap();
        }
        drop(tx);
        let (done, stats) = w.finish().unwrap();
        assert!(stats.saves >= 1);
        let on_disk = JournalDir::load_path(&dir.journal_path(&j.id)).unwrap();
        assert_eq!(done, on_disk);
        let numbers: Vec<_> = on_disk.parts.iter().map(|p| p.number).collect();
        assert_eq!(numbers, vec![1, 2, 3]);
    }
}
