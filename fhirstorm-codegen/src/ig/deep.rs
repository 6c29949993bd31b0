//! A profile's rules below its own level (inside backbone elements, datatypes, slices and
//! primitives' extensions), as the data `fhirstorm::validation::check_rules` walks: the slices
//! element ids go through, and per element its cardinality, fixed value or pattern, choice
//! types and expandable required binding.

use std::collections::HashMap;

use serde_json::Value;

use super::element::{pattern, required_binding, slice_pattern};
use super::terminology::Terminology;
use super::{max_of, s, type_profiles, types};

/// A slice that rules' element ids may go through.
#[derive(Debug)]
pub(crate) enum SliceDef {
    /// An extension slice, by URL.
    Url(String, String),
    /// A slice by value or pattern: element id, and what its items contain as JSON.
    Pattern(String, String),
    /// A type slice of a choice: element id, and the JSON name of its type.
    Key(String, String),
    /// A slice by the type of a resource member: element id, the member, the resource type.
    ResourceType(String, String, String),
}

/// A slice discriminated by type, when its items can be told apart from the JSON: a type slice
/// of a choice element (`medication[x]:medicationCodeableConcept`), or of items holding a
/// resource (`Bundle.entry:patient`, by `resource`).
pub(crate) fn type_slice(elements: &[&Value], sliced: &Value, el: &Value) -> Option<SliceDef> {
    let id = s(el, "id");
    let discriminators = sliced.get("slicing")?.get("discriminator")?.as_array()?;
    let [d] = discriminators.as_slice() else { return None };
    if s(d, "type") != "type" {
        return None;
    }
    match s(d, "path") {
        "$this" if s(sliced, "id").ends_with("[x]") => {
            Some(SliceDef::Key(id.to_string(), s(el, "sliceName").to_string()))
        }
        "resource" => {
            let child = elements.iter().find(|e| s(e, "id") == format!("{id}.resource"))?;
            let [ty] = types(child).try_into().ok()?;
            Some(SliceDef::ResourceType(id.to_string(), "resource".to_string(), ty))
        }
        _ => None,
    }
}

/// One rule.
#[derive(Debug)]
pub(crate) enum RuleDef {
    Count(String, usize, Option<usize>),
    Pattern(String, String, bool),
    Types(String, Vec<String>),
    Binding(String, String, Vec<(String, String)>),
    /// An extension slice's items read as the package's type for the extension (its name).
    Extension(String, String),
}

/// Whether an element id lies inside an extension slice (`X.extension:a.value[x]`): an
/// extension's own structure, which its typed extension checks.
pub(super) fn inside_extension(id: &str) -> bool {
    id.split('.').rev().skip(1).any(|seg| seg.starts_with("extension:") || seg.starts_with("modifierExtension:"))
}

/// What a profile requires below its own level.
#[derive(Debug, Default)]
pub(crate) struct Deep {
    /// The slices that rules' element ids go through.
    pub slices: Vec<SliceDef>,
    /// The rules.
    pub rules: Vec<RuleDef>,
    /// Required bindings whose value sets the package cannot expand: element id, value set.
    pub unchecked_bindings: Vec<(String, String)>,
}

/// The slices and the rules of a profile below its own level (`root` is its base type;
/// `extensions` names the package's extension types by URL).
pub(crate) fn collect(
    elements: &[&Value],
    root: &str,
    terminology: &Terminology<'_>,
    extensions: &HashMap<&str, String>,
) -> Deep {
    let (mut slices, mut rules, mut unchecked_bindings) = (Vec::new(), Vec::new(), Vec::new());
    for el in elements {
        let id = s(el, "id");
        let Some(rest) = id.strip_prefix(&format!("{root}.")) else { continue };
        if inside_extension(id) {
            continue;
        }
        let min = el.get("min").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = max_of(el);
        let last = rest.rsplit('.').next().unwrap_or(rest);
        // Every slice at any level: rules below it go through it.
        if let Some((name, _)) = last.split_once(':') {
            let sliced_id = format!("{}{name}", &id[..id.len() - last.len()]);
            if matches!(name, "extension" | "modifierExtension") {
                if let Some(url) = type_profiles(el).into_iter().next() {
                    let url = url.split('|').next().unwrap_or(&url).to_string();
                    // (at the profile's own level, the typed code reads them)
                    if let Some(typed) = extensions.get(url.as_str()).filter(|_| rest.contains('.')) {
                        rules.push(RuleDef::Extension(id.to_string(), typed.clone()));
                    }
                    slices.push(SliceDef::Url(id.to_string(), url));
                }
            } else if let Some(sliced) = elements.iter().find(|e| s(e, "id") == sliced_id) {
                if let Some((p, _)) = slice_pattern(elements, sliced, el) {
                    slices.push(SliceDef::Pattern(id.to_string(), p.to_string()));
                } else if let Some(t) = type_slice(elements, sliced, el) {
                    // The typed code counts value and pattern slices at the profile's own
                    // level; type slices are counted here, at every level.
                    if !rest.contains('.') {
                        rules.push(RuleDef::Count(id.to_string(), min, max));
                    }
                    slices.push(t);
                }
            }
        }
        // The profile's own level is checked by the typed code.
        if !rest.contains('.') {
            continue;
        }
        let base = el.get("base").unwrap_or(&Value::Null);
        let base_min = base.get("min").and_then(Value::as_u64).unwrap_or(min as u64) as usize;
        let base_max = if base.get("max").is_some() { max_of(base) } else { max };
        if (min, max) != (base_min, base_max) {
            rules.push(RuleDef::Count(id.to_string(), min, max));
        }
        if let Some(p) = pattern(el) {
            rules.push(RuleDef::Pattern(id.to_string(), p.json, p.exact));
        }
        let t = types(el);
        if last.ends_with("[x]") && !t.is_empty() {
            rules.push(RuleDef::Types(id.to_string(), t.clone()));
        }
        if let Some(vs) = required_binding(el) {
            let coded = !t.is_empty() && t.iter().all(|t| matches!(t.as_str(), "code" | "Coding" | "CodeableConcept"));
            match terminology.expand(&vs) {
                Some(codes) if coded && !last.ends_with("[x]") => {
                    rules.push(RuleDef::Binding(id.to_string(), vs, codes))
                }
                _ => unchecked_bindings.push((id.to_string(), vs)),
            }
        }
    }
    Deep { slices, rules, unchecked_bindings }
}
