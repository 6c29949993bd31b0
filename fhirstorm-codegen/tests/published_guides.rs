//! The vendored published guides (`fhir-definitions/packages/`) generate code that parses and
//! whose doc comments hold no Markdown code, HTML or links; a guide with profiles and no
//! extension of its own (IPS) gets an empty `AnyExtension` whose matches compile (the example
//! crate `examples/ig-profiles` compiles all three).

mod support {
    pub mod generated;
}

use std::path::Path;

fn render(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fhir-definitions/packages").join(file);
    fhirstorm_codegen::Profiles::new().package(&path).render().unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn published_guides_generate_safe_code() {
    for file in ["hl7.fhir.au.base-6.0.0.tgz", "hl7.fhir.us.mcode-4.0.0.tgz", "hl7.fhir.uv.ips-2.0.0.tgz"] {
        let code = render(file);
        support::generated::shape(&code);
        if let Err(e) = support::generated::check_docs(&code) {
            panic!("{file}: {e}");
        }
    }
}

#[test]
fn a_guide_without_extensions_matches_its_empty_enum_by_value() {
    let code = render("hl7.fhir.uv.ips-2.0.0.tgz");
    assert!(code.contains("pub enum AnyExtension {}"), "IPS defines no extension");
    assert!(code.contains("match *self {}"), "`url(&self)` matches the empty enum itself");
}
