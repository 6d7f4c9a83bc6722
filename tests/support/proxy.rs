//! The fault-injecting HTTP proxy of the end-to-end tests. It sits between the s3up binary and a
//! local S3 server and, on command, breaks chosen requests the way networks and S3 really do: a
//! connection reset mid-body, a stall, a 500 / 503 SlowDown, a 200 that carries an error body.
//! The faults travel through the real aws-sdk-s3 client, so the tests exercise the retry and
//! failure paths of the shipped binary rather than a mock (DESIGN.md §5).
//!
//! Started with [`FaultProxy::recording`], it also keeps every answer it relays (status and
//! body): the browser tests load the page through one, to check that no answer carries a
//! credential.
//!
//! It also measures what it forwards: when each request body's first and last bytes arrived
//! ([`RequestRecord::body_span`]), and so the rate a run sent at ([`FaultProxy::body_rate`]).
//!
//! It owns a loopback listener, a tokio runtime on its own OS thread (so plain synchronous
//! `#[test]` functions can use it, and dropping it ends every connection, stalled ones included),
//! the fault rules, and a log of every request it saw.
//!
//! Each client connection carries exactly one request. The proxy forwards it on a fresh upstream
//! connection with `Connection: close` and answers the client with `Connection: close`, so the
//! client never reuses a socket the proxy is about to close (no spurious errors when no fault is
//! injected) and a fault can never leak into the next request. A loopback connection per request
//! costs microseconds; a correct keep-alive loop would cost far more code. Bodies are streamed,
//! never buffered whole, and their framing (`Content-Length` or chunked) is relayed as received,
//! because the request is signed (SigV4) and must reach the server byte for byte.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

/// Far above any head s3up sends (SigV4 and metadata headers), yet bounded, so a confused peer
/// cannot make the proxy buffer without limit.
const MAX_HEAD: u64 = 64 * 1024;
/// Big enough to move 8 MiB parts in few system calls, small enough for many parallel parts.
const BUF_SIZE: usize = 64 * 1024;
/// Longer than any client timeout a test sets: a stalled request must be ended by the client's
/// own stalled-stream or read timeout, never by the proxy. Dropping the proxy ends it sooner.
const STALL_FOR: Duration = Duration::from_secs(600);
/// How long to wait, after answering, for the client to close first. Closing while the client
/// still sends would reset the connection and could destroy the answer in flight.
const LINGER: Duration = Duration::from_secs(2);
const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
/// Connection-scoped headers: the proxy owns the connection semantics of both hops.
const HOP_BY_HOP: [&str; 3] = ["connection", "keep-alive", "proxy-connection"];

/// What to do to a request instead of forwarding it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Read about half of the request body, then reset the client connection (SO_LINGER 0).
    /// Nothing reaches the server.
    ResetMidBody,
    /// Read the request head, then neither read nor answer until the proxy is dropped, so the
    /// client's stalled-stream or read timeout fires.
    Stall,
    /// Discard the body and answer this HTTP status with an S3 XML error carrying this code.
    Status(u16, &'static str),
    /// Discard the body and answer 200 with an `InternalError` XML body, as S3's
    /// CompleteMultipartUpload may.
    Error200,
    /// Forward the request, but pass its body on at this many bytes a second: a slow
    /// link that keeps moving.
    Throttle { bytes_per_sec: u64 },
    /// Forward the request with the first byte of its body flipped: bytes
    /// changed in flight, which only a checksum the store checks can catch.
    CorruptBody,
    /// Hold the request this many milliseconds, then forward it: a request
    /// that waited in a queue somewhere (its presigned URL ages meanwhile).
    Delay { millis: u64 },
    /// Forward the request and let the server finish it, then reset the client
    /// instead of relaying the answer: work done, answer lost.
    SwallowAnswer,
}

impl Fault {
    /// 500 InternalError: S3's generic transient failure.
    pub fn internal_error() -> Fault {
        Fault::Status(500, "InternalError")
    }

    /// 503 SlowDown: S3's throttling answer.
    pub fn slow_down() -> Fault {
        Fault::Status(503, "SlowDown")
    }
}

/// Which requests a rule considers, recognised the way S3 routes path-style requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    Any,
    /// PUT with both `partNumber` and `uploadId` in the query.
    UploadPart,
    /// UploadPart with exactly this `partNumber`.
    UploadPartNumber(u32),
    /// PUT to an object key, without `uploadId`/`partNumber` and without `x-amz-copy-source`.
    PutObject,
    /// POST with `uploads` in the query.
    CreateMultipartUpload,
    /// POST with `uploadId` in the query.
    CompleteMultipartUpload,
    /// GET with `uploadId` in the query.
    ListParts,
    /// Any request with this method (case-insensitive).
    Method(&'static str),
    /// A request with this method whose path (without the query) ends with
    /// this text: a backend's routes, such as Companion's
    /// `POST /s3/multipart/{uploadId}/complete`.
    PathEnds(&'static str, &'static str),
}

