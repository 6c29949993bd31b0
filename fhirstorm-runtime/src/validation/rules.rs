//! A profile's rules below its own level (`Patient.identifier:ihi.value` 1..1,
//! `Patient.birthDate.extension:accuracyIndicator` 0..1), as data that generated profiles carry
//! and checked on the resource's JSON: each rule's element id is followed through the JSON,
//! slices picked by their extension URL or pattern.

use super::definitions::as_list;
use super::{has_code, matches, Issue, IssueKind};
use crate::extension::ExtensionError;
use crate::json::Value;

/// A slice that element ids may go through.
#[derive(Debug)]
pub struct Slice {
    /// Its element id (`Patient.identifier:ihi`, `Patient.birthDate.extension:accuracy`).
    pub path: &'static str,
    /// How its items are told apart.
    pub by: SliceBy,
}

/// How a slice's items are told apart from the other items of the element.
#[derive(Debug)]
pub enum SliceBy {
    /// An extension slice: the extension's URL.
    Url(&'static str),
    /// A slice discriminated by value or pattern: what its items contain, as JSON.
    Pattern(&'static str),
    /// A type slice of a choice element: the JSON name of its type (`medicationCodeableConcept`).
    Key(&'static str),
    /// A slice discriminated by the type of a resource inside each item
    /// (`Bundle.entry` by `resource`): that member's name and the resource type.
    ResourceType(&'static str, &'static str),
}

/// One rule on an element below the profile's own level.
#[derive(Debug)]
pub struct Rule {
    /// The element id it applies to.
    pub path: &'static str,
    /// What it requires.
    pub check: Check,
}

/// What a rule requires.
#[derive(Debug)]
pub enum Check {
    /// Between `min` and `max` occurrences under each occurrence of the parent element.
    Count {
        /// The least.
        min: usize,
        /// The most (`None`: unbounded).
        max: Option<usize>,
    },
    /// Each value equals (`exact`) or contains the JSON.
    Pattern {
        /// The fixed value or pattern, as JSON.
        json: &'static str,
        /// Fixed rather than pattern.
        exact: bool,
    },
    /// A choice element's value is of one of these FHIR types.
    Types(&'static [&'static str]),
    /// Each coded value has a code of the value set.
    Binding {
        /// The value set's canonical URL.
        value_set: &'static str,
        /// Its `(system, code)` pairs.
        codes: &'static [(&'static str, &'static str)],
    },
    /// Each extension of an extension slice reads as the extension's type: the generated reader,
    /// given the extension's JSON (`crate::hooks::reads_as`).
    Extension(fn(&Value) -> Result<(), ExtensionError>),
}

/// Checks `rules` on a resource's (or datatype's) JSON whose root element id is `root`; a rule
/// whose path goes through a slice that `slices` does not describe is skipped.
pub fn check_rules(value: &Value, root: &str, slices: &[Slice], rules: &[Rule]) -> Vec<Issue> {
    let mut issues = Vec::new();
    for rule in rules {
        let Some(rest) = rule.path.strip_prefix(root).and_then(|r| r.strip_prefix('.')) else { continue };
        let segments: Vec<&str> = rest.split('.').collect();
        let Some((last, parents)) = segments.split_last() else { continue };
        let Some(parent_nodes) = walk(value, root, parents, slices) else { continue };
        let parent_id = if parents.is_empty() { root.to_string() } else { format!("{root}.{}", parents.join(".")) };
        // A rule's pattern is parsed once, not once per parent occurrence.
        let pattern = match &rule.check {
            Check::Pattern { json, .. } => Value::parse(json).unwrap_or_default(),
            _ => Value::Null,
        };
        for node in &parent_nodes {
            let Some(children) = step(node, &parent_id, last, slices) else { break };
            let children: Vec<&Value> = children.iter().map(|c| c.get(VALUE).unwrap_or(c)).collect();
            match &rule.check {
                Check::Count { min, max } => {
                    // (a primitive with only extensions counts: its node is the `_element`)
                    let found = children.len();
                    if found < *min || max.is_some_and(|m| found > m) {
                        let kind = IssueKind::Cardinality { min: *min, max: *max, found };
                        issues.push(Issue::new(rule.path, kind));
                    }
                }
                Check::Pattern { json, exact } => {
                    for c in &children {
                        if !matches(c, &pattern, *exact) {
                            issues.push(Issue::new(rule.path, IssueKind::Pattern { expected: json, exact: *exact }));
                        }
                    }
                }
                Check::Types(allowed) => {
                    let base = last.trim_end_matches("[x]");
                    for (key, _) in node.as_object().into_iter().flat_map(|m| m.iter()) {
                        let Some(suffix) = key.strip_prefix(base).filter(|s| s.starts_with(char::is_uppercase)) else {
                            continue;
                        };
                        if let Err(found) = allowed_code(suffix, allowed) {
                            issues.push(Issue::new(rule.path, IssueKind::Type { allowed, found }));
                        }
                    }
                }
                Check::Binding { value_set, codes } => {
                    for c in &children {
                        if !has_code(c, codes) {
                            issues.push(Issue::new(rule.path, IssueKind::Binding { value_set }));
                        }
                    }
                }
                Check::Extension(read) => {
                    for c in &children {
                        if let Err(e) = read(c) {
                            issues.push(Issue::new(rule.path, IssueKind::Extension(e)));
                        }
                    }
                }
            }
        }
    }
    issues
}

/// The values of element `path` (an element id below `root`, through the slices `slices`
/// describes) in a resource's (or datatype's) JSON, at every occurrence: a primitive's value, or
/// its `_element` object when it has one. Empty when a slice on the way is not described.
pub fn values_at(value: &Value, root: &str, path: &str, slices: &[Slice]) -> Vec<Value> {
    let Some(rest) = path.strip_prefix(root).and_then(|r| r.strip_prefix('.')) else { return Vec::new() };
    let segments: Vec<&str> = rest.split('.').collect();
    walk(value, root, &segments, slices).unwrap_or_default()
}

/// `Ok` when the JSON suffix (`DateTime`) is one of `allowed` (`dateTime`), else `Err` with a
/// static name for the type found.
fn allowed_code(suffix: &str, allowed: &'static [&'static str]) -> Result<(), &'static str> {
    let same = |code: &str| {
        let mut c = code.chars();
        c.next().is_some_and(|f| suffix.starts_with(f.to_ascii_uppercase()) && suffix[1..] == *c.as_str())
    };
    if allowed.iter().any(|c| same(c)) {
        return Ok(());
    }
    Err(TYPE_NAMES.iter().copied().find(|c| same(c)).unwrap_or("another type"))
}

