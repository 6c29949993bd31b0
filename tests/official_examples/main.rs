//! The checks that read the official examples of every version (`scripts/fhir-examples` gives
//! their folder): conformance (read, write back, nothing lost), validation against the base
//! definitions, and a short fuzz run seeded from them. Each prints its counts; under `CI=true`
//! missing examples fail. `cargo test --all-features --test official_examples [-- conformance]`
//! (see `support::Runner` for the filter).

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod conformance;
#[cfg(all(feature = "client", feature = "r4", feature = "stu3", feature = "dstu2", feature = "fuzzing"))]
mod fuzz_smoke;
mod validate_examples;

use support::Runner;

const SUITES: &[&str] = &["conformance", "validate_examples", "fuzz_smoke"];

fn main() {
    let mut t = Runner::new();
    t.suite("conformance", SUITES, |t| t.case_blocking("every example read and written back", conformance::run));
    t.suite("validate_examples", SUITES, |t| {
        t.case_blocking("every example validated, every issue explained", || {
            validate_examples::run();
            Ok(())
        })
    });
    #[cfg(all(feature = "client", feature = "r4", feature = "stu3", feature = "dstu2", feature = "fuzzing"))]
    t.suite("fuzz_smoke", SUITES, |t| {
        t.case_blocking("every fuzz target, seeds and mutants, no panic", || {
            fuzz_smoke::run();
            Ok(())
        })
    });
    t.finish()
}
