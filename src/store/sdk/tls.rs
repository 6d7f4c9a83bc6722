//! `--ca-bundle FILE` (also `AWS_CA_BUNDLE`), as aws reads it: the
//! certificates that a private endpoint's TLS certificate must chain to,
//! in place of the system's roots. The SDK's own HTTPS client (rustls with
//! aws-lc, the one aws-config builds by default) is built again with that
//! trust store, so nothing else about the connection changes.

use std::path::Path;

use aws_sdk_s3::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};

use super::ConnectError;

/// The PEM armour every certificate in a bundle opens with.
const PEM_CERTIFICATE: &[u8] = b"-----BEGIN CERTIFICATE-----";

/// An HTTPS client that trusts only the certificates in `path` (PEM).
pub(super) fn client_trusting(path: &Path) -> Result<SharedHttpClient, ConnectError> {
    let bad = |reason: String| ConnectError::CaBundle {
        path: path.display().to_string(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    if !pem
        .windows(PEM_CERTIFICATE.len())
        .any(|w| w == PEM_CERTIFICATE)
    {
        return Err(bad("it holds no PEM certificate".to_string()));
    }
    let context = TlsContext::builder()
        .with_trust_store(TrustStore::empty().with_pem_certificate(pem))
        .build()
        .map_err(|e| bad(e.to_string()))?;
    Ok(aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https())
}
