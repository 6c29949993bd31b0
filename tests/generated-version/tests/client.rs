//! Models generated outside fhirstorm (R4B, by this crate's build script) with fhirstorm's client:
//! `Connection::<R4B>`, typed search with paging, `Reference::resolve`, a transaction and the
//! `fhirVersion` check, against the fake server of fhirstorm's tests (no registry package gives a
//! real R4B server that starts here; sekmet-fhir is R4).

#[path = "../../support/fake.rs"]
mod fake;

use fake::Reply;
use fhirstorm::client::{ClientVersion, Connection, ErrorKind};
use fhirstorm::Resource;
use fhirstorm_generated_version_test::r4b::{self, Observation, Patient, R4B};
use futures_util::TryStreamExt;

#[test]
fn the_adapter_is_generated_from_the_definitions() {
    assert_eq!(R4B::JSON_MIME, "application/fhir+json");
    const { assert!(R4B::JSON_PATCH, "R4B's capability statement has the patch interaction") };
    assert_eq!(<Patient as Resource>::TYPE, "Patient");
}

#[tokio::test]
async fn search_resolve_and_transaction_with_generated_models() {
    // Every interaction on both types, and transactions at the system level.
    let meta = fake::metadata("4.3.0", &["Patient", "Observation"])
        .replace(r#""mode":"server","#, r#""mode":"server","interaction":[{"code":"transaction"}],"#);
    let f = fake::start_with(|base| {
        vec![
            Reply::json(200, &meta),
            Reply::json(
                200,
                &format!(
                    r#"{{"resourceType":"Bundle","type":"searchset","total":2,"link":[{{"relation":"next","url":"{base}/Patient?family=Chalmers&_page=2"}}],"entry":[{{"fullUrl":"{base}/Patient/p1","resource":{{"resourceType":"Patient","id":"p1"}},"search":{{"mode":"match"}}}}]}}"#
                ),
            ),
            Reply::json(
                200,
                r#"{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"resource":{"resourceType":"Patient","id":"p2"},"search":{"mode":"match"}}]}"#,
            ),
            Reply::json(
                200,
                r#"{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Observation","id":"o1","status":"final","code":{"text":"weight"},"subject":{"reference":"Patient/p1"}},"search":{"mode":"match"}}]}"#,
            ),
            Reply::json(200, r#"{"resourceType":"Patient","id":"p1","name":[{"family":"Chalmers"}]}"#),
            Reply::json(
                200,
                r#"{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created","location":"Patient/p3/_history/1","etag":"W/\"1\""}}]}"#,
            ),
        ]
    })
    .await;
    let c = Connection::<R4B>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let s = c.service().await.unwrap();

    // Typed search, following the Bundle's `next` link.
    let pages: Vec<_> =
        s.r::<Patient>().search_pages(Patient::search().family("Chalmers")).try_collect().await.unwrap();
    let ids: Vec<_> = pages.iter().flat_map(|p| p.matches()).filter_map(|p| p.id.clone()).collect();
    assert_eq!(ids, ["p1", "p2"]);
    assert_eq!(pages[0].total, Some(2));

    // A reference search parameter typed by its targets, and `Reference::resolve`.
    let found = s.r::<Observation>().search(Observation::search().subject(Patient::reference("p1"))).await.unwrap();
    let obs = found.matches().first().expect("one observation");
    let subject = obs.subject.as_ref().expect("a subject");
    let patient: Patient = subject.resolve_as(&s, None).await.unwrap();
    assert_eq!(patient.name[0].family.as_ref().and_then(|f| f.value.as_deref()), Some("Chalmers"));

    // A contained resource resolves from its context, without a request.
    let mut holder = Observation::default();
    let contained = Patient { id: Some("c1".into()), ..Default::default() };
    holder.contained.push(contained.into_any());
    let local = r4b::Reference { reference: Some("#c1".to_string().into()), ..Default::default() };
    let any = local.resolve(&s, Some(&holder.clone().into_any())).await.unwrap();
    assert_eq!(any.id(), Some("c1"));

    // A transaction, its response typed.
    let done = s.transaction().create(&Patient::default()).send().await.unwrap();
    assert_eq!(done.entries[0].status, 201);
    assert_eq!(done.entries[0].id(), Some("p3"));

    let seen = f.seen.lock().unwrap().clone();
    let paths: Vec<_> = seen.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        paths,
        [
            "GET /fhir/metadata",
            "GET /fhir/Patient?family=Chalmers",
            "GET /fhir/Patient?family=Chalmers&_page=2",
            "GET /fhir/Observation?subject=Patient%2Fp1",
            "GET /fhir/Patient/p1",
            "POST /fhir/",
        ]
    );
    assert!(seen.iter().all(|r| r.headers.iter().any(|(k, v)| k == "accept" && v == "application/fhir+json")));
}

#[tokio::test]
async fn an_r4_server_is_refused() {
    let f = fake::start(vec![Reply::json(200, &fake::metadata("4.0.1", &["Patient"]))]).await;
    let c = Connection::<R4B>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let e = c.service().await.expect_err("an R4 server is not R4B");
    assert_eq!(e.kind(), ErrorKind::VersionMismatch, "{e}");
}
