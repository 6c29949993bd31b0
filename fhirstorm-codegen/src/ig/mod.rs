//! Implementation guides: a FHIR package's extension definitions (and, as this grows, its
//! profiles) into typed Rust over a base version's generated models.
//!
//! The package's StructureDefinitions carry snapshots, so everything is read from them: no base
//! definitions are needed, the generated code names the base version's types the way
//! fhirstorm-codegen names them (`Coding`, `Extension`, `ExtensionValue::Coding`), and the
//! compiler checks the match.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::ident;
use crate::package::Package;
use crate::Error;

mod deep;
mod element;
mod emit;
mod emit_profiles;
mod emit_slices;
mod profiles;
mod search;
mod terminology;
mod tokens;

use profiles::ProfileDef;
pub use terminology::MAX_EXPANSION;

/// Configures the generation of an implementation guide's types (the CLI's `profiles`).
///
/// ```no_run
/// fhirstorm_codegen::Profiles::new()
///     .package("fhir-packages/hl7.fhir.au.base-6.0.0.tgz")
///     .out_file(std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("au_base.rs"))
///     .generate()
///     .unwrap();
/// ```
///
/// The output is one file for `include!` inside a module of the user's crate
/// (`mod au_base { include!(concat!(env!("OUT_DIR"), "/au_base.rs")); }`); its
/// `extensions` module has a type per extension definition of the package.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    package: Option<PathBuf>,
    out_file: Option<PathBuf>,
    runtime: Option<String>,
    base: Option<String>,
}

impl Profiles {
    /// A configuration with nothing set.
    pub fn new() -> Profiles {
        Profiles::default()
    }

    /// The package: its npm-format `.tgz` as published, or the unpacked folder.
    pub fn package(&mut self, path: impl AsRef<Path>) -> &mut Profiles {
        self.package = Some(path.as_ref().to_path_buf());
        self
    }

    /// The Rust file to write.
    pub fn out_file(&mut self, file: impl AsRef<Path>) -> &mut Profiles {
        self.out_file = Some(file.as_ref().to_path_buf());
        self
    }

    /// Where the generated code finds fhirstorm (default `::fhirstorm`).
    pub fn runtime_path(&mut self, path: impl Into<String>) -> &mut Profiles {
        self.runtime = Some(path.into());
        self
    }

    /// The module of the base version's models (default: the runtime path and the version of
    /// the package's `fhirVersions`, e.g. `::fhirstorm::r4`).
    pub fn base_path(&mut self, path: impl Into<String>) -> &mut Profiles {
        self.base = Some(path.into());
        self
    }

    /// Reads the package and returns the generated source.
    pub fn render(&self) -> Result<String, Error> {
        let path = self.package.as_ref().ok_or_else(|| Error::new("no package set"))?;
        let pkg = Package::read(path)?;
        // The message may quote the package's text: one line, no control characters.
        self.render_package(&pkg)
            .map_err(|e| Error::new(format!("{}: {}", path.display(), crate::doc_text::one_line(&e.to_string()))))
    }

    /// Returns the generated source for a package already read (or built in memory); the
    /// package set with [`package`](Profiles::package) is not read.
    pub fn render_package(&self, pkg: &Package) -> Result<String, Error> {
        let guide = build(pkg)?;
        let runtime = self.runtime.clone().unwrap_or_else(|| "::fhirstorm".to_string());
        let base = match &self.base {
            Some(b) => b.clone(),
            None => {
                let version = pkg.fhir_versions.first().ok_or_else(|| {
                    Error::new(format!("{}: package.json names no fhirVersions; set the base path", pkg.id()))
                })?;
                format!("{runtime}::{}", crate::ident::marker_for(version).to_ascii_lowercase())
            }
        };
        emit::render(&guide, &runtime, &base)
    }

    /// Generates and writes the output file (only when its content changes).
    pub fn generate(&self) -> Result<(), Error> {
        let out = self.out_file.as_ref().ok_or_else(|| Error::new("no output file set"))?;
        crate::emit::write_if_changed(out, &self.render()?)
    }
}

/// What is generated for one package.
#[derive(Debug)]
pub(crate) struct Guide {
    /// `name@version`.
    pub package: String,
    /// Extension definitions, by Rust name.
    pub extensions: Vec<ExtensionDef>,
    /// Resource profiles.
    pub profiles: Vec<ProfileDef>,
    /// Search parameters.
    pub search_params: Vec<search::SearchParamDef>,
}

/// One extension definition.
#[derive(Debug)]
pub(crate) struct ExtensionDef {
    /// Rust type name.
    pub name: String,
    /// Canonical URL.
    pub url: String,
    /// Title or short description.
    pub doc: String,
    /// Where it may be used (`Patient`, `Address`).
    pub contexts: Vec<String>,
    /// Whether it is a modifier extension.
    pub modifier: bool,
    /// Its shape.
    pub shape: Shape,
}

