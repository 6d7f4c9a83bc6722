//! Checks the WAN emulator itself against a raw TCP sink, so that a benchmark
//! figure measured through it can be trusted: one connection moves about
//! `window / rtt`, many together about `rate`, and a round trip takes `rtt`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::support::wan::{Link, Wan};
use crate::support::MIB;

/// A server that reads each connection to its end and reports, per
/// connection, the bytes and the time from its first byte to its last
/// (so the handshake does not count), then answers "ok".
fn sink() -> (String, mpsc::Receiver<(u64, Duration)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut buf = vec![0u8; 256 * 1024];
                let (mut total, mut first) = (0u64, None);
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            first.get_or_insert_with(Instant::now);
                            total += n as u64;
                        }
                    }
                }
                let took = first.map_or(Duration::ZERO, |t| t.elapsed());
                let _ = stream.write_all(b"ok");
                let _ = tx.send((total, took));
            });
        }
    });
    (addr, rx)
}

/// Sends `bytes` on one connection through `wan`, then waits for the answer.
fn send(wan: &Wan, bytes: u64) {
    let mut stream = TcpStream::connect(wan.addr()).unwrap();
    let chunk = vec![7u8; 256 * 1024];
    let mut left = bytes;
    while left > 0 {
        let n = left.min(chunk.len() as u64) as usize;
        stream.write_all(&chunk[..n]).unwrap();
        left -= n as u64;
    }
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert_eq!(answer, "ok");
}

fn mib_per_s(bytes: u64, took: Duration) -> f64 {
    bytes as f64 / MIB as f64 / took.as_secs_f64()
}

#[test]
fn one_connection_moves_a_window_per_round_trip() {
    let (upstream, done) = sink();
    // 256 KiB per 100 ms: 2.5 MiB/s, far below the rate.
    let link = Link::parse("100ms,40MiB/s,256KiB").unwrap();
    let wan = Wan::start(&upstream, link);

    send(&wan, 5 * MIB);

    let (bytes, took) = done.recv().unwrap();
    assert_eq!(bytes, 5 * MIB);
    let rate = mib_per_s(bytes, took);
    // The first window goes out at once, so the ideal is a little above 2.5.
    assert!(
        (2.2..=3.0).contains(&rate),
        "{rate:.2} MiB/s, want about 2.5"
    );
    assert_eq!(
        wan.counters().up.load(std::sync::atomic::Ordering::Relaxed),
        5 * MIB
    );
}

#[test]
fn many_connections_share_the_rate() {
    let (upstream, done) = sink();
    // Eight connections could move 8 × 10 MiB/s; the link carries 8.
    let link = Link::parse("50ms,8MiB/s,512KiB").unwrap();
    let wan = Wan::start(&upstream, link);
    let started = Instant::now();

    let senders: Vec<_> = (0..8)
        .map(|_| {
            let addr = wan.addr();
            thread::spawn(move || {
                let wan_addr = addr;
                let mut stream = TcpStream::connect(wan_addr).unwrap();
                let chunk = vec![1u8; 4 * MIB as usize];
                stream.write_all(&chunk).unwrap();
                stream.shutdown(std::net::Shutdown::Write).unwrap();
                let mut answer = String::new();
                stream.read_to_string(&mut answer).unwrap();
            })
        })
        .collect();
    for s in senders {
        s.join().unwrap();
    }
    let wall = started.elapsed();
    let total: u64 = (0..8).map(|_| done.recv().unwrap().0).sum();

    assert_eq!(total, 32 * MIB);
    // 32 MiB at 8 MiB/s is 4 s, plus a handshake and a round trip.
    let rate = mib_per_s(total, wall);
    assert!(
        (7.0..=8.3).contains(&rate),
        "{rate:.2} MiB/s over {wall:?}, want about 8"
    );
}

#[test]
fn a_request_and_its_answer_take_a_round_trip_after_the_handshake() {
    let (upstream, _done) = sink();
    let link = Link::parse("200ms,40MiB/s,1MiB").unwrap();
    let wan = Wan::start(&upstream, link);
    let started = Instant::now();

    send(&wan, 1000);

    // Handshake (one RTT), the bytes and the end there (half), the answer
    // back (half).
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(400) && took < Duration::from_millis(600),
        "{took:?}, want about 400 ms"
    );
}

#[test]
fn parses_the_bench_syntax() {
    let link = Link::parse("300ms,40MiB/s,512KiB").unwrap();
    assert_eq!(link.rtt, Duration::from_millis(300));
    assert_eq!(link.rate, 40 * MIB);
    assert_eq!(link.window, 512 * 1024);
    assert!((link.per_connection() - 512.0 * 1024.0 / 0.3).abs() < 1.0);
    for bad in [
        "300,40MiB/s,512KiB",
        "300ms,40MiB,512KiB",
        "300ms,40MiB/s",
        "1s,1MiB/s,1KiB",
    ] {
        assert!(Link::parse(bad).is_err(), "{bad}");
    }
}
