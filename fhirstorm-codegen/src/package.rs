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

/// The largest file a package may hold that generation reads (`package/*.json`,
/// `package/example/*.json`): 64 MiB. A larger one (or a tar header claiming one) is an error.
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// The most a package may hold in all, decompressed, files that generation skips included:
/// 512 MiB. A larger package (a gzip bomb) is an error, found while reading, not after.
pub const MAX_PACKAGE_BYTES: u64 = 512 << 20;

/// Whether generation reads the file at this path of the package (relative to the archive root).
fn wanted(name: &str) -> bool {
    let Some(rel) = name.strip_prefix("package/") else { return false };
    let rel = rel.strip_prefix("example/").unwrap_or(rel);
    rel.ends_with(".json") && !rel.contains('/')
}

/// A reader that fails once more than `left` bytes have come through it.
struct Capped<R> {
    inner: R,
    left: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.left = self.left.checked_sub(n as u64).ok_or_else(|| {
            std::io::Error::other(format!(
                "more than {MAX_PACKAGE_BYTES} bytes decompressed (a package is at most that)"
            ))
        })?;
        Ok(n)
    }
}

fn read_tgz(path: &Path) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let err = |e: std::io::Error| Error::new(format!("reading package {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(err)?;
    let gz = flate2::read::GzDecoder::new(std::io::BufReader::new(file));
    let mut archive = tar::Archive::new(Capped { inner: gz, left: MAX_PACKAGE_BYTES });
    let mut out = Vec::new();
    for entry in archive.entries().map_err(err)? {
        let entry = entry.map_err(err)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().map_err(err)?.to_string_lossy().replace('\\', "/");
        if !wanted(&name) {
            continue; // the archive skips it, reading through it without keeping it
        }
        let size = entry.size();
        let bytes = read_capped(entry, size)
            .map_err(|e| Error::new(format!("reading package {}: {name}: {e}", path.display())))?;
        out.push((name, bytes));
    }
    Ok(out)
}
/// Reads a file that claims `size` bytes, failing past [`MAX_FILE_BYTES`] whatever it claims.
fn read_capped(file: impl Read, size: u64) -> std::io::Result<Vec<u8>> {
    let too_big = |size: u64| {
        std::io::Error::other(format!("{size} bytes, more than {MAX_FILE_BYTES} (the most a file may hold)"))
    };
    if size > MAX_FILE_BYTES {
        return Err(too_big(size));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

fn read_folder(path: &Path) -> Result<Vec<(String, Vec<u8>)>, Error> {
    // The folder holding `package/`, or `package/` itself.
    let root: PathBuf =
        if path.join("package").join("package.json").is_file() { path.join("package") } else { path.to_path_buf() };
    let mut out = Vec::new();
    let mut total = 0u64;
    for sub in ["", "example"] {
        let dir = root.join(sub);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let p = entry.path();
            let file = p.file_name().unwrap_or_default().to_string_lossy();
            let name = if sub.is_empty() { format!("package/{file}") } else { format!("package/{sub}/{file}") };
            if !p.is_file() || !wanted(&name) {
                continue;
            }
            let err = |e: std::io::Error| Error::new(format!("reading {}: {e}", p.display()));
            let f = std::fs::File::open(&p).map_err(err)?;
            let size = f.metadata().map_err(err)?.len();
            let bytes = read_capped(f, size).map_err(err)?;
            total += bytes.len() as u64;
            if total > MAX_PACKAGE_BYTES {
                return Err(Error::new(format!(
                    "reading package {}: more than {MAX_PACKAGE_BYTES} bytes of JSON (a package is at most that)",
                    path.display()
                )));
            }
            out.push((name, bytes));
        }
    }
    Ok(out)
}
