//! A package's resource profiles, read from their snapshots: what differs at the resource's own
//! level (cardinality, choice types) and its extension slices.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::element::{pattern, required_binding, slice_pattern, Pattern};
use super::terminology::Terminology;
use super::{max_of, s, type_name_of, type_profiles, types, unique};
use crate::ident;
use crate::ir::Prim;

/// One resource profile.
#[derive(Debug)]
pub(crate) struct ProfileDef {
    /// Rust type name.
    pub name: String,
    /// Canonical URL.
    pub url: String,
    /// The base resource or datatype (`Patient`, `Identifier`).
    pub base_type: String,
    /// Whether the base is a datatype (no `meta`, not an `AnyResource`).
    pub datatype: bool,
    /// Whether the base resource has `contained` resources.
    pub has_contained: bool,
    /// Title or short description.
    pub doc: String,
    /// The profile it derives from, when not the base resource.
    pub derived_from: String,
    /// Element ids flagged must-support.
    pub must_support: Vec<String>,
    /// Elements of the resource whose cardinality or types the profile narrows.
    pub fields: Vec<FieldRule>,
    /// Required bindings on the resource's own elements that are not checked (element id, value
    /// set), as their value sets cannot be expanded from the package.
    pub unchecked_bindings: Vec<(String, String)>,
    /// Extension slices of the resource (`extension` and `modifierExtension`).
    pub slices: Vec<ExtensionSlice>,
    /// Extension slices below the resource's own level (`Patient.birthDate.extension:accuracy`).
    pub deep_extensions: Vec<ExtensionSlice>,
    /// Slices by value or pattern below the resource's own level whose items are datatypes
    /// (`Observation.code.coding:loinc`).
    pub deep_element_slices: Vec<DeepSlice>,
    /// Slices of the resource's other repeating elements, discriminated by value or pattern.
    pub element_slices: Vec<ElementSlice>,
    /// Slices of repeating elements discriminated by the type of the resource their items hold,
    /// or by a profile their references' targets meet.
    pub kind_slices: Vec<KindSlice>,
    /// Slices that are none of these, nor type slices of a choice (whose values the snapshot
    /// does not give, or by a path we do not follow): element ids, listed in the docs as not
    /// checked.
    pub unchecked_slices: Vec<String>,
    /// What the profile requires below its own level.
    pub deep: super::deep::Deep,
}

/// A named slice of a repeating element (`Observation.category:us-core`), discriminated by value
/// or pattern: the items that contain its pattern belong to it.
#[derive(Debug)]
pub(crate) struct ElementSlice {
    /// Element id.
    pub path: String,
    /// The accessor's name (`category_us_core`).
    pub method: String,
    /// The element's Rust field name.
    pub field: String,
    /// The items' Rust type in the base version (`CodeableConcept`, `ObservationComponent`).
    pub item_type: String,
    /// What an item of the slice contains, as JSON.
    pub pattern: String,
    /// Whether the pattern is the whole item (`$this`), so that `new()` can add it.
    pub whole: bool,
    /// Cardinality.
    pub min: usize,
    /// `None` for `*`.
    pub max: Option<usize>,
    /// Short description.
    pub doc: String,
}

/// A named slice of a repeating element whose items are told apart by what they hold or refer to.
#[derive(Debug)]
pub(crate) struct KindSlice {
    /// Element id.
    pub path: String,
    /// The accessor's name (`entry_cancer_patient`).
    pub method: String,
    /// The element's Rust field name.
    pub field: String,
    /// The items' Rust type in the base version (`BundleEntry`, `Reference`).
    pub item_type: String,
    /// How its items are told apart.
    pub by: SliceKind,
    /// Cardinality.
    pub min: usize,
    /// `None` for `*`.
    pub max: Option<usize>,
    /// Short description.
    pub doc: String,
}

/// How a [`KindSlice`]'s items are told apart.
#[derive(Debug)]
pub(crate) enum SliceKind {
    /// Items holding a resource of this type in this member (`Bundle.entry` by `resource`).
    ResourceType {
        /// The member's Rust field name.
        member: String,
        /// The resource type.
        resource_type: String,
    },
    /// References whose target meets one of these profiles (discriminator `resolve()`).
    Profile(Vec<String>),
}

/// A slice by value or pattern below the resource's own level, of a datatype's items.
#[derive(Debug)]
pub(crate) struct DeepSlice {
    /// Element id.
    pub path: String,
    /// The accessor's name (`code_coding_loinc`).
    pub method: String,
    /// The items' Rust type in the base version (`Coding`).
    pub item_type: String,
    /// Cardinality.
    pub min: usize,
    /// `None` for `*`.
    pub max: Option<usize>,
    /// Short description.
    pub doc: String,
}

