//! id_token verification (OpenID Connect Core §3.1.3.7): the signature against the server's
//! keys (cached, refetched once for an unknown `kid`), `iss`, `aud` and `azp`, `exp`, `nbf`,
//! `iat` and a bounded lifetime, and the `nonce` fhirstorm sends with every `openid` request.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use url::Url;

use super::http::AuthHttp;
use super::secret::{IdToken, PkceVerifier};
use super::token::{now_secs, unverified_claims, TokenResponse};
use crate::error::{AuthFailure, Error};
use crate::json;

/// How long the server's keys are used before they are fetched again.
pub(crate) const KEYS_TTL: Duration = Duration::from_secs(600);
/// Clock skew allowed on `exp`, `nbf` and `iat`.
const LEEWAY: u64 = 60;
/// The longest an id_token may be valid (`exp - iat`): one day.
const MAX_LIFETIME: u64 = 24 * 3600;

/// The server's id_token keys as last fetched (shared by clones of a client).
#[derive(Clone, Default)]
pub(crate) struct KeyCache(Arc<Mutex<Option<FetchedKeys>>>);

struct FetchedKeys {
    at: Instant,
    jwks_uri: Url,
    keys: JwkSet,
}

impl PkceVerifier {
    /// The OpenID `nonce` sent with an authorization request that has this verifier:
    /// SHA-256 of it, base64url. The verifier stays secret (a hash does not reveal it), and the
    /// app keeps nothing more: the code exchange, which has the verifier, checks the id_token's
    /// `nonce` against it.
    pub(crate) fn nonce(&self) -> String {
        let digest =
            ring::digest::digest(&ring::digest::SHA256, format!("fhirstorm nonce\n{}", self.secret()).as_bytes());
        base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, digest.as_ref())
    }
}

/// After a code exchange: the id_token's `nonce` must be the one the authorization request
/// sent (this code's verifier's), so that an id_token from another login cannot be slipped in.
/// Its signature is checked by `SmartClient::verify_id_token`.
pub(crate) fn check_nonce(token: &TokenResponse, verifier: &PkceVerifier) -> Result<(), Error> {
    let Some(id_token) = &token.id_token else { return Ok(()) };
    let claims = unverified_claims(id_token.secret()).ok_or_else(|| id_error("the id_token is not a JWT"))?;
    match claims.get("nonce").and_then(|n| n.as_str()) {
        Some(n) if super::secret::constant_time_eq(n.as_bytes(), verifier.nonce().as_bytes()) => Ok(()),
        Some(_) => Err(id_error("the id_token's nonce is not the one this login sent")),
        None => Err(id_error("the id_token has no nonce, though the authorization request sent one")),
    }
}

impl KeyCache {
    /// Verifies `id_token` (see `SmartClient::verify_id_token`): issued by `issuer` (the SMART
    /// configuration's) for `client_id`, signed by a key of the issuer's JWKS, fetched with `http`.
    pub(super) async fn verify(
        &self,
        http: &AuthHttp,
        issuer: Option<&str>,
        client_id: &str,
        id_token: &IdToken,
    ) -> Result<IdTokenClaims, Error> {
        let issuer =
            issuer.ok_or_else(|| id_error("the SMART configuration names no issuer to check the id_token against"))?;
        let header =
            jsonwebtoken::decode_header(id_token.secret()).map_err(|_| id_error("the id_token is not a JWT"))?;
        if matches!(header.alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) {
            return Err(id_error("symmetric id_token signatures are not accepted"));
        }
        let key = self.signing_key(http, issuer, header.kid.as_deref(), header.alg).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY;
        let data = jsonwebtoken::decode::<json::Members>(id_token.secret(), &key, &validation)
            .map_err(|e| id_error(&format!("the id_token does not verify: {}", jwt_reason(&e))))?;
        check_claims(&data.claims, client_id, now_secs())?;
        Ok(IdTokenClaims { claims: data.claims })
    }