impl Match {
    fn matches(&self, req: &RequestRecord) -> bool {
        let has = |key| query_param(&req.query, key).is_some();
        match *self {
            Match::Any => true,
            Match::UploadPart => req.is_upload_part(),
            Match::UploadPartNumber(n) => req.is_upload_part() && req.part_number() == Some(n),
            Match::PutObject => {
                // A key is required so that CreateBucket (PUT /bucket) is not taken for an upload.
                let has_key = req
                    .path
                    .trim_start_matches('/')
                    .split_once('/')
                    .is_some_and(|(_, key)| !key.is_empty());
                req.method == "PUT"
                    && has_key
                    && !has("uploadId")
                    && !has("partNumber")
                    && req.header("x-amz-copy-source").is_none()
            }
            Match::CreateMultipartUpload => req.method == "POST" && has("uploads"),
            Match::CompleteMultipartUpload => req.method == "POST" && has("uploadId"),
            Match::ListParts => req.method == "GET" && has("uploadId"),
            Match::Method(method) => req.method.eq_ignore_ascii_case(method),
            Match::PathEnds(method, end) => {
                req.method.eq_ignore_ascii_case(method) && req.path.ends_with(end)
            }
        }
    }
}

/// Which of a rule's matching requests get the fault, counted per rule from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    Always,
    /// The first n matching requests, then none: a fault the client's retry must overcome.
    FirstN(u32),
    /// Matching requests number n, 2n, 3n … (never for n = 0).
    EveryNth(u32),
    /// A pseudo-random `percent` of the matching requests, the same ones for the same seed and
    /// the same request order.
    Ratio {
        percent: u32,
        seed: u64,
    },
}

/// A fault, the requests it targets, and when it fires. Rules are tried in the order they were
/// added; the first whose matcher matches and whose schedule fires applies. A rule only counts
/// the requests that reach it, so rules after the one that fired do not count that request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    pub matcher: Match,
    pub fault: Fault,
    pub schedule: Schedule,
}

impl Rule {
    pub fn new(matcher: Match, fault: Fault, schedule: Schedule) -> Rule {
        Rule {
            matcher,
            fault,
            schedule,
        }
    }

    /// A rule for every matching request.
    pub fn always(matcher: Match, fault: Fault) -> Rule {
        Rule::new(matcher, fault, Schedule::Always)
    }
}

/// A request a recording proxy relayed, and the answer it got.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    pub status: u16,
    /// The answer's body as received (chunked framing removed).
    pub body: Vec<u8>,
}

/// One request as the proxy saw it.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Raw query string, without the `?`.
    pub query: String,
    /// Every header in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Body bytes received from the client (for a chunked body, the payload without the chunk
    /// framing). Final once the request is answered; for `ResetMidBody` it is what was read before
    /// the reset.
    pub body_len: u64,
    /// The `Debug` form of the fault applied, e.g. `Status(503, "SlowDown")`.
    pub fault: Option<String>,
    /// When the request's head arrived.
    pub arrived: Instant,
    /// When the first and the last byte of a forwarded body arrived from the client (framing
    /// left out); `None` for an empty body, or one the proxy did not forward.
    pub body_span: Option<(Instant, Instant)>,
}

impl RequestRecord {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn is_upload_part(&self) -> bool {
        self.method == "PUT"
            && query_param(&self.query, "partNumber").is_some()
            && query_param(&self.query, "uploadId").is_some()
    }

    pub fn part_number(&self) -> Option<u32> {
        query_param(&self.query, "partNumber")?.parse().ok()
    }
}

fn query_param<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (k == key).then_some(v)
    })
}

struct RuleState {
    rule: Rule,
    seen: u32,
    rng: u64,
}

impl RuleState {
    fn new(rule: Rule) -> RuleState {
        let seed = match rule.schedule {
            Schedule::Ratio { seed, .. } => seed,
            _ => 0,
        };
        // xorshift never leaves 0, so mix the seed with a constant (and avoid 0 itself).
        let rng = match seed ^ 0x9E37_79B9_7F4A_7C15 {
            0 => 0x9E37_79B9_7F4A_7C15,
            mixed => mixed,
        };
        RuleState { rule, seen: 0, rng }
    }

    fn fires(&mut self) -> bool {
        self.seen = self.seen.saturating_add(1);
        match self.rule.schedule {
            Schedule::Always => true,
            Schedule::FirstN(n) => self.seen <= n,
            Schedule::EveryNth(n) => n > 0 && self.seen.is_multiple_of(n),
            Schedule::Ratio { percent, .. } => {
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                self.rng % 100 < u64::from(percent)
            }
        }
    }
}

