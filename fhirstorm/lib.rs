//! # fhirstorm
//!
//! Typed SMART-on-FHIR for Rust: models generated from the official FHIR definitions of
//! DSTU2, STU3 and R4 (one module per version, chosen by cargo feature), read and written
//! losslessly by JSON code compiled once inside this crate.
//!
//! ```
//! use fhirstorm::r4::{AnyResource, Patient};
//! use fhirstorm::prelude::*;
//!
//! let json = br#"{"resourceType":"Patient","id":"p1","birthDate":"1970-03","name":[{"family":"Chalmers"}]}"#;
//! let patient: Patient = fhirstorm::json::from_slice(json)?;
//! assert_eq!(patient.birth_date.value().map(|d| d.as_str()), Some("1970-03"));
//!
//! // Any resource, by its resourceType:
//! let any = AnyResource::from_json(json)?;
//! assert_eq!(any.resource_type(), "Patient");
//! assert_eq!(any.to_json(), fhirstorm::json::to_vec(&patient));
//! # Ok::<(), fhirstorm::json::Error>(())
//! ```
//!
//! ## Versions
//!
//! | feature | module | FHIR |
//! |---|---|---|
//! | `dstu2` | `dstu2` | 1.0.2 |
//! | `stu3` | `stu3` | 3.0.1 |
//! | `r4` (default) | `r4` | 4.0.1 |
//!
//! Every resource implements [`Resource`], whose `Version` is the module's marker type
//! ([`R4`], ...), so that a resource of one version cannot be used where another's is expected.
//!
//! ## Lossless by design
//!
//! Primitive extensions (`_birthDate`) are kept in [`Primitive`]; decimals keep their text
//! ([`Decimal`]); dates keep their precision ([`Date`], [`DateTime`], [`Instant`], [`Time`]);
//! codes bound to a required value set are enums with an `Unrecognized` variant; JSON members
//! the definitions do not know are kept in each struct's `unknown` and written back.

#![warn(missing_docs)]

#[cfg(feature = "client")]
pub mod auth;
#[cfg(feature = "client")]
pub mod client;
pub mod json;
mod primitive;
pub mod search;
mod serde_bridge;

pub use primitive::{Date, DateTime, Decimal, Instant, Precision, Primitive, PrimitiveExt, PrimitiveValue, Time};

/// What most programs want in scope.
pub mod prelude {
    pub use crate::json::{FromJson, ToJson};
    pub use crate::{AnyResourceOf, FhirVersion, PrimitiveValue, Resource};
}

/// A FHIR version, implemented by each version module's marker type ([`R4`], ...).
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

    /// Whether a server's declared `fhirVersion` is this version.
    fn accepts(fhir_version: &str) -> bool {
        fhir_version == Self::RELEASE || fhir_version.starts_with(&format!("{}.", Self::RELEASE))
    }
}

/// What every version's `AnyResource` enum offers.
pub trait AnyResourceOf {
    /// The `resourceType`.
    fn resource_type(&self) -> &'static str;
    /// The logical id.
    fn id(&self) -> Option<&str>;
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

/// FHIR DSTU2 (1.0.2) models.
#[cfg(feature = "dstu2")]
#[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, clippy::doc_markdown)]
pub mod dstu2 {
    include!(concat!(env!("OUT_DIR"), "/dstu2.rs"));
}
#[cfg(feature = "dstu2")]
pub use dstu2::Dstu2;

/// FHIR STU3 (3.0.1) models.
#[cfg(feature = "stu3")]
#[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, clippy::doc_markdown)]
pub mod stu3 {
    include!(concat!(env!("OUT_DIR"), "/stu3.rs"));
}
#[cfg(feature = "stu3")]
pub use stu3::Stu3;

/// FHIR R4 (4.0.1) models.
#[cfg(feature = "r4")]
#[allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, clippy::doc_markdown)]
pub mod r4 {
    include!(concat!(env!("OUT_DIR"), "/r4.rs"));
}
#[cfg(feature = "r4")]
pub use r4::R4;
