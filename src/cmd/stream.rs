//! `s3up put - s3://BUCKET/KEY`: a stream (standard input, `/dev/stdin`, a
//! FIFO, a process substitution) as one object, and resuming its upload with
//! the same stream piped again (`put -` once more, or `resume ID`).
//!
//! The first part is read before anything is created: a stream shorter than
//! one part goes up with one PutObject (through a backend, only an empty
//! one, as for a file). The engine's [`run_stream`] does the rest.

use std::fs::File;
use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::context::{
    connect, connect_via, connection, connection_for, journal_dir, object_options, progress,
    report_single, retry_policy, style,
};
use super::{concurrency, stop_before_complete};
use crate::cli::{GlobalArgs, PutArgs, TokenArgs, Tuning};
use crate::engine::retry::{retry, Retry};
use crate::engine::session::{self, NewUpload};
use crate::engine::stream::{read_part, run_stream, Stream};
use crate::engine::{single, Cancel, Progress, Run};
use crate::error::Result;
use crate::journal::{Journal, JournalDir, Lock, Source};
use crate::output::{self, summary::Record, summary::Summary};
use crate::plan::{Part, Plan, Schedule, DEFAULT_PART_SIZE};
use crate::s3::Location;
use crate::store::body::Origin;
use crate::store::{AnyStore, Store};

/// The path a stream's journal records for standard input.
pub(super) const STDIN: &str = "-";

/// True when `path` is a stream rather than a file: `-`, or anything that
/// is neither a regular file nor a directory (a FIFO, `/dev/stdin` on a
/// pipe, a process substitution's `/dev/fd/N`).
pub(super) fn is_stream(path: &Path) -> bool {
    path.as_os_str() == STDIN || std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir())
}

/// Opens the stream, and the path its journal records.
fn open(path: &Path) -> Result<(Arc<File>, PathBuf)> {
    if path.as_os_str() == STDIN || path == Path::new("/dev/stdin") {
        let fd = std::io::stdin()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| output::stream::unreadable(&e))?;
        return Ok((Arc::new(File::from(fd)), PathBuf::from(STDIN)));
    }
    let file = File::open(path).map_err(|e| output::failure::file_error(path, &e))?;
    let shown = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    Ok((Arc::new(file), shown))
}

/// How a new stream is cut: `--expected-size` picks one part size as for a
/// file; otherwise parts grow from `--part-size` (8 MiB), never above
/// `--max-memory`. `S3UP_STREAM_SCHEDULE=START,EVERY` (for tests: small
/// steps) overrides the start and the parts between doublings.
fn schedule(args: &PutArgs) -> Result<Schedule> {
    if let Some(expected) = args.expected_size {
        let plan = Plan::new(expected, args.part_size.unwrap_or(DEFAULT_PART_SIZE))
            .map_err(|e| output::failure::cannot_plan(Path::new(STDIN), &e))?;
        return Ok(Schedule::uniform(plan.part_size));
    }
    let memory = args.tuning.max_memory;
    let mut start = args.part_size.unwrap_or(DEFAULT_PART_SIZE);
    let mut every = None;
    if let Ok(knob) = std::env::var("S3UP_STREAM_SCHEDULE") {
        let (s, e) = knob.split_once(',').unwrap_or((&knob, ""));
        start = crate::units::parse_size(s).map_err(crate::error::Error::Usage)?;
        every = e.parse::<u32>().ok().filter(|&e| e > 0);
    }
    if memory < start {
        return Err(output::stream::memory_too_small(memory, start));
    }
    let growing = Schedule::growing(start, memory);
    Ok(match every {
        Some(every) => Schedule { every, ..growing },
        None => growing,
    })
}

/// Reads the first part (up to `len` bytes) on the blocking pool.
async fn first_part(reader: &Arc<File>, len: u64) -> Result<Bytes> {
    let reader = reader.clone();
    tokio::task::spawn_blocking(move || read_part(&reader, len, false, None))
        .await
        .map_err(|e| output::stream::unreadable(&std::io::Error::other(e)))?
        .map(|(bytes, _)| bytes)
        .map_err(|e| output::stream::unreadable(&e))
}

