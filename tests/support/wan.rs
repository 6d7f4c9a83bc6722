//! The WAN emulator: a userspace TCP proxy that makes a loopback connection
//! behave like a long, capped link, because netem is not available on these
//! machines (DESIGN §5). The benchmark runs it standalone (`examples/wan.rs`,
//! for `scripts/bench --wan`), the end-to-end tests start it with [`Wan::start`].
//!
//! A [`Link`] has three numbers, and each direction of each connection goes
//! through its own delay line that obeys them:
//! - **rtt**: every byte reaches the other side `rtt / 2` after it left the
//!   sender, and a new connection carries nothing for one `rtt` (the
//!   handshake);
//! - **rate**: the bytes of all connections together, per direction, leave at
//!   most at this rate (one virtual clock that every chunk reserves its
//!   transmission time on, first come first served, with no burst credit);
//! - **window**: a connection has at most this many bytes in flight per
//!   direction: taken from the sender but not yet acknowledged, an
//!   acknowledgement coming back `rtt / 2` after the byte was delivered. One
//!   connection therefore moves at most `window / rtt`, as TCP does when its
//!   window (the receiver's, or a capped congestion window) is the limit.
//!
//! The proxy takes bytes from the sender only as the window lets it, and its
//! sockets' receive buffers are kept small ([`SOCKET_BUFFER`]), so the sender's
//! writes block as they would on the real link instead of filling megabytes of
//! loopback buffers. Not emulated: loss, slow start, congestion control, MTU.
//!
//! It keeps up with well over 40 MiB/s on two cores: the work per chunk
//! ([`CHUNK`], or less) is a read, a timer and a write.

#![allow(dead_code)] // Each user (the e2e tests, examples/wan.rs) uses a part.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio::time::{sleep_until, Instant};

/// The most a delay line takes from a socket at once: small against the
/// windows emulated (hundreds of KiB and up), big enough to move 40 MiB/s in
/// a few hundred reads a second.
pub const CHUNK: usize = 64 * 1024;
/// The segment size the proxy's sockets advertise: an Ethernet path's.
pub const SEGMENT: u32 = 1448;
/// The receive buffer of the proxy's sockets, on both sides. The window, not
/// the kernel, must decide how much a sender has in flight.
pub const SOCKET_BUFFER: u32 = 64 * 1024;

/// A link's round trip, rate and per-connection window.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    pub rtt: Duration,
    /// Bytes a second, all connections together, per direction.
    pub rate: u64,
    /// Bytes in flight per connection and direction.
    pub window: u64,
}

impl Link {
    /// Parses `RTT,RATE,WINDOW`, e.g. `300ms,40MiB/s,512KiB` (the syntax of
    /// `scripts/bench --wan`); sizes take s3up's units (K, M, G: powers of 1024).
    pub fn parse(spec: &str) -> Result<Link, String> {
        let fields: Vec<&str> = spec.split(',').map(str::trim).collect();
        let [rtt, rate, window] = fields[..] else {
            return Err(format!(
                "'{spec}' is not RTT,RATE,WINDOW (like 300ms,40MiB/s,512KiB)"
            ));
        };
        Ok(Link {
            rtt: parse_rtt(rtt)?,
            rate: parse_rate(rate)?,
            window: parse_window(window)?,
        })
    }

    /// The most one connection can move: `window / rtt`, or the rate.
    pub fn per_connection(&self) -> f64 {
        let by_window = self.window as f64 / self.rtt.as_secs_f64().max(1e-6);
        by_window.min(self.rate as f64)
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: f64| b / (1024.0 * 1024.0);
        write!(
            f,
            "{} ms RTT, {:.0} MiB/s, {:.0} KiB window",
            self.rtt.as_millis(),
            mib(self.rate as f64),
            self.window as f64 / 1024.0
        )
    }
}

/// `80ms`, `0.3s`, `1s`.
pub fn parse_rtt(s: &str) -> Result<Duration, String> {
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        return Err(format!("RTT '{s}' needs a unit: ms or s (like 80ms)"));
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Duration::from_secs_f64(v * scale)),
        _ => Err(format!("RTT '{s}' is not a duration like 80ms")),
    }
}

/// `40MiB/s`, `500KiB/s`.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let Some(size) = s.strip_suffix("/s") else {
        return Err(format!("rate '{s}' needs '/s' (like 40MiB/s)"));
    };
    match s3up::units::parse_size(size)? {
        0 => Err(format!("rate '{s}' is zero")),
        n => Ok(n),
    }
}

