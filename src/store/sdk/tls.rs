//! `--ca-bundle FILE` (also `AWS_CA_BUNDLE`), as aws reads it: the
//! certificates that a private endpoint's TLS certificate must chain to,
//! in place of the system's roots. The SDK's own HTTPS client (rustls with
//! aws-lc, the one aws-config builds by default) is built again with that
//! trust store, so nothing else about the connection changes.
//!
//! `--no-verify-ssl`, as aws means it: the endpoint's certificate is not
//! checked at all (any issuer, any name, expired or not). aws-smithy-http-client
//! 1.x builds its rustls config privately (its `wrap_connector` is
//! crate-private, `TlsContext` only takes trust stores), so that client is
//! hyper-util's pooled client over hyper-rustls, with the same aws-lc provider
//! and a verifier that accepts any certificate but still checks the
//! handshake's signatures against it ([`AnyCertificate`]). The command says so
//! on every run (`output::options::no_verify_ssl`).

use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_sdk_s3::config::SharedHttpClient;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;

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

/// `--no-verify-ssl`: an HTTPS (and HTTP) client that accepts any server
/// certificate. Built on first use with the SDK's connect timeout.
pub(super) fn client_trusting_any() -> SharedHttpClient {
    SharedHttpClient::new(Unverified::default())
}

/// The SDK asks its client for a connector per set of settings; s3up uses
/// one set, so one pooled connector serves every request.
#[derive(Debug, Default)]
struct Unverified {
    connector: OnceLock<SharedHttpConnector>,
}

impl HttpClient for Unverified {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.connector
            .get_or_init(|| SharedHttpConnector::new(Pooled::new(settings.connect_timeout())))
            .clone()
    }
}

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// hyper-util's pooled client over the accepting TLS config.
#[derive(Clone)]
struct Pooled(hyper_util::client::legacy::Client<Https, SdkBody>);

impl std::fmt::Debug for Pooled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pooled(no certificate check)")
    }
}

impl Pooled {
    fn new(connect_timeout: Option<Duration>) -> Self {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            // Only a provider with no cipher suite for them fails, and
            // aws-lc's default one has both TLS 1.2 and 1.3.
            .expect("aws-lc's default provider supports TLS 1.2 and 1.3")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
            .with_no_client_auth();
        let mut tcp = hyper_util::client::legacy::connect::HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(connect_timeout);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(tcp);
        Pooled(
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build(https),
        )
    }
}

impl HttpConnector for Pooled {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        let answer = self.0.request(request);
        HttpConnectorFuture::new(async move {
            match answer.await {
                Ok(response) => HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                    .map_err(|e| ConnectorError::other(e.into(), None)),
                Err(e) => Err(connector_error(e)),
            }
        })
    }
}

/// As the SDK's own client classifies hyper's errors: no connection, or a
/// connection lost (an I/O error anywhere in the chain), is an I/O error
/// (s3up's "no answer"); anything else is the request's own failure.
fn connector_error(e: hyper_util::client::legacy::Error) -> ConnectorError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut io = e.is_connect();
    while let Some(err) = source {
        io |= err.is::<std::io::Error>()
            || err
                .downcast_ref::<hyper::Error>()
                .is_some_and(|h| h.is_closed() || h.is_canceled() || h.is_incomplete_message());
        source = err.source();
    }
    if io {
        ConnectorError::io(e.into())
    } else {
        ConnectorError::other(e.into(), None)
    }
}

/// Accepts any certificate (`--no-verify-ssl`); the handshake's signatures
/// are still checked against the certificate presented, as rustls does.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
