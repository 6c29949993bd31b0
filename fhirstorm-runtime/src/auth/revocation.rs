//! SMART's remaining OAuth endpoints: token revocation (RFC 7009) and token introspection
//! (RFC 7662), at the `revocation_endpoint` and `introspection_endpoint` the SMART configuration
//! names, with this client's authentication.

use super::oauth::SmartClient;
use super::secret::{AccessToken, RefreshToken};
use crate::error::{AuthFailure, Error, ErrorKind};
use crate::json::{self, Value};
use url::Url;

/// A token the authorization server can revoke or describe: an [`AccessToken`] or a
/// [`RefreshToken`].
pub trait OAuthToken: sealed::Sealed {
    /// Its `token_type_hint` (RFC 7009 §2.1).
    const HINT: &'static str;
    /// Its value, for the request.
    #[doc(hidden)]
    fn value(&self) -> &str;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::AccessToken {}
    impl Sealed for super::RefreshToken {}
}

impl OAuthToken for AccessToken {
    const HINT: &'static str = "access_token";
    fn value(&self) -> &str {
        self.secret()
    }
}

impl OAuthToken for RefreshToken {
    const HINT: &'static str = "refresh_token";
    fn value(&self) -> &str {
        self.secret()
    }
}

/// What the authorization server says of a token (RFC 7662, with the SMART members). An
/// inactive token says nothing more: only `active` is then meaningful.
#[derive(Clone, PartialEq)]
pub struct Introspection {
    /// Whether the token is currently valid (not expired, not revoked, issued by this server).
    pub active: bool,
    /// `scope`, space-separated.
    pub scope: Option<String>,
    /// `client_id`: the client the token was issued to.
    pub client_id: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `token_type`.
    pub token_type: Option<String>,
    /// `exp`, seconds since the Unix epoch.
    pub exp: Option<u64>,
    /// `iat`, seconds since the Unix epoch.
    pub iat: Option<u64>,
    /// `iss`.
    pub iss: Option<String>,
    /// `patient`: the patient in context (SMART).
    pub patient: Option<String>,
    /// `fhirUser` (SMART).
    pub fhir_user: Option<String>,
    /// Every other member, exactly as sent.
    pub other: json::Members,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `other` may hold anything a server chose to send: only its member names are shown.
        let other: Vec<&str> = self.other.iter().map(|(k, _)| k).collect();
        f.debug_struct("Introspection")
            .field("active", &self.active)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("sub", &self.sub)
            .field("username", &self.username)
            .field("token_type", &self.token_type)
            .field("exp", &self.exp)
            .field("iat", &self.iat)
            .field("iss", &self.iss)
            .field("patient", &self.patient)
            .field("fhir_user", &self.fhir_user)
            .field("other", &other)
            .finish()
    }
}

impl Introspection {
    /// Reads an introspection endpoint's answer. `active` is required and must be a boolean;
    /// a member of the wrong type is an error naming it (the body is never echoed).
    pub fn from_slice(body: &[u8]) -> Result<Introspection, Error> {
        let bad = |why: String| Error::auth_failure(AuthFailure::BadTokenResponse, why);
        let v: Value = json::from_slice(body).map_err(|e| {
            let (line, column) = e.line_column();
            bad(format!("the introspection response is not valid JSON (line {line}, column {column})"))
        })?;
        let members = v.as_object().ok_or_else(|| bad("the introspection response is not a JSON object".into()))?;
        let mut out = Introspection {
            active: false,
            scope: None,
            client_id: None,
            sub: None,
            username: None,
            token_type: None,
            exp: None,
            iat: None,
            iss: None,
            patient: None,
            fhir_user: None,
            other: json::Members::new(),
        };
        let mut active = None;
        for (k, v) in members.iter() {
            let text =
                || v.as_str().map(String::from).ok_or_else(|| bad(format!("the introspection's {k} is not a string")));
            let secs = || {
                match v {
                    Value::Number(n) => n.as_str().parse::<u64>().ok(),
                    _ => None,
                }
                .ok_or_else(|| bad(format!("the introspection's {k} is not a number of seconds")))
            };
            match k {
                "active" => match v {
                    Value::Bool(b) => active = Some(*b),
                    _ => return Err(bad("the introspection's active is not a boolean".into())),
                },
                "scope" => out.scope = Some(text()?),
                "client_id" => out.client_id = Some(text()?),
                "sub" => out.sub = Some(text()?),
                "username" => out.username = Some(text()?),
                "token_type" => out.token_type = Some(text()?),
                "iss" => out.iss = Some(text()?),
                "patient" => out.patient = Some(text()?),
                "fhirUser" => out.fhir_user = Some(text()?),
                "exp" => out.exp = Some(secs()?),
                "iat" => out.iat = Some(secs()?),
                _ => out.other.push(k, v.clone()),
            }
        }
        out.active = active.ok_or_else(|| bad("the introspection response has no active member".into()))?;
        Ok(out)
    }
}