/// `512KiB`, `4MiB`; at least one [`CHUNK`].
pub fn parse_window(s: &str) -> Result<u64, String> {
    match s3up::units::parse_size(s)? {
        n if n < CHUNK as u64 => Err(format!("window '{s}' is below {} KiB", CHUNK / 1024)),
        n => Ok(n),
    }
}

/// Bytes delivered so far, per direction, and connections accepted.
#[derive(Debug, Default)]
pub struct Counters {
    /// Client to server.
    pub up: AtomicU64,
    /// Server to client.
    pub down: AtomicU64,
    pub connections: AtomicU64,
}

/// One direction's rate limit, shared by every connection: the instant the
/// link is free again. A chunk of `n` bytes takes `n / rate` of it.
struct Clock {
    rate: f64,
    free_at: Mutex<Instant>,
}

impl Clock {
    fn new(rate: u64) -> Clock {
        Clock {
            rate: rate as f64,
            free_at: Mutex::new(Instant::now()),
        }
    }

    /// Reserves the link for `bytes`: returns when they will have left.
    fn reserve(&self, bytes: usize) -> Instant {
        let mut free_at = self.free_at.lock().unwrap_or_else(PoisonError::into_inner);
        let start = (*free_at).max(Instant::now());
        *free_at = start + Duration::from_secs_f64(bytes as f64 / self.rate);
        *free_at
    }
}

/// The emulator on its own tokio runtime and thread, so synchronous tests can
/// use it. Dropping it closes every connection.
pub struct Wan {
    addr: SocketAddr,
    counters: Arc<Counters>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Wan {
    /// Starts an emulator of `link` in front of `upstream` (an `http://` URL
    /// or `HOST:PORT`) on a free loopback port.
    pub fn start(upstream: &str, link: Link) -> Wan {
        let upstream = resolve(upstream).expect("wan: upstream");
        let counters = Arc::new(Counters::default());
        let (shutdown, stop) = oneshot::channel();
        let (bound, addr) = std::sync::mpsc::channel();
        let state = counters.clone();
        let thread = std::thread::Builder::new()
            .name("wan".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("wan: tokio runtime");
                runtime.block_on(async move {
                    let listener = listen(SocketAddr::from(([127, 0, 0, 1], 0)))
                        .await
                        .expect("wan: bind 127.0.0.1");
                    let _ = bound.send(listener.local_addr().expect("wan: local address"));
                    tokio::select! {
                        _ = serve(listener, upstream, link, state) => {}
                        _ = stop => {}
                    }
                });
            })
            .expect("wan: thread");
        let addr = addr.recv().expect("wan: the emulator's thread died");
        Wan {
            addr,
            counters,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to hand to s3up as `--endpoint-url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn counters(&self) -> &Counters {
        &self.counters
    }
}

impl Drop for Wan {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `http://HOST:PORT[/…]` or `HOST:PORT`, to one socket address.
pub fn resolve(upstream: &str) -> io::Result<SocketAddr> {
    let authority = upstream.strip_prefix("http://").unwrap_or(upstream);
    let authority = authority.split('/').next().unwrap_or_default();
    authority.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("no address for {upstream}"),
        )
    })
}

/// A listener on `addr` whose accepted sockets have small receive buffers
/// (they inherit the listener's).
pub async fn listen(addr: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_recv_buffer_size(SOCKET_BUFFER as usize)?;
    // Loopback's 64 KiB segments would let the sender's kernel count a few
    // segments as a window of megabytes and buffer that much; a WAN path's
    // segment keeps its send buffer near what a real link gives it.
    socket.set_tcp_mss(SEGMENT)?;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    TcpListener::from_std(socket.into())
}

