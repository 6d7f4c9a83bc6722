//! Every error `serve` answers: JSON `{"error": "…", "code": "…"}` with the
//! status that says whose fault it is ([`ErrorBody`], in `crate::protocol`).
//!
//! `@uppy/aws-s3` treats any non-2xx, and any JSON with an `error` field, as a
//! failure; `code` is s3up's stable, machine-readable addition. Unlike
//! Companion, a store failure is never a bare 500: S3's own code and message
//! are passed on (they name no credential), and throttling keeps its status,
//! 429 or 503, so clients back off. Nothing here prints a stack trace or the
//! SDK's debug output: [`StoreError`]'s message is already one clean line.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::protocol::ErrorBody;
use crate::store::{ErrorKind, StoreError};

/// One error answer. `code` values are part of the API (README, `/openapi.json`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for `Retry-After` on a 429 or 503 (default 1).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    /// 429: a limit of the caller's or its address's; retry after `secs`.
    pub fn too_many(code: &'static str, message: impl Into<String>, secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(secs.max(1)),
            ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }

    /// The JSON body alone, for answers written outside the router.
    pub fn json_body(&self) -> String {
        serde_json::to_string(&ErrorBody {
            error: self.message.clone(),
            code: self.code.to_string(),
        })
        .unwrap_or_default()
    }

    /// 400: the request itself is wrong.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 401: no token, or one that is not valid.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, code, message)
    }

    /// 403: a Host that is not loopback, in `--no-auth` mode.
    pub fn forbidden_host(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "bad_host", message)
    }

    /// 403: a key outside what the caller may write.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "outside_prefix", message)
    }

    /// The answer for a failed store call, by what the store said.
    pub fn from_store(e: &StoreError) -> ApiError {
        super::metrics::store_error(e);
        let what = format!("{} failed: {}", e.op, e.message);
        let (status, code, hint) = match (e.kind, e.status) {
            (ErrorKind::NoSuchUpload, _) => (
                StatusCode::NOT_FOUND,
                "no_such_upload",
                "the upload was completed, aborted or has expired; start a new one",
            ),
            (ErrorKind::NoSuchBucket, _) => (
                StatusCode::BAD_GATEWAY,
                "store_error",
                "the server's bucket does not exist; tell its operator",
            ),
            (ErrorKind::AccessDenied, _) => (
                StatusCode::BAD_GATEWAY,
                "store_denied",
                "the store refused the server's own credentials; tell its operator",
            ),
            (ErrorKind::PreconditionFailed, _) => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                "the object already exists",
            ),
            (_, Some(429)) => (
                StatusCode::TOO_MANY_REQUESTS,
                "store_throttled",
                "the store is throttling; retry with backoff",
            ),
            (_, Some(503)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "store_throttled",
                "the store is busy; retry with backoff",
            ),
            (ErrorKind::Fatal, Some(s)) if (400..500).contains(&s) => (
                StatusCode::BAD_REQUEST,
                "store_rejected",
                "the store refused the request; check the parts, ETags and checksums sent",
            ),
            (_, Some(_)) => (
                StatusCode::BAD_GATEWAY,
                "store_error",
                "the store failed; retry later",
            ),
            // The SDK refused to build the request from what the client sent
            // (found by schemathesis: a Content-Type no header can carry).
            (ErrorKind::Fatal, None) => (
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the request cannot be sent to the store; check the values sent",
            ),
            (_, None) => (
                StatusCode::BAD_GATEWAY,
                "store_unreachable",
                "the store could not be reached; retry later",
            ),
        };
        // The store's own words for a refusal of the server's credentials can
        // name the account and role ("User: arn:aws:sts::…"), and a credential
        // provider's error chain names its source: the caller gets the
        // operation only, and the operator finds the rest in the log.
        if code == "store_denied" || e.op == "Credentials" {
            tracing::warn!(op = e.op, detail = %e.message, "the store refused the server's credentials");
            return ApiError::new(status, code, format!("{} failed. {hint}", e.op));
        }
        ApiError::new(status, code, format!("{what}. {hint}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after.unwrap_or(1);
        let mut response = (
            self.status,
            axum::Json(ErrorBody {
                error: self.message,
                code: self.code.to_string(),
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if matches!(
            self.status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        }
        response
    }
}

/// The code and wording for an error answer that no handler wrote (an
/// unknown route, a wrong method, a timeout, an oversized body, overload):
/// `serve`'s middleware turns such answers into JSON too.
pub fn for_status(status: StatusCode) -> ApiError {
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route; see /openapi.json"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not take that method; see /openapi.json",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (
            "body_too_large",
            "the request body is too large: 1 MiB at most (2 MiB for Complete)",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "timeout",
            "the request took longer than the server's request timeout; retry",
        ),
        StatusCode::URI_TOO_LONG => (
            "uri_too_long",
            "the request's target is longer than 64 KiB: ask for fewer parts in one batch",
        ),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => (
            "headers_too_large",
            "the request line and headers are larger than the server takes (80 KiB): \
             ask for fewer parts in one batch, or send fewer headers",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "overloaded",
            "the server is at its limit of concurrent requests; retry shortly",
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("bad_content_type", "send the body as application/json")
        }
        s if s.is_client_error() => ("bad_request", "the request was refused"),
        _ => ("internal", "the server failed; retry later"),
    };
    ApiError::new(status, code, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_errors_keep_their_meaning() {
        let e = |kind, status| {
            let mut e = StoreError::new(kind, "UploadPart", "Code: message");
            e.status = status;
            ApiError::from_store(&e)
        };
        assert_eq!(e(ErrorKind::NoSuchUpload, Some(404)).status, 404);
        assert_eq!(e(ErrorKind::Retryable, Some(503)).status, 503);
        assert_eq!(e(ErrorKind::Retryable, Some(429)).status, 429);
        assert_eq!(e(ErrorKind::Retryable, Some(500)).status, 502);
        assert_eq!(e(ErrorKind::Retryable, None).status, 502);
        assert_eq!(e(ErrorKind::Fatal, None).status, 400);
        assert_eq!(e(ErrorKind::Fatal, Some(400)).status, 400);
        assert_eq!(e(ErrorKind::AccessDenied, Some(403)).status, 502);
        assert!(e(ErrorKind::Fatal, Some(400))
            .message
            .contains("Code: message"));
    }
}
