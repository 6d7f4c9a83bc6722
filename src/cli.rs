//! The command line: clap's derive definitions, and nothing else.
//!
//! Everything a user can get wrong in one value (a malformed S3 URL, a part size
//! outside S3's limits, concurrency 0) is rejected here, by clap, with exit code 2
//! and a message that quotes the value; the parsing itself lives with what it
//! parses ([`crate::units`] for sizes and durations, [`crate::s3`] for locations
//! and S3's limits), and the functions at the end only join the two. Checks that
//! need the file system or the network belong to `cmd`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::s3::Location;
use crate::units::{self, Age};

mod checksum;
mod object;
pub use checksum::ChecksumArgs;
pub use object::{ImposedArgs, ObjectExtraArgs};

/// Upload large files to Amazon S3 (or any S3-compatible store) with a multipart
/// upload that survives interruptions.
///
/// Every part is checksummed (SHA-256) so S3 verifies every byte, and progress is
/// saved to a journal after each part: if the upload stops, `s3up resume` picks it
/// up where it stopped.
#[derive(Debug, Parser)]
#[command(name = "s3up", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts, before or after the subcommand. Under a
/// heading of their own, so a command's help shows its own options first.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options (every command)")]
pub struct GlobalArgs {
    /// S3 endpoint to talk to instead of AWS, e.g. http://127.0.0.1:3900 for a local
    /// store (implies --path-style)
    #[arg(long, global = true, value_name = "URL", env = "AWS_ENDPOINT_URL", hide_env_values = true, value_parser = parse_endpoint)]
    pub endpoint_url: Option<String>,

    /// AWS region (default: AWS_REGION or the profile's region; us-east-1 with a custom endpoint)
    #[arg(long, global = true, value_name = "REGION")]
    pub region: Option<String>,

    /// Named profile from ~/.aws/config and ~/.aws/credentials
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Address buckets as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY
    #[arg(long, global = true)]
    pub path_style: bool,

