//! SMART App Launch against real servers on 127.0.0.1: npm `oidc-provider` as the authorization
//! server (tests/smart-server) and sekmet-fhir as the FHIR server, which verifies the access
//! tokens (HS256, a key the two share) and enforces their scopes. Backend Services also against
//! sekmet's own token endpoint.

mod lifetimes;
mod loopback;
mod refresh;
mod secrets;
use crate::support;

use std::sync::Arc;
use std::time::Duration;

use fhirstorm::auth::{
    jwt_state, register, AuthorizationCode, BrowserBinding, ClientAuth, ClientId, ClientRegistration, ClientSecret,
    EhrLaunch, FhirUserType, IdToken, IssuerAllowList, PkceVerifier, PrivateKey, RedirectUrl, Scopes, Session,
    SigningAlgorithm, SmartClient, SmartConfiguration, State, StateKey, StateValidator, TokenResponse,
};
use fhirstorm::client::{AuthFailure, Connection, Error, ErrorKind};
use fhirstorm::r4::{self, Patient};
use fhirstorm::R4;
use serde_json::json;
use support::{browse_to_redirect, ClientKeys, FhirServer, Runner, SmartServer};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const TOKEN_KEY: &str = "fhirstorm-test-shared-access-token-key-0123456789";
const ADMIN: &str = "fhirstorm-admin-token-for-seeding";
const SECRET: &str = "s3cret-of-the-confidential-client";
const USER_SCOPES: &str = "openid fhirUser launch/patient offline_access patient/*.read";

struct World {
    fhir: FhirServer,
    smart: SmartServer,
    keys: ClientKeys,
    patient_id: String,
    /// Every secret the flows handled, to look for in what gets printed.
    secrets: std::sync::Mutex<Vec<String>>,
    /// Every error the flows produced, printed.
    printed: std::sync::Mutex<Vec<String>>,
}

fn conn(world: &World) -> Connection<R4> {
    Connection::<R4>::builder(world.fhir.base.clone()).allow_insecure_loopback(true).build().expect("connection")
}

fn redirect() -> RedirectUrl {
    RedirectUrl::new(REDIRECT).expect("url")
}

impl World {
    fn remember(&self, token: &TokenResponse) {
        let mut s = self.secrets.lock().unwrap();
        s.push(token.access_token.secret().to_string());
        if let Some(r) = &token.refresh_token {
            s.push(r.secret().to_string());
        }
        if let Some(i) = &token.id_token {
            s.push(i.secret().to_string());
        }
        self.printed.lock().unwrap().push(format!("{token:?}"));
    }
    fn error(&self, e: &Error) {
        self.printed.lock().unwrap().push(format!("{e} {e:?}"));
    }
    async fn client(&self, auth: ClientAuth) -> Result<SmartClient, String> {
        let c = conn(self);
        let config =
            SmartConfiguration::from_url(&c, &format!("{}/.well-known/smart-configuration", self.smart.issuer))
                .await
                .map_err(|e| e.to_string())?;
        Ok(SmartClient::new(&c, config, auth).redirect_url(redirect()))
    }
    fn rs384(&self) -> ClientAuth {
        let key =
            PrivateKey::from_pem(SigningAlgorithm::Rs384, &self.keys.pem("rs384"), self.keys.kid("rs384")).unwrap();
        ClientAuth::PrivateKeyJwt(ClientId::new("asym-rs"), key)
    }
    fn es384(&self) -> ClientAuth {
        let key =
            PrivateKey::from_pem(SigningAlgorithm::Es384, &self.keys.pem("es384"), self.keys.kid("es384")).unwrap();
        ClientAuth::PrivateKeyJwt(ClientId::new("asym-es"), key)
    }
}

/// A whole standalone launch: authorization URL, the (headless) user, the redirect, the code
/// exchange.
async fn launch(world: &World, client: &SmartClient, scopes: &str) -> Result<TokenResponse, String> {
    let scopes: Scopes = scopes.parse().map_err(|e| format!("{e}"))?;
    let (url, state, verifier) = client.authorization_request(scopes).map_err(|e| e.to_string())?.url().unwrap();
    ensure!(url.as_str().contains("code_challenge_method=S256"), "PKCE S256 in {url}");
    ensure!(url.as_str().contains("aud="), "aud in the URL");
    let back = browse_to_redirect(url.as_str(), REDIRECT).await?;
    let token = client.exchange_redirect(&back, &state, &verifier).await.map_err(|e| e.to_string())?;
    world.remember(&token);
    Ok(token)
}

