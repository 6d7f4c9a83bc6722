//! The end-to-end tests, one test binary: each module drives the built `s3up`
//! binary (or, for the self-tests, a fixture of `support/`) against local
//! servers. One binary compiles `support/` once and shares its servers
//! (Garage and moto start once per run, see `support::server`); filter by
//! module, e.g. `cargo test --test e2e via::`.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod checksums;
mod completions;
mod faults;
mod lambda;
mod lost;
mod messages;
mod newuser;
mod options;
mod outages;
mod progress;
mod proxy_selftest;
mod put;
mod resume;
mod serve;
mod serve_attack;
mod server_selftest;
mod stdin;
mod tree;
mod via;
mod wan_selftest;
mod web;
