//! `s3up-lambda`: `serve` as an AWS Lambda function, configured from the
//! function's environment instead of a command line.
//!
//! Each variable stands for one of `serve`'s options ([`OPTIONS`]); they are
//! handed to the same clap definitions, so their syntax, ranges and defaults
//! are `serve`'s own, written once. Authentication is the tokens file's
//! lines in `S3UP_TOKENS` and/or the JWT secret in `S3UP_JWT_SECRET` (Lambda
//! keeps environment variables encrypted at rest), each either the value
//! itself or the ARN of an SSM parameter or Secrets Manager secret holding
//! it, read at cold start (`lambda_secrets`). Credentials come from the
//! function's role through the ordinary chain, the region from `AWS_REGION`,
//! which Lambda sets, and an endpoint (for tests) from `AWS_ENDPOINT_URL`.
//! Presigned URLs never outlive the role's session credentials, as in
//! `serve` (the store caps each URL's expiry at theirs).
//!
//! The start-up work is `serve`'s: the prefix and the tokens are checked,
//! S3 is connected to and the bucket's CORS rules are read (a warning in the
//! log when browsers could not upload), then the runtime loop starts. A bad
//! setting ends the cold start with one error line in the log.

use clap::Parser;

use crate::cli::{Cli, Command, GlobalArgs, ServeArgs};
use crate::error::{Error, Result};
use crate::output;
use crate::serve;
use crate::serve::auth::{Auth, Source};

/// The function's environment variables and the `serve` option each stands
/// for; a value is read exactly as that option's.
pub const OPTIONS: &[(&str, &str)] = &[
    ("S3UP_BUCKET", "--bucket"),
    ("S3UP_PREFIX", "--prefix"),
    ("S3UP_URL_EXPIRY", "--url-expiry"),
    ("S3UP_JWT_MAX_LIFETIME", "--jwt-max-lifetime"),
    ("S3UP_REQUEST_TIMEOUT", "--request-timeout"),
    ("S3UP_BODY_TIMEOUT", "--body-timeout"),
    (
        "S3UP_MAX_CONCURRENT_PER_CALLER",
        "--max-concurrent-per-caller",
    ),
    ("S3UP_RATE_LIMIT", "--rate-limit"),
    ("S3UP_CREATE_RATE_LIMIT", "--create-rate-limit"),
    ("S3UP_ADDRESS_RATE_LIMIT", "--address-rate-limit"),
];

/// Origins a browser page may call the function from, comma-separated
/// (`--cors-origin` repeated; `*` for any).
pub const CORS_ORIGINS: &str = "S3UP_CORS_ORIGINS";
/// The tokens file's lines (`sha256:HEX PREFIX [ID]`, one a line).
pub const TOKENS: &str = "S3UP_TOKENS";
/// The HS256 secret of the JWTs (at least 32 bytes).
pub const JWT_SECRET: &str = "S3UP_JWT_SECRET";
/// `1` or `true`: JSON log lines (`--json-logs`).
pub const JSON_LOGS: &str = "S3UP_JSON_LOGS";

/// Reads the environment, connects to S3, and answers invocations until the
/// instance is shut down.
pub async fn run() -> Result<()> {
    let env = |name: &str| std::env::var(name).ok();
    let (global, args) = options(env)?;
    let tokens = super::lambda_secrets::resolve(TOKENS, env(TOKENS)).await?;
    let jwt = super::lambda_secrets::resolve(JWT_SECRET, env(JWT_SECRET)).await?;
    let resolved = |name: &str| match name {
        TOKENS => tokens.clone(),
        JWT_SECRET => jwt.clone(),
        _ => env(name),
    };
    let auth = auth(resolved, &args)?;
    super::serve::check_prefix(&args)?;
    super::serve::init_logs(args.json_logs);
    let store = super::serve::connect(&global, &args).await?;
    let app = serve::app::build(store, super::serve::app_config(&args, auth)?).await;
    tracing::info!(bucket = %args.bucket, prefix = %args.prefix, "ready for invocations");
    serve::lambda::run(app)
        .await
        .map_err(|e| output::lambda::runtime_failed(&e.to_string()))
}

