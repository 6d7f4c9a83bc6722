//! Fairness between callers: how many requests each caller may have in
//! flight, and how fast each caller and each client address may ask.
//!
//! One token used to be able to take every `--max-concurrent` slot with slow
//! bodies, create 440 uploads a second, and guess tokens at 616 a second
//! (issue 21). Here:
//! - **`--max-concurrent-per-caller`**: a caller (token ID or JWT subject) has
//!   at most that many requests in flight, from the moment it is
//!   authenticated, body included; one more is 429 `caller_busy`. The global
//!   `--max-concurrent` is only taken once the body is in ([`super::middleware`]).
//! - **`--rate-limit`** requests a second per caller, and **`--create-rate-limit`**
//!   multipart uploads created a second per caller (each unfinished upload
//!   costs storage until it is aborted); **`--address-rate-limit`** requests
//!   a second per client address on the routes that need no token. Each is a
//!   token bucket ([`governor`]'s GCRA) as deep as one second's worth; beyond
//!   it, 429 with `Retry-After`.
//! - **Refused tokens**: an address whose tokens were refused
//!   [`BAD_AUTH_BURST`] times is answered 429 `auth_failures`, without its
//!   token being looked at, until its bucket refills at
//!   [`BAD_AUTH_PER_SEC`] a second: guessing slows to that rate.
//!
//! The counts live in this process: behind a load balancer each `serve`
//! process counts on its own, so the limits a client meets are per process.
//! The client address is the connection's, or with `--trust-proxy` the first
//! `X-Forwarded-For` hop ([`client_addr`]).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use super::auth::Caller;
use super::error::ApiError;

/// Refused tokens an address may present before it is slowed down...
pub const BAD_AUTH_BURST: u32 = 20;
/// ...and how many a second it may present after that.
pub const BAD_AUTH_PER_SEC: u32 = 2;

/// The limits, as the command line gives them; 0 turns a rate off.
#[derive(Debug, Clone)]
pub struct RateLimits {
    pub max_per_caller: usize,
    pub per_caller: u32,
    pub creates_per_caller: u32,
    pub per_address: u32,
    pub trust_proxy: bool,
}

/// The client's address, as [`client_addr`] found it; in every request's
/// extensions, for the limits and the log.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

/// The counters; shared by every request.
pub struct Limiters {
    limits: RateLimits,
    per_caller: Option<DefaultKeyedRateLimiter<String>>,
    creates: Option<DefaultKeyedRateLimiter<String>>,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    bad_auth: DefaultKeyedRateLimiter<IpAddr>,
    /// Addresses that ran out of refused tokens, and until when.
    penalties: Mutex<HashMap<IpAddr, Instant>>,
    /// Requests in flight per caller.
    in_flight: Mutex<HashMap<String, usize>>,
    /// Checks so far: every [`FORGET_EVERY`]th forgets idle keys.
    checks: AtomicU64,
}

/// How often the keyed limiters forget keys whose buckets are full again,
/// so a scan from many addresses cannot grow them without bound.
const FORGET_EVERY: u64 = 4096;

fn keyed<K: Hash + Eq + Clone>(per_sec: u32) -> Option<DefaultKeyedRateLimiter<K>> {
    NonZeroU32::new(per_sec).map(|n| DefaultKeyedRateLimiter::keyed(Quota::per_second(n)))
}

