//! Code enums: a ValueSet's codes, expanded from its CodeSystems (includes, nested concepts,
//! other ValueSets), when they can be listed and are few enough to be an enum.

use std::collections::HashSet;

use serde_json::Value;

use super::{canonical, one_or_many, profile_type, s, Builder};
use crate::ident;
use crate::ir::*;

/// Most codes a required binding may have and still become an enum (more stay strings).
const MAX_CODES: usize = 500;

impl Builder<'_> {
    /// The index of the code enum for a ValueSet, creating it when the codes can be listed.
    pub(super) fn code_enum(&mut self, url: &str) -> Option<usize> {
        if let Some(i) = self.code_index.get(url) {
            return *i;
        }
        let mut visiting = HashSet::new();
        let expanded = self
            .expand(url, &mut visiting)
            .map(|c| {
                // One variant per code, whichever systems list it.
                let mut seen = HashSet::new();
                c.into_iter()
                    .filter(|(_, code, _)| seen.insert(code.clone()))
                    .map(|(_, code, display)| (code, display))
                    .collect::<Vec<_>>()
            })
            .filter(|c| !c.is_empty() && c.len() <= MAX_CODES);
        let idx = expanded.map(|codes| {
            let vs = self.value_sets[url];
            let title = if s(vs, "name").is_empty() { profile_type(url) } else { s(vs, "name").to_string() };
            let name = ident::upper_camel(&title);
            let mut name = if name.is_empty() { "Codes".to_string() } else { name };
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                name = format!("Code{name}");
            }
            let name = self.unique_name(format!("codes::{name}"));
            let doc = s(vs, "title").to_string();
            let doc = if doc.is_empty() { title } else { doc };
            self.model.codes.push(CodeEnum {
                name: name.trim_start_matches("codes::").to_string(),
                url: url.to_string(),
                doc,
                codes,
            });
            self.model.codes.len() - 1
        });
        self.code_index.insert(url.to_string(), idx);
        idx
    }

    /// The index of the coded binding for a ValueSet bound to a `Coding` or `CodeableConcept`,
    /// creating it when its codes can be listed with their real systems (not for the value sets
    /// derived from DSTU2's schema lists, whose systems are made up).
    pub(super) fn coded_binding(&mut self, url: &str) -> Option<usize> {
        if let Some(i) = self.coded_index.get(url) {
            return *i;
        }
        let mut visiting = HashSet::new();
        let codes: Option<Vec<(String, String)>> = self
            .expand(url, &mut visiting)
            .filter(|c| !c.is_empty() && c.iter().all(|(system, ..)| !system.is_empty() && !derived(system, url)))
            .map(|c| c.into_iter().map(|(system, code, _)| (system, code)).collect());
        let idx = codes.map(|codes| {
            self.model.coded_bindings.push(CodedBinding { url: url.to_string(), codes });
            self.model.coded_bindings.len() - 1
        });
        self.coded_index.insert(url.to_string(), idx);
        idx
    }

    /// A ValueSet's `(system, code, display)` triples, when they can be listed.
    fn expand(&self, url: &str, visiting: &mut HashSet<String>) -> Option<Vec<(String, String, String)>> {
        if !visiting.insert(url.to_string()) {
            return None;
        }
        let vs = self.value_sets.get(url)?;
        let mut out: Vec<(String, String, String)> = Vec::new();
        // DSTU2: codes defined inline.
        if let Some(cs) = vs.get("codeSystem") {
            flatten_concepts(cs.get("concept"), s(cs, "system"), &mut out);
        }
        if let Some(compose) = vs.get("compose") {
            if compose.get("exclude").is_some() {
                return None;
            }
            for imp in compose.get("import").and_then(Value::as_array).into_iter().flatten() {
                out.extend(self.expand(canonical(imp.as_str()?), visiting)?);
            }
            for inc in compose.get("include").and_then(Value::as_array).into_iter().flatten() {
                if inc.get("filter").is_some() {
                    return None;
                }
                for v in inc.get("valueSet").map(one_or_many).into_iter().flatten() {
                    out.extend(self.expand(canonical(v.as_str()?), visiting)?);
                }
                let system = s(inc, "system");
                if let Some(concepts) = inc.get("concept").and_then(Value::as_array) {
                    let cs = self.code_systems.get(system);
                    for c in concepts {
                        let code = s(c, "code").to_string();
                        let mut display = s(c, "display").to_string();
                        if display.is_empty() {
                            if let Some(cs) = cs {
                                display = find_display(cs.get("concept"), &code).unwrap_or_default();
                            }
                        }
                        out.push((system.to_string(), code, display));
                    }
                } else if !system.is_empty() {
                    let cs = self.code_systems.get(system)?;
                    if matches!(s(cs, "content"), "not-present" | "example" | "fragment") {
                        return None;
                    }
                    let before = out.len();
                    flatten_concepts(cs.get("concept"), system, &mut out);
                    if out.len() == before {
                        return None;
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        out.retain(|(system, c, _)| seen.insert((system.clone(), c.clone())));
        visiting.remove(url);
        Some(out)
    }
}

/// Whether a code system is one the trimmed DSTU2 definitions made up for a schema's list (not
/// the system the data carries): `urn:fhirstorm:dstu2-xsd:...`, or the value set's own URL.
fn derived(system: &str, value_set: &str) -> bool {
    system.starts_with(crate::xsd::LIST_URL) || system == value_set
}

fn flatten_concepts(concepts: Option<&Value>, system: &str, out: &mut Vec<(String, String, String)>) {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        out.push((system.to_string(), s(c, "code").to_string(), s(c, "display").to_string()));
        flatten_concepts(c.get("concept"), system, out);
    }
}

fn find_display(concepts: Option<&Value>, code: &str) -> Option<String> {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        if s(c, "code") == code {
            return Some(s(c, "display").to_string());
        }
        if let Some(d) = find_display(c.get("concept"), code) {
            return Some(d);
        }
    }
    None
}
