//! The token response: typed, serializable (so an app can keep it), nothing the server sent lost.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::scope::Scopes;
use super::secret::{AccessToken, ForStorage, IdToken, RefreshToken};
use crate::error::{AuthFailure, Error};
use crate::json::{self, Value};

impl serde::Serialize for ForStorage<'_, TokenResponse> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&self.0.to_value(), s)
    }
}

impl<'de> serde::Deserialize<'de> for TokenResponse {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v: Value = serde::Deserialize::deserialize(d)?;
        TokenResponse::from_value(&v).map_err(<D::Error as serde::de::Error>::custom)
    }
}

/// What the token endpoint answered: the OAuth members, the SMART launch context, and every
/// other member kept in [`TokenResponse::other`] exactly as sent (numbers by their text).
/// Tokens are redacted in `Debug`; [`TokenResponse::to_vec`] writes them (that is what saving
/// a token is for), plus `expires_at`, the absolute expiry. For serde, `token.for_storage()`
/// writes the same JSON (the type itself has no `Serialize`, so that nothing writes its tokens
/// by accident); `Deserialize` reads it back.
#[derive(Clone, PartialEq)]
pub struct TokenResponse {
    /// `access_token`.
    pub access_token: AccessToken,
    /// `token_type` (`Bearer`).
    pub token_type: String,
    /// `expires_in`, in seconds, as sent.
    pub expires_in: Option<u64>,
    /// When the access token expires, in seconds since the Unix epoch: computed from
    /// `expires_in` when the response arrived, and kept when the response is saved.
    pub expires_at: Option<u64>,
    /// `scope`: what was granted (may differ from what was asked).
    pub scope: Option<String>,
    /// `refresh_token`.
    pub refresh_token: Option<RefreshToken>,
    /// `id_token` (OpenID Connect; verify it with [`super::SmartClient::verify_id_token`]).
    pub id_token: Option<IdToken>,
    /// `patient`: the patient in context.
    pub patient: Option<String>,
    /// `encounter`: the encounter in context.
    pub encounter: Option<String>,
    /// `fhirUser`, when the server puts it in the token response (it is also in the id_token).
    pub fhir_user: Option<String>,
    /// `need_patient_banner`.
    pub need_patient_banner: Option<bool>,
    /// `smart_style_url`.
    pub smart_style_url: Option<String>,
    /// `intent`.
    pub intent: Option<String>,
    /// `tenant`.
    pub tenant: Option<String>,
    /// Every other member the server sent (`fhirContext`, vendor extensions, ...), exactly.
    pub other: json::Members,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `other` may hold anything a server chose to send: only its member names are shown.
        let other: Vec<&str> = self.other.iter().map(|(k, _)| k).collect();
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token)
            .field("id_token", &self.id_token)
            .field("patient", &self.patient)
            .field("encounter", &self.encounter)
            .field("fhir_user", &self.fhir_user)
            .field("need_patient_banner", &self.need_patient_banner)
            .field("smart_style_url", &self.smart_style_url)
            .field("intent", &self.intent)
            .field("tenant", &self.tenant)
            .field("other", &other)
            .finish()
    }
}

pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

fn bad(message: impl Into<String>) -> Error {
    Error::auth_failure(AuthFailure::BadTokenResponse, message)
}

fn string(key: &str, v: &Value) -> Result<String, Error> {
    v.as_str().map(String::from).ok_or_else(|| bad(format!("the token response's {key} is not a string")))
}

/// Seconds: a JSON integer, or (as some servers send it) a string of digits.
fn seconds(key: &str, v: &Value) -> Result<u64, Error> {
    let text = match v {
        Value::Number(n) => n.as_str(),
        Value::String(s) => s.as_str(),
        _ => "",
    };
    text.trim().parse::<u64>().map_err(|_| bad(format!("the token response's {key} is not a number of seconds")))
}

