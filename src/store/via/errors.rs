//! HTTP answers turned into a [`StoreError`]: the backend's JSON errors
//! (`serve`'s `{"error", "code"}`, Companion's `{"message"}`) and S3's XML
//! errors from a presigned PUT, so the engine sees the same kinds as from the
//! SDK store.

use crate::store::errors::{error_chain, s3_error_kind};
use crate::store::{ErrorKind, StoreError};

/// A request that got no answer: refused, reset, timed out, cut short.
pub(super) fn transport(op: &'static str, e: &reqwest::Error) -> StoreError {
    let text = error_chain(e);
    if e.is_builder() {
        return StoreError::new(ErrorKind::Fatal, op, text.replace('\n', " "));
    }
    StoreError::transport(op, text.replace('\n', " "))
}

/// The text between `<Tag>` and `</Tag>` in an S3 XML error body.
pub(super) fn xml_field<'a>(body: &'a str, tag: &str) -> Option<&'a str> {
    let start = body.find(&format!("<{tag}>"))? + tag.len() + 2;
    let len = body[start..].find(&format!("</{tag}>"))?;
    Some(body[start..start + len].trim())
}

/// An S3 answer to a presigned request: its status and XML error body.
pub(super) fn s3_answer(op: &'static str, status: u16, body: &str) -> StoreError {
    let code = xml_field(body, "Code");
    let message = xml_field(body, "Message");
    let kind = s3_error_kind(code, message, status);
    let text = match (code, message.filter(|m| !m.is_empty())) {
        (Some(c), Some(m)) => format!("{c}: {m}"),
        (Some(c), None) => c.to_string(),
        (None, _) => format!("HTTP {status}"),
    };
    StoreError {
        status: Some(status),
        ..StoreError::new(kind, op, text.replace('\n', " "))
    }
}

