//! The command line: clap definitions and the checks of single values.
//!
//! Everything a user can get wrong in one value (a malformed S3 URL, a part size
//! outside S3's limits, concurrency 0) is rejected here, by clap, with exit code 2
//! and a message that quotes the value. Checks that need the file system or the
//! network belong to `cmd`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::plan::MAX_PART_SIZE;

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

/// Options every command accepts, before or after the subcommand.
#[derive(Debug, Clone, Args)]
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
    /// Upload FILE to s3://BUCKET/KEY (a KEY that is empty or ends in '/' gets the file name appended)
    #[command(visible_alias = "cp")]
    Put(PutArgs),
    /// Continue interrupted uploads: sends only the parts S3 does not have yet, then completes
    ///
    /// With no argument, resumes the only pending upload; when there are several, it names
    /// each one and exits, so that you can choose one by ID or file (or use --all).
    /// The local file must have the same size as when the upload started. Every part
    /// already on S3 is re-read and compared with the file while the missing parts are
    /// sent, and a part whose bytes differ is sent again (see --no-verify), so a file that
    /// was only touched resumes.
    Resume(ResumeArgs),
    /// List unfinished uploads: local journals, or with --remote the uploads S3 holds
    ListPending(ListPendingArgs),
    /// Abort uploads on S3 and delete their journals; or clean up stale uploads in a bucket
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
    /// The local file to upload
    #[arg(value_name = "FILE")]
    pub file: PathBuf,

    /// Destination, as s3://BUCKET/KEY; with --via, the KEY to ask the backend
    /// for (optional: without it the backend chooses one from the file name)
    #[arg(value_name = "S3_URL", value_parser = parse_target, required_unless_present = "via")]
    pub dest: Option<Target>,

    /// Upload through this backend (`s3up serve`, or an Uppy Companion) with
    /// its token and no AWS credentials: part bodies go straight to S3 with
    /// presigned URLs, every other call goes to the backend
    #[arg(long, value_name = "URL", value_parser = parse_endpoint, conflicts_with_all = ["if_none_match", "storage_class"])]
    pub via: Option<String>,

    #[command(flatten)]
    pub token: TokenArgs,

    /// Size of each part, 5MiB to 5GiB; K, M, G, T are powers of 1024 (8M = 8MiB)
    /// [default: 8MiB, raised when the file needs more than 10,000 parts]
    #[arg(long, value_name = "SIZE", value_parser = parse_part_size)]
    pub part_size: Option<u64>,

    /// Abort an unfinished upload of this file to this destination and start
    /// afresh (without it, `put` resumes that upload)
    #[arg(long)]
    pub restart: bool,

    #[command(flatten)]
    pub tuning: Tuning,

    #[command(flatten)]
    pub object: ObjectArgs,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// Journal IDs (from `s3up list-pending`) or the local files being uploaded
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

    #[command(flatten)]
    pub token: TokenArgs,

    #[command(flatten)]
    pub tuning: Tuning,
}

#[derive(Debug, Args)]
pub struct ListPendingArgs {
    /// List the in-progress uploads S3 holds under s3://BUCKET[/PREFIX] instead
    /// (they cost storage until completed or aborted)
    #[arg(long, value_name = "S3_URL", value_parser = S3Url::parse)]
    pub remote: Option<S3Url>,

    /// Print a JSON array on stdout
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AbortArgs {
    /// Journal IDs of the uploads to abort (from `s3up list-pending`)
    #[arg(
        value_name = "ID",
        required_unless_present = "remote",
        conflicts_with = "remote",
        value_parser = parse_journal_id
    )]
    pub ids: Vec<String>,

    /// Abort in-progress uploads S3 holds under s3://BUCKET[/PREFIX] (with --older-than)
    #[arg(long, value_name = "S3_URL", value_parser = S3Url::parse)]
    pub remote: Option<S3Url>,

    /// Only uploads started longer ago than this, e.g. 7d, 12h, 30m, 0s (required with --remote)
    #[arg(long, value_name = "AGE", value_parser = Age::parse, requires = "remote")]
    pub older_than: Option<Age>,

    /// Really abort; without it, --remote only lists what it would abort
    #[arg(long)]
    pub yes: bool,

    /// Remove the journal even if the abort fails (a backend that is gone for
    /// good, a token you no longer have). The upload may then stay open on the
    /// store, costing storage, until a lifecycle rule removes it; its ID is printed
    #[arg(long, conflicts_with = "remote")]
    pub forget: bool,

    #[command(flatten)]
    pub token: TokenArgs,
}

