//! The authorization flows and the bearer token against a fake server: discovery fallbacks,
//! the authorization URL, what a broken token endpoint gets back, a 401 and its one refresh,
//! renewals that fail, client secrets that need escaping, what refused clients and non-OAuth
//! error bodies are told, introspection with a bearer token (a real authorization server does
//! not misbehave on demand, and the one the tests run accepts no bearer for introspection).

use crate::fake;

use fake::{metadata, start, Reply};
use fhirstorm::auth::{
    AuthorizationCode, ClientAuth, ClientId, ClientSecret, PkceVerifier, Session, SmartClient, SmartConfiguration,
    TokenResponse,
};
use fhirstorm::client::{AuthFailure, Connection, ErrorKind};
use fhirstorm::r4::Patient;
use fhirstorm::R4;

const PATIENT: &str = r#"{"resourceType":"Patient","id":"p1","birthDate":"1970"}"#;

fn r4_meta() -> Reply {
    Reply::json(200, &metadata("4.0.1", &["Patient", "Observation"]))
}

#[tokio::test]
async fn smart_discovery_well_known_then_capability_statement() {
    use fhirstorm::auth::SmartConfiguration;
    let doc = r#"{"issuer":"http://127.0.0.1:1/","authorization_endpoint":"http://127.0.0.1:1/authorize","token_endpoint":"http://127.0.0.1:1/token",
      "capabilities":["launch-ehr","client-public","permission-v2"],"code_challenge_methods_supported":["S256"],"vendor_extra":1}"#;
    let f = start(vec![Reply::new(200, "application/json", doc)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let cfg = SmartConfiguration::discover(&c).await.unwrap();
    assert_eq!(cfg.token_endpoint.as_str(), "http://127.0.0.1:1/token");
    assert!(cfg.has_capability("permission-v2") && !cfg.from_capability_statement);
    assert_eq!(cfg.code_challenge_methods, ["S256"]);
    assert!(cfg.other.get("vendor_extra").is_some(), "unknown members kept");
    assert_eq!(f.seen.lock().unwrap()[0].path, "/fhir/.well-known/smart-configuration");

    // No .well-known document: the capability statement's oauth-uris.
    let meta = r#"{"resourceType":"CapabilityStatement","status":"active","fhirVersion":"4.0.1","rest":[{"mode":"server",
      "security":{"extension":[{"url":"http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
      "extension":[{"url":"authorize","valueUri":"http://127.0.0.1:1/auth"},{"url":"token","valueUri":"http://127.0.0.1:1/tok"}]}]}}]}"#;
    let f = start(vec![Reply::new(404, "text/html", "<h1>not found</h1>"), Reply::json(200, meta)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let cfg = SmartConfiguration::discover(&c).await.unwrap();
    assert!(cfg.from_capability_statement);
    assert_eq!(cfg.authorization_endpoint.unwrap().as_str(), "http://127.0.0.1:1/auth");

    // A plain-HTTP endpoint that is not loopback is refused.
    let doc = r#"{"token_endpoint":"http://auth.example/token"}"#;
    let f = start(vec![Reply::new(200, "application/json", doc)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let err = SmartConfiguration::discover(&c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
}

#[tokio::test]
async fn authorization_url_has_state_pkce_aud_and_launch() {
    use fhirstorm::auth::{AuthorizationRequest, ClientId, PkceVerifier, RedirectUrl, Scopes, State};
    let req = AuthorizationRequest::new(
        "https://ehr.example/authorize".parse().unwrap(),
        ClientId::new("app"),
        RedirectUrl::new("https://app.example/cb").unwrap(),
        "https://ehr.example/fhir/".parse().unwrap(),
    )
    .scopes("launch openid fhirUser patient/Observation.rs".parse::<Scopes>().unwrap())
    .launch("xyz");
    let (url, state, verifier) = req.url().unwrap();
    let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "app");
    assert_eq!(q["redirect_uri"], "https://app.example/cb");
    assert_eq!(q["aud"], "https://ehr.example/fhir");
    assert_eq!(q["launch"], "xyz");
    assert_eq!(q["scope"], "launch openid fhirUser patient/Observation.rs");
    assert!(state.matches(&q["state"]));
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["code_challenge"], verifier.challenge().as_str());
    assert_eq!(PkceVerifier::new(verifier.secret()).unwrap().challenge(), verifier.challenge());
    let fixed = req.state(State::new("kept")).url().unwrap();
    assert!(fixed.1.matches("kept"));
    assert!(!format!("{state:?} {verifier:?}").contains(verifier.secret()));
}

fn bearer(token: &str) -> Session {
    Session::fixed(
        TokenResponse::from_slice(format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#).as_bytes()).unwrap(),
    )
}

#[tokio::test]
async fn the_bearer_token_never_leaves_the_origin() {
    // Another origin (another port) that records what reaches it.
    let elsewhere = start(vec![Reply::json(200, PATIENT)]).await;
    let redirect = Reply::json(302, "").header("location", &format!("{}/Patient/p1", elsewhere.base));
    let f = start(vec![r4_meta(), redirect]).await;
    let conn = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .session(bearer("tok-secret-1"))
        .build()
        .unwrap();
    let s = conn.service().await.unwrap();
    let _ = s.r::<Patient>().fetch("p1").await;
    assert!(elsewhere.seen.lock().unwrap().is_empty(), "a request followed the redirect to another origin");
    let seen = f.seen.lock().unwrap();
    assert!(seen.iter().all(|r| r.headers.iter().any(|(k, v)| k == "authorization" && v == "Bearer tok-secret-1")));
}

/// A SMART client whose token endpoint is a fake answering `token_replies` in order.
async fn smart_fake(token_replies: Vec<Reply>) -> (fake::Fake, SmartClient) {
    let f = start(token_replies).await;
    let auth = ClientAuth::SecretBasic(ClientId::new("app"), ClientSecret::new("client-secret-xyz"));
    let client = fake::smart_client::<fhirstorm::R4>(&f, auth);
    (f, client)
}

#[tokio::test]
async fn a_broken_token_endpoint_gives_typed_errors_without_echoing_the_body() {
    let (_f, client) = smart_fake(vec![
        Reply::new(500, "text/html", "<h1>oops client-secret-xyz</h1>"),
        Reply::new(200, "application/json", r#"{"token_type":"Bearer","refresh_token":"rt-secret"}"#),
        Reply::new(200, "application/json", r#"{"access_token":"at-secret","token_type":"Bearer""#),
    ])
    .await;
    let code = AuthorizationCode::new("code-secret");
    let verifier = PkceVerifier::new("v".repeat(43)).unwrap();
    let e = client.exchange_code(&code, &verifier).await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    let e2 = client.exchange_code(&code, &verifier).await.unwrap_err();
    assert_eq!(e2.auth(), Some(&AuthFailure::BadTokenResponse), "{e2:?}");
    let e3 = client.exchange_code(&code, &verifier).await.unwrap_err();
    assert_eq!(e3.auth(), Some(&AuthFailure::BadTokenResponse), "{e3:?}");
    for e in [e, e2, e3] {
        let printed = format!("{e} {e:?}");
        for secret in ["client-secret-xyz", "rt-secret", "at-secret", "code-secret"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
    }
}

#[tokio::test]
async fn a_401_causes_one_refresh_then_an_error_not_a_loop() {
    // The FHIR fake refuses every token; the token endpoint (another fake) issues new ones.
    let (tokens, client) = smart_fake(vec![Reply::new(
        200,
        "application/json",
        r#"{"access_token":"new-token","token_type":"Bearer","expires_in":300}"#,
    )])
    .await;
    let fhir = start(vec![
        r4_meta(),
        Reply::json(401, r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}"#),
    ])
    .await;
    let token = TokenResponse::from_slice(
        br#"{"access_token":"old-token","token_type":"Bearer","expires_in":300,"refresh_token":"rt"}"#,
    )
    .unwrap();
    let session = client.session(token);
    let conn =
        Connection::<R4>::builder(&fhir.base).allow_insecure_loopback(true).session(session.clone()).build().unwrap();
    let s = conn.service().await.unwrap();
    let err = s.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert!(err.to_string().contains("the renewed access token was refused too"), "{err}");
    assert_eq!(session.refresh_count(), 1);
    let token_requests = tokens.seen.lock().unwrap().iter().filter(|r| r.path.ends_with("/token")).count();
    assert_eq!(token_requests, 1, "one refresh, no loop");
}

/// A renewal that fails is reported at the token endpoint (where it failed),
/// not at the FHIR request that needed the token.
#[tokio::test]
async fn a_failed_renewal_names_the_token_endpoint() {
    let refused = r#"{"error":"invalid_grant","error_description":"the refresh token has expired"}"#;
    let (_tokens, client) = smart_fake(vec![Reply::new(400, "application/json", refused)]).await;
    let mut expired = TokenResponse::from_slice(
        br#"{"access_token":"old-token","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1"}"#,
    )
    .unwrap();
    expired.set_expires_at(0);
    let f = start(vec![r4_meta()]).await;
    let conn = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .session(client.session(expired))
        .build()
        .unwrap();
    let err = conn.service().await.unwrap_err();
    assert_eq!(err.auth().and_then(|a| a.oauth_error()), Some("invalid_grant"), "{err}");
    assert!(err.url().is_some_and(|u| u.ends_with("/token")), "{err}");
    assert!(err.to_string().starts_with("POST ") && !err.to_string().contains("metadata"), "{err}");
    assert!(f.seen.lock().unwrap().is_empty(), "no FHIR request without a token");
}

/// A renewal whose id_token does not verify (this server's refreshed one has
/// no `aud`) leaves the session the id_token it had.
#[tokio::test]
async fn a_refreshed_id_token_that_does_not_verify_does_not_replace_the_old_one() {
    let b64 = |s: &str| {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    };
    let no_aud = format!("{}.{}.c2ln", b64(r#"{"alg":"RS256","kid":"k"}"#), b64(r#"{"iss":"x","sub":"u1"}"#));
    let refreshed =
        format!(r#"{{"access_token":"new-token","token_type":"Bearer","expires_in":3600,"id_token":"{no_aud}"}}"#);
    let (_tokens, client) = smart_fake(vec![Reply::new(200, "application/json", &refreshed)]).await;
    let mut token = TokenResponse::from_slice(
        br#"{"access_token":"old-token","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","id_token":"the.verified.one"}"#,
    )
    .unwrap();
    token.set_expires_at(0);
    let session = client.session(token);
    let fresh = session.refresh().await.expect("renewed");
    assert_eq!(fresh.access_token.secret(), "new-token");
    assert_eq!(fresh.id_token.as_ref().map(|t| t.secret()), Some("the.verified.one"), "the old id_token is kept");
    assert_eq!(session.token().id_token.as_ref().map(|t| t.secret()), Some("the.verified.one"));
}

/// A secret with `+`, `/` and `=` goes form-urlencoded inside
/// `client_secret_basic` (RFC 6749), or as it is where the app says its server needs that; a
/// refused client is told which method it used.
#[tokio::test]
async fn client_secret_basic_encoding_and_the_method_named_on_invalid_client() {
    use base64::Engine as _;
    let token = r#"{"access_token":"at","token_type":"Bearer"}"#;
    let refused = r#"{"error":"invalid_client","error_description":"client authentication failed"}"#;
    for (unencoded, expected) in [(false, "my%2Bapp:s%2Bc%2Fr%3Dt"), (true, "my+app:s+c/r=t")] {
        let f =
            start(vec![Reply::new(200, "application/json", token), Reply::new(401, "application/json", refused)]).await;
        let conn = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
        let config = format!(r#"{{"token_endpoint":"{}/token"}}"#, f.base);
        let auth = ClientAuth::SecretBasic(ClientId::new("my+app"), ClientSecret::new("s+c/r=t"));
        let client = SmartClient::new(&conn, SmartConfiguration::from_slice(config.as_bytes(), true).unwrap(), auth)
            .basic_auth_unencoded(unencoded);
        let scopes = "system/*.read".parse().unwrap();
        client.client_credentials(&scopes).await.expect("a token");
        let basic = f.seen.lock().unwrap()[0]
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.trim_start_matches("Basic ").to_string())
            .expect("Basic credentials");
        let pair = base64::engine::general_purpose::STANDARD.decode(basic).unwrap();
        assert_eq!(String::from_utf8(pair).unwrap(), expected);

        let err = client.client_credentials(&scopes).await.unwrap_err();
        assert_eq!(err.auth().and_then(|a| a.oauth_error()), Some("invalid_client"));
        assert!(err.to_string().contains("authenticated with client_secret_basic"), "{err}");
        // The id and secret hold characters form-urlencoding changes: the other way is named.
        let other = format!("basic_auth_unencoded({})", !unencoded);
        assert!(err.to_string().contains(&other), "{err}");
        assert!(!err.to_string().contains("s+c/r=t") && !err.to_string().contains("s%2Bc"), "{err}");
    }
}

/// What a refused public client and a non-OAuth error body say: the client is public (not
/// "authenticated with none"); the body's start where the connection shows error excerpts, and
/// how to see it where it does not.
#[tokio::test]
async fn a_refused_public_client_and_a_non_oauth_error_body() {
    let refused = r#"{"error":"invalid_client","error_description":"unknown client"}"#;
    let f = start(vec![Reply::new(401, "application/json", refused)]).await;
    let client = fake::smart_client::<R4>(&f, ClientAuth::Public(ClientId::new("my-app")));
    let code = AuthorizationCode::new("c");
    let verifier = PkceVerifier::new("v".repeat(43)).unwrap();
    let err = client.exchange_code(&code, &verifier).await.unwrap_err();
    assert!(err.to_string().contains("the client is public"), "{err}");
    assert!(!err.to_string().contains("with none"), "{err}");

    let page = "<html><h1>Gateway says no</h1></html>";
    for excerpts in [false, true] {
        let f = start(vec![Reply::new(502, "text/html", page)]).await;
        let conn =
            Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).error_excerpts(excerpts).build().unwrap();
        let config = format!(r#"{{"token_endpoint":"{}/token"}}"#, f.base);
        let client = SmartClient::new(
            &conn,
            SmartConfiguration::from_slice(config.as_bytes(), true).unwrap(),
            ClientAuth::Public(ClientId::new("my-app")),
        )
        .redirect_url(fhirstorm::auth::RedirectUrl::new("http://127.0.0.1:9/cb").unwrap());
        let err = client.exchange_code(&code, &verifier).await.unwrap_err();
        assert_eq!(err.status(), Some(502), "{err}");
        if excerpts {
            assert!(err.to_string().contains("(text/html) <html><h1>Gateway says no"), "{err}");
        } else {
            assert!(err.to_string().contains("turn on ConnectionBuilder::error_excerpts"), "{err}");
            assert!(!err.to_string().contains("says no"), "{err}");
        }
    }
}

/// With error excerpts on, a token endpoint's body that echoes the request shows none of what
/// the request sent that is secret: not the code, the verifier or the client's credentials, as
/// sent or form-urlencoded.
#[tokio::test]
async fn an_echoed_token_request_is_shown_without_its_secrets() {
    let echo = "bad request: grant_type=authorization_code&code=code%2Fsecret%2B1&code_verifier=VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV \
                Authorization: Basic YXBwOmNsaWVudC1zZWNyZXQteHl6 (app:client-secret-xyz)";
    let f = start(vec![Reply::new(400, "text/plain", echo)]).await;
    let conn = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).error_excerpts(true).build().unwrap();
    let config = format!(r#"{{"token_endpoint":"{}/token"}}"#, f.base);
    let auth = ClientAuth::SecretBasic(ClientId::new("app"), ClientSecret::new("client-secret-xyz"));
    let client = SmartClient::new(&conn, SmartConfiguration::from_slice(config.as_bytes(), true).unwrap(), auth)
        .redirect_url(fhirstorm::auth::RedirectUrl::new("http://127.0.0.1:9/cb").unwrap());
    let verifier = PkceVerifier::new("V".repeat(43)).unwrap();
    let err = client.exchange_code(&AuthorizationCode::new("code/secret+1"), &verifier).await.unwrap_err();
    let shown = format!("{err} {err:#} {err:?}");
    assert!(shown.contains("bad request: grant_type=authorization_code"), "{shown}");
    for secret in
        ["code%2Fsecret%2B1", "code/secret+1", "VVVVVVVVVV", "YXBwOmNsaWVudC1zZWNyZXQteHl6", "client-secret-xyz"]
    {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

/// An OAuth error's code and description reach the message without control or bidirectional
/// characters (a terminal would act on them).
#[tokio::test]
async fn an_oauth_error_is_shown_without_terminal_controls() {
    let hostile =
        r#"{"error":"invalid_grant\u001b]0;x\u0007","error_description":"expired\u001b[2J\u202egnp.exe\u2066"}"#;
    let (_f, client) = smart_fake(vec![Reply::new(400, "application/json", hostile)]).await;
    let code = AuthorizationCode::new("c");
    let verifier = PkceVerifier::new("v".repeat(43)).unwrap();
    let err = client.exchange_code(&code, &verifier).await.unwrap_err();
    let shown = format!("{err} {err:#}");
    assert!(shown.contains("expired [2J gnp.exe"), "{shown}");
    assert!(!shown.chars().any(|c| c.is_control() || matches!(c, '\u{202e}' | '\u{2066}')), "{shown:?}");
    let Some(AuthFailure::Endpoint { error, description }) = err.auth() else { panic!("{err:?}") };
    assert!(!error.contains('\u{1b}') && !description.as_deref().unwrap_or("").contains('\u{202e}'), "{err:?}");
}

/// Introspection authorized by a bearer token (RFC 7662 §2.1) sends that token, and no client
/// credentials.
#[tokio::test]
async fn introspection_with_a_bearer_token() {
    use fhirstorm::auth::AccessToken;
    let f = start(vec![Reply::new(200, "application/json", r#"{"active":true,"scope":"patient/*.read"}"#)]).await;
    let conn = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let config = format!(r#"{{"token_endpoint":"{0}/token","introspection_endpoint":"{0}/introspect"}}"#, f.base);
    let auth = ClientAuth::SecretBasic(ClientId::new("rs"), ClientSecret::new("rs-secret"));
    let client = SmartClient::new(&conn, SmartConfiguration::from_slice(config.as_bytes(), true).unwrap(), auth);
    let token = AccessToken::new("the-token-asked-about");
    let info = client.introspect_with_bearer(&token, &AccessToken::new("rs-bearer")).await.unwrap();
    assert!(info.active);
    let seen = f.seen.lock().unwrap();
    let authorization: Vec<&str> =
        seen[0].headers.iter().filter(|(k, _)| k == "authorization").map(|(_, v)| v.as_str()).collect();
    assert_eq!(authorization, ["Bearer rs-bearer"]);
    assert!(seen[0].path.ends_with("/introspect"));
}

/// The client asks an `Authorizer` for tokens; an app's own works like a
/// SMART session (asked once more after a 401, with the refused token's mark).
#[tokio::test]
async fn an_authorizer_of_your_own() {
    use fhirstorm::client::{AuthFuture, Authorizer, Bearer};
    use std::sync::{Arc, Mutex};
    #[derive(Debug, Default)]
    struct Rotating {
        refused: Mutex<Vec<u64>>,
    }
    impl Authorizer for Rotating {
        fn bearer(&self) -> AuthFuture<'_, Bearer> {
            Box::pin(async { Ok(Bearer::new("first", 1)) })
        }
        fn rejected<'a>(&'a self, refused: &'a Bearer) -> AuthFuture<'a, Bearer> {
            self.refused.lock().unwrap().push(refused.mark());
            Box::pin(async { Ok(Bearer::new("second", 2)) })
        }
        fn as_any(&self) -> &dyn std::any::Any {
            self
        }
    }
    let login = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login"}]}"#;
    let f = start(vec![r4_meta(), Reply::json(401, login), Reply::json(200, PATIENT)]).await;
    let authorizer = Arc::new(Rotating::default());
    let conn = Connection::<R4>::builder(&f.base)
        .allow_insecure_loopback(true)
        .authorizer(authorizer.clone())
        .build()
        .unwrap();
    conn.service().await.unwrap().r::<Patient>().fetch("p1").await.expect("read after one rejection");
    assert_eq!(*authorizer.refused.lock().unwrap(), [1]);
    let seen = f.seen.lock().unwrap();
    let auth: Vec<&str> = seen
        .iter()
        .map(|r| r.headers.iter().find(|(k, _)| k == "authorization").map(|(_, v)| v.as_str()).unwrap_or(""))
        .collect();
    assert_eq!(auth, ["Bearer first", "Bearer first", "Bearer second"]);
    assert!(conn.session().is_none(), "not a SMART session");
    let printed = format!("{:?}", Bearer::new("tok-secret", 3));
    assert!(printed.contains("(hidden)") && !printed.contains("tok-secret"), "{printed}");
}

/// Conditional interactions take the typed search (escaped as a search is)
/// or raw pairs; no criteria is refused before any request (it would touch every resource).
#[tokio::test]
async fn conditional_interactions_take_the_typed_search() {
    use fhirstorm::search::TokenValue;
    let f = start(vec![r4_meta(), Reply::json(200, PATIENT)]).await;
    let c = Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).build().unwrap();
    let s = c.service().await.unwrap();
    let patients = s.r::<Patient>();
    let query = || Patient::search().identifier(TokenValue::code("urn:sys", "a|b,c"));
    patients.delete_where(query()).await.expect("deleted");
    let p = Patient::default();
    patients.update_where(query(), &p).await.expect("updated");
    patients.create_if_none_exist(&p, query()).await.expect("created");
    let none: [(&str, &str); 0] = [];
    let e = patients.delete_where(none).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    let e = s.transaction().create_if_none_exist(&p, none).send().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config, "{e}");
    let seen = f.seen.lock().unwrap();
    let requests: Vec<String> = seen.iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        requests,
        [
            "GET /fhir/metadata",
            "DELETE /fhir/Patient?identifier=urn%3Asys%7Ca%5C%7Cb%5C%2Cc",
            "PUT /fhir/Patient?identifier=urn%3Asys%7Ca%5C%7Cb%5C%2Cc",
            "POST /fhir/Patient",
        ]
    );
    let if_none_exist = seen[3].headers.iter().find(|(k, _)| k == "if-none-exist").map(|(_, v)| v.as_str());
    assert_eq!(if_none_exist, Some("identifier=urn%3Asys%7Ca%5C%7Cb%5C%2Cc"));
}
