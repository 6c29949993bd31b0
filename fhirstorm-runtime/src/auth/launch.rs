//! EHR launch: the EHR opens the app's launch URL with `iss` (the FHIR base URL) and `launch`
//! (an opaque context handle). The app checks `iss` against the servers it trusts **before any
//! request**, discovers the server, and sends the user to authorize with `launch`.

use url::Url;

use super::client_auth::ClientAuth;
use super::oauth::SmartClient;
use super::scope::Scopes;
use super::secret::{PkceVerifier, RedirectUrl, State};
use crate::client::{ClientVersion, Connection, ConnectionBuilder};
use crate::error::{AuthFailure, Error};

/// The FHIR servers an app accepts launches from.
#[derive(Debug, Clone, Default)]
pub struct IssuerAllowList {
    allowed: Vec<Url>,
}

impl IssuerAllowList {
    /// An empty list (every launch refused).
    pub fn new() -> Self {
        Self::default()
    }

    /// Accept launches from the FHIR base URL `iss`.
    pub fn allow(mut self, iss: &str) -> Result<Self, Error> {
        let url = Url::parse(iss)
            .map_err(|_| Error::new(crate::error::ErrorKind::Config, format!("{iss:?} is not a URL")))?;
        self.allowed.push(url);
        Ok(self)
    }

    fn contains(&self, iss: &Url) -> bool {
        let norm = |u: &Url| u.as_str().trim_end_matches('/').to_string();
        self.allowed.iter().any(|a| norm(a) == norm(iss))
    }
}

/// The parameters of an EHR launch, once `iss` has been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EhrLaunch {
    /// The FHIR base URL the EHR launched from (on the allow-list).
    pub iss: Url,
    /// The `launch` value to pass back in the authorization request.
    pub launch: String,
}

/// What the app keeps between the launch and the callback (in its session store): the state
/// and the PKCE verifier, plus the client to finish with.
#[derive(Debug)]
pub struct PendingAuthorization {
    /// Where to send the user.
    pub url: Url,
    /// The state to check on the callback.
    pub state: State,
    /// The PKCE verifier for the token request.
    pub verifier: PkceVerifier,
    /// The client (configuration discovered from `iss`) to exchange the code with.
    pub client: SmartClient,
}

impl EhrLaunch {
    /// Reads `iss` and `launch` from the launch URL's query (`iss=...&launch=...`) and checks
    /// `iss` against `allowed`. Nothing is fetched.
    pub fn from_query(query: &str, allowed: &IssuerAllowList) -> Result<EhrLaunch, Error> {
        let mut iss = None;
        let mut launch = None;
        for (k, v) in url::form_urlencoded::parse(query.trim_start_matches('?').as_bytes()) {
            match &*k {
                "iss" => iss = Some(v.into_owned()),
                "launch" => launch = Some(v.into_owned()),
                _ => {}
            }
        }
        let bad = |why: &str| Error::auth_failure(AuthFailure::BadRedirect, why.to_string());
        let iss = iss.ok_or_else(|| bad("the launch has no iss"))?;
        let launch = launch.filter(|l| !l.is_empty()).ok_or_else(|| bad("the launch has no launch parameter"))?;
        let iss = Url::parse(&iss).map_err(|_| bad("the launch's iss is not a URL"))?;
        if !allowed.contains(&iss) {
            return Err(Error::auth_failure(
                AuthFailure::IssuerNotAllowed,
                format!("launches from {} are not allowed", crate::error::redact_url(&iss)),
            ));
        }
        Ok(EhrLaunch { iss, launch })
    }

    /// Discovers `iss`'s SMART configuration (through a connection `configure` sets up, e.g.
    /// to allow loopback in development) and builds the authorization redirect with `launch`,
    /// state and PKCE.
    pub async fn authorize<V: ClientVersion>(
        &self,
        configure: impl FnOnce(ConnectionBuilder<V>) -> ConnectionBuilder<V>,
        auth: ClientAuth,
        redirect: RedirectUrl,
        scopes: Scopes,
    ) -> Result<PendingAuthorization, Error> {
        let conn = configure(Connection::<V>::builder(self.iss.as_str())).build()?;
        let client = SmartClient::discover(&conn, auth).await?.redirect_url(redirect);
        self.authorize_with(client, scopes)
    }

    /// Builds the authorization redirect with `launch`, state and PKCE, for a client the app
    /// already made for `iss` (its `aud` must be `iss`).
    pub fn authorize_with(&self, client: SmartClient, scopes: Scopes) -> Result<PendingAuthorization, Error> {
        if client.aud().as_str().trim_end_matches('/') != self.iss.as_str().trim_end_matches('/') {
            return Err(Error::auth_failure(
                AuthFailure::IssuerNotAllowed,
                "the client is for another FHIR server than the launch's iss",
            ));
        }
        let (url, state, verifier) = client
            .authorization_request(scopes)?
            .launch(self.launch.clone())
            .url()
            .map_err(|e| Error::auth_failure(AuthFailure::Key, e.to_string()))?;
        Ok(PendingAuthorization { url, state, verifier, client })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iss_is_checked_before_anything() {
        let allowed = IssuerAllowList::new().allow("https://ehr.example/fhir").unwrap();
        let ok = EhrLaunch::from_query("iss=https%3A%2F%2Fehr.example%2Ffhir%2F&launch=abc", &allowed).unwrap();
        assert_eq!(ok.launch, "abc");
        let evil = EhrLaunch::from_query("iss=https%3A%2F%2Fevil.example%2Ffhir&launch=abc", &allowed).unwrap_err();
        assert_eq!(evil.auth(), Some(&AuthFailure::IssuerNotAllowed));
        let none = EhrLaunch::from_query("launch=abc", &allowed).unwrap_err();
        assert_eq!(none.auth(), Some(&AuthFailure::BadRedirect));
    }
}
