//! What the REST client needs to know of a FHIR version's models: its JSON media type and the
//! shape of its Bundle. fhirstorm-codegen implements [`ClientVersion`] for each version it
//! generates (fhirstorm's own and a user's alike), from the definitions; nothing here is written
//! per version. It needs no feature, so that generated code implements it unconditionally; the
//! client (feature `client`) re-exports it.

use crate::{FhirVersion, Resource};

/// One entry of a Bundle, in any version.
#[derive(Debug, Clone)]
pub struct Entry<A> {
    /// `entry.fullUrl`.
    pub full_url: Option<String>,
    /// `entry.resource`.
    pub resource: Option<A>,
    /// `entry.search.mode` (`match`, `include`, `outcome`).
    pub search_mode: Option<String>,
    /// `entry.response.status` (transaction and batch responses).
    pub status: Option<String>,
    /// `entry.response.location`.
    pub location: Option<String>,
    /// `entry.response.etag`.
    pub etag: Option<String>,
}

/// A FHIR version the REST client speaks: its JSON media type and Bundle shape. Implemented by
/// the code fhirstorm-codegen generates for a version's marker type (`R4`, ...), so that models
/// generated outside fhirstorm work with the client's `Connection` too.
pub trait ClientVersion: FhirVersion {
    /// The version's `Bundle`.
    type Bundle: Resource<Version = Self>;
    /// The FHIR JSON media type (`application/json+fhir` in DSTU2, `application/fhir+json` after).
    const JSON_MIME: &'static str;
    /// Whether the version has the `patch` interaction (STU3 and later).
    const JSON_PATCH: bool;
    /// The `next` link of a Bundle page.
    fn next_link(bundle: &Self::Bundle) -> Option<&str>;
    /// The link of relation `rel` (`self`, `next`, ...).
    fn link<'a>(bundle: &'a Self::Bundle, rel: &str) -> Option<&'a str>;
    /// `Bundle.total`.
    fn total(bundle: &Self::Bundle) -> Option<u64>;
    /// The entries, taken out of the Bundle.
    fn entries(bundle: Self::Bundle) -> Vec<Entry<Self::AnyResource>>;
    /// `meta.versionId`.
    fn version_id(meta: &Self::Meta) -> Option<&str>;
}