#[derive(Default)]
struct Shared {
    rules: Vec<RuleState>,
    records: Vec<RequestRecord>,
    faults_applied: usize,
    /// Set by [`FaultProxy::recording`]: every relayed answer is kept here.
    answers: Option<Vec<Exchange>>,
    /// Raised by [`FaultProxy::freeze`]: no byte of a body moves, and no new
    /// request is read, until it is lowered.
    frozen: Option<watch::Receiver<bool>>,
}

/// Waits while `frozen` is raised.
async fn thawed(frozen: &mut Option<watch::Receiver<bool>>) {
    if let Some(rx) = frozen.as_mut() {
        let _ = rx.wait_for(|frozen| !*frozen).await;
    }
}

/// A test that panicked while holding the lock must not turn every later call into a second panic.
fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running proxy. Dropping it stops the runtime and closes every connection.
pub struct FaultProxy {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    /// Raised by [`FaultProxy::freeze`].
    frozen: watch::Sender<bool>,
    /// Raised by [`FaultProxy::close`].
    closed: watch::Sender<bool>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream_endpoint` (e.g. `http://127.0.0.1:3900`). Panics
    /// unless that is a plain-http URL naming a loopback address: the proxy must never reach
    /// beyond this machine.
    pub fn start(upstream_endpoint: &str) -> FaultProxy {
        FaultProxy::launch(upstream_endpoint, Shared::default())
    }

    /// Like [`FaultProxy::start`], keeping every answer it relays (see [`FaultProxy::exchanges`]).
    /// Answers are held whole in memory: for API traffic and pages, not for part bodies.
    pub fn recording(upstream_endpoint: &str) -> FaultProxy {
        let shared = Shared {
            answers: Some(Vec::new()),
            ..Shared::default()
        };
        FaultProxy::launch(upstream_endpoint, shared)
    }