/// `put - s3://BUCKET/KEY` (or a FIFO as SRC).
pub(super) async fn put_stream(
    global: &GlobalArgs,
    args: &PutArgs,
    src: &Path,
    dest: Location,
    cancel: Cancel,
    started: Instant,
) -> Result<()> {
    if dest.key.is_empty() || dest.key.ends_with('/') {
        let shown = match &args.via {
            Some(_) => dest.key.clone(),
            None => dest.to_string(),
        };
        return Err(output::stream::needs_key(&shown));
    }
    let schedule = schedule(args)?;
    let (reader, label) = open(src)?;
    let tuning = &args.tuning;
    let opts = object_options(&args.object, Path::new(&dest.key));
    let (store, used) = match &args.via {
        Some(backend) => connect_via(
            backend,
            &args.token,
            tuning.stall_timeout,
            true,
            global.no_verify_ssl,
        )?,
        None => connect(&connection(global), tuning.stall_timeout, &args.token).await?,
    };
    let store = Arc::new(store.limited(tuning.rate_limit()));
    let dir = journal_dir(global)?;
    let progress = progress(tuning, started);
    let policy = retry_policy(&store, &dest.bucket, tuning, &progress);
    if opts.if_none_match {
        session::check_absent(&*store, &dest, &policy)
            .await
            .map_err(output::failure::engine_error)?;
    }
    dir.create()
        .map_err(|e| output::failure::journal_dir_create(dir.path(), &e))?;

    // The same stream piped again after an interruption resumes its upload.
    let earlier: Vec<(PathBuf, Journal)> = dir
        .list_async()
        .await
        .into_iter()
        .filter_map(|(path, j)| j.ok().map(|j| (path, j)))
        .filter(|(_, j)| {
            j.stream.is_some()
                && j.source.path == label
                && j.asked_for(&dest.key)
                && (args.via.is_some() || j.bucket == dest.bucket)
                && j.connection.endpoint_url == used.endpoint_url
                && j.connection.via == used.via
        })
        .collect();
    if args.restart {
        for (path, journal) in &earlier {
            super::context::restart(&store, &dir, path, journal, &dest).await?;
        }
    } else {
        match earlier.as_slice() {
            [] => {}
            [(path, journal)] => {
                if !tuning.quiet && !tuning.json {
                    output::put::resuming_earlier(&journal.id, src);
                }
                let how = Again {
                    store,
                    progress,
                    policy,
                    at_recorded_endpoint: true,
                };
                let record = resume_with(how, tuning, &dir, path, reader, &cancel, started).await?;
                output::summary::json_document(record.into_iter().collect(), false);
                return Ok(());
            }
            several => {
                let ids: Vec<&str> = several.iter().map(|(_, j)| j.id.as_str()).collect();
                return Err(output::put::several_earlier(src, &dest, &ids));
            }
        }
    }

    let first = first_part(&reader, schedule.part_size(1)).await?;
    let len = first.len() as u64;
    if len < schedule.part_size(1) && (args.via.is_none() || len == 0) {
        let whole = Part {
            number: 1,
            offset: 0,
            len,
        };
        let finished = single::put_single(
            &*store,
            &Origin::Memory(first),
            &label,
            whole,
            &dest,
            &opts,
            &policy,
            &progress,
        )
        .await
        .map_err(output::failure::engine_error)?;
        report_single(tuning, &label, &dest, len, &finished, started);
        return Ok(());
    }

    let dest_for_messages = dest.clone();
    let new = NewUpload {
        dest,
        object: opts,
        connection: used,
        source: Source {
            path: label,
            size: 0,
            mtime_ns: 0,
        },
        plan: Plan::stream(schedule, 0),
        session: None,
    };
    let started_upload = session::start(&*store, &dir, new, &policy, &cancel)
        .await
        .map_err(output::failure::engine_error)?;
    if let Some(text) = output::failure::swept(&dest_for_messages, &started_upload.sweep) {
        output::warning(&text);
    }
    let stream = Stream {
        reader,
        schedule,
        memory: tuning.max_memory,
        expected: args.expected_size,
        first,
    };
    let how = Again {
        store,
        progress,
        policy,
        at_recorded_endpoint: true,
    };
    let record = send(
        how,
        tuning,
        &dir,
        started_upload.journal,
        started_upload.lock,
        stream,
        &cancel,
        started,
    )
    .await?;
    output::summary::json_document(record.into_iter().collect(), false);
    Ok(())
}

/// What a stream's run is sent with.
struct Again {
    store: Arc<AnyStore>,
    progress: Arc<dyn Progress>,
    policy: Retry,
    at_recorded_endpoint: bool,
}