/// What a backend's error answer means. `upload_route`: the request named an
/// open upload, so a 404 there says the upload is gone (the engine still
/// confirms that before removing a journal). `token_sent`: the request
/// carried a token (a 401 without one asks for one, it refused none).
pub(super) fn backend_answer(
    op: &'static str,
    backend: &str,
    status: u16,
    body: &str,
    upload_route: bool,
    token_sent: bool,
) -> StoreError {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|v| v.get(name))
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    // Companion answers 500 to any S3 error it meets and, outside its
    // production mode, relays that error as an object in `error`
    // (`{"name": "NoSuchUpload", "Code": "NoSuchUpload", "$metadata":
    // {"httpStatusCode": 404}, …}`): that is how a completed or aborted
    // upload shows through it.
    let relayed = json
        .as_ref()
        .and_then(|v| v.get("error"))
        .and_then(|e| e.get("Code").or_else(|| e.get("name")))
        .and_then(serde_json::Value::as_str)
        .map(str::to_string);
    let code = field("code").or_else(|| relayed.clone());
    let said = field("error")
        .or_else(|| field("message"))
        .unwrap_or_else(|| {
            let line: String = body.chars().take(200).collect();
            line.trim().to_string()
        });
    let kind = match status {
        401 | 403 => ErrorKind::AccessDenied,
        404 if upload_route && json.is_some() => ErrorKind::NoSuchUpload,
        _ if upload_route && relayed.as_deref() == Some("NoSuchUpload") => ErrorKind::NoSuchUpload,
        412 => ErrorKind::PreconditionFailed,
        408 | 429 => ErrorKind::Retryable,
        s if s >= 500 => ErrorKind::Retryable,
        _ => ErrorKind::Fatal,
    };
    let what = match status {
        401 if !token_sent => "the backend wants a token",
        401 => "the backend refused the token",
        403 => "the backend does not let this token do that",
        _ if kind == ErrorKind::NoSuchUpload => "the backend does not know the upload",
        404 => "the backend has no such route (is the --via URL right?)",
        _ => "the backend answered",
    };
    let code = code.map_or(String::new(), |c| format!(" {c}"));
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": {said}")
    };
    StoreError {
        status: Some(status),
        ..StoreError::new(
            kind,
            op,
            format!("{what} ({backend}, HTTP {status}{code}{said})").replace('\n', " "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_answers_to_presigned_puts_are_classified() {
        let garage = "<?xml version=\"1.0\"?><Error><Code>InvalidRequest</Code>\
                      <Message>Bad request: Date is too old</Message></Error>";
        assert_eq!(
            s3_answer("UploadPart", 400, garage).kind,
            ErrorKind::Expired
        );
        let aws = "<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>";
        assert_eq!(s3_answer("UploadPart", 403, aws).kind, ErrorKind::Expired);
        let r2 = "<Error><Code>ExpiredRequest</Code><Message>x</Message></Error>";
        assert_eq!(s3_answer("UploadPart", 400, r2).kind, ErrorKind::Expired);
        let md5 = "<Error><Code>BadDigest</Code><Message>no</Message></Error>";
        assert_eq!(s3_answer("UploadPart", 400, md5).kind, ErrorKind::Retryable);
        let gone = "<Error><Code>NoSuchUpload</Code></Error>";
        let e = s3_answer("UploadPart", 404, gone);
        assert_eq!(e.kind, ErrorKind::NoSuchUpload);
        assert_eq!(e.message, "NoSuchUpload");
        assert_eq!(s3_answer("UploadPart", 503, "").kind, ErrorKind::Retryable);
    }

    #[test]
    fn backend_answers_are_classified() {
        let b = "http://127.0.0.1:1";
        let token = r#"{"error":"no such token","code":"bad_token"}"#;
        let e = backend_answer("backend create", b, 401, token, false, true);
        assert_eq!(e.kind, ErrorKind::AccessDenied);
        assert!(e.message.contains("refused the token"), "{}", e.message);
        assert!(e.message.contains("bad_token"), "{}", e.message);
        let e = backend_answer("backend create", b, 401, token, false, false);
        assert!(e.message.contains("wants a token"), "{}", e.message);
        let gone = r#"{"error":"gone","code":"no_such_upload"}"#;
        assert_eq!(
            backend_answer("backend list", b, 404, gone, true, true).kind,
            ErrorKind::NoSuchUpload
        );
        assert_eq!(
            backend_answer("backend create", b, 404, "<html>", false, true).kind,
            ErrorKind::Fatal
        );
        for s in [429, 500, 502, 503] {
            assert_eq!(
                backend_answer("backend sign", b, s, "{}", true, true).kind,
                ErrorKind::Retryable
            );
        }
        assert_eq!(
            backend_answer("backend sign", b, 400, "{}", true, true).kind,
            ErrorKind::Fatal
        );
    }

    /// What Companion 6.2.2 answered (measured, on Garage) to ListParts,
    /// Complete and Abort of an upload that had completed.
    #[test]
    fn companions_relayed_no_such_upload_is_recognised() {
        let b = "http://127.0.0.1:1";
        let body = r#"{"message":"Upload not found","error":{"$fault":"client","$metadata":{"httpStatusCode":404,"attempts":1,"totalRetryDelay":0},"name":"NoSuchUpload","message":"Upload not found","Code":"NoSuchUpload","Resource":"/b/k","Region":"garage"}}"#;
        let e = backend_answer("backend list", b, 500, body, true, true);
        assert_eq!(e.kind, ErrorKind::NoSuchUpload);
        assert_eq!(
            e.message,
            "the backend does not know the upload (http://127.0.0.1:1, HTTP 500 NoSuchUpload: \
             Upload not found)"
        );
        // Not on a route that names no upload, and not for another S3 error.
        assert_eq!(
            backend_answer("backend create", b, 500, body, false, true).kind,
            ErrorKind::Retryable
        );
        let slow = body.replace("NoSuchUpload", "SlowDown");
        assert_eq!(
            backend_answer("backend list", b, 500, &slow, true, true).kind,
            ErrorKind::Retryable
        );
        // Companion in production mode says nothing more: a 500 like any other.
        let quiet = r#"{"message":"Something went wrong","requestId":"x"}"#;
        assert_eq!(
            backend_answer("backend list", b, 500, quiet, true, true).kind,
            ErrorKind::Retryable
        );
    }
}