    fn launch(upstream_endpoint: &str, mut shared: Shared) -> FaultProxy {
        let upstream = loopback_upstream(upstream_endpoint);
        let (frozen, thaw) = watch::channel(false);
        shared.frozen = Some(thaw);
        let (closed, reopened) = watch::channel(false);
        // Bound before returning, so the endpoint accepts connections as soon as the caller has it.
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .expect("fault proxy: cannot bind a port on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("fault proxy: cannot make the listener non-blocking");
        let addr = listener
            .local_addr()
            .expect("fault proxy: listener has no local address");
        let shared = Arc::new(Mutex::new(shared));
        let (shutdown, stop) = oneshot::channel();
        let state = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("fault-proxy-{}", addr.port()))
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("fault-proxy-worker")
                    .enable_all()
                    .build()
                    .expect("fault proxy: cannot build its tokio runtime");
                runtime.block_on(async move {
                    let listener = TcpListener::from_std(listener)
                        .expect("fault proxy: cannot register the listener with tokio");
                    tokio::select! {
                        () = accept_loop(listener, upstream, state, reopened) => {}
                        _ = stop => {}
                    }
                });
                // Dropping the runtime here cancels every connection task, closing its sockets.
            })
            .expect("fault proxy: cannot spawn its thread");
        FaultProxy {
            addr,
            shared,
            frozen,
            closed,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    /// The URL to hand to s3up as `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops forwarding, as a link that hangs: connections are accepted but no new request
    /// is read and no byte of a body moves either way, until [`FaultProxy::thaw`].
    pub fn freeze(&self) {
        self.frozen.send_replace(true);
    }

    /// Forwards again after [`FaultProxy::freeze`].
    pub fn thaw(&self) {
        self.frozen.send_replace(false);
    }

    /// Stops listening and drops every connection, as a proxy that was killed: connections are
    /// refused until [`FaultProxy::reopen`].
    pub fn close(&self) {
        self.closed.send_replace(true);
    }

    /// Listens again on the same port after [`FaultProxy::close`].
    pub fn reopen(&self) {
        self.closed.send_replace(false);
    }

    /// Ends every open connection and listens again, as the network does for a
    /// process that was killed. Call it after killing a client that was
    /// sending through the proxy: otherwise the proxy goes on delivering, at a
    /// throttled rate, what the dead client had left in its socket buffers, and
    /// a part upload that starts at the store after the resume's own upload of
    /// that part makes Garage 2.5.0 refuse Complete with InvalidPart (its
    /// Complete takes a part number's latest attempt, finished or not; its
    /// ListParts shows the latest finished one).
    pub fn sever(&self) {
        self.close();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(self.addr).is_ok() {
            assert!(
                Instant::now() < deadline,
                "fault proxy: still listening 10 s after close"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        self.reopen();
    }

    pub fn add_rule(&self, rule: Rule) {
        lock(&self.shared).rules.push(RuleState::new(rule));
    }

    /// Removes every rule, and with them their counters.
    pub fn clear_rules(&self) {
        lock(&self.shared).rules.clear();
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared).records.clone()
    }

    /// How many of the requests seen so far `matcher` matches.
    pub fn count(&self, matcher: Match) -> usize {
        let shared = lock(&self.shared);
        shared.records.iter().filter(|r| matcher.matches(r)).count()
    }

    pub fn faults_applied(&self) -> usize {
        lock(&self.shared).faults_applied
    }

    /// Every answer relayed so far, in the order they ended; empty unless started with
    /// [`FaultProxy::recording`].
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.shared).answers.clone().unwrap_or_default()
    }

    /// The body bytes of every forwarded request that `matcher` matches, and the time from the
    /// first of their first bytes to the last of their last bytes: the rate a client sent at, as
    /// the far end of its link saw it. `None` until such a body has arrived.
    pub fn body_rate(&self, matcher: Match) -> Option<(u64, Duration)> {
        let records = self.requests();
        let bodies = records
            .iter()
            .filter(|r| matcher.matches(r))
            .filter_map(|r| r.body_span.map(|span| (r.body_len, span)));
        let (bytes, first, last) = bodies.fold(
            (0, None::<Instant>, None::<Instant>),
            |(bytes, first, last), (len, (start, end))| {
                (
                    bytes + len,
                    Some(first.map_or(start, |f| f.min(start))),
                    Some(last.map_or(end, |l| l.max(end))),
                )
            },
        );
        Some((bytes, last? - first?))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn loopback_upstream(endpoint: &str) -> SocketAddr {
    fn refuse(endpoint: &str) -> ! {
        panic!(
            "FaultProxy::start: the upstream must be a plain-http loopback URL such as \
             http://127.0.0.1:3900, got {endpoint:?}"
        )
    }
    let Some(rest) = endpoint.strip_prefix("http://") else {
        refuse(endpoint)
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        refuse(endpoint);
    }
    let has_port = match authority.rsplit_once(':') {
        Some((host, _)) => !host.is_empty() && (!host.contains(':') || host.ends_with(']')),
        None => false,
    };
    let authority = if has_port {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<SocketAddr> = match authority.to_socket_addrs() {
        Ok(addrs) => addrs.collect(),
        Err(_) => refuse(endpoint),
    };
    if addrs.is_empty() || !addrs.iter().all(|a| a.ip().is_loopback()) {
        refuse(endpoint);
    }
    // `localhost` may name both families; servers in the fixtures listen on IPv4.
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .copied()
        .unwrap_or(addrs[0])
}

async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    mut closed: watch::Receiver<bool>,
) {
    let addr = listener
        .local_addr()
        .expect("fault proxy: listener has no local address");
    let mut listener = Some(listener);
    let mut connections = JoinSet::new();
    loop {
        let Some(open) = listener.as_ref() else {
            // Closed: refuse until reopened, then listen on the same port again.
            if closed.wait_for(|closed| !*closed).await.is_err() {
                return;
            }
            let bound = TcpListener::bind(addr)
                .await
                .expect("fault proxy: cannot listen again on its port");
            listener = Some(bound);
            continue;
        };
        tokio::select! {
            accepted = open.accept() => match accepted {
                Ok((client, _)) => {
                    connections.spawn(serve(client, upstream, Arc::clone(&shared)));
                }
                // Out of descriptors and the like: transient, and retrying at once would spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            changed = closed.changed() => {
                if changed.is_err() {
                    return;
                }
                if *closed.borrow_and_update() {
                    listener = None;
                    connections.abort_all();
                }
            }
        }
    }
}

/// How a message body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked,
    UntilEof,
}

/// A parsed message head. Header lines are kept raw so they are forwarded exactly as signed.
struct Head {
    start_line: String,
    lines: Vec<Vec<u8>>,
    headers: Vec<(String, String)>,
}

