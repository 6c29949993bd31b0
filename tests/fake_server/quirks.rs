//! Server quirks that users of SMART client libraries report from real EHR sandboxes and
//! authorization servers (`docs/client.md`, "Server quirks": each row names its source thread and the test
//! here). Each test stages the quirk with the fake server and shows that fhirstorm copes, or
//! gives a typed error that says what the server did wrong.

use crate::fake;

use fake::{metadata, start, Reply};
use fhirstorm::auth::{
    AuthorizationCode, ClientAuth, ClientId, ClientSecret, PkceVerifier, SmartClient, SmartConfiguration, TokenResponse,
};
use fhirstorm::client::{Connection, ErrorKind};
use fhirstorm::r4::Patient;
use fhirstorm::R4;

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1"}"#;

/// A SMART client whose token endpoint is a fake answering `token_replies` in order.
async fn smart_fake(token_replies: Vec<Reply>) -> (fake::Fake, SmartClient) {
    let f = start(token_replies).await;
    let client = fake::smart_client::<fhirstorm::R4>(
        &f,
        ClientAuth::SecretBasic(ClientId::new("app"), ClientSecret::new("s3cret")),
    );
    (f, client)
}

async fn exchange(token_json: &str) -> (fake::Fake, SmartClient, TokenResponse) {
    let (f, client) = smart_fake(vec![Reply::new(200, "application/json", token_json)]).await;
    let verifier = PkceVerifier::new("v".repeat(43)).unwrap();
    let token = client.exchange_code(&AuthorizationCode::new("code"), &verifier).await.expect("token exchange");
    (f, client, token)
}

/// A FHIR fake that answers the capability statement, then `replies`; a session on `token`.
async fn fhir_with(client: &SmartClient, token: TokenResponse, replies: Vec<Reply>) -> (fake::Fake, Connection<R4>) {
    let mut all = vec![Reply::json(200, &metadata("4.0.1", &["Patient"]))];
    all.extend(replies);
    let f = start(all).await;
    let conn = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).session(client.session(token)).build();
    (f, conn.unwrap())
}

fn header<'a>(seen: &'a fake::Seen, name: &str) -> Option<&'a str> {
    seen.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// `expires_in` as a JSON string (CMSgov/bcda-app#806; ramosbugs/oauth2-rs#320).
