//! The tests that need nothing but the library: JSON read from bad input, the conversions to
//! other crates' types, the search builders, serde, validation, and the compile-fail cases
//! (trybuild). `cargo test --all-features --test offline`.

mod bad_input;
mod compile_fail;
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