/// `resume ID` of a stream's upload: the stream comes on standard input.
pub(super) async fn resume_stream(
    global: &GlobalArgs,
    tuning: &Tuning,
    token: &TokenArgs,
    dir: &JournalDir,
    path: &Path,
    cancel: &Cancel,
    started: Instant,
) -> Result<Option<Record>> {
    let journal = JournalDir::load_path(path)?;
    if std::io::stdin().is_terminal() {
        return Err(output::stream::needs_stream(&journal.id));
    }
    let (reader, _) = open(Path::new(STDIN))?;
    let (store, used) = connect(
        &connection_for(global, &journal),
        tuning.stall_timeout,
        token,
    )
    .await?;
    let store = Arc::new(store.limited(tuning.rate_limit()));
    let recorded = journal.connection.endpoint_url.as_deref();
    let at_recorded_endpoint = used.endpoint_url.as_deref() == recorded;
    let progress = progress(tuning, started);
    let policy = retry_policy(&store, &journal.bucket, tuning, &progress);
    let how = Again {
        store,
        progress,
        policy,
        at_recorded_endpoint,
    };
    resume_with(how, tuning, dir, path, reader, cancel, started).await
}

/// Locks the journal at `path`, keeps the parts the store still lists as
/// the journal recorded them, and sends the stream from `reader` again.
async fn resume_with(
    how: Again,
    tuning: &Tuning,
    dir: &JournalDir,
    path: &Path,
    reader: Arc<File>,
    cancel: &Cancel,
    started: Instant,
) -> Result<Option<Record>> {
    let journal = JournalDir::load_path(path)?;
    let id = journal.id.clone();
    let lock = dir.lock(&id)?;
    let mut journal =
        JournalDir::load_path(path).map_err(|_| output::resume::finished_meanwhile(&id))?;
    let upload = journal.upload();
    let listed = tokio::select! {
        listed = retry(&how.policy, || how.store.list_parts(&upload)) => listed,
        () = cancel.cancelled() => {
            return Err(output::failure::engine_error(crate::engine::Error::Interrupted {
                id,
                saved: None,
            }))
        }
    };
    let listed = listed.map_err(|error| {
        output::failure::engine_error(crate::engine::Error::ListFailed {
            id: id.clone(),
            dest: journal.location(),
            error: Box::new(error),
        })
    })?;
    journal.parts.retain(|r| {
        listed
            .iter()
            .any(|l| l.number == r.number && l.etag == r.etag && l.size == r.size)
    });
    let schedule = journal
        .stream
        .unwrap_or(Schedule::uniform(journal.part_size));
    if !tuning.quiet && !tuning.json {
        output::stream::resuming(&id, journal.parts.len());
    }
    let first = first_part(&reader, schedule.part_size(1)).await?;
    let stream = Stream {
        reader,
        schedule,
        memory: tuning.max_memory,
        expected: None,
        first,
    };
    send(how, tuning, dir, journal, lock, stream, cancel, started).await
}

/// Runs the stream's upload to the end and reports it.
#[allow(clippy::too_many_arguments)]
async fn send(
    how: Again,
    tuning: &Tuning,
    dir: &JournalDir,
    journal: Journal,
    lock: Lock,
    stream: Stream,
    cancel: &Cancel,
    started: Instant,
) -> Result<Option<Record>> {
    let run = Run {
        store: how.store,
        dir: dir.clone(),
        file: stream.reader.clone(),
        plan: Plan::stream(stream.schedule, 0),
        concurrency: concurrency(tuning),
        retry: how.policy,
        progress: how.progress,
        cancel: cancel.clone(),
        stop_before_complete: stop_before_complete(),
        at_recorded_endpoint: how.at_recorded_endpoint,
    };
    let done = run_stream(run, journal, lock, stream)
        .await
        .map_err(output::failure::engine_error)?;
    let dest = done.journal.location();
    Ok(output::summary::report(
        style(tuning),
        &Summary {
            id: Some(&done.journal.id),
            file: &done.journal.source.path,
            dest: &dest,
            size: done.journal.source.size,
            sent: done.sent,
            parts: done.journal.parts.len() as u64,
            upload_id: Some(&done.journal.upload_id),
            finished: &done.finished,
            started,
        },
    ))
}