/// FHIR type codes, to name a type a choice holds (an issue's `found` is static).
const TYPE_NAMES: &[&str] = &[
    "base64Binary",
    "boolean",
    "canonical",
    "code",
    "date",
    "dateTime",
    "decimal",
    "id",
    "instant",
    "integer",
    "integer64",
    "markdown",
    "oid",
    "positiveInt",
    "string",
    "time",
    "unsignedInt",
    "uri",
    "url",
    "uuid",
    "Address",
    "Age",
    "Annotation",
    "Attachment",
    "CodeableConcept",
    "CodeableReference",
    "Coding",
    "ContactPoint",
    "Count",
    "Distance",
    "Duration",
    "HumanName",
    "Identifier",
    "Money",
    "Period",
    "Quantity",
    "Range",
    "Ratio",
    "RatioRange",
    "Reference",
    "SampledData",
    "Signature",
    "Timing",
    "ContactDetail",
    "Contributor",
    "DataRequirement",
    "Expression",
    "ParameterDefinition",
    "RelatedArtifact",
    "TriggerDefinition",
    "UsageContext",
    "Dosage",
    "Meta",
];

/// The nodes at `segments` below `value` (whose element id is `root`), or `None` when a slice on
/// the way is not described.
fn walk(value: &Value, root: &str, segments: &[&str], slices: &[Slice]) -> Option<Vec<Value>> {
    let mut nodes = vec![value.clone()];
    let mut id = root.to_string();
    for seg in segments {
        let mut next = Vec::new();
        for n in &nodes {
            next.extend(step(n, &id, seg, slices)?);
        }
        id = format!("{id}.{seg}");
        nodes = next;
    }
    Some(nodes)
}

/// The member under which a primitive's value sits when the primitive also has an `_element`
/// (its node is then the `_element` object, so that `extension` and `id` can be followed).
const VALUE: &str = "$value";