    /// Trust only the certificates in this PEM file for the endpoint's TLS
    /// (a private CA), as aws does; kept in the journal for resume
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        env = "AWS_CA_BUNDLE",
        hide_env_values = true
    )]
    pub ca_bundle: Option<PathBuf>,

    /// Do not check the endpoint's TLS certificate, as aws --no-verify-ssl
    /// (a private endpoint whose CA you cannot name with --ca-bundle; not with
    /// it, nor with AWS_CA_BUNDLE set). Warned on every run; kept in the
    /// journal for resume; with --via, for the backend and the part URLs too
    #[arg(long, global = true, conflicts_with = "ca_bundle")]
    pub no_verify_ssl: bool,

    /// Where upload journals are kept (default: the platform data directory,
    /// e.g. ~/.local/share/s3up/journal on Linux)
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "S3UP_JOURNAL_DIR",
        hide_env_values = true
    )]
    pub journal_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload files and directory trees: FILE to s3://BUCKET/KEY, or SRC... to s3://BUCKET/PREFIX/
    ///
    /// One file goes to KEY (a KEY that is empty or ends in '/' gets the file name
    /// appended). Several sources, or a directory, need a PREFIX ending in '/': a
    /// directory's files go under it by their path inside the directory (DIR/a/b.txt
    /// -> PREFIX/a/b.txt, as `aws s3 cp --recursive` and `rclone copy` do), a file
    /// by its name. A tree is one session: interrupted, the same command again (or
    /// `s3up resume ID`) skips the files done and continues every large file from
    /// its last part.
    #[command(
        visible_alias = "cp",
        override_usage = "s3up put [OPTIONS] <SRC>... <S3_URL>\n       \
                          s3up put [OPTIONS] --via <URL> <SRC>... [KEY|PREFIX/]"
    )]
    Put(PutArgs),
    /// Upload a tree like `put`, skipping each file whose object is unchanged
    ///
    /// Unchanged means: an object at the file's key with the same size that is
    /// no older than the file (as `aws s3 sync` decides); --size-only compares
    /// sizes alone, --checksum the content. One listing of the prefix decides for
    /// every file, never a request per file. Nothing is ever deleted.
    #[command(override_usage = "s3up sync [OPTIONS] <SRC>... <S3_URL>")]
    Sync(SyncArgs),
    /// Continue interrupted uploads and tree sessions: sends only what S3 does not have yet
    ///
    /// With no argument, resumes the only pending upload; when there are several, it names
    /// each one and exits, so that you can choose one by ID or file (or use --all).
    /// The local file must have the same size as when the upload started. Every part
    /// already on S3 is re-read and compared with the file while the missing parts are
    /// sent, and a part whose bytes differ is sent again (see --no-verify), so a file that
    /// was only touched resumes. A tree session (`put DIR`) continues as the same
    /// `put` would: files done are skipped, large files continue from their parts.
    Resume(ResumeArgs),
    /// List unfinished uploads: local journals, or with --remote the uploads S3 holds
    ListPending(ListPendingArgs),
    /// Abort uploads on S3 and delete their journals (a tree session: every upload it
    /// holds); or clean up stale uploads in a bucket
    Abort(AbortArgs),
    /// Run the presigning backend: clients upload with a token and no AWS credentials
    ///
    /// Serves Uppy Companion's S3 multipart API (plus s3up's extensions, see
    /// /openapi.json) on ADDR for BUCKET: it creates, lists, completes and aborts
    /// multipart uploads and presigns each part's URL; clients PUT the bytes
    /// straight to S3. Stops gracefully on SIGTERM or Ctrl-C.
    Serve(ServeArgs),
    /// Print a shell completion script to stdout
    Completions {
        /// The shell to complete for
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct PutArgs {
    /// Files and directories to upload, then the destination: s3://BUCKET/KEY
    /// for one file, s3://BUCKET/PREFIX/ for several or a directory. With --via,
    /// the destination is an optional KEY or PREFIX/ (without it, the backend
    /// chooses the key of one file; a tree goes under the token's prefix)
    #[arg(value_name = "SRC", required = true, num_args = 1..)]
    pub paths: Vec<PathBuf>,

    /// Accepted for `aws s3 cp` hands: a directory always uploads its whole tree
    #[arg(short, long)]
    pub recursive: bool,

    #[command(flatten)]
    pub tree: TreeArgs,

    /// Upload through this backend (`s3up serve`, or an Uppy Companion) with
    /// its token and no AWS credentials: part bodies go straight to S3 with
    /// presigned URLs, every other call goes to the backend
    #[arg(long, value_name = "URL", value_parser = parse_endpoint, conflicts_with_all = ["if_none_match", "storage_class"], help_heading = VIA_HEADING)]
    pub via: Option<String>,

    #[command(flatten)]
    pub token: TokenArgs,

    /// Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB)
    /// [default: 8MiB, raised when the file needs more than 10,000 parts]
    #[arg(long, value_name = "SIZE", value_parser = parse_part_size)]
    pub part_size: Option<u64>,

    /// For standard input ('-'): the stream's size, when known. Its parts are
    /// then sized as a file's of that size (with an ETA); without it they grow
    /// as the stream does, from 8MiB
    #[arg(long, value_name = "SIZE", value_parser = units::parse_size)]
    pub expected_size: Option<u64>,

    /// Abort an unfinished upload of this file to this destination and start
    /// afresh (without it, `put` resumes that upload)
    #[arg(long)]
    pub restart: bool,

    #[command(flatten)]
    pub tuning: Tuning,

    #[command(flatten)]
    pub object: ObjectArgs,
}

/// Which files of a directory a tree upload sends.
#[derive(Debug, Clone, Args)]
pub struct TreeArgs {
    /// Leave out files matching GLOB (repeatable). A pattern without '/' matches
    /// the file name at any depth ('*.tmp'); one with '/' the path under the
    /// prefix ('logs/*.gz'); '*' stops at '/', '**' does not. An excluded file
    /// is never sent, whatever --include says
    #[arg(long, value_name = "GLOB", value_parser = parse_glob)]
    pub exclude: Vec<String>,

    /// Send only files matching GLOB (repeatable; same patterns as --exclude)
    #[arg(long, value_name = "GLOB", value_parser = parse_glob)]
    pub include: Vec<String>,

    /// Follow symbolic links inside directories (a link back to a directory
    /// being uploaded is skipped, so the walk never loops). Without it links are
    /// skipped with a warning; a link named on the command line is always followed
    #[arg(long)]
    pub follow_symlinks: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    #[command(flatten)]
    pub put: PutArgs,

    /// Unchanged means the same size alone (not the time)
    #[arg(long, conflicts_with = "checksum")]
    pub size_only: bool,

    /// Unchanged means the same content: each file whose size matches is read
    /// and its MD5 compared with the ETag listed (the MD5 of the object, or of
    /// its parts at this --part-size). Objects encrypted with SSE-KMS list no MD5
    /// and are always sent
    #[arg(long)]
    pub checksum: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Journal or tree session IDs (from `s3up list-pending`) or the local files
    /// being uploaded
    #[arg(value_name = "ID|FILE", conflicts_with = "all")]
    pub targets: Vec<String>,

    /// Resume every pending upload, one after another
    #[arg(long)]
    pub all: bool,

    /// Trust the parts the journal names without re-reading them. Faster when the
    /// missing parts are few and the disk is slow, but a file rewritten in place
    /// with its modification time kept (cp -p, rsync -t, tar x) then gives an object
    /// that mixes old and new bytes. Parts on S3 that the journal lost are still
    /// checked before they are reused
    #[arg(long)]
    pub no_verify: bool,

    /// The default; accepted so that older scripts keep working
    #[arg(long, hide = true, conflicts_with = "no_verify")]
    pub verify: bool,

    /// The SSE-C key the upload started with (the journal keeps only its
    /// MD5, and a different key is refused): a file, as for `put`
    #[arg(long, value_name = "FILE", value_parser = object::parse_key_file)]
    pub sse_c_key: Option<PathBuf>,

    #[command(flatten)]
    pub token: TokenArgs,

    #[command(flatten)]
    pub tuning: Tuning,
}

#[derive(Debug, Args)]
pub struct ListPendingArgs {
    /// List the in-progress uploads S3 holds under s3://BUCKET[/PREFIX] instead
    /// (they cost storage until completed or aborted)
    #[arg(long, value_name = "S3_URL", value_parser = Location::parse)]
    pub remote: Option<Location>,

    /// Print a JSON array on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AbortArgs {
    /// Journal or tree session IDs of the uploads to abort (from `s3up list-pending`)
    #[arg(
        value_name = "ID",
        required_unless_present = "remote",
        conflicts_with = "remote",
        value_parser = parse_journal_id
    )]
    pub ids: Vec<String>,

    /// Abort in-progress uploads S3 holds under s3://BUCKET[/PREFIX] (with --older-than)
    #[arg(long, value_name = "S3_URL", value_parser = Location::parse)]
    pub remote: Option<Location>,

    /// Only uploads started longer ago than this, e.g. 7d, 12h, 30m, 0s (required with --remote)
    #[arg(long, value_name = "AGE", value_parser = Age::parse, requires = "remote")]
    pub older_than: Option<Age>,

    /// Really abort; without it, --remote only lists what it would abort
    #[arg(long)]
    pub yes: bool,

    /// With --remote, also abort uploads a local journal owns, and delete
    /// their journals; without it they are listed, marked, and kept
    #[arg(long, requires = "remote")]
    pub include_local: bool,

    /// Remove the journal even if the abort fails (a backend that is gone for
    /// good, a token you no longer have). The upload may then stay open on the
    /// store, costing storage, until a lifecycle rule removes it; its ID is printed
    #[arg(long, conflicts_with = "remote")]
    pub forget: bool,

    #[command(flatten)]
    pub token: TokenArgs,
}

