//! One function per subcommand, and what each prints.
//!
//! Checks that need the file system or S3 (a missing file, a directory, an
//! existing key with --if-none-match) happen here, before anything is created on
//! S3, so a bad input leaves nothing behind.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::CommandFactory;

use crate::cli::{
    AbortArgs, Cli, Command, GlobalArgs, ListPendingArgs, ObjectArgs, PutArgs, ResumeArgs, S3Url,
    Tuning,
};
use crate::error::{Error, Result};
use crate::journal::{self, Journal, JournalDir, Source, JOURNAL_VERSION};
use crate::plan::{Plan, DEFAULT_PART_SIZE};
use crate::progress::Progress;
use crate::s3::{Connection, ErrorKind, Finished, ObjectOptions, S3Error, SdkStore, Store};
use crate::upload::{self, Cancel, Run};

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Put(args) => put(&cli.global, args).await,
        Command::Resume(args) => resume(&cli.global, args).await,
        Command::ListPending(args) => list_pending(&cli.global, args).await,
        Command::Abort(args) => abort(&cli.global, args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "s3up", &mut io::stdout());
            Ok(())
        }
    }
}

/// What the user reads about an I/O error on `path`, with what to do.
fn file_error(path: &Path, e: &io::Error) -> Error {
    let p = path.display();
    Error::failed(match e.kind() {
        io::ErrorKind::NotFound => format!("'{p}' does not exist. Check the path"),
        io::ErrorKind::PermissionDenied => {
            format!("cannot read '{p}': permission denied. Check the file's permissions")
        }
        io::ErrorKind::IsADirectory => {
            format!("'{p}' is a directory; s3up uploads one file. Name a file inside it")
        }
        _ => format!("cannot read '{p}': {e}"),
    })
}

/// Opens the source: a readable regular file, with its absolute path and metadata.
fn open_source(path: &Path) -> Result<(Arc<File>, Source)> {
    let meta = std::fs::metadata(path).map_err(|e| file_error(path, &e))?;
    if meta.is_dir() {
        return Err(file_error(
            path,
            &io::Error::from(io::ErrorKind::IsADirectory),
        ));
    }
    if !meta.is_file() {
        return Err(Error::failed(format!(
            "'{}' is not a regular file (a device, pipe or socket has no fixed size to split \
             into parts). Copy it to a file first",
            path.display()
        )));
    }
    let file = File::open(path).map_err(|e| file_error(path, &e))?;
    let abs = std::fs::canonicalize(path).map_err(|e| file_error(path, &e))?;
    let meta = file.metadata().map_err(|e| file_error(path, &e))?;
    Ok((Arc::new(file), Source::of(&abs, &meta)))
}

/// The message for an S3 failure that happened before anything needs resuming.
fn s3_failure(e: &S3Error, dest: &S3Url) -> Error {
    Error::failed(match e.kind {
        ErrorKind::NoSuchBucket => format!(
            "bucket '{}' does not exist ({e}). Check the name in '{dest}', or create the bucket",
            dest.bucket
        ),
        ErrorKind::AccessDenied => format!(
            "access to '{dest}' was denied ({e}). Check the credentials (AWS_ACCESS_KEY_ID, \
             --profile) and the bucket policy"
        ),
        ErrorKind::PreconditionFailed => format!(
            "'{dest}' already exists and --if-none-match was given. Choose another key, or drop \
             --if-none-match to overwrite"
        ),
        ErrorKind::Retryable => format!("{e}. Check the network and the endpoint, then try again"),
        _ => format!("{e}"),
    })
}

fn connection(global: &GlobalArgs) -> Connection {
    Connection {
        endpoint_url: global.endpoint_url.clone(),
        region: global.region.clone(),
        profile: global.profile.clone(),
        path_style: global.path_style,
    }
}

async fn connect(conn: &Connection, tuning: &Tuning) -> Result<SdkStore> {
    SdkStore::connect(conn, tuning.stall_timeout)
        .await
        .map_err(Error::Failed)
}

