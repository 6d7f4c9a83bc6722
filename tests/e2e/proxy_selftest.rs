//! Checks the fault proxy itself, against a fake upstream and a raw TCP client, so that an
//! end-to-end failure can be blamed on s3up rather than on the test harness.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::support::proxy::{Fault, FaultProxy, Match, Rule, Schedule};

/// A fake S3 server: answers every request 200 and reports what it received in headers.
struct Upstream {
    endpoint: String,
    connections: Arc<AtomicUsize>,
}

fn upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            counter.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || {
                let _ = answer(stream);
            });
        }
    });
    Upstream {
        endpoint,
        connections,
    }
}

fn answer(stream: TcpStream) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let headers = read_headers(&mut reader)?;
    let header = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let body_len = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let declared: u64 = header("content-length").map_or(0, |v| v.parse().unwrap());
        let got = io::copy(&mut (&mut reader).take(declared), &mut io::sink())?;
        assert_eq!(got, declared, "upstream got a short body");
        got
    };
    let connection = header("connection").unwrap_or_else(|| "-".into());
    let mut stream = stream;
    // keep-alive on purpose: the proxy must turn it into close.
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\
         x-body-len: {body_len}\r\nx-seen-connection: {connection}\r\n\r\nok"
    )?;
    stream.flush()
}

/// Reads a head; returns the header pairs with lowercased names (the start line is dropped).
fn read_headers(reader: &mut impl BufRead) -> io::Result<Vec<(String, String)>> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            return Ok(headers);
        }
        let (name, value) = trimmed.split_once(':').unwrap();
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<u64> {
    let mut total = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let size = line.trim_end().split(';').next().unwrap();
        let size = u64::from_str_radix(size, 16).unwrap();
        if size == 0 {
            line.clear();
            reader.read_line(&mut line)?;
            assert_eq!(line, "\r\n", "no trailers expected");
            return Ok(total);
        }
        io::copy(&mut reader.take(size), &mut io::sink())?;
        total += size;
        line.clear();
        reader.read_line(&mut line)?;
        assert_eq!(line, "\r\n");
    }
}

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn connect(proxy: &FaultProxy) -> TcpStream {
    let stream = TcpStream::connect(proxy.endpoint().strip_prefix("http://").unwrap()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
}

/// One request through the proxy; the reply is read to EOF, which the proxy's
/// `Connection: close` promises.
fn send(proxy: &FaultProxy, method: &str, target: &str, body: &[u8]) -> io::Result<Reply> {
    let mut stream = connect(proxy);
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
        proxy.endpoint().trim_start_matches("http://"),
        body.len()
    )?;
    stream.write_all(body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_owned())
        })
        .collect();
    Ok(Reply {
        status,
        headers,
        body: body.to_owned(),
    })
}

#[test]
fn forwards_a_1_mib_put_with_its_length_and_closes_both_hops() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    let body = vec![7u8; 1024 * 1024];

    let reply = send(&proxy, "PUT", "/bucket/key", &body).unwrap();

    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, "ok");
    assert_eq!(reply.header("x-body-len"), Some("1048576"));
    assert_eq!(reply.header("x-seen-connection"), Some("close"));
    assert_eq!(reply.header("connection"), Some("close"));
    let requests = proxy.requests();
    assert_eq!(requests.len(), 1);
    let put = &requests[0];
    assert_eq!(
        (put.method.as_str(), put.path.as_str()),
        ("PUT", "/bucket/key")
    );
    assert_eq!(put.body_len, 1024 * 1024);
    let (first, last) = put.body_span.expect("a forwarded body is timed");
    assert!(put.arrived <= first && first <= last);
    assert_eq!(
        proxy
            .body_rate(Match::Method("PUT"))
            .map(|(bytes, _)| bytes),
        Some(1024 * 1024)
    );
    assert_eq!(proxy.body_rate(Match::Method("GET")), None);
    assert_eq!(put.header("Content-Length"), Some("1048576"));
    assert_eq!(put.fault, None);
    assert_eq!(proxy.faults_applied(), 0);
}

#[test]
fn forwards_a_chunked_body_with_its_framing() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    let mut stream = connect(&proxy);
    stream
        .write_all(
            b"PUT /bucket/key HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n",
        )
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();

    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("x-body-len: 11\r\n"), "{reply}");
    assert_eq!(proxy.requests()[0].body_len, 11);
}

