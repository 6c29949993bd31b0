//! Generates each implementation guide's types from its package, as published on npm (vendored,
//! with their checksums, in `fhir-definitions/packages/`).

use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let packages = manifest.join("../../fhir-definitions/packages");
    for (package, file) in [
        ("hl7.fhir.au.base-6.0.0.tgz", "au_base.rs"),
        ("hl7.fhir.us.mcode-4.0.0.tgz", "mcode.rs"),
        ("hl7.fhir.uv.ips-2.0.0.tgz", "ips.rs"),
    ] {
        let package = packages.join(package);
        println!("cargo:rerun-if-changed={}", package.display());
        if let Err(e) = fhirstorm_codegen::Profiles::new().package(&package).out_file(out.join(file)).generate() {
            panic!("generating from {}: {e}", package.display());
        }
    }
}
