//! What must not compile, and why: each file in `tests/compile-fail/` is a program the types
//! reject, and its `.stderr` beside it is the error rustc gives (the error code and, for the
//! typed search, the `on_unimplemented` message naming the resource and the parameter), so a
//! program rejected for another reason (a typo, a renamed item) fails this test. Their controls,
//! in `tests/compile-pass/`, compile and run.
//!
//! The `.stderr` files are rustc's output for an `--all-features` build, as `scripts/test` runs
//! it (the features change how rustc spells paths: with more versions, more are qualified).
//! `TRYBUILD=overwrite cargo test --all-features --test offline compile_fail` rewrites them after a
//! deliberate change to a message, a new feature or a new rustc's wording; review the diff.

#![cfg(all(feature = "r4", feature = "stu3", feature = "client", feature = "serde"))]

#[test]
fn what_must_not_compile_is_rejected_for_its_reason() {
    let cases = trybuild::TestCases::new();
    cases.pass("../tests/compile-pass/*.rs");
    cases.compile_fail("../tests/compile-fail/*.rs");
}
