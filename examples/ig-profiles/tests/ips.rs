//! The International Patient Summary: a guide with profiles and no extension of its own. Its
//! empty `AnyExtension` compiles (this file does) and reads nothing; its profiles validate the
//! package's examples that declare them.

use fhirstorm::json;
use fhirstorm::r4::{AnyResource, Extension, Patient};
use fhirstorm_codegen::Package;
use fhirstorm_example_ig::ips;

#[test]
fn an_empty_any_extension_reads_nothing() {
    assert!(ips::extensions::AnyExtension::URLS.is_empty());
    let ext = Extension { url: Some("http://example.org/x".to_string()), ..Default::default() };
    assert!(ips::extensions::AnyExtension::read(&ext).is_none());
    let mut patient = Patient::default();
    patient.extension.push(ext);
    assert_eq!(patient.extension.len(), 1);
}

#[test]
fn ips_examples_meet_their_declared_profiles() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fhir-definitions/packages/hl7.fhir.uv.ips-2.0.0.tgz");
    let pkg = Package::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, example) in &pkg.examples {
        let bytes = serde_json::to_vec(example).unwrap();
        let any = json::from_slice::<AnyResource>(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let declared: Vec<String> =
            any.meta().map(|m| m.profile.iter().filter_map(|p| p.value.clone()).collect()).unwrap_or_default();
        for url in declared {
            if let Some(issues) = ips::profiles::validate_as(&url, &any) {
                checked += 1;
                if !issues.is_empty() {
                    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
                    failures.push(format!("{name} against {url}: {}", text.join("; ")));
                }
            }
        }
    }
    println!("IPS: {checked} examples validated against their declared profiles");
    assert!(checked >= 40, "only {checked} IPS examples declare a profile of the package");
    assert!(failures.is_empty(), "{} IPS examples fail their profiles:\n{}", failures.len(), failures.join("\n"));
}