/// A simple extension (a value) or a complex one (sub-extensions).
#[derive(Debug)]
pub(crate) enum Shape {
    /// The FHIR types the value may have, and the `value[x]` element id.
    Simple(Vec<String>, String),
    /// Sub-extensions, in definition order.
    Complex(Vec<SubExtension>),
}

/// One named sub-extension of a complex extension.
#[derive(Debug)]
pub(crate) struct SubExtension {
    /// Its `url` inside the extension (the slice name, or an extension's canonical URL).
    pub url: String,
    /// The slice name.
    pub slice: String,
    /// Rust field name.
    pub field: String,
    /// Short description.
    pub doc: String,
    /// Cardinality.
    pub min: usize,
    /// `None` for `*`.
    pub max: Option<usize>,
    /// The element id errors name.
    pub path: String,
    /// What it holds.
    pub kind: SubKind,
}

/// What a sub-extension holds.
#[derive(Debug)]
pub(crate) enum SubKind {
    /// A value of one of these FHIR types; the enum's Rust name when there are several.
    Value(Vec<String>, Option<String>),
    /// Another extension of this package, by Rust name.
    Typed(String),
    /// Sub-extensions of its own: a struct by Rust name, and its fields.
    Nested(String, Vec<SubExtension>),
    /// A generic `Extension`, and why (a definition absent from the package).
    Raw(String),
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn types(el: &Value) -> Vec<String> {
    el.get("type").and_then(Value::as_array).into_iter().flatten().map(|t| s(t, "code").to_string()).collect()
}

fn type_profiles(el: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for t in el.get("type").and_then(Value::as_array).into_iter().flatten() {
        match t.get("profile") {
            Some(Value::Array(a)) => out.extend(a.iter().filter_map(Value::as_str).map(str::to_string)),
            Some(Value::String(p)) => out.push(p.clone()),
            _ => {}
        }
    }
    out
}

fn max_of(el: &Value) -> Option<usize> {
    s(el, "max").parse().ok()
}

fn is_extension_definition(sd: &Value) -> bool {
    s(sd, "resourceType") == "StructureDefinition"
        && s(sd, "type") == "Extension"
        && s(sd, "derivation") == "constraint"
}

/// Builds what is generated for a package.
pub(crate) fn build(pkg: &Package) -> Result<Guide, Error> {
    let sds: Vec<&Value> = pkg.resources.iter().map(|(_, v)| v).filter(|v| is_extension_definition(v)).collect();
    // Names first, so that sub-extensions can refer to any extension of the package.
    let mut used = HashSet::new();
    let mut names: HashMap<&str, String> = HashMap::new();
    let mut ordered: Vec<&Value> = sds.clone();
    ordered.sort_by(|a, b| s(a, "url").cmp(s(b, "url")));
    for sd in &ordered {
        names.insert(s(sd, "url"), unique(&mut used, type_name_of(sd, "Ext")));
    }
    let mut extensions = Vec::new();
    for sd in ordered {
        extensions.push(extension(sd, &names, &mut used)?);
    }
    let mut resource_profiles: Vec<&Value> =
        pkg.resources.iter().map(|(_, v)| v).filter(|v| profiles::is_profile(v)).collect();
    resource_profiles.sort_by(|a, b| s(a, "url").cmp(s(b, "url")));
    let mut profile_names = HashSet::new();
    let of_type = |t: &'static str| pkg.resources.iter().map(|(_, v)| v).filter(move |v| s(v, "resourceType") == t);
    let terminology = terminology::Terminology {
        value_sets: of_type("ValueSet").map(|v| (s(v, "url"), v)).collect(),
        code_systems: of_type("CodeSystem").map(|v| (s(v, "url"), v)).collect(),
    };
    let profiles = profiles::names(&resource_profiles, &mut profile_names)
        .into_iter()
        .filter_map(|(sd, name)| profiles::profile(sd, name, &names, &terminology))
        .collect();
    let search_params = search::read(pkg.resources.iter().map(|(_, v)| v));
    Ok(Guide { package: pkg.id(), extensions, profiles, search_params })
}

fn extension(sd: &Value, names: &HashMap<&str, String>, used: &mut HashSet<String>) -> Result<ExtensionDef, Error> {
    let url = s(sd, "url");
    let name = names[url].clone();
    let elements: Vec<&Value> = sd
        .get("snapshot")
        .and_then(|x| x.get("element"))
        .and_then(Value::as_array)
        .ok_or_else(|| Error::new(format!("extension {url} has no snapshot")))?
        .iter()
        .collect();
    let id = |el: &Value| s(el, "id").to_string();
    let root = elements.first().copied().unwrap_or(&Value::Null);
    let doc = [s(sd, "title"), s(root, "short"), s(sd, "name")].into_iter().find(|t| !t.is_empty()).unwrap_or("");
    let contexts = sd
        .get("context")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|c| if c.is_string() { c.as_str().unwrap_or("").to_string() } else { s(c, "expression").to_string() })
        .collect();
    let value = elements.iter().find(|e| id(e) == "Extension.value[x]").filter(|v| s(v, "max") != "0");
    let shape = if let Some(value) = value {
        let t = types(value);
        if t.is_empty() {
            return Err(Error::new(format!("extension {url}: Extension.value[x] has no type")));
        }
        Shape::Simple(t, id(value))
    } else {
        Shape::Complex(sub_extensions(&elements, "Extension", &name, names, used))
    };
    Ok(ExtensionDef {
        name,
        url: url.to_string(),
        doc: doc.trim().to_string(),
        contexts,
        modifier: root.get("isModifier").and_then(Value::as_bool).unwrap_or(false),
        shape,
    })
}

