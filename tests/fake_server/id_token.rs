//! Threat 4 of RELIABILITY.md: id_tokens that are signed by the server's key and yet must be
//! refused (OpenID Connect Core §3.1.3.7), the nonce of the code exchange, and the key cache.
//! A fake authorization server (its OpenID configuration and JWKS, then its token endpoint)
//! with an ES256 key made here; oidc-provider's real id_tokens are verified in `tests/servers/smart.rs`.

use crate::fake;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use fake::Reply;
use fhirstorm::auth::{
    AuthorizationCode, ClientAuth, ClientId, IdToken, PkceVerifier, RedirectUrl, SmartClient, SmartConfiguration,
};
use fhirstorm::client::{AuthFailure, Connection, Error};
use fhirstorm::R4;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

const CLIENT: &str = "app";

/// An ES256 key: its PKCS#8 document (to sign) and its public JWK (to publish).
struct Key {
    pkcs8: Vec<u8>,
    kid: String,
}

impl Key {
    fn new(kid: &str) -> Key {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap().as_ref().to_vec();
        Key { pkcs8, kid: kid.into() }
    }
    fn jwk(&self, extra: Value) -> Value {
        let rng = ring::rand::SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &self.pkcs8, &rng).unwrap();
        let point = pair.public_key().as_ref(); // 0x04 || X || Y
        let mut jwk = json!({"kty": "EC", "crv": "P-256", "kid": self.kid,
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])});
        if let (Some(jwk), Value::Object(extra)) = (jwk.as_object_mut(), extra) {
            jwk.extend(extra);
        }
        jwk
    }
    fn sign(&self, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &jsonwebtoken::EncodingKey::from_ec_der(&self.pkcs8)).unwrap()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A public client of the authorization server at `issuer` (the fake), with a redirect URL.
fn client_of(issuer: &str) -> SmartClient {
    let conn = Connection::<R4>::builder(issuer).allow_insecure_loopback(true).build().unwrap();
    let config = format!(
        r#"{{"issuer":"{issuer}","authorization_endpoint":"{issuer}/auth","token_endpoint":"{issuer}/token"}}"#
    );
    SmartClient::new(
        &conn,
        SmartConfiguration::from_slice(config.as_bytes(), true).unwrap(),
        ClientAuth::Public(ClientId::new(CLIENT)),
    )
    .redirect_url(RedirectUrl::new("http://127.0.0.1:9/cb").unwrap())
}

/// The OpenID configuration the fake at `base` serves.
fn openid_configuration(base: &str) -> Reply {
    Reply::new(200, "application/json", &json!({"issuer": base, "jwks_uri": format!("{base}/jwks")}).to_string())
}

fn failure(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Ok(v) => panic!("expected the id_token to be refused, got {v:?}"),
        Err(e) => {
            assert_eq!(e.auth(), Some(&AuthFailure::IdTokenInvalid), "{e}");
            e.to_string()
        }
    }
}

fn claims(issuer: &str, extra: Value) -> Value {
    let t = now();
    let mut c = json!({"iss": issuer, "sub": "u1", "aud": CLIENT, "iat": t, "exp": t + 300});
    if let (Some(c), Value::Object(extra)) = (c.as_object_mut(), extra) {
        for (k, v) in extra {
            if v.is_null() {
                c.remove(&k);
            } else {
                c.insert(k, v);
            }
        }
    }
    c
}

#[tokio::test]
async fn signed_but_wrong_id_tokens_are_refused_and_keys_are_cached() {
    let key = Key::new("k1");
    let jwks = json!({"keys": [key.jwk(json!({"use": "sig", "alg": "ES256"}))]}).to_string();
    // The fake answers by order: the OpenID configuration, then the JWKS (once: cached after).
    let f = fake::start_with(|base| vec![openid_configuration(base), Reply::new(200, "application/json", &jwks)]).await;
    let issuer = f.base.clone();
    let client = client_of(&issuer);
    let verify = |c: Value| {
        let client = client.clone();
        let token = IdToken::new(key.sign(&c));
        async move { client.verify(&token).await }
    };

    // A good one verifies.
    verify(claims(&issuer, json!({}))).await.expect("a good id_token");
    let t = now();
    // iat: required, not in the future, at most a day before exp.
    assert!(failure(verify(claims(&issuer, json!({"iat": null}))).await).contains("no iat"));
    assert!(failure(verify(claims(&issuer, json!({"iat": t + 3600}))).await).contains("future"));
    assert!(failure(verify(claims(&issuer, json!({"iat": t - 60, "exp": t + 2 * 86400}))).await)
        .contains("more than a day"));
    // nbf: not yet valid.
    assert!(failure(verify(claims(&issuer, json!({"nbf": t + 3600}))).await).contains("nbf"));
    // Several audiences: azp required, and it must be this client.
    assert!(failure(verify(claims(&issuer, json!({"aud": [CLIENT, "other"]}))).await).contains("no azp"));
    assert!(failure(verify(claims(&issuer, json!({"aud": [CLIENT, "other"], "azp": "other"}))).await).contains("azp"));
    verify(claims(&issuer, json!({"aud": [CLIENT, "other"], "azp": CLIENT}))).await.expect("azp is this client");
    // A missing required claim is named.
    assert!(failure(verify(claims(&issuer, json!({"sub": null}))).await).contains("\"sub\""));

    // Every verification above used the keys fetched once.
    let seen: Vec<String> = f.seen.lock().unwrap().iter().map(|r| r.path.clone()).collect();
    assert_eq!(seen, ["/fhir/.well-known/openid-configuration", "/fhir/jwks"], "fetched once, then cached");
}

