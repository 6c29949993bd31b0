//! The FHIR R4B (4.3.0) models, generated at build time by fhirstorm-codegen from the official
//! definitions (the `fhir-definitions` crate): every datatype, resource and backbone element,
//! choice and code enums, `AnyResource`, the JSON readers and writers, the typed search builders
//! and the REST client's adapter; `R4B` is the version's marker type. Use it through the
//! `fhirstorm` crate (`fhirstorm::r4b`, feature `r4b`). Each version is its own crate so that
//! rustc holds one version at a time, and compiles them side by side.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, clippy::doc_markdown)]

// The runtime under the name users write: generated code says `::fhirstorm::search::TokenValue`,
// and so do the compiler's messages that quote it.
extern crate fhirstorm_runtime as fhirstorm;

include!(concat!(env!("OUT_DIR"), "/models.rs"));
