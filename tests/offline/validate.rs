//! `fhirstorm::validation` against the base definitions: each kind of issue, at its location.
#![cfg(feature = "r4")]

use fhirstorm::r4::{AnyResource, Patient};
use fhirstorm::validation::{IssueKind, Validate};

fn issues_of(json: &str) -> Vec<(String, IssueKind, Option<&'static str>)> {
    let any: AnyResource = fhirstorm::json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    any.validate().into_iter().map(|i| (i.path().to_string(), i.kind().clone(), i.constraint())).collect()
}

fn card(min: usize, max: Option<usize>, found: usize) -> IssueKind {
    IssueKind::Cardinality { min, max, found }
}

#[test]
fn a_valid_resource_has_no_issue() {
    let json = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Rivera","given":["Elena"]}],
        "gender":"female","birthDate":"1980-02-29","_birthDate":{"extension":[{"url":"http://x","valueCode":"exact"}]},
        "contact":[{"name":{"text":"Ana"}}],"link":[{"other":{"reference":"Patient/p2"},"type":"seealso"}]}"#;
    assert_eq!(issues_of(json), vec![]);
}

#[test]
fn required_elements_at_every_depth() {
    // Observation.status and .code (1..1), Bundle.type, and inside a Bundle entry and a contained resource.
    let json = r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient",
        "contained":[{"resourceType":"Observation","id":"o","status":"final"}],"link":[{"type":"refer"}]}}]}"#;
    assert_eq!(
        issues_of(json),
        vec![
            ("Bundle.type".into(), card(1, Some(1), 0), None),
            ("Bundle.entry[0].resource.contained[0].code".into(), card(1, Some(1), 0), None),
            ("Bundle.entry[0].resource.link[0].other".into(), card(1, Some(1), 0), None),
        ]
    );
}

#[test]
fn codes_of_a_required_binding_formats_unknown_members_and_empty_elements() {
    let json = r#"{"resourceType":"Patient","gender":"femme","photo":[{"data":"abc"}],
        "contact":[{"telecom":[{"system":"phone","value":"1","rank":0}]}],"name":[{}],"_birthDate":{},
        "managingOrganization":{"reference":"Organization/1","nickname":"x"}}"#;
    assert_eq!(
        issues_of(json),
        vec![
            ("Patient.name[0]".into(), IssueKind::Empty, Some("ele-1")),
            (
                "Patient.gender".into(),
                IssueKind::Binding { value_set: "http://hl7.org/fhir/ValueSet/administrative-gender" },
                None
            ),
            ("Patient.birthDate".into(), IssueKind::Empty, Some("ele-1")),
            (
                "Patient.photo[0].data".into(),
                IssueKind::Format { type_code: "base64Binary", value: "abc".into() },
                None
            ),
            (
                "Patient.contact[0].telecom[0].rank".into(),
                IssueKind::Format { type_code: "positiveInt", value: "0".into() },
                None
            ),
            ("Patient.managingOrganization.nickname".into(), IssueKind::Unknown, None),
        ]
    );
}

#[test]
fn a_choice_is_one_element() {
    // MedicationRequest.medication[x] is 1..1, whichever its type; an empty Quantity is empty.
    let json = r#"{"resourceType":"MedicationRequest","status":"active","intent":"order",
        "subject":{"reference":"Patient/1"},"dispenseRequest":{"quantity":{}}}"#;
    assert_eq!(
        issues_of(json),
        vec![
            ("MedicationRequest.medication[x]".into(), card(1, Some(1), 0), None),
            ("MedicationRequest.dispenseRequest.quantity".into(), IssueKind::Empty, Some("ele-1")),
        ]
    );
    let json = r#"{"resourceType":"MedicationRequest","status":"active","intent":"order",
        "subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"text":"aspirin"}}"#;
    assert_eq!(issues_of(json), vec![]);
}

#[test]
fn a_model_built_in_code_is_validated_too() {
    let patient = Patient { id: Some("not valid!".into()), link: vec![Default::default()], ..Default::default() };
    let issues = patient.validate();
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        ["Patient.id: \"not valid!\" is not a valid id", "Patient.link[0]: has neither a value nor children (ele-1)"],
        "{text:?}"
    );
}

#[test]
fn a_codeable_concept_of_a_required_binding_needs_a_code_of_the_set() {
    let condition = |system: &str, code: &str| {
        format!(
            r#"{{"resourceType":"Condition","subject":{{"reference":"Patient/1"}},
            "clinicalStatus":{{"coding":[{{"system":"{system}","code":"{code}"}}],"text":"t"}}}}"#
        )
    };
    let clinical = "http://terminology.hl7.org/CodeSystem/condition-clinical";
    assert_eq!(issues_of(&condition(clinical, "active")), vec![]);
    let binding = IssueKind::Binding { value_set: "http://hl7.org/fhir/ValueSet/condition-clinical" };
    assert_eq!(
        issues_of(&condition(clinical, "cured")),
        vec![("Condition.clinicalStatus".into(), binding.clone(), None)]
    );
    // The right code in another system is not the set's code.
    assert_eq!(
        issues_of(&condition("http://snomed.info/sct", "active")),
        vec![("Condition.clinicalStatus".into(), binding, None)]
    );
}
