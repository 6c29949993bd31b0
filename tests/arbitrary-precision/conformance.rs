//! The shared conformance test (`tests/conformance.rs`), built with serde_json's
//! `arbitrary_precision` on; it adds a round trip through `serde_json` for each version.
include!("../conformance.rs");
