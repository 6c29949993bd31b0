//! Generates the FHIR R4 models into `OUT_DIR/models.rs` from the official definitions
//! (the `fhir-definitions` crate's `r4/`), as a user's build script generates models of its own.

use std::path::PathBuf;

fn main() {
    let defs = fhir_definitions::dir("r4").expect("fhir-definitions holds r4");
    println!("cargo:rerun-if-changed={}", defs.display());
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let generated = fhirstorm_codegen::Config::new()
        .definitions(&defs)
        .runtime_path("::fhirstorm")
        .out_file(out.join("models.rs"))
        .generate();
    if let Err(e) = generated {
        panic!("generating the R4 models from {}: {e}", defs.display());
    }
}
