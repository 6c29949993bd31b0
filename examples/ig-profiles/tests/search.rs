//! The guides' `SearchParameter`s as methods of the base search builders.

use fhirstorm::r4::{Condition, Encounter, Observation, Patient, ServiceRequest};
use fhirstorm::search::TokenValue;
use fhirstorm_example_ig::{au_base, mcode};

#[test]
fn au_base_parameters_build_their_queries() {
    use au_base::search::{patient, service_request, EncounterSearchExt, PatientSearchExt, ServiceRequestSearchExt};

    let status = "https://healthterminologies.gov.au/fhir/CodeSystem/australian-indigenous-status-1";
    let q = Patient::search()
        .indigenous_status(TokenValue::code(status, "4"))
        // A code with no system: `|non-binary`.
        .gender_identity(TokenValue::code_without_system("non-binary"))
        .sort(patient::SORT_INDIGENOUS_STATUS);
    assert_eq!(
        q.to_query_string(),
        "indigenous-status=https%3A%2F%2Fhealthterminologies.gov.au%2Ffhir%2FCodeSystem%2F\
         australian-indigenous-status-1%7C4&gender-identity=%7Cnon-binary&_sort=indigenous-status"
    );
    let e = Encounter::search().discharge_disposition(TokenValue::not("http://snomed.info/sct", "306689006"));
    assert_eq!(e.to_query_string(), "discharge-disposition%3Anot=http%3A%2F%2Fsnomed.info%2Fsct%7C306689006");
    // `supporting-info` may refer to any R4 resource; chained, included and reverse-included.
    let s = ServiceRequest::search()
        .supporting_info(Observation::reference("o1"))
        .supporting_info_where(Observation::search().code(TokenValue::code("http://loinc.org", "8867-4")))
        .include(service_request::INCLUDE_SUPPORTING_INFO);
    assert_eq!(
        s.to_query_string(),
        "supporting-info=Observation%2Fo1&supporting-info%3AObservation.code=http%3A%2F%2Floinc.org%7C8867-4\
         &_include=ServiceRequest%3Asupporting-info"
    );
    let o = Observation::search().revinclude(service_request::REVINCLUDE_SUPPORTING_INFO);
    assert_eq!(o.to_query_string(), "_revinclude=ServiceRequest%3Asupporting-info");
}

#[test]
fn a_guide_parameter_named_like_a_base_one_is_reached_through_its_trait() {
    use mcode::search::ConditionSearchExt;

    let vs = "http://hl7.org/fhir/us/mcode/ValueSet/mcode-primary-or-uncertain-behavior-cancer-disorder-vs";
    // `.code(..)` is the base builder's own method; mCODE's (which adds the `in` modifier) is the
    // trait's, with the same query.
    let base = Condition::search().code(TokenValue::in_value_set(vs));
    let guide = ConditionSearchExt::code(Condition::search(), TokenValue::in_value_set(vs));
    assert_eq!(base.to_query_string(), guide.to_query_string());
    assert!(guide.to_query_string().starts_with("code%3Ain=http"));
}
