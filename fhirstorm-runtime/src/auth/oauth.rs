//! The app's side of OAuth 2 for SMART: authorization request, code exchange (from a code or the
//! whole redirect URL), refresh, client credentials, and id_token verification.

use std::sync::Arc;

use url::Url;

use super::client_auth::ClientAuth;
use super::discovery::SmartConfiguration;
use super::id_token::{no_id_token, IdTokenClaims};
use super::scope::Scopes;
use super::secret::{AccessToken, AuthorizationCode, ClientId, IdToken, PkceVerifier, RedirectUrl, RefreshToken};
use super::state::StateCheck;
use super::token::TokenResponse;
use super::AuthorizationRequest;
use crate::client::{ClientVersion, Connection};
use crate::error::{AuthFailure, Error, ErrorKind};

/// An app registered at a SMART authorization server: its configuration, credentials and
/// redirect URL, and the connection (HTTP client, loopback policy) it talks through. Cheap to
/// clone.
#[derive(Clone)]
pub struct SmartClient {
    pub(super) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(super) struct Inner {
    pub(super) http: super::http::AuthHttp,
    pub(super) config: SmartConfiguration,
    auth: ClientAuth,
    redirect: Option<RedirectUrl>,
    aud: Url,
    /// `client_secret_basic` without form-urlencoding (see [`SmartClient::basic_auth_unencoded`]).
    basic_unencoded: bool,
    /// The id_token signing keys, fetched at most once per [`super::id_token::KEYS_TTL`].
    pub(super) keys: super::id_token::KeyCache,
}

impl std::fmt::Debug for SmartClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmartClient")
            .field("token_endpoint", &self.inner.config.token_endpoint.as_str())
            .field("auth", &self.inner.auth)
            .field("redirect", &self.inner.redirect)
            .field("aud", &self.inner.aud.as_str())
            .finish()
    }
}

impl SmartClient {
    /// A client of the authorization server `config` describes, for the FHIR server `conn`
    /// talks to (its base URL is the `aud`), using `conn`'s HTTP client and HTTPS policy.
    pub fn new<V: ClientVersion>(conn: &Connection<V>, config: SmartConfiguration, auth: ClientAuth) -> SmartClient {
        SmartClient {
            inner: Arc::new(Inner {
                http: super::http::AuthHttp::new(conn),
                config,
                auth,
                redirect: None,
                aud: conn.base_url().clone(),
                basic_unencoded: false,
                keys: Default::default(),
            }),
        }
    }

    /// Discovers the server's SMART configuration, then makes the client.
    pub async fn discover<V: ClientVersion>(conn: &Connection<V>, auth: ClientAuth) -> Result<SmartClient, Error> {
        let config = SmartConfiguration::discover(conn).await?;
        Ok(SmartClient::new(conn, config, auth))
    }

