//! SMART App Launch: scopes, PKCE, state, discovery, and the authorization URL.
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

mod discovery;
mod scope;
mod secret;

pub use discovery::SmartConfiguration;
pub use scope::{Scope, ScopeError, Scopes};
pub use secret::{ClientId, PkceChallenge, PkceVerifier, RandomUnavailable, RedirectUrl, State};

use url::Url;

/// What the app asks the authorization server for: endpoint, client, redirect, scopes, the
/// FHIR server (`aud`) and, for an EHR launch, the `launch` parameter. State and PKCE (S256)
/// are always added.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    endpoint: Url,
    client_id: ClientId,
    redirect: RedirectUrl,
    aud: Url,
    scopes: Scopes,
    launch: Option<String>,
    state: Option<State>,
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

    /// The URL to send the user to, the state to check on the way back, and the PKCE verifier
    /// for the token request.
    pub fn url(&self) -> Result<(Url, State, PkceVerifier), RandomUnavailable> {
        let state = match &self.state {
            Some(s) => s.clone(),
            None => State::random()?,
        };
        let verifier = PkceVerifier::random()?;
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
        }
        Ok((url, state, verifier))
    }
}