/// A top-level element the profile constrains.
#[derive(Debug)]
pub(crate) struct FieldRule {
    /// Element id (`Observation.effective[x]`).
    pub path: String,
    /// Rust field name.
    pub field: String,
    /// Whether the base element repeats (a `Vec`).
    pub many: bool,
    /// The profile's cardinality, when it differs from the base's.
    pub count: Option<(usize, Option<usize>)>,
    /// For a choice element: the FHIR types the profile allows.
    pub choice_types: Option<Vec<String>>,
    /// A fixed value or pattern, as JSON.
    pub pattern: Option<Pattern>,
    /// A required binding whose value set the package lets us expand: its URL and codes.
    pub binding: Option<(String, Vec<(String, String)>)>,
    /// Whether the element is a primitive.
    pub primitive: bool,
}

/// An extension slice.
#[derive(Debug)]
pub(crate) struct ExtensionSlice {
    /// Element id (`Patient.extension:indigenousStatus`).
    pub path: String,
    /// The accessor's name.
    pub method: String,
    /// `extension` or `modifier_extension`.
    pub list: String,
    /// The extension's canonical URL.
    pub url: String,
    /// Cardinality.
    pub min: usize,
    /// `None` for `*`.
    pub max: Option<usize>,
    /// The package's type for it; `None` when its definition is not in the package.
    pub typed: Option<String>,
    /// Short description.
    pub doc: String,
}

/// Names the profile types can not take as accessors (their own methods).
const RESERVED: &[&str] = &["new", "validate", "validate_resource", "into_inner", "from_unverified", "url"];

/// A profile on a resource or a complex datatype (extension definitions are handled apart).
pub(crate) fn is_profile(sd: &Value) -> bool {
    s(sd, "resourceType") == "StructureDefinition"
        && matches!(s(sd, "kind"), "resource" | "complex-type")
        && s(sd, "derivation") == "constraint"
        && s(sd, "type") != "Extension"
}

