//! The tests that bound memory, with a counting global allocator: a process to themselves, their
//! suites one after another, so that nothing else allocates while they measure. A hostile error
//! or padded body (a fake server), NDJSON lines padded with unknown members and a 200 MB bulk file
//! (a fake server), and 10,000 resources paged through sekmet-fhir.
//! `cargo test --all-features --test memory`.

#[macro_use]
#[path = "../support/mod.rs"]
mod support;
#[path = "../support/bulk_export.rs"]
mod bulk_export;
#[path = "../support/counting.rs"]
mod counting;
#[path = "../support/fake.rs"]
mod fake;

mod bulk_streaming;
mod error_memory;
mod paging;

use support::{current_thread, multi_thread, Runner};

const SUITES: &[&str] = &["error_memory", "bulk_streaming", "paging"];

fn main() {
    let mut t = Runner::new();
    t.suite("error_memory", SUITES, |t| current_thread().block_on(error_memory::run(t)));
    t.suite("bulk_streaming", SUITES, |t| current_thread().block_on(bulk_streaming::run(t)));
    t.suite("paging", SUITES, |t| multi_thread().block_on(paging::run(t)));
    t.finish()
}
