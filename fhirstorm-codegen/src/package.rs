//! Reads a FHIR package as published on the registries: the npm-format `.tgz`, or its unpacked
//! folder (the one holding `package/package.json`, or `package/` itself).

use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::Error;

/// One package: its manifest and its resources.
#[derive(Debug, Default)]
pub struct Package {
    /// `name` from `package.json` (`hl7.fhir.au.base`).
    pub name: String,
    /// `version` from `package.json`.
    pub version: String,
    /// `fhirVersions` from `package.json` (`4.0.1`).
    pub fhir_versions: Vec<String>,
    /// `dependencies` from `package.json`, as `name@version`.
    pub dependencies: Vec<String>,
    /// The conformance resources of the package's root folder (`package/*.json`), by file name.
    pub resources: Vec<(String, Value)>,
    /// The example resources (`package/example/*.json`), by file name.
    pub examples: Vec<(String, Value)>,
}

impl Package {
    /// Reads a package from a `.tgz` file or a folder.
    pub fn read(path: &Path) -> Result<Package, Error> {
        let files = if path.is_dir() { read_folder(path)? } else { read_tgz(path)? };
        let mut pkg = Package::default();
        let mut manifest = None;
        for (name, bytes) in files {
            // Paths relative to `package/`.
            let Some(rel) = name.strip_prefix("package/") else { continue };
            if !rel.ends_with(".json") {
                continue;
            }
            let parse = || -> Result<Value, Error> {
                serde_json::from_slice(&bytes)
                    .map_err(|e| Error::new(format!("{}: {rel} is not JSON: {e}", path.display())))
            };
            if rel == "package.json" {
                manifest = Some(parse()?);
            } else if let Some(example) = rel.strip_prefix("example/") {
                if !example.contains('/') {
                    pkg.examples.push((example.to_string(), parse()?));
                }
            } else if !rel.contains('/') && rel != ".index.json" {
                pkg.resources.push((rel.to_string(), parse()?));
            }
        }
        let manifest = manifest.ok_or_else(|| Error::new(format!("{}: no package/package.json", path.display())))?;
        let text = |key: &str| manifest.get(key).and_then(Value::as_str).unwrap_or("").to_string();
        pkg.name = text("name");
        pkg.version = text("version");
        pkg.fhir_versions = manifest
            .get("fhirVersions")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
            .unwrap_or_default();
        if let Some(Value::Object(deps)) = manifest.get("dependencies") {
            pkg.dependencies = deps.iter().map(|(k, v)| format!("{k}@{}", v.as_str().unwrap_or(""))).collect();
        }
        pkg.resources.sort_by(|a, b| a.0.cmp(&b.0));
        pkg.examples.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(pkg)
    }

    /// `name@version`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

fn read_tgz(path: &Path) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let err = |e: std::io::Error| Error::new(format!("reading package {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(err)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut out = Vec::new();
    for entry in archive.entries().map_err(err)? {
        let mut entry = entry.map_err(err)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(err)?.to_string_lossy().replace('\\', "/");
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(err)?;
        out.push((name, bytes));
    }
    Ok(out)
}

fn read_folder(path: &Path) -> Result<Vec<(String, Vec<u8>)>, Error> {
    // The folder holding `package/`, or `package/` itself.
    let root: PathBuf =
        if path.join("package").join("package.json").is_file() { path.join("package") } else { path.to_path_buf() };
    let mut out = Vec::new();
    for sub in ["", "example"] {
        let dir = root.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_file() {
                let bytes = std::fs::read(&p).map_err(|e| Error::new(format!("reading {}: {e}", p.display())))?;
                let file = p.file_name().unwrap_or_default().to_string_lossy();
                let name = if sub.is_empty() { format!("package/{file}") } else { format!("package/{sub}/{file}") };
                out.push((name, bytes));
            }
        }
    }
    Ok(out)
}
