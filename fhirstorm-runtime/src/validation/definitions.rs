//! The element table each generated version carries (`FhirVersion::definitions()`), and the
//! walk that validates a resource's JSON against it.
//!
//! The table is data, not code: one entry per element of every datatype, resource and backbone
//! element, so that validation costs the version's crate one string (decoded by
//! `hooks::LazyDefinitions`) rather than a function per type.

use super::formats::{self, PrimitiveType};
use super::{Issue, IssueKind};
use crate::json::{Members, Value};

/// A version's definitions, as far as validation needs them.
#[derive(Debug)]
pub struct Definitions {
    /// Complex datatypes, resources and backbone elements.
    pub types: &'static [TypeDef],
    /// The value sets of required bindings on `code` elements that the version lists.
    pub value_sets: &'static [ValueSetDef],
    /// The value sets of required bindings on `Coding` and `CodeableConcept` elements that the
    /// version lists, with their systems.
    pub coded_value_sets: &'static [CodedValueSetDef],
    /// The index of `Extension` in `types`.
    pub extension: u16,
    /// Whether any object may carry `fhir_comments` (DSTU2's JSON format).
    pub json_comments: bool,
}

/// One datatype, resource or backbone element.
#[derive(Debug)]
pub struct TypeDef {
    /// Its FHIR name or path (`HumanName`, `Patient`, `Patient.contact`).
    pub name: &'static str,
    /// Whether it is a resource (its JSON has `resourceType`).
    pub resource: bool,
    /// Its elements, in definition order.
    pub elements: &'static [ElementDef],
}

/// One element of a type.
#[derive(Debug)]
pub struct ElementDef {
    /// The JSON name (`birthDate`; for a choice, the name without `[x]`: `deceased`).
    pub name: &'static str,
    /// The least number of occurrences.
    pub min: u32,
    /// Whether it repeats (the base definitions' max is `1` or `*`).
    pub many: bool,
    /// Its type.
    pub ty: ElementType,
}

/// The type of an element.
#[derive(Debug, Clone, Copy)]
pub enum ElementType {
    /// A primitive, with the index of its required value set in `value_sets` when the version
    /// lists one.
    Primitive(PrimitiveType, Option<u16>),
    /// A string with no `_element` (`Element.id`, `Extension.url`, `Narrative.div`), and the
    /// primitive type whose format it has, when checked (a resource's `id` is an `id`).
    Attribute(Option<PrimitiveType>),
    /// A complex type, by index in `types`.
    Complex(u16),
    /// A `Coding` or `CodeableConcept` (by index in `types`) with a required binding, by index in
    /// `coded_value_sets`.
    Coded(u16, u16),
    /// Any resource (`contained`, `Bundle.entry.resource`).
    Resource,
    /// A choice: the JSON suffix of each allowed type (`Quantity`, `DateTime`) and its type.
    Choice(&'static [(&'static str, ElementType)]),
}

/// The codes of a value set a required binding on a `Coding` or `CodeableConcept` names.
#[derive(Debug)]
pub struct CodedValueSetDef {
    /// Its canonical URL.
    pub url: &'static str,
    /// Its `(system, code)` pairs.
    pub codes: &'static [(&'static str, &'static str)],
}

/// The codes of a value set a required binding names.
#[derive(Debug)]
pub struct ValueSetDef {
    /// Its canonical URL.
    pub url: &'static str,
    /// Its codes.
    pub codes: &'static [&'static str],
}

impl Definitions {
    /// Validates a resource's JSON: every issue, each at its location (`Patient.contact[1].name`).
    pub fn validate(&self, resource: &Value) -> Vec<Issue> {
        let mut issues = Vec::new();
        match resource.as_object() {
            Some(m) => self.resource(m, None, &mut issues),
            None => issues.push(Issue::at(String::new(), IssueKind::Unknown)),
        }
        issues
    }

    /// Validates a datatype's JSON (`Identifier`), located from the type's name.
    pub fn validate_type(&self, type_name: &str, value: &Value) -> Vec<Issue> {
        let mut issues = Vec::new();
        match (self.types.iter().find(|t| !t.resource && t.name == type_name), value.as_object()) {
            (Some(ty), Some(m)) => self.object(ty, m, type_name, &mut issues),
            _ => issues.push(Issue::at(type_name.to_string(), IssueKind::Unknown)),
        }
        issues
    }

    /// A resource at `at` (`None` at the root, where the path starts with its type).
    fn resource(&self, m: &Members, at: Option<&str>, issues: &mut Vec<Issue>) {
        let rt = m.get("resourceType").and_then(Value::as_str).unwrap_or("");
        let path = at.map_or_else(|| rt.to_string(), str::to_string);
        match self.types.iter().find(|t| t.resource && t.name == rt) {
            Some(ty) => self.object(ty, m, &path, issues),
            None => issues.push(Issue::at(format!("{path}.resourceType"), IssueKind::Unknown)),
        }
    }