pub(crate) fn profile(
    sd: &Value,
    name: String,
    extensions: &HashMap<&str, String>,
    terminology: &Terminology<'_>,
) -> Option<ProfileDef> {
    let base_type = s(sd, "type").to_string();
    let elements: Vec<&Value> = sd.get("snapshot")?.get("element")?.as_array()?.iter().collect();
    let root = elements.first().copied()?;
    let mut fields = Vec::new();
    let (mut slices, mut deep_extensions, mut deep_element_slices) = (Vec::new(), Vec::new(), Vec::new());
    let (mut element_slices, mut kind_slices, mut unchecked_slices) = (Vec::new(), Vec::new(), Vec::new());
    let mut unchecked_bindings = Vec::new();
    let mut methods: HashSet<String> = RESERVED.iter().map(|r| r.to_string()).collect();
    for el in &elements {
        let id = s(el, "id");
        let Some(rest) = id.strip_prefix(&format!("{base_type}.")) else { continue };
        let min = el.get("min").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = max_of(el);
        let last = rest.rsplit('.').next().unwrap_or(rest);
        if rest.contains('.') && !super::deep::inside_extension(id) {
            if let Some((list @ ("extension" | "modifierExtension"), _)) = last.split_once(':') {
                if !type_profiles(el).is_empty() {
                    let method = deep_method(rest, &mut methods);
                    deep_extensions.extend(extension_slice(el, list, method, extensions));
                }
                continue;
            }
            if let Some((list, _)) = last.split_once(':') {
                let sliced_id = format!("{}{list}", &id[..id.len() - last.len()]);
                let Some(sliced) = elements.iter().find(|e| s(e, "id") == sliced_id) else { continue };
                let item = types(sliced).into_iter().next().unwrap_or_default();
                let datatype = Prim::from_code(&item).is_none()
                    && item.starts_with(char::is_uppercase)
                    && !matches!(item.as_str(), "BackboneElement" | "Element" | "Extension" | "Resource");
                if datatype && slice_pattern(&elements, sliced, el).is_some() {
                    deep_element_slices.push(DeepSlice {
                        path: id.to_string(),
                        method: deep_method(rest, &mut methods),
                        item_type: ident::type_name(&item),
                        min,
                        max,
                        doc: s(el, "short").to_string(),
                    });
                }
                continue;
            }
        }
        if let Some((list, slice)) = rest.split_once(':') {
            // Only slices of the resource's own elements (not their children).
            if slice.contains('.') || list.contains('.') {
                continue;
            }
            if !matches!(list, "extension" | "modifierExtension") {
                let sliced = elements.iter().find(|e| s(e, "id") == format!("{base_type}.{list}"));
                if let Some(slice) =
                    sliced.and_then(|x| element_slice(&elements, &base_type, list, x, el, &mut methods))
                {
                    element_slices.push(slice);
                } else if let Some(slice) =
                    sliced.and_then(|x| kind_slice(&elements, &base_type, list, x, el, &mut methods))
                {
                    kind_slices.push(slice);
                } else if sliced.and_then(|x| super::deep::type_slice(&elements, x, el)).is_none() {
                    // (type slices of a choice are counted with the rules below the profile's
                    // own level; the choice's enum is their accessor)
                    unchecked_slices.push(id.to_string());
                }
                continue;
            }
            if type_profiles(el).is_empty() {
                continue;
            }
            let mut method = ident::snake(slice).trim_start_matches("r#").to_string();
            if method.starts_with(|c: char| c.is_ascii_digit()) {
                method = format!("n{method}");
            }
            while !methods.insert(method.clone()) {
                method.push_str("_extension");
            }
            slices.extend(extension_slice(el, list, method, extensions));
            continue;
        }
        if rest.contains('.') || rest.contains(':') {
            continue;
        }
        let base = el.get("base").unwrap_or(&Value::Null);
        let base_min = base.get("min").and_then(Value::as_u64).unwrap_or(min as u64) as usize;
        let base_max = if base.get("max").is_some() { max_of(base) } else { max };
        let json = rest.strip_suffix("[x]").unwrap_or(rest);
        let count = ((min, max) != (base_min, base_max)).then_some((min, max));
        let choice_types = rest.ends_with("[x]").then(|| types(el)).filter(|t| !t.is_empty());
        let pattern = if rest.ends_with("[x]") { None } else { pattern(el) };
        let mut binding = None;
        if let Some(vs) = required_binding(el) {
            let coded = types(el).iter().all(|t| matches!(t.as_str(), "code" | "Coding" | "CodeableConcept"));
            match terminology.expand(&vs) {
                Some(codes) if coded && !rest.ends_with("[x]") => binding = Some((vs, codes)),
                _ => unchecked_bindings.push((id.to_string(), vs)),
            }
        }
        if count.is_some() || choice_types.is_some() || pattern.is_some() || binding.is_some() {
            fields.push(FieldRule {
                path: id.to_string(),
                field: ident::snake(json),
                many: base_max != Some(1),
                count,
                choice_types,
                pattern,
                binding,
                primitive: types(el).first().is_some_and(|t| Prim::from_code(t).is_some()),
            });
        }
    }
    let must_support = elements
        .iter()
        .filter(|e| e.get("mustSupport").and_then(Value::as_bool) == Some(true))
        .map(|e| s(e, "id").to_string())
        .collect();
    let doc = [s(sd, "title"), s(root, "short"), s(sd, "name")].into_iter().find(|t| !t.is_empty()).unwrap_or("");
    let deep = super::deep::collect(&elements, &base_type, terminology, extensions);
    unchecked_bindings.extend(deep.unchecked_bindings.iter().cloned());
    let parent = s(sd, "baseDefinition");
    let derived_from =
        if parent.ends_with(&format!("/StructureDefinition/{base_type}")) { String::new() } else { parent.to_string() };
    Some(ProfileDef {
        name,
        url: s(sd, "url").to_string(),
        datatype: s(sd, "kind") == "complex-type",
        has_contained: elements.iter().any(|e| s(e, "id") == format!("{base_type}.contained")),
        base_type,
        doc: doc.trim().to_string(),
        derived_from,
        must_support,
        fields,
        unchecked_bindings,
        slices,
        deep_extensions,
        deep_element_slices,
        element_slices,
        kind_slices,
        unchecked_slices,
        deep,
    })
}

/// A slice of the resource's repeating element `list`, when it is discriminated by value or
/// pattern and the snapshot gives the values: the slice's own pattern (which contains every
/// discriminator path), or the fixed values and patterns at each discriminator path, nested.
fn element_slice(
    elements: &[&Value],
    base_type: &str,
    list: &str,
    sliced: &Value,
    el: &Value,
    methods: &mut HashSet<String>,
) -> Option<ElementSlice> {
    let id = s(el, "id");
    let (pattern, whole) = slice_pattern(elements, sliced, el)?;
    let item_type = item_type(base_type, list, sliced)?;
    Some(ElementSlice {
        path: id.to_string(),
        method: slice_method(list, el, methods),
        field: ident::snake(list),
        item_type,
        pattern: pattern.to_string(),
        whole,
        min: el.get("min").and_then(Value::as_u64).unwrap_or(0) as usize,
        max: max_of(el),
        doc: s(el, "short").to_string(),
    })
}

