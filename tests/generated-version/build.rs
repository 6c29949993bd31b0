//! What a user's build script does to get models of a release fhirstorm does not ship: here R4B
//! from the trimmed official definitions (fhirstorm's own `r4b` feature is not turned on).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let defs = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("../../fhir-definitions/r4b");
    println!("cargo:rerun-if-changed={}", defs.display());
    if let Err(e) = fhirstorm_codegen::Config::new()
        .definitions(&defs)
        .runtime_path("::fhirstorm")
        .out_file(out.join("r4b.rs"))
        .generate()
    {
        panic!("generating R4B from {}: {e}", defs.display());
    }
}
