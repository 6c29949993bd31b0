//! The generator's golden output for its hand-made guide (`fhirstorm-codegen/tests/golden/
//! ig_style.rs`) compiles against fhirstorm's R4, and its shapes work: a complex extension with a
//! nested one, a choice, another typed extension and a generic one, written and read back.

#[allow(dead_code)] // the test uses some of the file
mod ig_style {
    include!("../../../fhirstorm-codegen/tests/golden/ig_style.rs");
}

use fhirstorm::extension::{Extensions, TypedExtension};
use fhirstorm::json;
use fhirstorm::r4::{Coding, Extension, Patient};
use ig_style::extensions::{AnyExtension, Flavour, Origin, Recipe, RecipeNote, RecipeStep};

#[test]
fn a_complex_extension_writes_and_reads_back() {
    let recipe = Recipe {
        kind: "soup".to_string().into(),
        count: Some(3.into()),
        note: vec![RecipeNote::Markdown("*hot*".to_string().into())],
        step: vec![RecipeStep { level: true.into(), other: vec![] }, RecipeStep { level: false.into(), other: vec![] }],
        flavour: vec![Flavour(Coding { code: Some("umami".to_string().into()), ..Default::default() })],
        absent: Some(Extension {
            url: Some("http://elsewhere.example.org/StructureDefinition/missing".into()),
            ..Default::default()
        }),
        other: vec![Extension { url: Some("unknown-part".into()), ..Default::default() }],
    };
    let mut patient = Patient::default();
    patient.extension.push(Extension { url: Some("http://example.org/other".into()), ..Default::default() });
    patient.extension.set_typed(recipe.clone());
    let text = String::from_utf8(json::to_vec(&patient)).unwrap();
    assert!(text.contains(r#"{"url":"note","valueMarkdown":"*hot*"}"#), "{text}");
    assert!(text.contains(r#"{"extension":[{"url":"level","valueBoolean":true}],"url":"step"}"#), "{text}");
    assert!(
        text.contains(
            r#"{"url":"http://example.org/fhir/StructureDefinition/flavour","valueCoding":{"code":"umami"}}"#
        ),
        "{text}"
    );
    let back: Patient = json::from_slice(text.as_bytes()).unwrap();
    assert_eq!(back.extension.get_typed::<Recipe>().unwrap(), Some(recipe));
    assert_eq!(back.extension.len(), 2);
    match AnyExtension::read(&back.extension[1]) {
        Some(Ok(AnyExtension::Recipe(_))) => {}
        other => panic!("{other:?}"),
    }
    assert!(AnyExtension::read(&back.extension[0]).is_none());
    assert!(AnyExtension::URLS.contains(&Origin::URL));
}

#[test]
fn a_choice_reports_every_allowed_type() {
    let ext = Extension {
        url: Some(Origin::URL.to_string()),
        value: Some(fhirstorm::r4::ExtensionValue::Boolean(true.into())),
        ..Default::default()
    };
    let err = Origin::from_extension(&ext).unwrap_err();
    assert_eq!(err.to_string(), format!("extension {} at Extension.value[x]: expected a value of type CodeableConcept or Reference or date, found boolean", Origin::URL));
}

#[test]
fn a_profile_reports_every_issue_with_its_element() {
    use fhirstorm::r4::{CodeableConcept, Coding, HumanName, Identifier, PatientCommunication, PatientDeceased};
    use fhirstorm::validation::{Issue, IssueKind};
    use ig_style::profiles::Cook;
    let bare = Patient {
        birth_date: Some("1990-01-01".parse::<fhirstorm::Date>().unwrap().into()),
        deceased: Some(PatientDeceased::DateTime("2020-01-01".parse::<fhirstorm::DateTime>().unwrap().into())),
        extension: vec![
            Extension {
                url: Some("http://elsewhere.example.org/StructureDefinition/missing".into()),
                ..Default::default()
            };
            3
        ],
        ..Default::default()
    };
    let err = Cook::try_from(bare).unwrap_err();
    let card = |path, min, max, found| Issue::new(path, IssueKind::Cardinality { min, max, found });
    assert_eq!(
        err.issues,
        vec![
            card("Patient.identifier", 1, None, 0),
            card("Patient.name", 1, None, 0),
            card("Patient.birthDate", 0, Some(0), 1),
            Issue::new("Patient.deceased[x]", IssueKind::Type { allowed: &["boolean"], found: "dateTime" }),
            card("Patient.extension:recipe", 1, None, 0),
            card("Patient.extension:elsewhere", 0, Some(2), 3),
            card("Patient.identifier:kitchenId", 1, Some(1), 0),
        ]
    );
    let mut cook = Cook::new();
    let id = |system: &str, value: &str| Identifier {
        system: Some(system.to_string().into()),
        value: Some(value.to_string().into()),
        ..Default::default()
    };
    cook.identifier.push(id("http://example.org/other-ids", "O-1"));
    cook.identifier.push(id("http://example.org/kitchen-ids", "K-7"));
    cook.name.push(HumanName::default());
    cook.set_recipe(vec![Recipe {
        kind: "soup".to_string().into(),
        count: None,
        note: vec![],
        step: vec![],
        flavour: vec![],
        absent: None,
        other: vec![],
    }]);
    // The base definitions are checked too: an empty name is an empty element.
    let issues: Vec<String> = cook.validate().iter().map(ToString::to_string).collect();
    assert_eq!(issues, ["Patient.name[0]: has neither a value nor children (ele-1)"]);
    cook.name[0].text = Some("Chef".to_string().into());
    assert_eq!(cook.validate(), vec![]);
    assert_eq!(cook.elsewhere().len(), 0);
    // Value- and pattern-discriminated slices: the items that contain the slice's values.
    let kitchen: Vec<&str> =
        cook.identifier_kitchen_id().iter().filter_map(|i| i.value.as_ref()?.value.as_deref()).collect();
    assert_eq!(kitchen, ["K-7"]);
    cook.identifier_kitchen_id_mut()[0].value = Some("K-8".to_string().into());
    assert_eq!(cook.identifier[1].value.as_ref().unwrap().value.as_deref(), Some("K-8"));
    cook.identifier.push(id("http://example.org/kitchen-ids", "K-9"));
    assert_eq!(cook.validate(), vec![card("Patient.identifier:kitchenId", 1, Some(1), 2)]);
    cook.identifier.pop();
    // A rule inside the slice: its value is 1..1.
    cook.identifier_kitchen_id_mut()[0].value = None;
    assert_eq!(cook.validate(), vec![card("Patient.identifier:kitchenId.value", 1, Some(1), 0)]);
    cook.identifier_kitchen_id_mut()[0].value = Some("K-8".to_string().into());
    let speaks = |system: &str, code: &str| PatientCommunication {
        language: Some(CodeableConcept {
            coding: vec![Coding {
                system: Some(system.to_string().into()),
                code: Some(code.to_string().into()),
                display: Some("x".to_string().into()),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    cook.communication.push(speaks("urn:ietf:bcp:47", "en"));
    assert!(cook.communication_french().is_empty());
    cook.communication.push(speaks("urn:ietf:bcp:47", "fr"));
    cook.communication.push(speaks("http://other", "fr"));
    assert_eq!(cook.communication_french().len(), 1, "a pattern's system must match too; extra members may differ");
    cook.communication.push(speaks("urn:ietf:bcp:47", "fr"));
    assert_eq!(cook.validate(), vec![card("Patient.communication:french", 0, Some(1), 2)]);
    cook.communication.clear();
    // new() applied the fixed value and the pattern; changing them is reported.
    assert_eq!(cook.active.as_ref().and_then(|a| a.value), Some(true));
    assert_eq!(cook.marital_status.as_ref().unwrap().coding[0].code.as_ref().unwrap().value.as_deref(), Some("chef"));
    cook.language = Some("fr-CA".to_string().into());
    assert_eq!(cook.validate(), vec![]);
    cook.language = Some("de".to_string().into());
    assert_eq!(
        cook.validate(),
        vec![Issue::new(
            "Patient.language",
            IssueKind::Binding { value_set: "http://example.org/fhir/ValueSet/kitchen-languages" }
        )]
    );
    cook.language = None;
    cook.active = Some(false.into());
    cook.marital_status.as_mut().unwrap().coding[0].code = Some("cook".to_string().into());
    assert_eq!(
        cook.validate(),
        vec![
            Issue::new("Patient.active", IssueKind::Pattern { expected: "true", exact: true }),
            Issue::new(
                "Patient.maritalStatus",
                IssueKind::Pattern {
                    expected: r#"{"coding":[{"code":"chef","system":"http://example.org/cs"}]}"#,
                    exact: false
                }
            ),
        ]
    );
}

#[test]
fn the_guides_search_parameters_are_builder_methods() {
    use fhirstorm::r4::{Location, Organization, Practitioner};
    use fhirstorm::search::{NumberValue, StringValue, TokenValue};
    use ig_style::search::{patient, PatientSearchExt, PractitionerSearchExt};

    let q = Patient::search()
        .family(StringValue::exact("Cook"))
        .flavour(TokenValue::in_value_set("http://example.org/fhir/ValueSet/flavours"))
        .kitchen(Organization::reference("o1"))
        .kitchen(Location::reference("l1"))
        .kitchen_where(Organization::search().name("Bistro"))
        .count_param(NumberValue::ge("2"))
        .count(5)
        .include(patient::INCLUDE_KITCHEN)
        .sort_desc(patient::SORT_FLAVOUR);
    assert_eq!(
        q.to_query_string(),
        "family%3Aexact=Cook&flavour%3Ain=http%3A%2F%2Fexample.org%2Ffhir%2FValueSet%2Fflavours\
         &kitchen=Organization%2Fo1&kitchen=Location%2Fl1&kitchen%3AOrganization.name=Bistro&count=ge2\
         &_count=5&_include=Patient%3Akitchen&_sort=-flavour"
    );
    // The same parameter on another of its base types.
    let p = Practitioner::search().flavour(TokenValue::code("http://example.org/flavours", "umami"));
    assert_eq!(p.to_query_string(), "flavour=http%3A%2F%2Fexample.org%2Fflavours%7Cumami");
    // `_revinclude` of the guide's reference parameter, in a search on one of its targets.
    let o = Organization::search().revinclude(patient::REVINCLUDE_KITCHEN);
    assert_eq!(o.to_query_string(), "_revinclude=Patient%3Akitchen");
}

#[test]
fn a_datatype_profile_is_a_type_over_its_datatype() {
    use fhirstorm::r4::Identifier;
    use ig_style::profiles::KitchenId;

    let id = KitchenId::new();
    assert_eq!(id.system.as_ref().unwrap().value.as_deref(), Some("http://example.org/kitchen-ids"));
    let issues: Vec<String> = id.validate().iter().map(ToString::to_string).collect();
    assert_eq!(issues, ["Identifier.value: occurs 0 times, 1..1 allowed"]);
    let mut inner: Identifier = id.into();
    inner.value = Some("K-1".to_string().into());
    let id = KitchenId::try_from(inner).expect("valid now");
    assert_eq!(id.into_inner().value.unwrap().value.as_deref(), Some("K-1"));
}

#[test]
fn slices_by_resource_type_and_by_profile_have_accessors() {
    use fhirstorm::r4::{AnyResource, BundleEntry, Organization, Practitioner, Reference};
    use ig_style::profiles::{Cook, Menu};
    use std::collections::HashMap;

    // By the type of the resource an entry holds.
    let mut menu = Menu::new();
    menu.r#type = Some(fhirstorm::r4::codes::BundleType::Collection.into());
    let entry = |r: AnyResource| BundleEntry { resource: Some(r), ..Default::default() };
    menu.entry.push(entry(AnyResource::from(Practitioner::default())));
    menu.entry.push(entry(AnyResource::from(Patient::default())));
    assert_eq!(menu.entry_cook().len(), 1);
    assert!(menu.validate().is_empty(), "{:?}", menu.validate());
    menu.entry_cook_mut()[0].full_url = Some("urn:uuid:7e0b2f1c-2d1e-4c55-9a53-3f0e1c9b1a01".to_string().into());
    assert!(menu.entry[1].full_url.is_some());
    menu.entry.remove(1);
    let issues = menu.validate();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path(), "Bundle.entry:cook");

    // By a profile the reference's target meets: a contained one is found by the profile type
    // itself, another through `resolve`; a base resource's definition is met by its type.
    let mut cook = Cook::new();
    cook.contained.push(AnyResource::from(Organization { id: Some("k".into()), ..Default::default() }));
    let to = |r: &str| Reference { reference: Some(r.to_string().into()), ..Default::default() };
    cook.general_practitioner = vec![to("#k"), to("Practitioner/p"), to("Organization/o"), to("Organization/gone")];
    let bundle: HashMap<&str, AnyResource> = [
        ("Practitioner/p", AnyResource::from(Practitioner::default())),
        ("Organization/o", AnyResource::from(Organization::default())),
    ]
    .into();
    let resolve = |r: &Reference| bundle.get(r.reference.as_ref()?.value.as_deref()?);
    let kitchens = cook.general_practitioner_kitchen(resolve);
    assert_eq!(kitchens, vec![&to("#k"), &to("Organization/o")]);
    assert!(cook.general_practitioner_kitchen(|_| None).len() == 1, "only the contained one");
    // `validate()` leaves slices by profile alone; `validate_resolving()` counts them (0..1).
    let base_issues = cook.validate();
    let issues = cook.validate_resolving(resolve);
    assert_eq!(issues.len(), base_issues.len() + 1, "{issues:?}");
    let extra = issues.iter().find(|i| i.path() == "Patient.generalPractitioner:kitchen").expect("the slice's count");
    assert!(extra.to_string().contains("occurs 2 times"), "{extra}");
}

#[test]
fn an_extension_slice_below_the_profiles_level_reads_as_its_type() {
    use fhirstorm::r4::{ExtensionValue, HumanName};
    use fhirstorm::validation::IssueKind;
    use ig_style::profiles::Cook;

    let mut cook = Cook::new();
    let mut name = HumanName { family: Some("Bocuse".to_string().into()), ..Default::default() };
    name.extension.set_typed(Flavour(Coding { code: Some("umami".to_string().into()), ..Default::default() }));
    cook.name.push(name);
    let on_name = |issues: Vec<fhirstorm::validation::Issue>| {
        issues.into_iter().filter(|i| i.path().starts_with("Patient.name")).collect::<Vec<_>>()
    };
    assert_eq!(on_name(cook.validate()), vec![]);
    let umami = Flavour(Coding { code: Some("umami".to_string().into()), ..Default::default() });
    assert_eq!(cook.name_flavour().unwrap(), vec![umami], "read below the profile's level");
    // The flavour as a string: the extension's reader says what and where.
    cook.name[0].extension[0].value = Some(ExtensionValue::String("sweet".to_string().into()));
    let issues = on_name(cook.validate());
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path(), "Patient.name.extension:flavour");
    match issues[0].kind() {
        IssueKind::Extension(e) => assert_eq!(e.path(), "Extension.value[x]"),
        other => panic!("{other:?}"),
    }
    assert_eq!(cook.name_flavour().unwrap_err().path(), "Extension.value[x]");
}

#[test]
fn a_slice_below_the_profiles_level_has_a_read_accessor() {
    use fhirstorm::validation::IssueKind;
    use ig_style::profiles::Cook;

    let coding = |system: &str, code: &str| Coding {
        system: Some(system.to_string().into()),
        code: Some(code.to_string().into()),
        ..Default::default()
    };
    let v3 = coding("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M");
    let mut cook = Cook::new();
    // (new() gave it the profile's pattern, a coding of its own)
    let status = cook.marital_status.as_mut().expect("the pattern");
    status.coding.push(coding("http://example.org/local", "wed"));
    status.coding.push(v3.clone());
    assert_eq!(cook.marital_status_coding_v3(), vec![v3.clone()]);
    let on_status =
        |cook: &Cook| cook.validate().into_iter().filter(|i| i.path().contains("maritalStatus")).collect::<Vec<_>>();
    assert_eq!(on_status(&cook), vec![]);
    // The slice is 0..1 in each CodeableConcept.
    cook.marital_status.as_mut().unwrap().coding.push(v3);
    assert_eq!(cook.marital_status_coding_v3().len(), 2);
    let issues = on_status(&cook);
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].path(), "Patient.maritalStatus.coding:v3");
    assert!(matches!(issues[0].kind(), IssueKind::Cardinality { found: 2, .. }), "{issues:?}");
}
