//! Checking the `state` that comes back on the redirect: a random one the app kept, or a signed
//! one (`jwt_state`, HS256 with an expiry, a browser binding and claims) that the app need not
//! keep.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use std::sync::Arc;

use super::secret::{constant_time_eq, random_id, BrowserBinding, PkceVerifier, State, StateKey};
use super::token::now_secs;
use crate::error::{AuthFailure, Error};
use crate::json;

/// The claim of a signed state that binds it to the browser that started the login.
const BINDING_CLAIM: &str = "sbh";

/// Claim names a signed state refuses: a JWT's claims are readable by anyone who sees the URL,
/// so a PKCE verifier must never be one (use [`PkceVerifier::for_signed_state`] instead).
const FORBIDDEN_CLAIMS: &[&str] = &["code_verifier", "verifier", "pkce_verifier", "exp", "nonce", BINDING_CLAIM];

fn binding_hash(binding: &BrowserBinding) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, binding.secret().as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, digest.as_ref())
}

/// A signed state: an HS256 JWT holding `exp`, a random `nonce`, the hash of `binding` and
/// `claims` (say, where to go after login), so that a server-side app need not store anything
/// between the redirect and the callback. Check it with a [`StateValidator`] made with the same
/// key and the same binding.
///
/// `binding` ties the state to the browser that started the login (a random value the app sets
/// as an `HttpOnly`, `SameSite=Lax` cookie before redirecting, see [`BrowserBinding`]): without
/// it, an attacker could start a login, sign in as themself and send a victim their own
/// `callback?code=..&state=..` (login CSRF), and the state would check out.
///
/// The claims are signed, not encrypted: anyone who sees the URL can read them. A PKCE verifier
/// (claims named `code_verifier`, `verifier`, `pkce_verifier`) is refused; derive it instead
/// with [`PkceVerifier::for_signed_state`], which needs the key.
pub fn jwt_state(
    key: &StateKey,
    expires_in: Duration,
    binding: &BrowserBinding,
    claims: &[(&str, &str)],
) -> Result<State, Error> {
    let mut body = serde_json::Map::new();
    for (k, v) in claims {
        if FORBIDDEN_CLAIMS.contains(k) {
            return Err(Error::new(
                crate::error::ErrorKind::Config,
                format!("a signed state cannot carry a {k:?} claim (its claims are readable by anyone)"),
            ));
        }
        body.insert((*k).to_string(), serde_json::Value::String((*v).to_string()));
    }
    body.insert("exp".into(), now_secs().saturating_add(expires_in.as_secs()).into());
    let nonce = random_id().map_err(|e| Error::auth_failure(AuthFailure::Key, e.to_string()))?;
    body.insert("nonce".into(), nonce.into());
    body.insert(BINDING_CLAIM.into(), binding_hash(binding).into());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &body, &EncodingKey::from_secret(key.bytes()))
        .map_err(|_| Error::auth_failure(AuthFailure::Key, "signing the state failed"))?;
    Ok(State::new(token))
}

impl PkceVerifier {
    /// The PKCE verifier of a signed state, derived from it with the key (HMAC-SHA256), so that
    /// an app that keeps nothing between redirect and callback still has it: give it to the
    /// authorization request ([`AuthorizationRequest::pkce_verifier`](super::AuthorizationRequest::pkce_verifier))
    /// and derive it again from the state that comes back. Without the key it cannot be
    /// computed from the state.
    pub fn for_signed_state(key: &StateKey, state: &str) -> PkceVerifier {
        let mac = ring::hmac::sign(
            &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key.bytes()),
            format!("fhirstorm pkce verifier\n{state}").as_bytes(),
        );
        let value = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, mac.as_ref());
        PkceVerifier::new(value).expect("43 base64url characters are a valid verifier")
    }
}

/// A hook that records a signed state's `nonce` and says whether it is seen for the first time.
type SeenOnce = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Checks signed states: the HS256 signature with the key, `exp`, the browser binding, each
/// expected claim, and (with [`StateValidator::single_use`]) that it was not used before.
#[derive(Clone)]
pub struct StateValidator {
    key: StateKey,
    binding: String,
    expected: Vec<(String, String)>,
    first_use: Option<SeenOnce>,
}

