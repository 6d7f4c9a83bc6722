//! The WAN emulator of the tests (`tests/support/wan.rs`), standalone, for
//! `scripts/bench --wan`:
//!
//! ```text
//! cargo run --release --example wan -- --listen 127.0.0.1:0 --upstream 127.0.0.1:3900 \
//!     --rtt 200ms --rate 40MiB/s --window 1MiB
//! ```
//!
//! It prints `wan: listening on http://ADDR (LINK)` on its first line, then
//! relays until it is killed. On SIGTERM or Ctrl-C it prints the bytes it
//! delivered in each direction and exits.

#[path = "../tests/support/wan.rs"]
mod wan;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use wan::{Counters, Link};

const USAGE: &str = "usage: wan --upstream HOST:PORT --rtt 200ms --rate 40MiB/s --window 1MiB \
                     [--listen 127.0.0.1:0]";

fn fail(msg: &str) -> ! {
    eprintln!("wan: {msg}\n{USAGE}");
    std::process::exit(2);
}

struct Args {
    listen: SocketAddr,
    upstream: SocketAddr,
    link: Link,
}

fn parse_args() -> Args {
    let mut listen = SocketAddr::from(([127, 0, 0, 1], 0));
    let (mut upstream, mut rtt, mut rate, mut window) = (None, None, None, None);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let Some(value) = args.next() else {
            fail(&format!("{flag} needs a value"))
        };
        let bad = |e: String| -> ! { fail(&format!("{flag}: {e}")) };
        match flag.as_str() {
            "--listen" => listen = value.parse().unwrap_or_else(|e| bad(format!("{e}"))),
            "--upstream" => {
                upstream = Some(wan::resolve(&value).unwrap_or_else(|e| bad(e.to_string())))
            }
            "--rtt" => rtt = Some(wan::parse_rtt(&value).unwrap_or_else(|e| bad(e))),
            "--rate" => rate = Some(wan::parse_rate(&value).unwrap_or_else(|e| bad(e))),
            "--window" => window = Some(wan::parse_window(&value).unwrap_or_else(|e| bad(e))),
            _ => fail(&format!("unknown option {flag}")),
        }
    }
    let (Some(upstream), Some(rtt), Some(rate), Some(window)) = (upstream, rtt, rate, window)
    else {
        fail("--upstream, --rtt, --rate and --window are all needed")
    };
    Args {
        listen,
        upstream,
        link: Link { rtt, rate, window },
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let listener = wan::listen(args.listen)
        .await
        .unwrap_or_else(|e| fail(&format!("cannot listen on {}: {e}", args.listen)));
    let addr = listener
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("wan: listening on http://{addr} ({})", args.link);
    let _ = std::io::stdout().flush();
    let counters = Arc::new(Counters::default());
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .unwrap_or_else(|e| fail(&e.to_string()));
    tokio::select! {
        () = wan::serve(listener, args.upstream, args.link, counters.clone()) => {}
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    eprintln!(
        "wan: delivered {} bytes up, {} down, over {} connections",
        counters.up.load(Ordering::Relaxed),
        counters.down.load(Ordering::Relaxed),
        counters.connections.load(Ordering::Relaxed)
    );
}