/// Accepts connections on `listener` and relays each to `upstream` through
/// the emulated link, until dropped.
pub async fn serve(
    listener: TcpListener,
    upstream: SocketAddr,
    link: Link,
    counters: Arc<Counters>,
) {
    let up = Arc::new(Clock::new(link.rate));
    let down = Arc::new(Clock::new(link.rate));
    loop {
        let Ok((client, _)) = listener.accept().await else {
            continue;
        };
        let opened = Instant::now();
        counters.connections.fetch_add(1, Ordering::Relaxed);
        let (up, down, counters) = (up.clone(), down.clone(), counters.clone());
        tokio::spawn(async move {
            let Ok(server) = connect(upstream).await else {
                return; // The client sees its connection closed.
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (client_rx, client_tx) = client.into_split();
            let (server_rx, server_tx) = server.into_split();
            // The handshake: the client's first bytes leave one RTT after it
            // connected (its SYN and the SYN-ACK each took half).
            let handshake = opened + link.rtt;
            let c2s = Line::new(link, up, handshake);
            let s2c = Line::new(link, down, handshake);
            let (a, b) = (counters.clone(), counters);
            tokio::join!(
                c2s.relay(client_rx, server_tx, move |n| {
                    a.up.fetch_add(n, Ordering::Relaxed);
                }),
                s2c.relay(server_rx, client_tx, move |n| {
                    b.down.fetch_add(n, Ordering::Relaxed);
                }),
            );
        });
    }
}

async fn connect(upstream: SocketAddr) -> io::Result<TcpStream> {
    let socket = if upstream.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_recv_buffer_size(SOCKET_BUFFER)?;
    socket.connect(upstream).await
}

/// One direction of one connection.
struct Line {
    link: Link,
    clock: Arc<Clock>,
    window: Arc<Semaphore>,
    /// Nothing is taken from the sender before this (the handshake).
    start: Instant,
}

/// What travels down a line: bytes (with the window they hold) or the end.
enum Item {
    Bytes {
        data: Vec<u8>,
        arrives: Instant,
        held: OwnedSemaphorePermit,
    },
    End {
        arrives: Instant,
    },
}

impl Line {
    fn new(link: Link, clock: Arc<Clock>, start: Instant) -> Line {
        let window = usize::try_from(link.window)
            .unwrap_or(usize::MAX)
            .min(Semaphore::MAX_PERMITS);
        Line {
            link,
            clock,
            window: Arc::new(Semaphore::new(window)),
            start,
        }
    }

    /// Moves bytes from `from` to `to` until `from` ends (then shuts `to`
    /// down for writing) or either side fails; `delivered` counts each
    /// chunk as it is written.
    async fn relay(
        self,
        mut from: OwnedReadHalf,
        mut to: OwnedWriteHalf,
        delivered: impl Fn(u64) + Send + 'static,
    ) {
        let half_rtt = self.link.rtt / 2;
        let chunk = CHUNK.min(self.link.window as usize);
        let (tx, mut rx) = mpsc::unbounded_channel::<Item>();
        // The acknowledgements: each chunk's window comes back half an RTT
        // after it was delivered, in order.
        let (ack_tx, mut acks) = mpsc::unbounded_channel::<(Instant, OwnedSemaphorePermit)>();
        let acker = tokio::spawn(async move {
            while let Some((at, held)) = acks.recv().await {
                sleep_until(at).await;
                drop(held);
            }
        });
        let writer = async move {
            while let Some(item) = rx.recv().await {
                match item {
                    Item::Bytes {
                        data,
                        arrives,
                        held,
                    } => {
                        sleep_until(arrives).await;
                        if to.write_all(&data).await.is_err() {
                            break;
                        }
                        delivered(data.len() as u64);
                        let _ = ack_tx.send((arrives + half_rtt, held));
                    }
                    Item::End { arrives } => {
                        sleep_until(arrives).await;
                        let _ = to.shutdown().await;
                        break;
                    }
                }
            }
        };
        let reader = async move {
            sleep_until(self.start).await;
            let mut buf = vec![0u8; chunk];
            loop {
                // Room in the window first, so the bytes stay with the
                // sender (blocking its writes) until they may go.
                let Ok(held) = self.window.clone().acquire_many_owned(chunk as u32).await else {
                    return;
                };
                let n = match from.read(&mut buf).await {
                    Ok(0) | Err(_) => {
                        let _ = tx.send(Item::End {
                            arrives: Instant::now() + half_rtt,
                        });
                        return;
                    }
                    Ok(n) => n,
                };
                let mut held = held;
                if n < chunk {
                    // Give back what this read did not use.
                    drop(held.split(chunk - n));
                }
                let sent = self.clock.reserve(n);
                sleep_until(sent).await;
                let item = Item::Bytes {
                    data: buf[..n].to_vec(),
                    arrives: sent + half_rtt,
                    held,
                };
                if tx.send(item).is_err() {
                    return;
                }
            }
        };
        tokio::join!(reader, writer);
        acker.abort();
    }
}
