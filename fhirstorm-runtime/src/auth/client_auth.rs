//! How a client proves who it is at the token endpoint: public, `client_secret_basic`,
//! `client_secret_post`, or `private_key_jwt` (SMART's asymmetric confidential client).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use url::Url;

use super::secret::{random_id, ClientId, ClientSecret};
use crate::error::{AuthFailure, Error};
use crate::json;

/// The signing algorithms SMART asks asymmetric clients to support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// ECDSA P-384 with SHA-384.
    Es384,
}

impl SigningAlgorithm {
    fn jwt(self) -> Algorithm {
        match self {
            SigningAlgorithm::Rs384 => Algorithm::RS384,
            SigningAlgorithm::Es384 => Algorithm::ES384,
        }
    }
}

/// A private key for `private_key_jwt` client authentication: the key, its algorithm and the
/// `kid` the server knows its public half by. Never shown in `Debug`.
#[derive(Clone)]
pub struct PrivateKey {
    key: EncodingKey,
    alg: SigningAlgorithm,
    kid: String,
    /// The public half, as a JWK.
    public: json::Value,
}

impl PrivateKey {
    /// A key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`) or, for RS384, PKCS#1 (`BEGIN RSA PRIVATE KEY`);
    /// for ES384 a P-384 key in PKCS#8.
    pub fn from_pem(alg: SigningAlgorithm, pem: &[u8], kid: impl Into<String>) -> Result<PrivateKey, Error> {
        let key = match alg {
            SigningAlgorithm::Rs384 => EncodingKey::from_rsa_pem(pem),
            SigningAlgorithm::Es384 => EncodingKey::from_ec_pem(pem),
        }
        .map_err(|_| Error::auth_failure(AuthFailure::Key, format!("the {alg:?} private key could not be read")))?;
        let kid = kid.into();
        let public = public_jwk(alg, pem, &kid).and_then(|v| serde_json::from_value(v).ok()).ok_or_else(|| {
            Error::auth_failure(AuthFailure::Key, format!("the {alg:?} public key could not be derived"))
        })?;
        let key = PrivateKey { key, alg, kid, public };
        // Sign once now, so that a key of the wrong kind fails here and not at the token endpoint.
        key.sign(&serde_json::json!({ "probe": true }))?;
        Ok(key)
    }

    /// The algorithm.
    pub fn algorithm(&self) -> SigningAlgorithm {
        self.alg
    }

    /// The key id.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public half as a JWK with `kty`, `kid`, `use` (`sig`) and `alg` (`RS384`, `ES384`):
    /// RFC 7517 makes `alg` and `use` optional, but some servers require them on every key of a
    /// client's JWKS, and none refuses them.
    pub fn public_jwk(&self) -> &json::Value {
        &self.public
    }

    /// A JWKS (`{"keys":[...]}`) holding the public half: to register with a server (`jwks`) or
    /// to serve at the client's `jwks_uri`.
    pub fn jwks(&self) -> String {
        let mut jwks = json::Members::new();
        jwks.push("keys", json::Value::Array(vec![self.public.clone()]));
        json::to_string(&json::Value::Object(jwks))
    }

    pub(crate) fn sign(&self, claims: &serde_json::Value) -> Result<String, Error> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|_| Error::auth_failure(AuthFailure::Key, format!("signing with the {:?} key failed", self.alg)))
    }
}

/// The DER inside a PEM document, and its label (`PRIVATE KEY`, `RSA PRIVATE KEY`).
fn pem_der(pem: &[u8]) -> Option<(String, Vec<u8>)> {
    use base64::Engine as _;
    let text = std::str::from_utf8(pem).ok()?;
    let after = &text[text.find("-----BEGIN ")? + "-----BEGIN ".len()..];
    let label_end = after.find("-----")?;
    let body = &after[label_end + 5..after.find("-----END ")?];
    let b64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    Some((after[..label_end].to_string(), base64::engine::general_purpose::STANDARD.decode(b64).ok()?))
}

/// The public JWK of a PEM private key (the same key `EncodingKey` read).
fn public_jwk(alg: SigningAlgorithm, pem: &[u8], kid: &str) -> Option<serde_json::Value> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    let (label, der) = pem_der(pem)?;
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    match alg {
        SigningAlgorithm::Rs384 => {
            let pair = match label.as_str() {
                "RSA PRIVATE KEY" => ring::signature::RsaKeyPair::from_der(&der),
                _ => ring::signature::RsaKeyPair::from_pkcs8(&der),
            }
            .ok()?;
            let public = ring::rsa::PublicKeyComponents::<Vec<u8>>::from(pair.public());
            Some(serde_json::json!({
                "kty": "RSA", "kid": kid, "use": "sig", "alg": "RS384", "n": b64(&public.n), "e": b64(&public.e),
            }))
        }
        SigningAlgorithm::Es384 => {
            let rng = ring::rand::SystemRandom::new();
            let signing = &ring::signature::ECDSA_P384_SHA384_FIXED_SIGNING;
            let pair = ring::signature::EcdsaKeyPair::from_pkcs8(signing, &der, &rng).ok()?;
            let point = ring::signature::KeyPair::public_key(&pair).as_ref(); // 0x04 || X || Y
            let (x, y) = point.get(1..)?.split_at(48);
            Some(serde_json::json!({
                "kty": "EC", "kid": kid, "use": "sig", "alg": "ES384", "crv": "P-384", "x": b64(x), "y": b64(y),
            }))
        }
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .field("key", &"<redacted>")
            .finish()
    }
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Debug)]
pub enum ClientAuth {
    /// A public client (a browser or native app): only its id; PKCE protects the code.
    Public(ClientId),
    /// A confidential symmetric client sending its secret with HTTP Basic (`client_secret_basic`).
    SecretBasic(ClientId, ClientSecret),
    /// A confidential symmetric client sending its secret in the form (`client_secret_post`).
    SecretPost(ClientId, ClientSecret),
    /// A confidential asymmetric client signing a JWT assertion (`private_key_jwt`), as SMART 2
    /// and Backend Services require: `iss` = `sub` = client id, `aud` = the token endpoint, a
    /// fresh `jti`, and five minutes to live.
    PrivateKeyJwt(ClientId, PrivateKey),
}

