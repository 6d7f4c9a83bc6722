//! `put SRC… s3://BUCKET/PREFIX/` and `sync`: a tree upload as one session,
//! and `resume`/`abort` of such a session.
//!
//! The order of a run: sources checked, the store reached, the session of
//! the same command found (and locked) or, after the walk, a new one saved;
//! `sync`'s one listing; then the engine's scheduler
//! ([`crate::engine::tree`]) sends what is left, and each file it finishes
//! goes into the session. The session is removed only when every file is
//! up; otherwise it stays, so the same command (or `s3up resume ID`) sends
//! only the rest.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use super::context::{connect, connect_via, journal_dir, object_options, retry_policy};
use crate::cli::{GlobalArgs, PutArgs, TokenArgs, Tuning};
use crate::engine::abort::until_gone;
use crate::engine::tree::{send_tree, Tree, TreeFile};
use crate::engine::unchanged::unchanged;
use crate::engine::Cancel;
use crate::error::{Error, Result, EXIT_INTERRUPTED, EXIT_RESUMABLE};
use crate::journal::session::{new_id, Compare, Session, TreeOptions, SESSION_VERSION};
use crate::journal::{Journal, JournalDir, Lock, SessionWriter, Source};
use crate::output::{failure, tree as words};
use crate::plan::DEFAULT_PART_SIZE;
use crate::s3::Location;
use crate::store::{AnyStore, Connection, ListedObject, ObjectOptions, Store};
use crate::walk::{walk, Filter};

/// What `put` hands over for a tree.
pub(super) struct TreePut<'a> {
    pub args: &'a PutArgs,
    pub sources: Vec<PathBuf>,
    /// The prefix (empty or ending in '/'); with --via, no bucket.
    pub dest: Location,
    pub sync: Option<Compare>,
    pub cancel: Cancel,
    pub started: Instant,
}

/// Single-request files in flight per part permit: small files go up many at
/// a time (a request costs a connection and a read buffer, not a part).
const SMALL_FILES_PER_PART: u32 = 4;

pub(super) async fn put_tree(global: &GlobalArgs, t: TreePut<'_>) -> Result<()> {
    let args = t.args;
    let mut sources = Vec::new();
    for s in &t.sources {
        sources.push(std::fs::canonicalize(s).map_err(|e| failure::file_error(s, &e))?);
    }
    let (extras, request) = super::object::extras(args)?;
    let options = TreeOptions {
        part_size: args.part_size,
        include: args.tree.include.clone(),
        exclude: args.tree.exclude.clone(),
        follow_symlinks: args.tree.follow_symlinks,
        sync: t.sync,
        object: ObjectOptions {
            content_type: args.object.content_type.clone(),
            storage_class: args.object.storage_class.clone(),
            metadata: args.object.metadata.clone(),
            if_none_match: args.object.if_none_match,
            extras,
            checksum: super::context::checksum_choice(&args.object.checksum)?,
        },
    };
    let (store, used) = match &args.via {
        Some(backend) => connect_via(
            backend,
            &args.token,
            args.tuning.stall_timeout,
            true,
            global.no_verify_ssl,
        )?,
        None => {
            let conn = super::context::connection(global);
            connect(&conn, args.tuning.stall_timeout, &args.token).await?
        }
    };
    let store = store.with_request_options(&request);
    crate::engine::checksum::check_supported(&store, &t.dest, &options.object.checksum)
        .await
        .map_err(failure::engine_error)?;
    let dir = journal_dir(global)?;
    dir.create()
        .map_err(|e| failure::journal_dir_create(dir.path(), &e))?;
    let mut existing = find_session(&dir, &sources, &t.dest, &used).await;
    if let (Some(s), true) = (&existing, args.restart) {
        let lock = dir.lock(&s.id)?;
        abort_session(&store, &dir, s).await?;
        drop(lock);
        words::restarted(&s.id);
        existing = None;
    }
    let job = Job {
        tuning: &args.tuning,
        verify: true,
        sources,
        dest: t.dest,
        options,
        existing,
        cancel: t.cancel,
        started: t.started,
    };
    run_tree(store, used, dir, job).await
}