/// Seconds until a refused request may be tried again, rounded up.
fn retry_secs(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

impl Limiters {
    pub fn new(limits: RateLimits) -> Limiters {
        let bad_auth =
            Quota::per_second(NonZeroU32::new(BAD_AUTH_PER_SEC).unwrap_or(NonZeroU32::MIN))
                .allow_burst(NonZeroU32::new(BAD_AUTH_BURST).unwrap_or(NonZeroU32::MIN));
        Limiters {
            per_caller: keyed(limits.per_caller),
            creates: keyed(limits.creates_per_caller),
            per_address: keyed(limits.per_address),
            bad_auth: DefaultKeyedRateLimiter::keyed(bad_auth),
            penalties: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            checks: AtomicU64::new(0),
            limits,
        }
    }

    pub fn trust_proxy(&self) -> bool {
        self.limits.trust_proxy
    }

    fn tick(&self) {
        if self.checks.fetch_add(1, Ordering::Relaxed) % FORGET_EVERY == FORGET_EVERY - 1 {
            for l in [&self.per_caller, &self.creates].into_iter().flatten() {
                l.retain_recent();
                l.shrink_to_fit();
            }
            for l in self.per_address.iter().chain([&self.bad_auth]) {
                l.retain_recent();
                l.shrink_to_fit();
            }
            let now = Instant::now();
            if let Ok(mut p) = self.penalties.lock() {
                p.retain(|_, until| *until > now);
            }
        }
    }

    /// The per-address rate, for the routes that need no token.
    pub fn check_address(&self, addr: IpAddr) -> Result<(), ApiError> {
        self.tick();
        let Some(limiter) = &self.per_address else {
            return Ok(());
        };
        limiter.check_key(&addr).map_err(|not_until| {
            super::metrics::rejected("address_rate");
            let secs = retry_secs(not_until.wait_time_from(DefaultClock::default().now()));
            ApiError::too_many(
                "rate_limited",
                format!(
                    "this address made more than {} requests a second (--address-rate-limit): retry in {secs} s",
                    self.limits.per_address
                ),
                secs,
            )
        })
    }

    /// Refuses an address that presented too many refused tokens, before
    /// its token is looked at.
    pub fn check_penalty(&self, addr: IpAddr) -> Result<(), ApiError> {
        let until = self
            .penalties
            .lock()
            .ok()
            .and_then(|p| p.get(&addr).copied());
        match until {
            Some(until) if until > Instant::now() => {
                super::metrics::rejected("auth_failures");
                let secs = retry_secs(until - Instant::now());
                Err(ApiError::too_many(
                    "auth_failures",
                    format!(
                        "too many refused tokens from this address: retry in {secs} s with a valid token"
                    ),
                    secs,
                ))
            }
            _ => Ok(()),
        }
    }

    /// Counts a refused token against `addr`.
    pub fn auth_failed(&self, addr: IpAddr) {
        self.tick();
        if let Err(not_until) = self.bad_auth.check_key(&addr) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            if let Ok(mut p) = self.penalties.lock() {
                p.insert(addr, Instant::now() + wait);
            }
        }
    }

    /// The caller's rates: every request, and creates on their own.
    pub fn check_caller(&self, caller: &Caller, creates: bool) -> Result<(), ApiError> {
        self.tick();
        let key = caller_key(caller);
        let refuse = |limiter: &Option<DefaultKeyedRateLimiter<String>>,
                      reason: &'static str,
                      what: String| {
            let Some(limiter) = limiter else {
                return Ok(());
            };
            limiter.check_key(&key).map_err(|not_until| {
                super::metrics::rejected(reason);
                let secs = retry_secs(not_until.wait_time_from(DefaultClock::default().now()));
                ApiError::too_many("rate_limited", format!("{what}: retry in {secs} s"), secs)
            })
        };
        refuse(
            &self.per_caller,
            "rate",
            format!(
                "this token made more than {} requests a second (the server's --rate-limit)",
                self.limits.per_caller
            ),
        )?;
        if creates {
            refuse(
                &self.creates,
                "create_rate",
                format!(
                    "this token created more than {} uploads a second (the server's --create-rate-limit)",
                    self.limits.creates_per_caller
                ),
            )?;
        }
        Ok(())
    }

    /// One more request in flight for `caller`, until the guard is dropped;
    /// or 429 when it already has `--max-concurrent-per-caller`.
    pub fn enter(self: &Arc<Self>, caller: &Caller) -> Result<InFlight, ApiError> {
        let key = caller_key(caller);
        let mut map = self
            .in_flight
            .lock()
            .map_err(|_| super::error::for_status(axum::http::StatusCode::INTERNAL_SERVER_ERROR))?;
        let n = map.entry(key.clone()).or_insert(0);
        if *n >= self.limits.max_per_caller {
            super::metrics::rejected("caller_busy");
            return Err(ApiError::too_many(
                "caller_busy",
                format!(
                    "this token already has {} requests in flight, the most the server allows one caller \
                     (--max-concurrent-per-caller): wait for one to finish",
                    self.limits.max_per_caller
                ),
                1,
            ));
        }
        *n += 1;
        Ok(InFlight {
            limiters: self.clone(),
            key,
        })
    }
}