    /// The key that signed an id_token: from the cached key set, or (when the cache is old, or
    /// lacks the key) from a fresh fetch, once.
    async fn signing_key(
        &self,
        http: &AuthHttp,
        issuer: &str,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<DecodingKey, Error> {
        let cached = {
            let cache = self.0.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .as_ref()
                .filter(|c| c.at.elapsed() < KEYS_TTL)
                .map(|c| (c.jwks_uri.clone(), find_key(&c.keys, kid, alg)))
        };
        let jwks_uri = match cached {
            Some((_, Some(found))) => return found,
            Some((uri, None)) => uri,
            None => jwks_uri(http, issuer).await?,
        };
        let keys: JwkSet = serde_json::from_value(http.get_json(&jwks_uri).await?)
            .map_err(|_| id_error("the server's JWKS is not a valid key set"))?;
        let found = find_key(&keys, kid, alg);
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(FetchedKeys { at: Instant::now(), jwks_uri, keys });
        found.unwrap_or_else(|| Err(id_error("no key of the server's JWKS matches the id_token's kid and alg")))
    }
}

/// The `jwks_uri` of the issuer's OpenID configuration, whose `issuer` must be the SMART
/// configuration's.
async fn jwks_uri(http: &AuthHttp, issuer: &str) -> Result<Url, Error> {
    let discovery_url = Url::parse(&format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/')))
        .map_err(|_| id_error("the issuer is not a URL"))?;
    let discovery = http.get_json(&discovery_url).await?;
    if discovery.get("issuer").and_then(|v| v.as_str()) != Some(issuer) {
        return Err(id_error("the OpenID configuration's issuer is not the SMART configuration's"));
    }
    let jwks_uri = discovery
        .get("jwks_uri")
        .and_then(|v| v.as_str())
        .ok_or_else(|| id_error("the OpenID configuration has no jwks_uri"))?;
    http.checked(jwks_uri)
}

/// The key for `kid` and `alg` among `keys`: only signing keys (`use` absent or `sig`) whose
/// `alg`, when stated, is the id_token's. Without a `kid`, the one such key if there is one.
/// `None` when no key fits (the caller may fetch the set again); `Some(Err)` when the key fits
/// but cannot be used.
fn find_key(keys: &JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<Result<DecodingKey, Error>> {
    let usable = |k: &&Jwk| {
        let for_signing = matches!(k.common.public_key_use, None | Some(PublicKeyUse::Signature));
        let same_alg = k.common.key_algorithm.is_none_or(|a| format!("{a:?}") == format!("{alg:?}"));
        for_signing && same_alg
    };
    let mut candidates = keys.keys.iter().filter(usable);
    let key = match kid {
        Some(kid) => candidates.find(|k| k.common.key_id.as_deref() == Some(kid)),
        None => {
            let first = candidates.next();
            if candidates.next().is_some() {
                None
            } else {
                first
            }
        }
    }?;
    Some(DecodingKey::from_jwk(key).map_err(|_| id_error("the server's signing key cannot be used")))
}

/// What jsonwebtoken does not check: `iat` (required, not in the future, at most a day before
/// `exp`), and `azp` (this client, required when there are several audiences).
fn check_claims(claims: &json::Members, client_id: &str, now: u64) -> Result<(), Error> {
    let iat = claims.get("iat").and_then(seconds).ok_or_else(|| id_error("the id_token has no iat"))?;
    if iat > now + LEEWAY {
        return Err(id_error("the id_token was issued in the future (iat)"));
    }
    let exp = claims.get("exp").and_then(seconds).unwrap_or(0);
    if exp.saturating_sub(iat) > MAX_LIFETIME {
        return Err(id_error("the id_token is valid for more than a day (exp - iat)"));
    }
    let audiences = match claims.get("aud") {
        Some(json::Value::Array(list)) => list.len(),
        _ => 1,
    };
    match claims.get("azp").map(|v| v.as_str()) {
        Some(Some(azp)) if azp == client_id => Ok(()),
        Some(_) => Err(id_error("the id_token's azp is not this client")),
        None if audiences > 1 => Err(id_error("the id_token has several audiences and no azp")),
        None => Ok(()),
    }
}

/// A NumericDate claim (seconds since the epoch) as an integer.
fn seconds(v: &json::Value) -> Option<u64> {
    match v {
        json::Value::Number(n) => n.as_str().parse().ok(),
        _ => None,
    }
}

/// The error of verifying a token response that carries no id_token.
pub(super) fn no_id_token() -> Error {
    id_error("the token response has no id_token (ask for openid)")
}

fn id_error(why: &str) -> Error {
    Error::auth_failure(AuthFailure::IdTokenInvalid, why.to_string())
}

/// What went wrong, naming the claim where jsonwebtoken says which.
fn jwt_reason(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::InvalidSignature => "bad signature".into(),
        K::ExpiredSignature => "expired".into(),
        K::InvalidIssuer => "wrong issuer".into(),
        K::InvalidAudience => "wrong audience".into(),
        K::ImmatureSignature => "not valid yet (nbf)".into(),
        K::MissingRequiredClaim(claim) => format!("the required claim {claim:?} is missing"),
        K::InvalidAlgorithm => "unexpected algorithm".into(),
        _ => "malformed".into(),
    }
}

/// The verified claims of an `id_token`.
#[derive(Debug, Clone, PartialEq)]
pub struct IdTokenClaims {
    /// Every claim.
    pub claims: json::Members,
}

impl IdTokenClaims {
    /// `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.claims.get("sub")?.as_str()
    }

    /// `fhirUser`, typed: which kind of resource the user is, and its id.
    pub fn fhir_user(&self) -> Option<FhirUser> {
        FhirUser::parse(self.claims.get("fhirUser")?.as_str()?)
    }
}

/// The kinds of resource a `fhirUser` can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirUserType {
    /// `Patient`
    Patient,
    /// `Practitioner`
    Practitioner,
    /// `PractitionerRole`
    PractitionerRole,
    /// `RelatedPerson`
    RelatedPerson,
    /// `Person`
    Person,
}

/// The `fhirUser` claim: a reference to the user's own resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirUser {
    /// What kind of resource.
    pub resource_type: FhirUserType,
    /// Its id.
    pub id: String,
    /// The claim as sent (relative or absolute).
    pub reference: String,
}

impl FhirUser {
    /// Reads `Practitioner/123` or `https://host/fhir/Practitioner/123`.
    pub fn parse(reference: &str) -> Option<FhirUser> {
        let mut parts = reference.trim_end_matches('/').rsplit('/');
        let id = parts.next()?.to_string();
        let resource_type = match parts.next()? {
            "Patient" => FhirUserType::Patient,
            "Practitioner" => FhirUserType::Practitioner,
            "PractitionerRole" => FhirUserType::PractitionerRole,
            "RelatedPerson" => FhirUserType::RelatedPerson,
            "Person" => FhirUserType::Person,
            _ => return None,
        };
        if id.is_empty() {
            return None;
        }
        Some(FhirUser { resource_type, id, reference: reference.to_string() })
    }
}
