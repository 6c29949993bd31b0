//! The token response: typed, serializable (so an app can keep it), nothing the server sent lost.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::scope::Scopes;
use super::secret::{AccessToken, IdToken, RefreshToken};
use crate::client::{AuthFailure, Error};

/// What the token endpoint answered: the OAuth members, the SMART launch context, and every
/// other member kept in [`TokenResponse::other`]. Tokens are redacted in `Debug`; serializing
/// writes them (that is what saving a token is for), plus `expires_at`, the absolute expiry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type` (`Bearer`).
    pub token_type: String,
    /// `expires_in`, in seconds, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// When the access token expires, in seconds since the Unix epoch: computed from
    /// `expires_in` when the response arrived, and kept when the response is saved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// `scope`: what was granted (may differ from what was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `refresh_token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshToken>,
    /// `id_token` (OpenID Connect; verify it with [`super::SmartClient::verify_id_token`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<IdToken>,
    /// `patient`: the patient in context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<String>,
    /// `encounter`: the encounter in context.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encounter: Option<String>,
    /// `fhirUser`, when the server puts it in the token response (it is also in the id_token).
    #[serde(default, rename = "fhirUser", skip_serializing_if = "Option::is_none")]
    pub fhir_user: Option<String>,
    /// `need_patient_banner`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_patient_banner: Option<bool>,
    /// `smart_style_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smart_style_url: Option<String>,
    /// `intent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<String>,
    /// `tenant`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Every other member the server sent (`fhirContext`, vendor extensions, ...).
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

impl TokenResponse {
    /// Reads a token endpoint's JSON answer, received now.
    pub fn from_json(body: &[u8]) -> Result<TokenResponse, Error> {
        // Never echo the body: it holds the tokens.
        let mut t: TokenResponse = serde_json::from_slice(body).map_err(|e| {
            Error::auth_failure(
                AuthFailure::BadTokenResponse,
                format!("the token response is not valid: {} at line {} column {}", classify(&e), e.line(), e.column()),
            )
        })?;
        if t.access_token.secret().is_empty() {
            return Err(Error::auth_failure(
                AuthFailure::BadTokenResponse,
                "the token response has an empty access_token",
            ));
        }
        if !t.token_type.eq_ignore_ascii_case("bearer") {
            return Err(Error::auth_failure(
                AuthFailure::BadTokenResponse,
                format!("token_type is {:?}; only Bearer tokens are supported", t.token_type),
            ));
        }
        if t.expires_at.is_none() {
            t.expires_at = t.expires_in.map(|s| now_secs().saturating_add(s));
        }
        Ok(t)
    }

    /// The JSON to save (tokens included, plus `expires_at`).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The granted scopes, parsed.
    pub fn scopes(&self) -> Result<Scopes, super::ScopeError> {
        self.scope.as_deref().unwrap_or("").parse()
    }

    /// How long until the access token expires (zero if it has), when the server said.
    pub fn expires_after(&self) -> Option<Duration> {
        self.expires_at.map(|at| Duration::from_secs(at.saturating_sub(now_secs())))
    }

    /// Whether the access token expires within `margin` (or has expired).
    pub fn expires_within(&self, margin: Duration) -> bool {
        self.expires_after().is_some_and(|left| left <= margin)
    }

    /// Marks the access token as expiring at `at` (seconds since the Unix epoch).
    pub fn set_expires_at(&mut self, at: u64) {
        self.expires_at = Some(at);
    }

    /// The patient in context: the token response's `patient` member.
    pub fn patient_id(&self) -> Option<&str> {
        self.patient.as_deref()
    }

    /// The patient in context: `patient`, else the `patient` or `local_patient_id` claim of the
    /// access token **decoded without verifying it** (as the original FHIRstorm did; the token is
    /// the FHIR server's to verify, not the app's). Use only to pick what to show.
    pub fn patient_id_with_unverified_claims(&self) -> Option<String> {
        if let Some(p) = &self.patient {
            return Some(p.clone());
        }
        let claims = unverified_claims(self.access_token.secret())?;
        ["patient", "local_patient_id"].iter().find_map(|k| claims.get(*k)?.as_str().map(String::from))
    }

    /// Merges a refresh's answer into this one: what the refresh repeats or changes wins; the
    /// refresh token and launch context it leaves out are kept.
    pub(crate) fn merged_with(&self, mut new: TokenResponse) -> TokenResponse {
        if new.refresh_token.is_none() {
            new.refresh_token = self.refresh_token.clone();
        }
        new.patient = new.patient.or_else(|| self.patient.clone());
        new.encounter = new.encounter.or_else(|| self.encounter.clone());
        new.fhir_user = new.fhir_user.or_else(|| self.fhir_user.clone());
        new.need_patient_banner = new.need_patient_banner.or(self.need_patient_banner);
        new.smart_style_url = new.smart_style_url.or_else(|| self.smart_style_url.clone());
        new.intent = new.intent.or_else(|| self.intent.clone());
        new.tenant = new.tenant.or_else(|| self.tenant.clone());
        new.id_token = new.id_token.or_else(|| self.id_token.clone());
        new.scope = new.scope.or_else(|| self.scope.clone());
        new
    }
}

/// What kind of JSON error, without the text around it (which may hold a token).
fn classify(e: &serde_json::Error) -> &'static str {
    use serde_json::error::Category;
    match e.classify() {
        Category::Io => "read error",
        Category::Syntax => "malformed JSON",
        Category::Data => "a member is missing or of the wrong type (access_token and token_type are required)",
        Category::Eof => "truncated JSON",
    }
}

/// The payload of a JWT, decoded **without** checking its signature.
pub(crate) fn unverified_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_every_member_and_round_trips() {
        let body = br#"{"access_token":"at-123","token_type":"bearer","expires_in":300,"scope":"patient/*.read openid",
            "refresh_token":"rt-456","patient":"p1","need_patient_banner":true,"fhirContext":[{"reference":"Group/1"}]}"#;
        let t = TokenResponse::from_json(body).unwrap();
        assert_eq!(t.patient_id(), Some("p1"));
        assert!(t.expires_at.is_some());
        assert_eq!(t.other.get("fhirContext").unwrap()[0]["reference"], "Group/1");
        let debug = format!("{t:?}");
        assert!(!debug.contains("at-123") && !debug.contains("rt-456"), "{debug}");
        let saved = TokenResponse::from_json(&t.to_json()).unwrap();
        assert_eq!(saved, t);
    }

    #[test]
    fn patient_from_unverified_claims() {
        use base64::Engine as _;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!("{}.{}.sig", enc(r#"{"alg":"none"}"#), enc(r#"{"local_patient_id":"p9"}"#));
        let body = format!(r#"{{"access_token":"{jwt}","token_type":"Bearer"}}"#);
        let t = TokenResponse::from_json(body.as_bytes()).unwrap();
        assert_eq!(t.patient_id(), None);
        assert_eq!(t.patient_id_with_unverified_claims().as_deref(), Some("p9"));
    }

    #[test]
    fn bad_responses_are_typed_and_do_not_echo() {
        for body in [
            &br#"{"token_type":"bearer"}"#[..],
            br#"{"access_token":"secret-xyz","token_type":"mac"}"#,
            b"{\"access_token\":\"secret-xyz",
        ] {
            let e = TokenResponse::from_json(body).unwrap_err();
            assert_eq!(e.auth(), Some(&AuthFailure::BadTokenResponse));
            assert!(!e.to_string().contains("secret-xyz"), "{e}");
        }
    }
}
