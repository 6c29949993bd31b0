//! Trims an official definitions package to what generation reads, as one compact Bundle.
//!
//! The result stays in the official format (it is the same resources with fewer members), so it
//! can be vendored and read back by [`defs`](crate::defs) quickly, even by an unoptimized build
//! script.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::defs::Definitions;
use crate::Error;

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    if path.is_dir() {
        let rd = std::fs::read_dir(path).map_err(|e| Error::new(format!("reading {}: {e}", path.display())))?;
        for e in rd.flatten() {
            collect_files(&e.path(), out)?;
        }
    } else if path.extension().is_some_and(|x| x == "json") {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn keep(v: &Value, keys: &[&str]) -> Value {
    let mut m = Map::new();
    if let Value::Object(o) = v {
        for k in keys {
            if let Some(x) = o.get(*k) {
                m.insert((*k).to_string(), x.clone());
            }
        }
    }
    Value::Object(m)
}

fn trim_concepts(concepts: &Value) -> Value {
    Value::Array(
        concepts
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let mut t = keep(c, &["code", "display"]);
                if let Some(sub) = c.get("concept") {
                    t["concept"] = trim_concepts(sub);
                }
                t
            })
            .collect(),
    )
}

fn trim_element(el: &Value) -> Value {
    let mut t = keep(
        el,
        &[
            "id",
            "path",
            "name",
            "short",
            "min",
            "max",
            "contentReference",
            "nameReference",
            "representation",
            "isModifier",
            "isSummary",
        ],
    );
    if let Some(types) = el.get("type").and_then(Value::as_array) {
        let types: Vec<Value> = types
            .iter()
            .map(|ty| {
                let code = ty.get("code").and_then(Value::as_str).unwrap_or("");
                if code == "Reference" {
                    keep(ty, &["code", "profile", "targetProfile"])
                } else {
                    keep(ty, &["code", "targetProfile"])
                }
            })
            .collect();
        t["type"] = Value::Array(types);
    }
    if let Some(b) = el.get("binding") {
        if b.get("strength").and_then(Value::as_str) == Some("required") {
            t["binding"] = keep(b, &["strength", "valueSet", "valueSetReference", "valueSetUri"]);
        }
    }
    t
}

/// Adds the StructureDefinitions and code-list ValueSets derived from the DSTU2 schemas, and
/// files each required binding's codes under the URL its StructureDefinition names.
fn add_schema_definitions(defs: &mut Definitions, dir: &Path) -> Result<(), Error> {
    let have: Vec<String> =
        defs.structures.iter().filter_map(|sd| sd.get("name").and_then(Value::as_str).map(String::from)).collect();
    let derived = crate::xsd::derive(dir, &have)?;
    let mut by_url: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for sd in &defs.structures {
        for el in sd.get("snapshot").and_then(|s| s.get("element")).and_then(Value::as_array).into_iter().flatten() {
            let Some(b) = el.get("binding") else { continue };
            if b.get("strength").and_then(Value::as_str) != Some("required") {
                continue;
            }
            let Some(url) = b.get("valueSetReference").and_then(|r| r.get("reference")).and_then(Value::as_str) else {
                continue;
            };
            let path = el.get("path").and_then(Value::as_str).unwrap_or("");
            // The schema's list for this element; else the list named like the ValueSet
            // (`.../ValueSet/administrative-gender` → `AdministrativeGender-list`): some schema
            // elements are typed plain `code` although a list for their value set exists.
            let by_path = derived.code_lists_by_path.get(path).map(|u| &derived.value_sets[u]);
            let by_name =
                || derived.code_lists_by_name.get(&crate::ident::upper_camel(url.rsplit('/').next().unwrap_or("")));
            if let Some(list) = by_path.or_else(by_name) {
                let mut vs = list.clone();
                vs["url"] = Value::String(url.to_string());
                by_url.entry(url.to_string()).or_insert(vs);
            }
        }
    }
    defs.structures.extend(derived.structures);
    defs.value_sets.extend(derived.value_sets.into_values());
    defs.value_sets.extend(by_url.into_values());
    Ok(())
}

fn canonical(url: &str) -> &str {
    url.split('|').next().unwrap_or(url)
}