impl Head {
    fn parse(raw: &[u8]) -> Option<Head> {
        let mut lines = raw
            .split(|&b| b == b'\n')
            .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
            .filter(|line| !line.is_empty());
        let start_line = String::from_utf8(lines.next()?.to_vec()).ok()?;
        let mut raw_lines = Vec::new();
        let mut headers = Vec::new();
        for line in lines {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = std::str::from_utf8(&line[..colon]).ok()?.trim();
            if name.is_empty() {
                return None;
            }
            let value = String::from_utf8_lossy(&line[colon + 1..])
                .trim()
                .to_owned();
            headers.push((name.to_ascii_lowercase(), value));
            raw_lines.push(line.to_vec());
        }
        Some(Head {
            start_line,
            lines: raw_lines,
            headers,
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body framing the headers declare; `None` for contradictory or invalid declarations.
    fn framing(&self, absent: Framing) -> Option<Framing> {
        let chunked = self
            .headers
            .iter()
            .filter(|(n, _)| n == "transfer-encoding")
            .any(|(_, v)| v.to_ascii_lowercase().contains("chunked"));
        if chunked {
            return Some(Framing::Chunked);
        }
        let mut lengths = self
            .headers
            .iter()
            .filter(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse::<u64>().ok());
        match lengths.next() {
            None => Some(absent),
            Some(first) => {
                let first = first?;
                lengths
                    .all(|other| other == Some(first))
                    .then_some(Framing::Length(first))
            }
        }
    }

    /// The head re-serialized with `Connection: close` in place of any connection headers.
    fn with_connection_close(&self, start_line: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(1024);
        out.extend_from_slice(start_line.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (line, (name, _)) in self.lines.iter().zip(&self.headers) {
            if !HOP_BY_HOP.contains(&name.as_str()) {
                out.extend_from_slice(line);
                out.extend_from_slice(b"\r\n");
            }
        }
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out
    }
}

struct Request {
    head: Head,
    method: String,
    /// Origin-form target (`/bucket/key?query`), what the upstream is sent.
    target: String,
    version: String,
    framing: Framing,
}

impl Request {
    fn parse(raw: &[u8]) -> Option<Request> {
        let head = Head::parse(raw)?;
        let mut parts = head.start_line.split_ascii_whitespace();
        let method = parts.next()?.to_owned();
        let mut target = parts.next()?.to_owned();
        let version = parts.next()?.to_owned();
        if parts.next().is_some() || !version.starts_with("HTTP/1.") {
            return None;
        }
        // A client configured to use us as a forward proxy sends absolute-form targets.
        if let Some(rest) = target.strip_prefix("http://") {
            target = match rest.find(['/', '?']) {
                Some(at) if rest[at..].starts_with('/') => rest[at..].to_owned(),
                Some(at) => format!("/{}", &rest[at..]),
                None => "/".to_owned(),
            };
        }
        // Requests without a declared length have no body (RFC 9112 §6.3).
        let framing = head.framing(Framing::Length(0))?;
        Some(Request {
            head,
            method,
            target,
            version,
            framing,
        })
    }

    fn record(&self) -> RequestRecord {
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        RequestRecord {
            method: self.method.clone(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: self.head.headers.clone(),
            body_len: 0,
            fault: None,
            arrived: Instant::now(),
            body_span: None,
        }
    }

    fn expects_continue(&self) -> bool {
        self.head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    fn upstream_head(&self) -> Vec<u8> {
        let start = format!("{} {} {}", self.method, self.target, self.version);
        self.head.with_connection_close(&start)
    }
}

/// Logs the request and picks its fault; returns the record's index for the body length.
fn admit(shared: &Mutex<Shared>, req: &Request) -> (usize, Option<Fault>) {
    let mut record = req.record();
    let mut state = lock(shared);
    let fault = state.rules.iter_mut().find_map(|rule| {
        (rule.rule.matcher.matches(&record) && rule.fires()).then_some(rule.rule.fault)
    });
    if let Some(fault) = fault {
        record.fault = Some(format!("{fault:?}"));
        state.faults_applied += 1;
    }
    state.records.push(record);
    (state.records.len() - 1, fault)
}

fn set_body_len(shared: &Mutex<Shared>, index: usize, len: u64) {
    if let Some(record) = lock(shared).records.get_mut(index) {
        record.body_len = len;
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, shared: Arc<Mutex<Shared>>) {
    let _ = client.set_nodelay(true);
    let mut frozen = lock(&shared).frozen.clone();
    thawed(&mut frozen).await;
    let (rd, mut wr) = client.into_split();
    let mut rd = BufReader::with_capacity(BUF_SIZE, rd);
    let raw = match read_head(&mut rd).await {
        Ok(Some(raw)) => raw,
        Ok(None) | Err(_) => return,
    };
    let Some(req) = Request::parse(&raw) else {
        let _ = respond(
            &mut wr,
            400,
            "BadRequest",
            "the fault proxy could not parse the request",
            false,
        )
        .await;
        return close_gracefully(rd, wr).await;
    };
    let (index, fault) = admit(&shared, &req);
    match fault {
        None => forward(rd, wr, &req, upstream, &shared, index, None).await,
        Some(Fault::Throttle { bytes_per_sec }) => {
            forward(rd, wr, &req, upstream, &shared, index, Some(bytes_per_sec)).await
        }
        Some(Fault::CorruptBody) => forward_corrupted(rd, wr, &req, upstream, &shared, index).await,
        Some(Fault::Delay { millis }) => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            forward(rd, wr, &req, upstream, &shared, index, None).await
        }
        Some(Fault::SwallowAnswer) => {
            let Ok(up) = TcpStream::connect(upstream).await else {
                return;
            };
            let (up_rd, mut up_wr) = up.into_split();
            let mut up_rd = BufReader::with_capacity(BUF_SIZE, up_rd);
            if req.expects_continue() && wr.write_all(CONTINUE).await.is_err() {
                return;
            }
            let mut to_server = Outlet::lenient(&mut up_wr);
            if to_server.put(&req.upstream_head()).await.is_err() {
                return;
            }
            if let Ok(len) = relay_body(&mut rd, &mut to_server, req.framing).await {
                set_body_len(&shared, index, len);
            }
            // The upstream request says `Connection: close`, so the server closes
            // once it has answered: the work is done when this returns.
            let _ = tokio::io::copy(&mut up_rd, &mut tokio::io::sink()).await;
            if let Ok(client) = rd.into_inner().reunite(wr) {
                let _ = client.set_zero_linger();
            }
        }
        Some(Fault::Stall) => {
            tokio::time::sleep(STALL_FOR).await;
            drop((rd, wr));
        }
        Some(Fault::ResetMidBody) => {
            if req.expects_continue() {
                let _ = wr.write_all(CONTINUE).await;
            }
            let read = match req.framing {
                Framing::Length(len) => {
                    let mut discard = tokio::io::sink();
                    let half = len / 2;
                    copy_exact(&mut rd, &mut Outlet::lenient(&mut discard), half)
                        .await
                        .map(|()| half)
                }
                // The total is unknown: whatever arrived first is mid-body for any part s3up sends.
                Framing::Chunked | Framing::UntilEof => match rd.fill_buf().await {
                    Ok(buf) => {
                        let len = buf.len();
                        rd.consume(len);
                        Ok(len as u64)
                    }
                    Err(err) => Err(err),
                },
            };
            set_body_len(&shared, index, read.unwrap_or(0));
            if let Ok(client) = rd.into_inner().reunite(wr) {
                let _ = client.set_zero_linger();
            }
        }
        Some(Fault::Status(status, code)) => {
            answer_error(rd, wr, &req, &shared, index, status, code).await
        }
        Some(Fault::Error200) => {
            answer_error(rd, wr, &req, &shared, index, 200, "InternalError").await
        }
    }
}

async fn answer_error(
    mut rd: BufReader<OwnedReadHalf>,
    mut wr: OwnedWriteHalf,
    req: &Request,
    shared: &Mutex<Shared>,
    index: usize,
    status: u16,
    code: &str,
) {
    if req.expects_continue() && wr.write_all(CONTINUE).await.is_err() {
        return;
    }
    // The whole body is read first: closing with unread bytes would reset the connection, and
    // the client would see a reset instead of the status under test.
    let mut discard = tokio::io::sink();
    match relay_body(&mut rd, &mut Outlet::lenient(&mut discard), req.framing).await {
        Ok(len) => set_body_len(shared, index, len),
        Err(_) => return,
    }
    let head_only = req.method == "HEAD";
    if respond(
        &mut wr,
        status,
        code,
        "injected by s3up test proxy",
        head_only,
    )
    .await
    .is_ok()
    {
        close_gracefully(rd, wr).await;
    }
}

async fn forward(
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    req: &Request,
    upstream: SocketAddr,
    shared: &Mutex<Shared>,
    index: usize,
    rate: Option<u64>,
) {
    forward_with(rd, wr, req, upstream, shared, index, rate, false).await
}

async fn forward_corrupted(
    rd: BufReader<OwnedReadHalf>,
    wr: OwnedWriteHalf,
    req: &Request,
    upstream: SocketAddr,
    shared: &Mutex<Shared>,
    index: usize,
) {
    forward_with(rd, wr, req, upstream, shared, index, None, true).await
}

#[allow(clippy::too_many_arguments)]
async fn forward_with(
    mut rd: BufReader<OwnedReadHalf>,
    mut wr: OwnedWriteHalf,
    req: &Request,
    upstream: SocketAddr,
    shared: &Mutex<Shared>,
    index: usize,
    rate: Option<u64>,
    corrupt: bool,
) {
    let up = match TcpStream::connect(upstream).await {
        Ok(up) => up,
        Err(_) => {
            // Like a load balancer whose backend is down; the body is drained first (see answer_error).
            let mut discard = tokio::io::sink();
            if relay_body(&mut rd, &mut Outlet::lenient(&mut discard), req.framing)
                .await
                .is_ok()
                && respond(
                    &mut wr,
                    502,
                    "BadGateway",
                    "the fault proxy cannot reach the server",
                    false,
                )
                .await
                .is_ok()
            {
                close_gracefully(rd, wr).await;
            }
            return;
        }
    };
    let _ = up.set_nodelay(true);
    let (up_rd, mut up_wr) = up.into_split();
    let mut up_rd = BufReader::with_capacity(BUF_SIZE, up_rd);
    let (body_done, body_sent) = oneshot::channel::<()>();

    // Both directions run at once: a server may answer before the body ends (an early error, or
    // `100 Continue`), and a client that never finishes its body must not pin the proxy.
    let upload = async {
        // The upstream may stop reading after an early answer; the client's body is still read
        // to its end so that the client is not reset before it sees that answer.
        let mut to_server = Outlet::lenient(&mut up_wr);
        to_server.put(&req.upstream_head()).await?;
        to_server.rate = rate;
        to_server.flip = corrupt;
        to_server.frozen = lock(shared).frozen.clone();
        let len = relay_body(&mut rd, &mut to_server, req.framing).await?;
        set_body_len(shared, index, len);
        if let (Some(first), Some(last)) = (to_server.first, to_server.last) {
            if let Some(record) = lock(shared).records.get_mut(index) {
                record.body_span = Some((first, last));
            }
        }
        drop(body_done);
        io::Result::Ok(())
    };
    let download = relay_response(&mut up_rd, &mut wr, req, shared, body_sent);
    match tokio::try_join!(upload, download) {
        Ok(((), ())) => close_gracefully(rd, wr).await,
        Err(_) => {
            // Either side broke mid-message: tell the client plainly rather than with a clean
            // close it could take for a complete (but truncated) answer.
            if let Ok(client) = rd.into_inner().reunite(wr) {
                let _ = client.set_zero_linger();
            }
        }
    }
}

async fn relay_response(
    up_rd: &mut BufReader<OwnedReadHalf>,
    wr: &mut OwnedWriteHalf,
    req: &Request,
    shared: &Mutex<Shared>,
    body_sent: oneshot::Receiver<()>,
) -> io::Result<()> {
    let recording = lock(shared).answers.is_some();
    let mut body_sent = Some(body_sent);
    loop {
        let raw = read_head(up_rd).await?.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "upstream closed before answering",
            )
        })?;
        let head = Head::parse(&raw).ok_or_else(|| invalid("unparsable response head"))?;
        let status: u16 = head
            .start_line
            .split_ascii_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("unparsable status line"))?;
        if (100..200).contains(&status) {
            wr.write_all(&raw).await?;
            continue;
        }
        // The record's body length is final before the client can see the answer, so a test
        // that reads `requests()` right after a response never sees a stale length. A client
        // that asked for `100 Continue` may not send its body after an early final answer.
        if let Some(body_sent) = body_sent.take() {
            if !req.expects_continue() {
                let _ = body_sent.await;
            }
        }
        let framing = if req.method == "HEAD" || status == 204 || status == 304 {
            Framing::Length(0)
        } else {
            head.framing(Framing::UntilEof)
                .ok_or_else(|| invalid("contradictory response framing"))?
        };
        wr.write_all(&head.with_connection_close(&head.start_line))
            .await?;
        let mut to_client = Outlet::strict(wr);
        to_client.kept = recording.then(Vec::new);
        to_client.frozen = lock(shared).frozen.clone();
        relay_body(up_rd, &mut to_client, framing).await?;
        if let (Some(body), Some(answers)) = (to_client.kept, lock(shared).answers.as_mut()) {
            answers.push(Exchange {
                method: req.method.clone(),
                target: req.target.clone(),
                status,
                body,
            });
        }
        return wr.flush().await;
    }
}

/// Writes a complete S3-style XML error response.
async fn respond(
    wr: &mut OwnedWriteHalf,
    status: u16,
    code: &str,
    message: &str,
    head_only: bool,
) -> io::Result<()> {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code>\
         <Message>{message}</Message><RequestId>proxy</RequestId></Error>"
    );
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Injected",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\
         x-amz-request-id: proxy\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(body.as_bytes());
    }
    wr.write_all(&out).await?;
    wr.flush().await
}

