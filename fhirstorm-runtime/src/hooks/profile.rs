//! Typed extensions and profiles: what code generated from an implementation guide calls.

use crate::extension::{ExtensionElement, ExtensionError, ExtensionErrorKind, TypedExtension};
use crate::json::FromJson;
use crate::primitive::Primitive;
use crate::validation::{Issue, IssueKind};

// ---- typed extensions ----

/// A sub-extension of at most one occurrence, from the values found for its slice.
pub fn ext_optional<T>(
    mut found: Vec<T>,
    url: &'static str,
    path: &'static str,
    slice: &'static str,
) -> Result<Option<T>, ExtensionError> {
    if found.len() > 1 {
        return Err(ExtensionError::new(url, path, ExtensionErrorKind::TooMany { slice, max: 1, found: found.len() }));
    }
    Ok(found.pop())
}

/// A sub-extension of exactly one occurrence.
pub fn ext_required<T>(
    found: Vec<T>,
    url: &'static str,
    path: &'static str,
    slice: &'static str,
) -> Result<T, ExtensionError> {
    ext_optional(found, url, path, slice)?
        .ok_or_else(|| ExtensionError::new(url, path, ExtensionErrorKind::Missing { slice }))
}

/// A repeating sub-extension, with its minimum and maximum (`None`: unbounded).
pub fn ext_repeating<T>(
    found: Vec<T>,
    min: usize,
    max: Option<usize>,
    url: &'static str,
    path: &'static str,
    slice: &'static str,
) -> Result<Vec<T>, ExtensionError> {
    if found.len() < min {
        return Err(ExtensionError::new(url, path, ExtensionErrorKind::Missing { slice }));
    }
    match max {
        Some(max) if found.len() > max => {
            Err(ExtensionError::new(url, path, ExtensionErrorKind::TooMany { slice, max, found: found.len() }))
        }
        _ => Ok(found),
    }
}

/// The error for an extension value of a type its definition does not allow.
pub fn ext_value_type(
    url: &'static str,
    path: &'static str,
    expected: &'static [&'static str],
    found: Option<&'static str>,
) -> ExtensionError {
    ExtensionError::new(url, path, ExtensionErrorKind::ValueType { expected, found })
}

// ---- profiles ----

/// An element that occurs `found` times where the profile allows `min..=max`.
pub fn check_count(issues: &mut Vec<Issue>, path: &'static str, found: usize, min: usize, max: Option<usize>) {
    if found < min || max.is_some_and(|m| found > m) {
        issues.push(Issue::new(path, IssueKind::Cardinality { min, max, found }));
    }
}

/// A choice element's value of type `found` where the profile allows `allowed`.
pub fn check_type(issues: &mut Vec<Issue>, path: &'static str, found: &'static str, allowed: &'static [&'static str]) {
    if !allowed.contains(&found) {
        issues.push(Issue::new(path, IssueKind::Type { allowed, found }));
    }
}

/// Each value of an element with a fixed value or pattern (`expected`, JSON the generator wrote
/// from the definitions) checked against it.
pub fn check_pattern<'a>(
    issues: &mut Vec<Issue>,
    path: &'static str,
    values: impl Iterator<Item = &'a dyn crate::json::ToJsonDyn>,
    expected: &'static str,
    exact: bool,
) {
    let pattern = crate::json::Value::parse(expected).unwrap_or_default();
    for v in values {
        if !crate::validation::matches(&crate::json::to_value(v), &pattern, exact) {
            issues.push(Issue::new(path, IssueKind::Pattern { expected, exact }));
        }
    }
}

/// Each coded value of an element with a required binding checked against the value set's codes.
pub fn check_binding<'a>(
    issues: &mut Vec<Issue>,
    path: &'static str,
    values: impl Iterator<Item = &'a dyn crate::json::ToJsonDyn>,
    codes: &'static [(&'static str, &'static str)],
    value_set: &'static str,
) {
    for v in values {
        if !crate::validation::has_code(&crate::json::to_value(v), codes) {
            issues.push(Issue::new(path, IssueKind::Binding { value_set }));
        }
    }
}

/// A profile's fixed value or pattern for a complex element, to start a new resource with
/// (`None` if it does not read as `T`, which `validate()` would then report).
pub fn pattern_value<T: FromJson>(json: &str) -> Option<T> {
    crate::json::from_str(json).ok()
}

