//! One file per subcommand: arguments in, engine calls, outcomes out through
//! `crate::output`.
//!
//! Checks that need the file system or the store (a missing file, a
//! directory, an existing key with --if-none-match) happen before anything is
//! created on S3, so a bad input leaves nothing behind. This module is also the
//! one place that turns the command line's options into a store ([`connect`]).

mod abort;
mod list;
mod put;
mod resume;
mod serve;

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::CommandFactory;

use crate::cli::{Cli, Command, GlobalArgs, S3Url, TokenArgs, Tuning};
use crate::engine::verify::Candidate;
use crate::engine::{run_multipart, Cancel, Dest, Progress, Run};
use crate::error::{Error, Result};
use crate::journal::{Journal, JournalDir, Lock, Source};
use crate::output::{self, Style, Summary};
use crate::plan::{Part, Plan};
use crate::progress::{Display, Mode};
use crate::store::sdk::SdkStore;
use crate::store::via::{Token, ViaStore};
use crate::store::{AnyStore, Connection};

pub async fn run(cli: Cli) -> Result<()> {
    output::set_again_options(again_options(&cli.global));
    match cli.command {
        Command::Put(args) => put::put(&cli.global, args).await,
        Command::Resume(args) => resume::resume(&cli.global, args).await,
        Command::ListPending(args) => list::list_pending(&cli.global, args).await,
        Command::Abort(args) => abort::abort(&cli.global, args).await,
        Command::Serve(args) => serve::serve(&cli.global, args).await,
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "s3up", &mut io::stdout());
            Ok(())
        }
    }
}

impl From<&S3Url> for Dest {
    fn from(u: &S3Url) -> Dest {
        Dest {
            bucket: u.bucket.clone(),
            key: u.key.clone(),
        }
    }
}

/// Builds the store the options name, and returns it with the connection
/// actually used (the region filled in), for the journal. A `--via` upload
/// (`conn.via`) needs the backend's token from `token`.
async fn connect(
    conn: &Connection,
    stall_timeout: Duration,
    token: &TokenArgs,
) -> Result<(AnyStore, Connection)> {
    if let Some(backend) = &conn.via {
        return connect_via(backend, token, stall_timeout, false);
    }
    let sdk = SdkStore::connect(conn, stall_timeout, list_page_size())
        .await
        .map_err(|e| output::connect_error(e, conn.profile.as_deref()))?;
    let used = Connection {
        region: Some(sdk.region.clone()),
        endpoint_url: sdk.endpoint_url.clone(),
        ..conn.clone()
    };
    Ok((AnyStore::Sdk(sdk), used))
}

/// The store for a `--via` backend; `own_key`: the user named the key.
/// Nothing is sent until the first call.
fn connect_via(
    backend: &str,
    token: &TokenArgs,
    stall_timeout: Duration,
    own_key: bool,
) -> Result<(AnyStore, Connection)> {
    let token = read_token(token, backend)?;
    let store = ViaStore::new(backend, token, stall_timeout, own_key)
        .map_err(|e| output::bad_backend(&e.0))?;
    let used = Connection {
        via: Some(store.backend().to_string()),
        ..Connection::default()
    };
    Ok((AnyStore::Via(store), used))
}

/// The backend's token: from --token-file, else --token (with a warning: it
/// shows in `ps`), else S3UP_TOKEN.
fn read_token(args: &TokenArgs, backend: &str) -> Result<Token> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path).map_err(|e| output::token_file_error(path, &e))?;
        return Token::new(&text).ok_or_else(|| output::token_file_empty(path));
    }
    if let Some(t) = &args.token {
        output::token_on_command_line();
        return Token::new(t).ok_or_else(|| output::token_missing(backend));
    }
    std::env::var("S3UP_TOKEN")
        .ok()
        .and_then(|t| Token::new(&t))
        .ok_or_else(|| output::token_missing(backend))
}

