//! The tests against the hand-written fake server of `tests/support/fake.rs`: what no real
//! server does on demand (a hostile or broken answer, a fault at a chosen moment). Each case
//! starts its own fake. `cargo test --all-features --test fake_server`.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/bulk_export.rs"]
mod bulk_export;
#[path = "../support/fake.rs"]
mod fake;

mod auth_faults;
#[cfg(all(feature = "client", feature = "r4"))]
mod bulk_faults;
#[cfg(all(feature = "client", feature = "dstu2", feature = "stu3", feature = "r4"))]
mod faults;
#[cfg(all(feature = "client", feature = "r4"))]
mod id_token;
#[cfg(all(feature = "client", feature = "dstu2", feature = "stu3", feature = "r4"))]
mod lenient;
#[cfg(all(feature = "client", feature = "r4"))]
mod quirks;
#[cfg(all(feature = "client", feature = "r4"))]
mod threats;