/// The help heading of `--via` and the token options.
const VIA_HEADING: &str = "Through a backend (--via), with no AWS credentials";

/// The token for a `--via` backend: `put --via`, and `resume` and `abort` of
/// such an upload, need it (the journal never holds it). Without either
/// option, the S3UP_TOKEN environment variable is read.
#[derive(Debug, Clone, Default, Args)]
pub struct TokenArgs {
    /// Read the --via backend's token from FILE [default: the S3UP_TOKEN
    /// environment variable]
    #[arg(long, value_name = "FILE", conflicts_with = "token", help_heading = VIA_HEADING)]
    pub token_file: Option<PathBuf>,

    /// The --via backend's token itself. Other users of this machine can see
    /// it in `ps`: prefer --token-file or S3UP_TOKEN
    #[arg(long, value_name = "TOKEN", help_heading = VIA_HEADING)]
    pub token: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on, e.g. 127.0.0.1:8080, or 0.0.0.0:8080 behind a TLS proxy
    #[arg(long, value_name = "ADDR")]
    pub listen: std::net::SocketAddr,

    /// The bucket uploads go to
    #[arg(long, value_name = "BUCKET", value_parser = parse_bucket)]
    pub bucket: String,

    /// Every key lies under this prefix (each caller's own prefix comes after it)
    #[arg(long, value_name = "PREFIX", default_value = "")]
    pub prefix: String,

