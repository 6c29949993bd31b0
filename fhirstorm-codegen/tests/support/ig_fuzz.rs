//! The `ig_package` fuzz target's body, shared by `fuzz/` (libFuzzer) and the replay of its
//! seeds in `tests/fuzz_ig_package.rs`: the input's strings go into a small fixed package, whose
//! generated code must parse, have the items of the same package with clean strings, and keep
//! its doc comments free of Markdown code, HTML and links. Generation must never panic.

use std::collections::HashMap;
use std::sync::Mutex;

use fhirstorm_codegen::{Package, Profiles};
use serde_json::json;

use super::generated::{check_docs, shape};

/// The strings of an input: package name, version, extension URL, title, description, search
/// parameter code, split on NUL (missing ones are empty).
pub struct Strings<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub url: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub code: &'a str,
}

impl<'a> Strings<'a> {
    pub fn split(text: &'a str) -> Strings<'a> {
        let mut parts = text.split('\0');
        let mut next = || parts.next().unwrap_or("");
        Strings { name: next(), version: next(), url: next(), title: next(), description: next(), code: next() }
    }

    /// The same shape with clean strings; the code stays (it names a method).
    fn clean(&self) -> Strings<'a> {
        Strings {
            name: "example.fuzz",
            version: "1.0.0",
            url: "http://example.org/fhir/StructureDefinition/fuzz",
            title: "Fuzz",
            description: "A fuzzed extension.",
            code: self.code,
        }
    }
}

/// A package of one extension (a `string` value, on Patient) and one search parameter over it.
pub fn package(s: &Strings) -> Package {
    let extension = json!({
        "resourceType": "StructureDefinition",
        "id": "fuzz",
        "url": s.url,
        "name": "Fuzz",
        "title": s.title,
        "description": s.description,
        "kind": "complex-type",
        "type": "Extension",
        "derivation": "constraint",
        "context": [{ "type": "element", "expression": "Patient" }],
        "snapshot": { "element": [
            { "id": "Extension", "path": "Extension", "min": 0, "max": "1", "short": s.title,
              "definition": s.description },
            { "id": "Extension.url", "path": "Extension.url", "min": 1, "max": "1", "fixedUri": s.url },
            { "id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "max": "1",
              "short": s.description, "type": [{ "code": "string" }] }
        ]}
    });
    let search = json!({
        "resourceType": "SearchParameter",
        "id": "fuzz",
        "url": format!("{}-search", s.url),
        "name": "Fuzz",
        "description": s.description,
        "code": s.code,
        "base": ["Patient"],
        "type": "token",
        "expression": format!("Patient.extension('{}').value", s.url),
    });
    Package {
        name: s.name.to_string(),
        version: s.version.to_string(),
        fhir_versions: vec!["4.0.1".to_string()],
        dependencies: vec![],
        resources: vec![
            ("SearchParameter-fuzz.json".to_string(), search),
            ("StructureDefinition-fuzz.json".to_string(), extension),
        ],
        examples: vec![],
    }
}

/// The shape of the clean package with the input's code, remembered for the last few hundred
/// codes (half the work of a run).
fn clean_shape(strings: &Strings) -> Result<String, fhirstorm_codegen::Error> {
    static CACHE: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(HashMap::new);
    if let Some(shape) = cache.get(strings.code) {
        return Ok(shape.clone());
    }
    let code = Profiles::new().render_package(&package(&strings.clean()))?;
    if cache.len() >= 512 {
        cache.clear();
    }
    let clean = shape(&code);
    cache.insert(strings.code.to_string(), clean.clone());
    Ok(clean)
}

/// Generates from the input's package and from the clean one of the same shape, and checks.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let strings = Strings::split(&text);
    let hostile = Profiles::new().render_package(&package(&strings));
    let clean = clean_shape(&strings);
    match (hostile, clean) {
        (Ok(hostile), Ok(clean)) => {
            assert!(shape(&hostile) == clean, "the items differ from the clean package's for {text:?}");
            if let Err(e) = check_docs(&hostile) {
                panic!("{e}\nfor {text:?}");
            }
        }
        (Err(h), Err(c)) => {
            assert!(!c.to_string().contains("generator bug"), "{c} for {text:?}");
            assert!(!h.to_string().contains("generator bug"), "{h} for {text:?}");
        }
        (h, c) => panic!("the package generates {:?}, the clean one {:?}, for {text:?}", h.err(), c.err()),
    }
}
