//! Test support shared by the end-to-end tests: the local S3 servers (`server`)
//! and the fault-injecting HTTP proxy (`proxy`).
#![allow(dead_code)]

pub mod proxy;
pub mod server;
