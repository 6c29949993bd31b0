//! Reads official FHIR definitions (StructureDefinitions, ValueSets, CodeSystems, SearchParameters)
//! in the DSTU2, STU3 and R4 formats into the version-neutral [`Model`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::Value;

use crate::ident;
use crate::ir::*;
use crate::Error;

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

/// Most codes a required binding may have and still become an enum.
const MAX_CODES: usize = 500;

struct Builder<'d> {
    defs: &'d Definitions,
    value_sets: HashMap<&'d str, &'d Value>,
    code_systems: HashMap<&'d str, &'d Value>,
    model: Model,
    code_index: HashMap<String, Option<usize>>,
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
    mark_boxes(&mut b.model);
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
                variants.push(Variant { suffix: ident::type_name(&t.code), ty: vty, targets: t.targets.clone() });
            }
            let name = self.unique_name(format!("{owner}{}", ident::type_name(&json)));
            self.model.choices.push(Choice { name, json: json.clone(), doc: short_doc(el), variants });
            Ty::Choice(self.model.choices.len() - 1)
        } else {
            let t = types.first().ok_or_else(|| Error::new(format!("{path}: element has no type")))?;
            if types.len() > 1 {
                return Err(Error::new(format!("{path}: several types on a non-choice element")));
            }
            targets = t.targets.clone();
            // `Resource.id` is a plain string in every version (R4 says so through System.String).
            let plain = xml_attr || (kind == StructKind::Resource && parent == root && json == "id");
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

    /// The index of the code enum for a ValueSet, creating it when the codes can be listed.
    fn code_enum(&mut self, url: &str) -> Option<usize> {
        if let Some(i) = self.code_index.get(url) {
            return *i;
        }
        let mut visiting = HashSet::new();
        let expanded = self.expand(url, &mut visiting).filter(|c| !c.is_empty() && c.len() <= MAX_CODES);
        let idx = expanded.map(|codes| {
            let vs = self.value_sets[url];
            let title = if s(vs, "name").is_empty() { profile_type(url) } else { s(vs, "name").to_string() };
            let name = ident::upper_camel(&title);
            let mut name = if name.is_empty() { "Codes".to_string() } else { name };
            if name.starts_with(|c: char| c.is_ascii_digit()) {
                name = format!("Code{name}");
            }
            let name = self.unique_name(format!("codes::{name}"));
            let doc = s(vs, "title").to_string();
            let doc = if doc.is_empty() { title } else { doc };
            self.model.codes.push(CodeEnum {
                name: name.trim_start_matches("codes::").to_string(),
                url: url.to_string(),
                doc,
                codes,
            });
            self.model.codes.len() - 1
        });
        self.code_index.insert(url.to_string(), idx);
        idx
    }

    fn expand(&self, url: &str, visiting: &mut HashSet<String>) -> Option<Vec<(String, String)>> {
        if !visiting.insert(url.to_string()) {
            return None;
        }
        let vs = self.value_sets.get(url)?;
        let mut out: Vec<(String, String)> = Vec::new();
        // DSTU2: codes defined inline.
        if let Some(cs) = vs.get("codeSystem") {
            flatten_concepts(cs.get("concept"), &mut out);
        }
        if let Some(compose) = vs.get("compose") {
            if compose.get("exclude").is_some() {
                return None;
            }
            for imp in compose.get("import").and_then(Value::as_array).into_iter().flatten() {
                out.extend(self.expand(canonical(imp.as_str()?), visiting)?);
            }
            for inc in compose.get("include").and_then(Value::as_array).into_iter().flatten() {
                if inc.get("filter").is_some() {
                    return None;
                }
                for v in inc.get("valueSet").map(one_or_many).into_iter().flatten() {
                    out.extend(self.expand(canonical(v.as_str()?), visiting)?);
                }
                let system = s(inc, "system");
                if let Some(concepts) = inc.get("concept").and_then(Value::as_array) {
                    let cs = self.code_systems.get(system);
                    for c in concepts {
                        let code = s(c, "code").to_string();
                        let mut display = s(c, "display").to_string();
                        if display.is_empty() {
                            if let Some(cs) = cs {
                                display = find_display(cs.get("concept"), &code).unwrap_or_default();
                            }
                        }
                        out.push((code, display));
                    }
                } else if !system.is_empty() {
                    let cs = self.code_systems.get(system)?;
                    if matches!(s(cs, "content"), "not-present" | "example" | "fragment") {
                        return None;
                    }
                    let before = out.len();
                    flatten_concepts(cs.get("concept"), &mut out);
                    if out.len() == before {
                        return None;
                    }
                }
            }
        }
        let mut seen = HashSet::new();
        out.retain(|(c, _)| seen.insert(c.clone()));
        visiting.remove(url);
        Some(out)
    }

    fn search_params(&mut self) {
        if self.defs.search_params.is_empty() {
            // No SearchParameter resources (DSTU2 in every registry package): only the two
            // parameters the specification's search page defines for every resource.
            for (code, kind, doc) in [
                ("_id", "token", "The logical id of the resource (common to all resources)"),
                ("_lastUpdated", "date", "When the resource version last changed (common to all resources)"),
            ] {
                self.model.search_params.push(SearchParam {
                    base: vec!["Resource".into()],
                    code: code.into(),
                    kind: kind.into(),
                    doc: doc.into(),
                    expression: String::new(),
                    targets: Vec::new(),
                    components: Vec::new(),
                });
            }
        }
        // Composite components name their parameters by canonical URL.
        let mut kinds: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        for sp in &self.defs.search_params {
            let kind = s(sp, "type").to_string();
            let url = s(sp, "url");
            if !url.is_empty() {
                kinds.insert(url.to_string(), kind.clone());
            }
            let id = s(sp, "id");
            if !id.is_empty() {
                kinds.insert(format!("http://hl7.org/fhir/SearchParameter/{id}"), kind);
            }
        }
        for sp in &self.defs.search_params {
            let base: Vec<String> = sp
                .get("base")
                .map(one_or_many)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            let targets: Vec<String> = sp
                .get("target")
                .map(one_or_many)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(String::from))
                .collect();
            let mut components: Vec<String> = Vec::new();
            for c in sp.get("component").map(one_or_many).into_iter().flatten() {
                // `definition` is a canonical URL (R4) or a Reference to one (STU3).
                let def = c.get("definition");
                let url = def
                    .and_then(|d| d.as_str())
                    .or_else(|| def.and_then(|d| d.get("reference")).and_then(|r| r.as_str()));
                match url.and_then(|u| kinds.get(u)) {
                    Some(k) => components.push(k.clone()),
                    None => {
                        components.clear();
                        break;
                    }
                }
            }
            self.model.search_params.push(SearchParam {
                base,
                components,
                code: s(sp, "code").to_string(),
                kind: s(sp, "type").to_string(),
                doc: s(sp, "description").to_string(),
                expression: s(sp, "expression").to_string(),
                targets,
            });
        }
    }
}

