//! Expanding a required binding's value set from what a package ships: its value sets (listed
//! concepts, included value sets) and its complete code systems.

use std::collections::HashMap;

use serde_json::Value;

use super::s;

/// The package's value sets and code systems, to expand required bindings from.
pub(crate) struct Terminology<'a> {
    pub value_sets: HashMap<&'a str, &'a Value>,
    pub code_systems: HashMap<&'a str, &'a Value>,
}

impl Terminology<'_> {
    /// The `(system, code)` pairs of a value set, when the package defines it and everything it
    /// includes is listed (concepts, value sets of the package, code systems of the package); no
    /// filters, no exclusions.
    pub fn expand(&self, url: &str, depth: usize) -> Option<Vec<(String, String)>> {
        let vs = self.value_sets.get(url)?;
        let compose = vs.get("compose")?;
        if depth > 8 || compose.get("exclude").is_some() {
            return None;
        }
        let mut out = Vec::new();
        for inc in compose.get("include")?.as_array()? {
            if inc.get("filter").is_some() {
                return None;
            }
            let system = s(inc, "system");
            let nested: Vec<&str> =
                inc.get("valueSet").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
            if !nested.is_empty() {
                if !system.is_empty() {
                    return None; // an intersection
                }
                for n in nested {
                    out.extend(self.expand(n.split('|').next().unwrap_or(n), depth + 1)?);
                }
            } else if let Some(concepts) = inc.get("concept").and_then(Value::as_array) {
                out.extend(concepts.iter().map(|c| (system.to_string(), s(c, "code").to_string())));
            } else {
                let cs = self.code_systems.get(system)?;
                if s(cs, "content") != "complete" {
                    return None;
                }
                collect_concepts(cs.get("concept")?, system, &mut out);
            }
        }
        Some(out)
    }
}

fn collect_concepts(concepts: &Value, system: &str, out: &mut Vec<(String, String)>) {
    for c in concepts.as_array().into_iter().flatten() {
        out.push((system.to_string(), s(c, "code").to_string()));
        if let Some(children) = c.get("concept") {
            collect_concepts(children, system, out);
        }
    }
}
