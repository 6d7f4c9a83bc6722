//! aws-sdk-s3's errors turned into a [`StoreError`], whose [`ErrorKind`] tells
//! the engine what to do, so no other module needs to know the SDK's error types.

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::store::{ErrorKind, StoreError};

/// An error and its causes on one line, each cause's Display once.
pub(super) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
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

/// Error codes that mean "try again" whatever the HTTP status.
const RETRYABLE_CODES: &[&str] = &[
    "SlowDown",
    "RequestTimeout",
    "InternalError",
    "ServiceUnavailable",
    "Throttling",
    "ThrottlingException",
    "RequestThrottled",
    "TooManyRequests",
    // The body was damaged in transit, or changed between hashing and
    // sending; a resend (re-read and re-hashed) fixes the first, and the
    // second stops at the source check. With the SHA-256 signed as the
    // payload hash, S3 names it XAmzContentSHA256Mismatch, not BadDigest.
    "BadDigest",
    "XAmzContentSHA256Mismatch",
    "IncompleteBody",
];

const ACCESS_CODES: &[&str] = &[
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
];

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
            let kind = kind_of(code.as_deref(), service.err().message(), status);
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

/// What an S3 error code (with its message and HTTP status) means to the engine;
/// also used for S3's answers to presigned requests (`store::via`).
pub(crate) fn kind_of(code: Option<&str>, message: Option<&str>, status: u16) -> ErrorKind {
    let message = message.unwrap_or("");
    match (code, status) {
        (Some("NoSuchUpload"), _) => ErrorKind::NoSuchUpload,
        (Some("NoSuchBucket"), _) => ErrorKind::NoSuchBucket,
        (Some("PreconditionFailed"), _) | (_, 412) => ErrorKind::PreconditionFailed,
        // A presigned request past its expiry, as AWS, R2 and Garage say it
        // (DESIGN §4b). SigV4 requests the SDK signs just before sending are
        // never that old, but a clock far off could make them look so.
        (Some("ExpiredRequest"), _) => ErrorKind::Expired,
        (Some("AccessDenied"), _) if message.contains("Request has expired") => ErrorKind::Expired,
        (Some("InvalidRequest"), _) if message.contains("Date is too old") => ErrorKind::Expired,
        (Some(c), _) if RETRYABLE_CODES.contains(&c) => ErrorKind::Retryable,
        (Some(c), _) if ACCESS_CODES.contains(&c) => ErrorKind::AccessDenied,
        (_, 403) => ErrorKind::AccessDenied,
        (_, s) if s >= 500 || s == 429 => ErrorKind::Retryable,
        _ => ErrorKind::Fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses_are_classified() {
        let cases = [
            (Some("NoSuchUpload"), "", 404, ErrorKind::NoSuchUpload),
            (Some("NoSuchBucket"), "", 404, ErrorKind::NoSuchBucket),
            (None, "", 412, ErrorKind::PreconditionFailed),
            (Some("SlowDown"), "", 503, ErrorKind::Retryable),
            (Some("BadDigest"), "", 400, ErrorKind::Retryable),
            (
                Some("XAmzContentSHA256Mismatch"),
                "",
                400,
                ErrorKind::Retryable,
            ),
            (None, "", 500, ErrorKind::Retryable),
            (None, "", 429, ErrorKind::Retryable),
            (
                Some("AccessDenied"),
                "Access Denied",
                403,
                ErrorKind::AccessDenied,
            ),
            (
                Some("SignatureDoesNotMatch"),
                "",
                403,
                ErrorKind::AccessDenied,
            ),
            (None, "", 403, ErrorKind::AccessDenied),
            (
                Some("AccessDenied"),
                "Request has expired",
                403,
                ErrorKind::Expired,
            ),
            (Some("ExpiredRequest"), "", 400, ErrorKind::Expired),
            (
                Some("InvalidRequest"),
                "Bad request: Date is too old",
                400,
                ErrorKind::Expired,
            ),
            (
                Some("InvalidRequest"),
                "Bad request: something else",
                400,
                ErrorKind::Fatal,
            ),
            (Some("EntityTooSmall"), "", 400, ErrorKind::Fatal),
        ];
        for (code, message, status, want) in cases {
            assert_eq!(
                kind_of(code, Some(message), status),
                want,
                "{code:?} {message} {status}"
            );
        }
    }
}
