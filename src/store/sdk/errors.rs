//! aws-sdk-s3's errors turned into a [`StoreError`], whose [`ErrorKind`] tells
//! the engine what to do, so no other module needs to know the SDK's error types.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::store::errors::{error_chain, s3_error_kind};
use crate::store::{ErrorKind, StoreError};

/// A failure of s3up's own making (a request it could not build, a missing
/// provider): retrying will not help.
pub(super) fn fatal(op: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::new(ErrorKind::Fatal, op, message)
}

/// True when a transport failure's message says no connection was made
/// (refused, no such host, connect timeout), so no request went out. The SDK
/// has no structured way to say so; anything else counts as maybe sent.
fn never_connected(message: &str) -> bool {
    ["client error (Connect)", "dns error", "connect timeout"]
        .iter()
        .any(|m| message.contains(m))
}

/// A transport failure's message with the URL that gave no answer, worded
/// as aws words it, so the endpoint at fault is in the first words.
pub(super) fn with_url(message: &str, url: &str) -> String {
    let lower = message.to_ascii_lowercase();
    if lower.contains("connect") || lower.contains("dns") || lower.contains("lookup") {
        format!("Could not connect to the endpoint URL: \"{url}\" ({message})")
    } else {
        format!("No answer from the endpoint URL: \"{url}\" ({message})")
    }
}

/// An SDK error as a [`StoreError`]: S3's answer by its code, else a
/// transport failure (or a request the client refused to build or send).
pub(super) fn classify<E>(op: &'static str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = match &err {
        SdkError::ServiceError(service) => Some(service.raw().status().as_u16()),
        _ => None,
    };
    let (kind, message) = match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let code = service.err().code().map(str::to_string);
            let kind = s3_error_kind(code.as_deref(), service.err().message(), status);
            let message = match (&code, service.err().message().filter(|m| !m.is_empty())) {
                (Some(c), Some(m)) => format!("{c}: {m}"),
                (Some(c), None) => c.clone(),
                (None, _) => format!("HTTP {status}"),
            };
            (kind, message)
        }
        SdkError::ConstructionFailure(_) => (ErrorKind::Fatal, error_chain(&err)),
        // A request the client itself refused to send (a bad endpoint URL, …).
        SdkError::DispatchFailure(d) if d.is_user() => (ErrorKind::Fatal, error_chain(&err)),
        // Timeouts, connection refused or reset, and responses cut short are
        // all transport trouble.
        _ => {
            let message = error_chain(&err).replace('\n', " ");
            return StoreError {
                unsent: never_connected(&message),
                ..StoreError::transport(op, message)
            };
        }
    };
    StoreError {
        status,
        ..StoreError::new(kind, op, message.replace('\n', " "))
    }
}