#[test]
fn slow_down_answers_503_with_the_s3_code_without_reaching_the_server() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    proxy.add_rule(Rule::new(
        Match::UploadPart,
        Fault::slow_down(),
        Schedule::Always,
    ));

    let reply = send(&proxy, "PUT", "/b/k?partNumber=2&uploadId=xyz", &[1; 1000]).unwrap();
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("content-type"), Some("application/xml"));
    assert!(
        reply.body.contains("<Code>SlowDown</Code>"),
        "{}",
        reply.body
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);

    // A PutObject is not an UploadPart: it passes.
    assert_eq!(send(&proxy, "PUT", "/b/k", &[1; 10]).unwrap().status, 200);
    let requests = proxy.requests();
    assert!(requests[0].is_upload_part());
    assert_eq!(requests[0].part_number(), Some(2));
    assert_eq!(requests[0].body_len, 1000);
    assert_eq!(
        requests[0].fault.as_deref(),
        Some("Status(503, \"SlowDown\")")
    );
    assert!(!requests[1].is_upload_part());
    assert_eq!(requests[1].fault, None);
    assert_eq!(proxy.faults_applied(), 1);
}

#[test]
fn reset_mid_body_fails_the_client() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    proxy.add_rule(Rule::new(
        Match::PutObject,
        Fault::ResetMidBody,
        Schedule::Always,
    ));
    let len = 4 * 1024 * 1024;

    let result = send(&proxy, "PUT", "/b/k", &vec![0; len]);

    let err = result
        .err()
        .expect("the client should see the connection fail");
    assert!(
        matches!(
            err.kind(),
            io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
        ),
        "{err:?}"
    );
    let record = &proxy.requests()[0];
    assert_eq!(record.fault.as_deref(), Some("ResetMidBody"));
    assert!(
        record.body_len > 0 && record.body_len < len as u64,
        "{}",
        record.body_len
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 0);
}

#[test]
fn first_n_applies_once_then_passes() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    proxy.add_rule(Rule::new(
        Match::Any,
        Fault::internal_error(),
        Schedule::FirstN(1),
    ));

    let statuses: Vec<u16> = (0..3)
        .map(|_| send(&proxy, "GET", "/b/k", b"").unwrap().status)
        .collect();

    assert_eq!(statuses, [500, 200, 200]);
    assert_eq!(proxy.faults_applied(), 1);
}

#[test]
fn every_nth_and_error_200_and_rule_order() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    proxy.add_rule(Rule::new(
        Match::CompleteMultipartUpload,
        Fault::Error200,
        Schedule::EveryNth(2),
    ));
    proxy.add_rule(Rule::new(
        Match::Any,
        Fault::internal_error(),
        Schedule::Always,
    ));

    let complete = |proxy: &FaultProxy| send(proxy, "POST", "/b/k?uploadId=u", b"<x/>").unwrap();
    let first = complete(&proxy);
    let second = complete(&proxy);

    // The first Complete is not the 2nd match, so it falls through to the catch-all rule.
    assert_eq!(first.status, 500);
    assert_eq!(second.status, 200);
    assert!(
        second.body.contains("<Error><Code>InternalError</Code>"),
        "{}",
        second.body
    );
    proxy.clear_rules();
    assert_eq!(complete(&proxy).status, 200);
    assert_eq!(complete(&proxy).body, "ok");
    assert_eq!(proxy.faults_applied(), 2);
}

#[test]
fn ratio_is_deterministic_for_a_seed() {
    let server = upstream();
    let pattern = |seed| {
        let proxy = FaultProxy::start(&server.endpoint);
        proxy.add_rule(Rule::new(
            Match::Method("GET"),
            Fault::internal_error(),
            Schedule::Ratio { percent: 50, seed },
        ));
        (0..24)
            .map(|_| send(&proxy, "GET", "/b/k", b"").unwrap().status == 500)
            .collect::<Vec<bool>>()
    };

    let first = pattern(7);
    assert_eq!(first, pattern(7));
    let faulted = first.iter().filter(|&&f| f).count();
    assert!((4..=20).contains(&faulted), "{first:?}");
    assert_ne!(first, pattern(8));
}

#[test]
fn stall_holds_the_request_until_the_proxy_is_dropped() {
    let server = upstream();
    let proxy = FaultProxy::start(&server.endpoint);
    proxy.add_rule(Rule::new(Match::ListParts, Fault::Stall, Schedule::Always));
    let mut stream = connect(&proxy);
    stream
        .write_all(b"GET /b/k?uploadId=u HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 64];

    let stalled = stream.read(&mut buf).unwrap_err();
    assert!(
        matches!(
            stalled.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ),
        "{stalled:?}"
    );
    assert_eq!(proxy.requests()[0].fault.as_deref(), Some("Stall"));

    drop(proxy);
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    match stream.read(&mut buf) {
        Ok(n) => assert_eq!(n, 0, "a stalled request must never be answered"),
        Err(err) => assert_eq!(err.kind(), io::ErrorKind::ConnectionReset, "{err:?}"),
    }
}

#[test]
#[should_panic(expected = "loopback")]
fn refuses_a_non_loopback_upstream() {
    FaultProxy::start("http://192.0.2.1:9000");
}