impl std::fmt::Debug for StateValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateValidator")
            .field("key", &self.key)
            .field("expected", &self.expected)
            .field("single_use", &self.first_use.is_some())
            .finish_non_exhaustive()
    }
}

impl StateValidator {
    /// A validator for states signed with `key` for the browser that presents `binding` (the
    /// value of the cookie the app set when the login started).
    pub fn new(key: StateKey, binding: &BrowserBinding) -> Self {
        StateValidator { key, binding: binding_hash(binding), expected: Vec::new(), first_use: None }
    }

    /// Also require the claim `name` to equal `value`.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.expected.push((name.into(), value.into()));
        self
    }

    /// Refuse a state used before: `first_use(nonce)` records the state's nonce (until the
    /// state expires) and returns whether it had not been seen, as a set's `insert` does.
    pub fn single_use(mut self, first_use: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.first_use = Some(Arc::new(first_use));
        self
    }

    /// Checks `returned` and gives its claims.
    pub fn validate(&self, returned: &str) -> Result<json::Members, Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        let data =
            jsonwebtoken::decode::<json::Members>(returned, &DecodingKey::from_secret(self.key.bytes()), &validation)
                .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    Error::auth_failure(AuthFailure::StateExpired, "the state has expired")
                }
                _ => Error::auth_failure(AuthFailure::StateInvalid, "the state is not one this app signed"),
            })?;
        let bound = data.claims.get(BINDING_CLAIM).and_then(|v| v.as_str()).unwrap_or("");
        if !constant_time_eq(bound.as_bytes(), self.binding.as_bytes()) {
            return Err(Error::auth_failure(
                AuthFailure::StateInvalid,
                "the state was not issued to this browser (its binding cookie differs)",
            ));
        }
        for (name, value) in &self.expected {
            if data.claims.get(name).and_then(|v| v.as_str()) != Some(value.as_str()) {
                return Err(Error::auth_failure(
                    AuthFailure::StateInvalid,
                    format!("the state's {name:?} claim is not the expected one"),
                ));
            }
        }
        if let Some(first_use) = &self.first_use {
            let nonce = data.claims.get("nonce").and_then(|v| v.as_str()).unwrap_or("");
            if !first_use(nonce) {
                return Err(Error::auth_failure(AuthFailure::StateInvalid, "the state was used before"));
            }
        }
        Ok(data.claims)
    }
}

/// Something that can check the `state` a redirect brought back: the [`State`] the app kept,
/// or a [`StateValidator`] for signed states.
pub trait StateCheck: Send + Sync {
    /// Ok when `returned` is the state expected; a typed error (missing, mismatch, expired,
    /// invalid) otherwise.
    fn check_state(&self, returned: Option<&str>) -> Result<(), Error>;
}

fn missing() -> Error {
    Error::auth_failure(AuthFailure::StateMissing, "the redirect carries no state")
}

impl StateCheck for State {
    fn check_state(&self, returned: Option<&str>) -> Result<(), Error> {
        let returned = returned.ok_or_else(missing)?;
        if self.matches(returned) {
            Ok(())
        } else {
            Err(Error::auth_failure(AuthFailure::StateMismatch, "the redirect's state is not the one sent"))
        }
    }
}

