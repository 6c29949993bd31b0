//! Reads official FHIR definitions (StructureDefinitions, ValueSets, CodeSystems, SearchParameters)
//! in the DSTU2, STU3 and R4 formats into the version-neutral [`Model`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::ident;
use crate::ir::*;
use crate::Error;

mod codes;
mod recursion;
mod search;

/// Raw conformance resources, by kind.
#[derive(Default)]
pub struct Definitions {
    /// StructureDefinitions.
    pub structures: Vec<Value>,
    /// ValueSets.
    pub value_sets: Vec<Value>,
    /// CodeSystems.
    pub code_systems: Vec<Value>,
    /// SearchParameters.
    pub search_params: Vec<Value>,
}

impl Definitions {
    /// Reads every `*.json` file in `dir` (single resources or Bundles), sorted by name.
    pub fn read_dir(dir: &Path) -> Result<Definitions, Error> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::new(format!("reading {}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut defs = Definitions::default();
        for f in files {
            let text = std::fs::read(&f).map_err(|e| Error::new(format!("reading {}: {e}", f.display())))?;
            let v: Value =
                serde_json::from_slice(&text).map_err(|e| Error::new(format!("parsing {}: {e}", f.display())))?;
            defs.add(v);
        }
        Ok(defs)
    }

    /// Adds a resource, unpacking Bundles.
    pub fn add(&mut self, v: Value) {
        match v["resourceType"].as_str() {
            Some("Bundle") => {
                if let Value::Object(mut b) = v {
                    if let Some(Value::Array(entries)) = b.remove("entry") {
                        for mut e in entries {
                            if let Some(r) = e.get_mut("resource") {
                                self.add(r.take());
                            }
                        }
                    }
                }
            }
            Some("StructureDefinition") => self.structures.push(v),
            Some("ValueSet") => self.value_sets.push(v),
            Some("CodeSystem") => self.code_systems.push(v),
            Some("SearchParameter") => self.search_params.push(v),
            _ => {}
        }
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn canonical(url: &str) -> &str {
    url.split('|').next().unwrap_or(url)
}

/// The kind of a StructureDefinition, across formats.
#[derive(PartialEq, Eq, Clone, Copy, Debug)]
enum SdKind {
    Primitive,
    Complex,
    Resource,
}

/// Classifies a StructureDefinition: `None` for profiles, logical models, abstract bases.
fn classify(sd: &Value) -> Option<SdKind> {
    if sd.get("abstract").and_then(Value::as_bool) == Some(true) {
        return None;
    }
    // DSTU2 profiles carry `constrainedType`; STU3+ profiles `derivation: constraint`.
    if sd.get("constrainedType").is_some() || s(sd, "derivation") == "constraint" {
        return None;
    }
    let name = s(sd, "name");
    let ty = if sd.get("type").is_some() { s(sd, "type") } else { name };
    if matches!(ty, "Element" | "BackboneElement" | "Resource" | "DomainResource") {
        return None;
    }
    match s(sd, "kind") {
        "primitive-type" => Some(SdKind::Primitive),
        "complex-type" => Some(SdKind::Complex),
        "resource" => Some(SdKind::Resource),
        // DSTU2: `datatype` covers both; primitives start with a lower-case letter.
        "datatype" if ty.starts_with(|c: char| c.is_ascii_lowercase()) => Some(SdKind::Primitive),
        "datatype" => Some(SdKind::Complex),
        _ => None,
    }
}

/// The type name a StructureDefinition defines.
fn sd_type(sd: &Value) -> &str {
    if sd.get("type").is_some() {
        s(sd, "type")
    } else {
        s(sd, "name")
    }
}

/// Whether a definitions set is DSTU2's, STU3's, or later: derived from the declared version.
fn fhir_version(defs: &Definitions) -> String {
    defs.structures.iter().find_map(|sd| sd.get("fhirVersion").and_then(Value::as_str)).unwrap_or("").to_string()
}

/// Strips a StructureDefinition URL to the type name: `.../StructureDefinition/Patient` → `Patient`.
fn profile_type(url: &str) -> String {
    let url = canonical(url);
    url.rsplit('/').next().unwrap_or(url).to_string()
}

/// One element type entry: the code and its reference targets.
struct TypeRef {
    code: String,
    targets: Vec<String>,
}

fn element_types(el: &Value) -> Vec<TypeRef> {
    let mut out: Vec<TypeRef> = Vec::new();
    for t in el.get("type").and_then(Value::as_array).into_iter().flatten() {
        let mut code = s(t, "code").to_string();
        if code.is_empty() {
            // R4 encodes System types in an extension only on some elements.
            code = "http://hl7.org/fhirpath/System.String".to_string();
        }
        let mut targets = Vec::new();
        // R4: targetProfile array; STU3: targetProfile string; DSTU2: profile array on Reference.
        for key in ["targetProfile", "profile"] {
            if key == "profile" && code != "Reference" {
                continue;
            }
            match t.get(key) {
                Some(Value::String(u)) => targets.push(profile_type(u)),
                Some(Value::Array(a)) => targets.extend(a.iter().filter_map(Value::as_str).map(profile_type)),
                _ => {}
            }
        }
        if let Some(prev) = out.iter_mut().find(|p| p.code == code) {
            prev.targets.extend(targets);
        } else {
            out.push(TypeRef { code, targets });
        }
    }
    out
}

fn binding_url(el: &Value) -> Option<String> {
    let b = el.get("binding")?;
    if s(b, "strength") != "required" {
        return None;
    }
    let url = b
        .get("valueSet")
        .and_then(Value::as_str)
        .or_else(|| b.get("valueSetReference").and_then(|r| r.get("reference")).and_then(Value::as_str))
        .or_else(|| b.get("valueSetUri").and_then(Value::as_str))?;
    Some(canonical(url).to_string())
}

fn short_doc(el: &Value) -> String {
    s(el, "short").trim().to_string()
}

struct Builder<'d> {
    defs: &'d Definitions,
    value_sets: HashMap<&'d str, &'d Value>,
    code_systems: HashMap<&'d str, &'d Value>,
    model: Model,
    code_index: HashMap<String, Option<usize>>,
    coded_index: HashMap<String, Option<usize>>,
    names: HashSet<String>,
}

/// Builds the IR from raw definitions.
pub fn build_model(defs: &Definitions) -> Result<Model, Error> {
    let mut b = Builder {
        defs,
        value_sets: defs.value_sets.iter().map(|v| (canonical(s(v, "url")), v)).collect(),
        code_systems: defs.code_systems.iter().map(|v| (canonical(s(v, "url")), v)).collect(),
        model: Model { fhir_version: fhir_version(defs), ..Default::default() },
        code_index: HashMap::new(),
        coded_index: HashMap::new(),
        names: HashSet::new(),
    };
    // DSTU2 ValueSets define their codes inline (`codeSystem`): index those systems too.
    for vs in &defs.value_sets {
        if let Some(cs) = vs.get("codeSystem") {
            b.code_systems.entry(s(cs, "system")).or_insert(cs);
        }
    }

    let mut sds: Vec<(&Value, SdKind)> =
        defs.structures.iter().filter_map(|sd| classify(sd).map(|k| (sd, k))).collect();
    // Datatypes first, then resources, each by name: a stable order whatever the input order.
    sds.sort_by(|a, b| (a.1 == SdKind::Resource, sd_type(a.0)).cmp(&(b.1 == SdKind::Resource, sd_type(b.0))));
    let mut seen = HashSet::new();
    sds.retain(|(sd, _)| seen.insert(sd_type(sd).to_string()));
    for (sd, _) in &sds {
        b.names.insert(ident::type_name(sd_type(sd)));
    }
    for (sd, kind) in &sds {
        match kind {
            SdKind::Primitive => {}
            SdKind::Complex => b.structure(sd, StructKind::Datatype)?,
            SdKind::Resource => b.structure(sd, StructKind::Resource)?,
        }
    }
    b.search_params();
    recursion::mark_boxes(&mut b.model);
    Ok(b.model)
}

impl<'d> Builder<'d> {
    fn unique_name(&mut self, want: String) -> String {
        let mut name = want.clone();
        let mut n = 2;
        while !self.names.insert(name.clone()) {
            name = format!("{want}{n}");
            n += 1;
        }
        name
    }

    fn structure(&mut self, sd: &Value, kind: StructKind) -> Result<(), Error> {
        let ty = sd_type(sd);
        let elements: Vec<&Value> = sd
            .get("snapshot")
            .and_then(|x| x.get("element"))
            .and_then(Value::as_array)
            .ok_or_else(|| Error::new(format!("StructureDefinition {ty} has no snapshot")))?
            .iter()
            .collect();
        // Children by parent path, in order.
        let mut children: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
        let mut by_name: HashMap<&str, &str> = HashMap::new(); // DSTU2 nameReference
        for el in &elements {
            let path = s(el, "path");
            if let Some(n) = el.get("name").and_then(Value::as_str) {
                by_name.insert(n, path);
            }
            if let Some((parent, _)) = path.rsplit_once('.') {
                children.entry(parent.to_string()).or_default().push(el);
            }
        }
        // Struct names by path: the root, then every backbone element with children.
        let mut struct_names: HashMap<String, String> = HashMap::new();
        struct_names.insert(ty.to_string(), ident::type_name(ty));
        for el in &elements {
            let path = s(el, "path");
            if path != ty && children.contains_key(path) && el.get("contentReference").is_none() {
                let name: String = path.split('.').map(ident::type_name).collect();
                let name = self.unique_name(name);
                struct_names.insert(path.to_string(), name);
            }
        }
        let root_doc = elements.first().map(|e| short_doc(e)).unwrap_or_default();
        // Emit in path order: root, then backbones as they appear.
        let mut order = vec![ty.to_string()];
        for el in &elements {
            let p = s(el, "path");
            if p != ty && struct_names.contains_key(p) {
                order.push(p.to_string());
            }
        }
        for path in order {
            let el_doc = if path == ty {
                root_doc.clone()
            } else {
                elements.iter().find(|e| s(e, "path") == path).map(|e| short_doc(e)).unwrap_or_default()
            };
            let name = struct_names[&path].clone();
            let mut fields = Vec::new();
            for el in children.get(&path).map(Vec::as_slice).unwrap_or(&[]) {
                fields.push(self.field(el, &path, &name, ty, kind, &struct_names, &by_name)?);
            }
            let skind = if path == ty { kind } else { StructKind::Backbone };
            self.model.structs.push(Struct { name, path, kind: skind, doc: el_doc, fields });
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn field(
        &mut self,
        el: &Value,
        parent: &str,
        owner: &str,
        root: &str,
        kind: StructKind,
        struct_names: &HashMap<String, String>,
        by_name: &HashMap<&str, &str>,
    ) -> Result<Field, Error> {
        let path = s(el, "path");
        let last = &path[parent.len() + 1..];
        let (json, is_choice) = match last.strip_suffix("[x]") {
            Some(base) => (base.to_string(), true),
            None => (last.to_string(), false),
        };
        let max = s(el, "max");
        let many = max == "*" || max.parse::<u32>().is_ok_and(|m| m > 1);
        let min = el.get("min").and_then(Value::as_u64).unwrap_or(0) as u32;
        let types = element_types(el);
        let xml_attr =
            el.get("representation").and_then(Value::as_array).is_some_and(|r| r.iter().any(|x| x == "xmlAttr"));
        let mut targets = Vec::new();
        let mut binding = None;
        let ty = if let Some(r) = el.get("contentReference").and_then(Value::as_str) {
            let target = r.rsplit_once('#').map(|x| x.1).unwrap_or(r);
            Ty::Struct(
                struct_names
                    .get(target)
                    .ok_or_else(|| Error::new(format!("{path}: contentReference {r} not found")))?
                    .clone(),
            )
        } else if let Some(n) = el.get("nameReference").and_then(Value::as_str) {
            let target = by_name.get(n).ok_or_else(|| Error::new(format!("{path}: nameReference {n} not found")))?;
            Ty::Struct(struct_names[*target].clone())
        } else if let Some(name) = struct_names.get(path) {
            Ty::Struct(name.clone())
        } else if is_choice {
            let mut variants = Vec::new();
            for t in &types {
                let vty = self.type_of(&t.code, None, false, path)?;
                variants.push(Variant {
                    suffix: ident::type_name(&t.code),
                    code: t.code.clone(),
                    ty: vty,
                    targets: t.targets.clone(),
                });
            }
            let name = self.unique_name(format!("{owner}{}", ident::type_name(&json)));
            let path = path.strip_suffix("[x]").unwrap_or(path).to_string();
            self.model.choices.push(Choice { name, json: json.clone(), path, doc: short_doc(el), variants });
            Ty::Choice(self.model.choices.len() - 1)
        } else {
            let t = types.first().ok_or_else(|| Error::new(format!("{path}: element has no type")))?;
            if types.len() > 1 {
                return Err(Error::new(format!("{path}: several types on a non-choice element")));
            }
            targets = t.targets.clone();
            // `Resource.id` is a plain string in every version (R4 says so through System.String).
            let plain = xml_attr || (kind == StructKind::Resource && parent == root && json == "id");
            if matches!(t.code.as_str(), "Coding" | "CodeableConcept") {
                binding = binding_url(el).and_then(|url| self.coded_binding(&url));
            }
            self.type_of(&t.code, binding_url(el), plain, path)?
        };
        targets.sort();
        targets.dedup();
        Ok(Field {
            rust: ident::snake(&json),
            json,
            doc: short_doc(el),
            min,
            many,
            ty,
            modifier: el.get("isModifier").and_then(Value::as_bool).unwrap_or(false),
            summary: el.get("isSummary").and_then(Value::as_bool).unwrap_or(false),
            boxed: false,
            targets,
            binding,
        })
    }

    fn type_of(&mut self, code: &str, binding: Option<String>, plain: bool, path: &str) -> Result<Ty, Error> {
        if let Some(system) = code.strip_prefix("http://hl7.org/fhirpath/System.") {
            return match system {
                "String" => Ok(Ty::Plain),
                other => Err(Error::new(format!("{path}: unexpected System type {other}"))),
            };
        }
        if let Some(p) = Prim::from_code(code) {
            if plain || p == Prim::Xhtml {
                return Ok(Ty::Plain);
            }
            let codes = match (p, binding) {
                (Prim::Code, Some(url)) => self.code_enum(&url),
                _ => None,
            };
            return Ok(Ty::Prim(p, codes));
        }
        match code {
            "Resource" | "DomainResource" => Ok(Ty::Resource),
            _ => Ok(Ty::Struct(ident::type_name(code))),
        }
    }
}

pub(super) fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}
