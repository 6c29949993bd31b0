//! What must not compile, and why: each file in `cases/` is a program the types reject, and its
//! `.stderr` beside it is the error rustc gives (the error code and, for the typed search, the
//! `on_unimplemented` message naming the resource and the parameter), so a program rejected for
//! another reason (a typo, a renamed item) fails this test. Their controls, in `controls/`,
//! compile and run.
//!
//! `TRYBUILD=overwrite cargo test -p compile-fail` rewrites the `.stderr` files after a
//! deliberate change to a message or a new rustc's wording; review the diff.

#[test]
fn what_must_not_compile_is_rejected_for_its_reason() {
    let cases = trybuild::TestCases::new();
    cases.pass("controls/*.rs");
    cases.compile_fail("cases/*.rs");
}
