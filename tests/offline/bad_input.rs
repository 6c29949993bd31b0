//! Bad input gives a typed error that says what and where; it never panics.

use fhirstorm::json::{self, ErrorKind};
use fhirstorm::r4::{AnyResource, Bundle, Observation, Patient};

fn err_any(text: &str) -> json::Error {
    match AnyResource::from_slice(text.as_bytes()) {
        Ok(r) => panic!("expected an error, read {}", r.resource_type()),
        Err(e) => e,
    }
}

#[test]
fn truncated_json() {
    let e = err_any(r#"{"resourceType":"Patient","name":[{"family":"Ch"#);
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert_eq!(e.path(), "$.name[0].family");
    assert!(e.to_string().contains("unterminated string"), "{e}");
}

#[test]
fn missing_resource_type() {
    let e = err_any(r#"{"id":"x","name":[]}"#);
    assert_eq!(e.kind(), ErrorKind::ResourceType);
    assert!(e.to_string().contains("missing resourceType"), "{e}");
}

#[test]
fn unknown_resource_type() {
    let e = err_any(r#"{"resourceType":"MedicationOrder","id":"x"}"#);
    assert_eq!(e.kind(), ErrorKind::ResourceType);
    assert_eq!(e.path(), "$.resourceType");
    assert!(e.to_string().contains("\"MedicationOrder\""), "{e}");
}

#[test]
fn wrong_resource_type_for_the_type_asked() {
    let e = json::from_slice::<Patient>(br#"{"resourceType":"Observation","status":"final"}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ResourceType);
    assert_eq!(e.path(), "$.resourceType");
    assert!(e.to_string().contains("expected resourceType \"Patient\", found \"Observation\""), "{e}");
}

#[test]
fn wrong_resource_type_nested_in_a_bundle() {
    let text = r#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Nope"}}]}"#;
    let e = json::from_slice::<Bundle>(text.as_bytes()).unwrap_err();
    assert_eq!(e.path(), "$.entry[1].resource.resourceType");
}

#[test]
fn string_where_an_object_belongs() {
    let e = err_any(r#"{"resourceType":"Patient","name":["Chalmers"]}"#);
    assert_eq!(e.kind(), ErrorKind::Type);
    assert_eq!(e.path(), "$.name[0]");
    assert!(e.to_string().contains("expected an object, found a string"), "{e}");
}

#[test]
fn object_where_a_string_belongs() {
    let e = err_any(r#"{"resourceType":"Patient","gender":{"code":"male"}}"#);
    assert_eq!(e.kind(), ErrorKind::Type);
    assert_eq!(e.path(), "$.gender");
}

#[test]
fn unknown_choice_suffix() {
    let e = err_any(r#"{"resourceType":"Observation","status":"final","valueFoo":"x"}"#);
    assert_eq!(e.kind(), ErrorKind::Choice);
    assert_eq!(e.path(), "$.valueFoo");
    let e = err_any(r#"{"resourceType":"Observation","status":"final","_valueFoo":{}}"#);
    assert_eq!(e.kind(), ErrorKind::Choice);
}

#[test]
fn choices_of_one_enum_under_their_own_names() {
    // ElementDefinition has five choice elements; defaultValue[x], fixed[x] and pattern[x] share
    // one enum (ExtensionValue) and each is read and written under its own name.
    use fhirstorm::r4::{ElementDefinition, ElementDefinitionFixed, ExtensionValue};
    let text = r#"{"path":"Observation.code","defaultValueBoolean":true,"fixedString":"x","_fixedString":{"id":"f"},"patternCoding":{"code":"c"},"minValueInteger":1}"#;
    let e: ElementDefinition = json::from_str(text).unwrap();
    assert!(matches!(&e.fixed, Some(ElementDefinitionFixed::String(s)) if s.value.as_deref() == Some("x")));
    assert!(matches!(&e.pattern, Some(ExtensionValue::Coding(_))));
    assert!(matches!(&e.default_value, Some(ExtensionValue::Boolean(_))));
    let back: serde_json::Value = serde_json::from_slice(&json::to_vec(&e)).unwrap();
    assert_eq!(back, serde_json::from_str::<serde_json::Value>(text).unwrap());

    let e = json::from_str::<ElementDefinition>(r#"{"path":"x","minValueFoo":1}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Choice);
    assert_eq!(e.path(), "$.minValueFoo");
    assert!(e.to_string().contains("Foo is not an allowed type for the choice element minValue[x]"), "{e}");
    let e = json::from_str::<ElementDefinition>(r#"{"path":"x","_fixedAddress":{}}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Choice, "a complex type has no `_` member");
    let e = json::from_str::<ElementDefinition>(r#"{"path":"x","fixedString":"a","fixedBoolean":true}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Choice);
    assert_eq!(e.path(), "$.fixedBoolean");
    // A key that begins like a choice element but names no type is an unknown member.
    let e: ElementDefinition = json::from_str(r#"{"path":"x","fixedness":1}"#).unwrap();
    assert!(e.fixed.is_none() && e.unknown.iter().any(|(k, _)| k == "fixedness"));
}

#[test]
fn structs_read_in_place_leave_nothing_half_read() {
    // A struct-typed element, an array of them and a resource are read where they stay (in the
    // `Option`, the `Vec`, the `Box`): one that fails leaves nothing half-read behind.
    let p: Patient =
        json::from_str(r#"{"resourceType":"Patient","maritalStatus":{"text":"a"},"maritalStatus":{"text":"b"}}"#)
            .unwrap();
    assert_eq!(
        p.marital_status.and_then(|c| c.text).and_then(|t| t.value).as_deref(),
        Some("b"),
        "the last one counts"
    );

    let bad =
        r#"{"resourceType":"Patient","contact":[{"gender":"male"},{"gender":"female"},5],"maritalStatus":{"text":7}}"#;
    let e = json::from_str::<Patient>(bad).unwrap_err();
    assert_eq!((e.kind(), e.path().as_str()), (ErrorKind::Type, "$.contact[2]"), "{e}");
    // Lenient: each member that fails is kept whole as it came, its typed element left empty.
    let lenient = json::from_str_lenient::<Patient>(bad).unwrap();
    let p = lenient.value;
    assert!(p.contact.is_empty(), "no items of a failed array stay: {:?}", p.contact);
    assert!(p.marital_status.as_ref().is_some_and(|m| m.text.is_none() && m.unknown.iter().any(|(k, _)| k == "text")));
    assert!(p.unknown.iter().any(|(k, _)| k == "contact"));
    let paths: Vec<String> = lenient.deviations.iter().map(|d| d.path()).collect();
    assert_eq!(paths, ["$.contact[2]", "$.maritalStatus.text"]);
    let back: serde_json::Value = serde_json::from_slice(&json::to_vec(&p)).unwrap();
    assert_eq!(back, serde_json::from_str::<serde_json::Value>(bad).unwrap(), "written back as it came");

    // Arrays of every length through the growth steps (1, 4, 16, 64 items), each kept whole.
    for n in [1, 2, 4, 5, 16, 17, 70] {
        let names: Vec<String> = (0..n).map(|i| format!(r#"{{"text":"n{i}"}}"#)).collect();
        let text = format!(r#"{{"resourceType":"Patient","name":[{}]}}"#, names.join(","));
        let p: Patient = json::from_str(&text).unwrap();
        assert_eq!(p.name.len(), n);
        assert!(p.name.capacity() <= n.max(4), "{n} items kept in room for {}", p.name.capacity());
        assert_eq!(p.name[n - 1].text.as_ref().and_then(|t| t.value.as_deref()), Some(format!("n{}", n - 1).as_str()));
    }
}

#[test]
fn two_types_for_one_choice() {
    let e = json::from_slice::<Observation>(br#"{"resourceType":"Observation","valueString":"a","valueBoolean":true}"#)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Choice);
    assert_eq!(e.path(), "$.valueBoolean");
}

#[test]
fn bad_date() {
    let e = err_any(r#"{"resourceType":"Patient","birthDate":"1970-13-01"}"#);
    assert_eq!(e.kind(), ErrorKind::Value);
    assert_eq!(e.path(), "$.birthDate");
    assert!(e.to_string().contains("invalid date \"1970-13-01\""), "{e}");
    let e = err_any(
        r#"{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Patient","birthDate":"yesterday"}}]}"#,
    );
    assert_eq!(e.path(), "$.entry[0].resource.birthDate");
}

#[test]
fn integer_out_of_range_and_not_integer() {
    let e = err_any(r#"{"resourceType":"Patient","multipleBirthInteger":4294967296}"#);
    assert_eq!(e.kind(), ErrorKind::Value);
    assert_eq!(e.path(), "$.multipleBirthInteger");
    let e = err_any(r#"{"resourceType":"Patient","multipleBirthInteger":1.5}"#);
    assert_eq!(e.kind(), ErrorKind::Value);
}

#[test]
fn invalid_utf8_and_trailing_garbage() {
    let e = AnyResource::from_slice(b"{\"resourceType\":\"Patient\",\"id\":\"\xff\"}").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Syntax);
    assert!(e.to_string().contains("UTF-8"), "{e}");
    let e = err_any(r#"{"resourceType":"Patient"} x"#);
    assert_eq!(e.kind(), ErrorKind::Syntax);
}

#[test]
fn bad_escapes_and_numbers() {
    for text in [
        r#"{"resourceType":"Patient","id":"\x"}"#,
        r#"{"resourceType":"Patient","id":"\ud800"}"#,
        r#"{"resourceType":"Patient","active":tru}"#,
        r#"{"resourceType":"Observation","valueQuantity":{"value":01}}"#,
        r#"{"resourceType":"Observation","valueQuantity":{"value":1.}}"#,
        r#"{"resourceType":"Patient","name":[{"family":"a"},]}"#,
        r#"{"resourceType":"Patient",}"#,
        "{\"resourceType\":\"Patient\",\"id\":\"a\u{1}b\"}",
    ] {
        assert_eq!(err_any(text).kind(), ErrorKind::Syntax, "{text}");
    }
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    let depth = 100_000;
    let text = format!(r#"{{"resourceType":"Patient","extension":{}"#, "[".repeat(depth));
    assert_eq!(err_any(&text).kind(), ErrorKind::Type);
    let text = format!(r#"{{"resourceType":"Patient","zzz":{}"#, "[".repeat(depth));
    assert_eq!(err_any(&text).kind(), ErrorKind::Depth);
}

#[test]
fn every_truncation_of_a_real_bundle_is_an_error_not_a_panic() {
    let text = r#"{"resourceType":"Bundle","type":"searchset","total":1,"link":[{"relation":"next","url":"http://x/?p=2"}],
      "entry":[{"fullUrl":"http://x/Patient/1","resource":{"resourceType":"Patient","id":"1","name":[{"given":["A",null],"_given":[null,{"extension":[{"url":"u","valueDecimal":1.50}]}]}],
      "birthDate":"1970","contained":[{"resourceType":"Observation","status":"final","valueQuantity":{"value":1.50,"unit":"mg"}}]}}]}"#;
    assert!(AnyResource::from_slice(text.as_bytes()).is_ok());
    for end in 0..text.len() {
        if text.is_char_boundary(end) {
            assert!(
                AnyResource::from_slice(&text.as_bytes()[..end]).is_err(),
                "prefix of {end} bytes read as complete"
            );
        }
    }
}

#[test]
fn primitive_extensions_and_null_placeholders_round_trip() {
    let text = r#"{"resourceType":"Patient","name":[{"given":["A",null,"C"],"_given":[null,{"id":"g2","extension":[{"url":"u","valueString":"only ext"}]},null]}],"birthDate":"1970-03","_birthDate":{"extension":[{"url":"u","valueDecimal":1.50}]}}"#;
    let p: Patient = json::from_slice(text.as_bytes()).unwrap();
    let given = &p.name[0].given;
    assert_eq!(given.len(), 3);
    assert_eq!(given[1].value, None);
    assert_eq!(given[1].id(), Some("g2"));
    let back = json::from_slice::<json::Value>(&json::to_vec(&p)).unwrap();
    assert_eq!(json::Value::parse(text).unwrap().first_difference(&back), None);
}

#[test]
fn a_required_element_present_only_as_its_extension() {
    // Observation.status is 1..1; here it has only `_status` (data-absent-reason): legal FHIR.
    let text = r#"{"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"}}"#;
    let o: Observation = json::from_slice(text.as_bytes()).unwrap();
    assert!(o.status.as_ref().is_some_and(|s| s.value.is_none() && s.extension().len() == 1));
    let back = json::from_slice::<json::Value>(&json::to_vec(&o)).unwrap();
    assert_eq!(json::Value::parse(text).unwrap().first_difference(&back), None);
}

#[test]
fn unknown_codes_and_members_are_kept() {
    let text = r#"{"resourceType":"Patient","gender":"robot","vendorThing":{"a":[1.000,true,null]}}"#;
    let p: Patient = json::from_slice(text.as_bytes()).unwrap();
    assert_eq!(p.gender.as_ref().and_then(|g| g.value.as_ref()).map(|g| g.as_str()), Some("robot"));
    assert_eq!(p.unknown.len(), 1);
    assert_eq!(json::to_string(&p), text);
}

#[test]
fn nesting_up_to_the_depth_limit_fits_a_small_stack() {
    // Extensions in extensions, and contained resources in contained resources, as deep as the
    // parser allows: an error at the limit, never a stack overflow (tests run on 2 MiB stacks).
    let n = json::MAX_DEPTH as usize;
    let ext = format!(
        r#"{{"resourceType":"Patient","extension":{}[]{}}}"#,
        r#"[{"url":"u","extension":"#.repeat(n),
        "}]".repeat(n)
    );
    assert_eq!(err_any(&ext).kind(), ErrorKind::Depth);
    let contained = format!(
        r#"{{"resourceType":"Patient","contained":{}[]{}}}"#,
        r#"[{"resourceType":"Patient","contained":"#.repeat(n),
        "}]".repeat(n)
    );
    assert_eq!(err_any(&contained).kind(), ErrorKind::Depth);
    let items = format!(
        r#"{{"resourceType":"Questionnaire","status":"draft","item":{}[]{}}}"#,
        r#"[{"linkId":"a","type":"group","item":"#.repeat(n / 2 - 1),
        "}]".repeat(n / 2 - 1)
    );
    assert!(AnyResource::from_slice(items.as_bytes()).is_ok());
}

#[test]
fn a_leading_byte_order_mark_is_ignored() {
    let p: Patient = json::from_slice(b"\xEF\xBB\xBF{\"resourceType\":\"Patient\",\"id\":\"a\"}").unwrap();
    assert_eq!(p.id.as_deref(), Some("a"));
    // Only at the start.
    assert!(json::from_slice::<Patient>(b"{\"resourceType\":\"Patient\"}\xEF\xBB\xBF").is_err());
}

/// The promise for a byte order mark through serde: serde_json refuses it with its own error at
/// line 1 column 1 (it never reaches fhirstorm's code, and nothing panics); `json::strip_bom`
/// is the documented remedy, after which serde_json reads the same resource as `json::from_slice`.
#[test]
fn a_byte_order_mark_through_serde_is_refused_by_serde_json_and_strip_bom_is_the_remedy() {
    let bytes = b"\xEF\xBB\xBF{\"resourceType\":\"Patient\",\"id\":\"a\",\"birthDate\":\"1968-04-12\"}";
    let e = serde_json::from_slice::<Patient>(bytes).unwrap_err();
    assert_eq!((e.line(), e.column()), (1, 1), "{e}");
    let e = serde_json::from_slice::<AnyResource>(bytes).unwrap_err();
    assert_eq!((e.line(), e.column()), (1, 1), "{e}");

    let via_serde: Patient = serde_json::from_slice(json::strip_bom(bytes)).unwrap();
    let native: Patient = json::from_slice(bytes).unwrap();
    assert_eq!(json::to_vec(&via_serde), json::to_vec(&native));
    assert_eq!(json::strip_bom(b"{}"), b"{}", "nothing to strip");
    assert_eq!(json::strip_bom(b"\xEF\xBB"), b"\xEF\xBB", "only a whole mark");
}
