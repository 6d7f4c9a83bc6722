//! `s3up serve`: checks the options, connects to S3, checks (or applies) the
//! bucket's CORS rules, and serves until SIGTERM or Ctrl-C.
//!
//! Refusals that need no network come first: no authentication is allowed
//! only with `--no-auth`, and only on a loopback address, because a backend
//! that signs for anyone who asks is an open bucket.

use std::io::Write;
use std::time::Duration;

use crate::cli::{GlobalArgs, ServeArgs};
use crate::error::{Error, Result};
use crate::output;
use crate::serve::app::AppConfig;
use crate::serve::auth::Auth;
use crate::serve::server::{fitting_cap, raise_file_limit, ConnLimits};
use crate::serve::{self, keys, HttpLimits};
use crate::store::sdk::SdkStore;
use crate::store::ErrorKind;

/// The stall timeout of `serve`'s own S3 calls (create, list, complete …).
const STORE_STALL_TIMEOUT: Duration = Duration::from_secs(60);

pub async fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<()> {
    let auth = auth(&args)?;
    let prefix = check_prefix(&args)?;
    init_logs(args.json_logs);

    let store = connect(global, &args).await?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| output::serve::cannot_listen(args.listen, &e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| output::serve::cannot_read_address(&e))?;
    let metrics = match args.metrics_listen {
        Some(at) => {
            let l = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| output::serve::cannot_listen(at, &e))?;
            Some(serve::metrics::start(l).map_err(Error::failed)?)
        }
        None => None,
    };
    let app = serve::app::build(store, app_config(&args, auth)?).await;
    let conn_limits = ConnLimits {
        max_connections: connection_cap(args.max_connections as usize),
        header_timeout: args.header_timeout,
        write_timeout: args.write_timeout,
    };
    output::serve::listening(addr, &args.bucket, &prefix);
    if let Some(at) = metrics {
        output::serve::metrics_at(at);
    }
    let _ = std::io::stdout().flush();
    serve::serve(listener, app, &conn_limits)
        .await
        .map_err(|e| output::serve::serving_failed(addr, &e))?;
    tracing::info!("stopped");
    Ok(())
}

/// `--prefix`, normalised, or why it cannot be one.
pub(super) fn check_prefix(args: &ServeArgs) -> Result<String> {
    let prefix = keys::normalize_prefix(&args.prefix);
    if !prefix.is_empty() {
        keys::check_form(&prefix)
            .map_err(|e| output::serve::bad_prefix(&args.prefix, &e.message))?;
    }
    Ok(prefix)
}

/// Connects to S3 and checks (or applies) the bucket's CORS rules; shared
/// with the Lambda function ([`super::lambda`]).
pub(super) async fn connect(global: &GlobalArgs, args: &ServeArgs) -> Result<SdkStore> {
    let conn = super::context::connection(global);
    let store = SdkStore::connect(&conn, STORE_STALL_TIMEOUT, super::context::list_page_size())
        .await
        .map_err(|e| output::failure::connect_error(e, conn.profile.as_deref()))?;
    bucket_cors(&store, args).await?;
    Ok(store)
}

/// The application's settings from `serve`'s options, for the process and
/// for the Lambda function alike.
pub(super) fn app_config(args: &ServeArgs, auth: Auth) -> Result<AppConfig> {
    Ok(AppConfig {
        bucket: args.bucket.clone(),
        auth,
        url_expiry: args.url_expiry,
        body_timeout: args.body_timeout,
        imposed: super::object::imposed(&args.imposed)?,
        rates: serve::limits::RateLimits {
            max_per_caller: args.max_concurrent_per_caller as usize,
            per_caller: args.rate_limit,
            creates_per_caller: args.create_rate_limit,
            per_address: args.address_rate_limit,
            trust_proxy: args.trust_proxy,
        },
        http: HttpLimits {
            request_timeout: args.request_timeout,
            max_concurrent: args.max_concurrent as usize,
            cors_origins: args.cors_origins.clone(),
            trust_proxy: args.trust_proxy,
        },
    })
}

fn auth(args: &ServeArgs) -> Result<Auth> {
    if args.no_auth {
        if !args.listen.ip().is_loopback() {
            return Err(output::serve::no_auth_refused(args.listen));
        }
        return Ok(Auth::open(&args.prefix));
    }
    if args.tokens.is_none() && args.jwt_secret_file.is_none() {
        return Err(output::serve::auth_needed());
    }
    let (auth, warnings) = Auth::load(
        &args.prefix,
        args.tokens.as_deref(),
        args.jwt_secret_file.as_deref(),
        args.jwt_max_lifetime,
    )
    .map_err(Error::Usage)?;
    for w in warnings {
        output::warning(&w);
    }
    Ok(auth)
}

/// `--max-connections`, or less if the open-file limit (raised to its hard
/// limit first) has no room for it; a warning says so.
fn connection_cap(wanted: usize) -> usize {
    let file_limit = raise_file_limit();
    match fitting_cap(wanted, file_limit) {
        Some(cap) => {
            tracing::warn!(
                "{}",
                output::serve::connections_capped(wanted, cap, file_limit.unwrap_or(0))
            );
            cap
        }
        None => wanted,
    }
}

/// s3up's own events at INFO (the request lines); other crates' (the SDK's)
/// only at ERROR, so the log stays one line per request.
pub(super) fn init_logs(json: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter = Targets::new()
        .with_target("s3up", tracing::Level::INFO)
        .with_default(tracing::Level::ERROR);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    let layer = if json {
        layer.json().flatten_event(true).boxed()
    } else {
        layer.boxed()
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter))
        .try_init();
}

/// Reads the bucket's CORS rules and says in one line what a browser would
/// miss, or, with `--apply-bucket-cors`, replaces them. A missing bucket stops
/// `serve` here, before it answers anyone.
async fn bucket_cors(store: &SdkStore, args: &ServeArgs) -> Result<()> {
    let wanted = serve::bucket_cors::wanted_bucket_cors(&args.cors_origins);
    let json = serde_json::json!({ "CORSRules": [&wanted] }).to_string();
    if args.apply_bucket_cors {
        store
            .put_bucket_cors(&args.bucket, &wanted)
            .await
            .map_err(|e| output::serve::cannot_set_cors(&args.bucket, &e, &json))?;
        tracing::info!(bucket = %args.bucket, cors = %json, "applied the bucket's CORS configuration");
        return Ok(());
    }
    match store.bucket_cors(&args.bucket).await {
        Ok(rules) => {
            if let Some(gap) =
                serve::bucket_cors::bucket_cors_gap(rules.as_deref(), &args.cors_origins)
            {
                tracing::warn!("{}", output::serve::cors_gap(&args.bucket, &gap, &json));
            }
            Ok(())
        }
        Err(e) if e.kind == ErrorKind::NoSuchBucket => {
            Err(output::serve::no_such_bucket(&args.bucket))
        }
        Err(e) => {
            tracing::warn!(
                "{}",
                output::serve::cors_unreadable(&args.bucket, &e, &json)
            );
            Ok(())
        }
    }
}