/// A StructureDefinition's Rust type name, from its `name` (or `id`); `prefix` goes before a
/// leading digit.
fn type_name_of(sd: &Value, prefix: &str) -> String {
    let name = ident::type_name(if s(sd, "name").is_empty() { s(sd, "id") } else { s(sd, "name") });
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{prefix}{name}")
    } else {
        name
    }
}

/// How deep a complex extension's sub-extensions become typed fields.
const MAX_NESTING: usize = 16;

fn unique(used: &mut HashSet<String>, want: String) -> String {
    let mut name = want.clone();
    let mut i = 2;
    while !used.insert(name.clone()) {
        name = format!("{want}{i}");
        i += 1;
    }
    name
}

/// The named sub-extensions (slices of `{parent}.extension`) of the extension element whose id is
/// `parent`; `owner` is the Rust name of the type they become fields of.
fn sub_extensions(
    elements: &[&Value],
    parent: &str,
    owner: &str,
    names: &HashMap<&str, String>,
    used: &mut HashSet<String>,
) -> Vec<SubExtension> {
    if parent.matches(".extension:").count() >= MAX_NESTING {
        // Deeper sub-extensions are kept as read, in the type's `other`.
        return Vec::new();
    }
    let id = |el: &Value| s(el, "id").to_string();
    let slice_prefix = format!("{parent}.extension:");
    let mut subs = Vec::new();
    let mut fields = HashSet::from(["other".to_string()]);
    for slice in elements.iter().filter(|e| id(e).strip_prefix(&slice_prefix).is_some_and(|rest| !rest.contains('.'))) {
        let slice_name = s(slice, "sliceName");
        let prefix = format!("{}.", id(slice));
        let child = |leaf: &str| elements.iter().find(|e| id(e) == format!("{prefix}{leaf}")).copied();
        let profiles = type_profiles(slice);
        let sub_url = child("url")
            .and_then(|u| u.get("fixedUri").and_then(Value::as_str))
            .map(str::to_string)
            .or_else(|| profiles.first().cloned())
            .unwrap_or_else(|| slice_name.to_string());
        let value = child("value[x]").filter(|v| s(v, "max") != "0");
        let nested = elements.iter().any(|e| id(e).starts_with(&format!("{prefix}extension:")));
        let untyped = value.is_some_and(|v| types(v).is_empty());
        let kind = if let Some(profile) = profiles.first() {
            match names.get(profile.split('|').next().unwrap_or(profile)) {
                Some(n) => SubKind::Typed(n.clone()),
                None => SubKind::Raw(format!("its definition, `{profile}`, is not in the package")),
            }
        } else if untyped && !nested {
            SubKind::Raw("its `value[x]` has no type".to_string())
        } else if let (Some(value), false) = (value, nested) {
            let t = types(value);
            let enum_name = (t.len() > 1).then(|| unique(used, format!("{owner}{}", ident::type_name(slice_name))));
            SubKind::Value(t, enum_name)
        } else {
            let name = unique(used, format!("{owner}{}", ident::type_name(slice_name)));
            let inner = sub_extensions(elements, &id(slice), &name, names, used);
            SubKind::Nested(name, inner)
        };
        let mut field = ident::snake(slice_name);
        if field.starts_with(|c: char| c.is_ascii_digit()) {
            field = format!("n{field}");
        }
        while !fields.insert(field.clone()) {
            field.push('_');
        }
        let path = value.map(&id).unwrap_or_else(|| id(slice));
        subs.push(SubExtension {
            url: sub_url,
            slice: slice_name.to_string(),
            field,
            doc: s(slice, "short").to_string(),
            min: slice.get("min").and_then(Value::as_u64).unwrap_or(0) as usize,
            max: max_of(slice),
            path,
            kind,
        });
    }
    subs
}
