//! Faults and other versions, against a fake server (a real one does not misbehave on demand,
//! and the registries have no DSTU2 or STU3 server). The auth flows' faults are in
//! `auth_faults.rs`.

use crate::fake;

use std::time::Duration;

use fake::{metadata, start, Reply};
use fhirstorm::client::{Connection, ErrorKind, RetryPolicy};
use fhirstorm::r4::Patient;
use fhirstorm::R4;

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","birthDate":"1970"}"#;

fn r4_meta() -> Reply {
    Reply::json(200, &metadata("4.0.1", &["Patient", "Observation"]))
}

async fn connect(
    replies: Vec<Reply>,
    retry: RetryPolicy,
    timeout: Duration,
) -> (fake::Fake, fhirstorm::client::Service<R4>) {
    let f = start(replies).await;
    let c = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .retry(retry)
        .timeout(timeout)
        .max_response_bytes(64 * 1024)
        .build()
        .expect("connection");
    let s = c.service().await.expect("service");
    (f, s)
}

fn fast_retry(n: u32) -> RetryPolicy {
    RetryPolicy { max_retries: n, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(200) }
}

#[tokio::test]
async fn html_error_page_is_reported_with_status_and_excerpt() {
    let html = "<html><head><title>500 Internal Server Error</title></head><body><h1>Oops</h1></body></html>";
    let (_f, s) =
        connect(vec![r4_meta(), Reply::new(500, "text/html", html)], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status(), Some(500));
    assert!(err.outcome().is_none());
    // By default the body is not quoted (it may echo patient data): its type and size are.
    let msg = err.to_string();
    assert!(msg.contains("text/html") && msg.contains(&format!("{} bytes", html.len())), "{msg}");
    assert!(!msg.contains("Oops"), "{msg}");

    // Quoted when the app turns excerpts on.
    let f = start(vec![r4_meta(), Reply::new(500, "text/html", html)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).error_excerpts(true).build().unwrap();
    let err = c.service().await.unwrap().r::<Patient>().fetch("p1").await.unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("text/html") && msg.contains("500 Internal Server Error"), "{msg}");
}

#[tokio::test]
async fn retry_after_429_then_success() {
    let busy = Reply::json(429, "{}").header("retry-after", "0");
    let (f, s) =
        connect(vec![r4_meta(), busy.clone(), busy, Reply::json(200, PATIENT)], fast_retry(3), Duration::from_secs(5))
            .await;
    let p = s.r::<Patient>().fetch("p1").await.expect("retried to success");
    assert_eq!(p.id.as_deref(), Some("p1"));
    assert_eq!(f.seen.lock().unwrap().len(), 4, "metadata + 2 busy + 1 ok");
}

