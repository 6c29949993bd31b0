//! What the client needs to know of each FHIR version's models, written once as a macro over
//! the field names the versions share.

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

/// A FHIR version the REST client speaks: its JSON media type and Bundle shape.
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

macro_rules! client_version {
    ($module:ident, $marker:ident, $mime:literal, $patch:literal) => {
        impl ClientVersion for crate::$module::$marker {
            type Bundle = crate::$module::Bundle;
            const JSON_MIME: &'static str = $mime;
            const JSON_PATCH: bool = $patch;

            fn next_link(bundle: &Self::Bundle) -> Option<&str> {
                Self::link(bundle, "next")
            }

            fn link<'a>(bundle: &'a Self::Bundle, rel: &str) -> Option<&'a str> {
                bundle
                    .link
                    .iter()
                    // A string up to R4B, a code of IANA's link relations in R5: both `as_str`.
                    .find(|l| l.relation.as_ref().and_then(|r| r.value.as_ref()).map(|v| v.as_str()) == Some(rel))
                    .and_then(|l| l.url.as_ref()?.value.as_deref())
            }

            fn total(bundle: &Self::Bundle) -> Option<u64> {
                bundle.total.as_ref()?.value.map(u64::from)
            }

            fn entries(bundle: Self::Bundle) -> Vec<Entry<Self::AnyResource>> {
                bundle
                    .entry
                    .into_iter()
                    .map(|e| {
                        let text = |p: Option<&crate::$module::Primitive<String>>| p.and_then(|p| p.value.clone());
                        Entry {
                            full_url: text(e.full_url.as_ref()),
                            search_mode: e
                                .search
                                .as_ref()
                                .and_then(|s| s.mode.as_ref()?.value.as_ref().map(|m| m.to_string())),
                            status: e.response.as_ref().and_then(|r| text(r.status.as_ref())),
                            location: e.response.as_ref().and_then(|r| text(r.location.as_ref())),
                            etag: e.response.as_ref().and_then(|r| text(r.etag.as_ref())),
                            resource: e.resource,
                        }
                    })
                    .collect()
            }

            fn version_id(meta: &Self::Meta) -> Option<&str> {
                meta.version_id.as_ref()?.value.as_deref()
            }
        }

        impl crate::$module::Reference {
            fn reference_url(&self) -> Result<&str, crate::client::Error> {
                self.reference.as_ref().and_then(|r| r.value.as_deref()).ok_or_else(|| {
                    crate::client::Error::new(crate::client::ErrorKind::Protocol, "the reference has no reference URL")
                })
            }

            /// Resolves this reference on `service`, looking first in `context` (the resource
            /// holding it, for `#id`, or the Bundle it came in, for `fullUrl`s); see
            /// [`Service::resolve`](crate::client::Service::resolve).
            pub async fn resolve(
                &self,
                service: &crate::client::Service<crate::$module::$marker>,
                context: Option<&crate::$module::AnyResource>,
            ) -> Result<crate::$module::AnyResource, crate::client::Error> {
                service.resolve(self.reference_url()?, context).await
            }

            /// [`resolve`](Self::resolve), as resource type `R`.
            pub async fn resolve_as<R: Resource<Version = crate::$module::$marker>>(
                &self,
                service: &crate::client::Service<crate::$module::$marker>,
                context: Option<&crate::$module::AnyResource>,
            ) -> Result<R, crate::client::Error> {
                service.resolve_as(self.reference_url()?, context).await
            }
        }
    };
}

#[cfg(feature = "dstu2")]
client_version!(dstu2, Dstu2, "application/json+fhir", false);
#[cfg(feature = "stu3")]
client_version!(stu3, Stu3, "application/fhir+json", true);
#[cfg(feature = "r4")]
client_version!(r4, R4, "application/fhir+json", true);
#[cfg(feature = "r4b")]
client_version!(r4b, R4B, "application/fhir+json", true);
#[cfg(feature = "r5")]
client_version!(r5, R5, "application/fhir+json", true);
