//! Generates the models of each enabled FHIR version from `fhir-definitions/<version>/`.

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=build.rs");
    for (feature, dir, marker) in [
        ("DSTU2", "dstu2", "Dstu2"),
        ("STU3", "stu3", "Stu3"),
        ("R4", "r4", "R4"),
        ("R4B", "r4b", "R4B"),
        ("R5", "r5", "R5"),
    ] {
        if std::env::var_os(format!("CARGO_FEATURE_{feature}")).is_none() {
            continue;
        }
        let defs = root.join("fhir-definitions").join(dir);
        println!("cargo:rerun-if-changed={}", defs.display());
        let result = fhirstorm_codegen::Config::new()
            .definitions(&defs)
            .marker(marker)
            .client(std::env::var_os("CARGO_FEATURE_CLIENT").is_some())
            .out_file(out.join(format!("{dir}.rs")))
            .generate();
        if let Err(e) = result {
            panic!("generating the {dir} models from {}: {e}", defs.display());
        }
    }
}
