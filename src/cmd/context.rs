//! What every command makes of the global arguments: the connection to a
//! store (or a `--via` backend with its token), the journal directory, the
//! options every suggested command carries, the Ctrl-C flag, the source file,
//! and how progress and results are shown.
//!
//! The one place that turns the command line's options into a store
//! ([`connect`]), so every subcommand reaches S3 the same way.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checksum::Choice;
use crate::cli::{GlobalArgs, ObjectArgs, ProgressMode, TokenArgs, Tuning};
use crate::engine::abort::until_gone;
use crate::engine::link::{Link, Probe};
use crate::engine::retry::Retry;
use crate::engine::{Cancel, Progress};
use crate::error::Result;
use crate::journal::{Journal, JournalDir, Source};
use crate::output::failure;
use crate::output::hint::{quote, set_again_options, set_token_source, TokenSource};
use crate::output::summary::{Style, Summary};
use crate::progress::{Display, Show};
use crate::s3::Location;
use crate::store::sdk::SdkStore;
use crate::store::via::{Token, ViaStore};
use crate::store::{AnyStore, Connection, Finished, ObjectOptions};

/// Records, for every hint this run prints, the options that say where its
/// journals and uploads are (see [`crate::output::hint::suggest`]).
pub(super) fn set_hints(global: &GlobalArgs) {
    set_again_options(again_options(global));
}

/// Builds the store the options name, and returns it with the connection
/// actually used (the region filled in), for the journal. A `--via` upload
/// (`conn.via`) sends the backend's token from `token`, if one is given.
pub(super) async fn connect(
    conn: &Connection,
    stall_timeout: Duration,
    token: &TokenArgs,
) -> Result<(AnyStore, Connection)> {
    if let Some(backend) = &conn.via {
        return connect_via(backend, token, stall_timeout, false, conn.no_verify_ssl);
    }
    if conn.no_verify_ssl {
        crate::output::options::no_verify_ssl();
    }
    let sdk = SdkStore::connect(conn, stall_timeout, list_page_size())
        .await
        .map_err(|e| failure::connect_error(e, conn.profile.as_deref()))?;
    let used = Connection {
        region: Some(sdk.region.clone()),
        endpoint_url: sdk.endpoint_url.clone(),
        ..conn.clone()
    };
    Ok((AnyStore::Sdk(sdk), used))
}

/// The store for a `--via` backend; `own_key`: the user named the key;
/// `no_verify_ssl`: neither the backend's certificate nor the part URLs'
/// is checked. Nothing is sent until the first call.
pub(super) fn connect_via(
    backend: &str,
    token: &TokenArgs,
    stall_timeout: Duration,
    own_key: bool,
    no_verify_ssl: bool,
) -> Result<(AnyStore, Connection)> {
    let token = read_token(token)?;
    let store = ViaStore::new(backend, token, stall_timeout, own_key, no_verify_ssl)
        .map_err(|e| failure::bad_backend(&e.0))?;
    if no_verify_ssl {
        crate::output::options::no_verify_ssl();
    }
    let used = Connection {
        via: Some(store.backend().to_string()),
        no_verify_ssl,
        ..Connection::default()
    };
    Ok((AnyStore::Via(store), used))
}

/// The backend's token: from --token-file, else --token (with a warning: it
/// shows in `ps`), else S3UP_TOKEN; none at all when none is given (or an
/// empty one), since `serve --no-auth` and Companion take none: the
/// backend's 401 says when one is wanted. Where it came from is recorded for
/// the suggested commands ([`TokenSource`]).
fn read_token(args: &TokenArgs) -> Result<Option<Token>> {
    if let Some(path) = &args.token_file {
        let text =
            std::fs::read_to_string(path).map_err(|e| failure::token_file_error(path, &e))?;
        let token = Token::new(&text).ok_or_else(|| failure::token_file_empty(path))?;
        let path = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        set_token_source(TokenSource::File(path));
        return Ok(Some(token));
    }
    if let Some(t) = &args.token {
        let token = Token::new(t);
        if token.is_some() {
            failure::token_on_command_line();
            set_token_source(TokenSource::CommandLine);
        }
        return Ok(token);
    }
    let token = std::env::var("S3UP_TOKEN")
        .ok()
        .and_then(|t| Token::new(&t));
    if token.is_some() {
        set_token_source(TokenSource::Env);
    }
    Ok(token)
}

