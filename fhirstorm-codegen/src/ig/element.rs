//! What one element of a profile's snapshot says, read the same way by the profile's own level
//! (`profiles`) and the rules below it (`deep`): its fixed value or pattern, its required
//! binding, and what a slice of it holds.

use serde_json::Value;

use super::{s, types};
use crate::ir::Prim;

/// A fixed value (`exact`) or pattern.
#[derive(Debug)]
pub(crate) struct Pattern {
    /// The value, as JSON.
    pub json: String,
    /// Fixed (equality) rather than pattern (containment).
    pub exact: bool,
    /// Whether the element is a primitive (the JSON is its value).
    pub primitive: bool,
}

/// What the items of slice `el` of element `sliced` contain, when the slicing is by value or
/// pattern and the snapshot gives the values: the slice's own pattern (`true`: a whole item), or
/// the fixed values and patterns at each discriminator path, nested.
pub(super) fn slice_pattern(elements: &[&Value], sliced: &Value, el: &Value) -> Option<(Value, bool)> {
    let id = s(el, "id");
    let discriminators = sliced.get("slicing")?.get("discriminator")?.as_array()?;
    if discriminators.is_empty() || discriminators.iter().any(|d| !matches!(s(d, "type"), "value" | "pattern")) {
        return None;
    }
    if let Some(own) = pattern(el).filter(|p| !p.primitive).and_then(|p| serde_json::from_str::<Value>(&p.json).ok()) {
        return Some((own, true));
    }
    let mut combined = Value::Object(Default::default());
    for d in discriminators {
        let path = s(d, "path");
        let at = elements.iter().find(|e| s(e, "id") == format!("{id}.{path}"))?;
        let value = at.as_object()?.iter().find(|(k, _)| k.starts_with("fixed") || k.starts_with("pattern"))?.1;
        let mut slot = &mut combined;
        for part in path.split('.') {
            slot = slot.as_object_mut()?.entry(part).or_insert_with(|| Value::Object(Default::default()));
        }
        *slot = value.clone();
    }
    Some((combined, false))
}

/// An element's `fixed[x]` or `pattern[x]` (not on `System` types, which are plain strings).
pub(super) fn pattern(el: &Value) -> Option<Pattern> {
    let obj = el.as_object()?;
    let (key, value) = obj.iter().find(|(k, _)| k.starts_with("fixed") || k.starts_with("pattern"))?;
    let exact = key.starts_with("fixed");
    let code = types(el).into_iter().next()?;
    if code.starts_with("http://hl7.org/fhirpath/System.") {
        return None;
    }
    Some(Pattern { json: value.to_string(), exact, primitive: Prim::from_code(&code).is_some() })
}

pub(super) fn required_binding(el: &Value) -> Option<String> {
    let b = el.get("binding")?;
    if s(b, "strength") != "required" {
        return None;
    }
    let vs = s(b, "valueSet");
    (!vs.is_empty()).then(|| vs.split('|').next().unwrap_or(vs).to_string())
}