    /// How long a presigned URL stays valid, e.g. 15m, 1h, 900 (seconds); at most
    /// 7d, and never past the credentials' own expiry
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_url_expiry)]
    pub url_expiry: Duration,

    /// Bearer tokens: lines 'sha256:HEX PREFIX [ID]' (see the README)
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,

    /// Accept HS256 JWTs signed with this file's contents; 'exp' is required,
    /// 'nbf' and 'iat' are enforced, and the 'prefix' claim names what the
    /// caller may write
    #[arg(long, value_name = "FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// The longest a JWT may live: tokens whose exp - iat, or exp - now, is
    /// longer are refused, e.g. 1h, 1d
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = units::parse_timeout)]
    pub jwt_max_lifetime: Duration,

    /// Accept requests with no token at all (only on a loopback address)
    #[arg(long, conflicts_with_all = ["tokens", "jwt_secret_file"])]
    pub no_auth: bool,

    /// Let browser pages from this origin call serve (repeatable; * for any)
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    pub cors_origins: Vec<String>,

    /// Replace the bucket's CORS configuration with one that lets browsers at
    /// the --cors-origin origins PUT parts and read their ETag, then serve
    #[arg(long)]
    pub apply_bucket_cors: bool,

    /// Log one JSON object per request instead of text
    #[arg(long)]
    pub json_logs: bool,

    /// How long a request may take, once its body is in, before it is
    /// answered 408, e.g. 300 (seconds) or 5m
    #[arg(long, value_name = "DURATION", default_value = "300", value_parser = units::parse_timeout)]
    pub request_timeout: Duration,

    /// How long a request's line and headers may take to arrive; also how
    /// long an idle keep-alive connection is kept
    #[arg(long, value_name = "DURATION", default_value = "10", value_parser = units::parse_timeout)]
    pub header_timeout: Duration,

    /// How long a request's body may take to arrive (answered 408 after)
    #[arg(long, value_name = "DURATION", default_value = "30", value_parser = units::parse_timeout)]
    pub body_timeout: Duration,

    /// How long a client may leave the answer unread before its connection
    /// is closed (measured between two writes that make progress)
    #[arg(long, value_name = "DURATION", default_value = "30", value_parser = units::parse_timeout)]
    pub write_timeout: Duration,

    /// Connections open at once; more are answered 503 and closed. Kept below
    /// the open-file limit, which serve raises to its hard limit at start
    #[arg(long, value_name = "N", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,

    /// Requests served at once, all callers together, once their bodies are
    /// in; more are answered 503 at once
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_concurrent: u32,

    /// Requests one caller (a token, or a JWT subject) may have in flight,
    /// body included; more are answered 429
    #[arg(long, value_name = "N", default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_concurrent_per_caller: u32,

    /// Requests a second one caller may make, in bursts of as many; more are
    /// answered 429 with Retry-After. 0: no limit
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub rate_limit: u32,

    /// Multipart uploads a second one caller may create (each costs storage
    /// until completed or aborted), in bursts of as many. 0: no limit
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub create_rate_limit: u32,

    /// Requests a second one client address may make to the routes that need
    /// no token (the page, /healthz, /openapi.json). 0: no limit
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub address_rate_limit: u32,

    /// Take the client's address from the first X-Forwarded-For hop (for the
    /// logs and the per-address limits): only behind a proxy that sets it
    #[arg(long)]
    pub trust_proxy: bool,

    /// Serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090
    /// (a listener of its own, with no authentication: keep it private)
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,

    #[command(flatten, next_help_heading = "Imposed on every upload")]
    pub imposed: ImposedArgs,
}