/// `resume ID` of a tree session: the same run as the `put` that started it.
pub(super) async fn resume_session(
    global: &GlobalArgs,
    session: Session,
    token: &TokenArgs,
    tuning: &Tuning,
    verify: bool,
    sse_c_key: Option<&std::path::Path>,
    cancel: &Cancel,
) -> Result<()> {
    let (store, used) = connect_session(global, &session, token, tuning.stall_timeout).await?;
    let extras = &session.options.object.extras;
    let store = super::object::for_resume(store, &session.id, extras, sse_c_key)?;
    let dir = journal_dir(global)?;
    let job = Job {
        tuning,
        verify,
        sources: session.sources.clone(),
        dest: session.location(),
        options: session.options.clone(),
        existing: Some(session),
        cancel: cancel.clone(),
        started: Instant::now(),
    };
    run_tree(store, used, dir, job).await
}

/// `abort ID` of a tree session.
pub(super) async fn abort_session_id(
    global: &GlobalArgs,
    dir: &JournalDir,
    session: &Session,
    token: &TokenArgs,
) -> Result<()> {
    let lock = dir.lock(&session.id)?;
    let stall = super::context::LIST_STALL_TIMEOUT;
    let (store, _) = connect_session(global, session, token, stall).await?;
    let open = abort_session(&store, dir, session).await?;
    drop(lock);
    words::aborted(session, open);
    Ok(())
}

async fn connect_session(
    global: &GlobalArgs,
    session: &Session,
    token: &TokenArgs,
    stall: std::time::Duration,
) -> Result<(AnyStore, Connection)> {
    let saved = &session.connection;
    if let Some(via) = &saved.via {
        let insecure = super::context::tls_for(global, saved).no_verify_ssl;
        return connect_via(via, token, stall, true, insecure);
    }
    let conn = Connection {
        endpoint_url: global
            .endpoint_url
            .clone()
            .or_else(|| saved.endpoint_url.clone()),
        region: global.region.clone().or_else(|| saved.region.clone()),
        profile: global.profile.clone().or_else(|| saved.profile.clone()),
        path_style: global.path_style || saved.path_style,
        via: None,
        ..super::context::tls_for(global, saved)
    };
    connect(&conn, stall, token).await
}

/// The session of the same sources to the same place, if one is pending.
async fn find_session(
    dir: &JournalDir,
    sources: &[PathBuf],
    dest: &Location,
    used: &Connection,
) -> Option<Session> {
    dir.list_sessions_async()
        .await
        .into_iter()
        .filter_map(|(_, s)| s.ok())
        .find(|s| {
            s.sources == sources
                && s.bucket == dest.bucket
                && s.prefix == dest.key
                && s.connection.endpoint_url == used.endpoint_url
                && s.connection.via == used.via
        })
}

/// Aborts every upload the session holds and removes its journals, then
/// the session itself (the caller holds its lock). Returns how many
/// uploads were open.
async fn abort_session(store: &AnyStore, dir: &JournalDir, s: &Session) -> Result<usize> {
    let mut open = 0;
    for (path, j) in session_journals(dir, &s.id).await {
        let lock = dir.lock(&j.id)?;
        until_gone(store, &j.upload())
            .await
            .map_err(|e| failure::store_failure(&e, &j.location()))?;
        dir.remove_async(&j.id)
            .await
            .map_err(|e| failure::cannot_remove_journal(&path, &e))?;
        drop(lock);
        open += 1;
    }
    dir.remove_session(&s.id)
        .map_err(|e| failure::cannot_remove_journal(&dir.session_path(&s.id), &e))?;
    Ok(open)
}