/// Reads the patient in context through the FHIR server with the token.
async fn read_patient(world: &World, session: Session, id: &str) -> Result<Patient, String> {
    let conn = conn(world).with_session(session);
    let service = conn.service().await.map_err(|e| e.to_string())?;
    service.r::<Patient>().fetch(id).await.map_err(|e| format!("authorized read failed: {e}"))
}

async fn standalone(world: &World, auth: ClientAuth) -> Result<(), String> {
    let client = world.client(auth).await?;
    let token = launch(world, &client, USER_SCOPES).await?;
    ensure!(token.patient_id() == Some(world.patient_id.as_str()), "patient in context: {:?}", token.patient_id());
    ensure!(token.refresh_token.is_some(), "offline_access gives a refresh token");
    ensure!(token.need_patient_banner == Some(true), "need_patient_banner");
    ensure!(token.smart_style_url.is_some(), "smart_style_url");
    let granted = token.scopes().map_err(|e| e.to_string())?;
    ensure!(granted.to_string().contains("patient/*.read"), "granted scopes: {granted}");
    let claims = client.verify_id_token(&token).await.map_err(|e| e.to_string())?;
    let user = claims.fhir_user().ok_or("a fhirUser claim")?;
    ensure!(user.resource_type == FhirUserType::Practitioner && user.id == "dr-1", "fhirUser: {user:?}");
    let patient = read_patient(world, client.session(token), &world.patient_id).await?;
    ensure!(patient.id.as_deref() == Some(world.patient_id.as_str()), "the patient read");
    Ok(())
}

