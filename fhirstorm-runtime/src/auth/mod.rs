//! SMART App Launch: discovery, the authorization URL (state and PKCE always), the code
//! exchange, refresh, Backend Services, dynamic registration, EHR launch, id_token
//! verification, token revocation (RFC 7009) and introspection (RFC 7662), and the loopback
//! redirect of desktop and command-line apps (RFC 8252, [`LoopbackRedirect`]).
//!
//! The flow of a standalone launch, as the original FHIRstorm had it:
//!
//! ```no_run
//! use fhirstorm::auth::{ClientAuth, ClientId, RedirectUrl, SmartClient};
//! use fhirstorm::client::Connection;
//! use fhirstorm::r4::Patient;
//! use fhirstorm::R4;
//!
//! # async fn run(redirect_back: &str) -> Result<(), fhirstorm::client::Error> {
//! let conn = Connection::<R4>::new("https://ehr.example/fhir");
//! let client = SmartClient::discover(&conn, ClientAuth::Public(ClientId::new("my-app")))
//!     .await?
//!     .redirect_url(RedirectUrl::new("https://app.example/callback").expect("a URL"));
//! let scopes = "openid fhirUser launch/patient offline_access patient/*.read".parse().expect("scopes");
//! let (url, state, verifier) = client.authorization_request(scopes)?.url().expect("randomness");
//! // ... send the user to `url`; they come back to `redirect_back` ...
//! let token = client.exchange_redirect(redirect_back, &state, &verifier).await?;
//! let patient_id = token.patient_id().expect("a patient in context").to_string();
//! let conn = conn.with_session(client.session(token));
//! let patient: Patient = conn.service().await?.r::<Patient>().fetch(&patient_id).await?;
//! # let _ = patient; Ok(()) }
//! ```
//!
//! Building the authorization URL by hand:
//!
//! ```
//! use fhirstorm::auth::{AuthorizationRequest, ClientId, RedirectUrl, Scopes};
//!
//! let scopes: Scopes = "openid fhirUser launch/patient offline_access patient/*.read".parse()?;
//! let request = AuthorizationRequest::new(
//!     "https://ehr.example/authorize".parse()?,
//!     ClientId::new("my-app"),
//!     RedirectUrl::new("https://app.example/callback")?,
//!     "https://ehr.example/fhir".parse()?,
//! )
//! .scopes(scopes);
//! let (url, state, verifier) = request.url()?;
//! assert!(url.as_str().contains("code_challenge_method=S256"));
//! # let _ = (state, verifier);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client_auth;
mod discovery;
mod http;
mod id_token;
mod launch;
mod loopback;
mod oauth;
mod registration;
mod revocation;
mod scope;
mod secret;
mod session;
mod state;
mod token;

pub use client_auth::{ClientAuth, PrivateKey, SigningAlgorithm};
pub use discovery::SmartConfiguration;
pub use id_token::{FhirUser, FhirUserType, IdTokenClaims};
pub use launch::{EhrLaunch, IssuerAllowList, PendingAuthorization};
#[cfg(feature = "system-browser")]
pub use loopback::open_system_browser;
pub use loopback::LoopbackRedirect;
pub use oauth::SmartClient;
pub use registration::{register, ClientRegistration, RegisteredClient};
pub use revocation::{Introspection, OAuthToken};
pub use scope::{Scope, ScopeError, Scopes};
pub use secret::{
    AccessToken, AuthorizationCode, BrowserBinding, ClientId, ClientSecret, ForStorage, IdToken, PkceChallenge,
    PkceVerifier, RandomUnavailable, RedirectUrl, RefreshToken, RegistrationToken, State, StateKey,
};
pub use session::Session;
pub use state::{jwt_state, StateCheck, StateValidator};
pub use token::TokenResponse;

use url::Url;

/// What the app asks the authorization server for: endpoint, client, redirect, scopes, the
/// FHIR server (`aud`) and, for an EHR launch, the `launch` parameter. State and PKCE (S256)
/// are always added, and an OpenID `nonce` derived from the PKCE verifier whenever the scopes
/// ask for `openid`.
#[derive(Debug, Clone)]
#[must_use = "an authorization request does nothing until its .url() is built"]
pub struct AuthorizationRequest {
    endpoint: Url,
    client_id: ClientId,
    redirect: RedirectUrl,
    aud: Url,
    scopes: Scopes,
    launch: Option<String>,
    state: Option<State>,
    verifier: Option<PkceVerifier>,
}

impl AuthorizationRequest {
    /// A request to `endpoint` (the `authorization_endpoint`) for `aud` (the FHIR base URL).
    pub fn new(endpoint: Url, client_id: ClientId, redirect: RedirectUrl, aud: Url) -> Self {
        AuthorizationRequest {
            endpoint,
            client_id,
            redirect,
            aud,
            scopes: Scopes::default(),
            launch: None,
            state: None,
            verifier: None,
        }
    }

    /// The scopes asked for.
    pub fn scopes(mut self, scopes: Scopes) -> Self {
        self.scopes = scopes;
        self
    }

    /// The `launch` value of an EHR launch.
    pub fn launch(mut self, launch: impl Into<String>) -> Self {
        self.launch = Some(launch.into());
        self
    }

    /// Use this state (for example a signed one) instead of a fresh random one.
    pub fn state(mut self, state: State) -> Self {
        self.state = Some(state);
        self
    }

    /// Use this PKCE verifier instead of a fresh random one: the one a signed state derives
    /// ([`PkceVerifier::for_signed_state`]), so that the app need not keep it.
    pub fn pkce_verifier(mut self, verifier: PkceVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// The URL to send the user to, the state to check on the way back, and the PKCE verifier
    /// for the token request.
    pub fn url(&self) -> Result<(Url, State, PkceVerifier), RandomUnavailable> {
        let state = match &self.state {
            Some(s) => s.clone(),
            None => State::random()?,
        };
        let verifier = match &self.verifier {
            Some(v) => v.clone(),
            None => PkceVerifier::random()?,
        };
        let challenge = verifier.challenge();
        let mut url = self.endpoint.clone();
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("response_type", "code");
            q.append_pair("client_id", self.client_id.as_str());
            q.append_pair("redirect_uri", self.redirect.as_str());
            if !self.scopes.is_empty() {
                q.append_pair("scope", &self.scopes.to_string());
            }
            q.append_pair("state", state.secret());
            q.append_pair("aud", self.aud.as_str().trim_end_matches('/'));
            if let Some(l) = &self.launch {
                q.append_pair("launch", l);
            }
            q.append_pair("code_challenge", challenge.as_str());
            q.append_pair("code_challenge_method", "S256");
            if self.scopes.to_string().split(' ').any(|s| s == "openid") {
                // Checked against the id_token by the code exchange (which has the verifier).
                q.append_pair("nonce", &verifier.nonce());
            }
        }
        Ok((url, state, verifier))
    }
}
