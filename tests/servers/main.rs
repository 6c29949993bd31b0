//! The tests against the real servers on 127.0.0.1, each suite with its own: sekmet-fhir (REST,
//! Backend Services, bulk export, the examples through a real server) and oidc-provider (the SMART
//! flows), for the async and the blocking API. `scripts/install-test-servers` installs them.
//! `cargo test --all-features --test servers [-- smart]` (see `support::Runner` for the filter).

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

#[cfg(all(feature = "blocking", feature = "r4", feature = "stu3"))]
mod blocking;
mod bulk;
#[cfg(feature = "stu3")]
mod rest;
mod server_round_trip;
mod smart;

use support::{current_thread, multi_thread, Runner};

const SUITES: &[&str] = &["rest", "bulk", "server_round_trip", "blocking", "smart"];

fn main() {
    let mut t = Runner::new();
    #[cfg(feature = "stu3")]
    t.suite("rest", SUITES, |t| multi_thread().block_on(rest::run(t)));
    t.suite("bulk", SUITES, |t| current_thread().block_on(bulk::run(t)));
    t.suite("server_round_trip", SUITES, |t| multi_thread().block_on(server_round_trip::run(t)));
    #[cfg(all(feature = "blocking", feature = "r4", feature = "stu3"))]
    t.suite("blocking", SUITES, blocking::run);
    // Last: it installs the process's tracing subscriber, to check what the flows log.
    t.suite("smart", SUITES, |t| multi_thread().block_on(smart::run(t)));
    t.finish()
}