impl TokenResponse {
    /// Reads a token endpoint's JSON answer, received now.
    pub fn from_slice(body: &[u8]) -> Result<TokenResponse, Error> {
        // Never echo the body, nor the JSON error's message (it may quote it): it holds tokens.
        let v: Value = json::from_slice(body).map_err(|e| {
            let (line, column) = e.line_column();
            bad(format!("the token response is not valid JSON ({:?} at line {line}, column {column})", e.kind()))
        })?;
        TokenResponse::from_value(&v)
    }

    fn from_value(v: &Value) -> Result<TokenResponse, Error> {
        let members = v.as_object().ok_or_else(|| bad("the token response is not a JSON object"))?;
        let mut access_token = None;
        let mut token_type = None;
        let mut t = TokenResponse {
            access_token: AccessToken::new(""),
            token_type: String::new(),
            expires_in: None,
            expires_at: None,
            scope: None,
            refresh_token: None,
            id_token: None,
            patient: None,
            encounter: None,
            fhir_user: None,
            need_patient_banner: None,
            smart_style_url: None,
            intent: None,
            tenant: None,
            other: json::Members::new(),
        };
        for (key, value) in members.iter() {
            if matches!(value, Value::Null) && key != "access_token" && key != "token_type" {
                // `"refresh_token": null` and the like mean absent.
                continue;
            }
            match key {
                "access_token" => access_token = Some(string(key, value)?),
                "token_type" => token_type = Some(string(key, value)?),
                "expires_in" => t.expires_in = Some(seconds(key, value)?),
                "expires_at" => t.expires_at = Some(seconds(key, value)?),
                "scope" => t.scope = Some(string(key, value)?),
                "refresh_token" => t.refresh_token = Some(RefreshToken::new(string(key, value)?)),
                "id_token" => t.id_token = Some(IdToken::new(string(key, value)?)),
                "patient" => t.patient = Some(string(key, value)?),
                "encounter" => t.encounter = Some(string(key, value)?),
                "fhirUser" => t.fhir_user = Some(string(key, value)?),
                "need_patient_banner" => {
                    t.need_patient_banner = Some(match value {
                        Value::Bool(b) => *b,
                        _ => return Err(bad("the token response's need_patient_banner is not true or false")),
                    })
                }
                "smart_style_url" => t.smart_style_url = Some(string(key, value)?),
                "intent" => t.intent = Some(string(key, value)?),
                "tenant" => t.tenant = Some(string(key, value)?),
                _ => t.other.push(key, value.clone()),
            }
        }
        t.access_token = AccessToken::new(access_token.ok_or_else(|| bad("the token response has no access_token"))?);
        t.token_type = token_type.ok_or_else(|| bad("the token response has no token_type"))?;
        if t.access_token.secret().is_empty() {
            return Err(bad("the token response has an empty access_token"));
        }
        if !t.token_type.eq_ignore_ascii_case("bearer") {
            let shown: String = t.token_type.chars().take(40).collect();
            return Err(bad(format!("token_type is {shown:?}; only Bearer tokens are supported")));
        }
        if t.expires_at.is_none() {
            t.expires_at = t.expires_in.map(|s| now_secs().saturating_add(s));
        }
        Ok(t)
    }

    fn to_value(&self) -> Value {
        let mut m = json::Members::new();
        let s = |v: &str| Value::String(v.to_string());
        let n = |v: u64| Value::Number(json::Number::from_text_unchecked(&v.to_string()));
        m.push("access_token", s(self.access_token.secret()));
        m.push("token_type", s(&self.token_type));
        let opt = |m: &mut json::Members, k: &str, v: Option<Value>| {
            if let Some(v) = v {
                m.push(k, v);
            }
        };
        opt(&mut m, "expires_in", self.expires_in.map(n));
        opt(&mut m, "expires_at", self.expires_at.map(n));
        opt(&mut m, "scope", self.scope.as_deref().map(s));
        opt(&mut m, "refresh_token", self.refresh_token.as_ref().map(|r| s(r.secret())));
        opt(&mut m, "id_token", self.id_token.as_ref().map(|r| s(r.secret())));
        opt(&mut m, "patient", self.patient.as_deref().map(s));
        opt(&mut m, "encounter", self.encounter.as_deref().map(s));
        opt(&mut m, "fhirUser", self.fhir_user.as_deref().map(s));
        opt(&mut m, "need_patient_banner", self.need_patient_banner.map(Value::Bool));
        opt(&mut m, "smart_style_url", self.smart_style_url.as_deref().map(s));
        opt(&mut m, "intent", self.intent.as_deref().map(s));
        opt(&mut m, "tenant", self.tenant.as_deref().map(s));
        for (k, v) in self.other.iter() {
            m.push(k, v.clone());
        }
        Value::Object(m)
    }