/// The token for a `--via` backend: `put --via`, and `resume` and `abort` of
/// such an upload, need it (the journal never holds it). Without either
/// option, the S3UP_TOKEN environment variable is read.
#[derive(Debug, Clone, Default, Args)]
pub struct TokenArgs {
    /// Read the --via backend's token from FILE [default: the S3UP_TOKEN
    /// environment variable]
    #[arg(long, value_name = "FILE", conflicts_with = "token")]
    pub token_file: Option<PathBuf>,

    /// The --via backend's token itself. Other users of this machine can see
    /// it in `ps`: prefer --token-file or S3UP_TOKEN
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
}

/// `put`'s destination: `s3://BUCKET/KEY`, or with --via a bare key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    S3(S3Url),
    Key(String),
}

/// An `s3://` URL is checked as one; anything else is a key for --via
/// (`put` refuses it without --via, quoting S3Url's message).
fn parse_target(s: &str) -> Result<Target, String> {
    if s.starts_with("s3://") {
        S3Url::parse(s).map(Target::S3)
    } else if s.len() > 1024 {
        Err(format!("the key '{s}' is longer than S3's 1024-byte limit"))
    } else {
        Ok(Target::Key(s.to_string()))
    }
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

    /// How long a presigned URL stays valid, e.g. 15m, 1h; at most 7d, and never
    /// past the credentials' own expiry
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_url_expiry)]
    pub url_expiry: Duration,

    /// Bearer tokens: lines 'sha256:HEX PREFIX [ID]' (see the README)
    #[arg(long, value_name = "FILE")]
    pub tokens: Option<PathBuf>,

    /// Accept HS256 JWTs signed with this file's contents; 'exp' is enforced and
    /// the 'prefix' claim names what the caller may write
    #[arg(long, value_name = "FILE")]
    pub jwt_secret_file: Option<PathBuf>,

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

    /// Seconds a request may take before it is answered 408
    #[arg(long, value_name = "SECS", default_value = "300", value_parser = parse_seconds)]
    pub request_timeout: Duration,

    /// Requests served at once; more are answered 503 at once
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub max_concurrent: u32,
}

/// How an upload runs: shared by `put` and `resume`.
#[derive(Debug, Clone, Args)]
pub struct Tuning {
    /// How many parts are uploaded at once
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,

    /// Retries per part (and per request) after its first attempt; when they run out the run stops, resumable, with exit code 3
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub retries: u32,

    /// Seconds without progress after which a request counts as stalled and is retried
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = parse_seconds)]
    pub stall_timeout: Duration,

    /// How to show progress on stderr: auto (a bar when stderr is a terminal),
    /// json (one JSON object a second, for CI logs and GUIs), or none. The bar
    /// and the rate count only what the store has acknowledged
    #[arg(long, value_name = "MODE", value_enum, default_value = "auto")]
    pub progress: crate::progress::Mode,

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

impl Tuning {
    /// Attempts per call: the first one, then `--retries` more.
    pub fn attempts(&self) -> u32 {
        self.retries + 1
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
    #[arg(long = "metadata", value_name = "KEY=VALUE", value_parser = parse_metadata)]
    pub metadata: Vec<(String, String)>,

    /// Fail instead of overwriting when the key already exists
    #[arg(long)]
    pub if_none_match: bool,
}

/// An `s3://BUCKET/KEY` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub key: String,
}