fn object_options(args: &ObjectArgs, file: &Path) -> ObjectOptions {
    let guessed = || mime_guess::from_path(file).first_raw().map(str::to_string);
    ObjectOptions {
        content_type: args.content_type.clone().or_else(guessed),
        storage_class: args.storage_class.clone(),
        metadata: args.metadata.clone(),
        if_none_match: args.if_none_match,
    }
}

/// A flag raised by the first Ctrl-C; a second Ctrl-C exits at once (the
/// journal is consistent at every moment, so nothing is lost by not waiting).
fn on_ctrl_c() -> Cancel {
    let (raise, cancel) = Cancel::new();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return; // no handler could be installed: never cancel
        }
        eprintln!("s3up: stopping after Ctrl-C (press it again to quit at once)");
        let _ = raise.send(true);
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(crate::error::EXIT_INTERRUPTED);
    });
    cancel
}

async fn put(global: &GlobalArgs, args: PutArgs) -> Result<()> {
    let started = Instant::now();
    let (file, source) = open_source(&args.file)?;
    let mut dest = args.dest.clone();
    if dest.key.is_empty() || dest.key.ends_with('/') {
        let name = args.file.file_name().ok_or_else(|| {
            Error::failed(format!(
                "'{}' has no file name to use as the key. Give the key in the S3 URL",
                args.file.display()
            ))
        })?;
        dest.key.push_str(&name.to_string_lossy());
    }
    let plan = Plan::new(source.size, args.part_size.unwrap_or(DEFAULT_PART_SIZE))
        .map_err(|e| Error::failed(format!("cannot upload '{}': {e}", args.file.display())))?;
    let tuning = &args.tuning;
    let quiet = tuning.quiet || tuning.json;
    if let (Some(from), false) = (plan.raised_from, quiet) {
        eprintln!(
            "s3up: note: {} parts of {from} bytes would exceed S3's 10,000; using {} parts of {} bytes",
            source.size.div_ceil(from),
            plan.part_count,
            plan.part_size
        );
    }
    let opts = object_options(&args.object, &args.file);
    let conn = connection(global);
    let store = Arc::new(connect(&conn, tuning).await?);

    if opts.if_none_match {
        let existing = upload::retry(tuning.retries, || {
            store.head_object(&dest.bucket, &dest.key)
        })
        .await
        .map_err(|e| s3_failure(&e, &dest))?;
        if existing.is_some() {
            return Err(s3_failure(
                &S3Error {
                    kind: ErrorKind::PreconditionFailed,
                    op: "HeadObject",
                    message: "the key exists".into(),
                },
                &dest,
            ));
        }
    }

    if plan.is_single() {
        let whole = plan.part(1).expect("a plan has at least one part");
        // The bar is up while the file is hashed, too: with a large
        // --part-size that takes a while.
        let progress = Arc::new(Progress::new(
            !quiet && !tuning.no_progress,
            source.size,
            0,
            1,
            0,
        ));
        let sent = async {
            let sha = upload::hash(file.clone(), whole)
                .await
                .map_err(|e| file_error(&args.file, &e))?;
            let finished = upload::send_metered(tuning.retries, &progress, &file, whole, |body| {
                store.put_object(&dest.bucket, &dest.key, body, sha, &opts)
            })
            .await
            .map_err(|e| s3_failure(&e, &dest))?;
            Ok::<_, Error>((sha, finished))
        }
        .await;
        progress.finish();
        let (sha, finished) = sent?;
        let want = upload::b64(&sha);
        if let Some(got) = &finished.checksum_sha256 {
            if *got != want {
                return Err(Error::failed(format!(
                    "S3 stored '{dest}' with checksum {got}, but the file's is {want}. Upload it again"
                )));
            }
        }
        report(
            tuning,
            &dest,
            (source.size, source.size),
            1,
            None,
            &finished,
            started,
        );
        return Ok(());
    }

    let dir = journal_dir(global)?;
    dir.create().map_err(|e| {
        Error::failed(format!(
            "cannot create the journal directory '{}': {e}. Pass --journal-dir DIR or set \
             S3UP_JOURNAL_DIR to a writable directory",
            dir.path().display()
        ))
    })?;
    let upload_id = upload::retry(tuning.retries, || {
        store.create_upload(&dest.bucket, &dest.key, &opts)
    })
    .await
    .map_err(|e| s3_failure(&e, &dest))?;
    let now = journal::now_unix();
    let journal = Journal {
        version: JOURNAL_VERSION,
        id: journal::id_for(&upload_id),
        upload_id,
        bucket: dest.bucket.clone(),
        key: dest.key.clone(),
        connection: Connection {
            region: Some(store.region.clone()),
            ..conn
        },
        source,
        part_size: plan.part_size,
        part_count: plan.part_count,
        object: opts,
        created_unix: now,
        updated_unix: now,
        parts: Vec::new(),
    };
    // The UploadId must be durable before the first part is sent; if it cannot
    // be, abort the upload rather than leave an orphan nobody knows about.
    let lock = match dir
        .lock(&journal.id)
        .and_then(|lock| dir.save(&journal).map(|()| lock).map_err(|e| e.to_string()))
    {
        Ok(lock) => lock,
        Err(e) => {
            let _ = store
                .abort_upload(&journal.bucket, &journal.key, &journal.upload_id)
                .await;
            return Err(Error::failed(format!(
                "cannot write the journal in '{}': {e}, so the upload was aborted. Pass \
                 --journal-dir DIR or set S3UP_JOURNAL_DIR to a writable directory",
                dir.path().display()
            )));
        }
    };
    let run = Run {
        store,
        dir,
        file,
        plan,
        concurrency: tuning.concurrency,
        attempts: tuning.retries,
        show_progress: !quiet && !tuning.no_progress,
        cancel: on_ctrl_c(),
        timings: upload::Timings::new(started),
    };
    let todo = plan.parts().collect();
    run_and_report(&run, journal, lock, todo, tuning, &dest, started).await
}