    /// The JSON to save (tokens included, plus `expires_at`), every other member as received.
    pub fn to_vec(&self) -> Vec<u8> {
        json::to_vec(&self.to_value())
    }

    /// The token response for serde, tokens included: see [`ForStorage`].
    pub fn for_storage(&self) -> ForStorage<'_, Self> {
        ForStorage(self)
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
        let t = TokenResponse::from_slice(body).unwrap();
        assert_eq!(t.patient_id(), Some("p1"));
        assert!(t.expires_at.is_some());
        let ctx = t.other.get("fhirContext").and_then(|v| v.as_array()).unwrap();
        assert_eq!(ctx[0].get("reference").and_then(|r| r.as_str()), Some("Group/1"));
        let debug = format!("{t:?}");
        assert!(!debug.contains("at-123") && !debug.contains("rt-456"), "{debug}");
        let saved = TokenResponse::from_slice(&t.to_vec()).unwrap();
        assert_eq!(saved, t);
        // Through serde, on purpose only: `for_storage` writes the same JSON, which reads back.
        let stored = serde_json::to_vec(&t.for_storage()).unwrap();
        assert_eq!(serde_json::from_slice::<TokenResponse>(&stored).unwrap(), t);
        assert!(String::from_utf8(stored).unwrap().contains("rt-456"));
    }

    #[test]
    fn a_registered_client_is_stored_on_purpose_and_reads_back() {
        let body = br#"{"client_id":"c1","client_secret":"s3cret","registration_access_token":"rat","redirect_uris":["https://app.example/cb"]}"#;
        let c: super::super::RegisteredClient = serde_json::from_slice(body).unwrap();
        assert!(!format!("{c:?}").contains("s3cret"));
        let stored = serde_json::to_vec(&c.for_storage()).unwrap();
        let back: super::super::RegisteredClient = serde_json::from_slice(&stored).unwrap();
        assert_eq!(back, c);
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&stored).unwrap()["redirect_uris"][0],
            "https://app.example/cb"
        );
    }

    #[test]
    fn patient_from_unverified_claims() {
        use base64::Engine as _;
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = format!("{}.{}.sig", enc(r#"{"alg":"none"}"#), enc(r#"{"local_patient_id":"p9"}"#));
        let body = format!(r#"{{"access_token":"{jwt}","token_type":"Bearer"}}"#);
        let t = TokenResponse::from_slice(body.as_bytes()).unwrap();
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
            let e = TokenResponse::from_slice(body).unwrap_err();
            assert_eq!(e.auth(), Some(&AuthFailure::BadTokenResponse));
            assert!(!e.to_string().contains("secret-xyz"), "{e}");
        }
    }
}

#[cfg(test)]
mod fuzz_found {
    /// Found by the fuzzer: a big number in an unknown member came back rounded (serde_json
    /// read it as an f64). Other members are now kept by their exact text.
    #[test]
    fn big_numbers_in_other_members_are_kept_exactly() {
        let body = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fuzz/regressions/token_response/big-number-in-other.json"
        ))
        .unwrap();
        let t = super::TokenResponse::from_slice(&body).unwrap();
        let saved = t.to_vec();
        assert!(String::from_utf8_lossy(&saved).contains("102000000000000000000000000795872585"));
        assert!(super::TokenResponse::from_slice(&saved).unwrap() == t);
    }
}