#[tokio::test]
async fn a_503_storm_ends_after_the_retry_budget() {
    let busy = Reply::json(503, "{}");
    let (f, s) = connect(vec![r4_meta(), busy], fast_retry(2), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(f.seen.lock().unwrap().len(), 1 + 3, "one try and two retries");
}

#[tokio::test]
async fn create_is_not_retried_after_a_503_but_after_a_429() {
    let (f, s) = connect(vec![r4_meta(), Reply::json(503, "{}")], fast_retry(3), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().create(&Patient::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "POST create sent once: a 503 does not say it was not done");
    assert_eq!(seen[1].method, "POST");

    // A 429 says the server refused it unprocessed: sent again.
    let (f, s) = connect(
        vec![r4_meta(), Reply::json(429, "{}"), Reply::json(201, PATIENT)],
        fast_retry(3),
        Duration::from_secs(5),
    )
    .await;
    s.r::<Patient>().create(&Patient::default()).await.expect("created on the second try");
    assert_eq!(f.seen.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_slow_server_times_out() {
    let mut slow = Reply::json(200, PATIENT);
    slow.trickle = Some(Duration::from_millis(200));
    let (_f, s) = connect(vec![r4_meta(), slow], fast_retry(0), Duration::from_secs(1)).await;
    let started = std::time::Instant::now();
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_body_over_the_maximum_is_refused() {
    let big = format!(r#"{{"resourceType":"Patient","id":"p1","text":{{"div":"{}"}}}}"#, "x".repeat(100_000));
    let (_f, s) = connect(vec![r4_meta(), Reply::json(200, &big)], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
}

#[tokio::test]
async fn wrong_content_type_invalid_json_and_wrong_type() {
    let (_f, s) =
        connect(vec![r4_meta(), Reply::new(200, "text/plain", PATIENT)], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("text/plain"), "{err}");

    // An invalid date: kept as it came by default (lenient), an error naming it when strict.
    let bad_date = r#"{"resourceType":"Patient","birthDate":"1970-13"}"#;
    let (_f, s) = connect(vec![r4_meta(), Reply::json(200, bad_date)], fast_retry(0), Duration::from_secs(5)).await;
    let p = s.r::<Patient>().fetch("p1").await.expect("lenient by default");
    assert!(p.birth_date.is_none() && p.unknown.get("birthDate").is_some());
    let f = start(vec![r4_meta(), Reply::json(200, bad_date)]).await;
    let strict = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .conformance(fhirstorm::json::Conformance::Strict)
        .build()
        .unwrap();
    let err = strict.service().await.unwrap().r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert_eq!(err.json().map(|j| j.path()), Some("$.birthDate".to_string()), "{err:?}");

    let (_f, s) = connect(
        vec![r4_meta(), Reply::json(200, r#"{"resourceType":"Observation","status":"final"}"#)],
        fast_retry(0),
        Duration::from_secs(5),
    )
    .await;
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Parse);
    assert!(err.to_string().contains("expected a Patient, the server sent a Observation"), "{err}");
}

#[tokio::test]
async fn a_next_link_to_another_origin_is_refused() {
    let page = r#"{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"https://evil.example/fhir/Patient?page=2"}],"entry":[]}"#;
    let (_f, s) = connect(vec![r4_meta(), Reply::json(200, page)], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().search([("name", "x")]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol);
    assert!(err.to_string().contains("outside the FHIR base"), "{err}");
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_not_followed() {
    let redirect = Reply::json(302, "").header("location", "https://evil.example/fhir/Patient/p1");
    let (f, s) = connect(vec![r4_meta(), redirect], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(f.seen.lock().unwrap().len(), 2, "nothing sent elsewhere");
    assert!(err.kind() == ErrorKind::Parse || err.kind() == ErrorKind::Status, "{err:?}");
}

#[tokio::test]
async fn stu3_and_dstu2_negotiate_their_media_types() {
    let f = start(vec![Reply::json(200, &metadata("3.0.1", &["Patient"])), Reply::json(200, PATIENT)]).await;
    let c = Connection::<fhirstorm::Stu3>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let s = c.service().await.unwrap();
    let p = s.r::<fhirstorm::stu3::Patient>().fetch("p1").await.unwrap();
    assert_eq!(p.id.as_deref(), Some("p1"));
    let seen = f.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|r| r.headers.iter().any(|(k, v)| k == "accept" && v == "application/fhir+json")));

    let f = start(vec![
        Reply::new(200, "application/json+fhir", &metadata("1.0.2", &["Patient", "MedicationOrder"])),
        Reply::new(200, "application/json+fhir", r#"{"resourceType":"Bundle","type":"searchset","total":1,"entry":[{"resource":{"resourceType":"MedicationOrder","id":"m1","status":"active"}}]}"#),
    ])
    .await;
    let c = Connection::<fhirstorm::Dstu2>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let caps = c.metadata().await.unwrap();
    assert!(matches!(caps.statement, fhirstorm::dstu2::AnyResource::Conformance(_)));
    let s = c.service().await.unwrap();
    // The Python FHIRstorm's search, in DSTU2 types.
    let orders = s.r::<fhirstorm::dstu2::MedicationOrder>().search([("patient", "p1")]).await.unwrap();
    assert_eq!(orders.matches().len(), 1);
    assert_eq!(orders.total, Some(1));
    let seen = f.seen.lock().unwrap().clone();
    assert!(seen.iter().all(|r| r.headers.iter().any(|(k, v)| k == "accept" && v == "application/json+fhir")));
    assert_eq!(seen[1].path, "/fhir/MedicationOrder?patient=p1");
}

#[tokio::test]
async fn long_searches_go_as_a_posted_form() {
    let empty = r#"{"resourceType":"Bundle","type":"searchset","total":0}"#;
    let (f, s) = connect(vec![r4_meta(), Reply::json(200, empty)], fast_retry(0), Duration::from_secs(5)).await;
    let ids: Vec<String> = (0..300).map(|i| format!("id-{i}")).collect();
    let joined = ids.join(",");
    s.r::<Patient>().search([("_id", joined.as_str())]).await.unwrap();
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen[1].method, "POST");
    assert_eq!(seen[1].path, "/fhir/Patient/_search");
    assert!(seen[1].headers.iter().any(|(k, v)| k == "content-type" && v == "application/x-www-form-urlencoded"));
    // A short one stays a GET.
    s.r::<Patient>().search([("_id", "a")]).await.unwrap();
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen[2].method, "GET");
}

#[tokio::test]
async fn a_search_parameter_the_server_ignored_is_reported() {
    let page = r#"{"resourceType":"Bundle","type":"searchset","total":0,"link":[{"relation":"self","url":"Patient?family=x&_count=5"}]}"#;
    let (_f, s) = connect(vec![r4_meta(), Reply::json(200, page)], fast_retry(0), Duration::from_secs(5)).await;
    let q = Patient::search().family("x").raw("vendor-flag", "on").count(5);
    let set = s.r::<Patient>().search(q).await.unwrap();
    assert_eq!(set.ignored_params(), ["vendor-flag".to_string()]);

    let f = start(vec![r4_meta(), Reply::json(200, page)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).strict_search(true).build().unwrap();
    let s = c.service().await.unwrap();
    let err = s.r::<Patient>().search(Patient::search().family("x").raw("vendor-flag", "on")).await.unwrap_err();
    assert!(err.is_unsupported() && err.to_string().contains("vendor-flag"), "{err}");
}

fn page_of(n: usize) -> String {
    let entries: Vec<String> = (0..n)
        .map(|i| format!(r#"{{"resource":{{"resourceType":"Patient","id":"p{i}"}},"search":{{"mode":"match"}}}}"#))
        .collect();
    format!(r#"{{"resourceType":"Bundle","type":"searchset","entry":[{}]}}"#, entries.join(","))
}

#[tokio::test]
async fn a_truncated_body_is_a_transport_error() {
    let mut cut = Reply::json(200, &page_of(50));
    cut.cut_after = Some(300);
    let (_f, s) = connect(vec![r4_meta(), cut], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().search([("name", "x")]).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Transport | ErrorKind::Parse), "{err:?}");
}

#[tokio::test]
async fn a_connection_reset_mid_page_is_a_transport_error() {
    let mut reset = Reply::json(200, &page_of(200));
    reset.cut_after = Some(2000);
    reset.reset = true;
    let (_f, s) = connect(vec![r4_meta(), reset], fast_retry(0), Duration::from_secs(5)).await;
    let err = s.r::<Patient>().search([("name", "x")]).await.unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Transport | ErrorKind::Parse), "{err:?}");
}

#[tokio::test]
async fn an_endless_body_stops_at_the_maximum() {
    let mut endless = Reply::json(200, &"[".repeat(8192));
    endless.endless = true;
    let (_f, s) = connect(vec![r4_meta(), endless], fast_retry(0), Duration::from_secs(10)).await;
    let started = std::time::Instant::now();
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_429_storm_without_retry_after_ends_after_the_budget() {
    let busy =
        Reply::json(429, r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"throttled"}]}"#);
    let (f, s) = connect(vec![r4_meta(), busy], fast_retry(3), Duration::from_secs(5)).await;
    let started = std::time::Instant::now();
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert_eq!(f.seen.lock().unwrap().len(), 1 + 4, "first try and 3 retries");
    assert!(started.elapsed() < Duration::from_secs(2));
    // A Retry-After far in the future is capped by the policy's max_delay.
    let busy = Reply::json(429, "{}").header("retry-after", "3600");
    let (_f, s) = connect(vec![r4_meta(), busy], fast_retry(1), Duration::from_secs(5)).await;
    let started = std::time::Instant::now();
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.status(), Some(429));
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn retry_after_as_an_http_date() {
    let busy = Reply::json(429, "{}").header("retry-after", "Thu, 01 Jan 1970 00:00:00 GMT");
    let (f, s) = connect(vec![r4_meta(), busy, Reply::json(200, PATIENT)], fast_retry(2), Duration::from_secs(5)).await;
    let started = std::time::Instant::now();
    let p = s.r::<Patient>().fetch("p1").await.expect("retried and read");
    assert_eq!(p.id.as_deref(), Some("p1"));
    assert_eq!(f.seen.lock().unwrap().len(), 3);
    assert!(started.elapsed() < Duration::from_secs(2), "a date in the past means now: {:?}", started.elapsed());
}

/// Plain HTTP to a host that is not loopback (a test network's container
/// name; here a name reqwest resolves to the fake) only with the loudly named opt-in.
#[tokio::test]
async fn plain_http_to_another_host_only_with_the_testing_opt_in() {
    let f = start(vec![r4_meta(), Reply::json(200, PATIENT)]).await;
    let addr: std::net::SocketAddr = f.base.trim_start_matches("http://").split('/').next().unwrap().parse().unwrap();
    let base = format!("http://fhir-server.test:{}/fhir", addr.port());
    let resolve = move |b: reqwest::ClientBuilder| b.resolve("fhir-server.test", addr);
    let err = Connection::<R4>::builder(&base)
        .allow_insecure_loopback(true)
        .configure_http_client(resolve)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert!(err.to_string().contains("allow_insecure_http_for_testing"), "{err}");
    let conn = Connection::<R4>::builder(&base)
        .allow_insecure_http_for_testing(true)
        .configure_http_client(resolve)
        .build()
        .unwrap();
    let p = conn.service().await.unwrap().r::<Patient>().fetch("p1").await.unwrap();
    assert_eq!(p.id.as_deref(), Some("p1"));
}

/// R5 against a fake R5 server (no registry package gives a real one that starts
/// here): a typed search whose pages follow the `next` link (in R5 a code of IANA's link
/// relations, no longer a string), and a transaction.
#[cfg(feature = "r5")]
#[tokio::test]
async fn r5_search_pages_follow_next_and_a_transaction_is_typed() {
    use fhirstorm::r5;
    use futures_util::TryStreamExt;
    let meta = r#"{"resourceType":"CapabilityStatement","status":"active","date":"2026-11-29","kind":"instance","fhirVersion":"5.0.0","format":["json"],"rest":[{"mode":"server","interaction":[{"code":"transaction"}],"resource":[{"type":"Patient","interaction":[{"code":"read"},{"code":"search-type"},{"code":"create"}],"searchParam":[{"name":"family","type":"string"}]}]}]}"#;
    let f = fake::start_with(|base| {
        vec![
            Reply::json(200, meta),
            Reply::json(
                200,
                &format!(
                    r#"{{"resourceType":"Bundle","type":"searchset","total":2,"link":[{{"relation":"self","url":"{base}/Patient?family=Chalmers"}},{{"relation":"next","url":"{base}/Patient?family=Chalmers&_page=2"}}],"entry":[{{"resource":{{"resourceType":"Patient","id":"p1"}},"search":{{"mode":"match"}}}}]}}"#
                ),
            ),
            Reply::json(
                200,
                r#"{"resourceType":"Bundle","type":"searchset","total":2,"entry":[{"resource":{"resourceType":"Patient","id":"p2"},"search":{"mode":"match"}}]}"#,
            ),
            Reply::json(
                200,
                r#"{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"201 Created","location":"Patient/p3/_history/1"}}]}"#,
            ),
        ]
    })
    .await;
    let c = Connection::<fhirstorm::R5>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let s = c.service().await.unwrap();
    let pages: Vec<_> =
        s.r::<r5::Patient>().search_pages(r5::Patient::search().family("Chalmers")).try_collect().await.unwrap();
    let ids: Vec<_> = pages.iter().flat_map(|p| p.matches()).filter_map(|p| p.id.clone()).collect();
    assert_eq!(ids, ["p1", "p2"], "the next link was followed");
    assert_eq!(pages[0].total, Some(2));
    let done = s.transaction().create(&r5::Patient::default()).send().await.unwrap();
    assert_eq!(done.entries.len(), 1);
    assert_eq!(done.entries[0].status, 201);
    assert_eq!(done.entries[0].id(), Some("p3"));
    let seen = f.seen.lock().unwrap().clone();
    assert_eq!(seen[1].path, "/fhir/Patient?family=Chalmers");
    assert_eq!(seen[2].path, "/fhir/Patient?family=Chalmers&_page=2");
    assert!(seen.iter().all(|r| r.headers.iter().any(|(k, v)| k == "accept" && v == "application/fhir+json")));

    // An R5 connection to an R4 server is refused at the capability statement.
    let r4 = start(vec![r4_meta()]).await;
    let c = Connection::<fhirstorm::R5>::builder(&r4.base).allow_insecure_loopback(true).build().unwrap();
    let e = c.service().await.expect_err("an R4 server is not R5");
    assert_eq!(e.kind(), ErrorKind::VersionMismatch, "{e}");
}
