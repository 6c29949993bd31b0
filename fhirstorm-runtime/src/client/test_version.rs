//! A FHIR version with no models, for this crate's own unit tests of what needs a version only
//! as a type parameter (`Connection<V>`, a `SmartClient` made from one): its one "resource" is
//! any JSON value. The real versions are separate crates that build on this one, so they cannot
//! be used here.

use super::{ClientVersion, Entry};
use crate::json::{self, FromJson, ToJson};
use crate::{AnyResourceOf, FhirVersion, Resource};

/// The version marker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bare;

/// Any JSON value, as this version's only resource type (and its Bundle).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct BareResource {
    meta: Option<()>,
    json: json::Value,
}

impl FhirVersion for Bare {
    const NAME: &'static str = "Bare";
    const FHIR_VERSION: &'static str = "4.0.1";
    const RELEASE: &'static str = "4.0";
    type AnyResource = BareResource;
    type Meta = ();

    /// No definitions: nothing validates.
    fn definitions() -> &'static crate::validation::Definitions {
        static NONE: crate::validation::Definitions = crate::validation::Definitions {
            types: &[],
            value_sets: &[],
            coded_value_sets: &[],
            extension: 0,
            json_comments: false,
        };
        &NONE
    }
}

impl ClientVersion for Bare {
    type Bundle = BareResource;
    const JSON_MIME: &'static str = "application/fhir+json";
    const JSON_PATCH: bool = true;

    fn next_link(_: &BareResource) -> Option<&str> {
        None
    }

    fn link<'a>(_: &'a BareResource, _: &str) -> Option<&'a str> {
        None
    }

    fn total(_: &BareResource) -> Option<u64> {
        None
    }

    fn entries(_: BareResource) -> Vec<Entry<BareResource>> {
        Vec::new()
    }

    fn version_id(_: &()) -> Option<&str> {
        None
    }
}

impl FromJson for BareResource {
    fn from_json(p: &mut json::Parser<'_>) -> Result<Self, json::Error> {
        Ok(BareResource { meta: None, json: json::Value::from_json(p)? })
    }
}

impl ToJson for BareResource {
    fn to_json(&self, w: &mut json::Writer) {
        self.json.to_json(w)
    }
}

impl AnyResourceOf for BareResource {
    fn resource_type(&self) -> &'static str {
        "Bundle"
    }

    fn id(&self) -> Option<&str> {
        None
    }

    fn set_id(&mut self, _: Option<String>) {}
}

impl Resource for BareResource {
    type Version = Bare;
    const TYPE: &'static str = "Bundle";

    fn id(&self) -> Option<&str> {
        None
    }

    fn set_id(&mut self, _: Option<String>) {}

    fn meta(&self) -> Option<&()> {
        self.meta.as_ref()
    }

    fn meta_mut(&mut self) -> &mut Option<()> {
        &mut self.meta
    }

    fn into_any(self) -> BareResource {
        self
    }

    fn from_any(any: BareResource) -> Result<Self, BareResource> {
        Ok(any)
    }
}