/// The values of element `seg` (`identifier:ihi`, `value[x]`) in `node`, whose id is `id`.
fn step(node: &Value, id: &str, seg: &str, slices: &[Slice]) -> Option<Vec<Value>> {
    let (name, slice) = match seg.split_once(':') {
        Some((n, s)) => (n, Some(s)),
        None => (seg, None),
    };
    let Some(m) = node.as_object() else { return Some(Vec::new()) };
    let by = match slice {
        Some(slice) => Some(&slices.iter().find(|s| s.path == format!("{id}.{name}:{slice}"))?.by),
        None => None,
    };
    let mut items: Vec<Value> = Vec::new();
    let keys: Vec<&str> = match (name.strip_suffix("[x]"), by) {
        (Some(_), Some(SliceBy::Key(key))) => vec![key],
        (Some(base), _) => m
            .iter()
            .map(|(k, _)| k)
            .filter(|k| k.strip_prefix(base).is_some_and(|s| s.starts_with(char::is_uppercase)))
            .collect(),
        (None, _) => vec![name],
    };
    for key in keys {
        let (values, exts) = (as_list(m.get(key)), as_list(m.get(&format!("_{key}"))));
        for i in 0..values.len().max(exts.len()) {
            let (v, x) = (values.get(i).copied().flatten(), exts.get(i).copied().flatten());
            match (v, x) {
                (Some(v), None) => items.push(v.clone()),
                (v, Some(Value::Object(x))) => {
                    let mut merged = x.clone();
                    if let Some(v) = v {
                        merged.push(VALUE, v.clone());
                    }
                    items.push(Value::Object(merged));
                }
                _ => {}
            }
        }
    }
    let Some(by) = by else { return Some(items) };
    Some(match by {
        SliceBy::Url(url) => items.into_iter().filter(|i| i.get("url").and_then(Value::as_str) == Some(url)).collect(),
        SliceBy::Pattern(json) => {
            let pattern = Value::parse(json).unwrap_or_default();
            items.into_iter().filter(|i| matches(i, &pattern, false)).collect()
        }
        SliceBy::Key(_) => items,
        SliceBy::ResourceType(member, ty) => items
            .into_iter()
            .filter(|i| i.get(member).and_then(|r| r.get("resourceType")).and_then(Value::as_str) == Some(ty))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLICES: &[Slice] = &[
        Slice { path: "Patient.identifier:ihi", by: SliceBy::Pattern(r#"{"system":"ihi"}"#) },
        Slice { path: "Patient.birthDate.extension:accuracy", by: SliceBy::Url("http://x/accuracy") },
        Slice { path: "Patient.deceased[x]:deceasedBoolean", by: SliceBy::Key("deceasedBoolean") },
    ];
    const RULES: &[Rule] = &[
        Rule { path: "Patient.identifier:ihi.value", check: Check::Count { min: 1, max: Some(1) } },
        Rule { path: "Patient.birthDate.extension:accuracy", check: Check::Count { min: 0, max: Some(1) } },
        Rule { path: "Patient.contact.name.use", check: Check::Pattern { json: r#""official""#, exact: true } },
        Rule { path: "Patient.deceased[x]", check: Check::Types(&["boolean"]) },
        Rule { path: "Patient.identifier:other.value", check: Check::Count { min: 1, max: Some(1) } },
        Rule { path: "Patient.deceased[x]:deceasedBoolean", check: Check::Pattern { json: "false", exact: true } },
    ];

    fn issues(json: &str) -> Vec<String> {
        check_rules(&Value::parse(json).unwrap(), "Patient", SLICES, RULES).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_type_slice_of_a_choice_is_its_type_s_member() {
        assert_eq!(issues(r#"{"deceasedDateTime":"2020"}"#).len(), 1, "the Types rule, not the slice's pattern");
        assert_eq!(
            issues(r#"{"deceasedBoolean":true}"#),
            ["Patient.deceased[x]:deceasedBoolean: differs from the profile's fixed value false"]
        );
    }

    #[test]
    fn a_slice_by_resource_type_picks_the_entries_of_that_type() {
        let slices = [Slice { path: "Bundle.entry:patient", by: SliceBy::ResourceType("resource", "Patient") }];
        let rules = [Rule { path: "Bundle.entry:patient", check: Check::Count { min: 1, max: Some(1) } }];
        let check = |json: &str| check_rules(&Value::parse(json).unwrap(), "Bundle", &slices, &rules).len();
        assert_eq!(
            check(r#"{"entry":[{"resource":{"resourceType":"Observation"}},{"resource":{"resourceType":"Patient"}}]}"#),
            0
        );
        assert_eq!(check(r#"{"entry":[{"resource":{"resourceType":"Observation"}}]}"#), 1);
    }

    #[test]
    fn rules_follow_slices_and_apply_under_each_parent() {
        assert_eq!(issues(r#"{"identifier":[{"system":"other"},{"system":"ihi","value":"1"}]}"#), Vec::<String>::new());
        assert_eq!(
            issues(r#"{"identifier":[{"system":"ihi"}]}"#),
            ["Patient.identifier:ihi.value: occurs 0 times, 1..1 allowed"]
        );
        // A primitive's extensions are in its `_element`.
        let twice = r#"{"birthDate":"2000","_birthDate":{"extension":[{"url":"http://x/accuracy"},{"url":"http://x/accuracy"}]}}"#;
        assert_eq!(issues(twice), ["Patient.birthDate.extension:accuracy: occurs 2 times, 0..1 allowed"]);
        let accurate = r#"{"birthDate":"2000","contact":[{"name":{"use":"usual"}},{"name":{"use":"official"}}],
            "deceasedDateTime":"2020"}"#;
        assert_eq!(
            issues(accurate),
            [
                "Patient.contact.name.use: differs from the profile's fixed value \"official\"",
                "Patient.deceased[x]: a value of type dateTime, the profile allows boolean"
            ]
        );
    }
}
