//! One function per subcommand, and what each prints.
//!
//! Checks that need the file system or S3 (a missing file, a directory, an
//! existing key with --if-none-match) happen here, before anything is created on
//! S3, so a bad input leaves nothing behind.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use clap::CommandFactory;

use crate::cli::{Cli, Command, GlobalArgs, ObjectArgs, PutArgs, S3Url, Tuning};
use crate::error::{Error, Result};
use crate::journal::{self, Journal, JournalDir, Source, JOURNAL_VERSION};
use crate::plan::{Plan, DEFAULT_PART_SIZE};
use crate::s3::{Connection, ErrorKind, Finished, ObjectOptions, S3Error, SdkStore, Store};
use crate::upload::{self, Run};

pub async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Put(args) => put(&cli.global, args).await,
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

/// Resolves once to () on the first Ctrl-C; a second Ctrl-C exits at once (the
/// journal is consistent at every moment, so nothing is lost by not waiting).
async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handler could be installed: never cancel.
        std::future::pending::<()>().await;
    }
    eprintln!("s3up: stopping after Ctrl-C (press it again to quit at once)");
    tokio::spawn(async {
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(crate::error::EXIT_INTERRUPTED);
    });
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
    let plan = Plan::new(
        source.size,
        args.tuning.part_size.unwrap_or(DEFAULT_PART_SIZE),
    )
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
                    code: None,
                    message: "the key exists".into(),
                },
                &dest,
            ));
        }
    }

    if plan.is_single() {
        let (body, sha) = upload::read_whole(file, source.size)
            .await
            .map_err(|e| file_error(&args.file, &e))?;
        let finished = upload::retry(tuning.retries, || {
            store.put_object(&dest.bucket, &dest.key, body.clone(), sha, &opts)
        })
        .await
        .map_err(|e| s3_failure(&e, &dest))?;
        let want = upload::b64(&sha);
        if let Some(got) = &finished.checksum_sha256 {
            if *got != want {
                return Err(Error::failed(format!(
                    "S3 stored '{dest}' with checksum {got}, but the file's is {want}. Upload it again"
                )));
            }
        }
        report(tuning, &dest, source.size, 1, None, &finished, started);
        return Ok(());
    }

    let dir = JournalDir::resolve(global.journal_dir.clone()).map_err(Error::Failed)?;
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
    };
    let todo = plan.parts().collect();
    let (journal, finished) = upload::run_multipart(&run, journal, lock, todo, ctrl_c()).await?;
    report(
        tuning,
        &dest,
        plan.size,
        plan.part_count,
        Some(&journal.upload_id),
        &finished,
        started,
    );
    Ok(())
}

/// Prints the result: a JSON object with --json, one line unless -q.
fn report(
    tuning: &Tuning,
    dest: &S3Url,
    size: u64,
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
            "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        println!("{summary}");
    } else if !tuning.quiet {
        let mib_s = size as f64 / (1 << 20) as f64 / seconds.max(1e-9);
        println!(
            "uploaded {dest} ({size} bytes, {parts} part{}, {seconds:.1} s, {mib_s:.1} MiB/s) ETag {etag}",
            if parts == 1 { "" } else { "s" }
        );
    }
}
