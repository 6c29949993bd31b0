//! The implementation-guide generator over a small package whose name, version, extension URL,
//! title, description and search-parameter code are the input (split on NUL): generation never
//! panics, its output parses into the items of the same package with clean strings, and no doc
//! comment holds Markdown code, HTML or a link. The body is shared with the generator's replay
//! of these seeds (`fhirstorm-codegen/tests/fuzz_ig_package.rs`).
#![no_main]

// `ig_fuzz` refers to `super::generated`: both sit at the crate root here.
#[path = "../../fhirstorm-codegen/tests/support/generated.rs"]
mod generated;
#[path = "../../fhirstorm-codegen/tests/support/ig_fuzz.rs"]
mod ig_fuzz;

libfuzzer_sys::fuzz_target!(|data: &[u8]| ig_fuzz::run(data));