/// `serve`'s options from the variables `env` gives: parsed by `serve`'s own
/// clap definitions, so a bad value is refused as that option would be, and
/// the message names the variable.
pub fn options(env: impl Fn(&str) -> Option<String>) -> Result<(GlobalArgs, ServeArgs)> {
    let Some(bucket) = env("S3UP_BUCKET").filter(|b| !b.is_empty()) else {
        return Err(output::lambda::no_bucket());
    };
    // The listener is never opened; the function's address is AWS's.
    let mut argv = vec![
        "s3up".to_string(),
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--bucket".into(),
        bucket,
    ];
    for (var, flag) in &OPTIONS[1..] {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            argv.push(format!("{flag}={value}"));
        }
    }
    for origin in env(CORS_ORIGINS).unwrap_or_default().split(',') {
        let origin = origin.trim();
        if !origin.is_empty() {
            argv.push(format!("--cors-origin={origin}"));
        }
    }
    if env(JSON_LOGS).is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")) {
        argv.push("--json-logs".into());
    }
    let cli = Cli::try_parse_from(&argv).map_err(|e| {
        let flag = match e.get(clap::error::ContextKind::InvalidArg) {
            Some(clap::error::ContextValue::String(arg)) => arg.clone(),
            _ => String::new(),
        };
        let var = OPTIONS
            .iter()
            .find(|(_, f)| flag.starts_with(f))
            .map_or("S3UP_*", |(v, _)| v);
        output::lambda::bad_variable(var, &output::usage::clap_error_line(&e.to_string()))
    })?;
    match cli.command {
        Command::Serve(args) => Ok((cli.global, args)),
        _ => Err(output::lambda::not_serve()),
    }
}

/// The tokens and/or the JWT secret from `env` (ARNs already read by
/// [`super::lambda_secrets::resolve`]); at least one is needed.
pub fn auth(env: impl Fn(&str) -> Option<String>, args: &ServeArgs) -> Result<Auth> {
    let tokens = env(TOKENS)
        .filter(|t| !t.trim().is_empty())
        .map(|t| Source::new(t, TOKENS.into()));
    let jwt = env(JWT_SECRET)
        .filter(|t| !t.is_empty())
        .map(|t| Source::new(t.into_bytes(), JWT_SECRET.into()));
    if tokens.is_none() && jwt.is_none() {
        return Err(output::lambda::auth_needed());
    }
    let (auth, warnings) = Auth::from_sources(&args.prefix, tokens, jwt, args.jwt_max_lifetime)
        .map_err(Error::Usage)?;
    for w in warnings {
        output::warning(&w);
    }
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::time::Duration;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name: &str| map.get(name).cloned()
    }

    #[test]
    fn the_environment_gives_serves_options_and_defaults() {
        let (_, args) = options(env(&[
            ("S3UP_BUCKET", "uploads"),
            ("S3UP_PREFIX", "in"),
            ("S3UP_URL_EXPIRY", "5m"),
            ("S3UP_CORS_ORIGINS", "https://a.example, https://b.example"),
            ("S3UP_RATE_LIMIT", "7"),
        ]))
        .unwrap();
        assert_eq!(args.bucket, "uploads");
        assert_eq!(args.prefix, "in");
        assert_eq!(args.url_expiry, Duration::from_secs(300));
        assert_eq!(
            args.cors_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(args.rate_limit, 7);
        // The rest are serve's own defaults.
        assert_eq!(args.create_rate_limit, 10);
        assert_eq!(args.request_timeout, Duration::from_secs(300));
        assert!(!args.json_logs && !args.trust_proxy);
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let e = options(env(&[("S3UP_BUCKET", "bkt"), ("S3UP_URL_EXPIRY", "soon")]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.starts_with("S3UP_URL_EXPIRY in the function's environment: "),
            "{e}"
        );
        assert!(e.contains("soon"), "{e}");
        let e = options(env(&[])).err().unwrap().to_string();
        assert!(e.contains("S3UP_BUCKET is not set"), "{e}");
    }

    #[test]
    fn authentication_comes_from_the_environment_and_is_required() {
        let (_, args) = options(env(&[("S3UP_BUCKET", "bkt")])).unwrap();
        let e = auth(env(&[]), &args).err().unwrap().to_string();
        assert!(
            e.contains("S3UP_TOKENS") && e.contains("S3UP_JWT_SECRET"),
            "{e}"
        );
        let e = auth(env(&[("S3UP_JWT_SECRET", "short")]), &args)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("S3UP_JWT_SECRET") && e.contains("32"), "{e}");
        let tokens =
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 alice/ a";
        let auth = auth(env(&[("S3UP_TOKENS", tokens)]), &args).unwrap();
        assert!(!auth.is_open());
    }
}
