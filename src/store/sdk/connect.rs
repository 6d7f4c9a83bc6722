//! Building the SDK client, and the settings every request then runs with:
//! the profile, region and endpoint resolved as aws resolves them (and
//! recorded as used), credentials checked up front and cached for signing,
//! and two SDK defaults changed on purpose, both so that each byte is hashed once:
//! - Recent SDKs add a CRC checksum to every upload. s3up sends its own SHA-256
//!   per part instead (`request_checksum_calculation = WhenRequired`, in
//!   [`configure`]), which also keeps stores that reject the SDK's default
//!   checksums working.
//! - SigV4 normally hashes the body again to sign it (`x-amz-content-sha256`).
//!   For PutObject and UploadPart s3up hands the signer the SHA-256 it already
//!   computed ([`SignedPayloadHash`], through [`PayloadSigningOverride::Precomputed`]).
//!   That value *is* the SHA-256 of the body, so the signature covers the body
//!   exactly as a signer that hashed it would: S3 rejects a body that does not
//!   match the signed hash, and also checks it against `x-amz-checksum-sha256`.
//!   Nothing is weakened (this is not UNSIGNED-PAYLOAD); only the duplicate
//!   computation is gone.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_runtime::auth::PayloadSigningOverride;
use aws_sdk_s3::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_s3::config::{
    ConfigBag, Credentials, Intercept, ProvideCredentials, Region, RequestChecksumCalculation,
    ResponseChecksumValidation, RuntimeComponents, SharedCredentialsProvider,
    StalledStreamProtectionConfig,
};
use aws_sdk_s3::error::BoxError;
use aws_sdk_s3::Client;

use super::errors::fatal;
use super::SdkStore;
use crate::store::errors::error_chain;
use crate::store::watchdog::Watchdog;
use crate::store::{Connection, ErrorKind, StoreError};

/// Why no client could be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectError {
    /// No region from the options, the environment or the profile.
    NoRegion,
    /// The SDK has no credentials provider at all.
    NoProvider,
    /// The provider found no credentials; the cause chain on one line.
    NoCredentials(String),
    /// `--profile` (or the journal's) names a profile that neither the config
    /// file nor the credentials file defines; the files that were read.
    NoProfile {
        name: String,
        /// Named by AWS_PROFILE rather than `--profile`.
        from_env: bool,
        files: Vec<String>,
    },
    /// `--ca-bundle` (or AWS_CA_BUNDLE) names a file that is no PEM bundle.
    CaBundle { path: String, reason: String },
}

/// Credentials are fetched again when they expire sooner than this, so a URL
/// is never signed with credentials about to lapse.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The credentials last fetched, shared by every clone of the store, so the
/// provider (IMDS, SSO …) is asked once per refresh, not once per request.
/// `serve` signs its URLs and POST forms with them.
#[derive(Debug, Clone, Default)]
pub(crate) struct CredentialsCache {
    provider: Option<SharedCredentialsProvider>,
    cached: Arc<tokio::sync::Mutex<Option<Credentials>>>,
}

impl CredentialsCache {
    pub(crate) fn new(provider: Option<SharedCredentialsProvider>) -> CredentialsCache {
        CredentialsCache {
            provider,
            cached: Default::default(),
        }
    }
}