#[tokio::test]
async fn keys_not_for_signing_or_for_another_alg_are_not_used_and_a_new_kid_is_fetched_once() {
    let key = Key::new("k1");
    let rotated = Key::new("k2");
    let enc_only = json!({"keys": [key.jwk(json!({"use": "enc"}))]}).to_string();
    let other_alg = json!({"keys": [key.jwk(json!({"alg": "ES384"}))]}).to_string();
    let both = json!({"keys": [key.jwk(json!({})), rotated.jwk(json!({"use": "sig"}))]}).to_string();
    let f = fake::start_with(|base| {
        vec![
            openid_configuration(base),
            Reply::new(200, "application/json", &enc_only),
            Reply::new(200, "application/json", &other_alg),
            Reply::new(200, "application/json", &json!({"keys": [key.jwk(json!({}))]}).to_string()),
            Reply::new(200, "application/json", &both),
        ]
    })
    .await;
    let issuer = f.base.clone();
    let client = client_of(&issuer);
    let good = IdToken::new(key.sign(&claims(&issuer, json!({}))));
    // An encryption key, and a key for another algorithm, are not signing keys for ES256: each
    // verification fetches the set again once (the kid is unknown among usable keys), then fails.
    assert!(failure(client.verify(&good).await).contains("no key"));
    assert!(failure(client.verify(&good).await).contains("no key"));
    // The set now has the key: verified, and cached.
    client.verify(&good).await.expect("the key, for signing, with no alg stated");
    client.verify(&good).await.expect("from the cache");
    // The server rotated its key: an unknown kid makes one more fetch, which has it.
    let fresh = IdToken::new(rotated.sign(&claims(&issuer, json!({}))));
    client.verify(&fresh).await.expect("the rotated key, after one fetch");
    let fetches = f.seen.lock().unwrap().iter().filter(|r| r.path.ends_with("/jwks")).count();
    assert_eq!(fetches, 4, "once per key set served, never again from the cache");
}

#[tokio::test]
async fn the_code_exchange_checks_the_id_tokens_nonce() {
    let key = Key::new("k1");
    let verifier = PkceVerifier::random().unwrap();
    // What the authorization URL carried as nonce for this verifier.
    let client0 = {
        let conn = Connection::<R4>::builder("https://ehr.example/fhir").build().unwrap();
        let config = r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/auth","token_endpoint":"https://as.example/token"}"#;
        SmartClient::new(
            &conn,
            SmartConfiguration::from_slice(config.as_bytes(), false).unwrap(),
            ClientAuth::Public(ClientId::new(CLIENT)),
        )
        .redirect_url(RedirectUrl::new("https://app.example/cb").unwrap())
    };
    let request = client0.authorization_request("openid fhirUser patient/*.read".parse().unwrap()).unwrap();
    let (url, _, sent_verifier) = request.pkce_verifier(verifier.clone()).url().unwrap();
    assert_eq!(sent_verifier.secret(), verifier.secret());
    let nonce =
        url.query_pairs().find(|(k, _)| k == "nonce").map(|(_, v)| v.into_owned()).expect("a nonce with openid");
    assert!(!nonce.contains(verifier.secret()), "the nonce does not reveal the verifier");
    let (url, _, _) = client0.authorization_request("patient/*.read".parse().unwrap()).unwrap().url().unwrap();
    assert!(!url.query_pairs().any(|(k, _)| k == "nonce"), "no nonce without openid");

    for (id_nonce, ok) in [(Some(nonce.as_str()), true), (Some("another-login"), false), (None, false)] {
        let f = fake::start_with(|base| {
            let mut c = claims(base, json!({}));
            if let Some(n) = id_nonce {
                c["nonce"] = json!(n);
            }
            let body = json!({"access_token": "at", "token_type": "Bearer", "id_token": key.sign(&c)}).to_string();
            vec![Reply::new(200, "application/json", &body)]
        })
        .await;
        let client = client_of(&f.base);
        let r = client.exchange_code(&AuthorizationCode::new("c"), &verifier).await;
        if ok {
            r.expect("the nonce sent");
        } else {
            assert!(failure(r).contains("nonce"));
        }
    }
}