/// `S3UP_LIST_PAGE_SIZE`: exists so the tests can prove pagination without
/// creating 1,001 parts.
pub(super) fn list_page_size() -> Option<i32> {
    std::env::var("S3UP_LIST_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n: &i32| *n > 0)
}

/// The options given on the command line that say where the journals and
/// the uploads are, as they must be repeated in a suggested command (see
/// [`crate::output::hint::suggest`]). Values that came from the environment are left out:
/// the environment will give them again.
fn again_options(global: &GlobalArgs) -> String {
    let from_env = |var: &str, value: &str| std::env::var(var).is_ok_and(|v| v == value);
    let mut options = String::new();
    let mut add = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            options.push_str(&format!(" --{name} {}", quote(v)));
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

pub(super) fn connection(global: &GlobalArgs) -> Connection {
    Connection {
        endpoint_url: global.endpoint_url.clone(),
        region: global.region.clone(),
        profile: global.profile.clone(),
        path_style: global.path_style,
        via: None,
        ca_bundle: global.ca_bundle.clone(),
        no_verify_ssl: global.no_verify_ssl,
    }
}

/// The journal's connection, with whatever the user gave on this command line
/// (or in AWS_ENDPOINT_URL) on top. The endpoint actually reached is compared
/// with the journal's after connecting ([`crate::engine::gone`]).
pub(super) fn connection_for(global: &GlobalArgs, journal: &Journal) -> Connection {
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
        ..tls_for(global, saved)
    }
}

/// The TLS settings of a resumed upload: the journal's, unless this command
/// line gives the other one (`--ca-bundle` replaces a journalled
/// `--no-verify-ssl`, and the reverse), since the two conflict.
pub(super) fn tls_for(global: &GlobalArgs, saved: &Connection) -> Connection {
    Connection {
        ca_bundle: global
            .ca_bundle
            .clone()
            .or_else(|| saved.ca_bundle.clone().filter(|_| !global.no_verify_ssl)),
        no_verify_ssl: global.no_verify_ssl || (saved.no_verify_ssl && global.ca_bundle.is_none()),
        ..Connection::default()
    }
}

pub(super) fn journal_dir(global: &GlobalArgs) -> Result<JournalDir> {
    Ok(JournalDir::resolve(global.journal_dir.clone())?)
}

/// The uploads a store holds under `remote` (bucket and key prefix), with
/// the store, for `list-pending --remote` and `abort --remote`.
pub(super) async fn remote_uploads(
    global: &GlobalArgs,
    remote: &Location,
) -> Result<(AnyStore, Vec<crate::store::ListedUpload>)> {
    use crate::store::Store;
    let (store, _) = connect(
        &connection(global),
        LIST_STALL_TIMEOUT,
        &TokenArgs::default(),
    )
    .await?;
    let policy = Retry::fail_fast(LIST_ATTEMPTS);
    let uploads =
        crate::engine::retry::retry(&policy, || store.list_uploads(&remote.bucket, &remote.key))
            .await
            .map_err(|e| failure::store_failure(&e, remote))?;
    Ok((store, uploads))
}

/// How the calls of `put` and `resume` to `store` are retried: `--retries`
/// per call, and a link that waits up to `--max-offline` while the store (or
/// backend) gives no answer, probing it, and reports what it does to
/// `progress`.
pub(super) fn retry_policy(
    store: &Arc<AnyStore>,
    bucket: &str,
    tuning: &Tuning,
    progress: &Arc<dyn Progress>,
) -> Retry {
    use crate::store::Store;
    let (probed, bucket) = (store.clone(), bucket.to_string());
    let probe: Probe = Box::new(move || {
        let (store, bucket) = (probed.clone(), bucket.clone());
        Box::pin(async move { store.probe(&bucket).await })
    });
    let link = Link::new(
        probe,
        store.endpoint(),
        tuning.max_offline,
        tuning.stall_timeout,
        progress.clone(),
    );
    Retry::new(tuning.attempts(), link)
}

/// Attempts per call for commands that only list or abort.
const LIST_ATTEMPTS: u32 = 4;
/// Stall timeout for commands that only list or abort.
pub(super) const LIST_STALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Opens the source: a readable regular file, with its absolute path and metadata.
pub(super) fn open_source(path: &Path) -> Result<(Arc<File>, Source)> {
    let meta = std::fs::metadata(path).map_err(|e| failure::file_error(path, &e))?;
    if meta.is_dir() {
        return Err(failure::file_error(
            path,
            &io::Error::from(io::ErrorKind::IsADirectory),
        ));
    }
    if !meta.is_file() {
        return Err(failure::not_a_regular_file(path));
    }
    let file = File::open(path).map_err(|e| failure::file_error(path, &e))?;
    let abs = std::fs::canonicalize(path).map_err(|e| failure::file_error(path, &e))?;
    let meta = file.metadata().map_err(|e| failure::file_error(path, &e))?;
    Ok((Arc::new(file), Source::of(&abs, &meta)))
}

/// A flag raised by the first Ctrl-C; a second Ctrl-C exits at once (the
/// journal is consistent at every moment, so nothing is lost by not waiting).
pub(super) fn on_ctrl_c() -> Cancel {
    let (raise, cancel) = Cancel::new();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_err() {
            return; // no handler could be installed: never cancel
        }
        crate::output::ctrl_c();
        let _ = raise.send(true);
        let _ = tokio::signal::ctrl_c().await;
        std::process::exit(crate::error::EXIT_INTERRUPTED);
    });
    cancel
}

