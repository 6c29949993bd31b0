//! What a server says it can do (`CapabilityStatement`; `Conformance` in DSTU2), read the same
//! way in every version.

use std::collections::{BTreeMap, BTreeSet};

use crate::json::Value;

/// One `rest` entry of a capability statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestCapabilities {
    /// `server` or `client`.
    pub mode: String,
    /// Resource types advertised, with what each supports.
    pub resources: BTreeMap<String, ResourceCapabilities>,
    /// System-level interactions (`transaction`, `batch`, `history-system`, `search-system`).
    pub interactions: BTreeSet<String>,
    /// The SMART OAuth endpoints from the `security` extension, by name (`authorize`, `token`, ...).
    pub oauth_uris: BTreeMap<String, String>,
    /// System-level operations, by name without `$` (`export`).
    pub operations: BTreeSet<String>,
}

/// What a server supports for one resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResourceCapabilities {
    /// Interactions (`read`, `vread`, `update`, `patch`, `delete`, `history-instance`,
    /// `history-type`, `create`, `search-type`).
    pub interactions: BTreeSet<String>,
    /// Search parameters: name → type.
    pub search_params: BTreeMap<String, String>,
    /// `versioning`, when given.
    pub versioning: Option<String>,
    /// Whether conditional create / update / delete are supported (delete: not `not-supported`).
    pub conditional_create: bool,
    /// See `conditional_create`.
    pub conditional_update: bool,
    /// See `conditional_create`.
    pub conditional_delete: bool,
    /// Operations on the type or its instances, by name without `$` (`export` on `Patient`).
    pub operations: BTreeSet<String>,
}

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key).and_then(Value::as_array).unwrap_or(&[])
}

fn flag(v: &Value, key: &str) -> bool {
    matches!(v.get(key), Some(Value::Bool(true)))
}

/// The names of `v`'s `operation`s, without a leading `$`.
fn operations(v: &Value) -> BTreeSet<String> {
    items(v, "operation").iter().map(|o| s(o, "name").trim_start_matches('$').to_string()).collect()
}

const OAUTH_URIS: &str = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris";

/// Reads the version-neutral parts of a capability statement: its `fhirVersion` and `rest`.
pub(crate) fn read(statement: &Value) -> (String, Vec<RestCapabilities>) {
    let version = s(statement, "fhirVersion");
    let rest = items(statement, "rest")
        .iter()
        .map(|r| {
            let mut rc = RestCapabilities { mode: s(r, "mode"), ..Default::default() };
            for res in items(r, "resource") {
                let caps = ResourceCapabilities {
                    interactions: items(res, "interaction").iter().map(|i| s(i, "code")).collect(),
                    search_params: items(res, "searchParam").iter().map(|p| (s(p, "name"), s(p, "type"))).collect(),
                    versioning: res.get("versioning").and_then(Value::as_str).map(String::from),
                    conditional_create: flag(res, "conditionalCreate"),
                    conditional_update: flag(res, "conditionalUpdate"),
                    conditional_delete: res
                        .get("conditionalDelete")
                        .and_then(Value::as_str)
                        .is_some_and(|d| d != "not-supported"),
                    operations: operations(res),
                };
                rc.resources.insert(s(res, "type"), caps);
            }
            rc.interactions = items(r, "interaction").iter().map(|i| s(i, "code")).collect();
            rc.operations = operations(r);
            if let Some(security) = r.get("security") {
                for ext in items(security, "extension").iter().filter(|e| s(e, "url") == OAUTH_URIS) {
                    for uri in items(ext, "extension") {
                        let value = uri.get("valueUri").or_else(|| uri.get("valueUrl")).and_then(Value::as_str);
                        if let Some(v) = value {
                            rc.oauth_uris.insert(s(uri, "url"), v.to_string());
                        }
                    }
                }
            }
            rc
        })
        .collect();
    (version, rest)
}