/// How an upload runs: shared by `put` and `resume`.
#[derive(Debug, Clone, Args)]
pub struct Tuning {
    /// How many parts are uploaded at once. Without it, s3up adapts: it starts
    /// at 8, raises it while that raises the throughput (a long link needs
    /// many), up to 64, and halves it when the store says it is overloaded
    /// (503 SlowDown). A number N (1 to 256) pins it: --concurrency 8 is the
    /// fixed default of earlier versions [default: auto, up to 64]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: Option<u32>,

    /// Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,

    /// How long a request may make no progress before it counts as stalled and
    /// is retried, e.g. 30 (seconds), 30s or 2m
    #[arg(long, value_name = "DURATION", default_value = "30", value_parser = units::parse_timeout)]
    pub stall_timeout: Duration,

    /// How long to wait for a store (or backend) that gives no answer at all
    /// (connection refused or reset, no route, a hang), probing it meanwhile:
    /// e.g. 1h, 30m or 0. Attempts that fail while it is down are not counted
    /// against --retries. When the wait runs out the run stops, resumable, with
    /// exit code 3; 0 stops at once, as the retries run out
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = units::parse_duration)]
    pub max_offline: Duration,

    /// Send at most RATE bytes a second, all parts together, so that the upload
    /// shares the link: e.g. 10MiB/s or 500KiB/s (K, M, G, T are powers of
    /// 1024; `/s` is optional, and a bare number is bytes a second). Not kept
    /// in the journal: a resume takes its own [default: no limit]
    #[arg(long, value_name = "RATE", value_parser = units::parse_rate)]
    pub limit_rate: Option<u64>,

    /// Standard input: the most memory its parts may hold at once (they are
    /// buffered until sent; as parts grow, fewer go at once, and no part is
    /// larger than this)
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = units::parse_size)]
    pub max_memory: u64,

    /// How to show progress on stderr: auto (a bar when stderr is a terminal,
    /// else as none), json (one JSON object a second, for CI logs and GUIs),
    /// or none (no bar; one line each time the state changes: retrying,
    /// stalled, waiting for the network). The bar and the rate count only
    /// what the store has acknowledged
    #[arg(long, value_name = "MODE", value_enum, default_value = "auto")]
    pub progress: ProgressMode,

    /// Same as --progress none
    #[arg(long, conflicts_with = "progress")]
    pub no_progress: bool,

    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,

    /// Print one JSON summary object on stdout when done
    #[arg(long)]
    pub json: bool,
}

/// How progress is shown (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, else as none
    Auto,
    /// One JSON object a second on stderr (acknowledged and sent bytes, rate, ETA, parts, state)
    Json,
    /// No bar; one line each time the state changes (retrying, stalled, waiting for the network)
    None,
}

impl Tuning {
    /// Attempts per call: the first one, then `--retries` more.
    pub fn attempts(&self) -> u32 {
        self.retries + 1
    }

    /// The bucket every body of the run draws on (`--limit-rate`), if any.
    pub fn rate_limit(&self) -> Option<crate::store::RateLimit> {
        self.limit_rate.map(crate::store::RateLimit::new)
    }
}

/// Properties of the object being created.
#[derive(Debug, Clone, Args)]
pub struct ObjectArgs {
    /// Content-Type of the object [default: guessed from the file extension]
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,

    /// Storage class of the object, e.g. STANDARD_IA [default: the bucket's]
    #[arg(long, value_name = "CLASS", value_parser = clap::builder::PossibleValuesParser::new(crate::store::sdk::storage_classes()))]
    pub storage_class: Option<String>,

    /// User metadata stored with the object (x-amz-meta-KEY); repeatable
    #[arg(long = "metadata", value_name = "KEY=VALUE", value_parser = crate::s3::parse_metadata)]
    pub metadata: Vec<(String, String)>,

    /// Fail instead of overwriting when the key already exists
    #[arg(long)]
    pub if_none_match: bool,

    #[command(flatten)]
    pub extra: ObjectExtraArgs,

    #[command(flatten)]
    pub checksum: ChecksumArgs,
}

fn parse_part_size(s: &str) -> Result<u64, String> {
    crate::s3::check_part_size(s, units::parse_size(s)?, crate::plan::min_part_size())
}

fn parse_glob(s: &str) -> Result<String, String> {
    crate::walk::compile(s).map(|_| s.to_string())
}