fn one_or_many(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

fn flatten_concepts(concepts: Option<&Value>, out: &mut Vec<(String, String)>) {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        out.push((s(c, "code").to_string(), s(c, "display").to_string()));
        flatten_concepts(c.get("concept"), out);
    }
}

fn find_display(concepts: Option<&Value>, code: &str) -> Option<String> {
    for c in concepts.and_then(Value::as_array).into_iter().flatten() {
        if s(c, "code") == code {
            return Some(s(c, "display").to_string());
        }
        if let Some(d) = find_display(c.get("concept"), code) {
            return Some(d);
        }
    }
    None
}

/// Boxes the single-valued fields that close a containment cycle (prost's message graph idea):
/// a field is boxed when its type lies in the same strongly connected component as its owner.
fn mark_boxes(model: &mut Model) {
    let index: HashMap<&str, usize> = model.structs.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let edges: Vec<Vec<usize>> = model
        .structs
        .iter()
        .map(|s| {
            s.fields
                .iter()
                .filter(|f| !f.many)
                .filter_map(|f| match &f.ty {
                    Ty::Struct(n) => index.get(n.as_str()).copied(),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let comp = tarjan(&edges);
    let comps: Vec<usize> = comp;
    let names: Vec<String> = model.structs.iter().map(|s| s.name.clone()).collect();
    for (i, st) in model.structs.iter_mut().enumerate() {
        for f in st.fields.iter_mut().filter(|f| !f.many) {
            if let Ty::Struct(n) = &f.ty {
                if let Some(&j) = names.iter().position(|x| x == n).as_ref() {
                    f.boxed = comps[i] == comps[j];
                }
            }
        }
    }
}

/// Strongly connected components: the component number of each node.
fn tarjan(edges: &[Vec<usize>]) -> Vec<usize> {
    struct T<'a> {
        edges: &'a [Vec<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        comp: Vec<usize>,
        next: usize,
        ncomp: usize,
    }
    impl T<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            for &w in &self.edges[v] {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    _ => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    self.comp[w] = self.ncomp;
                    if w == v {
                        break;
                    }
                }
                self.ncomp += 1;
            }
        }
    }
    let n = edges.len();
    let mut t = T {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        comp: vec![0; n],
        next: 0,
        ncomp: 0,
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.comp
}