impl SmartClient {
    /// Revokes `token` (RFC 7009) at the server's `revocation_endpoint`, authenticating as this
    /// client. Revoking a refresh token usually ends the grant's access tokens too. The server
    /// answers success whether or not it knew the token; a refusal is a typed error.
    pub async fn revoke<T: OAuthToken>(&self, token: &T) -> Result<(), Error> {
        let endpoint = self.configuration().revocation_endpoint.clone().ok_or_else(|| {
            Error::new(ErrorKind::Unsupported, "the server's SMART configuration has no revocation_endpoint")
        })?;
        let form = vec![("token", token.value().to_string()), ("token_type_hint", T::HINT.to_string())];
        self.post_authenticated(&endpoint, form).await.map(drop)
    }

    /// Asks the server's `introspection_endpoint` (RFC 7662) whether `token` is active, and
    /// what it grants, authenticating as this client.
    pub async fn introspect<T: OAuthToken>(&self, token: &T) -> Result<Introspection, Error> {
        let endpoint = self.introspection_endpoint()?;
        let form = vec![("token", token.value().to_string()), ("token_type_hint", T::HINT.to_string())];
        let body = self.post_authenticated(&endpoint, form).await?;
        Introspection::from_slice(&body)
    }

    /// [`introspect`](Self::introspect), authorized by an access token instead of the
    /// client's credentials (RFC 7662 §2.1: a resource server that holds a token for the
    /// introspection endpoint, rather than a client secret or key, sends it as a bearer token).
    pub async fn introspect_with_bearer<T: OAuthToken>(
        &self,
        token: &T,
        bearer: &AccessToken,
    ) -> Result<Introspection, Error> {
        let endpoint = self.introspection_endpoint()?;
        let form = vec![("token", token.value().to_string()), ("token_type_hint", T::HINT.to_string())];
        let body = self.post_with_bearer(&endpoint, form, bearer).await?;
        Introspection::from_slice(&body)
    }

    fn introspection_endpoint(&self) -> Result<Url, Error> {
        self.configuration().introspection_endpoint.clone().ok_or_else(|| {
            Error::new(ErrorKind::Unsupported, "the server's SMART configuration has no introspection_endpoint")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Introspection;
    use crate::error::AuthFailure;

    #[test]
    fn introspection_responses_are_typed_and_keep_the_rest() {
        let i = Introspection::from_slice(
            br#"{"active":true,"scope":"patient/*.read openid","client_id":"app","exp":1795900000,"patient":"p1","fhirUser":"Practitioner/dr-1","x-vendor":[1.50]}"#,
        )
        .unwrap();
        assert!(i.active);
        assert_eq!(i.patient.as_deref(), Some("p1"));
        assert_eq!(i.fhir_user.as_deref(), Some("Practitioner/dr-1"));
        assert_eq!(i.exp, Some(1_795_900_000));
        assert_eq!(crate::json::to_string(i.other.get("x-vendor").unwrap()), "[1.50]");
        assert!(!Introspection::from_slice(br#"{"active":false}"#).unwrap().active);
        for bad in [&br#"{}"#[..], br#"{"active":"true"}"#, br#"{"active":true,"exp":"soon"}"#, br#"[true]"#, b"{"] {
            let e = Introspection::from_slice(bad).unwrap_err();
            assert_eq!(e.auth(), Some(&AuthFailure::BadTokenResponse), "{e}");
        }
    }
}
