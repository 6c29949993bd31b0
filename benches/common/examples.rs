//! The official R4 data the benchmarks build their inputs from: the examples
//! (`$FHIR_EXAMPLES_DIR/r4`, else what `scripts/fhir-examples` prints: `../shared`'s, or the npm
//! package fetched once) and the core package's definitions (`scripts/r4-core`), the files
//! fhirstorm reads, in name order.

#![allow(dead_code)] // each bench uses part of it

use std::path::{Path, PathBuf};
use std::process::Command;

use fhirstorm::r4::AnyResource;

/// The folder a project script prints (the script fetches the data once if it must).
fn script_dir(script: &str) -> PathBuf {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let out = Command::new("bash")
        .arg(root.join("scripts").join(script))
        .output()
        .unwrap_or_else(|e| panic!("cannot run scripts/{script}: {e}"));
    assert!(out.status.success(), "scripts/{script} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// Every `.json` file in `dir` that reads as an R4 resource, as its bytes, in name order.
fn r4_files(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("no data at {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut kept = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        match AnyResource::from_slice(&bytes) {
            Ok(_) => kept.push(bytes),
            Err(e) => eprintln!("left out {}: {e}", f.display()),
        }
    }
    kept
}

/// Every official R4 example that reads as an R4 resource.
pub fn r4_examples() -> Vec<Vec<u8>> {
    let root = std::env::var_os("FHIR_EXAMPLES_DIR").map(PathBuf::from).unwrap_or_else(|| script_dir("fhir-examples"));
    r4_files(&root.join("r4"))
}

/// Every conformance resource of the R4 core package (StructureDefinitions, ValueSets,
/// CodeSystems, SearchParameters...), pretty-printed as published.
pub fn r4_definitions() -> Vec<Vec<u8>> {
    r4_files(&script_dir("r4-core"))
}

/// JSON without the whitespace between tokens, members in their order (as servers send it, and
/// as NDJSON holds it: `resourceType` first).
pub fn minify(json: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::with_capacity(json.len()), false, false);
    for &b in json {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            in_string = b == b'"';
            out.push(b);
        }
    }
    out
}
