//! The runtime of [fhirstorm](https://docs.rs/fhirstorm): what every FHIR version's generated
//! models build on (FHIR JSON, primitives, the typed search's values, the traits each version
//! implements) and what works with any version (the REST client, SMART App Launch). Use it
//! through the `fhirstorm` crate, which re-exports all of it beside the versions its features
//! choose; the guide is there.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
// Unsafe code only in `resource_box` (two `ManuallyDrop::take`s, each explained).
#![deny(unsafe_code)]

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "blocking")]
pub mod blocking;
#[cfg(feature = "client")]
pub mod client;
#[cfg(any(feature = "time", feature = "chrono", feature = "jiff", feature = "rust_decimal", feature = "uuid"))]
pub mod convert;
#[cfg(feature = "client")]
mod error;
pub mod extension;
pub mod fhirpath;
#[doc(hidden)]
pub mod hooks;
pub mod json;
mod primitive;
mod resource_box;
pub mod search;
#[doc(hidden)]
pub mod serde_bridge;
#[cfg(feature = "client")]
mod transport;
pub mod validation;
pub mod version;

/// Behind the `fuzzing` feature, which only the fuzz crate and the fuzz smoke test turn on.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

#[cfg(feature = "client")]
pub use error::{AuthFailure, Error, ErrorKind, Outcome, OutcomeIssue};
pub use primitive::{Date, DateTime, Decimal, Instant, Precision, Primitive, PrimitiveExt, PrimitiveValue, Time};
pub use resource_box::ResourceBox;

/// What the macros of generated code name (serde, when the `serde` feature is on), so that a
/// crate with generated models needs no dependency of its own on it.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "serde")]
    pub use serde;
}

/// What most programs want in scope.
pub mod prelude {
    pub use crate::json::{FromJson, ToJson};
    pub use crate::{AnyResourceOf, FhirVersion, PrimitiveValue, Resource};
}

/// A FHIR version, implemented by each version's marker type (`fhirstorm::R4`, ...).
pub trait FhirVersion: Copy + Default + std::fmt::Debug + Send + Sync + 'static {
    /// The marker's name (`R4`).
    const NAME: &'static str;
    /// The FHIR version the models were generated from (`4.0.1`).
    const FHIR_VERSION: &'static str;
    /// The release as `major.minor` (`4.0`): every `fhirVersion` starting with it belongs here.
    const RELEASE: &'static str;
    /// The version's any-resource enum.
    type AnyResource: AnyResourceOf + json::FromJson + json::ToJson + Clone + std::fmt::Debug + Send + Sync + 'static;
    /// The version's `Meta` datatype.
    type Meta: Clone + std::fmt::Debug + Send + Sync + 'static;

    /// The version's element table, which [`validation::Validate`] checks resources against.
    fn definitions() -> &'static validation::Definitions;

    /// Whether a server's declared `fhirVersion` is this version.
    fn accepts(fhir_version: &str) -> bool {
        fhir_version == Self::RELEASE || fhir_version.starts_with(&format!("{}.", Self::RELEASE))
    }

    /// The version's resource types, by name (`Account`, ..., `VisionPrescription`).
    fn resource_types() -> impl Iterator<Item = &'static str> {
        Self::definitions().types.iter().filter(|t| t.resource).map(|t| t.name)
    }

    /// `name` as one of the version's resource types (exactly, case included), or `None`.
    fn resource_type(name: &str) -> Option<&'static str> {
        Self::resource_types().find(|t| *t == name)
    }
}

// Every resource validates against its version's element table.
impl<R: Resource> validation::Validate for R {
    fn validate(&self) -> Vec<validation::Issue> {
        R::Version::definitions().validate(&json::to_value(self))
    }
}

/// What every version's `AnyResource` enum offers.
pub trait AnyResourceOf {
    /// The `resourceType`.
    fn resource_type(&self) -> &'static str;
    /// The logical id.
    fn id(&self) -> Option<&str>;
    /// Sets the logical id.
    fn set_id(&mut self, id: Option<String>);
}

/// A FHIR resource type of one version.
pub trait Resource: json::FromJson + json::ToJson + Clone + std::fmt::Debug + Default + Send + Sync + 'static {
    /// The FHIR version this resource belongs to.
    type Version: FhirVersion;
    /// The `resourceType` name.
    const TYPE: &'static str;
    /// The logical id.
    fn id(&self) -> Option<&str>;
    /// Sets the logical id.
    fn set_id(&mut self, id: Option<String>);
    /// The resource's metadata.
    fn meta(&self) -> Option<&<Self::Version as FhirVersion>::Meta>;
    /// The resource's metadata, to change.
    fn meta_mut(&mut self) -> &mut Option<<Self::Version as FhirVersion>::Meta>;
    /// Wraps the resource in its version's `AnyResource`.
    fn into_any(self) -> <Self::Version as FhirVersion>::AnyResource;
    /// Takes the resource out of an `AnyResource`, or gives it back when it is another type.
    #[allow(clippy::result_large_err)]
    fn from_any(
        any: <Self::Version as FhirVersion>::AnyResource,
    ) -> Result<Self, <Self::Version as FhirVersion>::AnyResource>;
}
