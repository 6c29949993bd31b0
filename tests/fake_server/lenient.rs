//! Lenient reading: our own non-conformant resources
//! (`tests/fixtures/nonconformant/`, one file per kind of deviation real data shows) are refused
//! by strict reading and read by lenient reading, which keeps each member that does not fit as it
//! came, reports it with the same error strict reading gives, writes the resource back exactly,
//! and loses nothing in a read-modify-write. Then the same through the client: a search page
//! with one bad entry yields the good entries and the deviations, or, strict, one error.

use crate::fake;

use std::path::{Path, PathBuf};

use fhirstorm::client::Connection;
use fhirstorm::json::{self, Conformance, ErrorKind, FromJson, ToJson, Value};
use fhirstorm::{AnyResourceOf, R4};

fn fixture(version: &str, name: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("tests/fixtures/nonconformant").join(version).join(name)
}

/// A deviation: its JSON path and kind.
type Deviation = (&'static str, ErrorKind);

/// Each fixture (version, file) and the deviations it must produce, in document order.
const EXPECTED: &[(&str, &str, &[Deviation])] = &[
    (
        "dstu2",
        "bundle-generated.json",
        &[
            // A single CodeableConcept where Encounter.reason repeats.
            ("$.entry[1].resource.reason", ErrorKind::Type),
            // A CodeableConcept where DSTU2's Goal.description is a string.
            ("$.entry[2].resource.description", ErrorKind::Type),
            // A single Coding where CodeableConcept.coding repeats.
            ("$.entry[3].resource.code.coding", ErrorKind::Type),
        ],
    ),
    // Two types for one choice element.
    ("dstu2", "condition-two-onsets.json", &[("$.onsetPeriod", ErrorKind::Choice)]),
    (
        "stu3",
        "bundle-generated.json",
        &[
            ("$.entry[0].resource.reason", ErrorKind::Type),
            // An array where Encounter.period does not repeat.
            ("$.entry[0].resource.period", ErrorKind::Type),
            // A single Reference where reasonReference repeats.
            ("$.entry[1].resource.reasonReference", ErrorKind::Type),
            // "true" for true.
            ("$.entry[2].resource.active", ErrorKind::Type),
            // A dateTime where birthDate is a date.
            ("$.entry[2].resource.birthDate", ErrorKind::Value),
        ],
    ),
    (
        "r4",
        "patient-generated.json",
        &[("$.active", ErrorKind::Type), ("$.birthDate", ErrorKind::Value), ("$.maritalStatus", ErrorKind::Type)],
    ),
    ("r4", "observation-two-values.json", &[("$.valueQuantity", ErrorKind::Choice)]),
    (
        "r4",
        "searchset-one-bad-entry.json",
        &[
            ("$.entry[1].resource.birthDate", ErrorKind::Value),
            // A resource type R4 does not define.
            ("$.entry[3].resource.resourceType", ErrorKind::ResourceType),
        ],
    ),
];

fn check<A: FromJson + ToJson + AnyResourceOf + std::fmt::Debug>(
    version: &str,
    name: &str,
    expected: &[(&str, ErrorKind)],
) {
    let path = fixture(version, name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sent: Value = json::from_slice(&bytes).expect("the fixture is JSON");

    // Lenient: the deviations, each where expected.
    let read = json::from_slice_lenient::<A>(&bytes).unwrap_or_else(|e| panic!("{name}: lenient read failed: {e}"));
    let found: Vec<(String, ErrorKind)> = read.deviations.iter().map(|d| (d.path(), d.kind())).collect();
    let want: Vec<(String, ErrorKind)> = expected.iter().map(|(p, k)| (p.to_string(), *k)).collect();
    assert_eq!(found, want, "{version}/{name}: deviations");

    // Strict says the same thing, as an error: the first deviation.
    let strict = json::from_slice::<A>(&bytes).expect_err("strict reading refuses the fixture");
    assert_eq!(strict, read.deviations[0], "{version}/{name}: strict error and first deviation");

    // Written back exactly (member order aside: kept members are written last in their object).
    let back: Value = json::from_slice(&json::to_vec(&read.value)).expect("our output is JSON");
    assert_eq!(sent.first_difference(&back), None, "{version}/{name}: round trip");

    // Read, change, write: only the change.
    let mut changed = read.value;
    changed.set_id(Some("changed".into()));
    let back: Value = json::from_slice(&json::to_vec(&changed)).expect("our output is JSON");
    let mut expected_members = json::Members::new();
    let mut had_id = false;
    for (k, v) in sent.as_object().expect("a resource").iter() {
        had_id |= k == "id";
        expected_members.push(k, if k == "id" { Value::String("changed".into()) } else { v.clone() });
    }
    if !had_id {
        expected_members.push("id", Value::String("changed".into()));
    }
    assert_eq!(Value::Object(expected_members).first_difference(&back), None, "{version}/{name}: after a change");

    // What lenient reading writes, it reads back the same.
    let again = json::from_slice_lenient::<A>(&json::to_vec(&changed)).expect("lenient reads its own output");
    assert_eq!(json::to_vec(&again.value), json::to_vec(&changed), "{version}/{name}: stable");
    assert_eq!(again.deviations.len(), expected.len(), "{version}/{name}: the same deviations again");
}

#[test]
fn every_fixture_deviates_where_expected_and_round_trips() {
    for (version, name, expected) in EXPECTED {
        match *version {
            "dstu2" => check::<fhirstorm::dstu2::AnyResource>(version, name, expected),
            "stu3" => check::<fhirstorm::stu3::AnyResource>(version, name, expected),
            _ => check::<fhirstorm::r4::AnyResource>(version, name, expected),
        }
    }
    // Every file in the folders is listed.
    for version in ["dstu2", "stu3", "r4"] {
        let dir =
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("tests/fixtures/nonconformant").join(version);
        for entry in std::fs::read_dir(&dir).expect("fixture folder") {
            let name = entry.expect("entry").file_name().to_string_lossy().into_owned();
            assert!(
                EXPECTED.iter().any(|(v, n, _)| *v == version && *n == name),
                "{version}/{name} has no expectation"
            );
        }
    }
}

#[test]
fn a_deviation_deep_inside_is_kept_at_its_innermost_member() {
    // One bad given name: only `given` of that name is kept as it came; the rest is typed.
    let bytes = br#"{"resourceType":"Patient","name":[{"family":"A"},{"family":"B","given":"Bea"}],"gender":"female"}"#;
    let read = json::from_slice_lenient::<fhirstorm::r4::Patient>(bytes).expect("lenient");
    assert_eq!(read.deviations.len(), 1);
    assert_eq!(read.deviations[0].path(), "$.name[1].given");
    let p = read.value;
    assert_eq!(p.name.len(), 2);
    assert_eq!(p.name[1].family.as_ref().and_then(|f| f.value.as_deref()), Some("B"));
    assert!(p.name[1].given.is_empty());
    assert_eq!(p.name[1].unknown.get("given"), Some(&Value::String("Bea".into())));
    assert!(p.gender.is_some());
}

#[test]
fn half_read_members_leave_nothing_behind() {
    // The third item fails: the first two must not stay in the typed field beside the kept array
    // (a duplicate `given` on writing).
    for bytes in [
        &br#"{"resourceType":"Patient","name":[{"given":["A","B",3]}]}"#[..],
        br#"{"resourceType":"Patient","name":[{"_given":[{"id":"x"},null,"bad"],"given":["A","B","C"]}]}"#,
        br#"{"resourceType":"Patient","identifier":[{"value":"1"},{"value":"2"},"three"]}"#,
        br#"{"resourceType":"Observation","status":"final","code":{},"valueQuantity":"5 mg"}"#,
        br#"{"resourceType":"Observation","status":"final","code":{},"_valueString":{"id":"a"},"valueString":5}"#,
    ] {
        let sent: Value = json::from_slice(bytes).unwrap();
        let read = json::from_slice_lenient::<fhirstorm::r4::AnyResource>(bytes).expect("lenient");
        assert_eq!(read.deviations.len(), 1, "{}", String::from_utf8_lossy(bytes));
        let out = json::to_vec(&read.value);
        let back: Value = json::from_slice(&out).unwrap();
        assert_eq!(sent.first_difference(&back), None, "{}", String::from_utf8_lossy(&out));
    }
}

#[test]
fn what_lenient_reading_still_refuses() {
    use fhirstorm::r4::Patient;
    // Bad JSON inside a member that does not fit.
    let e = json::from_slice_lenient::<Patient>(br#"{"resourceType":"Patient","active":"true,"gender":"male"}"#)
        .expect_err("bad JSON");
    assert_eq!(e.kind(), ErrorKind::Syntax);
    let e = json::from_slice_lenient::<Patient>(br#"{"resourceType":"Patient","name":{"family":"A",}}"#)
        .expect_err("bad JSON in a kept member");
    assert_eq!(e.kind(), ErrorKind::Syntax);
    // Another resource type than asked for.
    let e = json::from_slice_lenient::<Patient>(br#"{"resourceType":"Observation","status":"final"}"#)
        .expect_err("another type");
    assert_eq!((e.kind(), e.path().as_str()), (ErrorKind::ResourceType, "$.resourceType"));
    // Not a resource at all.
    assert!(json::from_slice_lenient::<fhirstorm::r4::AnyResource>(b"[1,2]").is_err());
}

fn bad_page() -> String {
    std::fs::read_to_string(fixture("r4", "searchset-one-bad-entry.json")).expect("fixture")
}

async fn search(
    conformance: Conformance,
) -> Result<fhirstorm::client::SearchSet<R4, fhirstorm::r4::Patient>, fhirstorm::client::Error> {
    let f = fake::start(vec![
        fake::Reply::json(200, &fake::metadata("4.0.1", &["Patient"])),
        fake::Reply::json(200, &bad_page()),
    ])
    .await;
    let service = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .conformance(conformance)
        .build()
        .expect("connection")
        .service()
        .await
        .expect("service");
    service.r::<fhirstorm::r4::Patient>().search(fhirstorm::r4::Patient::search().family("x")).await
}

#[tokio::test]
async fn a_search_page_with_one_bad_entry_yields_the_good_ones_and_the_deviations() {
    // The default (lenient).
    let page = search(Conformance::Lenient).await.expect("the page reads");
    let ids: Vec<&str> = page.matches().iter().filter_map(|p| p.id.as_deref()).collect();
    assert_eq!(ids, ["a", "b", "c"], "every Patient, the one with a bad birthDate too");
    let b = &page.matches()[1];
    assert!(b.birth_date.is_none() && b.unknown.get("birthDate").is_some(), "b's birthDate kept as it came");
    assert!(b.gender.is_some());
    let paths: Vec<String> = page.deviations().iter().map(|d| d.path()).collect();
    assert_eq!(paths, ["$.entry[1].resource.birthDate", "$.entry[3].resource.resourceType"]);
    assert!(page.included().is_empty(), "the unknown resource type is in neither list");

    // Strict: the page is one error, naming where.
    let err = search(Conformance::Strict).await.expect_err("strict refuses the page");
    assert_eq!(err.kind(), fhirstorm::client::ErrorKind::Parse);
    let source = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<json::Error>()).expect("a JSON error");
    assert_eq!(source.path(), "$.entry[1].resource.birthDate");

    // The same page read directly.
    let base = url::Url::parse("http://example.org/fhir/").unwrap();
    let page =
        fhirstorm::client::SearchSet::<R4, fhirstorm::r4::Patient>::from_slice_lenient(bad_page().as_bytes(), &base)
            .expect("lenient");
    assert_eq!(page.matches().len(), 3);
    assert_eq!(page.deviations().len(), 2);
    assert!(
        fhirstorm::client::SearchSet::<R4, fhirstorm::r4::Patient>::from_slice(bad_page().as_bytes(), &base).is_err()
    );
}

#[tokio::test]
async fn a_fetch_says_what_did_not_fit() {
    let body = std::fs::read_to_string(fixture("r4", "patient-generated.json")).expect("fixture");
    let f = fake::start(vec![
        fake::Reply::json(200, &fake::metadata("4.0.1", &["Patient"])),
        fake::Reply::json(200, &body),
    ])
    .await;
    let service =
        Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap().service().await.unwrap();
    let read = service.r::<fhirstorm::r4::Patient>().fetch_with_deviations("p1").await.expect("lenient read");
    let paths: Vec<String> = read.deviations.iter().map(|d| d.path()).collect();
    assert_eq!(paths, ["$.active", "$.birthDate", "$.maritalStatus"]);
    assert_eq!(read.value.name.len(), 1);
}
