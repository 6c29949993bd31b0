//! The query strings the generated search builders produce.

use fhirstorm::r4::{self, MedicationRequest, Observation, Patient};
use fhirstorm::search::{
    DateValue, Include, NumberValue, Prefix, QuantityValue, SortKey, StringValue, Summary, TokenValue, Total, UriValue,
};

fn pairs<R>(q: impl Into<fhirstorm::search::Query<R>>) -> Vec<(String, String)> {
    q.into().into_pairs()
}

fn p(k: &str, v: &str) -> (String, String) {
    (k.to_string(), v.to_string())
}

#[test]
fn the_seeds_search_in_r4_types() {
    let q = MedicationRequest::search().patient(Patient::reference("123"));
    assert_eq!(pairs(q), vec![p("patient", "Patient/123")]);
}

#[test]
fn string_modifiers_and_escaping() {
    let q = Patient::search()
        .family("O'Brien, Jr")
        .family(StringValue::exact("Smith"))
        .given(StringValue::contains("a$b|c\\d"))
        .name(StringValue::any(["x", "y,z"]))
        .address_postalcode(StringValue::missing(true));
    assert_eq!(
        pairs(q),
        vec![
            p("family", r"O'Brien\, Jr"),
            p("family:exact", "Smith"),
            p("given:contains", r"a\$b\|c\\d"),
            p("name", r"x,y\,z"),
            p("address-postalcode:missing", "true"),
        ]
    );
}

