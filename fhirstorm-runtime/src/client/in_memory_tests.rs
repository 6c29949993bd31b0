//! The client's logic against canned answers, in memory (`transport::canned`): what it sends,
//! how it reads each answer, its retries and its token renewals. No socket: the base is an
//! HTTPS URL nothing listens on, and tokio's clock is paused where the test waits.

use std::time::Duration;

use super::test_version::Bare;
use super::{Connection, ErrorKind, RetryPolicy};
use crate::auth::{ClientAuth, ClientId, ClientSecret, SmartClient, SmartConfiguration, TokenResponse};
use crate::transport::canned::{Answer, Canned};

const BASE: &str = "https://fhir.example/r4";

fn statement(version: &str) -> Answer {
    Answer::json(
        200,
        &format!(
            r#"{{"resourceType":"CapabilityStatement","fhirVersion":"{version}","rest":[{{"mode":"server","resource":[{{"type":"Patient","interaction":[{{"code":"read"}}]}}]}}]}}"#
        ),
    )
}

fn retry() -> RetryPolicy {
    RetryPolicy { max_retries: 2, base_delay: Duration::from_secs(1), max_delay: Duration::from_secs(30) }
}

fn connection(canned: &Canned) -> Connection<Bare> {
    Connection::builder(BASE).canned(canned).retry(retry()).build().expect("a connection")
}

#[tokio::test]
async fn the_statement_is_asked_for_once_as_fhir_json() {
    let canned = Canned::new([statement("4.0.1")]);
    let conn = connection(&canned);
    assert_eq!(conn.metadata().await.expect("the statement").fhir_version, "4.0.1");
    conn.metadata().await.expect("the statement, cached");
    let sent = canned.sent();
    assert_eq!(sent.len(), 1, "read once");
    assert_eq!((sent[0].method.as_str(), sent[0].url.as_str()), ("GET", "https://fhir.example/r4/metadata"));
    assert_eq!(sent[0].headers["accept"], "application/fhir+json");
    assert!(sent[0].headers.get("authorization").is_none(), "no authorizer, no token");
}

#[tokio::test]
async fn a_server_of_another_version_is_a_typed_mismatch() {
    let canned = Canned::new([statement("3.0.2")]);
    let err = connection(&canned).metadata().await.expect_err("STU3 is not R4");
    assert_eq!(err.kind(), ErrorKind::VersionMismatch, "{err}");
    assert!(err.to_string().contains("3.0.2"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_busy_answer_is_retried_after_its_retry_after_then_the_budget_ends_in_the_status() {
    let canned = Canned::new([Answer::json(503, "").header("retry-after", "7"), statement("4.0.1")]);
    let started = tokio::time::Instant::now();
    connection(&canned).metadata().await.expect("read after the wait");
    assert_eq!(canned.sent().len(), 2);
    assert_eq!(started.elapsed(), Duration::from_secs(7), "the server's Retry-After");

    // No Retry-After: the policy's backoff (1 s, then 2 s), then the status as the error.
    let canned = Canned::new([Answer::json(429, ""), Answer::json(429, ""), Answer::json(429, "")]);
    let started = tokio::time::Instant::now();
    let err = connection(&canned).metadata().await.expect_err("still busy");
    assert_eq!((err.kind(), err.status()), (ErrorKind::Status, Some(429)), "{err}");
    assert_eq!(canned.sent().len(), 3, "the first try and two retries");
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test]
async fn a_refused_token_is_renewed_once_with_the_refresh_token() {
    let token = r#"{"access_token":"first","token_type":"Bearer","refresh_token":"r-1","expires_in":3600}"#;
    let renewed = r#"{"access_token":"second","token_type":"Bearer","expires_in":3600}"#;
    let canned = Canned::new([
        Answer::json(401, ""),
        Answer::json(200, renewed).header("cache-control", "no-store"),
        statement("4.0.1"),
    ]);
    let conn = connection(&canned);
    let config = SmartConfiguration::from_slice(
        br#"{"token_endpoint":"https://auth.example/token","authorization_endpoint":"https://auth.example/authorize"}"#,
        false,
    )
    .expect("a configuration");
    let client = SmartClient::new(&conn, config, ClientAuth::SecretPost(ClientId::new("app"), ClientSecret::new("s")));
    let session = client.session(TokenResponse::from_slice(token.as_bytes()).expect("a token"));
    let conn = conn.with_session(session.clone());
    conn.metadata().await.expect("read with the renewed token");

    let sent = canned.sent();
    assert_eq!((sent.len(), canned.left()), (3, 0), "one renewal, one retry");
    assert_eq!(sent[0].headers["authorization"], "Bearer first");
    assert_eq!(sent[1].url.as_str(), "https://auth.example/token");
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&sent[1].body).into_owned().collect();
    for pair in
        [("grant_type", "refresh_token"), ("refresh_token", "r-1"), ("client_id", "app"), ("client_secret", "s")]
    {
        assert!(form.contains(&(pair.0.to_string(), pair.1.to_string())), "{pair:?} in {form:?}");
    }
    assert_eq!(sent[2].headers["authorization"], "Bearer second");
    assert_eq!(session.token().access_token.secret(), "second");
    assert_eq!(session.token().refresh_token.as_ref().map(|t| t.secret()), Some("r-1"), "the refresh token is kept");
}

#[tokio::test]
async fn a_token_endpoints_refusal_is_a_typed_oauth_error_without_the_secret() {
    let canned = Canned::new([Answer::json(401, r#"{"error":"invalid_client","error_description":"who?"}"#)
        .header("content-type", "application/json")]);
    let conn = connection(&canned);
    let config = SmartConfiguration::from_slice(br#"{"token_endpoint":"https://auth.example/token"}"#, false)
        .expect("a configuration");
    let auth = ClientAuth::SecretBasic(ClientId::new("app"), ClientSecret::new("very-secret"));
    let err = SmartClient::new(&conn, config, auth)
        .client_credentials(&"system/*.read".parse().expect("scopes"))
        .await
        .expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Auth, "{err}");
    assert_eq!(err.auth().and_then(|f| f.oauth_error()), Some("invalid_client"), "{err}");
    let shown = format!("{err:#} {err:?}");
    assert!(shown.contains("who?") && !shown.contains("very-secret"), "{shown}");
    let sent = canned.sent();
    assert!(sent[0].headers["authorization"].to_str().is_ok_and(|v| v.starts_with("Basic ")), "client_secret_basic");
    assert!(!sent[0].text().contains("very-secret"), "the secret only in the header");
}