/// Sends the parts left, completes, and prints the result: the end of `put`
/// and `resume` alike.
async fn run_and_report(
    run: &Run<SdkStore>,
    journal: Journal,
    lock: crate::journal::Lock,
    todo: Vec<crate::plan::Part>,
    tuning: &Tuning,
    dest: &S3Url,
    started: Instant,
) -> Result<()> {
    let sent = todo.iter().map(|p| p.len).sum();
    let (journal, finished) = upload::run_multipart(run, journal, lock, todo).await?;
    report(
        tuning,
        dest,
        (run.plan.size, sent),
        run.plan.part_count,
        Some(&journal.upload_id),
        &finished,
        started,
    );
    Ok(())
}

/// Prints the result: a JSON object with --json, one line unless -q. `size` is
/// the object's size and the bytes this run sent (less after a resume); the
/// rate is that of this run.
fn report(
    tuning: &Tuning,
    dest: &S3Url,
    (size, sent): (u64, u64),
    parts: u64,
    upload_id: Option<&str>,
    finished: &Finished,
    started: Instant,
) {
    let seconds = started.elapsed().as_secs_f64();
    let etag = finished.etag.as_deref().unwrap_or("");
    if tuning.json {
        let summary = serde_json::json!({
            "bucket": dest.bucket,
            "key": dest.key,
            "size": size,
            "etag": etag,
            "checksum_sha256": finished.checksum_sha256,
            "parts": parts,
            "upload_id": upload_id,
            "sent_bytes": sent,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        println!("{summary}");
    } else if !tuning.quiet {
        let mib_s = sent as f64 / (1 << 20) as f64 / seconds.max(1e-9);
        let plural = if parts == 1 { "" } else { "s" };
        let run = if sent == size {
            format!("{seconds:.1} s, {mib_s:.1} MiB/s")
        } else {
            format!("this run sent {sent} bytes in {seconds:.1} s, {mib_s:.1} MiB/s")
        };
        println!("uploaded {dest} ({size} bytes, {parts} part{plural}; {run}) ETag {etag}");
    }
}

fn journal_dir(global: &GlobalArgs) -> Result<JournalDir> {
    JournalDir::resolve(global.journal_dir.clone()).map_err(Error::Failed)
}

/// The journal's connection, with whatever the user gave on this command line on top.
fn connection_for(global: &GlobalArgs, journal: &Journal) -> Connection {
    let saved = &journal.connection;
    Connection {
        endpoint_url: global
            .endpoint_url
            .clone()
            .or_else(|| saved.endpoint_url.clone()),
        region: global.region.clone().or_else(|| saved.region.clone()),
        profile: global.profile.clone().or_else(|| saved.profile.clone()),
        path_style: global.path_style || saved.path_style,
    }
}

/// Picks the journals `resume` works on.
fn select_journals(dir: &JournalDir, args: &ResumeArgs) -> Result<Vec<PathBuf>> {
    let entries = dir.list();
    let ids = || {
        entries
            .iter()
            .map(|(p, _)| {
                p.file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .to_string()
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if args.all {
        return Ok(entries.iter().map(|(p, _)| p.clone()).collect());
    }
    if args.targets.is_empty() {
        // A damaged journal is not a candidate; say so, and choose among the rest.
        for (_, j) in &entries {
            if let Err(e) = j {
                eprintln!("s3up: warning: {e}");
            }
        }
        let good: Vec<&PathBuf> = entries
            .iter()
            .filter(|(_, j)| j.is_ok())
            .map(|(p, _)| p)
            .collect();
        return match good.len() {
            0 => Err(Error::failed(format!(
                "no upload is pending (no usable journal in '{}'). Nothing to resume",
                dir.path().display()
            ))),
            1 => Ok(vec![good[0].clone()]),
            n => Err(Error::failed(format!(
                "{n} uploads are pending ({}): name one with `s3up resume ID`, or use --all. \
                 `s3up list-pending` shows them",
                ids()
            ))),
        };
    }
    let mut chosen = Vec::new();
    for target in &args.targets {
        let by_id = dir.journal_path(target);
        if !target.contains('/') && by_id.exists() {
            chosen.push(by_id);
            continue;
        }
        let Ok(abs) = std::fs::canonicalize(target) else {
            return Err(Error::failed(format!(
                "'{target}' is neither a pending upload's ID nor an existing file. \
                 `s3up list-pending` shows the pending uploads"
            )));
        };
        let owners: Vec<&PathBuf> = entries
            .iter()
            .filter(|(_, j)| j.as_ref().is_ok_and(|j| j.source.path == abs))
            .map(|(p, _)| p)
            .collect();
        match owners.as_slice() {
            [one] => chosen.push((*one).clone()),
            [] => {
                return Err(Error::failed(format!(
                    "no pending upload of '{target}'. `s3up list-pending` shows the pending uploads"
                )))
            }
            many => {
                return Err(Error::failed(format!(
                    "{} pending uploads are of '{target}': name one by ID ({})",
                    many.len(),
                    many.iter()
                        .map(|p| p.file_stem().unwrap_or_default().to_string_lossy())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        }
    }
    Ok(chosen)
}

async fn resume(global: &GlobalArgs, args: ResumeArgs) -> Result<()> {
    // Timings count from here: finding and parsing the journals is resume's cost too.
    let mut started = Instant::now();
    let dir = journal_dir(global)?;
    let paths = select_journals(&dir, &args)?;
    let total = paths.len();
    let mut failed = 0;
    let cancel = on_ctrl_c();
    for path in paths {
        if cancel.is_raised() {
            return Err(Error::failed(
                "stopped by Ctrl-C before the next upload; the journals are kept: \
                 `s3up list-pending` shows them"
                    .to_string(),
            ));
        }
        let result = resume_one(global, &args, &dir, &path, &cancel, started).await;
        started = Instant::now();
        match result {
            Ok(()) => {}
            Err(e @ Error::Interrupted { .. }) => return Err(e),
            Err(e) if total == 1 => return Err(e),
            Err(e) => {
                eprintln!("s3up: error: {e}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(Error::failed(format!(
            "{failed} of {total} uploads did not finish (see above). `s3up list-pending` shows \
             what is left"
        )));
    }
    Ok(())
}

async fn resume_one(
    global: &GlobalArgs,
    args: &ResumeArgs,
    dir: &JournalDir,
    path: &Path,
    cancel: &Cancel,
    started: Instant,
) -> Result<()> {
    let tuning = &args.tuning;
    let quiet = tuning.quiet || tuning.json;
    let journal = JournalDir::load_path(path).map_err(Error::Failed)?;
    let id = journal.id.clone();
    let lock = dir.lock(&id).map_err(Error::Failed)?;
    // Another run may have finished or changed it while we waited for nothing.
    let mut journal = JournalDir::load_path(path).map_err(|_| {
        Error::failed(format!(
            "upload {id} was finished by another s3up run meanwhile"
        ))
    })?;
    let dest = S3Url {
        bucket: journal.bucket.clone(),
        key: journal.key.clone(),
    };
    let source_path = journal.source.path.clone();
    let (file, now) = open_source(&source_path).map_err(|e| {
        Error::failed(format!(
            "{e}; it is the source of upload {id} to {dest}. Put the file back, or give up \
             with `s3up abort {id}`"
        ))
    })?;
    if now.size != journal.source.size || now.mtime_ns != journal.source.mtime_ns {
        return Err(Error::failed(format!(
            "'{}' changed since upload {id} started ({} bytes then, {} now; modified since). \
             s3up never mixes old and new bytes in one object: run `s3up abort {id}` and put \
             the file again",
            source_path.display(),
            journal.source.size,
            now.size
        )));
    }
    let plan = Plan::new(now.size, journal.part_size)
        .ok()
        .filter(|p| p.part_size == journal.part_size && p.part_count == journal.part_count)
        .ok_or_else(|| {
            Error::failed(format!(
                "journal {} does not describe a valid plan for {} bytes. Run `s3up abort {id}`",
                path.display(),
                now.size
            ))
        })?;
    let conn = connection_for(global, &journal);
    let store = Arc::new(connect(&conn, tuning).await?);
    let listing = upload::retry(tuning.retries, || {
        store.list_parts(&journal.bucket, &journal.key, &journal.upload_id)
    });
    let listed = tokio::select! {
        listed = listing => listed,
        () = cancel.cancelled() => return Err(Error::Interrupted { id }),
    };
    let listed = match listed {
        Ok(l) => l,
        // Every part was sent and the upload is gone: an earlier run's Complete
        // may have finished on S3 after that run stopped waiting for it.
        Err(e) if e.kind == ErrorKind::NoSuchUpload && journal.missing(&plan).next().is_none() => {
            let done = store
                .head_object(&journal.bucket, &journal.key)
                .await
                .ok()
                .flatten()
                .filter(|info| upload::is_our_object(info, &journal));
            let _ = dir.remove(&id);
            return match done {
                Some(info) => {
                    if !quiet {
                        println!(
                            "upload {id} had already completed on S3: {dest} ETag {}",
                            info.etag.as_deref().unwrap_or("")
                        );
                    }
                    Ok(())
                }
                None => Err(Error::failed(format!(
                    "upload {id} to {dest} no longer exists on S3 and the object there is not \
                     this file's (it was aborted or expired), so its journal was removed. Run \
                     `s3up put {} {dest}` again",
                    source_path.display()
                ))),
            };
        }
        Err(e) if e.kind == ErrorKind::NoSuchUpload => {
            let _ = dir.remove(&id);
            return Err(Error::failed(format!(
                "upload {id} to {dest} no longer exists on S3 (it was aborted or expired), so its \
                 journal was removed. Run `s3up put {} {dest}` again",
                source_path.display()
            )));
        }
        Err(e) => {
            return Err(Error::Resumable {
                reason: format!("{}", s3_failure(&e, &dest)),
                id,
            })
        }
    };
    // A part counts as uploaded only when S3 lists it with the ETag (and, where
    // the store reports one, the checksum) the journal recorded, at its planned
    // size. Anything else (parts S3 has that the journal lost, parts the journal
    // has that S3 lost) is simply sent again.
    let mut trusted: Vec<_> = journal
        .parts
        .iter()
        .filter(|r| {
            let planned = plan.part(r.number).map(|p| p.len);
            listed.iter().any(|l| {
                l.number == r.number
                    && l.etag == r.etag
                    && Some(l.size) == planned
                    && Some(r.size) == planned
                    && l.checksum_sha256.as_ref().is_none_or(|c| *c == r.sha256)
            })
        })
        .cloned()
        .collect();
    if args.verify {
        for r in &trusted {
            let Some(part) = plan.part(r.number) else {
                continue;
            };
            let sha = upload::hash(file.clone(), part)
                .await
                .map_err(|e| file_error(&source_path, &e))?;
            if upload::b64(&sha) != r.sha256 {
                return Err(Error::failed(format!(
                    "part {} of '{}' no longer has the bytes uploaded for upload {id}: the file \
                     changed. Run `s3up abort {id}` and put the file again",
                    r.number,
                    source_path.display()
                )));
            }
        }
    }
    trusted.sort_by_key(|r| r.number);
    journal.parts = trusted;
    journal.updated_unix = journal::now_unix();
    dir.save(&journal).map_err(|e| {
        Error::failed(format!(
            "cannot save the journal in '{}': {e}. Free space or fix permissions there",
            dir.path().display()
        ))
    })?;
    let todo: Vec<_> = journal.missing(&plan).collect();
    if !quiet {
        eprintln!(
            "s3up: resuming {id} to {dest}: {} of {} parts already on S3, sending {}",
            journal.parts.len(),
            plan.part_count,
            todo.len()
        );
    }
    let run = Run {
        store,
        dir: dir.clone(),
        file,
        plan,
        concurrency: tuning.concurrency,
        attempts: tuning.retries,
        show_progress: !quiet && !tuning.no_progress,
        cancel: cancel.clone(),
        timings: upload::Timings::new(started),
    };
    run_and_report(&run, journal, lock, todo, tuning, &dest, started).await
}

/// "42s", "5m", "3h", "2d": how long ago `unix` was.
fn age(unix: u64) -> String {
    let secs = journal::now_unix().saturating_sub(unix);
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 2 * 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1 << 20) as f64)
}

async fn list_pending(global: &GlobalArgs, args: ListPendingArgs) -> Result<()> {
    let dir = journal_dir(global)?;
    let entries = dir.list();
    if let Some(remote) = &args.remote {
        return list_remote(global, &args, remote, &entries).await;
    }
    let mut rows = Vec::new();
    for (path, journal) in &entries {
        match journal {
            Ok(j) => rows.push(serde_json::json!({
                "id": j.id,
                "file": j.source.path,
                "destination": format!("s3://{}/{}", j.bucket, j.key),
                "upload_id": j.upload_id,
                "parts_done": j.parts.len(),
                "parts_total": j.part_count,
                "bytes_done": j.bytes_done(),
                "bytes_total": j.source.size,
                "updated_unix": j.updated_unix,
                "running": dir.is_locked(&j.id),
            })),
            Err(e) => {
                if !args.json {
                    eprintln!("s3up: warning: {e}");
                }
                rows.push(serde_json::json!({ "journal": path, "error": e }));
            }
        }
    }
    if args.json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(());
    }
    let good: Vec<&Journal> = entries
        .iter()
        .filter_map(|(_, j)| j.as_ref().ok())
        .collect();
    if good.is_empty() {
        println!(
            "no pending uploads (journals in '{}')",
            dir.path().display()
        );
        return Ok(());
    }
    println!(
        "{:<12}  {:>11}  {:>21}  {:>8}  {:<40}  FILE",
        "ID", "PARTS", "BYTES", "ACTIVE", "DESTINATION"
    );
    for j in good {
        let running = if dir.is_locked(&j.id) {
            " (running)"
        } else {
            ""
        };
        println!(
            "{:<12}  {:>11}  {:>21}  {:>8}  {:<40}  {}{running}",
            j.id,
            format!("{}/{}", j.parts.len(), j.part_count),
            format!("{}/{}", mib(j.bytes_done()), mib(j.source.size)),
            format!("{} ago", age(j.updated_unix)),
            format!("s3://{}/{}", j.bucket, j.key),
            j.source.path.display()
        );
    }
    Ok(())
}

async fn list_remote(
    global: &GlobalArgs,
    args: &ListPendingArgs,
    remote: &S3Url,
    entries: &[(PathBuf, std::result::Result<Journal, String>)],
) -> Result<()> {
    let store = connect(&connection(global), &default_tuning()).await?;
    let uploads = upload::retry(default_tuning().retries, || {
        store.list_uploads(&remote.bucket, &remote.key)
    })
    .await
    .map_err(|e| s3_failure(&e, remote))?;
    let mut rows = Vec::new();
    for u in &uploads {
        let parts = store
            .list_parts(&remote.bucket, &u.key, &u.upload_id)
            .await
            .ok();
        let owner = entries
            .iter()
            .filter_map(|(_, j)| j.as_ref().ok())
            .find(|j| j.upload_id == u.upload_id && j.bucket == remote.bucket)
            .map(|j| j.id.clone());
        rows.push((u, parts, owner));
    }
    if args.json {
        let v: Vec<_> = rows
            .iter()
            .map(|(u, parts, owner)| {
                serde_json::json!({
                    "bucket": remote.bucket,
                    "key": u.key,
                    "upload_id": u.upload_id,
                    "initiated_unix": u.initiated_unix,
                    "parts": parts.as_ref().map(Vec::len),
                    "bytes": parts.as_ref().map(|p| p.iter().map(|p| p.size).sum::<u64>()),
                    "journal": owner,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(v));
        return Ok(());
    }
    if rows.is_empty() {
        println!("no in-progress uploads under {remote}");
        return Ok(());
    }
    println!(
        "{:>8}  {:>6}  {:>12}  {:<12}  {:<40}  UPLOAD ID",
        "AGE", "PARTS", "BYTES", "JOURNAL", "KEY"
    );
    for (u, parts, owner) in rows {
        println!(
            "{:>8}  {:>6}  {:>12}  {:<12}  {:<40}  {}",
            u.initiated_unix.map_or("?".to_string(), age),
            parts
                .as_ref()
                .map_or("?".to_string(), |p| p.len().to_string()),
            parts
                .as_ref()
                .map_or("?".to_string(), |p| mib(p.iter().map(|p| p.size).sum())),
            owner.as_deref().unwrap_or("-"),
            u.key,
            u.upload_id
        );
    }
    Ok(())
}

/// Tuning for commands that only list or abort.
fn default_tuning() -> Tuning {
    Tuning {
        concurrency: 1,
        retries: 4,
        stall_timeout: std::time::Duration::from_secs(30),
        no_progress: true,
        quiet: true,
        json: false,
    }
}

/// Aborts an upload and repeats until ListParts says it is gone (parts still in
/// flight when it was aborted can otherwise linger). Returns false when it was
/// already gone before this call.
async fn abort_until_gone<S: Store>(
    store: &S,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> std::result::Result<bool, S3Error> {
    let mut was_there = true;
    for round in 0..5 {
        match upload::retry(4, || store.abort_upload(bucket, key, upload_id)).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::NoSuchUpload => was_there &= round > 0,
            Err(e) => return Err(e),
        }
        match store.list_parts(bucket, key, upload_id).await {
            Err(e) if e.kind == ErrorKind::NoSuchUpload => return Ok(was_there),
            Err(e) if !e.is_retryable() => return Err(e),
            _ => tokio::time::sleep(std::time::Duration::from_millis(500 << round)).await,
        }
    }
    Err(S3Error {
        kind: ErrorKind::Fatal,
        op: "AbortMultipartUpload",
        message: "the upload is still listed after 5 aborts".to_string(),
    })
}

async fn abort(global: &GlobalArgs, args: AbortArgs) -> Result<()> {
    let dir = journal_dir(global)?;
    if let (Some(remote), Some(older)) = (&args.remote, args.older_than) {
        return abort_remote(global, &dir, remote, older, args.yes).await;
    }
    for id in &args.ids {
        let path = dir.journal_path(id);
        if !path.exists() {
            return Err(Error::failed(format!(
                "no pending upload with ID '{id}' in '{}'. `s3up list-pending` shows them",
                dir.path().display()
            )));
        }
        let journal = JournalDir::load_path(&path).map_err(Error::Failed)?;
        let lock = dir.lock(id).map_err(Error::Failed)?;
        let store = connect(&connection_for(global, &journal), &default_tuning()).await?;
        let dest = S3Url {
            bucket: journal.bucket.clone(),
            key: journal.key.clone(),
        };
        let was_there = abort_until_gone(&store, &dest.bucket, &dest.key, &journal.upload_id)
            .await
            .map_err(|e| s3_failure(&e, &dest))?;
        dir.remove(id).map_err(|e| {
            Error::failed(format!("cannot remove journal '{}': {e}", path.display()))
        })?;
        drop(lock);
        if was_there {
            println!("aborted {id} ({dest}) and removed its journal");
        } else {
            println!("upload {id} ({dest}) was already gone on S3; removed its journal");
        }
    }
    Ok(())
}

async fn abort_remote(
    global: &GlobalArgs,
    dir: &JournalDir,
    remote: &S3Url,
    older: std::time::Duration,
    yes: bool,
) -> Result<()> {
    let store = connect(&connection(global), &default_tuning()).await?;
    let uploads = upload::retry(4, || store.list_uploads(&remote.bucket, &remote.key))
        .await
        .map_err(|e| s3_failure(&e, remote))?;
    let cutoff = journal::now_unix().saturating_sub(older.as_secs());
    // An upload with no start time is never taken for stale.
    let stale: Vec<_> = uploads
        .iter()
        .filter(|u| u.initiated_unix.is_some_and(|t| t <= cutoff))
        .collect();
    if stale.is_empty() {
        println!(
            "no in-progress uploads under {remote} are older than {}s",
            older.as_secs()
        );
        return Ok(());
    }
    let journals = dir.list();
    let mut skipped = 0;
    for u in &stale {
        let started = u.initiated_unix.map_or("?".to_string(), age);
        let dest = S3Url {
            bucket: remote.bucket.clone(),
            key: u.key.clone(),
        };
        if !yes {
            println!(
                "would abort {dest} upload {} (started {started} ago)",
                u.upload_id
            );
            continue;
        }
        let owner = journals
            .iter()
            .filter_map(|(_, j)| j.as_ref().ok())
            .find(|j| j.upload_id == u.upload_id);
        let lock = match owner.map(|j| (j, dir.lock(&j.id))) {
            Some((j, Err(_))) if dir.is_locked(&j.id) => {
                eprintln!(
                    "s3up: warning: skipped {dest} upload {}: a running s3up is using it \
                     (journal {})",
                    u.upload_id, j.id
                );
                skipped += 1;
                continue;
            }
            Some((_, Err(e))) => return Err(Error::Failed(e)),
            Some((_, Ok(lock))) => Some(lock),
            None => None,
        };
        abort_until_gone(&store, &dest.bucket, &dest.key, &u.upload_id)
            .await
            .map_err(|e| s3_failure(&e, &dest))?;
        if let Some(j) = owner {
            let _ = dir.remove(&j.id);
        }
        drop(lock);
        println!(
            "aborted {dest} upload {} (started {started} ago)",
            u.upload_id
        );
    }
    if skipped > 0 {
        return Err(Error::failed(format!(
            "aborted {} uploads, skipped {skipped} in use by a running s3up (see above). \
             Wait for those runs to finish, or stop them first",
            stale.len() - skipped
        )));
    }
    if !yes {
        println!(
            "{} uploads would be aborted: run the same command with --yes to abort them",
            stale.len()
        );
    } else {
        println!("aborted {} uploads", stale.len());
    }
    Ok(())
}