impl SdkStore {
    /// Builds a client from the normal AWS chain (env, profile, SSO, IMDS) with
    /// `conn` on top, and checks up front that credentials can be found, so a
    /// missing key fails in one clear line instead of at the first request.
    /// A request that makes no progress for `stall_timeout` fails (and is retried);
    /// `page_size` bounds list pages (`None`: the store's default).
    pub async fn connect(
        conn: &Connection,
        stall_timeout: Duration,
        page_size: Option<i32>,
    ) -> Result<SdkStore, ConnectError> {
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            // s3up retries every call itself, per part, with its own budget
            // (--retries); SDK retries underneath would multiply the attempts.
            .retry_config(aws_config::retry::RetryConfig::disabled())
            // Only the connect phase has a fixed limit. The SDK's read timeout
            // runs from sending the request to the response headers, so it would
            // cap a whole part upload, and its stalled-stream check cannot see
            // an in-memory body: both are replaced by the store's watchdog,
            // which fails a request only when it stops making progress.
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .build(),
            )
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled());
        if let Some(profile) = &conn.profile {
            check_profile(profile, false).await?;
            loader = loader.profile_name(profile);
        } else if let Some(profile) = std::env::var("AWS_PROFILE")
            .ok()
            .filter(|p| !p.is_empty() && p != "default")
        {
            // As aws does: a missing `default` is no error, any other name is.
            check_profile(&profile, true).await?;
        }
        if let Some(region) = &conn.region {
            loader = loader.region(Region::new(region.clone()));
        } else if conn.endpoint_url.is_some() {
            // A custom endpoint: the region comes from the environment or the
            // profile, else us-east-1 — never from EC2 instance metadata, which
            // off EC2 means a network timeout on every command.
            let mut profile = aws_config::profile::ProfileFileRegionProvider::builder();
            if let Some(name) = &conn.profile {
                profile = profile.profile_name(name);
            }
            let chain = aws_config::meta::region::RegionProviderChain::first_try(
                aws_config::environment::EnvironmentVariableRegionProvider::new(),
            )
            .or_else(profile.build())
            .or_else("us-east-1");
            loader = loader.region(chain);
        }
        if let Some(url) = &conn.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if conn.no_verify_ssl {
            loader = loader.http_client(super::tls::client_trusting_any());
        } else if let Some(bundle) = &conn.ca_bundle {
            loader = loader.http_client(super::tls::client_trusting(bundle)?);
        }
        let sdk = loader.load().await;

        let region = match (sdk.region(), &conn.endpoint_url) {
            (Some(r), _) => r.to_string(),
            // S3-compatible stores rarely care; AWS's own default.
            (None, Some(_)) => "us-east-1".to_string(),
            (None, None) => return Err(ConnectError::NoRegion),
        };
        let provider = sdk.credentials_provider().ok_or(ConnectError::NoProvider)?;
        provider.provide_credentials().await.map_err(|e| {
            // The SDK lists each provider it tried on its own line;
            // s3up's errors are one line.
            let chain = error_chain(&e);
            ConnectError::NoCredentials(chain.split_whitespace().collect::<Vec<_>>().join(" "))
        })?;

        // Resolved as the SDK resolves it, then set explicitly, so that the
        // endpoint recorded is the endpoint used.
        let endpoint_url = conn.endpoint_url.clone().or_else(|| {
            use aws_types::service_config::ServiceConfigKey;
            sdk.service_config()
                .and_then(|c| {
                    c.load_config(
                        ServiceConfigKey::builder()
                            .service_id("S3")
                            .env("AWS_ENDPOINT_URL")
                            .profile("endpoint_url")
                            .build()
                            .ok()?,
                    )
                })
                .or_else(|| sdk.endpoint_url().map(str::to_string))
        });
        let path_style = conn.path_style || endpoint_url.is_some();
        let mut builder = configure(aws_sdk_s3::config::Builder::from(&sdk), path_style);
        builder.set_endpoint_url(endpoint_url.clone());
        let config = builder.region(Region::new(region.clone())).build();
        Ok(SdkStore {
            client: Client::from_conf(config),
            region,
            endpoint_url,
            path_style,
            page_size,
            watchdog: Watchdog::new(stall_timeout),
            limit: None,
            credentials: CredentialsCache::new(Some(provider)),
            kind: Default::default(),
        })
    }

    /// The credentials the client signs with, refreshed shortly before they expire.
    pub(super) async fn credentials(&self) -> Result<Credentials, StoreError> {
        let mut cached = self.credentials.cached.lock().await;
        if let Some(c) = cached.as_ref() {
            let fresh = match c.expiry() {
                None => true,
                Some(t) => t
                    .duration_since(SystemTime::now())
                    .is_ok_and(|left| left > CREDENTIALS_REFRESH_MARGIN),
            };
            if fresh {
                return Ok(c.clone());
            }
        }
        let provider = self
            .credentials
            .provider
            .as_ref()
            .ok_or_else(|| fatal("Credentials", "no credentials provider is configured"))?;
        let c = provider
            .provide_credentials()
            .await
            .map_err(|e| StoreError::new(ErrorKind::Retryable, "Credentials", error_chain(&e)))?;
        *cached = Some(c.clone());
        Ok(c)
    }
}

/// Fails unless the config or credentials file (as the SDK finds them,
/// honouring AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE) defines
/// `name`. The SDK itself would fall back to the environment's credentials
/// in silence, so a mistyped profile would go unnoticed (issue 13).
async fn check_profile(name: &str, from_env: bool) -> Result<(), ConnectError> {
    use aws_types::os_shim_internal::{Env, Fs};
    let (env, fs) = (Env::real(), Fs::real());
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let found = aws_config::profile::parser::load(&fs, &env, &files, None)
        .await
        .is_ok_and(|set| set.get_profile(name).is_some());
    if found {
        return Ok(());
    }
    let file =
        |var: &str, default: &str| std::env::var(var).unwrap_or_else(|_| default.to_string());
    Err(ConnectError::NoProfile {
        name: name.to_string(),
        from_env,
        files: vec![
            file("AWS_CONFIG_FILE", "~/.aws/config"),
            file("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        ],
    })
}

/// The S3 client settings s3up depends on, whatever the source of the rest.
pub(super) fn configure(
    b: aws_sdk_s3::config::Builder,
    path_style: bool,
) -> aws_sdk_s3::config::Builder {
    b.force_path_style(path_style)
        // s3up sends its own SHA-256 per part (see the module docs).
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
}

/// Hands SigV4 the body's SHA-256 so it does not hash the body again (see the
/// module docs). The signer reads the override from the config bag when it signs.
#[derive(Debug)]
pub(super) struct SignedPayloadHash(String);

impl SignedPayloadHash {
    pub(super) fn new(sha256: &[u8; 32]) -> SignedPayloadHash {
        SignedPayloadHash(hex::encode(sha256))
    }
}

impl Intercept for SignedPayloadHash {
    fn name(&self) -> &'static str {
        "s3up-signed-payload-hash"
    }

    fn modify_before_signing(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state()
            .store_put(PayloadSigningOverride::Precomputed(self.0.clone()));
        Ok(())
    }
}