/// Half-closes, then waits (bounded) for the client to close its side, so the answer is never
/// destroyed by a reset.
async fn close_gracefully(mut rd: BufReader<OwnedReadHalf>, mut wr: OwnedWriteHalf) {
    let _ = wr.shutdown().await;
    let drain = async {
        let mut buf = [0u8; 4096];
        while matches!(rd.read(&mut buf).await, Ok(n) if n > 0) {}
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// A write target. A strict one fails on the first write error; a lenient one swallows it and
/// discards what follows, so the reader can still be drained to the end of the message.
struct Outlet<'w, W> {
    out: Option<&'w mut W>,
    strict: bool,
    /// Bytes a second; `None` is as fast as the reader gives them.
    rate: Option<u64>,
    /// Flip the next byte written (once), to corrupt a body in flight.
    flip: bool,
    /// A copy of the body's payload (framing left out), when it is to be recorded.
    kept: Option<Vec<u8>>,
    /// While raised, nothing is written ([`FaultProxy::freeze`]).
    frozen: Option<watch::Receiver<bool>>,
    /// When the first and the latest payload bytes came to be written.
    first: Option<Instant>,
    last: Option<Instant>,
}

impl<'w, W: AsyncWrite + Unpin> Outlet<'w, W> {
    fn strict(out: &'w mut W) -> Self {
        Outlet {
            out: Some(out),
            strict: true,
            rate: None,
            flip: false,
            kept: None,
            frozen: None,
            first: None,
            last: None,
        }
    }

    fn lenient(out: &'w mut W) -> Self {
        Outlet {
            out: Some(out),
            strict: false,
            rate: None,
            flip: false,
            kept: None,
            frozen: None,
            first: None,
            last: None,
        }
    }

    /// Writes body payload (not framing): the part a recording keeps.
    async fn put_payload(&mut self, bytes: &[u8]) -> io::Result<()> {
        if !bytes.is_empty() {
            let now = Instant::now();
            self.first.get_or_insert(now);
            self.last = Some(now);
        }
        if let Some(kept) = self.kept.as_mut() {
            kept.extend_from_slice(bytes);
        }
        self.put(bytes).await
    }

    async fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        thawed(&mut self.frozen).await;
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        if let Some(rate) = self.rate {
            tokio::time::sleep(Duration::from_secs_f64(bytes.len() as f64 / rate as f64)).await;
        }
        let flipped;
        let bytes = if self.flip && !bytes.is_empty() {
            self.flip = false;
            let mut changed = bytes.to_vec();
            changed[0] ^= 0xff;
            flipped = changed;
            &flipped[..]
        } else {
            bytes
        };
        match out.write_all(bytes).await {
            Ok(()) => Ok(()),
            Err(err) if self.strict => Err(err),
            Err(_) => {
                self.out = None;
                Ok(())
            }
        }
    }
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// Reads one line including its `\n`, bounded by `MAX_HEAD`. An empty result means EOF.
async fn read_line<R: AsyncBufRead + Unpin>(rd: &mut R) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    (&mut *rd)
        .take(MAX_HEAD)
        .read_until(b'\n', &mut line)
        .await?;
    if !line.is_empty() && !line.ends_with(b"\n") {
        return Err(if line.len() as u64 >= MAX_HEAD {
            invalid("line too long")
        } else {
            io::Error::new(io::ErrorKind::UnexpectedEof, "connection closed mid-line")
        });
    }
    Ok(line)
}

