//! The generated extension types against the packages' own examples: every extension whose URL
//! a package defines reads as its type and writes back the same extension; typed get, set and
//! remove on a list keep every other extension; bad extensions are typed errors naming the
//! element.

use std::path::Path;

use fhirstorm::extension::{ExtensionError, ExtensionErrorKind, Extensions, TypedExtension};
use fhirstorm::json;
use fhirstorm::r4::{Coding, Extension, ExtensionValue, Patient};
use fhirstorm_codegen::Package;
use fhirstorm_example_ig::{au_base, mcode};
use serde_json::Value;

fn package(file: &str) -> Package {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fhir-definitions/packages").join(file);
    Package::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Every member of an `extension` or `modifierExtension` list in `v`, with its JSON path.
fn extension_objects<'a>(v: &'a Value, path: &str, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(members) => {
            for (key, child) in members {
                let here = format!("{path}.{key}");
                if let ("extension" | "modifierExtension", Value::Array(items)) = (key.as_str(), child) {
                    for (i, item) in items.iter().enumerate() {
                        out.push((format!("{here}[{i}]"), item));
                    }
                }
                extension_objects(child, &here, out);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                extension_objects(item, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Sub-extensions sorted by URL (stably): a typed complex extension writes its known parts in
/// definition order.
fn normalized(mut v: Value) -> Value {
    if let Some(Value::Array(items)) = v.get_mut("extension") {
        let mut sorted: Vec<Value> = items.drain(..).map(normalized).collect();
        sorted.sort_by(|a, b| a["url"].as_str().cmp(&b["url"].as_str()));
        *items = sorted;
    }
    v
}

type Reader = dyn Fn(&Extension) -> Option<Result<Extension, ExtensionError>>;

/// Reads every extension of the package's examples that the package defines; returns how many
/// were typed, and how many examples carried one.
fn round_trip_examples(file: &str, read: &Reader) -> (usize, usize) {
    let pkg = package(file);
    let (mut typed, mut examples) = (0, 0);
    let mut failures = Vec::new();
    for (name, example) in &pkg.examples {
        let mut found = Vec::new();
        extension_objects(example, "", &mut found);
        let before = typed;
        for (path, object) in found {
            let bytes = serde_json::to_vec(object).unwrap();
            let generic: Extension = json::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}{path}: {e}"));
            match read(&generic) {
                None => {}
                Some(Err(e)) => failures.push(format!("{name}{path}: {e}")),
                Some(Ok(back)) => {
                    typed += 1;
                    let written: Value = serde_json::from_slice(&json::to_vec(&back)).unwrap();
                    if normalized(written.clone()) != normalized(object.clone()) {
                        failures.push(format!("{name}{path}: read {object} wrote {written}"));
                    }
                }
            }
        }
        examples += usize::from(typed > before);
    }
    assert!(
        failures.is_empty(),
        "{} of the extensions in {file}'s examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    (typed, examples)
}

#[test]
fn every_au_base_example_extension_reads_typed_and_writes_back() {
    let (typed, examples) = round_trip_examples("hl7.fhir.au.base-6.0.0.tgz", &|e| {
        au_base::extensions::AnyExtension::read(e).map(|r| r.map(|x| x.into_extension()))
    });
    println!("AU Base: {typed} extensions in {examples} examples read typed and written back");
    assert!(typed >= 50, "only {typed} AU Base extensions found in the examples");
}

#[test]
fn every_mcode_example_extension_reads_typed_and_writes_back() {
    let (typed, examples) = round_trip_examples("hl7.fhir.us.mcode-4.0.0.tgz", &|e| {
        mcode::extensions::AnyExtension::read(e).map(|r| r.map(|x| x.into_extension()))
    });
    println!("mCODE: {typed} extensions in {examples} examples read typed and written back");
    assert!(typed >= 10, "only {typed} mCODE extensions found in the examples");
}

#[test]
fn typed_get_set_remove_keep_other_extensions() {
    use au_base::extensions::{AustralianIndigenousStatus, DateOfArrivalAustralia};
    let pkg = package("hl7.fhir.au.base-6.0.0.tgz");
    let (_, example) = pkg.examples.iter().find(|(name, _)| name == "Patient-example0.json").expect("Patient-example0");
    let mut patient: Patient = json::from_slice(&serde_json::to_vec(example).unwrap()).unwrap();
    let untouched: Vec<Extension> = patient
        .extension
        .iter()
        .filter(|e| e.url.as_deref() != Some(AustralianIndigenousStatus::URL))
        .cloned()
        .collect();

    let status: AustralianIndigenousStatus = patient.extension.get_typed().unwrap().expect("the example has one");
    assert_eq!(
        status.0.system.as_ref().and_then(|s| s.value.as_deref()),
        Some("https://healthterminologies.gov.au/fhir/CodeSystem/australian-indigenous-status-1")
    );

    let neither = Coding { code: Some("4".to_string().into()), ..status.0.clone() };
    patient.extension.set_typed(AustralianIndigenousStatus(neither));
    assert_eq!(patient.extension.all_typed::<AustralianIndigenousStatus>().unwrap().len(), 1);
    let now: AustralianIndigenousStatus = patient.extension.get_typed().unwrap().unwrap();
    assert_eq!(now.0.code.unwrap().value.as_deref(), Some("4"));

    assert!(!patient.extension.has_typed::<DateOfArrivalAustralia>());
    assert_eq!(patient.extension.get_typed::<DateOfArrivalAustralia>().unwrap(), None);
    assert_eq!(patient.extension.remove_typed::<AustralianIndigenousStatus>(), 1);
    assert_eq!(patient.extension, untouched, "the other extensions are kept, in order");
}

#[test]
fn wrong_value_type_and_missing_sub_extension_are_typed_errors() {
    use au_base::extensions::{AustralianIndigenousStatus, IdentifierRoutability};
    let wrong = Extension {
        url: Some(AustralianIndigenousStatus::URL.to_string()),
        value: Some(ExtensionValue::String("4".to_string().into())),
        ..Default::default()
    };
    let err = vec![wrong].get_typed::<AustralianIndigenousStatus>().unwrap_err();
    assert_eq!(err.path(), "Extension.value[x]");
    assert_eq!(err.kind(), &ExtensionErrorKind::ValueType { expected: &["Coding"], found: Some("string") });
    assert!(err.to_string().contains("expected a value of type Coding, found string"), "{err}");

    // identifier-routability requires routability-flag (1..1) and routability-asserter (1..*).
    let flag = Extension {
        url: Some("routability-flag".to_string()),
        value: Some(ExtensionValue::Boolean(true.into())),
        ..Default::default()
    };
    let partial = Extension {
        url: Some(IdentifierRoutability::URL.to_string()),
        extension: vec![flag.clone(), flag],
        ..Default::default()
    };
    let err = vec![partial.clone()].get_typed::<IdentifierRoutability>().unwrap_err();
    assert_eq!(err.kind(), &ExtensionErrorKind::TooMany { slice: "routability-flag", max: 1, found: 2 });
    assert_eq!(err.path(), "Extension.extension:routability-flag.value[x]");
    let one_flag = Extension { extension: partial.extension[..1].to_vec(), ..partial };
    let err = vec![one_flag].get_typed::<IdentifierRoutability>().unwrap_err();
    assert_eq!(err.kind(), &ExtensionErrorKind::Missing { slice: "routability-asserter" });
}