/// The extension slice `el` of the list `list` (`extension`, `modifierExtension`), by its
/// extension's URL; `None` when the slice names no extension.
fn extension_slice(
    el: &Value,
    list: &str,
    method: String,
    extensions: &HashMap<&str, String>,
) -> Option<ExtensionSlice> {
    let url = type_profiles(el).into_iter().next()?;
    let url = url.split('|').next().unwrap_or(&url).to_string();
    Some(ExtensionSlice {
        path: s(el, "id").to_string(),
        method,
        list: ident::snake(list),
        typed: extensions.get(url.as_str()).cloned(),
        url,
        min: el.get("min").and_then(Value::as_u64).unwrap_or(0) as usize,
        max: max_of(el),
        doc: s(el, "short").to_string(),
    })
}

/// The accessor's name for an extension slice below the profile's own level, from its element
/// id below the root (`birthDate.extension:accuracyIndicator` → `birth_date_accuracy_indicator`;
/// a slice on the way by its slice name).
fn deep_method(rest: &str, methods: &mut HashSet<String>) -> String {
    let segments: Vec<&str> = rest.split('.').collect();
    let mut parts = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        let name = match seg.split_once(':') {
            Some(("extension" | "modifierExtension", slice)) => slice.to_string(),
            // the last one is the list the accessor reads (`coding_loinc`)
            Some((list, slice)) if i + 1 == segments.len() => format!("{list}_{slice}"),
            Some((_, slice)) => slice.to_string(),
            None => seg.trim_end_matches("[x]").to_string(),
        };
        parts.push(ident::snake(&name).trim_start_matches("r#").to_string());
    }
    let mut method = parts.join("_");
    while !methods.insert(method.clone()) {
        method.push_str("_slice");
    }
    method
}

/// The Rust type of the items of the resource's element `list` (`sliced`), unless primitive.
fn item_type(base_type: &str, list: &str, sliced: &Value) -> Option<String> {
    match types(sliced).first().map(String::as_str) {
        Some("BackboneElement" | "Element") => Some(format!("{base_type}{}", ident::type_name(list))),
        Some(code) if Prim::from_code(code).is_none() => Some(ident::type_name(code)),
        _ => None,
    }
}

/// A slice accessor's name (`category_us_core`), unique among the type's methods.
fn slice_method(list: &str, el: &Value, methods: &mut HashSet<String>) -> String {
    let slice = s(el, "sliceName");
    let mut method =
        format!("{}_{}", ident::snake(list).trim_start_matches("r#"), ident::snake(slice).trim_start_matches("r#"));
    while !methods.insert(method.clone()) {
        method.push_str("_slice");
    }
    method
}

/// A slice of the resource's repeating element `list` (`sliced`) discriminated by the type of
/// the resource its items hold, or by a profile its references' targets meet (`resolve()`).
fn kind_slice(
    elements: &[&Value],
    base_type: &str,
    list: &str,
    sliced: &Value,
    el: &Value,
    methods: &mut HashSet<String>,
) -> Option<KindSlice> {
    let [d] = sliced.get("slicing")?.get("discriminator")?.as_array()?.as_slice() else { return None };
    let by = match (s(d, "type"), s(d, "path")) {
        ("profile", "resolve()" | "$this.resolve()") if types(sliced) == ["Reference"] => {
            let targets: Vec<String> = el
                .get("type")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.get("targetProfile")?.as_array())
                .flatten()
                .filter_map(Value::as_str)
                .map(|u| u.split('|').next().unwrap_or(u).to_string())
                .collect();
            if targets.is_empty() {
                return None;
            }
            SliceKind::Profile(targets)
        }
        ("type", _) => match super::deep::type_slice(elements, sliced, el)? {
            super::deep::SliceDef::ResourceType(_, member, resource_type) => {
                SliceKind::ResourceType { member: ident::snake(&member), resource_type }
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(KindSlice {
        path: s(el, "id").to_string(),
        item_type: item_type(base_type, list, sliced)?,
        method: slice_method(list, el, methods),
        field: ident::snake(list),
        by,
        min: el.get("min").and_then(Value::as_u64).unwrap_or(0) as usize,
        max: max_of(el),
        doc: s(el, "short").to_string(),
    })
}

/// Names every resource profile of the package, uniquely.
pub(crate) fn names<'a>(sds: &[&'a Value], used: &mut HashSet<String>) -> Vec<(&'a Value, String)> {
    let mut out: Vec<(&Value, String)> = Vec::new();
    for sd in sds {
        out.push((sd, unique(used, type_name_of(sd, "Profile"))));
    }
    out
}