pub(super) fn style(tuning: &Tuning) -> Style {
    Style {
        json: tuning.json,
        quiet: tuning.quiet,
    }
}

/// The progress display `tuning` asks for. With `S3UP_TIMINGS` (for
/// scripts/bench) it also prints what the parts phase cost.
/// `-q` and `--json` hide the bar, but not a `--progress json` asked for
/// by name: it goes to stderr, apart from the summary. Without a bar, a
/// change of state (retrying, stalled, offline) prints one line on stderr,
/// so a log shows what happened, unless `-q` asks for silence.
pub(super) fn progress(tuning: &Tuning, started: Instant) -> Arc<dyn Progress> {
    let timings = std::env::var_os("S3UP_TIMINGS").map(|_| started);
    let show = match tuning.progress {
        ProgressMode::Json if !tuning.no_progress => Show::Json,
        _ if tuning.quiet => Show::Nothing,
        ProgressMode::Auto if !tuning.no_progress && !tuning.json => Show::Auto,
        _ => Show::Lines,
    };
    Arc::new(Display::new(show, timings))
}

/// The object options of `file`: its content type guessed from its name
/// unless one was given.
pub(super) fn object_options(args: &ObjectArgs, file: &Path) -> ObjectOptions {
    let guessed = || mime_guess::from_path(file).first_raw().map(str::to_string);
    ObjectOptions {
        content_type: args.content_type.clone().or_else(guessed),
        storage_class: args.storage_class.clone(),
        metadata: args.metadata.clone(),
        if_none_match: args.if_none_match,
        // Set by the caller, which checks them (`super::object`).
        extras: Default::default(),
        checksum: checksum_choice(&args.checksum).unwrap_or_default(),
    }
}

/// `--restart`: aborts an earlier upload until it is gone, then forgets it.
pub(super) async fn restart(
    store: &AnyStore,
    dir: &JournalDir,
    path: &Path,
    journal: &Journal,
    dest: &Location,
) -> Result<()> {
    let lock = dir.lock(&journal.id)?;
    until_gone(store, &journal.upload())
        .await
        .map_err(|e| failure::store_failure(&e, dest))?;
    dir.remove_async(&journal.id)
        .await
        .map_err(|e| failure::cannot_remove_journal(path, &e))?;
    drop(lock);
    crate::output::put::restarted(&journal.id);
    Ok(())
}

/// `--checksum-algorithm` and `--checksum-type`, checked together (the
/// commands check them before anything else, so `object_options` may not).
pub(super) fn checksum_choice(args: &crate::cli::ChecksumArgs) -> Result<Choice> {
    let algorithm = args.checksum_algorithm.unwrap_or_default();
    Choice::new(algorithm, args.checksum_type).map_err(crate::output::checksum::invalid)
}

/// The summary line and the `--json` document of an object sent with one
/// PutObject (a small file, or a stream that ended within its first part).
pub(super) fn report_single(
    tuning: &Tuning,
    label: &Path,
    dest: &Location,
    size: u64,
    finished: &Finished,
    started: Instant,
) {
    let record = crate::output::summary::report(
        style(tuning),
        &Summary {
            id: None,
            file: label,
            dest,
            size,
            sent: size,
            parts: 1,
            upload_id: None,
            finished,
            started,
        },
    );
    crate::output::summary::json_document(record.into_iter().collect(), false);
}