/// How long a client assertion lives (SMART: no more than five minutes).
const ASSERTION_LIFETIME: Duration = Duration::from_secs(300);

impl ClientAuth {
    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        match self {
            ClientAuth::Public(id)
            | ClientAuth::SecretBasic(id, _)
            | ClientAuth::SecretPost(id, _)
            | ClientAuth::PrivateKeyJwt(id, _) => id,
        }
    }

    /// The RFC 7591 name of the method (`none`, `client_secret_basic`, ...).
    pub fn method(&self) -> &'static str {
        match self {
            ClientAuth::Public(_) => "none",
            ClientAuth::SecretBasic(..) => "client_secret_basic",
            ClientAuth::SecretPost(..) => "client_secret_post",
            ClientAuth::PrivateKeyJwt(..) => "private_key_jwt",
        }
    }

    /// What an `invalid_client` answer adds to its error: how this client authenticated, and
    /// for `client_secret_basic` whether form-urlencoding changed its id or secret (servers
    /// differ on decoding them; the note never shows either).
    pub(crate) fn refused_note(&self, basic_unencoded: bool) -> String {
        // The encoding `apply` uses: does it change this text?
        let encoding_changes = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>() != s;
        match self {
            ClientAuth::Public(_) => "the client is public: it sent its client_id and no credentials".to_string(),
            ClientAuth::SecretBasic(id, secret) => {
                let sent =
                    if basic_unencoded { "client_secret_basic, not form-urlencoded" } else { "client_secret_basic" };
                let hint = if encoding_changes(id.as_str()) || encoding_changes(secret.secret()) {
                    format!(
                        "; its id or secret has characters that form-urlencoding changes: try \
                         SmartClient::basic_auth_unencoded({}) if the server {}",
                        !basic_unencoded,
                        if basic_unencoded { "decodes them (RFC 6749)" } else { "expects them as they are" }
                    )
                } else {
                    String::new()
                };
                format!("the client authenticated with {sent}{hint}")
            }
            other => format!("the client authenticated with {}", other.method()),
        }
    }

    /// Adds the client's credentials to a token request: form fields, and the Basic header's
    /// value when there is one.
    ///
    /// `client_secret_basic` form-urlencodes id and secret before joining them (RFC 6749 §2.3.1);
    /// with `basic_unencoded` they are joined as they are (RFC 7617), for servers that do not
    /// decode them.
    pub(crate) fn apply(
        &self,
        token_endpoint: &Url,
        form: &mut Vec<(&'static str, String)>,
        basic_unencoded: bool,
    ) -> Result<Option<String>, Error> {
        match self {
            ClientAuth::Public(id) => {
                form.push(("client_id", id.as_str().to_string()));
                Ok(None)
            }
            ClientAuth::SecretBasic(id, secret) => {
                use base64::Engine as _;
                // RFC 6749 2.3.1: both parts form-urlencoded before joining.
                let enc = |s: &str| {
                    if basic_unencoded {
                        s.to_string()
                    } else {
                        url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                    }
                };
                let pair = zeroize::Zeroizing::new(format!("{}:{}", enc(id.as_str()), enc(secret.secret())));
                Ok(Some(format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair.as_bytes()))))
            }
            ClientAuth::SecretPost(id, secret) => {
                form.push(("client_id", id.as_str().to_string()));
                form.push(("client_secret", secret.secret().to_string()));
                Ok(None)
            }
            ClientAuth::PrivateKeyJwt(id, key) => {
                let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
                let jti = random_id().map_err(|e| Error::auth_failure(AuthFailure::Key, e.to_string()))?;
                let claims = serde_json::json!({
                    "iss": id.as_str(),
                    "sub": id.as_str(),
                    "aud": token_endpoint.as_str(),
                    "jti": jti,
                    "iat": now,
                    "exp": now + ASSERTION_LIFETIME.as_secs(),
                });
                form.push(("client_id", id.as_str().to_string()));
                form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
                form.push(("client_assertion", key.sign(&claims)?));
                Ok(None)
            }
        }
    }
}
