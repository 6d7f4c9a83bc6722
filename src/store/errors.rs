//! Error facts every store shares: what an S3 error code means to the engine
//! (the SDK store meets codes in the SDK's errors, the via store in the XML
//! S3 answers to its presigned PUTs), and an error's cause chain on one line
//! (the SDK's and reqwest's errors both nest their causes). They live here,
//! not in one store, so no store reaches into another.

use super::ErrorKind;

/// An error and its causes on one line, each cause's text once: a cause
/// whose text the line already holds (many errors repeat their source's
/// text in their own) is left out. Newlines are kept; callers that need one
/// line replace them.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
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

/// What an S3 error code (with its message and HTTP status) means to the
/// engine: for the SDK's errors and for S3's answers to presigned requests.
pub(crate) fn s3_error_kind(code: Option<&str>, message: Option<&str>, status: u16) -> ErrorKind {
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
        // Garage 2.5 names a body that does not match its hash InvalidDigest
        // ("… checksum verification failed (from x-amz-content-sha256)"): a
        // resend fixes it, as BadDigest. Its other InvalidDigest (Complete
        // naming parts with checksums they were not sent with) cannot be.
        (Some("InvalidDigest"), _) if message.contains("checksum verification failed") => {
            ErrorKind::Retryable
        }
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

    /// An error with a message and an optional cause, as the SDK's and
    /// reqwest's errors are built.
    #[derive(Debug)]
    struct Nested(&'static str, Option<Box<Nested>>);

    impl std::fmt::Display for Nested {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Nested {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|e| e as _)
        }
    }

    #[test]
    fn a_cause_chain_names_each_cause_once() {
        let refused = Nested("Connection refused (os error 111)", None);
        let connect = Nested(
            "tcp connect error: Connection refused (os error 111)",
            Some(Box::new(refused)),
        );
        let client = Nested("client error (Connect)", Some(Box::new(connect)));
        let top = Nested("dispatch failure", Some(Box::new(client)));
        assert_eq!(
            error_chain(&top),
            "dispatch failure: client error (Connect): \
             tcp connect error: Connection refused (os error 111)"
        );
        assert_eq!(error_chain(&Nested("alone", None)), "alone");
    }

    #[test]
    fn codes_and_statuses_are_classified() {
        let cases = [
            (Some("NoSuchUpload"), "", 404, ErrorKind::NoSuchUpload),
            (Some("NoSuchBucket"), "", 404, ErrorKind::NoSuchBucket),
            (None, "", 412, ErrorKind::PreconditionFailed),
            (Some("SlowDown"), "", 503, ErrorKind::Retryable),
            (Some("BadDigest"), "", 400, ErrorKind::Retryable),
            (
                Some("InvalidDigest"),
                "Invalid digest: SHA256 checksum verification failed (from x-amz-content-sha256)",
                400,
                ErrorKind::Retryable,
            ),
            (
                Some("InvalidDigest"),
                "Invalid digest: Invalid checksum for part 1",
                400,
                ErrorKind::Fatal,
            ),
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
                s3_error_kind(code, Some(message), status),
                want,
                "{code:?} {message} {status}"
            );
        }
    }
}
