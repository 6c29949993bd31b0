//! Generates one FHIR version's models from `fhir-definitions/<version>/` into `OUT_DIR`: the
//! build script of every `models/<version>` crate, whose package name (`fhirstorm-<version>`)
//! says which version. The marker type's name comes from the definitions' FHIR version (`R4`).

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let package = std::env::var("CARGO_PKG_NAME").expect("cargo sets CARGO_PKG_NAME");
    let version = package.strip_prefix("fhirstorm-").expect("a models crate is named fhirstorm-<version>");
    let defs = manifest.join("definitions");
    println!("cargo:rerun-if-changed={}", defs.display());
    let result = fhirstorm_codegen::Config::new()
        .definitions(&defs)
        .runtime_path("::fhirstorm")
        .out_file(out.join("models.rs"))
        .generate();
    if let Err(e) = result {
        panic!("generating the {version} models from {}: {e}", defs.display());
    }
}