/// A caller's request in flight; counted down when dropped.
pub struct InFlight {
    limiters: Arc<Limiters>,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut map) = self.limiters.in_flight.lock() {
            if let Some(n) = map.get_mut(&self.key) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(&self.key);
                }
            }
        }
    }
}

/// Who a caller is for the limits: its ID, and for a JWT with no subject
/// (all called "jwt") its prefix too, so unrelated issuers' tokens do not
/// share one bucket.
fn caller_key(caller: &Caller) -> String {
    format!("{}\n{}", caller.id, caller.scope)
}

/// The client's address: the connection's, or with `trust_proxy` the first
/// address in `X-Forwarded-For` (the client, as the proxy saw it). Without
/// a proxy that header is whatever the client wrote, so it is read only
/// when told.
pub fn client_addr(req: &Request, trust_proxy: bool) -> IpAddr {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    if !trust_proxy {
        return peer;
    }
    req.headers()
        .get("x-forwarded-for")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.split(',').next())
        .and_then(|first| first.trim().parse::<IpAddr>().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiters(per_caller: u32, creates: u32) -> Arc<Limiters> {
        Arc::new(Limiters::new(RateLimits {
            max_per_caller: 2,
            per_caller,
            creates_per_caller: creates,
            per_address: 3,
            trust_proxy: false,
        }))
    }

    fn caller(id: &str) -> Caller {
        Caller {
            id: id.into(),
            scope: "up/".into(),
        }
    }

    #[test]
    fn a_caller_over_its_rate_is_429_and_another_is_not() {
        let l = limiters(5, 2);
        for _ in 0..5 {
            l.check_caller(&caller("a"), false).unwrap();
        }
        let e = l.check_caller(&caller("a"), false).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (429, "rate_limited"));
        assert_eq!(e.retry_after, Some(1));
        l.check_caller(&caller("b"), true).unwrap();
        l.check_caller(&caller("b"), true).unwrap();
        let e = l.check_caller(&caller("b"), true).unwrap_err();
        assert!(e.message.contains("--create-rate-limit"), "{}", e.message);
        // 0 turns a rate off.
        let l = limiters(0, 0);
        for _ in 0..100 {
            l.check_caller(&caller("a"), true).unwrap();
        }
    }

    #[test]
    fn in_flight_is_counted_per_caller_and_given_back() {
        let l = limiters(0, 0);
        let one = l.enter(&caller("a")).unwrap();
        let _two = l.enter(&caller("a")).unwrap();
        assert_eq!(
            l.enter(&caller("a")).err().map(|e| e.code),
            Some("caller_busy")
        );
        let _other = l.enter(&caller("b")).unwrap();
        drop(one);
        let _three = l.enter(&caller("a")).unwrap();
    }

    #[test]
    fn refused_tokens_slow_an_address_down() {
        let l = limiters(0, 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..BAD_AUTH_BURST {
            l.check_penalty(a).unwrap();
            l.auth_failed(a);
        }
        l.auth_failed(a);
        let e = l.check_penalty(a).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (429, "auth_failures"));
        l.check_penalty(b).unwrap();
        for _ in 0..3 {
            l.check_address(b).unwrap();
        }
        assert_eq!(l.check_address(b).unwrap_err().code, "rate_limited");
    }

    #[test]
    fn the_forwarded_address_is_read_only_when_trusted() {
        let mut req = Request::builder()
            .header("x-forwarded-for", "203.0.113.7, 10.0.0.1")
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 9))));
        assert_eq!(client_addr(&req, false).to_string(), "127.0.0.1");
        assert_eq!(client_addr(&req, true).to_string(), "203.0.113.7");
    }
}
