//! The bytes of one connection, as hyper reads and writes them: a write
//! timeout, and JSON for the few answers hyper writes on its own.
//!
//! **Write timeout.** hyper waits as long as it takes for a client to read an
//! answer, and keeps the answer in memory meanwhile: a client that asks for a
//! large answer and never reads it holds that memory until it closes (issue
//! 21: 4.7 MB a connection for a batch of 10,000 parts). Here, a write that
//! makes no progress for `--write-timeout` fails, so hyper drops the
//! connection and the answer with it: nginx's `send_timeout`, which is also
//! measured between two writes that make progress, not over the whole answer.
//!
//! **hyper's own answers.** A request line or header that hyper cannot parse
//! never reaches the router: hyper answers it itself, 400, 414 (a target over
//! 64 KiB) or 431 (a head over [`super::server::MAX_HEAD`]), with an empty body,
//! and closes. Every error `serve` answers is JSON, so such a head is replaced
//! on its way out by the same answer with a JSON body. hyper has no hook for
//! these answers; they are recognised by their form, which nothing else has:
//! every other error answer goes through the router, whose errors all carry
//! a JSON body ([`super::middleware`]), never `content-length: 0`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// A connection's stream, with the write timeout and the JSON rewrite.
pub struct ConnIo {
    inner: TcpStream,
    write_timeout: Duration,
    /// Started when a write could not make progress; reset by one that does.
    stalled: Option<Pin<Box<Sleep>>>,
    /// A replacement for hyper's own answer, and how much of it is written.
    replacement: Option<(Vec<u8>, usize)>,
}

impl ConnIo {
    pub fn new(inner: TcpStream, write_timeout: Duration) -> ConnIo {
        ConnIo {
            inner,
            write_timeout,
            stalled: None,
            replacement: None,
        }
    }

    /// `Pending` turns into a timeout error once nothing has moved for the
    /// write timeout; progress of any kind resets the clock.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match polled {
            Poll::Ready(r) => {
                self.stalled = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.write_timeout;
                let sleep = self
                    .stalled
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                if sleep.as_mut().poll(cx).is_ready() {
                    self.stalled = None;
                    super::metrics::rejected("write_timeout");
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the client read nothing of the answer for the write timeout",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

/// The status of a head that hyper wrote on its own (a parse error), if
/// `buf` is one: a status line, no Content-Type, and an empty body.
fn own_error_status(buf: &[u8]) -> Option<StatusCode> {
    let rest = buf
        .strip_prefix(b"HTTP/1.1 ")
        .or_else(|| buf.strip_prefix(b"HTTP/1.0 "))?;
    let status = StatusCode::from_bytes(rest.get(..3)?).ok()?;
    if !matches!(status.as_u16(), 400 | 414 | 431) {
        return None;
    }
    let head = String::from_utf8_lossy(buf).to_ascii_lowercase();
    let empty = head.contains("\r\ncontent-length: 0\r\n") && !head.contains("\r\ncontent-type:");
    empty.then_some(status)
}

/// The JSON answer that replaces hyper's own for `status`; the connection
/// closes after it, as it would have after hyper's.
fn json_answer(status: StatusCode) -> Vec<u8> {
    let body = super::error::for_status(status).json_body();
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    )
    .into_bytes()
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.replacement.is_none() {
            if let Some(status) = own_error_status(buf) {
                super::metrics::rejected(match status.as_u16() {
                    414 => "uri_too_long",
                    431 => "head_too_large",
                    _ => "bad_head",
                });
                this.replacement = Some((json_answer(status), 0));
            }
        }
        if let Some((bytes, mut done)) = this.replacement.take() {
            // hyper is told its whole head went out once the replacement has.
            while done < bytes.len() {
                let polled = Pin::new(&mut this.inner).poll_write(cx, &bytes[done..]);
                match this.watch(cx, polled) {
                    Poll::Ready(Ok(n)) => done += n,
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        this.replacement = Some((bytes, done));
                        return Poll::Pending;
                    }
                }
            }
            return Poll::Ready(Ok(buf.len()));
        }
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, polled)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.watch(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    // Not vectored: hyper then writes each head as one buffer, whole, which
    // is what `own_error_status` looks at.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hypers_own_empty_error_heads_are_replaced() {
        let own =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        assert_eq!(
            own_error_status(own),
            Some(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE)
        );
        let own = b"HTTP/1.1 414 URI Too Long\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(own_error_status(own), Some(StatusCode::URI_TOO_LONG));
        for other in [
            &b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n"[..],
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 431 x\r\ncontent-length: 12\r\n\r\n",
            b"{\"presignedUrls\": {}}",
            b"HTTP/1.1 ",
        ] {
            assert_eq!(own_error_status(other), None, "{:?}", String::from_utf8_lossy(other));
        }
        let answer = String::from_utf8(json_answer(StatusCode::URI_TOO_LONG)).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 414 URI Too Long\r\n"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(v["code"], "uri_too_long");
    }
}