    fn object(&self, ty: &TypeDef, m: &Members, path: &str, issues: &mut Vec<Issue>) {
        if m.is_empty() {
            issues.push(Issue::at(path.to_string(), IssueKind::Empty).with_constraint("ele-1"));
            return;
        }
        let mut seen = vec![false; m.len()];
        for el in ty.elements {
            match el.ty {
                ElementType::Choice(variants) => {
                    let mut found = 0;
                    for (suffix, vty) in variants {
                        let key = format!("{}{suffix}", el.name);
                        found += self.element(el, &key, vty, m, path, &mut seen, issues);
                    }
                    if (found as u32) < el.min || (!el.many && found > 1) {
                        let (min, max) = (el.min as usize, (!el.many).then_some(1));
                        issues.push(Issue::at(
                            format!("{path}.{}[x]", el.name),
                            IssueKind::Cardinality { min, max, found },
                        ));
                    }
                }
                ref other => {
                    let found = self.element(el, el.name, other, m, path, &mut seen, issues);
                    if (found as u32) < el.min {
                        let (min, max) = (el.min as usize, (!el.many).then_some(1));
                        issues
                            .push(Issue::at(format!("{path}.{}", el.name), IssueKind::Cardinality { min, max, found }));
                    }
                }
            }
        }
        for (i, (key, _)) in m.iter().enumerate() {
            let format_member =
                (ty.resource && key == "resourceType") || (self.json_comments && key == "fhir_comments");
            if !seen[i] && !format_member {
                issues.push(Issue::at(format!("{path}.{key}"), IssueKind::Unknown));
            }
        }
    }

    /// One element under `key` (and `_key`): its occurrences, each checked; returns the count.
    #[allow(clippy::too_many_arguments)]
    fn element(
        &self,
        el: &ElementDef,
        key: &str,
        ty: &ElementType,
        m: &Members,
        path: &str,
        seen: &mut [bool],
        issues: &mut Vec<Issue>,
    ) -> usize {
        let under = format!("_{key}");
        let (mut value, mut ext) = (None, None);
        for (i, (k, v)) in m.iter().enumerate() {
            if k == key {
                value = Some(v);
                seen[i] = true;
            } else if k == under && matches!(ty, ElementType::Primitive(..)) {
                ext = Some(v);
                seen[i] = true;
            }
        }
        let (values, exts) = (as_list(value), as_list(ext));
        let count = values.len().max(exts.len());
        if !el.many && count > 1 {
            issues.push(Issue::at(
                format!("{path}.{key}"),
                IssueKind::Cardinality { min: el.min as usize, max: Some(1), found: count },
            ));
        }
        for i in 0..count {
            let at = if el.many { format!("{path}.{key}[{i}]") } else { format!("{path}.{key}") };
            let (v, x) = (values.get(i).copied().flatten(), exts.get(i).copied().flatten());
            if v.is_none() && x.is_none() {
                issues.push(Issue::at(at, IssueKind::Empty).with_constraint("ele-1"));
                continue;
            }
            if let Some(x) = x {
                self.primitive_element(x, &at, issues);
            }
            let Some(v) = v else { continue };
            match *ty {
                ElementType::Primitive(p, value_set) => {
                    if let Some(kind) = formats::check(p, v) {
                        issues.push(Issue::at(at.clone(), kind));
                    }
                    if let (Some(vs), Some(code)) =
                        (value_set.and_then(|i| self.value_sets.get(i as usize)), v.as_str())
                    {
                        if !vs.codes.contains(&code) {
                            issues.push(Issue::at(at, IssueKind::Binding { value_set: vs.url }));
                        }
                    }
                }
                ElementType::Attribute(Some(p)) => {
                    if let Some(kind) = formats::check(p, v) {
                        issues.push(Issue::at(at, kind));
                    }
                }
                ElementType::Attribute(None) => {}
                ElementType::Complex(t) => match (v.as_object(), self.types.get(t as usize)) {
                    (Some(m), Some(def)) => self.object(def, m, &at, issues),
                    _ => issues.push(Issue::at(at, IssueKind::Unknown)),
                },
                ElementType::Coded(t, set) => match (v.as_object(), self.types.get(t as usize)) {
                    (Some(m), Some(def)) => {
                        self.object(def, m, &at, issues);
                        if let Some(vs) = self.coded_value_sets.get(set as usize) {
                            if !super::has_code(v, vs.codes) {
                                issues.push(Issue::at(at, IssueKind::Binding { value_set: vs.url }));
                            }
                        }
                    }
                    _ => issues.push(Issue::at(at, IssueKind::Unknown)),
                },
                ElementType::Resource => match v.as_object() {
                    Some(m) => self.resource(m, Some(&at), issues),
                    None => issues.push(Issue::at(at, IssueKind::Unknown)),
                },
                ElementType::Choice(_) => {}
            }
        }
        count
    }

    /// A primitive's `_element` object: an `id` and extensions.
    fn primitive_element(&self, x: &Value, at: &str, issues: &mut Vec<Issue>) {
        let Some(m) = x.as_object() else {
            return issues.push(Issue::at(format!("{at}._"), IssueKind::Unknown));
        };
        if m.is_empty() {
            issues.push(Issue::at(at.to_string(), IssueKind::Empty).with_constraint("ele-1"));
        }
        for (key, v) in m.iter() {
            match (key, v) {
                ("id", _) => {}
                ("fhir_comments", _) if self.json_comments => {}
                ("extension", Value::Array(list)) => {
                    for (i, e) in list.iter().enumerate() {
                        let at = format!("{at}.extension[{i}]");
                        match (e.as_object(), self.types.get(self.extension as usize)) {
                            (Some(m), Some(def)) => self.object(def, m, &at, issues),
                            _ => issues.push(Issue::at(at, IssueKind::Unknown)),
                        }
                    }
                }
                _ => issues.push(Issue::at(format!("{at}.{key}"), IssueKind::Unknown)),
            }
        }
    }
}

/// An element's JSON as a list of occurrences (`null` in an array: absent at that index).
pub(super) fn as_list(v: Option<&Value>) -> Vec<Option<&Value>> {
    match v {
        None => Vec::new(),
        Some(Value::Array(a)) => a.iter().map(|x| (!matches!(x, Value::Null)).then_some(x)).collect(),
        Some(x) => vec![Some(x)],
    }
}
