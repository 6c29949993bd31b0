//! Validation: every issue found, each with the element at fault and what is wrong.
//!
//! - Against the base definitions: [`Validate::validate`] on any resource of any version
//!   (`patient.validate()`), from the element table each version carries ([`Definitions`]):
//!   cardinalities at every depth, primitive formats, codes of required bindings that the
//!   version lists (on `code`, `Coding` and `CodeableConcept` elements), elements the
//!   definition does not have, and empty elements (`ele-1`).
//! - Against a profile: the profile types fhirstorm-codegen generates from an implementation
//!   guide return these from `validate()` and from `TryFrom<the base resource>`.
//!
//! ```
//! use fhirstorm::r4::Patient;
//! use fhirstorm::validation::{IssueKind, Validate};
//!
//! let mut patient: Patient = fhirstorm::json::from_str(r#"{"resourceType":"Patient","link":[{"type":"seealso"}]}"#)?;
//! let issues = patient.validate();
//! // `Patient.link.other` is required (1..1).
//! assert_eq!(issues[0].path(), "Patient.link[0].other");
//! assert!(matches!(issues[0].kind(), IssueKind::Cardinality { min: 1, found: 0, .. }));
//! # Ok::<(), fhirstorm::json::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use crate::extension::ExtensionError;
use crate::json::Value;

mod definitions;
mod formats;
mod rules;
pub(crate) mod table;

pub use definitions::{CodedValueSetDef, Definitions, ElementDef, ElementType, TypeDef, ValueSetDef};
pub use formats::PrimitiveType;
pub use rules::{check_rules, values_at, Check, Rule, Slice, SliceBy};

/// Validation against the base definitions of the resource's version, implemented for every
/// resource of every generated version (through its version's [`Definitions`]).
pub trait Validate {
    /// Every issue found against the base definitions (empty: valid as far as checked).
    fn validate(&self) -> Vec<Issue>;
}

/// One way a resource does not meet its definition or a profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    path: Cow<'static, str>,
    kind: IssueKind,
    constraint: Option<&'static str>,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueKind {
    /// An element (or an extension slice) occurs fewer or more times than the definition or
    /// profile allows.
    Cardinality {
        /// The least allowed.
        min: usize,
        /// The most (`None`: unbounded).
        max: Option<usize>,
        /// How many there are.
        found: usize,
    },
    /// A choice element holds a type the profile does not allow.
    Type {
        /// The FHIR types the profile allows.
        allowed: &'static [&'static str],
        /// The FHIR type found.
        found: &'static str,
    },
    /// A value differs from the profile's fixed value (`exact`) or does not contain its pattern.
    Pattern {
        /// The fixed value or pattern, as JSON.
        expected: &'static str,
        /// Whether it is a fixed value (equality) rather than a pattern (containment).
        exact: bool,
    },
    /// A coded value has no code from the value set of the element's required binding.
    Binding {
        /// The value set's canonical URL.
        value_set: &'static str,
    },
    /// An extension of a slice does not fit its definition.
    Extension(ExtensionError),
    /// The resource is not of the profile's resource type.
    ResourceType {
        /// The profile's resource type.
        expected: &'static str,
        /// The resource's.
        found: &'static str,
    },
    /// A primitive value not in its type's format (an `id` longer than 64 characters, a `code`
    /// with leading whitespace, a `positiveInt` of 0, an empty `string`).
    Format {
        /// The FHIR type (`id`, `code`, `positiveInt`).
        type_code: &'static str,
        /// The value as written.
        value: String,
    },
    /// A member the definition of the element does not have (kept as read).
    Unknown,
    /// An element with neither a value nor children (`ele-1`).
    Empty,
}

impl Issue {
    /// An issue at `path` (an element id of the profile: `Patient.name`,
    /// `Patient.extension:indigenousStatus`).
    pub fn new(path: &'static str, kind: IssueKind) -> Issue {
        Issue { path: Cow::Borrowed(path), kind, constraint: None }
    }

    /// An issue at a location in the resource (`Patient.contact[1].name.family`).
    pub fn at(path: String, kind: IssueKind) -> Issue {
        Issue { path: Cow::Owned(path), kind, constraint: None }
    }

    /// The same issue, naming the key of the definition's constraint it enforces (`ele-1`).
    pub fn with_constraint(mut self, key: &'static str) -> Issue {
        self.constraint = Some(key);
        self
    }