/// The per-file journals of session `id`.
pub(super) async fn session_journals(dir: &JournalDir, id: &str) -> Vec<(PathBuf, Journal)> {
    dir.list_async()
        .await
        .into_iter()
        .filter_map(|(p, j)| j.ok().map(|j| (p, j)))
        .filter(|(_, j)| j.session.as_deref() == Some(id))
        .collect()
}

/// One tree run, new or continued.
struct Job<'a> {
    tuning: &'a Tuning,
    verify: bool,
    sources: Vec<PathBuf>,
    dest: Location,
    options: TreeOptions,
    existing: Option<Session>,
    cancel: Cancel,
    started: Instant,
}

/// What became of one file, for the summary and `--json`.
enum Fate {
    Sent(Box<crate::engine::tree::FileSent>),
    Unchanged,
    Earlier,
    Failed(Error),
    NotStarted,
}

async fn run_tree(store: AnyStore, used: Connection, dir: JournalDir, job: Job<'_>) -> Result<()> {
    let tuning = job.tuning;
    let quiet = tuning.quiet || tuning.json;
    let single_put = used.via.is_none();
    let store = Arc::new(store.limited(tuning.rate_limit()));
    // The session's lock first: a second run of the same tree stops here.
    let mut lock: Option<Lock> = match &job.existing {
        Some(s) => Some(dir.lock(&s.id)?),
        None => None,
    };
    if let (Some(s), false) = (&job.existing, quiet) {
        words::continuing(s);
    }
    let filter = Filter::new(&job.options.include, &job.options.exclude).map_err(Error::Usage)?;
    let (sources, follow) = (job.sources.clone(), job.options.follow_symlinks);
    let walked = tokio::task::spawn_blocking(move || walk(&sources, &filter, follow))
        .await
        .map_err(|e| Error::failed(format!("the walk of the sources failed: {e}")))?;
    let mut refused = Vec::new();
    for s in &walked.skipped {
        match words::refused(s) {
            Some(text) => refused.push(text),
            None if !tuning.quiet => words::skipped(s),
            None => {}
        }
    }
    // Two sources that give one key would overwrite each other.
    let mut seen: HashMap<&str, &PathBuf> = HashMap::new();
    for f in &walked.files {
        if let Some(first) = seen.insert(&f.rel, &f.path) {
            return Err(words::same_key(
                &format!("{}{}", job.dest.key, f.rel),
                first,
                &f.path,
            ));
        }
    }
    let part_size = job.options.part_size.unwrap_or(DEFAULT_PART_SIZE);
    let listed = match job.options.sync {
        Some(_) => list_prefix(&store, &job.dest).await?,
        None => HashMap::new(),
    };
    let policy_progress = super::context::progress(tuning, job.started);
    let policy = retry_policy(&store, &job.dest.bucket, tuning, &policy_progress);

    let now = crate::units::now_unix();
    let mut session = job.existing.clone().unwrap_or_else(|| Session {
        version: SESSION_VERSION,
        id: new_id(&job.sources, &job.dest),
        sources: job.sources.clone(),
        bucket: job.dest.bucket.clone(),
        prefix: job.dest.key.clone(),
        connection: used.clone(),
        options: job.options.clone(),
        created_unix: now,
        updated_unix: now,
        files_total: 0,
        bytes_total: 0,
        done: Default::default(),
    });
    session.options = job.options.clone();
    session.files_total = walked.files.len() as u64;
    session.bytes_total = walked.files.iter().map(|f| f.size).sum();
    if lock.is_none() {
        lock = Some(dir.lock(&session.id)?);
    }
    dir.save_session(&session)
        .map_err(|e| failure::journal_dir_create(dir.path(), &e))?;

    // The session's unfinished uploads, by file; one whose file is no longer
    // sent (deleted, excluded now) is aborted.
    let mut journals: HashMap<PathBuf, Journal> = HashMap::new();
    let wanted: HashSet<&PathBuf> = walked.files.iter().map(|f| &f.path).collect();
    for (_, j) in session_journals(&dir, &session.id).await {
        if wanted.contains(&j.source.path) {
            journals.insert(j.source.path.clone(), j);
        } else if let Ok(l) = dir.lock(&j.id) {
            let _ = until_gone(&*store, &j.upload()).await;
            let _ = dir.remove_async(&j.id).await;
            drop(l);
        }
    }

    let mut fates: Vec<Option<Fate>> = Vec::with_capacity(walked.files.len());
    let mut files = Vec::new();
    let mut index_of = Vec::new();
    let (mut earlier, mut earlier_bytes) = (0u64, 0u64);
    for (i, f) in walked.files.iter().enumerate() {
        let done = session.done.get(&f.rel);
        if done.is_some_and(|d| d.size == f.size && d.mtime_ns == f.mtime_ns) {
            fates.push(Some(Fate::Earlier));
            earlier += 1;
            earlier_bytes += f.size;
            continue;
        }
        let key = format!("{}{}", job.dest.key, f.rel);
        if let (Some(compare), Some(object)) = (job.options.sync, listed.get(&key)) {
            let (path, size, mtime, object) = (f.path.clone(), f.size, f.mtime_ns, object.clone());
            let same = tokio::task::spawn_blocking(move || {
                unchanged(&path, size, mtime, &object, compare, part_size)
            })
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
            if same.unwrap_or(false) {
                fates.push(Some(Fate::Unchanged));
                continue;
            }
        }
        fates.push(None);
        let mut object = object_options_for(&job.options.object, &f.path);
        object.if_none_match = job.options.object.if_none_match;
        files.push(TreeFile {
            rel: f.rel.clone(),
            source: Source {
                path: f.path.clone(),
                size: f.size,
                mtime_ns: f.mtime_ns,
            },
            dest: Location {
                bucket: job.dest.bucket.clone(),
                key,
            },
            object,
            journal: journals.remove(&f.path),
        });
        index_of.push(i);
    }
    // Unfinished large files first: their parts are already half there.
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| files[i].journal.is_none());
    let files: Vec<TreeFile> = order.iter().map(|&i| files[i].clone()).collect();
    let index_of: Vec<usize> = order.iter().map(|&i| index_of[i]).collect();

    let writer = SessionWriter::spawn(dir.clone(), session.clone());
    let tree_concurrency = tuning
        .concurrency
        .unwrap_or(crate::engine::concurrency::START);
    let tree = Tree {
        store: store.clone(),
        dir: dir.clone(),
        retry: policy,
        progress: policy_progress,
        cancel: job.cancel.clone(),
        // A tree's files share one fixed pool of parts in flight: the
        // adaptive controller sizes one file's run, not a pool split among
        // files (left for later), so without --concurrency a tree uses the
        // controller's starting point.
        concurrency: tree_concurrency,
        small_files: tree_concurrency * SMALL_FILES_PER_PART,
        part_size,
        connection: used.clone(),
        session: session.id.clone(),
        single_put,
        verify: job.verify,
    };
    let outcome = send_tree(tree, files, (earlier, earlier_bytes), writer.sender()).await;
    let session = tokio::task::spawn_blocking(move || writer.finish())
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)))
        .map_err(|e| failure::journal_dir_create(dir.path(), &e))?;
    for (i, result) in outcome.results {
        let Some(&at) = index_of.get(i) else { continue };
        fates[at] = Some(match result {
            Ok(sent) => Fate::Sent(Box::new(sent)),
            Err(e) => Fate::Failed(failure::engine_error(e)),
        });
    }
    let fates: Vec<Fate> = fates
        .into_iter()
        .map(|f| f.unwrap_or(Fate::NotStarted))
        .collect();
    finish(&dir, &job, &session, &walked.files, fates, refused, lock)
}