    /// The app's registered redirect URL (needed for the authorization code flow).
    pub fn redirect_url(self, redirect: RedirectUrl) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.redirect = Some(redirect);
        SmartClient { inner: Arc::new(inner) }
    }

    /// Send `client_secret_basic` credentials without form-urlencoding id and secret first. RFC
    /// 6749 §2.3.1 asks for the encoding (the default), and most servers decode it; some do not
    /// (reported of thephpleague/oauth2-server, issue 1305, and of Azure AD, azure-docs issue
    /// 39037), and refuse a secret with `+`, `/` or `=` as `invalid_client`. Turn this on for
    /// those servers only.
    pub fn basic_auth_unencoded(self, unencoded: bool) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.basic_unencoded = unencoded;
        SmartClient { inner: Arc::new(inner) }
    }

    /// The server's SMART configuration.
    pub fn configuration(&self) -> &SmartConfiguration {
        &self.inner.config
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        self.inner.auth.client_id()
    }

    /// The FHIR base URL tokens are asked for (`aud`).
    pub fn aud(&self) -> &Url {
        &self.inner.aud
    }

    /// The redirect URL set with [`SmartClient::redirect_url`], if any.
    pub(super) fn redirect_url_ref(&self) -> Option<&RedirectUrl> {
        self.inner.redirect.as_ref()
    }

    fn redirect(&self) -> Result<&RedirectUrl, Error> {
        self.inner.redirect.as_ref().ok_or_else(|| {
            Error::new(ErrorKind::Config, "this SmartClient has no redirect URL: set one with redirect_url()")
        })
    }

    /// An authorization request (state and PKCE S256 are added by its `url()`), for this
    /// client, its redirect URL and the FHIR server as `aud`.
    pub fn authorization_request(&self, scopes: Scopes) -> Result<AuthorizationRequest, Error> {
        let endpoint = self.inner.config.authorization_endpoint.clone().ok_or_else(|| {
            Error::new(ErrorKind::Unsupported, "the server's SMART configuration has no authorization_endpoint")
        })?;
        Ok(AuthorizationRequest::new(endpoint, self.client_id().clone(), self.redirect()?.clone(), self.aud().clone())
            .scopes(scopes))
    }

    /// Exchanges an authorization code (and the PKCE verifier from the authorization step). An
    /// id_token in the answer must carry the `nonce` the authorization request sent
    /// ([`AuthFailure::IdTokenInvalid`] otherwise); verify its signature and claims with
    /// [`SmartClient::verify_id_token`].
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        verifier: &PkceVerifier,
    ) -> Result<TokenResponse, Error> {
        let redirect = self.redirect()?.as_str().to_string();
        let token = self
            .token_request(vec![
                ("grant_type", "authorization_code".into()),
                ("code", code.secret().to_string()),
                ("redirect_uri", redirect),
                ("code_verifier", verifier.secret().to_string()),
            ])
            .await?;
        super::id_token::check_nonce(&token, verifier)?;
        Ok(token)
    }

    /// Reads the redirect the authorization server sent the user back with (the whole URL),
    /// checks its `state` (and `iss`, when the server sends it), and exchanges its code. An
    /// `error` in it becomes [`AuthFailure::Denied`].
    pub async fn exchange_redirect(
        &self,
        redirect: &str,
        state: &dyn StateCheck,
        verifier: &PkceVerifier,
    ) -> Result<TokenResponse, Error> {
        let code = self.code_from_redirect(redirect, state)?;
        self.exchange_code(&code, verifier).await
    }

    /// The authorization code from the redirect URL, once `state` (and `iss`) check out.
    pub fn code_from_redirect(&self, redirect: &str, state: &dyn StateCheck) -> Result<AuthorizationCode, Error> {
        let bad = |why: &str| Error::auth_failure(AuthFailure::BadRedirect, why.to_string());
        let url = Url::parse(redirect).map_err(|_| bad("the redirect is not a URL"))?;
        let expected = self.redirect()?.url();
        let same = url.scheme() == expected.scheme()
            && url.host() == expected.host()
            && url.port_or_known_default() == expected.port_or_known_default()
            && url.path() == expected.path();
        if !same {
            return Err(bad("the redirect is not to this app's redirect URL"));
        }
        let mut code = None;
        let mut returned_state = None;
        let mut error = None;
        let mut description = None;
        let mut iss = None;
        for (k, v) in url.query_pairs() {
            let slot = match &*k {
                "code" => &mut code,
                "state" => &mut returned_state,
                "error" => &mut error,
                "error_description" => &mut description,
                "iss" => &mut iss,
                _ => continue,
            };
            // RFC 6749 §3.1: no parameter twice. Which one would the app have meant?
            if slot.replace(v.into_owned()).is_some() {
                return Err(bad(&format!("the redirect carries {k} more than once")));
            }
        }
        state.check_state(returned_state.as_deref())?;
        // RFC 9207: `iss` compared as a simple string with the issuer this client discovered.
        let config = &self.inner.config;
        match (&iss, &config.issuer) {
            (Some(iss), Some(issuer)) if iss == issuer => {}
            (Some(_), Some(_)) => {
                return Err(Error::auth_failure(
                    AuthFailure::IssuerMismatch,
                    "the redirect's iss is not this authorization server's issuer",
                ))
            }
            (Some(_), None) => {
                return Err(Error::auth_failure(
                    AuthFailure::IssuerMismatch,
                    "the redirect carries an iss, but this client's configuration names no issuer to compare it with",
                ))
            }
            (None, _) if config.authorization_response_iss_parameter_supported => {
                return Err(Error::auth_failure(
                    AuthFailure::IssuerMissing,
                    "the redirect has no iss, though the authorization server says it always sends one",
                ))
            }
            (None, _) => {}
        }
        if let Some(error) = error {
            let description = description.map(|d| d.chars().take(300).collect::<String>());
            let message = match &description {
                Some(d) => format!("the authorization server refused: {error}: {d}"),
                None => format!("the authorization server refused: {error}"),
            };
            return Err(Error::auth_failure(AuthFailure::Denied { error, description }, message));
        }
        code.filter(|c| !c.is_empty()).map(AuthorizationCode::new).ok_or_else(|| bad("the redirect carries no code"))
    }

    /// Refreshes with `refresh_token` (`scopes`: a narrower set, or `None` for the same).
    pub async fn refresh(&self, refresh_token: &RefreshToken, scopes: Option<&Scopes>) -> Result<TokenResponse, Error> {
        let mut form =
            vec![("grant_type", "refresh_token".into()), ("refresh_token", refresh_token.secret().to_string())];
        if let Some(s) = scopes {
            form.push(("scope", s.to_string()));
        }
        self.token_request(form).await
    }

    /// Verifies the token response's `id_token` against the server's keys (its OpenID
    /// configuration's `jwks_uri`): signature (asymmetric only), issuer (the SMART
    /// configuration's, which must be the OpenID configuration's), audience (this client; with
    /// several audiences, `azp` must be this client), `exp` and `nbf` (a minute of skew), `iat`
    /// (required, not in the future, at most a day before `exp`). The keys are cached for ten
    /// minutes and fetched again once for a `kid` they lack. Gives the claims, `fhirUser` typed.
    /// (The `nonce` was checked by the code exchange.)
    pub async fn verify_id_token(&self, token: &TokenResponse) -> Result<IdTokenClaims, Error> {
        let id_token = token.id_token.as_ref().ok_or_else(no_id_token)?;
        self.verify(id_token).await
    }

    /// Verifies an `id_token`: see [`SmartClient::verify_id_token`].
    pub async fn verify(&self, id_token: &IdToken) -> Result<IdTokenClaims, Error> {
        let issuer = self.configuration().issuer.as_deref();
        self.inner.keys.verify(&self.inner.http, issuer, self.client_id().as_str(), id_token).await
    }

    /// A `client_credentials` token (SMART Backend Services: `system/` scopes, and the client
    /// authenticates with `private_key_jwt`, or a secret where the server allows it).
    pub async fn client_credentials(&self, scopes: &Scopes) -> Result<TokenResponse, Error> {
        self.token_request(vec![("grant_type", "client_credentials".into()), ("scope", scopes.to_string())]).await
    }

    async fn token_request(&self, form: Vec<(&'static str, String)>) -> Result<TokenResponse, Error> {
        let endpoint = self.inner.config.token_endpoint.clone();
        let body = self.post_authenticated(&endpoint, form).await?;
        TokenResponse::from_slice(&body)
    }

    /// POSTs `form` to one of the authorization server's endpoints authorized by `bearer` (an
    /// access token for that endpoint) instead of this client's credentials.
    pub(super) async fn post_with_bearer(
        &self,
        endpoint: &Url,
        form: Vec<(&'static str, String)>,
        bearer: &AccessToken,
    ) -> Result<Vec<u8>, Error> {
        let authorization = zeroize::Zeroizing::new(format!("Bearer {}", bearer.secret()));
        self.inner.http.post_form(endpoint, &form, Some(authorization.as_str())).await
    }

    /// POSTs `form` to one of the authorization server's endpoints with this client's
    /// authentication (an assertion's audience is the token endpoint, which RFC 7523 servers
    /// accept for each of their endpoints).
    pub(super) async fn post_authenticated(
        &self,
        endpoint: &Url,
        mut form: Vec<(&'static str, String)>,
    ) -> Result<Vec<u8>, Error> {
        let inner = &self.inner;
        let basic = inner.auth.apply(&inner.config.token_endpoint, &mut form, inner.basic_unencoded)?;
        inner.http.post_form(endpoint, &form, basic.as_deref()).await.map_err(|e| {
            // A refused client says how it authenticated: servers differ in what they accept.
            if e.auth().and_then(|a| a.oauth_error()) == Some("invalid_client") {
                e.with_note(&inner.auth.refused_note(inner.basic_unencoded))
            } else {
                e
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::{ClientAuth, ClientId, RedirectUrl, SmartClient, SmartConfiguration, State};
    use crate::client::Connection;
    use crate::error::AuthFailure;

    const ENDPOINTS: &str =
        r#""authorization_endpoint":"https://as.example/auth","token_endpoint":"https://as.example/token""#;

    fn client(config: &str) -> SmartClient {
        let conn =
            Connection::<crate::client::test_version::Bare>::builder("https://ehr.example/fhir").build().unwrap();
        let config = SmartConfiguration::from_slice(format!("{{{ENDPOINTS}{config}}}").as_bytes(), false).unwrap();
        SmartClient::new(&conn, config, ClientAuth::Public(ClientId::new("app")))
            .redirect_url(RedirectUrl::new("https://app.example/callback").unwrap())
    }

    fn failure(c: &SmartClient, query: &str) -> Option<AuthFailure> {
        let redirect = format!("https://app.example/callback?{query}");
        c.code_from_redirect(&redirect, &State::new("s1")).err().map(|e| e.auth().cloned().expect("an auth failure"))
    }

    /// Threat 2 (RFC 9207): the server cannot switch the mix-up defence off.
    #[test]
    fn iss_is_compared_exactly_and_required_when_advertised() {
        let plain = client(r#","issuer":"https://as.example""#);
        assert_eq!(failure(&plain, "code=c&state=s1&iss=https%3A%2F%2Fas.example"), None);
        assert_eq!(failure(&plain, "code=c&state=s1"), None, "not advertised: iss may be absent");
        assert_eq!(
            failure(&plain, "code=c&state=s1&iss=https%3A%2F%2Fevil.example"),
            Some(AuthFailure::IssuerMismatch)
        );
        assert_eq!(
            failure(&plain, "code=c&state=s1&iss=https%3A%2F%2Fas.example%2F"),
            Some(AuthFailure::IssuerMismatch),
            "simple string comparison: no trailing slash trimmed"
        );

        let advertised =
            client(r#","issuer":"https://as.example","authorization_response_iss_parameter_supported":true"#);
        assert_eq!(failure(&advertised, "code=c&state=s1&iss=https%3A%2F%2Fas.example"), None);
        assert_eq!(failure(&advertised, "code=c&state=s1"), Some(AuthFailure::IssuerMissing));

        let no_issuer = client("");
        assert_eq!(failure(&no_issuer, "code=c&state=s1"), None);
        assert_eq!(
            failure(&no_issuer, "code=c&state=s1&iss=https%3A%2F%2Fas.example"),
            Some(AuthFailure::IssuerMismatch),
            "an iss with nothing to compare it to"
        );
    }

    /// Threat 9: a parameter twice in the redirect: which one did the app mean? Refused.
    #[test]
    fn a_parameter_twice_in_the_redirect_is_refused() {
        let c = client(r#","issuer":"https://as.example""#);
        assert_eq!(failure(&c, "code=c&state=s1"), None);
        for query in [
            "code=a&code=b&state=s1",
            "code=c&state=s1&state=s1",
            "code=c&state=s1&iss=x&iss=y",
            "code=c&code=&state=s1",
        ] {
            assert_eq!(failure(&c, query), Some(AuthFailure::BadRedirect), "{query}");
        }
    }
}
