//! The official R4 examples the benchmarks build their inputs from: `$FHIR_EXAMPLES_DIR/r4`
//! (default `../shared/fhir-examples/r4`), the files fhirstorm reads, in name order.

use std::path::{Path, PathBuf};

use fhirstorm::r4::AnyResource;

/// Every example in the folder that reads as an R4 resource, as its bytes.
pub fn r4_examples() -> Vec<Vec<u8>> {
    let root = std::env::var_os("FHIR_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fhir-examples"));
    let dir = root.join("r4");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no examples at {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.iter().filter_map(|f| std::fs::read(f).ok()).filter(|b| AnyResource::from_slice(b).is_ok()).collect()
}
