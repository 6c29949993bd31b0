//! Checking the `state` that comes back on the redirect: a random one the app kept, or a signed
//! one (`jwt_state`, HS256 with an expiry and claims) that the app need not keep.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::secret::{random_id, State, StateKey};
use super::token::now_secs;
use crate::client::{AuthFailure, Error};

/// A signed state: an HS256 JWT holding `exp`, a random `nonce` and `claims` (say, where to go
/// after login), so that a server-side app need not store anything between the redirect and
/// the callback. Check it with a [`StateValidator`] made with the same key.
pub fn jwt_state(key: &StateKey, expires_in: Duration, claims: &[(&str, &str)]) -> Result<State, Error> {
    let mut body = serde_json::Map::new();
    for (k, v) in claims {
        body.insert((*k).to_string(), serde_json::Value::String((*v).to_string()));
    }
    body.insert("exp".into(), now_secs().saturating_add(expires_in.as_secs()).into());
    let nonce = random_id().map_err(|e| Error::auth_failure(AuthFailure::Key, e.to_string()))?;
    body.insert("nonce".into(), nonce.into());
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &body, &EncodingKey::from_secret(key.bytes()))
        .map_err(|_| Error::auth_failure(AuthFailure::Key, "signing the state failed"))?;
    Ok(State::new(token))
}

/// Checks signed states: the HS256 signature with the key, `exp`, and each expected claim.
#[derive(Debug, Clone)]
pub struct StateValidator {
    key: StateKey,
    expected: Vec<(String, String)>,
}

impl StateValidator {
    /// A validator for states signed with `key`.
    pub fn new(key: StateKey) -> Self {
        StateValidator { key, expected: Vec::new() }
    }

    /// Also require the claim `name` to equal `value`.
    pub fn claim(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.expected.push((name.into(), value.into()));
        self
    }

    /// Checks `returned` and gives its claims.
    pub fn validate(&self, returned: &str) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp"]);
        let data = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
            returned,
            &DecodingKey::from_secret(self.key.bytes()),
            &validation,
        )
        .map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                Error::auth_failure(AuthFailure::StateExpired, "the state has expired")
            }
            _ => Error::auth_failure(AuthFailure::StateInvalid, "the state is not one this app signed"),
        })?;
        for (name, value) in &self.expected {
            if data.claims.get(name).and_then(|v| v.as_str()) != Some(value.as_str()) {
                return Err(Error::auth_failure(
                    AuthFailure::StateInvalid,
                    format!("the state's {name:?} claim is not the expected one"),
                ));
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

    #[test]
    fn signed_state_round_trip_and_rejections() {
        let key = StateKey::new(*b"0123456789abcdef0123456789abcdef").unwrap();
        let state = jwt_state(&key, Duration::from_secs(60), &[("next", "/chart")]).unwrap();
        let v = StateValidator::new(key.clone()).claim("next", "/chart");
        assert_eq!(v.validate(state.secret()).unwrap()["next"], "/chart");
        assert!(v.check_state(Some(state.secret())).is_ok());
        assert_eq!(v.check_state(None).unwrap_err().auth(), Some(&AuthFailure::StateMissing));
        let other = StateValidator::new(StateKey::new(*b"another-key-another-key-another-").unwrap());
        assert_eq!(other.check_state(Some(state.secret())).unwrap_err().auth(), Some(&AuthFailure::StateInvalid));
        let wrong_claim = StateValidator::new(key.clone()).claim("next", "/elsewhere");
        assert_eq!(wrong_claim.check_state(Some(state.secret())).unwrap_err().auth(), Some(&AuthFailure::StateInvalid));
        let expired = jwt_state(&key, Duration::ZERO, &[]).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(v.check_state(Some(expired.secret())).unwrap_err().auth(), Some(&AuthFailure::StateExpired));
        assert!(StateKey::new(*b"short").is_err());
    }

    #[test]
    fn kept_state() {
        let s = State::random().unwrap();
        assert!(s.check_state(Some(s.secret())).is_ok());
        assert_eq!(s.check_state(Some("x")).unwrap_err().auth(), Some(&AuthFailure::StateMismatch));
        assert_eq!(s.check_state(None).unwrap_err().auth(), Some(&AuthFailure::StateMissing));
    }
}
