//! The blocking [`SmartClient`]: the SMART App Launch steps that talk to the authorization
//! server, each its async twin's driven to its end.

use super::{Connection, Driver};
use crate::auth::{
    self, AuthorizationCode, AuthorizationRequest, ClientAuth, ClientId, IdTokenClaims, Introspection, OAuthToken,
    PkceVerifier, RedirectUrl, RefreshToken, Scopes, Session, SmartConfiguration, StateCheck, TokenResponse,
};
use crate::client::ClientVersion;
use crate::error::Error;

/// A SMART client of one authorization server, as [`auth::SmartClient`].
#[derive(Clone)]
pub struct SmartClient {
    inner: auth::SmartClient,
    driver: Driver,
}

impl std::fmt::Debug for SmartClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::SmartClient").field("client_id", self.inner.client_id()).finish_non_exhaustive()
    }
}

impl SmartClient {
    /// Discovers the server's SMART configuration (`.well-known/smart-configuration`) and makes
    /// a client of it authenticating with `auth`.
    pub fn discover<V: ClientVersion>(conn: &Connection<V>, auth: ClientAuth) -> Result<SmartClient, Error> {
        let inner = conn.block_on(auth::SmartClient::discover(conn.as_async(), auth))?;
        Ok(SmartClient { inner, driver: conn.driver.clone() })
    }

    /// A client of a configuration already known.
    pub fn new<V: ClientVersion>(conn: &Connection<V>, config: SmartConfiguration, auth: ClientAuth) -> SmartClient {
        SmartClient { inner: auth::SmartClient::new(conn.as_async(), config, auth), driver: conn.driver.clone() }
    }

    /// The async client.
    pub fn as_async(&self) -> &auth::SmartClient {
        &self.inner
    }

    /// The redirect URL registered for this client.
    pub fn redirect_url(self, redirect: RedirectUrl) -> Self {
        SmartClient { inner: self.inner.redirect_url(redirect), driver: self.driver }
    }

    /// The server's SMART configuration.
    pub fn configuration(&self) -> &SmartConfiguration {
        self.inner.configuration()
    }

    /// The client id.
    pub fn client_id(&self) -> &ClientId {
        self.inner.client_id()
    }

    /// The authorization request for `scopes` (state and PKCE added by its `url()`).
    pub fn authorization_request(&self, scopes: Scopes) -> Result<AuthorizationRequest, Error> {
        self.inner.authorization_request(scopes)
    }

    /// Checks the redirect's state (and `iss`) and takes its code.
    pub fn code_from_redirect(&self, redirect: &str, state: &dyn StateCheck) -> Result<AuthorizationCode, Error> {
        self.inner.code_from_redirect(redirect, state)
    }

    /// Exchanges an authorization code and the PKCE verifier for a token.
    pub fn exchange_code(&self, code: &AuthorizationCode, verifier: &PkceVerifier) -> Result<TokenResponse, Error> {
        self.driver.block_on(self.inner.exchange_code(code, verifier))
    }

    /// Checks the redirect the user came back with and exchanges its code.
    pub fn exchange_redirect(
        &self,
        redirect: &str,
        state: &dyn StateCheck,
        verifier: &PkceVerifier,
    ) -> Result<TokenResponse, Error> {
        self.driver.block_on(self.inner.exchange_redirect(redirect, state, verifier))
    }

    /// A new access token for a refresh token.
    pub fn refresh(&self, refresh_token: &RefreshToken, scopes: Option<&Scopes>) -> Result<TokenResponse, Error> {
        self.driver.block_on(self.inner.refresh(refresh_token, scopes))
    }

    /// A token by the client credentials grant (Backend Services when the client authenticates
    /// with a private key).
    pub fn client_credentials(&self, scopes: &Scopes) -> Result<TokenResponse, Error> {
        self.driver.block_on(self.inner.client_credentials(scopes))
    }

    /// A session from a token, refreshing it as it expires.
    pub fn session(&self, token: TokenResponse) -> Session {
        self.inner.session(token)
    }

    /// A Backend Services session: a token now, a new one by the same grant as it expires.
    pub fn backend_session(&self, scopes: Scopes) -> Result<Session, Error> {
        self.driver.block_on(self.inner.backend_session(scopes))
    }

    /// Verifies the token response's `id_token` ([`auth::SmartClient::verify_id_token`]).
    pub fn verify_id_token(&self, token: &TokenResponse) -> Result<IdTokenClaims, Error> {
        self.driver.block_on(self.inner.verify_id_token(token))
    }

    /// Revokes a token (RFC 7009).
    pub fn revoke<T: OAuthToken>(&self, token: &T) -> Result<(), Error> {
        self.driver.block_on(self.inner.revoke(token))
    }

    /// Asks whether a token is active (RFC 7662).
    pub fn introspect<T: OAuthToken>(&self, token: &T) -> Result<Introspection, Error> {
        self.driver.block_on(self.inner.introspect(token))
    }
}