fn parse_url_expiry(s: &str) -> Result<Duration, String> {
    crate::s3::check_presign_expiry(s, units::parse_duration(s)?)
}

fn parse_bucket(s: &str) -> Result<String, String> {
    crate::s3::bucket_name(s)
}

fn parse_endpoint(s: &str) -> Result<String, String> {
    let ok = (s.starts_with("http://") || s.starts_with("https://"))
        && s.split("://").nth(1).is_some_and(|h| !h.is_empty());
    if ok {
        Ok(s.trim_end_matches('/').to_string())
    } else {
        Err(format!(
            "'{s}' is not an endpoint URL: write it as http://HOST[:PORT] or https://HOST[:PORT]"
        ))
    }
}

/// A journal ID as `s3up list-pending` shows it: 12 lowercase hex digits.
fn parse_journal_id(s: &str) -> Result<String, String> {
    if crate::journal::is_valid_id(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "'{s}' is not a journal ID: an ID is 12 hex digits, as `s3up list-pending` shows them"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::MIN_PART_SIZE;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn part_sizes() {
        assert!(parse_part_size("4M").unwrap_err().contains("5MiB to 5GiB"));
        assert!(parse_part_size("6G").is_err());
        assert_eq!(parse_part_size("5M"), Ok(MIN_PART_SIZE));
        assert_eq!(
            parse_part_size("6G"),
            Err("part size '6G' (6.0 GiB) is outside S3's limits: use 5MiB to 5GiB".to_string())
        );
    }

    // Issue 18, item 4: `--limit-rate` on put and resume, refused at 0.
    #[test]
    fn limit_rate_is_a_tuning_option() {
        let tuning = |args: &[&str]| match Cli::try_parse_from(args.iter().copied()) {
            Ok(Cli {
                command:
                    Command::Put(PutArgs { tuning, .. }) | Command::Resume(ResumeArgs { tuning, .. }),
                ..
            }) => Ok(tuning.limit_rate),
            Ok(_) => unreachable!("put or resume"),
            Err(e) => Err(e.to_string()),
        };
        let put = ["s3up", "put", "f", "s3://bkt/k"];
        assert_eq!(tuning(&put), Ok(None));
        assert_eq!(
            tuning(&[&put[..], &["--limit-rate", "5MiB/s"]].concat()),
            Ok(Some(5 << 20))
        );
        assert_eq!(
            tuning(&["s3up", "resume", "--limit-rate", "500K"]),
            Ok(Some(500 << 10))
        );
        let zero = tuning(&[&put[..], &["--limit-rate", "0"]].concat()).unwrap_err();
        assert!(zero.contains("'0' is not a rate above 0"), "{zero}");
    }

    // Issue 17: every duration flag takes the one syntax, a bare number in seconds.
    #[test]
    fn duration_flags_share_one_syntax() {
        let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied());
        let put =
            |flag: &str, value: &str| match parse(&["s3up", "put", "f", "s3://bkt/k", flag, value])
            {
                Ok(Cli {
                    command: Command::Put(p),
                    ..
                }) => Ok(p.tuning.stall_timeout),
                Ok(_) => unreachable!("put parses as put"),
                Err(e) => Err(e.to_string()),
            };
        assert_eq!(put("--stall-timeout", "30"), Ok(Duration::from_secs(30)));
        assert_eq!(put("--stall-timeout", "2m"), Ok(Duration::from_secs(120)));
        assert!(put("--stall-timeout", "0").is_err());
        let expiry = |value: &str| {
            parse(&[
                "s3up",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--bucket",
                "bkt",
            ])
            .and_then(|_| {
                parse(&[
                    "s3up",
                    "serve",
                    "--listen",
                    "127.0.0.1:0",
                    "--bucket",
                    "bkt",
                    "--url-expiry",
                    value,
                ])
            })
            .map(|c| match c.command {
                Command::Serve(s) => (s.url_expiry, s.request_timeout),
                _ => unreachable!("serve parses as serve"),
            })
            .map_err(|e| e.to_string())
        };
        assert_eq!(
            expiry("900"),
            Ok((Duration::from_secs(900), Duration::from_secs(300)))
        );
        assert!(expiry("8d").unwrap_err().contains("outside 1s to 7d"));
        assert_eq!(Age::parse("7d").map(|a| a.text), Ok("7d".to_string()));
    }
}
