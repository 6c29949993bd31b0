//! The tests that need nothing but the library: JSON read from bad input, the conversions to
//! other crates' types, FHIRPath's official suites, the search builders, serde, validation.
//! `cargo test --all-features --test offline`. (What must not compile: `tests/compile-fail/`.)

mod bad_input;
#[cfg(all(
    feature = "r4",
    feature = "time",
    feature = "chrono",
    feature = "jiff",
    feature = "rust_decimal",
    feature = "uuid"
))]
mod conversions;
mod fhirpath;
#[cfg(all(feature = "dstu2", feature = "stu3", feature = "r4"))]
mod search;
mod serde;
mod validate;