/// `S3UP_LIST_PAGE_SIZE`: exists so the tests can prove pagination without
/// creating 1,001 parts.
fn list_page_size() -> Option<i32> {
    std::env::var("S3UP_LIST_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &i32| *n > 0)
}

/// The options given on the command line that say where the journals and
/// the uploads are, as they must be repeated in a suggested command (see
/// `output::suggest`). Values that came from the environment are left out:
/// the environment will give them again.
fn again_options(global: &GlobalArgs) -> String {
    let from_env = |var: &str, value: &str| std::env::var(var).is_ok_and(|v| v == value);
    let mut options = String::new();
    let mut add = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            options.push_str(&format!(" --{name} {}", output::quote(v)));
        }
    };
    add(
        "endpoint-url",
        global.endpoint_url.as_deref().filter(|u| {
            !from_env("AWS_ENDPOINT_URL", u) && !from_env("AWS_ENDPOINT_URL", &format!("{u}/"))
        }),
    );
    add("profile", global.profile.as_deref());
    add("region", global.region.as_deref());
    let journal_dir = global.journal_dir.as_ref().map(|d| d.display().to_string());
    add(
        "journal-dir",
        journal_dir
            .as_deref()
            .filter(|d| !from_env("S3UP_JOURNAL_DIR", d)),
    );
    if global.path_style {
        options.push_str(" --path-style");
    }
    options
}

fn connection(global: &GlobalArgs) -> Connection {
    Connection {
        endpoint_url: global.endpoint_url.clone(),
        region: global.region.clone(),
        profile: global.profile.clone(),
        path_style: global.path_style,
        via: None,
    }
}

/// The journal's connection, with whatever the user gave on this command line
/// (or in AWS_ENDPOINT_URL) on top. The endpoint actually reached is compared
/// with the journal's after connecting ([`crate::engine::gone`]).
fn connection_for(global: &GlobalArgs, journal: &Journal) -> Connection {
    let saved = &journal.connection;
    // A backend's upload is reached only through that backend.
    if saved.via.is_some() {
        return saved.clone();
    }
    Connection {
        endpoint_url: global
            .endpoint_url
            .clone()
            .or_else(|| saved.endpoint_url.clone()),
        region: global.region.clone().or_else(|| saved.region.clone()),
        profile: global.profile.clone().or_else(|| saved.profile.clone()),
        path_style: global.path_style || saved.path_style,
        via: None,
    }
}

fn journal_dir(global: &GlobalArgs) -> Result<JournalDir> {
    JournalDir::resolve(global.journal_dir.clone()).map_err(Error::Failed)
}

/// The uploads a store holds under `remote` (bucket and key prefix), with
/// the store, for `list-pending --remote` and `abort --remote`.
async fn remote_uploads(
    global: &GlobalArgs,
    remote: &Dest,
) -> Result<(AnyStore, Vec<crate::store::ListedUpload>)> {
    use crate::store::ListUploads;
    let (store, _) = connect(
        &connection(global),
        LIST_STALL_TIMEOUT,
        &TokenArgs::default(),
    )
    .await?;
    let uploads = crate::engine::retry::retry(LIST_ATTEMPTS, || {
        store.list_uploads(&remote.bucket, &remote.key)
    })
    .await
    .map_err(|e| output::store_failure(&e, remote))?;
    Ok((store, uploads))
}

/// Attempts per call for commands that only list or abort.
const LIST_ATTEMPTS: u32 = 4;
/// Stall timeout for commands that only list or abort.
const LIST_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens the source: a readable regular file, with its absolute path and metadata.
fn open_source(path: &Path) -> Result<(Arc<File>, Source)> {
    let meta = std::fs::metadata(path).map_err(|e| output::file_error(path, &e))?;
    if meta.is_dir() {
        return Err(output::file_error(
            path,
            &io::Error::from(io::ErrorKind::IsADirectory),
        ));
    }
    if !meta.is_file() {
        return Err(output::not_a_regular_file(path));
    }
    let file = File::open(path).map_err(|e| output::file_error(path, &e))?;
    let abs = std::fs::canonicalize(path).map_err(|e| output::file_error(path, &e))?;
    let meta = file.metadata().map_err(|e| output::file_error(path, &e))?;
    Ok((Arc::new(file), Source::of(&abs, &meta)))
}

