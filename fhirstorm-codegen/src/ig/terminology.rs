//! Expanding a required binding's value set from what a package ships: its value sets (listed
//! concepts, included value sets) and its complete code systems.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::s;

/// The package's value sets and code systems, to expand required bindings from.
pub(crate) struct Terminology<'a> {
    pub value_sets: HashMap<&'a str, &'a Value>,
    pub code_systems: HashMap<&'a str, &'a Value>,
}

/// The most codes a required binding's value set may expand to: a larger one is bound as a
/// plain code.
pub const MAX_EXPANSION: usize = 10_000;

/// How deep value sets may include each other.
const MAX_DEPTH: usize = 16;

impl<'a> Terminology<'a> {
    /// The `(system, code)` pairs of a value set, when the package defines it and everything it
    /// includes is listed (concepts, value sets of the package, code systems of the package); no
    /// filters, no exclusions; at most [`MAX_EXPANSION`] codes, each once. Value sets that
    /// include each other expand to all their codes.
    pub fn expand(&self, url: &str) -> Option<Vec<(String, String)>> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        self.expand_into(url, 0, &mut seen, &mut out)?;
        let mut unique = HashSet::new();
        out.retain(|pair| unique.insert(pair.clone()));
        Some(out)
    }

    /// Adds the codes of `url` to `out`; a value set already in `seen` adds nothing more.
    fn expand_into(
        &self,
        url: &str,
        depth: usize,
        seen: &mut HashSet<&'a str>,
        out: &mut Vec<(String, String)>,
    ) -> Option<()> {
        let (&key, vs) = self.value_sets.get_key_value(url)?;
        if !seen.insert(key) {
            return Some(());
        }
        let compose = vs.get("compose")?;
        if depth > MAX_DEPTH || compose.get("exclude").is_some() {
            return None;
        }
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
                    self.expand_into(n.split('|').next().unwrap_or(n), depth + 1, seen, out)?;
                }
            } else if let Some(concepts) = inc.get("concept").and_then(Value::as_array) {
                out.extend(concepts.iter().map(|c| (system.to_string(), s(c, "code").to_string())));
            } else {
                let cs = self.code_systems.get(system)?;
                if s(cs, "content") != "complete" {
                    return None;
                }
                collect_concepts(cs.get("concept")?, system, 0, out)?;
            }
            if out.len() > MAX_EXPANSION {
                return None;
            }
        }
        Some(())
    }
}

/// Adds a code system's concepts (and theirs, nested) to `out`, giving up past
/// [`MAX_EXPANSION`] codes or [`MAX_DEPTH`] levels.
fn collect_concepts(concepts: &Value, system: &str, depth: usize, out: &mut Vec<(String, String)>) -> Option<()> {
    if depth > MAX_DEPTH {
        return None;
    }
    for c in concepts.as_array().into_iter().flatten() {
        if out.len() >= MAX_EXPANSION {
            return None;
        }
        out.push((system.to_string(), s(c, "code").to_string()));
        if let Some(children) = c.get("concept") {
            collect_concepts(children, system, depth + 1, out)?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn value_set(url: &str, includes: Value) -> Value {
        json!({ "resourceType": "ValueSet", "url": url, "compose": { "include": includes } })
    }

    #[test]
    fn value_sets_that_include_each_other_expand_once() {
        let a = value_set("a", json!([{ "valueSet": ["b"] }, { "system": "s", "concept": [{ "code": "1" }] }]));
        let b =
            value_set("b", json!([{ "valueSet": ["a", "a|1.0"] }, { "system": "s", "concept": [{ "code": "2" }] }]));
        let t = Terminology { value_sets: [("a", &a), ("b", &b)].into_iter().collect(), code_systems: HashMap::new() };
        let codes = t.expand("a").expect("a cycle expands");
        assert_eq!(codes, [("s".to_string(), "2".to_string()), ("s".to_string(), "1".to_string())]);
        let self_loop = value_set("c", json!([{ "valueSet": ["c"] }]));
        let t = Terminology { value_sets: [("c", &self_loop)].into_iter().collect(), code_systems: HashMap::new() };
        assert_eq!(t.expand("c"), Some(vec![]));
    }

    #[test]
    fn large_expansions_are_not_bound() {
        let concepts: Vec<Value> = (0..=MAX_EXPANSION).map(|i| json!({ "code": i.to_string() })).collect();
        let cs = json!({ "resourceType": "CodeSystem", "url": "s", "content": "complete", "concept": concepts });
        let vs = value_set("v", json!([{ "system": "s" }]));
        let t = Terminology {
            value_sets: [("v", &vs)].into_iter().collect(),
            code_systems: [("s", &cs)].into_iter().collect(),
        };
        assert_eq!(t.expand("v"), None);
        // A wide fan of value sets that include the same one many times adds its codes once.
        let leaf = value_set("leaf", json!([{ "system": "s", "concept": [{ "code": "x" }] }]));
        let fan = value_set("fan", json!([{ "valueSet": vec!["leaf"; 1000] }]));
        let t = Terminology {
            value_sets: [("leaf", &leaf), ("fan", &fan)].into_iter().collect(),
            code_systems: HashMap::new(),
        };
        assert_eq!(t.expand("fan").map(|c| c.len()), Some(1));
    }
}
