//! The models through serde: serde_json's fast path (fhirstorm reads and writes the raw text, so
//! the result is exact even without serde_json's `arbitrary_precision`, which this workspace leaves
//! off), the generic path every other format takes (CBOR here, serde's own buffering, serde_json's
//! pretty writer), and errors that name the JSON path.

use fhirstorm::json;
use fhirstorm::r4::{AnyResource, Observation, Patient};
use serde::{Deserialize, Serialize};

/// Numbers that an f64 cannot carry as written: trailing zeros, an exponent, more digits than 17.
const OBSERVATION: &str = concat!(
    r#"{"resourceType":"Observation","id":"exact","status":"final","code":{"text":"weight"},"#,
    r#""valueQuantity":{"value":1.50,"unit":"kg"},"component":[{"code":{"text":"a"},"valueQuantity":{"value":1E-22}},"#,
    r#"{"code":{"text":"b"},"valueQuantity":{"value":3.14159265358979323846264338327950288}}]}"#
);

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","active":true,"name":[{"family":"Chalmers","given":["Peter","James"]}],"birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1974-12-25T14:35:45-05:00"}]},"multipleBirthInteger":2}"#;

#[test]
fn serde_json_reads_and_writes_the_exact_text() {
    let o: Observation = serde_json::from_str(OBSERVATION).unwrap();
    assert_eq!(serde_json::to_string(&o).unwrap(), OBSERVATION);
    let from_bytes: AnyResource = serde_json::from_slice(OBSERVATION.as_bytes()).unwrap();
    assert_eq!(serde_json::to_vec(&from_bytes).unwrap(), OBSERVATION.as_bytes());
    // from_reader hands over an owned copy of the text; the result is the same.
    let from_reader: Observation = serde_json::from_reader(OBSERVATION.as_bytes()).unwrap();
    assert!(from_reader == o);
    let mut written = Vec::new();
    serde_json::to_writer(&mut written, &o).unwrap();
    assert_eq!(written, OBSERVATION.as_bytes());
    // And it is what fhirstorm's own entry points read and write.
    assert_eq!(json::to_string(&o), OBSERVATION);
    assert!(json::from_str::<Observation>(OBSERVATION).unwrap() == o);
}

/// A user's own types holding models, as an application's messages do.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Message {
    seq: u32,
    patient: Patient,
    attachments: Vec<AnyResource>,
    previous: Option<Box<Observation>>,
}

#[test]
fn models_inside_a_users_types_go_through_serde_json_exactly() {
    let text = format!(r#"{{"seq":7,"patient":{PATIENT},"attachments":[{OBSERVATION},{PATIENT}],"previous":null}}"#);
    let m: Message = serde_json::from_str(&text).unwrap();
    assert_eq!(m.seq, 7);
    assert_eq!(m.attachments.len(), 2);
    assert_eq!(serde_json::to_string(&m).unwrap(), text);
}

/// serde's own buffering (`untagged`, `flatten`) hands the models its generic data model: the
/// generic path reads them through `json::Value`.
#[derive(Serialize, Deserialize, Debug)]
#[serde(untagged)]
enum Either {
    Number(u64),
    Resource(Box<Patient>),
}

#[test]
fn the_generic_path_reads_what_serde_buffers() {
    let Either::Resource(p) = serde_json::from_str::<Either>(PATIENT).unwrap() else { panic!("read as a number") };
    assert!(*p == json::from_str::<Patient>(PATIENT).unwrap());
    assert!(matches!(serde_json::from_str::<Either>("12").unwrap(), Either::Number(12)));
}

#[test]
fn the_pretty_writer_takes_the_generic_path_and_writes_the_same_json() {
    let p: Patient = json::from_str(PATIENT).unwrap();
    let pretty = serde_json::to_string_pretty(&p).unwrap();
    assert!(pretty.contains("\n  \"name\": ["), "indented as serde_json indents: {pretty}");
    assert_eq!(json::to_string(&json::from_str::<Patient>(&pretty).unwrap()), PATIENT);
}

#[test]
fn cbor_round_trips_through_the_generic_path() {
    for text in [
        PATIENT,
        r#"{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":1.5}}"#,
    ] {
        let r: AnyResource = json::from_str(text).unwrap();
        let mut cbor = Vec::new();
        ciborium::into_writer(&r, &mut cbor).unwrap();
        let back: AnyResource = ciborium::from_reader(cbor.as_slice()).unwrap();
        assert_eq!(json::to_string(&back), text);
        // Not JSON text on the way: CBOR's own map, strings and numbers.
        assert!(!cbor.starts_with(b"{"));
    }
}

#[test]
fn errors_through_serde_name_the_json_path() {
    let bad = r#"{"resourceType":"Patient","name":[{"given":["a",7]}]}"#;
    let e = serde_json::from_str::<Patient>(bad).unwrap_err().to_string();
    assert!(e.contains("name[0].given[1]"), "{e}");
    let e = serde_json::from_str::<Patient>(r#"{"resourceType":"Observation"}"#).unwrap_err().to_string();
    assert!(e.contains("Observation"), "{e}");
    // serde_json's own syntax errors come first, with its line and column.
    let e = serde_json::from_str::<Patient>(r#"{"resourceType":"Patient","#).unwrap_err();
    assert!(e.is_eof(), "{e}");
    // The generic path names the path too (CBOR holding a Patient whose `active` is a string).
    let mut cbor = Vec::new();
    let bad: serde_json::Value = serde_json::from_str(r#"{"resourceType":"Patient","active":"yes"}"#).unwrap();
    ciborium::into_writer(&bad, &mut cbor).unwrap();
    let e = ciborium::from_reader::<Patient, _>(cbor.as_slice()).unwrap_err().to_string();
    assert!(e.contains("active"), "{e}");
}