impl StateCheck for StateValidator {
    fn check_state(&self, returned: Option<&str>) -> Result<(), Error> {
        self.validate(returned.ok_or_else(missing)?).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> StateKey {
        StateKey::new(*b"0123456789abcdef0123456789abcdef").unwrap()
    }

    #[test]
    fn signed_state_round_trip_and_rejections() {
        let key = key();
        let browser = BrowserBinding::new("cookie-of-this-browser");
        let state = jwt_state(&key, Duration::from_secs(60), &browser, &[("next", "/chart")]).unwrap();
        let v = StateValidator::new(key.clone(), &browser).claim("next", "/chart");
        assert_eq!(v.validate(state.secret()).unwrap().get("next").and_then(|n| n.as_str()), Some("/chart"));
        assert!(v.check_state(Some(state.secret())).is_ok());
        assert_eq!(v.check_state(None).unwrap_err().auth(), Some(&AuthFailure::StateMissing));
        let other = StateValidator::new(StateKey::new(*b"another-key-another-key-another-").unwrap(), &browser);
        assert_eq!(other.check_state(Some(state.secret())).unwrap_err().auth(), Some(&AuthFailure::StateInvalid));
        let wrong_claim = StateValidator::new(key.clone(), &browser).claim("next", "/elsewhere");
        assert_eq!(wrong_claim.check_state(Some(state.secret())).unwrap_err().auth(), Some(&AuthFailure::StateInvalid));
        let expired = jwt_state(&key, Duration::ZERO, &browser, &[]).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(v.check_state(Some(expired.secret())).unwrap_err().auth(), Some(&AuthFailure::StateExpired));
        assert!(StateKey::new(*b"short").is_err());
    }

    /// Threat 3 (login CSRF): an attacker's own state, valid and signed by the app, presented
    /// by the victim's browser, whose binding cookie differs, is refused.
    #[test]
    fn a_signed_state_is_bound_to_the_browser_that_started_the_login() {
        let key = key();
        let attacker = BrowserBinding::new("attacker-cookie");
        let victim = BrowserBinding::new("victim-cookie");
        let attackers_state = jwt_state(&key, Duration::from_secs(60), &attacker, &[]).unwrap();
        let at_victim = StateValidator::new(key.clone(), &victim);
        let e = at_victim.check_state(Some(attackers_state.secret())).unwrap_err();
        assert_eq!(e.auth(), Some(&AuthFailure::StateInvalid));
        assert!(e.to_string().contains("not issued to this browser"), "{e}");
        assert!(StateValidator::new(key, &attacker).check_state(Some(attackers_state.secret())).is_ok());
        assert!(!attackers_state.secret().contains("attacker-cookie"), "only a hash of the binding is in the state");
    }

    #[test]
    fn no_verifier_in_claims_and_a_derived_one_instead() {
        let key = key();
        let browser = BrowserBinding::new("c");
        for name in ["code_verifier", "verifier", "pkce_verifier", "nonce", "sbh"] {
            assert!(jwt_state(&key, Duration::from_secs(60), &browser, &[(name, "x")]).is_err(), "{name}");
        }
        let state = jwt_state(&key, Duration::from_secs(60), &browser, &[]).unwrap();
        let v1 = PkceVerifier::for_signed_state(&key, state.secret());
        let v2 = PkceVerifier::for_signed_state(&key, state.secret());
        assert_eq!(v1.secret(), v2.secret(), "derived again at the callback");
        assert_eq!(v1.secret().len(), 43);
        let other_key = StateKey::new(*b"another-key-another-key-another-").unwrap();
        assert_ne!(v1.secret(), PkceVerifier::for_signed_state(&other_key, state.secret()).secret());
        assert!(!state.secret().contains(v1.secret()));
    }

    #[test]
    fn a_single_use_state_is_refused_the_second_time() {
        let key = key();
        let browser = BrowserBinding::new("c");
        let seen = std::sync::Mutex::new(std::collections::HashSet::new());
        let v = StateValidator::new(key.clone(), &browser)
            .single_use(move |nonce| seen.lock().unwrap().insert(nonce.to_string()));
        let state = jwt_state(&key, Duration::from_secs(60), &browser, &[]).unwrap();
        assert!(v.check_state(Some(state.secret())).is_ok());
        assert_eq!(v.check_state(Some(state.secret())).unwrap_err().auth(), Some(&AuthFailure::StateInvalid));
        let fresh = jwt_state(&key, Duration::from_secs(60), &browser, &[]).unwrap();
        assert!(v.check_state(Some(fresh.secret())).is_ok());
    }

    #[test]
    fn kept_state() {
        let s = State::random().unwrap();
        assert!(s.check_state(Some(s.secret())).is_ok());
        assert_eq!(s.check_state(Some("x")).unwrap_err().auth(), Some(&AuthFailure::StateMismatch));
        assert_eq!(s.check_state(None).unwrap_err().auth(), Some(&AuthFailure::StateMissing));
    }
}