impl S3Url {
    /// Parses `s3://BUCKET[/KEY]`. The bucket must follow S3's naming rules.
    pub fn parse(s: &str) -> Result<S3Url, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("'{s}' is not an S3 URL: write it as s3://BUCKET/KEY"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!(
                "'{s}' has no bucket name: write it as s3://BUCKET/KEY"
            ));
        }
        let valid_chars = bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let alnum_ends = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !(3..=63).contains(&bucket.len()) || !valid_chars || !alnum_ends {
            return Err(format!(
                "'{bucket}' in '{s}' is not a valid bucket name: 3 to 63 lowercase letters, \
                 digits, dots or hyphens, starting and ending with a letter or digit"
            ));
        }
        if key.len() > 1024 {
            return Err(format!(
                "the key in '{s}' is longer than S3's 1024-byte limit"
            ));
        }
        Ok(S3Url {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

impl std::fmt::Display for S3Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Parses a byte size: a number with an optional unit K, M, G or T (powers of
/// 1024, also written KiB, MiB, KB, MB …, any case) or B.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits_end);
    if unit.starts_with('.') && !num.is_empty() {
        return Err(decimal_size(s, num, unit));
    }
    let n: u64 = num.parse().map_err(|_| {
        format!("'{s}' is not a size: write a number with an optional unit, like 8MiB or 64M")
    })?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        "t" | "tb" | "tib" => 40,
        _ => {
            return Err(format!(
                "'{s}' has an unknown unit: use K, M, G or T (powers of 1024)"
            ))
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("'{s}' is too large"))
}

/// The message for a size with a decimal point, such as `5.5MiB`: sizes
/// are whole numbers, so it says the same size in the next smaller unit.
fn decimal_size(s: &str, whole: &str, rest: &str) -> String {
    let frac_end = rest[1..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(rest.len(), |i| i + 1);
    let (frac, unit) = rest.split_at(frac_end);
    let units = ["", "k", "m", "g", "t"];
    let names = ["B", "KiB", "MiB", "GiB", "TiB"];
    let unit_lower = unit.trim().to_ascii_lowercase();
    let level = units.iter().position(|u| {
        !u.is_empty()
            && (unit_lower == *u || unit_lower == format!("{u}b") || unit_lower == format!("{u}ib"))
    });
    let exact = level.and_then(|level| {
        let value: f64 = format!("{whole}{frac}").parse().ok()?;
        let smaller = value * 1024.0;
        (smaller.fract() == 0.0).then(|| format!(", like {}{}", smaller as u64, names[level - 1]))
    });
    format!(
        "'{s}' is not a whole number: sizes take no decimals. Write it in a smaller unit{}",
        exact.unwrap_or_default()
    )
}

fn parse_part_size(s: &str) -> Result<u64, String> {
    let n = parse_size(s)?;
    if !(crate::plan::min_part_size()..=MAX_PART_SIZE).contains(&n) {
        return Err(format!(
            "part size '{s}' ({}) is outside S3's limits: use 5MiB to 5GiB",
            crate::output::size(n)
        ));
    }
    Ok(n)
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    match s.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(format!("'{s}' is not a whole number of seconds above 0")),
    }
}

/// An age as the user wrote it (`7d`), and how long that is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Age {
    pub text: String,
    pub duration: Duration,
}

impl Age {
    fn parse(s: &str) -> Result<Age, String> {
        Ok(Age {
            text: s.trim().to_string(),
            duration: parse_age(s)?,
        })
    }
}

/// Parses an age: a whole number with a unit s, m, h, d or w.
pub fn parse_age(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{s}' is not an age: write a number and a unit, like 7d or 12h"))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(format!("'{s}' has no unit: use s, m, h, d or w, like 7d")),
    };
    n.checked_mul(secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{s}' is too long"))
}

fn parse_bucket(s: &str) -> Result<String, String> {
    let url = S3Url::parse(&format!("s3://{s}"))?;
    if !url.key.is_empty() {
        return Err(format!(
            "'{s}' is not a bucket name: give the prefix with --prefix"
        ));
    }
    Ok(url.bucket)
}

/// A presigned URL's life: 1 second to SigV4's 7 days.
fn parse_url_expiry(s: &str) -> Result<Duration, String> {
    let d = parse_age(s)?;
    if d < Duration::from_secs(1) || d > Duration::from_secs(7 * 86_400) {
        return Err(format!(
            "URL expiry '{s}' is outside 1s to 7d, the range SigV4 allows"
        ));
    }
    Ok(d)
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

fn parse_metadata(s: &str) -> Result<(String, String), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("'{s}' is not KEY=VALUE"))?;
    let key_ok = !k.is_empty()
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if !key_ok {
        return Err(format!(
            "metadata key '{k}' must be non-empty ASCII letters, digits, '-', '_' or '.'"
        ));
    }
    if !v.is_ascii() || v.chars().any(|c| c.is_ascii_control()) {
        return Err(format!(
            "metadata value '{v}' must be printable ASCII (S3 sends it in an HTTP header)"
        ));
    }
    Ok((k.to_ascii_lowercase(), v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::MIN_PART_SIZE;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("5GiB"), Ok(5 << 30));
        assert_eq!(parse_size("5gb"), Ok(5 << 30));
        assert_eq!(parse_size("1234"), Ok(1234));
        assert!(parse_size("").is_err());
        assert!(parse_size("8 furlongs").is_err());
        assert!(parse_size("-1M").is_err());
        assert!(parse_size("99999999999T").is_err());
        assert!(parse_part_size("4M").unwrap_err().contains("5MiB to 5GiB"));
        assert!(parse_part_size("6G").is_err());
        assert_eq!(parse_part_size("5M"), Ok(MIN_PART_SIZE));
    }

    #[test]
    fn s3_urls() {
        let u = S3Url::parse("s3://my-bucket/a/b.bin").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.key.as_str()),
            ("my-bucket", "a/b.bin")
        );
        assert_eq!(S3Url::parse("s3://bkt").unwrap().key, "");
        assert_eq!(S3Url::parse("s3://bkt/dir/").unwrap().key, "dir/");
        for bad in [
            "bkt/key",
            "s3:/bkt/k",
            "s3:///k",
            "s3://B/k",
            "s3://ab/k",
            "s3://-ab/k",
        ] {
            let err = S3Url::parse(bad).unwrap_err();
            assert!(err.contains('\''), "{bad}: {err}");
        }
    }

    #[test]
    fn ages() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("0s"), Ok(Duration::ZERO));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert!(parse_age("7").unwrap_err().contains("'7'"));
        assert!(parse_age("d").is_err());
        assert!(parse_age("3y").is_err());
        assert_eq!(Age::parse("7d").map(|a| a.text), Ok("7d".to_string()));
    }

    // Issue 13, item 8: `5.5MiB` was called "an unknown unit".
    #[test]
    fn decimal_sizes_are_explained() {
        assert_eq!(
            parse_size("5.5MiB"),
            Err(
                "'5.5MiB' is not a whole number: sizes take no decimals. Write it in a smaller \
                 unit, like 5632KiB"
                    .to_string()
            )
        );
        assert_eq!(
            parse_size("1.5G"),
            Err(
                "'1.5G' is not a whole number: sizes take no decimals. Write it in a smaller \
                 unit, like 1536MiB"
                    .to_string()
            )
        );
        assert!(parse_size("0.3B").unwrap_err().ends_with("smaller unit"));
        assert_eq!(
            parse_part_size("6G"),
            Err("part size '6G' (6.0 GiB) is outside S3's limits: use 5MiB to 5GiB".to_string())
        );
    }

    #[test]
    fn metadata() {
        assert_eq!(
            parse_metadata("Owner=me"),
            Ok(("owner".into(), "me".into()))
        );
        assert_eq!(parse_metadata("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_metadata("novalue").is_err());
        assert!(parse_metadata("=v").is_err());
        assert!(parse_metadata("k=é").is_err());
    }
}