#[tokio::test]
async fn expires_in_as_a_string() {
    let (_f, _c, token) = exchange(r#"{"access_token":"at","token_type":"Bearer","expires_in":"3600"}"#).await;
    assert_eq!(token.expires_in, Some(3600));
    let left = token.expires_after().expect("an expiry").as_secs();
    assert!((3590..=3600).contains(&left), "{left}");
    // Not a number at all: a typed error that names the member.
    let (_f, client) = smart_fake(vec![Reply::new(
        200,
        "application/json",
        r#"{"access_token":"at","token_type":"Bearer","expires_in":"soon"}"#,
    )])
    .await;
    let e = client.exchange_code(&AuthorizationCode::new("c"), &PkceVerifier::new("v".repeat(43)).unwrap()).await;
    let e = e.unwrap_err();
    assert!(e.to_string().contains("expires_in is not a number of seconds"), "{e}");
}

/// `token_type: "bearer"` in lower case (panva/openid-client#248; keycloak/keycloak#7384): the
/// value is case-insensitive (RFC 6749 §5.1); the header is always sent as `Bearer`.
#[tokio::test]
async fn token_type_in_lower_case() {
    let (_t, client, token) = exchange(r#"{"access_token":"at-1","token_type":"bearer","expires_in":300}"#).await;
    let (f, conn) = fhir_with(&client, token, vec![Reply::json(200, PATIENT)]).await;
    conn.service().await.unwrap().r::<Patient>().fetch("p1").await.expect("read");
    let seen = f.seen.lock().unwrap();
    assert_eq!(header(&seen[1], "authorization"), Some("Bearer at-1"));
}

/// No `scope` in the token response (microsoft/fhir-server#615 and #703; HL7/smart-app-launch#93):
/// accepted; RFC 6749 §5.1 says the grant is then the scope requested.
#[tokio::test]
async fn no_scope_in_the_token_response() {
    let (_t, client, token) = exchange(r#"{"access_token":"at","token_type":"Bearer","expires_in":300}"#).await;
    assert_eq!(token.scope, None);
    assert!(token.scopes().expect("parses").to_string().is_empty());
    let (_f, conn) = fhir_with(&client, token, vec![Reply::json(200, PATIENT)]).await;
    conn.service().await.unwrap().r::<Patient>().fetch("p1").await.expect("the token works");
}

/// No `expires_in` (cds-hooks/sandbox#65): the token is used until the server refuses it, then
/// renewed once (there is no expiry to renew ahead of).
#[tokio::test]
async fn no_expires_in() {
    let (tokens, client) = smart_fake(vec![
        Reply::new(200, "application/json", r#"{"access_token":"at-1","token_type":"Bearer","refresh_token":"rt"}"#),
        Reply::new(200, "application/json", r#"{"access_token":"at-2","token_type":"Bearer"}"#),
    ])
    .await;
    let token = client.exchange_code(&AuthorizationCode::new("c"), &PkceVerifier::new("v".repeat(43)).unwrap()).await;
    let token = token.unwrap();
    assert_eq!(token.expires_after(), None);
    let login = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}"#;
    let (f, conn) =
        fhir_with(&client, token, vec![Reply::json(200, PATIENT), Reply::json(401, login), Reply::json(200, PATIENT)])
            .await;
    let service = conn.service().await.unwrap();
    service.r::<Patient>().fetch("p1").await.expect("first read, no refresh");
    assert_eq!(tokens.seen.lock().unwrap().len(), 1, "only the code exchange so far");
    service.r::<Patient>().fetch("p1").await.expect("a 401, one refresh, the retry");
    assert_eq!(tokens.seen.lock().unwrap().len(), 2, "one refresh");
    let seen = f.seen.lock().unwrap();
    assert_eq!(header(seen.last().unwrap(), "authorization"), Some("Bearer at-2"));
}

/// The access token is opaque, not a JWT (smart-on-fhir/client-js#28; CHBase/smart-ng-fhir-app#2):
/// fhirstorm never reads it; expiry comes from `expires_in`.
#[tokio::test]
async fn an_opaque_access_token() {
    let (_t, client, token) =
        exchange(r#"{"access_token":"c2VjcmV0IG9wYXF1ZQ==","token_type":"Bearer","expires_in":120,"patient":"p1"}"#)
            .await;
    assert_eq!(token.patient_id_with_unverified_claims().as_deref(), Some("p1"));
    assert!(token.expires_after().is_some());
    let (_f, conn) = fhir_with(&client, token, vec![Reply::json(200, PATIENT)]).await;
    conn.service().await.unwrap().r::<Patient>().fetch("p1").await.expect("read");
}

/// `patient` missing from the token response, present only as a claim of the access token
/// (onc-healthit/onc-certification-g10-test-kit#317; jwilleke/yourphr#293, where Blue Button
/// sends it only on refresh): `patient_id()` says it is missing;
/// `patient_id_with_unverified_claims()` finds the claim.
#[tokio::test]
async fn patient_only_in_the_access_token() {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!("{}.{}.sig", b64(r#"{"alg":"RS256"}"#), b64(r#"{"patient":"Patient/81f6","sub":"u1"}"#));
    let body = format!(r#"{{"access_token":"{jwt}","token_type":"Bearer","expires_in":300}}"#);
    let (_t, _c, token) = exchange(&body).await;
    assert_eq!(token.patient_id(), None);
    assert_eq!(token.patient_id_with_unverified_claims().as_deref(), Some("Patient/81f6"));
}

/// No `.well-known/smart-configuration`, or one answered by an HTML page or a 401/403 from a
/// gateway (cerner/fhir.cerner.com#500, where the document arrived only in 2020;
/// onc-healthit/inferno-community#5): the capability statement's `oauth-uris` is used.
#[tokio::test]
async fn no_well_known_document_then_oauth_uris() {
    let meta = r#"{"resourceType":"CapabilityStatement","status":"active","fhirVersion":"4.0.1","rest":[{"mode":"server",
      "security":{"extension":[{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
      "extension":[{"url":"authorize","valueUri":"http://127.0.0.1:1/auth"},{"url":"token","valueUri":"http://127.0.0.1:1/tok"}]}]}}]}"#;
    for well_known in [
        Reply::new(404, "text/html", "<h1>not found</h1>"),
        Reply::new(200, "text/html", "<!doctype html><p>Sign in</p>"),
        Reply::new(403, "application/json", r#"{"message":"forbidden"}"#),
        Reply::new(401, "text/plain", "unauthorized"),
    ] {
        let f = start(vec![well_known, Reply::json(200, meta)]).await;
        let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
        let cfg = SmartConfiguration::discover(&c).await.expect("discovered from the capability statement");
        assert!(cfg.from_capability_statement);
        assert_eq!(cfg.token_endpoint.as_str(), "http://127.0.0.1:1/tok");
    }
    // Neither: a typed error that says so.
    let bare = metadata("4.0.1", &["Patient"]);
    let f = start(vec![Reply::new(404, "text/html", "no"), Reply::json(200, &bare)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let e = SmartConfiguration::discover(&c).await.unwrap_err();
    assert!(e.to_string().contains("no SMART configuration and no oauth-uris"), "{e}");
}

/// A server that answers XML unless asked for JSON (smart-on-fhir/client-js#52, Epic's open
/// endpoint): every request says `Accept: application/fhir+json`; XML sent anyway is a typed
/// error naming the content type.
#[tokio::test]
async fn xml_unless_json_is_asked_for() {
    let xml = r#"<CapabilityStatement xmlns="http://hl7.org/fhir"><fhirVersion value="4.0.1"/></CapabilityStatement>"#;
    let f = start(vec![Reply::new(200, "application/fhir+xml", xml)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let e = c.service().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Parse);
    assert!(e.to_string().contains("expected FHIR JSON, got application/fhir+xml"), "{e}");
    let seen = f.seen.lock().unwrap();
    assert_eq!(header(&seen[0], "accept"), Some("application/fhir+json"));
}

/// `application/json` (HealthIntersections/FHIRsmith#87) and DSTU2's `application/json+fhir`
/// from an R4 server (intervention-engine/fhir#36; nhsconnect/careconnect-reference-implementation#35):
/// read as FHIR JSON.
#[tokio::test]
async fn generic_and_old_json_media_types() {
    for ct in ["application/json", "application/json; charset=utf-8", "application/json+fhir", "APPLICATION/FHIR+JSON"]
    {
        let f = start(vec![Reply::new(200, ct, &metadata("4.0.1", &["Patient"])), Reply::new(200, ct, PATIENT)]).await;
        let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
        let p = c.service().await.expect(ct).r::<Patient>().fetch("p1").await.expect(ct);
        assert_eq!(p.id.as_deref(), Some("p1"));
    }
}

/// `fhirVersion` 4.0.0 on an R4 server (cerner/fhir.cerner.com#782 went back to it;
/// LinuxForHealth/FHIR#617), or with a build suffix (LinuxForHealth/FHIR#3734, `4.3.0-cibuild`):
/// any 4.0.x is R4; another release is a typed version mismatch that names it.
#[tokio::test]
async fn fhir_version_variants() {
    for v in ["4.0.0", "4.0.1", "4.0.1-cibuild"] {
        let f = start(vec![Reply::json(200, &metadata(v, &["Patient"]))]).await;
        let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
        c.service().await.unwrap_or_else(|e| panic!("{v}: {e}"));
    }
    let f = start(vec![Reply::json(200, &metadata("4.3.0-cibuild", &["Patient"]))]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let e = c.service().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::VersionMismatch);
    assert!(e.to_string().contains("4.3.0-cibuild"), "{e}");
}

/// Scopes granted that were not asked for, or split where they could be combined
/// (onc-healthit/inferno-community#464; onc-healthit/onc-certification-g10-test-kit#538): the
/// grant is read as sent, never refused.
#[tokio::test]
async fn scopes_other_than_requested() {
    let body = r#"{"access_token":"at","token_type":"Bearer","expires_in":300,
        "scope":"patient/AllergyIntolerance.r patient/AllergyIntolerance.s launch/patient vendor:extra openid"}"#;
    let (_t, _c, token) = exchange(body).await;
    let scopes = token.scopes().expect("the grant parses");
    let text = scopes.to_string();
    for s in ["patient/AllergyIntolerance.r", "patient/AllergyIntolerance.s", "vendor:extra"] {
        assert!(text.contains(s), "{s} in {text}");
    }
}