/// A flag raised by the first Ctrl-C; a second Ctrl-C exits at once (the
/// journal is consistent at every moment, so nothing is lost by not waiting).
fn on_ctrl_c() -> Cancel {
    let (raise, cancel) = Cancel::new();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return; // no handler could be installed: never cancel
        }
        output::ctrl_c();
        let _ = raise.send(true);
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(crate::error::EXIT_INTERRUPTED);
    });
    cancel
}

fn style(tuning: &Tuning) -> Style {
    Style {
        json: tuning.json,
        quiet: tuning.quiet,
    }
}

/// The progress display `tuning` asks for. With `S3UP_TIMINGS` (for
/// scripts/bench) it also prints what the parts phase cost.
/// `-q` and `--json` hide the bar, but not a `--progress json` asked for
/// by name: it goes to stderr, apart from the summary.
fn progress(tuning: &Tuning, started: Instant) -> Arc<dyn Progress> {
    let quiet = tuning.quiet || tuning.json;
    let timings = std::env::var_os("S3UP_TIMINGS").map(|_| started);
    let mode = match tuning.progress {
        _ if tuning.no_progress => Mode::None,
        Mode::Auto if quiet => Mode::None,
        mode => mode,
    };
    Arc::new(Display::new(mode, timings))
}

/// True when a `bench-floor` build is asked to leave the upload open
/// (scripts/bench builds an open 10,000-part upload so; stores such as Garage
/// would otherwise complete its 4 KiB parts). Never in a normal build.
fn stop_before_complete() -> bool {
    cfg!(feature = "bench-floor") && std::env::var_os("S3UP_BENCH_STOP_BEFORE_COMPLETE").is_some()
}

/// Everything [`run_and_report`] needs besides the journal.
struct Sending<'a> {
    store: Arc<AnyStore>,
    dir: JournalDir,
    file: Arc<File>,
    plan: Plan,
    tuning: &'a Tuning,
    cancel: Cancel,
    started: Instant,
    /// The store reached is the one the journal records.
    at_recorded_endpoint: bool,
}

/// A finished command's `--json` record, if it was asked for.
type Record = Option<serde_json::Value>;

/// Sends the parts left (and verifies the parts a resume reuses),
/// completes, and prints the result (or, with --json, returns its record):
/// the end of `put` and `resume` alike.
async fn run_and_report(
    s: Sending<'_>,
    journal: Journal,
    lock: Lock,
    todo: Vec<Part>,
    candidates: Vec<Candidate>,
) -> Result<Record> {
    let run = Run {
        store: s.store,
        dir: s.dir,
        file: s.file,
        plan: s.plan,
        concurrency: s.tuning.concurrency,
        attempts: s.tuning.attempts(),
        progress: progress(s.tuning, s.started),
        cancel: s.cancel,
        stop_before_complete: stop_before_complete(),
        at_recorded_endpoint: s.at_recorded_endpoint,
    };
    let done = run_multipart(&run, journal, lock, todo, candidates)
        .await
        .map_err(output::engine_error)?;
    if !done.resent.is_empty() && !s.tuning.quiet && !s.tuning.json {
        output::parts_resent(&done.journal.source.path, &done.resent);
    }
    let dest = Dest {
        bucket: done.journal.bucket.clone(),
        key: done.journal.key.clone(),
    };
    Ok(output::report(
        style(s.tuning),
        &Summary {
            id: Some(&done.journal.id),
            file: &done.journal.source.path,
            dest: &dest,
            size: run.plan.size,
            sent: done.sent,
            parts: run.plan.part_count,
            upload_id: Some(&done.journal.upload_id),
            finished: &done.finished,
            started: s.started,
        },
    ))
}
