//! What the REST client needs of a version (`fhirstorm::client::ClientVersion` and
//! `Reference::resolve`), emitted with the models so that any generated version, fhirstorm's own
//! or a user's, plugs into `Connection<V>` with no change to fhirstorm.
//!
//! `ClientVersion` needs no feature of the runtime; `Reference::resolve` comes from the runtime's
//! `__resolve_references!`, which compiles it only with the `client` feature. Everything is
//! decided from the definitions: the media type from the FHIR version, whether
//! `patch` exists from the codes of the capability statement's interactions, and the Bundle,
//! `Meta` and `Reference` shapes are checked to be the ones the adapter reads, so that a release
//! that changes them fails here with the element's name instead of in the user's compiler.

use super::{lit, Code, Emitter};
use crate::ir::{Model, StructKind, Ty};

/// The elements the adapter reads, as `(struct path, element)`.
const NEEDED: &[(&str, &str)] = &[
    ("Bundle", "total"),
    ("Bundle", "link"),
    ("Bundle", "entry"),
    ("Bundle.link", "relation"),
    ("Bundle.link", "url"),
    ("Bundle.entry", "fullUrl"),
    ("Bundle.entry", "resource"),
    ("Bundle.entry", "search"),
    ("Bundle.entry", "response"),
    ("Bundle.entry.search", "mode"),
    ("Bundle.entry.response", "status"),
    ("Bundle.entry.response", "location"),
    ("Bundle.entry.response", "etag"),
    ("Meta", "versionId"),
    ("Reference", "reference"),
];

/// The JSON media type of a FHIR version: `application/json+fhir` up to DSTU2 (1.0), then
/// `application/fhir+json` (STU3 and later, as registered with IANA).
fn json_mime(fhir_version: &str) -> &'static str {
    let major: u32 = fhir_version.split('.').next().and_then(|m| m.parse().ok()).unwrap_or(0);
    if major < 3 {
        "application/json+fhir"
    } else {
        "application/fhir+json"
    }
}

/// Whether the version's REST API has `patch`: a code of the capability statement's
/// (DSTU2: conformance's) resource interactions.
fn has_patch(model: &Model) -> bool {
    model.structs.iter().filter(|s| s.path.ends_with(".rest.resource.interaction")).any(|s| {
        s.fields.iter().any(|f| {
            f.json == "code"
                && matches!(f.ty, Ty::Prim(_, Some(c)) if model.codes[c].codes.iter().any(|(code, _)| code == "patch"))
        })
    })
}

/// The first element the adapter needs that the definitions do not have, if any.
fn missing(model: &Model) -> Option<String> {
    NEEDED.iter().find_map(|(path, element)| {
        let found = model.structs.iter().any(|s| s.path == *path && s.fields.iter().any(|f| f.json == *element));
        (!found).then(|| format!("{path}.{element}"))
    })
}

impl Emitter<'_> {
    /// The client adapter, or an error naming the element a release lacks.
    pub(super) fn client_adapter(&self, c: &mut Code) -> Result<(), crate::Error> {
        if let Some(element) = missing(self.model) {
            return Err(crate::Error::new(format!(
                "the REST client's adapter reads {element}, which these definitions do not have; \
                 generate the models without it (Config::client(false), CLI --no-client)"
            )));
        }
        if !self.model.structs.iter().any(|s| s.name == "Bundle" && s.kind == StructKind::Resource) {
            return Err(crate::Error::new("the REST client's adapter needs Bundle to be a resource"));
        }
        let marker = self.marker;
        c.doc(
            "What the REST client needs of this version: its JSON media type and Bundle shape\n\
             (generated from the definitions, as everything in this module).",
        );
        c.open(format!("impl crate::version::ClientVersion for {marker}"));
        c.line("type Bundle = Bundle;");
        c.line(format!("const JSON_MIME: &'static str = {};", lit(json_mime(&self.model.fhir_version))));
        c.line(format!("const JSON_PATCH: bool = {};", has_patch(self.model)));
        for l in ADAPTER_METHODS.lines() {
            c.line(l);
        }
        c.close("");
        c.comment("`Reference::resolve` and `resolve_as` (with fhirstorm's `client` feature).");
        c.line(format!("crate::__resolve_references!(Reference, {marker});"));
        Ok(())
    }
}

/// The adapter's methods, the same for every version that passed `missing`.
const ADAPTER_METHODS: &str = "\
fn next_link(bundle: &Bundle) -> Option<&str> {
    Self::link(bundle, \"next\")
}
fn link<'a>(bundle: &'a Bundle, rel: &str) -> Option<&'a str> {
    bundle
        .link
        .iter()
        .find(|l| l.relation.as_ref().and_then(|r| r.value.as_ref()).map(|v| v.as_str()) == Some(rel))
        .and_then(|l| l.url.as_ref()?.value.as_deref())
}
fn total(bundle: &Bundle) -> Option<u64> {
    bundle.total.as_ref()?.value.map(u64::from)
}
fn entries(bundle: Bundle) -> Vec<crate::version::Entry<AnyResource>> {
    let text = |p: Option<&Primitive<String>>| p.and_then(|p| p.value.clone());
    bundle
        .entry
        .into_iter()
        .map(|e| crate::version::Entry {
            full_url: text(e.full_url.as_ref()),
            search_mode: e.search.as_ref().and_then(|s| s.mode.as_ref()?.value.as_ref().map(|m| m.to_string())),
            status: e.response.as_ref().and_then(|r| text(r.status.as_ref())),
            location: e.response.as_ref().and_then(|r| text(r.location.as_ref())),
            etag: e.response.as_ref().and_then(|r| text(r.etag.as_ref())),
            resource: e.resource,
        })
        .collect()
}
fn version_id(meta: &Meta) -> Option<&str> {
    meta.version_id.as_ref()?.value.as_deref()
}
";
