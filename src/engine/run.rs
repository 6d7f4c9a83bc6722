//! A multipart run from the first part to the removed journal
//! ([`run_multipart`]): start the journal writer, send the parts
//! ([`super::workers`]), flush the journal, turn why the parts phase stopped
//! into an [`Error`], and otherwise complete the upload ([`super::complete`]).

use std::sync::Arc;

use super::complete::{complete, source_changed, Completion};
use super::context::Run;
use super::error::Stop;
use super::gone::stopped_by;
use super::verify::Candidate;
use super::workers::send_parts;
use super::{Error, PartStats, Status};
use crate::journal::{Journal, JournalWriter, Lock};
use crate::plan::Part;
use crate::store::{Finished, Store};

/// A finished multipart upload.
#[derive(Debug)]
pub struct Completed {
    pub journal: Journal,
    pub finished: Finished,
    /// Bytes of the parts this run sent.
    pub sent: u64,
    /// Parts the store held whose bytes did not match the file, so this run
    /// sent them again.
    pub resent: Vec<u32>,
}

/// Sends `todo` (parts not yet on the store) while verifying `candidates`
/// (parts on the store, done once their bytes match the file; see
/// [`super::verify`]) and sending again those that do not, then completes
/// the upload and removes the journal. `journal` must already be saved and
/// `lock` held; it names neither the todo nor the candidates.
///
/// A Complete refused for a part the store lists ([`Completion::Shadowed`])
/// is answered once by sending every part again, then completing again.
pub async fn run_multipart<S: Store>(
    run: &Run<S>,
    journal: Journal,
    lock: Lock,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
) -> Result<Completed, Error> {
    let done = (journal.bytes_done(), journal.parts.len() as u64);
    let mut sent = send(run, journal, todo, candidates, done).await?;
    let (journal, finished) = match complete(run, sent.journal, lock).await? {
        Completion::Done(journal, finished) => (journal, finished),
        Completion::Shadowed {
            journal,
            lock,
            error,
        } => {
            run.progress.status(&Status::Resending {
                parts: run.plan.part_count,
                error: error.message,
            });
            let again = send(run, journal, run.plan.parts().collect(), Vec::new(), (0, 0)).await?;
            sent.bytes += again.bytes;
            complete(run, again.journal, lock)
                .await?
                .or_stop(run)
                .await?
        }
    };
    Ok(Completed {
        journal,
        finished,
        sent: sent.bytes,
        resent: sent.resent,
    })
}

/// What [`send`] did.
struct Sent {
    /// The journal as saved, every part in it.
    journal: Journal,
    /// Bytes of the parts sent.
    bytes: u64,
    /// The candidates sent again.
    resent: Vec<u32>,
}

/// The parts phase of [`run_multipart`]: starts the journal writer, sends
/// `todo` and the candidates that do not match, flushes the journal, and
/// turns why the phase stopped into an [`Error`]. `done`: the bytes and parts
/// the display starts from.
async fn send<S: Store>(
    run: &Run<S>,
    journal: Journal,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
    done: (u64, u64),
) -> Result<Sent, Error> {
    run.progress
        .begin(run.plan.size, done.0, run.plan.part_count, done.1);
    let writer = JournalWriter::spawn(run.dir.clone(), journal.clone());
    let todo_len = todo.len();
    let todo_bytes: u64 = todo.iter().map(|p| p.len).sum();
    let first_part_at = Arc::new(std::sync::OnceLock::new());
    let (stopped, resent) = send_parts(
        run,
        &journal,
        &writer,
        &first_part_at,
        todo,
        candidates,
        None,
    )
    .await;
    run.progress.end();
    let saved = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    let id = journal.id.clone();
    if let Some(Stop::Cancelled) = stopped {
        // What the journal on disk holds now, which is what a resume keeps.
        let saved = saved
            .ok()
            .map(|(j, _)| (j.parts.len() as u64, run.plan.part_count));
        return Err(Error::Interrupted { id, saved });
    }
    // The last good journal is on disk and the upload is open: resumable.
    let (journal, saves) = saved.map_err(|error| Error::JournalSave {
        id: id.clone(),
        dir: run.dir.path().to_path_buf(),
        error,
    })?;
    // Whatever stopped the run, a changed file is the first thing to say:
    // resuming it would be refused anyway.
    if stopped.is_some() && source_changed(&journal) {
        return Err(Error::ChangedDuringUpload {
            id,
            path: journal.source.path.clone(),
        });
    }
    let stop = match stopped {
        None | Some(Stop::Cancelled) | Some(Stop::Journal) => None,
        Some(Stop::Read(number, error)) => Some(Error::Read {
            id: id.clone(),
            path: journal.source.path.clone(),
            number,
            error,
        }),
        Some(Stop::Worker(message)) => Some(Error::Worker {
            id: id.clone(),
            message,
        }),
        Some(Stop::Part(n, e)) => return Err(stopped_by(run, &journal, Some(n), e).await),
    };
    run.progress.parts_finished(&PartStats {
        parts: todo_len + resent.len(),
        first_part_at: first_part_at.get().copied(),
        saves,
    });
    if let Some(stop) = stop {
        return Err(stop);
    }
    let resent_bytes: u64 = resent
        .iter()
        .filter_map(|&n| run.plan.part(n))
        .map(|p| p.len)
        .sum();
    Ok(Sent {
        journal,
        bytes: todo_bytes + resent_bytes,
        resent,
    })
}