/// The object options of one file: its content type guessed from its name
/// unless one was given.
fn object_options_for(given: &ObjectOptions, path: &std::path::Path) -> ObjectOptions {
    let args = crate::cli::ObjectArgs {
        content_type: given.content_type.clone(),
        storage_class: given.storage_class.clone(),
        metadata: given.metadata.clone(),
        if_none_match: given.if_none_match,
        extra: Default::default(),
        checksum: Default::default(),
    };
    ObjectOptions {
        extras: given.extras.clone(),
        checksum: given.checksum,
        ..object_options(&args, path)
    }
}

/// `sync`'s one listing of the prefix, by key.
async fn list_prefix(store: &AnyStore, dest: &Location) -> Result<HashMap<String, ListedObject>> {
    let policy = crate::engine::retry::Retry::fail_fast(4);
    let listed =
        crate::engine::retry::retry(&policy, || store.list_objects(&dest.bucket, &dest.key))
            .await
            .map_err(|e| words::cannot_list(dest, &e))?;
    Ok(listed.into_iter().map(|o| (o.key.clone(), o)).collect())
}

/// Reports the run and ends the session when every file is up.
fn finish(
    dir: &JournalDir,
    job: &Job<'_>,
    session: &Session,
    entries: &[crate::walk::Entry],
    fates: Vec<Fate>,
    refused: Vec<String>,
    lock: Option<Lock>,
) -> Result<()> {
    let tuning = job.tuning;
    let interrupted = job.cancel.is_raised();
    let mut failed = refused.len();
    let mut resumable = false;
    let (mut sent_files, mut sent_bytes, mut skipped, mut earlier) = (0, 0, 0, 0);
    let mut records = Vec::new();
    for text in &refused {
        words::walk_failed(text);
    }
    for (entry, fate) in entries.iter().zip(&fates) {
        let key = format!("{}{}", job.dest.key, entry.rel);
        let mut record = words::FileRecord {
            file: entry.path.to_string_lossy().into_owned(),
            key,
            size: entry.size,
            status: "sent",
            etag: None,
            sent_bytes: None,
            error: None,
        };
        match fate {
            Fate::Sent(s) => {
                sent_files += 1;
                sent_bytes += s.sent;
                record.key = s.dest.key.clone();
                record.etag = s.finished.etag.clone();
                record.sent_bytes = Some(s.sent);
            }
            Fate::Unchanged => {
                skipped += 1;
                record.status = "skipped";
            }
            Fate::Earlier => {
                earlier += 1;
                record.status = "done-earlier";
            }
            Fate::Failed(e) if e.exit_code() == EXIT_INTERRUPTED => {
                record.status = "not-started";
                record.error = Some("interrupted".to_string());
            }
            Fate::Failed(e) => {
                failed += 1;
                resumable |= e.exit_code() == EXIT_RESUMABLE;
                words::file_failed(&entry.path, e);
                record.status = "failed";
                record.error = Some(words::reason(e));
            }
            Fate::NotStarted => record.status = "not-started",
        }
        records.push(record);
    }
    if tuning.json {
        words::json(&words::TreeDocument {
            session: session.id.clone(),
            destination: session.location().to_string(),
            files_total: entries.len(),
            files_sent: sent_files,
            files_skipped: skipped,
            files_failed: failed,
            bytes_sent: sent_bytes,
            seconds: (job.started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
            files: records,
        });
    }
    let total = entries.len() + refused.len();
    if interrupted {
        return Err(words::interrupted(&session.id, session.done.len(), total));
    }
    if failed > 0 {
        return Err(words::some_failed(&session.id, failed, total, resumable));
    }
    // Every file is up: the session is done.
    dir.remove_session(&session.id)
        .map_err(|e| failure::cannot_remove_journal(&dir.session_path(&session.id), &e))?;
    drop(lock);
    if !tuning.quiet && !tuning.json {
        words::summary(&words::TreeSummary {
            dest: &job.dest,
            sent_files,
            sent_bytes,
            skipped,
            earlier,
            started: job.started,
            sync: job.options.sync.is_some(),
        });
    }
    Ok(())
}