/// Reads the files and folders given and returns the trimmed Bundle as JSON text, one resource per line.
/// `xsd`: a folder of the official DSTU2 schemas, to derive what DSTU2's packaged profiles lack
/// (see [`xsd`](crate::xsd)).
pub fn trim(paths: &[PathBuf], xsd: Option<&Path>) -> Result<String, Error> {
    let mut files = Vec::new();
    for p in paths {
        collect_files(p, &mut files)?;
    }
    files.sort();
    let mut defs = Definitions::default();
    for f in &files {
        let text = std::fs::read(f).map_err(|e| Error::new(format!("reading {}: {e}", f.display())))?;
        // Packages hold other JSON (package.json, indexes): skip what is not a resource.
        if let Ok(v) = serde_json::from_slice::<Value>(&text) {
            defs.add(v);
        }
    }
    if let Some(dir) = xsd {
        add_schema_definitions(&mut defs, dir)?;
    }
    let model_ok = crate::defs::build_model(&defs)?;
    let mut out: Vec<Value> = Vec::new();
    let mut bound: HashSet<String> = HashSet::new();
    let type_names: HashSet<String> = model_ok.structs.iter().map(|s| s.path.clone()).collect();
    for sd in &defs.structures {
        let name = sd.get("type").or_else(|| sd.get("name")).and_then(Value::as_str).unwrap_or("");
        let kind = sd.get("kind").and_then(Value::as_str).unwrap_or("");
        let wanted = type_names.contains(name)
            && sd.get("constrainedType").is_none()
            && sd.get("derivation").and_then(Value::as_str) != Some("constraint")
            || (kind == "primitive-type" && sd.get("derivation").and_then(Value::as_str) != Some("constraint"));
        if !wanted {
            continue;
        }
        let mut t = keep(
            sd,
            &[
                "resourceType",
                "id",
                "url",
                "name",
                "type",
                "kind",
                "abstract",
                "derivation",
                "baseDefinition",
                "base",
                "fhirVersion",
                "publisher",
            ],
        );
        let elements: Vec<Value> = sd
            .get("snapshot")
            .and_then(|s| s.get("element"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|el| {
                if let Some(b) = el.get("binding") {
                    let url = b
                        .get("valueSet")
                        .and_then(Value::as_str)
                        .or_else(|| b.get("valueSetReference").and_then(|r| r.get("reference")).and_then(Value::as_str))
                        .or_else(|| b.get("valueSetUri").and_then(Value::as_str));
                    if let (Some(u), Some("required")) = (url, b.get("strength").and_then(Value::as_str)) {
                        bound.insert(canonical(u).to_string());
                    }
                }
                trim_element(el)
            })
            .collect();
        t["snapshot"] = serde_json::json!({ "element": elements });
        out.push(t);
    }
    // Value sets reachable from required bindings, and the code systems they draw on.
    let mut vs_keep: Vec<&Value> = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: Vec<String> = bound.into_iter().collect();
    queue.sort();
    let mut systems: HashSet<String> = HashSet::new();
    while let Some(url) = queue.pop() {
        if !seen.insert(url.clone()) {
            continue;
        }
        let Some(vs) =
            defs.value_sets.iter().find(|v| v.get("url").and_then(Value::as_str).map(canonical) == Some(url.as_str()))
        else {
            continue;
        };
        vs_keep.push(vs);
        if let Some(compose) = vs.get("compose") {
            for imp in compose.get("import").and_then(Value::as_array).into_iter().flatten() {
                if let Some(u) = imp.as_str() {
                    queue.push(canonical(u).to_string());
                }
            }
            for part in ["include", "exclude"] {
                for inc in compose.get(part).and_then(Value::as_array).into_iter().flatten() {
                    if let Some(sys) = inc.get("system").and_then(Value::as_str) {
                        systems.insert(sys.to_string());
                    }
                    match inc.get("valueSet") {
                        Some(Value::String(u)) => queue.push(canonical(u).to_string()),
                        Some(Value::Array(a)) => {
                            queue.extend(a.iter().filter_map(Value::as_str).map(|u| canonical(u).to_string()))
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    vs_keep.sort_by_key(|v| v.get("url").and_then(Value::as_str).unwrap_or("").to_string());
    for vs in vs_keep {
        let mut t = keep(vs, &["resourceType", "id", "url", "name", "title", "compose"]);
        if let Some(cs) = vs.get("codeSystem") {
            let mut c = keep(cs, &["system"]);
            if let Some(concepts) = cs.get("concept") {
                c["concept"] = trim_concepts(concepts);
            }
            t["codeSystem"] = c;
        }
        out.push(t);
    }
    let mut cs_keep: Vec<&Value> = defs
        .code_systems
        .iter()
        .filter(|c| c.get("url").and_then(Value::as_str).is_some_and(|u| systems.contains(u)))
        .collect();
    cs_keep.sort_by_key(|v| v.get("url").and_then(Value::as_str).unwrap_or("").to_string());
    for cs in cs_keep {
        let mut t = keep(cs, &["resourceType", "id", "url", "name", "content"]);
        if let Some(concepts) = cs.get("concept") {
            t["concept"] = trim_concepts(concepts);
        }
        out.push(t);
    }
    let mut sps: Vec<&Value> = defs.search_params.iter().collect();
    sps.sort_by_key(|v| v.get("url").and_then(Value::as_str).unwrap_or("").to_string());
    for sp in sps {
        out.push(keep(
            sp,
            &[
                "resourceType",
                "id",
                "url",
                "name",
                "code",
                "base",
                "type",
                "target",
                "expression",
                "description",
                "component",
                "modifier",
                "comparator",
                "multipleOr",
                "multipleAnd",
                "chain",
            ],
        ));
    }
    let mut text = String::from("{\"resourceType\":\"Bundle\",\"type\":\"collection\",\"entry\":[\n");
    for (i, r) in out.iter().enumerate() {
        if i > 0 {
            text.push_str(",\n");
        }
        text.push_str("{\"resource\":");
        text.push_str(&serde_json::to_string(r).map_err(|e| Error::new(e.to_string()))?);
        text.push('}');
    }
    text.push_str("\n]}\n");
    Ok(text)
}