#[test]
fn tokens() {
    let q = Observation::search()
        .code(TokenValue::code("http://loinc.org", "8867-4"))
        .code("8867-4")
        .category(TokenValue::system("http://terminology.hl7.org/CodeSystem/observation-category"))
        .code(TokenValue::text("heart rate"))
        .status(TokenValue::not("http://hl7.org/fhir/observation-status", "cancelled"))
        .code(TokenValue::below("http://snomed.info/sct", "235856003"))
        .code(TokenValue::in_value_set("http://example.org/vs"))
        .identifier(TokenValue::of_type("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "446053"))
        .code(TokenValue::any([TokenValue::code("http://loinc.org", "1"), TokenValue::from("2")]));
    assert_eq!(
        pairs(q),
        vec![
            p("code", "http://loinc.org|8867-4"),
            p("code", "8867-4"),
            p("category", "http://terminology.hl7.org/CodeSystem/observation-category|"),
            p("code:text", "heart rate"),
            p("status:not", "http://hl7.org/fhir/observation-status|cancelled"),
            p("code:below", "http://snomed.info/sct|235856003"),
            p("code:in", "http://example.org/vs"),
            p("identifier:of-type", "http://terminology.hl7.org/CodeSystem/v2-0203|MR|446053"),
            p("code", "http://loinc.org|1,2"),
        ]
    );
}

#[test]
fn dates_numbers_quantities_uris() {
    let q = Observation::search()
        .date(DateValue::ge("2020-01"))
        .date(DateValue::lt("2021"))
        .date("2020-03-04T10:00:00Z")
        .value_quantity(QuantityValue::new(Prefix::Gt, "5.40", "http://unitsofmeasure.org", "mg"))
        .value_quantity(QuantityValue::number(Prefix::Ap, "100"));
    assert_eq!(
        pairs(q),
        vec![
            p("date", "ge2020-01"),
            p("date", "lt2021"),
            p("date", "2020-03-04T10:00:00Z"),
            p("value-quantity", "gt5.40|http://unitsofmeasure.org|mg"),
            p("value-quantity", "ap100"),
        ]
    );
    let q = r4::RiskAssessment::search().probability(NumberValue::le("0.5"));
    assert_eq!(pairs(q), vec![p("probability", "le0.5")]);
    let q = r4::ValueSet::search().url(UriValue::below("http://acme.org/fhir/"));
    assert_eq!(pairs(q), vec![p("url:below", "http://acme.org/fhir/")]);
}

#[test]
fn common_parameters_includes_chains() {
    let q = Patient::search()
        .id("a")
        .last_updated(DateValue::gt("2020"))
        .general_practitioner(r4::Practitioner::reference("p1"))
        .include(Patient::INCLUDE_GENERAL_PRACTITIONER)
        .count(50)
        .summary(Summary::Count)
        .raw("vendor-param", "x");
    assert_eq!(
        pairs(q),
        vec![
            p("_id", "a"),
            p("_lastUpdated", "gt2020"),
            p("general-practitioner", "Practitioner/p1"),
            p("_include", "Patient:general-practitioner"),
            p("_count", "50"),
            p("_summary", "count"),
            p("vendor-param", "x"),
        ]
    );
    let q = Observation::search().subject_where(Patient::search().name("peter").birthdate(DateValue::eq("1974")));
    assert_eq!(pairs(q), vec![p("subject:Patient.name", "peter"), p("subject:Patient.birthdate", "1974")]);
    assert_eq!(Observation::search().subject(Patient::reference("1")).to_query_string(), "subject=Patient%2F1");
}

#[test]
fn stu3_has_its_own_parameters() {
    use fhirstorm::stu3;
    // STU3 has MedicationRequest too, with its own builder.
    let q = stu3::MedicationRequest::search().patient(stu3::Patient::reference("1"));
    assert_eq!(pairs(q), vec![p("patient", "Patient/1")]);
}

#[test]
fn sort_elements_revinclude() {
    let q = Patient::search()
        .sort(Patient::SORT_BIRTHDATE)
        .sort_desc(Patient::SORT_FAMILY)
        .elements([Patient::ELEMENT_NAME, Patient::ELEMENT_BIRTH_DATE])
        .revinclude(Observation::REVINCLUDE_SUBJECT)
        .revinclude_iterate(MedicationRequest::REVINCLUDE_PATIENT);
    assert_eq!(
        pairs(q),
        vec![
            p("_sort", "birthdate,-family"),
            p("_elements", "name,birthDate"),
            p("_revinclude", "Observation:subject"),
            p("_revinclude:iterate", "MedicationRequest:patient"),
        ]
    );
}

#[test]
fn dstu2_has_the_common_parameters_and_the_raw_escape_hatch() {
    use fhirstorm::dstu2;
    // The Python FHIRstorm's search, in DSTU2 types: no SearchParameter definitions exist for DSTU2 in any
    // registry package, so `patient` goes through the raw escape hatch.
    let q = dstu2::MedicationOrder::search().raw("patient", "123").id("m1").last_updated(DateValue::ge("2016"));
    assert_eq!(pairs(q), vec![p("patient", "123"), p("_id", "m1"), p("_lastUpdated", "ge2016")]);
    // Includes and sort keys by name; DSTU2 says `:recurse`.
    let q = dstu2::MedicationOrder::search()
        .include(Include::unchecked("MedicationOrder:patient"))
        .include_recurse(Include::unchecked("MedicationOrder:prescriber"))
        .sort_desc(SortKey::unchecked("datewritten"))
        .count(10);
    assert_eq!(
        pairs(q),
        vec![
            p("_include", "MedicationOrder:patient"),
            p("_include:recurse", "MedicationOrder:prescriber"),
            p("_sort", "-datewritten"),
            p("_count", "10"),
        ]
    );
}

#[test]
fn reverse_chains_with_has() {
    let q = Patient::search()
        .has(
            Observation::REVINCLUDE_SUBJECT,
            Observation::search().code(TokenValue::code("http://loinc.org", "1234-5")),
        )
        .has(
            MedicationRequest::REVINCLUDE_SUBJECT,
            MedicationRequest::search()
                .status("active")
                .intent(TokenValue::any([TokenValue::from("order"), "plan".into()])),
        );
    assert_eq!(
        pairs(q),
        vec![
            p("_has:Observation:subject:code", "http://loinc.org|1234-5"),
            p("_has:MedicationRequest:subject:status", "active"),
            p("_has:MedicationRequest:subject:intent", "order,plan"),
        ]
    );
}

#[test]
fn composites_are_typed_tuples() {
    let q = Observation::search()
        .code_value_quantity((
            TokenValue::code("http://loinc.org", "8480-6"),
            QuantityValue::new(Prefix::Gt, "140", "http://unitsofmeasure.org", "mm[Hg]"),
        ))
        .code_value_date((TokenValue::from("x$y"), DateValue::ge("2020-01")));
    assert_eq!(
        pairs(q),
        vec![
            p("code-value-quantity", "http://loinc.org|8480-6$gt140|http://unitsofmeasure.org|mm[Hg]"),
            p("code-value-date", r"x\$y$ge2020-01"),
        ]
    );
}

#[test]
fn total_in_r4_and_recurse_in_stu3() {
    assert_eq!(pairs(Patient::search().total(Total::Accurate)), vec![p("_total", "accurate")]);
    use fhirstorm::stu3;
    let q = stu3::Patient::search()
        .include_recurse(stu3::Patient::INCLUDE_GENERAL_PRACTITIONER)
        .include_iterate(stu3::Patient::INCLUDE_ORGANIZATION);
    assert_eq!(
        pairs(q),
        vec![p("_include:recurse", "Patient:general-practitioner"), p("_include:iterate", "Patient:organization")]
    );
}

/// R4B: the builders come from R4B's own SearchParameters, with the resources R4B
/// added to R4 (`ClinicalUseDefinition`, `SubscriptionTopic`).
#[cfg(feature = "r4b")]
#[test]
fn r4b_builders_from_r4b_search_parameters() {
    use fhirstorm::r4b;
    let q = r4b::Observation::search()
        .subject(r4b::Patient::reference("p1"))
        .code(TokenValue::code("http://loinc.org", "8867-4"))
        .total(Total::Accurate);
    assert_eq!(
        pairs(q),
        vec![p("subject", "Patient/p1"), p("code", "http://loinc.org|8867-4"), p("_total", "accurate")]
    );
    let q = r4b::ClinicalUseDefinition::search().r#type("contraindication");
    assert_eq!(pairs(q), vec![p("type", "contraindication")]);
    let q = r4b::SubscriptionTopic::search().url(UriValue::from("http://example.org/topic")).status("active");
    assert_eq!(pairs(q), vec![p("url", "http://example.org/topic"), p("status", "active")]);
}

/// R5: the builders come from R5's own SearchParameters (`Observation?subject`
/// allows R5's new targets, `_total` and `:iterate` are there), with R5-only resources.
#[cfg(feature = "r5")]
#[test]
fn r5_builders_from_r5_search_parameters() {
    use fhirstorm::r5;
    let q = r5::Observation::search()
        .subject(r5::Patient::reference("p1"))
        .code(TokenValue::code("http://loinc.org", "8867-4"))
        .date(DateValue::ge("2023"))
        .total(Total::Accurate)
        .include_iterate(r5::Observation::INCLUDE_SUBJECT);
    assert_eq!(
        pairs(q),
        vec![
            p("subject", "Patient/p1"),
            p("code", "http://loinc.org|8867-4"),
            p("date", "ge2023"),
            p("_total", "accurate"),
            p("_include:iterate", "Observation:subject"),
        ]
    );
    // A resource R5 added, with its own parameters.
    let q = r5::SubscriptionTopic::search().url(UriValue::from("http://example.org/topic")).status("active");
    assert_eq!(pairs(q), vec![p("url", "http://example.org/topic"), p("status", "active")]);
    // R5 subjects may be other types than R4's (a Medication subject, say, for Observation).
    let q = r5::Observation::search().subject(r5::Medication::reference("m1"));
    assert_eq!(pairs(q), vec![p("subject", "Medication/m1")]);
}
