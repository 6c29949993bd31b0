//! The generated profile types against the packages' own examples: every example that declares a
//! profile of its package (`meta.profile`) meets it; deliberately broken copies each give exactly
//! the expected issue; the profile type wraps, derefs, converts both ways and reads its
//! extension slices typed.

use std::path::Path;

use fhirstorm::json;
use fhirstorm::r4::{AnyResource, Extension, ExtensionValue, Observation, ObservationEffective, Patient};
use fhirstorm::validation::{Issue, IssueKind};
use fhirstorm_codegen::Package;
use fhirstorm_example_ig::{au_base, mcode};

fn package(file: &str) -> Package {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fhir-definitions/packages").join(file);
    Package::read(&path).unwrap_or_else(|e| panic!("{e}"))
}

fn resource<R: fhirstorm::Resource>(pkg: &Package, file: &str) -> R {
    let (_, v) = pkg.examples.iter().find(|(name, _)| name == file).unwrap_or_else(|| panic!("{file}"));
    json::from_slice(&serde_json::to_vec(v).unwrap()).unwrap()
}

type Validate = dyn Fn(&str, &AnyResource) -> Option<Vec<Issue>>;

/// Validates each example against every profile of the package it declares; returns how many
/// (example, profile) pairs were checked.
fn examples_meet_their_profiles(file: &str, validate: &Validate) -> usize {
    let pkg = package(file);
    let mut checked = 0;
    let mut failures = Vec::new();
    for (name, example) in &pkg.examples {
        let bytes = serde_json::to_vec(example).unwrap();
        // Every example reads, and writes back exactly (member order aside; numbers as serde_json,
        // which reads the package, gives them).
        let any = json::from_slice::<AnyResource>(&bytes).unwrap_or_else(|e| panic!("{file} {name}: {e}"));
        let (read, written) = (json::Value::parse(std::str::from_utf8(&bytes).unwrap()).unwrap(), json::to_value(&any));
        if let Some(diff) = written.first_difference(&read) {
            failures.push(format!("{name} does not round-trip: {diff}"));
        }
        let declared: Vec<String> =
            any.meta().map(|m| m.profile.iter().filter_map(|p| p.value.clone()).collect()).unwrap_or_default();
        for url in declared {
            if let Some(issues) = validate(&url, &any) {
                checked += 1;
                if !issues.is_empty() {
                    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
                    failures.push(format!("{name} against {url}: {}", text.join("; ")));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} examples of {file} fail their profiles:\n{}", failures.len(), failures.join("\n"));
    checked
}

#[test]
fn au_base_examples_meet_their_declared_profiles() {
    let n = examples_meet_their_profiles("hl7.fhir.au.base-6.0.0.tgz", &au_base::profiles::validate_as);
    println!("AU Base: {n} examples validated against their declared profiles, 0 issues");
    assert!(n >= 40, "only {n} AU Base examples declare a profile of the package");
}

#[test]
fn mcode_examples_meet_their_declared_profiles() {
    let n = examples_meet_their_profiles("hl7.fhir.us.mcode-4.0.0.tgz", &mcode::profiles::validate_as);
    println!("mCODE: {n} examples validated against their declared profiles, 0 issues");
    assert!(n >= 40, "only {n} mCODE examples declare a profile of the package");
}

#[test]
fn broken_copies_give_exactly_the_expected_issue() {
    use au_base::extensions::AustralianIndigenousStatus;
    use au_base::profiles::AUBasePatient;
    use fhirstorm::extension::TypedExtension;
    let au = package("hl7.fhir.au.base-6.0.0.tgz");
    let patient: Patient = resource(&au, "Patient-example0.json");
    assert_eq!(AUBasePatient::validate_resource(&patient), vec![]);

    // An extension slice of 0..1 given twice.
    let mut twice = patient.clone();
    let status =
        twice.extension.iter().find(|e| e.url.as_deref() == Some(AustralianIndigenousStatus::URL)).unwrap().clone();
    twice.extension.push(status);
    let err = AUBasePatient::try_from(twice.clone()).unwrap_err();
    assert_eq!(err.resource, twice, "the resource comes back");
    assert_eq!(
        err.issues,
        vec![Issue::new(
            "Patient.extension:indigenousStatus",
            IssueKind::Cardinality { min: 0, max: Some(1), found: 2 }
        )]
    );

    // An extension of the slice with a value of the wrong type.
    let mut wrong = patient.clone();
    for e in wrong.extension.iter_mut().filter(|e| e.url.as_deref() == Some(AustralianIndigenousStatus::URL)) {
        e.value = Some(ExtensionValue::String("4".to_string().into()));
    }
    let issues = AUBasePatient::validate_resource(&wrong);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path(), "Patient.extension:indigenousStatus");
    assert!(matches!(issues[0].kind(), IssueKind::Extension(e) if e.path() == "Extension.value[x]"), "{issues:?}");

    // A required element missing (mCODE's cancer disease status needs its subject).
    let mc = package("hl7.fhir.us.mcode-4.0.0.tgz");
    let (file, _) = mc
        .examples
        .iter()
        .find(|(_, v)| v["meta"]["profile"][0] == mcode::profiles::CancerDiseaseStatus::URL)
        .expect("an example of CancerDiseaseStatus");
    let status: Observation = resource(&mc, file);
    assert_eq!(mcode::profiles::CancerDiseaseStatus::validate_resource(&status), vec![]);
    let orphan = Observation { subject: None, ..status.clone() };
    assert_eq!(
        mcode::profiles::CancerDiseaseStatus::validate_resource(&orphan),
        vec![Issue::new("Observation.subject", IssueKind::Cardinality { min: 1, max: Some(1), found: 0 })]
    );

    // A code that does not match the profile's pattern (LOINC 97509-4), and one that contains it.
    let mut recoded = status.clone();
    recoded.code.as_mut().unwrap().coding[0].code = Some("00000-0".to_string().into());
    let issues = mcode::profiles::CancerDiseaseStatus::validate_resource(&recoded);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path(), "Observation.code");
    assert!(
        matches!(issues[0].kind(), IssueKind::Pattern { expected, exact: false } if expected.contains("97509-4")),
        "{issues:?}"
    );
    let mut more = status.clone();
    let extra = fhirstorm::r4::Coding { code: Some("x".to_string().into()), ..Default::default() };
    more.code.as_mut().unwrap().coding.insert(0, extra);
    more.code.as_mut().unwrap().text = Some("disease status".to_string().into());
    assert_eq!(
        mcode::profiles::CancerDiseaseStatus::validate_resource(&more),
        vec![],
        "a pattern is contained, not equal"
    );

    // A code outside a required binding the package's value set lists (lymphoma staging method).
    let stage: Observation = resource(&mc, "Observation-hodgkins-lymphoma-stage-IIIe.json");
    assert_eq!(mcode::profiles::LymphomaStage::validate_resource(&stage), vec![]);
    let mut restaged = stage.clone();
    restaged.method.as_mut().expect("the example has a method").coding[0].code = Some("12345".to_string().into());
    assert_eq!(
        mcode::profiles::LymphomaStage::validate_resource(&restaged),
        vec![Issue::new(
            "Observation.method",
            IssueKind::Binding { value_set: "http://hl7.org/fhir/us/mcode/ValueSet/mcode-lymphoma-staging-method-vs" }
        )]
    );

    // A choice of a type the profile leaves out (body surface area is dated by dateTime or Period).
    let (file, _) = mc
        .examples
        .iter()
        .find(|(_, v)| v["meta"]["profile"][0] == mcode::profiles::BodySurfaceArea::URL)
        .expect("an example of BodySurfaceArea");
    let bsa: Observation = resource(&mc, file);
    let instant = Observation {
        effective: Some(ObservationEffective::Instant(
            "2020-01-01T00:00:00Z".parse::<fhirstorm::Instant>().unwrap().into(),
        )),
        ..bsa
    };
    let issues = mcode::profiles::BodySurfaceArea::validate_resource(&instant);
    assert_eq!(
        issues,
        vec![Issue::new(
            "Observation.effective[x]",
            IssueKind::Type { allowed: &["dateTime", "Period"], found: "instant" }
        )]
    );

    // A required slice of a repeating element missing (the tumor's longest dimension, the
    // component whose code is LOINC 33728-7), and then given twice.
    let size: Observation = resource(&mc, "Observation-tumor-size-jenny-m.json");
    let tumor_size = mcode::profiles::TumorSize::from_unverified(size.clone());
    assert_eq!(tumor_size.component_tumor_longest_dimension().len(), 1);
    assert_eq!(tumor_size.validate(), vec![]);
    let longest = |c: &fhirstorm::r4::ObservationComponent| {
        c.code.as_ref().is_some_and(|cc| {
            cc.coding.iter().any(|k| k.code.as_ref().and_then(|x| x.value.as_deref()) == Some("33728-7"))
        })
    };
    let mut unmeasured = size.clone();
    unmeasured.component.retain(|c| !longest(c));
    let slice = "Observation.component:tumorLongestDimension";
    // It was the example's only component, and the profile wants at least one.
    assert_eq!(
        mcode::profiles::TumorSize::validate_resource(&unmeasured),
        vec![
            Issue::new("Observation.component", IssueKind::Cardinality { min: 1, max: None, found: 0 }),
            Issue::new(slice, IssueKind::Cardinality { min: 1, max: Some(1), found: 0 })
        ]
    );
    let mut twice = size.clone();
    let again = twice.component.iter().find(|c| longest(c)).unwrap().clone();
    twice.component.push(again);
    assert_eq!(
        mcode::profiles::TumorSize::validate_resource(&twice),
        vec![Issue::new(slice, IssueKind::Cardinality { min: 1, max: Some(1), found: 2 })]
    );

    // Rules below the profile's own level: a choice inside a slice (the longest dimension is a
    // Quantity), and an extension slice of a primitive (AU Base's birth date accuracy, 0..1).
    let mut as_text = size.clone();
    for c in as_text.component.iter_mut().filter(|c| longest(c)) {
        c.value = Some(fhirstorm::r4::ObservationComponentValue::String("3 cm".to_string().into()));
    }
    assert_eq!(
        mcode::profiles::TumorSize::validate_resource(&as_text),
        vec![Issue::new(
            "Observation.component:tumorLongestDimension.value[x]",
            IssueKind::Type { allowed: &["Quantity"], found: "string" }
        )]
    );
    let dated: Patient = resource(&au, "Patient-DateAccuracyIndicatorAAAexample0.json");
    assert_eq!(AUBasePatient::validate_resource(&dated), vec![]);
    let accuracy = AUBasePatient::from_unverified(dated.clone()).birth_date_accuracy_indicator().unwrap();
    assert_eq!(accuracy.len(), 1, "{accuracy:?}");
    let mut twice = dated.clone();
    let accuracy =
        twice.birth_date.as_mut().and_then(|b| b.ext.as_mut()).expect("the example's birthDate has extensions");
    let again = accuracy.extension[0].clone();
    accuracy.extension.push(again);
    assert_eq!(
        AUBasePatient::validate_resource(&twice),
        vec![Issue::new(
            "Patient.birthDate.extension:accuracyIndicator",
            IssueKind::Cardinality { min: 0, max: Some(1), found: 2 }
        )]
    );

    // A slice by the type of the resource in each entry: mCODE's patient bundle holds exactly
    // one Patient.
    let (file, _) = mc
        .examples
        .iter()
        .find(|(_, v)| v["meta"]["profile"][0] == mcode::profiles::MCODEPatientBundle::URL)
        .expect("an example of MCODEPatientBundle");
    let bundle: fhirstorm::r4::Bundle = resource(&mc, file);
    assert_eq!(mcode::profiles::MCODEPatientBundle::validate_resource(&bundle), vec![]);
    let mut orphaned = bundle.clone();
    orphaned.entry.retain(|e| !matches!(e.resource, Some(AnyResource::Patient(_))));
    assert!(orphaned.entry.len() < bundle.entry.len());
    assert_eq!(
        mcode::profiles::MCODEPatientBundle::validate_resource(&orphaned),
        vec![Issue::new("Bundle.entry:cancerPatient", IssueKind::Cardinality { min: 1, max: Some(1), found: 0 })]
    );

    // A resource of another type.
    let as_patient = mcode::profiles::validate_as(mcode::profiles::BodySurfaceArea::URL, &AnyResource::from(patient));
    assert!(
        matches!(as_patient.as_deref(), Some([i]) if matches!(i.kind(), IssueKind::ResourceType { expected: "Observation", found: "Patient" }))
    );
    assert_eq!(mcode::profiles::validate_as("http://example.org/not-a-profile", &AnyResource::from(instant)), None);
}

#[test]
fn a_profile_type_wraps_derefs_and_reads_its_slices() {
    use au_base::extensions::{AustralianIndigenousStatus, AustralianVeteranStatus};
    use au_base::profiles::AUBasePatient;
    let mut p = AUBasePatient::new();
    assert_eq!(p.meta.as_ref().unwrap().profile[0].value.as_deref(), Some(AUBasePatient::URL));
    assert_eq!(p.validate(), vec![]);
    p.gender = Some(fhirstorm::r4::codes::AdministrativeGender::from("female").into()); // through DerefMut
    let status = fhirstorm::r4::Coding { code: Some("4".to_string().into()), ..Default::default() };
    p.set_indigenous_status(Some(AustralianIndigenousStatus(status.clone())));
    assert_eq!(p.indigenous_status().unwrap(), Some(AustralianIndigenousStatus(status)));
    let veteran = |code: &str| fhirstorm::r4::Coding { code: Some(code.to_string().into()), ..Default::default() };
    p.set_veteran_status(vec![AustralianVeteranStatus(veteran("DVAG")), AustralianVeteranStatus(veteran("DVAW"))]);
    assert_eq!(p.veteran_status().unwrap().len(), 2);
    p.set_indigenous_status(None);
    assert_eq!(p.indigenous_status().unwrap(), None);
    assert!(p.birth_place().is_empty(), "an extension defined outside the package is read generically");
    let inner: Patient = p.clone().into();
    assert_eq!(inner.extension.len(), 2);
    let back = AUBasePatient::try_from(inner).unwrap();
    assert_eq!(back, p);
    let _: Vec<&Extension> = back.birth_place();
}

#[test]
fn new_applies_the_profiles_patterns() {
    use mcode::profiles::{CancerDiseaseStatus, MCODEPatientBundle};
    let status = CancerDiseaseStatus::new();
    let coding = &status.code.as_ref().expect("the pattern's code").coding[0];
    assert_eq!(coding.code.as_ref().and_then(|c| c.value.as_deref()), Some("97509-4"));
    assert_eq!(coding.system.as_ref().and_then(|c| c.value.as_deref()), Some("http://loinc.org"));
    let issues = status.validate();
    assert!(issues.iter().all(|i| !matches!(i.kind(), IssueKind::Pattern { .. })), "{issues:?}");
    let bundle = MCODEPatientBundle::new();
    assert_eq!(bundle.r#type.as_ref().and_then(|t| t.value.as_ref()).map(|t| t.as_str()), Some("collection"));
}

#[test]
fn a_datatype_profile_wraps_its_datatype() {
    use au_base::profiles::{AUMedicareCardNumber, AUIHI};

    let au = package("hl7.fhir.au.base-6.0.0.tgz");
    let patient: Patient = resource(&au, "Patient-example0.json");
    let ihi = patient.identifier[0].clone();
    let typed = AUIHI::try_from(ihi.clone()).expect("the example's IHI meets AU IHI");
    assert_eq!(typed.value.as_ref().unwrap().value.as_deref(), Some("8003608833357361"));
    assert_eq!(typed.ihi_status().unwrap().map(|s| s.0.code.unwrap().value), Some(Some("active".to_string())));
    // The Medicare number is not an IHI: the fixed system and the type's pattern say so.
    let medicare = patient.identifier[1].clone();
    assert_eq!(AUMedicareCardNumber::validate_resource(&medicare), vec![]);
    let issues: Vec<String> = AUIHI::validate_resource(&medicare).iter().map(|i| i.path().to_string()).collect();
    assert_eq!(issues, ["Identifier.type", "Identifier.system"]);
    // The base definitions are checked too, from the datatype's own level.
    let mut blank = ihi.clone();
    blank.period = Some(Default::default());
    let issues: Vec<String> = AUIHI::validate_resource(&blank).iter().map(ToString::to_string).collect();
    assert_eq!(issues, ["Identifier.period: has neither a value nor children (ele-1)"]);
    // new() applies the fixed system and the type's pattern; the value is still missing.
    let fresh = AUIHI::new();
    assert_eq!(
        fresh.system.as_ref().unwrap().value.as_deref(),
        Some("http://ns.electronichealth.net.au/id/hi/ihi/1.0")
    );
    assert_eq!(fresh.r#type.as_ref().unwrap().coding[0].code.as_ref().unwrap().value.as_deref(), Some("NI"));
    let issues: Vec<String> = fresh.validate().iter().map(|i| i.path().to_string()).collect();
    assert_eq!(issues, ["Identifier.value"]);
}

#[test]
fn slices_by_resource_type_and_by_profile_read_the_packages_examples() {
    use mcode::profiles::{GenomicsReport, MCODEPatientBundle};
    use std::collections::HashMap;
    let mc = package("hl7.fhir.us.mcode-4.0.0.tgz");

    // mCODE's patient bundle: its entries by the type of the resource they hold.
    let bundle = MCODEPatientBundle::from_unverified(resource(&mc, "Bundle-mcode-patient-bundle-jenny-m.json"));
    assert_eq!(bundle.entry_cancer_patient().len(), 1);
    let conditions = bundle.entry_mcode_conditions().len();
    assert!(conditions > 0 && conditions < bundle.entry.len(), "{conditions} of {}", bundle.entry.len());

    // The genomics report's results by the profile their targets meet, the targets found among
    // the package's examples ("Observation/genomic-variant-jenny-m").
    let examples: HashMap<String, AnyResource> = mc
        .examples
        .iter()
        .filter_map(|(_, v)| {
            let any: AnyResource = json::from_slice(&serde_json::to_vec(v).unwrap()).ok()?;
            Some((format!("{}/{}", any.resource_type(), any.id()?), any))
        })
        .collect();
    let resolve = |r: &fhirstorm::r4::Reference| examples.get(r.reference.as_ref()?.value.as_deref()?);
    let report = GenomicsReport::from_unverified(resource(&mc, "DiagnosticReport-genomics-report-jenny-m.json"));
    let reference = |r: &fhirstorm::r4::Reference| r.reference.as_ref().and_then(|x| x.value.clone());
    let variants: Vec<_> = report.result_variant(resolve).into_iter().filter_map(reference).collect();
    assert_eq!(variants, ["Observation/genomic-variant-jenny-m"]);
    let regions: Vec<_> = report.result_region_studied(resolve).into_iter().filter_map(reference).collect();
    assert_eq!(regions, ["Observation/genomic-region-studied-jenny-m"]);
    assert_eq!(report.validate_resolving(resolve), vec![]);
    // A target that does not meet the variant profile (its code changed) leaves the slice.
    let mut examples = examples.clone();
    if let Some(AnyResource::Observation(o)) = examples.get_mut("Observation/genomic-variant-jenny-m") {
        o.code.as_mut().unwrap().coding[0].code = Some("00000-0".to_string().into());
    }
    let resolve = |r: &fhirstorm::r4::Reference| examples.get(r.reference.as_ref()?.value.as_deref()?);
    assert!(report.result_variant(resolve).is_empty());
}

#[test]
fn an_extension_below_the_profiles_level_reads_as_its_type() {
    use au_base::extensions::MedicationType;
    use au_base::profiles::AUBaseMedication;
    use fhirstorm::extension::TypedExtension;
    let au = package("hl7.fhir.au.base-6.0.0.tgz");
    let medication: fhirstorm::r4::Medication = resource(&au, "Medication-BrandedPack0.json");
    assert_eq!(AUBaseMedication::validate_resource(&medication), vec![]);
    let classes = AUBaseMedication::from_unverified(medication.clone()).code_coding_medication_class().unwrap();
    assert_eq!(classes.len(), 3, "typed accessor below the profile's level: {classes:?}");
    let mut wrong = medication.clone();
    let mut changed = 0;
    for coding in &mut wrong.code.as_mut().unwrap().coding {
        for e in coding.extension.iter_mut().filter(|e| e.url.as_deref() == Some(MedicationType::URL)) {
            e.value = Some(ExtensionValue::String("BPG".to_string().into()));
            changed += 1;
        }
    }
    assert_eq!(changed, 3, "the example's three codings each carry a medication class");
    let issues = AUBaseMedication::validate_resource(&wrong);
    assert_eq!(issues.len(), 3, "one per extension: {issues:?}");
    for issue in &issues {
        assert_eq!(issue.path(), "Medication.code.coding.extension:medicationClass");
        assert!(matches!(issue.kind(), IssueKind::Extension(e) if e.path() == "Extension.value[x]"), "{issue:?}");
    }
}