/// Reads a message head up to and including its blank line; `None` if the peer closed first.
async fn read_head<R: AsyncBufRead + Unpin>(rd: &mut R) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let line = read_line(rd).await?;
        if line.is_empty() {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed mid-head",
                ))
            };
        }
        let blank = line == b"\r\n" || line == b"\n";
        if blank && head.is_empty() {
            continue; // RFC 9112 §2.2: tolerate stray empty lines before a message.
        }
        head.extend_from_slice(&line);
        if blank {
            return Ok(Some(head));
        }
        if head.len() as u64 > MAX_HEAD {
            return Err(invalid("head too long"));
        }
    }
}

/// Relays one body with its framing as received; returns the payload length.
async fn relay_body<R, W>(rd: &mut R, out: &mut Outlet<'_, W>, framing: Framing) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    match framing {
        Framing::Length(len) => copy_exact(rd, out, len).await.map(|()| len),
        Framing::UntilEof => {
            let mut len = 0;
            loop {
                let buf = rd.fill_buf().await?;
                if buf.is_empty() {
                    return Ok(len);
                }
                let n = buf.len();
                out.put_payload(buf).await?;
                rd.consume(n);
                len += n as u64;
            }
        }
        Framing::Chunked => {
            let mut len = 0;
            loop {
                let size_line = read_line(rd).await?;
                out.put(&size_line).await?;
                let text = std::str::from_utf8(&size_line).map_err(|_| invalid("chunk size"))?;
                let size = text.split(';').next().unwrap_or_default().trim();
                let size = u64::from_str_radix(size, 16).map_err(|_| invalid("chunk size"))?;
                if size == 0 {
                    // Trailers, then the blank line that ends the body.
                    loop {
                        let line = read_line(rd).await?;
                        if line.is_empty() {
                            return Err(io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "body cut in trailers",
                            ));
                        }
                        out.put(&line).await?;
                        if line == b"\r\n" || line == b"\n" {
                            return Ok(len);
                        }
                    }
                }
                copy_exact(rd, out, size).await?;
                len += size;
                let end = read_line(rd).await?;
                if end != b"\r\n" && end != b"\n" {
                    return Err(invalid("chunk not followed by CRLF"));
                }
                out.put(&end).await?;
            }
        }
    }
}

async fn copy_exact<R, W>(rd: &mut R, out: &mut Outlet<'_, W>, mut remaining: u64) -> io::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    while remaining > 0 {
        let buf = rd.fill_buf().await?;
        if buf.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "body shorter than declared",
            ));
        }
        let n = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        out.put_payload(&buf[..n]).await?;
        rd.consume(n);
        remaining -= n as u64;
    }
    Ok(())
}
