//! The threats of RELIABILITY.md's table that a fake server can stage: each test is an attack
//! (a hostile id, a redirect, a link, a header) and checks the defence. Each failed on the code
//! before the defence was added (RELIABILITY.md says how).

use crate::fake;

use std::time::Duration;

use fake::{metadata, start, Reply};
use fhirstorm::auth::{Session, TokenResponse};
use fhirstorm::client::{Connection, ErrorKind, RetryPolicy, Service};
use fhirstorm::r4::Patient;
use fhirstorm::R4;

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","birthDate":"1970"}"#;

fn r4_meta() -> Reply {
    Reply::json(200, &metadata("4.0.1", &["Patient", "Observation"]))
}

fn fast_retry(n: u32) -> RetryPolicy {
    RetryPolicy { max_retries: n, base_delay: Duration::from_millis(10), max_delay: Duration::from_millis(200) }
}

fn bearer(token: &str) -> Session {
    Session::fixed(
        TokenResponse::from_slice(format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#).as_bytes()).unwrap(),
    )
}

async fn connect(replies: Vec<Reply>, retry: RetryPolicy) -> (fake::Fake, Service<R4>) {
    let f = start(replies).await;
    let c = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .retry(retry)
        .session(bearer("tok-secret-1"))
        .build()
        .expect("connection");
    let s = c.service().await.expect("service");
    (f, s)
}

fn paths(f: &fake::Fake) -> Vec<String> {
    f.seen.lock().unwrap().iter().map(|r| format!("{} {}", r.method, r.path)).collect()
}

/// Threat 1: an id of dots is a dot segment, which would send the call (with the token) to
/// another path: `everything(".")` to `Patient/$everything` (every patient), `delete("..")` to
/// the base, `operation(Some(".."), "expunge")` to the system-level `$expunge`.
#[tokio::test]
async fn ids_made_of_dots_never_reach_another_path() {
    let (f, s) = connect(vec![r4_meta(), Reply::json(200, PATIENT)], fast_retry(0)).await;
    let patients = s.r::<Patient>();
    for id in [".", "..", "...", "a/..", "../Observation", "%2e%2e", "p1?x=1", "p1#f", ""] {
        let errs = [
            patients.fetch(id).await.map(drop).unwrap_err(),
            patients.everything(id).await.map(drop).unwrap_err(),
            patients.history(id).await.map(drop).unwrap_err(),
            patients.delete(id).await.unwrap_err(),
            patients.vread("p1", id).await.map(drop).unwrap_err(),
            patients.operation(Some(id), "expunge", None).await.map(drop).unwrap_err(),
        ];
        for e in errs {
            assert_eq!(e.kind(), ErrorKind::Config, "{id:?}: {e}");
        }
        let e = s.transaction().delete::<Patient>(id).send().await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{id:?} in a transaction: {e}");
    }
    assert_eq!(paths(&f), ["GET /fhir/metadata"], "nothing but the capability statement was requested");
    // Ids with dots that are not only dots are ids.
    patients.fetch("a.b").await.unwrap();
    assert_eq!(paths(&f)[1], "GET /fhir/Patient/a.b");
}

/// Threat 6: another path of the same host (another tenant) gets neither a request nor the
/// token: a next link, a `Location`, a redirect.
#[tokio::test]
async fn the_token_goes_only_to_urls_under_the_base() {
    // A next link to another tenant on the same origin (a path-absolute URL: same scheme,
    // host and port as the base).
    let page = r#"{"resourceType":"Bundle","type":"searchset","link":[{"relation":"next","url":"/other-tenant/fhir/Patient?page=2"}],"entry":[]}"#;
    let (f, s) = connect(vec![r4_meta(), Reply::json(200, page)], fast_retry(0)).await;
    let err = s.r::<Patient>().search([("name", "x")]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.to_string().contains("outside the FHIR base"), "{err}");
    assert_eq!(paths(&f).len(), 2);

    // A redirect to another tenant on the same origin is not followed.
    let redirect = Reply::json(302, "").header("location", "/other-tenant/fhir/Patient/p1");
    let (f, s) = connect(vec![r4_meta(), redirect, Reply::json(200, PATIENT)], fast_retry(0)).await;
    assert!(s.r::<Patient>().fetch("p1").await.is_err());
    assert!(paths(&f).iter().all(|p| !p.contains("other-tenant")), "{:?}", paths(&f));

    // A create answered with a Location in another tenant: not fetched.
    let created = Reply::json(201, "").header("location", "/other-tenant/fhir/Patient/p9/_history/1");
    let (f, s) = connect(vec![r4_meta(), created], fast_retry(0)).await;
    let err = s.r::<Patient>().create(&Patient::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(paths(&f).iter().all(|p| !p.contains("other-tenant")), "{:?}", paths(&f));
}

/// Threat 5: a client configured by the caller to follow every redirect and send `Referer`
/// still follows none outside the base, so a 307 cannot re-send a resource elsewhere.
#[tokio::test]
async fn a_callers_http_settings_cannot_loosen_the_redirect_policy() {
    let elsewhere = start(vec![Reply::json(201, PATIENT)]).await;
    let redirect = Reply::json(307, "").header("location", &format!("{}/Patient", elsewhere.base));
    let f = start(vec![r4_meta(), redirect]).await;
    let conn = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .session(bearer("tok-secret-1"))
        .configure_http_client(|b| b.redirect(reqwest::redirect::Policy::limited(10)).referer(true))
        .build()
        .unwrap();
    let s = conn.service().await.unwrap();
    assert!(s.r::<Patient>().create(&Patient::default()).await.is_err());
    assert!(elsewhere.seen.lock().unwrap().is_empty(), "the body was re-sent to another origin");
    assert!(f.seen.lock().unwrap().iter().all(|r| r.headers.iter().all(|(k, _)| k != "referer")));

    // A redirect under the base is still followed, without a Referer.
    let moved = Reply::json(307, "").header("location", "/fhir/Patient/p2");
    let f = start(vec![r4_meta(), moved, Reply::json(200, PATIENT)]).await;
    let conn = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .configure_http_client(|b| b.referer(true))
        .build()
        .unwrap();
    let fetched = conn.service().await.unwrap().r::<Patient>().fetch("p1").await;
    assert!(fetched.is_ok(), "{fetched:?}: {:?}", paths(&f));
    assert_eq!(paths(&f), ["GET /fhir/metadata", "GET /fhir/Patient/p1", "GET /fhir/Patient/p2"]);
    assert!(f.seen.lock().unwrap().iter().all(|r| r.headers.iter().all(|(k, _)| k != "referer")));
}

/// Threat 7: a `Retry-After` date with a huge year overflowed the date arithmetic (a panic in
/// debug builds) from any server's 429.
#[tokio::test]
async fn a_retry_after_with_a_huge_year_is_ignored_not_a_panic() {
    let mut replies = vec![r4_meta()];
    for date in [
        "Sun, 06 Nov 99999999999999999 08:49:37 GMT",
        "Sun, 06 Nov 18446744073709551615 08:49:37 GMT",
        "Fri, 31 Dec 9999 23:59:59 GMT",
    ] {
        replies.push(Reply::json(429, "{}").header("retry-after", date));
    }
    replies.push(Reply::json(200, PATIENT));
    let (f, s) = connect(replies, fast_retry(3)).await;
    s.r::<Patient>().fetch("p1").await.expect("retried with the policy's bounded delay");
    assert_eq!(paths(&f).len(), 5);
}

/// Threat 9a: a transaction or batch that the server may have processed (503) is not re-sent;
/// one it refused unprocessed (429) is.
#[tokio::test]
async fn a_transaction_is_retried_only_when_the_server_did_not_process_it() {
    let done = r#"{"resourceType":"Bundle","type":"transaction-response","entry":[{"response":{"status":"204"}}]}"#;
    let meta = metadata("4.0.1", &["Patient"])
        .replace(r#""mode":"server","#, r#""mode":"server","interaction":[{"code":"transaction"},{"code":"batch"}],"#);
    let r4_meta = || Reply::json(200, &meta);
    let (f, s) = connect(vec![r4_meta(), Reply::json(503, "{}"), Reply::json(200, done)], fast_retry(3)).await;
    let err = s.transaction().delete::<Patient>("p1").send().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(paths(&f).len(), 2, "sent once");

    let (f, s) = connect(vec![r4_meta(), Reply::json(429, "{}"), Reply::json(200, done)], fast_retry(3)).await;
    s.batch().delete::<Patient>("p1").send().await.expect("re-sent after the 429");
    assert_eq!(paths(&f).len(), 3);
}