/// A profile's fixed value or pattern for a primitive element.
pub fn pattern_primitive<T: FromJson, E>(json: &str) -> Option<Primitive<T, E>> {
    crate::json::from_str::<T>(json).ok().map(Primitive::from)
}

/// An extension slice whose extension type is known: its count, and each one read.
pub fn check_typed_slice<T: TypedExtension>(
    issues: &mut Vec<Issue>,
    path: &'static str,
    list: &[T::Element],
    min: usize,
    max: Option<usize>,
) {
    let mut found = 0;
    for e in list.iter().filter(|e| e.url() == Some(T::URL)) {
        found += 1;
        if let Err(err) = T::from_extension(e) {
            issues.push(Issue::new(path, IssueKind::Extension(err)));
        }
    }
    check_count(issues, path, found, min, max);
}

/// An extension's JSON read as `T`, for a profile's rules below its own level
/// (`crate::validation::Check::Extension`): `Ok` when it reads, or when it is no `Extension` at
/// all (the base definitions, which a profile's `validate()` checks first, report that).
pub fn reads_as<T: TypedExtension>(json: &crate::json::Value) -> Result<(), ExtensionError>
where
    T::Element: FromJson,
{
    match crate::json::from_value::<T::Element>(json) {
        Ok(e) => T::from_extension(&e).map(drop),
        Err(_) => Ok(()),
    }
}

/// The extensions of an extension slice below a profile's own level (`path`, an element id
/// below `root`), at every occurrence, read as `T`.
pub fn extensions_at<T: TypedExtension>(
    value: &dyn crate::json::ToJsonDyn,
    root: &str,
    path: &str,
    slices: &[crate::validation::Slice],
) -> Result<Vec<T>, ExtensionError>
where
    T::Element: FromJson,
{
    let mut out = Vec::new();
    for e in items_at::<T::Element>(value, root, path, slices) {
        out.push(T::from_extension(&e)?);
    }
    Ok(out)
}

/// The items of element `path` below a profile's own level (an element id below `root`: a slice's
/// items, or a slice's extensions as the version's generic `Extension`), at every occurrence.
pub fn items_at<E: FromJson>(
    value: &dyn crate::json::ToJsonDyn,
    root: &str,
    path: &str,
    slices: &[crate::validation::Slice],
) -> Vec<E> {
    let json = crate::json::to_value(value);
    // (the JSON is the typed model's own writing: each item of an extension list reads back)
    crate::validation::values_at(&json, root, path, slices)
        .iter()
        .filter_map(|v| crate::json::from_value(v).ok())
        .collect()
}

/// An extension slice known by its URL only (its definition is not in the package): its count.
pub fn check_url_slice<E: ExtensionElement>(
    issues: &mut Vec<Issue>,
    path: &'static str,
    list: &[E],
    url: &str,
    min: usize,
    max: Option<usize>,
) {
    check_count(issues, path, list.iter().filter(|e| e.url() == Some(url)).count(), min, max);
}

/// The items of a repeating element that belong to a slice discriminated by value or pattern:
/// those that contain `pattern` (JSON the generator wrote from the profile).
pub fn slice_items<'a, T: crate::json::ToJson>(items: &'a [T], pattern: &str) -> Vec<&'a T> {
    let pattern = crate::json::Value::parse(pattern).unwrap_or_default();
    items.iter().filter(|item| crate::validation::matches(&crate::json::to_value(*item), &pattern, false)).collect()
}

/// The same, to change them.
pub fn slice_items_mut<'a, T: crate::json::ToJson>(items: &'a mut [T], pattern: &str) -> Vec<&'a mut T> {
    let pattern = crate::json::Value::parse(pattern).unwrap_or_default();
    items
        .iter_mut()
        .filter(|item| crate::validation::matches(&crate::json::to_value(&**item), &pattern, false))
        .collect()
}

/// A slice of a repeating element: how many items belong to it.
pub fn check_element_slice<T: crate::json::ToJson>(
    issues: &mut Vec<Issue>,
    path: &'static str,
    items: &[T],
    pattern: &str,
    min: usize,
    max: Option<usize>,
) {
    check_count(issues, path, slice_items(items, pattern).len(), min, max);
}