    /// Where: a profile's element id (`Patient.extension:indigenousStatus`) for a profile's
    /// checks, a location in the resource (`Patient.contact[1].name`) for the base checks.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The key of the definition's constraint this issue enforces, when it has one (`ele-1`).
    pub fn constraint(&self) -> Option<&'static str> {
        self.constraint
    }

    /// What is wrong.
    pub fn kind(&self) -> &IssueKind {
        &self.kind
    }
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path)?;
        match &self.kind {
            IssueKind::Cardinality { min, max, found } => {
                let max = max.map_or("*".to_string(), |m| m.to_string());
                write!(f, "occurs {found} times, {min}..{max} allowed")
            }
            IssueKind::Type { allowed, found } => {
                write!(f, "a value of type {found}, the profile allows {}", allowed.join(", "))
            }
            IssueKind::Pattern { expected, exact: true } => {
                write!(f, "differs from the profile's fixed value {expected}")
            }
            IssueKind::Pattern { expected, exact: false } => {
                write!(f, "does not match the profile's pattern {expected}")
            }
            IssueKind::Binding { value_set } => {
                write!(f, "has no code from the value set {value_set}, whose binding is required")
            }
            IssueKind::Extension(e) => write!(f, "{e}"),
            IssueKind::ResourceType { expected, found } => {
                write!(f, "a {found}, the profile is on {expected}")
            }
            IssueKind::Format { type_code, value } => write!(f, "{value:?} is not a valid {type_code}"),
            IssueKind::Unknown => write!(f, "not an element of the definition"),
            IssueKind::Empty => write!(f, "has neither a value nor children"),
        }?;
        match self.constraint {
            Some(key) => write!(f, " ({key})"),
            None => Ok(()),
        }
    }
}

/// A resource that does not meet a profile: the issues, and the resource back.
#[derive(Debug, Clone, PartialEq)]
pub struct Invalid<R> {
    /// The resource, unchanged.
    pub resource: R,
    /// Every issue found.
    pub issues: Vec<Issue>,
}

impl<R> fmt::Display for Invalid<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the resource does not meet the profile ({} issues)", self.issues.len())?;
        for issue in &self.issues {
            write!(f, "; {issue}")?;
        }
        Ok(())
    }
}

impl<R: fmt::Debug> std::error::Error for Invalid<R> {}

/// Whether `value` matches `pattern` as FHIR defines it: every member of the pattern is present
/// and matches, every item of a pattern array matches some item of the value's array (a pattern
/// object matches an array when some item matches), and primitives are equal. With `exact`, the
/// two must be equal.
pub fn matches(value: &Value, pattern: &Value, exact: bool) -> bool {
    if exact {
        return value == pattern;
    }
    match (value, pattern) {
        (Value::Object(v), Value::Object(p)) => {
            p.iter().all(|(key, pv)| v.get(key).is_some_and(|vv| matches(vv, pv, false)))
        }
        (Value::Array(v), Value::Array(p)) => p.iter().all(|pv| v.iter().any(|vv| matches(vv, pv, false))),
        // A slice's discriminator path (`coding.code`) goes through repeating elements: some item
        // must match.
        (Value::Array(v), p @ Value::Object(_)) => v.iter().any(|vv| matches(vv, p, false)),
        (v, p) => v == p,
    }
}

/// Whether a coded value (a `code`'s JSON string, a `Coding` or a `CodeableConcept`) carries one
/// of `codes` (`(system, code)`; a bare `code` is compared by code).
pub fn has_code(value: &Value, codes: &[(&str, &str)]) -> bool {
    let coding = |c: &Value| {
        let (system, code) = (c.get("system").and_then(Value::as_str), c.get("code").and_then(Value::as_str));
        codes.iter().any(|(s, k)| Some(*s) == system && Some(*k) == code)
    };
    match value {
        Value::String(code) => codes.iter().any(|(_, k)| k == code),
        Value::Object(_) => match value.get("coding").and_then(Value::as_array) {
            Some(codings) => codings.iter().any(coding),
            None => coding(value),
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> Value {
        Value::parse(text).unwrap()
    }

    #[test]
    fn a_pattern_is_contained_a_fixed_value_equal() {
        let concept =
            v(r#"{"coding":[{"system":"s","code":"a"},{"system":"l","code":"97509-4","display":"x"}],"text":"t"}"#);
        assert!(matches(&concept, &v(r#"{"coding":[{"system":"l","code":"97509-4"}]}"#), false));
        assert!(!matches(&concept, &v(r#"{"coding":[{"system":"l","code":"0"}]}"#), false));
        assert!(!matches(&concept, &v(r#"{"coding":[{"system":"l","code":"97509-4"}]}"#), true));
        assert!(matches(&v("true"), &v("true"), true) && !matches(&v("false"), &v("true"), true));
        // A discriminator path through a repeating element.
        assert!(matches(&concept, &v(r#"{"coding":{"system":"l","code":"97509-4"}}"#), false));
        assert!(!matches(&concept, &v(r#"{"coding":{"system":"s","code":"97509-4"}}"#), false));
    }

    #[test]
    fn a_coded_value_has_a_code_of_the_set() {
        let codes = [("urn:ietf:bcp:47", "fr"), ("http://snomed.info/sct", "254373007")];
        assert!(has_code(&v(r#""fr""#), &codes));
        assert!(!has_code(&v(r#""de""#), &codes));
        assert!(has_code(&v(r#"{"system":"http://snomed.info/sct","code":"254373007"}"#), &codes));
        assert!(!has_code(&v(r#"{"system":"http://other","code":"254373007"}"#), &codes));
        assert!(has_code(&v(r#"{"coding":[{"code":"x"},{"system":"urn:ietf:bcp:47","code":"fr"}]}"#), &codes));
        assert!(!has_code(&v(r#"{"text":"French"}"#), &codes), "text alone does not meet a required binding");
    }
}