fn expect_auth(
    world: &World,
    r: Result<impl std::fmt::Debug, Error>,
    want: impl Fn(&AuthFailure) -> bool,
) -> Result<(), String> {
    match r {
        Ok(v) => Err(format!("expected an auth error, got {v:?}")),
        Err(e) => {
            world.error(&e);
            match e.auth() {
                Some(f) if want(f) => Ok(()),
                _ => Err(format!("unexpected error: {e} ({e:?})")),
            }
        }
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn count(stats: &serde_json::Value, key: &str) -> u64 {
    stats.get(key).and_then(|v| v.as_u64()).unwrap_or(0)
}

/// Everything `tracing` emits during the run (every level, every crate), to look for secrets.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

pub async fn run(t: &mut Runner) {
    let captured = Captured::default();
    tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(captured.clone())
            .finish(),
    )
    .expect("a global subscriber");
    let keys = ClientKeys::generate();
    // The servers know the clients' keys by the JWKS fhirstorm derives from the private keys
    // (with kid, use and alg), which must be the same public keys the key generator wrote.
    let key = |alg, name: &str| PrivateKey::from_pem(alg, &keys.pem(name), keys.kid(name)).unwrap();
    let (rs, es) = (key(SigningAlgorithm::Rs384, "rs384"), key(SigningAlgorithm::Es384, "es384"));
    let generated: fhirstorm::json::Value = fhirstorm::json::from_slice(keys.jwks().as_bytes()).unwrap();
    let generated = generated.get("keys").and_then(|k| k.as_array()).expect("a JWKS");
    for (i, ours) in [rs.public_jwk(), es.public_jwk()].into_iter().enumerate() {
        for member in ["kty", "kid", "n", "e", "crv", "x", "y"] {
            assert_eq!(ours.get(member), generated[i].get(member), "{member} of key {i}");
        }
        let text = |m: &str| ours.get(m).and_then(|v| v.as_str()).map(String::from);
        assert!(text("alg").is_some() && text("use").as_deref() == Some("sig"), "alg and use on every key: {ours:?}");
    }
    let jwks = json!({ "keys": [rs.public_jwk(), es.public_jwk()] });
    let jwk = |i: usize| json!({ "keys": [jwks["keys"][i].clone()] });
    let sekmet_clients = format!(
        "    - client_id: backend-rs384\n      scopes: \"system/*.read\"\n      jwks: {}\n    - client_id: backend-es384\n      scopes: \"system/*.read\"\n      jwks: {}\n    - client_id: backend-secret\n      client_secret: {SECRET}\n      scopes: \"system/*.read\"\n",
        jwk(0),
        jwk(1)
    );
    let fhir = FhirServer::start_smart(TOKEN_KEY, ADMIN, &sekmet_clients);

    // Seed a patient (with the admin token: the FHIR API wants a token for everything).
    let admin = Connection::<R4>::builder(fhir.base.clone())
        .allow_insecure_loopback(true)
        .session(Session::fixed(
            TokenResponse::from_slice(json!({"access_token": ADMIN, "token_type": "Bearer"}).to_string().as_bytes())
                .unwrap(),
        ))
        .build()
        .unwrap();
    let patient = admin
        .service()
        .await
        .expect("service")
        .r::<Patient>()
        .create(&Patient {
            name: vec![r4::HumanName { family: Some("Smart".into()), ..Default::default() }],
            ..Default::default()
        })
        .await
        .expect("seed patient");
    let patient_id = patient.id.unwrap();

    let client = |id: &str, method: &str, extra: serde_json::Value| {
        let mut c = json!({
            "client_id": id, "token_endpoint_auth_method": method, "redirect_uris": [REDIRECT],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let loopback_port = support::free_port();
    let smart = SmartServer::start(json!({
        "fhirBase": fhir.base, "accessTokenKey": TOKEN_KEY, "patient": patient_id, "fhirUser": "Practitioner/dr-1",
        "clients": [
            client("public", "none", json!({})),
            client("basic", "client_secret_basic", json!({"client_secret": SECRET})),
            client("post", "client_secret_post", json!({"client_secret": SECRET})),
            client("asym-rs", "private_key_jwt", json!({"jwks": jwks, "token_endpoint_auth_signing_alg": "RS384"})),
            client("asym-es", "private_key_jwt", json!({"jwks": jwks, "token_endpoint_auth_signing_alg": "ES384"})),
            client("service", "private_key_jwt", json!({"jwks": jwks, "grant_types": ["client_credentials"],
                "response_types": [], "redirect_uris": []})),
            client(lifetimes::SHORT, "none", json!({})),
            client(loopback::NATIVE, "none", json!({"redirect_uris": [format!("http://127.0.0.1:{loopback_port}/callback")]})),
        ],
        "clientAccessTokenTtl": { (lifetimes::SHORT): lifetimes::SHORT_TTL },
        "tamperRefreshedIdToken": [lifetimes::SHORT],
    }));
    let world = World {
        fhir,
        smart,
        keys,
        patient_id,
        secrets: std::sync::Mutex::new(vec![SECRET.to_string(), ADMIN.to_string(), TOKEN_KEY.to_string()]),
        printed: Default::default(),
    };
    let w = &world;

    t.case("standalone launch, public client (PKCE), ends in an authorized Patient read", || {
        standalone(w, ClientAuth::Public(ClientId::new("public")))
    })
    .await;
    t.case("standalone launch, confidential client_secret_basic", || {
        standalone(w, ClientAuth::SecretBasic(ClientId::new("basic"), ClientSecret::new(SECRET)))
    })
    .await;
    t.case("standalone launch, confidential client_secret_post", || {
        standalone(w, ClientAuth::SecretPost(ClientId::new("post"), ClientSecret::new(SECRET)))
    })
    .await;
    t.case("standalone launch, asymmetric private_key_jwt RS384", || standalone(w, w.rs384())).await;
    t.case("standalone launch, asymmetric private_key_jwt ES384", || standalone(w, w.es384())).await;

    t.case("a read without a token is refused by the FHIR server", || async {
        let service = conn(w).service().await.map_err(|e| e.to_string())?;
        let e = service.r::<Patient>().fetch(&w.patient_id).await.err().ok_or("read without a token worked")?;
        ensure!(e.status() == Some(401), "401: {e}");
        Ok(())
    })
    .await;

    t.case("EHR launch: iss checked against the allow-list, launch passed, context in the token", || async {
        let launch_id = w.smart.new_launch(&w.patient_id).await;
        let query = format!(
            "iss={}&launch={launch_id}",
            url::form_urlencoded::byte_serialize(w.fhir.base.as_bytes()).collect::<String>()
        );
        let allowed = IssuerAllowList::new().allow(&w.fhir.base).map_err(|e| e.to_string())?;
        let launch = EhrLaunch::from_query(&query, &allowed).map_err(|e| e.to_string())?;
        let evil = IssuerAllowList::new().allow("https://elsewhere.example/fhir").unwrap();
        expect_auth(w, EhrLaunch::from_query(&query, &evil), |f| *f == AuthFailure::IssuerNotAllowed)?;
        let client = w.client(ClientAuth::Public(ClientId::new("public"))).await?;
        let pending = launch
            .authorize_with(client, "openid fhirUser launch patient/*.read".parse().unwrap())
            .map_err(|e| e.to_string())?;
        ensure!(pending.url.as_str().contains(&format!("launch={launch_id}")), "launch in {}", pending.url);
        let back = browse_to_redirect(pending.url.as_str(), REDIRECT).await?;
        let token = pending
            .client
            .exchange_redirect(&back, &pending.state, &pending.verifier)
            .await
            .map_err(|e| e.to_string())?;
        w.remember(&token);
        ensure!(token.patient_id() == Some(w.patient_id.as_str()), "EHR context patient: {:?}", token.patient_id());
        read_patient(w, Session::fixed(token), &w.patient_id).await.map(drop)
    })
    .await;

    t.case(
        "signed state (jwt_state) bound to the browser, verifier derived, round trip through the server",
        || async {
            let key = StateKey::new(*b"fhirstorm-state-key-32-bytes-ok!").unwrap();
            let client = w.client(ClientAuth::Public(ClientId::new("public"))).await?;
            let browser = BrowserBinding::random().unwrap();
            let state = jwt_state(&key, Duration::from_secs(120), &browser, &[("next", "/chart")])
                .map_err(|e| e.to_string())?;
            let (url, _, _) = client
                .authorization_request(USER_SCOPES.parse().unwrap())
                .unwrap()
                .pkce_verifier(PkceVerifier::for_signed_state(&key, state.secret()))
                .state(state.clone())
                .url()
                .unwrap();
            let back = browse_to_redirect(url.as_str(), REDIRECT).await?;
            let validator = StateValidator::new(key.clone(), &browser).claim("next", "/chart");
            let wrong = StateValidator::new(key.clone(), &browser).claim("next", "/admin");
            expect_auth(w, client.code_from_redirect(&back, &wrong), |f| *f == AuthFailure::StateInvalid)?;
            // Another browser (login CSRF: the attacker's redirect in the victim's browser).
            let victim = StateValidator::new(key.clone(), &BrowserBinding::random().unwrap());
            expect_auth(w, client.code_from_redirect(&back, &victim), |f| *f == AuthFailure::StateInvalid)?;
            // The verifier derived again from the state that came back: the server accepts it.
            let verifier = PkceVerifier::for_signed_state(&key, state.secret());
            let token = client.exchange_redirect(&back, &validator, &verifier).await.map_err(|e| e.to_string())?;
            w.remember(&token);
            Ok(())
        },
    )
    .await;

    t.case("rejections are typed: state, redirect errors, bad secret, wrong verifier, replayed code, aud", || async {
        let client = w.client(ClientAuth::Public(ClientId::new("public"))).await?;
        let (url, state, verifier) = client.authorization_request(USER_SCOPES.parse().unwrap()).unwrap().url().unwrap();
        let back = browse_to_redirect(url.as_str(), REDIRECT).await?;
        // state: mismatch and missing, before any request
        expect_auth(w, client.code_from_redirect(&back, &State::new("not-it")), |f| *f == AuthFailure::StateMismatch)?;
        let stripped: String = back.split('&').filter(|p| !p.starts_with("state=")).collect::<Vec<_>>().join("&");
        expect_auth(w, client.code_from_redirect(&stripped, &state), |f| *f == AuthFailure::StateMissing)?;
        expect_auth(w, client.code_from_redirect("https://evil.example/callback?code=x", &state), |f| {
            *f == AuthFailure::BadRedirect
        })?;
        // a wrong PKCE verifier: the server refuses (and the code is then spent)
        let code = client.code_from_redirect(&back, &state).map_err(|e| e.to_string())?;
        let wrong = PkceVerifier::new("x".repeat(43)).unwrap();
        expect_auth(w, client.exchange_code(&code, &wrong).await, |f| f.oauth_error() == Some("invalid_grant"))?;
        // a replayed code
        let (url, state, verifier2) =
            client.authorization_request(USER_SCOPES.parse().unwrap()).unwrap().url().unwrap();
        let back = browse_to_redirect(url.as_str(), REDIRECT).await?;
        let token = client.exchange_redirect(&back, &state, &verifier2).await.map_err(|e| e.to_string())?;
        w.remember(&token);
        expect_auth(w, client.exchange_redirect(&back, &state, &verifier2).await, |f| {
            f.oauth_error() == Some("invalid_grant")
        })?;
        let _ = verifier;
        // an error sent back on the redirect
        let denied =
            format!("{REDIRECT}?error=access_denied&error_description=the+user+said+no&state={}", state.secret());
        expect_auth(
            w,
            client.code_from_redirect(&denied, &state),
            |f| matches!(f, AuthFailure::Denied { error, .. } if error == "access_denied"),
        )?;
        // a bad client secret
        let bad = w.client(ClientAuth::SecretBasic(ClientId::new("basic"), ClientSecret::new("wrong-secret"))).await?;
        expect_auth(w, bad.exchange_code(&AuthorizationCode::new("whatever"), &verifier2).await, |f| {
            f.oauth_error() == Some("invalid_client")
        })?;
        // aud for another server: the authorization server sends the user back with an error
        let other = SmartClient::new(
            &Connection::<R4>::builder("http://127.0.0.1:1/fhir").allow_insecure_loopback(true).build().unwrap(),
            client.configuration().clone(),
            ClientAuth::Public(ClientId::new("public")),
        )
        .redirect_url(redirect());
        let (url, state, _) = other.authorization_request(USER_SCOPES.parse().unwrap()).unwrap().url().unwrap();
        let back = browse_to_redirect(url.as_str(), REDIRECT).await?;
        expect_auth(w, other.code_from_redirect(&back, &state), |f| matches!(f, AuthFailure::Denied { .. }))?;
        Ok(())
    })
    .await;

    t.case("id_token: verified against the JWKS; tampered, or for another client, rejected", || async {
        let client = w.client(ClientAuth::Public(ClientId::new("public"))).await?;
        let token = launch(w, &client, USER_SCOPES).await?;
        let id = token.id_token.clone().ok_or("an id_token")?;
        client.verify(&id).await.map_err(|e| e.to_string())?;
        let mut parts: Vec<String> = id.secret().split('.').map(String::from).collect();
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut claims: serde_json::Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
        claims["fhirUser"] = "Practitioner/someone-else".into();
        parts[1] = b64.encode(claims.to_string());
        let tampered = IdToken::new(parts.join("."));
        expect_auth(w, client.verify(&tampered).await, |f| *f == AuthFailure::IdTokenInvalid)?;
        let other = w.client(ClientAuth::Public(ClientId::new("basic"))).await?;
        expect_auth(w, other.verify(&id).await, |f| *f == AuthFailure::IdTokenInvalid)?;
        Ok(())
    })
    .await;

    t.case("refresh: explicit, before expiry, after a 401; callback sees each new token", || {
        refresh::explicit_before_expiry_and_after_a_401(w)
    })
    .await;

    t.case("a token living less than the refresh margin: used, not refused, not refreshed per request", || {
        lifetimes::margin_larger_than_the_lifetime(w)
    })
    .await;
    t.case("a refresh whose id_token does not verify keeps the verified one", || {
        lifetimes::a_bad_refreshed_id_token_keeps_the_verified_one(w)
    })
    .await;
    t.case("introspection (RFC 7662) and revocation (RFC 7009) at the server's endpoints", || async {
        let client = w.client(ClientAuth::SecretBasic(ClientId::new("basic"), ClientSecret::new(SECRET))).await?;
        let token = launch(w, &client, USER_SCOPES).await?;
        let refresh = token.refresh_token.clone().ok_or("a refresh token")?;
        let info = client.introspect(&refresh).await.map_err(|e| e.to_string())?;
        w.printed.lock().unwrap().push(format!("{info:?}"));
        ensure!(info.active, "a fresh refresh token is active: {info:?}");
        ensure!(info.client_id.as_deref() == Some("basic"), "issued to this client: {info:?}");
        ensure!(info.scope.as_deref().is_some_and(|s| s.contains("offline_access")), "its scopes: {info:?}");
        ensure!(info.sub.as_deref() == Some("clinician") && info.exp.is_some(), "subject and expiry: {info:?}");
        // This server's access tokens are JWTs for the FHIR server, which it does not introspect:
        // its refusal arrives as a typed OAuth error.
        expect_auth(w, client.introspect(&token.access_token).await, |f| {
            f.oauth_error() == Some("unsupported_token_type")
        })?;
        // Another client cannot revoke this client's token.
        let other = w.client(ClientAuth::SecretPost(ClientId::new("post"), ClientSecret::new(SECRET))).await?;
        let _ = other.revoke(&refresh).await;
        ensure!(client.introspect(&refresh).await.map_err(|e| e.to_string())?.active, "still active");
        // Revoked by its client: inactive, and refreshing with it is refused.
        client.revoke(&refresh).await.map_err(|e| e.to_string())?;
        ensure!(!client.introspect(&refresh).await.map_err(|e| e.to_string())?.active, "revoked refresh token");
        expect_auth(w, client.refresh(&refresh, None).await, |f| f.oauth_error() == Some("invalid_grant"))?;
        Ok(())
    })
    .await;

    t.case("100 concurrent requests with an expired token: exactly one refresh, all succeed", || {
        refresh::concurrent_requests_share_one_refresh(w)
    })
    .await;

    t.case("a refused refresh token: one typed error for every waiting task, no refresh loop", || {
        refresh::a_refused_refresh_token_fails_every_waiter_once(w)
    })
    .await;

    t.case(
        "backend services at the FHIR server's own token endpoint (sekmet): RS384, ES384, secret; scopes enforced",
        || async {
            let c = conn(w);
            let config = SmartConfiguration::discover(&c).await.map_err(|e| e.to_string())?;
            ensure!(config.has_capability("client-confidential-asymmetric"), "capabilities: {:?}", config.capabilities);
            for alg in ["rs384", "es384"] {
                let sig = if alg == "rs384" { SigningAlgorithm::Rs384 } else { SigningAlgorithm::Es384 };
                let key = PrivateKey::from_pem(sig, &w.keys.pem(alg), w.keys.kid(alg)).map_err(|e| e.to_string())?;
                let client = SmartClient::new(
                    &c,
                    config.clone(),
                    ClientAuth::PrivateKeyJwt(ClientId::new(format!("backend-{alg}")), key),
                );
                let session =
                    client.backend_session("system/*.read".parse().unwrap()).await.map_err(|e| e.to_string())?;
                w.remember(&session.token());
                let service = c.with_session(session.clone()).service().await.map_err(|e| e.to_string())?;
                let found = service
                    .r::<Patient>()
                    .search(Patient::search().id(&w.patient_id))
                    .await
                    .map_err(|e| e.to_string())?;
                ensure!(found.matches().len() == 1, "{alg}: the patient found");
                let e =
                    service.r::<Patient>().create(&Patient::default()).await.err().ok_or("a write with read scopes")?;
                ensure!(e.status() == Some(403), "{alg}: writes refused by scope: {e}");
                // renewal: client_credentials again once the token has expired
                session.mark_expired();
                service.r::<Patient>().fetch(&w.patient_id).await.map_err(|e| e.to_string())?;
                ensure!(session.refresh_count() >= 1, "{alg}: renewed");
            }
            let client = SmartClient::new(
                &c,
                config.clone(),
                ClientAuth::SecretBasic(ClientId::new("backend-secret"), ClientSecret::new(SECRET)),
            );
            let session = client.backend_session("system/*.read".parse().unwrap()).await.map_err(|e| e.to_string())?;
            read_patient(w, session, &w.patient_id).await?;
            let wrong = SmartClient::new(
                &c,
                config,
                ClientAuth::SecretBasic(ClientId::new("backend-secret"), ClientSecret::new("nope")),
            );
            expect_auth(w, wrong.client_credentials(&"system/*.read".parse().unwrap()).await, |f| {
                f.oauth_error() == Some("invalid_client")
            })?;
            Ok(())
        },
    )
    .await;

    t.case("backend services at oidc-provider: client_credentials with a private_key_jwt assertion", || async {
        let key = PrivateKey::from_pem(SigningAlgorithm::Rs384, &w.keys.pem("rs384"), w.keys.kid("rs384")).unwrap();
        let client = w.client(ClientAuth::PrivateKeyJwt(ClientId::new("service"), key)).await?;
        let session = client.backend_session("system/*.read".parse().unwrap()).await.map_err(|e| e.to_string())?;
        w.remember(&session.token());
        read_patient(w, session, &w.patient_id).await.map(drop)
    })
    .await;

    t.case("dynamic client registration (RFC 7591), then a launch with the new client", || async {
        let c = conn(w);
        let config = SmartConfiguration::from_url(&c, &format!("{}/.well-known/smart-configuration", w.smart.issuer))
            .await
            .map_err(|e| e.to_string())?;
        let registered = register(&c, &config, &ClientRegistration::confidential("fhirstorm test app", &redirect()))
            .await
            .map_err(|e| e.to_string())?;
        let secret = registered.client_secret.clone().ok_or("a client secret")?;
        w.secrets.lock().unwrap().push(secret.secret().to_string());
        w.printed.lock().unwrap().push(format!("{registered:?}"));
        let client = SmartClient::new(&c, config, registered.client_auth()).redirect_url(redirect());
        let token = launch(w, &client, USER_SCOPES).await?;
        read_patient(w, client.session(token), &w.patient_id).await.map(drop)
    })
    .await;

    t.case("loopback redirect: idle connections and forged redirects before the state cannot end the login", || {
        loopback::nothing_before_the_state_ends_the_login(w, loopback_port)
    })
    .await;

    t.case("HTTPS is required of every endpoint unless loopback is allowed", || async {
        let strict = Connection::<R4>::builder(w.fhir.base.clone()).build();
        let e = strict.err().ok_or("plain HTTP accepted")?;
        ensure!(e.kind() == ErrorKind::Config, "config error: {e}");
        let c = Connection::<R4>::builder("https://fhir.example/r4").build().unwrap();
        let e = SmartConfiguration::from_url(&c, &format!("{}/.well-known/smart-configuration", w.smart.issuer))
            .await
            .err()
            .ok_or("plain HTTP endpoint accepted")?;
        ensure!(e.kind() == ErrorKind::Protocol, "protocol error: {e}");
        Ok(())
    })
    .await;

    t.case("no secret appears in Debug or Display of tokens, sessions, clients, keys or errors", || {
        secrets::nothing_printed_holds_a_secret(w)
    })
    .await;

    t.case("tracing output (every level, every crate) of all the flows above holds no secret", || async {
        let log = String::from_utf8_lossy(&captured.0.lock().unwrap()).to_string();
        ensure!(log.contains("fhir.auth") && log.contains("fhir.request"), "spans were captured ({} bytes)", log.len());
        ensure!(log.contains("access token renewed"), "refreshes were logged");
        let secrets = w.secrets.lock().unwrap().clone();
        ensure!(secrets.len() > 20, "secrets collected: {}", secrets.len());
        for s in &secrets {
            ensure!(!log.contains(s.as_str()), "a secret in the tracing output");
        }
        for word in ["code=", "code_verifier", "client_secret=", "Bearer ey", "refresh_token="] {
            ensure!(!log.contains(word), "{word:?} in the tracing output");
        }
        println!("  ({} bytes of tracing output checked against {} secrets)", log.len(), secrets.len());
        Ok(())
    })
    .await;

    // The servers stop when `world` drops.
    drop(world);
}
