//! fhirstorm's one error type, with kind queries (as reqwest does): what the client, the
//! transport and the authorization flows return. [`Outcome`] is what a server's
//! `OperationOutcome` said; [`AuthFailure`] why an authorization step failed.

mod outcome;

use std::fmt;

use crate::json;
pub use outcome::{Outcome, OutcomeIssue};

/// What kind of failure a client call met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad configuration: an invalid base URL, plain HTTP to a host that is not loopback, ...
    Config,
    /// The server answered with an error status (see [`Error::status`], [`Error::outcome`]).
    Status,
    /// The connection failed or broke.
    Transport,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The response body was not the FHIR JSON expected (see [`Error::json`] for the path).
    Parse,
    /// The server's FHIR version is not the one the connection was made for.
    VersionMismatch,
    /// The server does not advertise this resource type or interaction.
    Unsupported,
    /// The response body was larger than the configured maximum.
    TooLarge,
    /// The server pointed somewhere fhirstorm will not follow (a link to another origin).
    Protocol,
    /// An authorization step failed: see [`Error::auth`] for which and why.
    Auth,
}

/// Why an authorization step failed (SMART App Launch, OAuth 2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The redirect carried no `state`.
    StateMissing,
    /// The redirect's `state` is not the one sent.
    StateMismatch,
    /// The signed state has expired.
    StateExpired,
    /// The signed state is not valid (bad signature, malformed, or a claim differs).
    StateInvalid,
    /// The redirect is not to the registered redirect URL, or carries no `code`.
    BadRedirect,
    /// The redirect's `iss` is not the authorization server's issuer (RFC 9207), or there is no
    /// known issuer to compare a present `iss` with.
    IssuerMismatch,
    /// The redirect has no `iss` though the authorization server says it always sends one
    /// (`authorization_response_iss_parameter_supported`, RFC 9207): a mix-up attack's sign.
    IssuerMissing,
    /// The authorization server sent the user back with an error (`error`, `error_description`).
    Denied {
        /// The OAuth error code (`access_denied`, `invalid_scope`, ...).
        error: String,
        /// `error_description`, if any.
        description: Option<String>,
    },
    /// The token (or registration) endpoint refused the request with an OAuth error.
    Endpoint {
        /// The OAuth error code (`invalid_grant`, `invalid_client`, ...).
        error: String,
        /// `error_description`, if any.
        description: Option<String>,
    },
    /// The token response is not a valid one (no `access_token`, wrong `token_type`, ...).
    BadTokenResponse,
    /// The registration response is not a valid one (no `client_id`).
    BadRegistration,
    /// The `id_token` did not verify (signature, issuer, audience, expiry).
    IdTokenInvalid,
    /// There is nothing to refresh with (no refresh token, no client).
    CannotRefresh,
    /// The launch's `iss` is not on the app's allow-list.
    IssuerNotAllowed,
    /// A key or signing step failed (an unreadable private key, say).
    Key,
}

impl AuthFailure {
    /// The OAuth error code, for [`AuthFailure::Denied`] and [`AuthFailure::Endpoint`].
    pub fn oauth_error(&self) -> Option<&str> {
        match self {
            AuthFailure::Denied { error, .. } | AuthFailure::Endpoint { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// An error from a client call: what happened, to which request, and what the server said.
/// Cheap to clone (a failed refresh reaches every task that waited for it).
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    auth: Option<AuthFailure>,
    message: String,
    method: Option<String>,
    url: Option<String>,
    status: Option<u16>,
    outcome: Option<Outcome>,
    source: Option<std::sync::Arc<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            inner: Box::new(Inner {
                kind,
                auth: None,
                message: message.into(),
                method: None,
                url: None,
                status: None,
                outcome: None,
                source: None,
            }),
        }
    }

    pub(crate) fn with_request(mut self, method: &str, url: &url::Url) -> Error {
        self.inner.method = Some(method.to_string());
        self.inner.url = Some(redact_url(url));
        self
    }

    /// The request, unless the error already names one (a token endpoint's refusal during a
    /// renewal keeps naming the token endpoint, not the FHIR request that needed the token).
    pub(crate) fn or_request(self, method: &str, url: &url::Url) -> Error {
        if self.inner.url.is_some() {
            self
        } else {
            self.with_request(method, url)
        }
    }

    pub(crate) fn with_status(mut self, status: u16, outcome: Option<Outcome>) -> Error {
        self.inner.status = Some(status);
        self.inner.outcome = outcome;
        self
    }

    /// Adds a sentence to the message (what the caller knows that the failing step did not).
    pub(crate) fn with_note(mut self, note: &str) -> Error {
        self.inner.message = format!("{} ({note})", self.inner.message);
        self
    }

    pub(crate) fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Error {
        self.inner.source = Some(std::sync::Arc::new(source));
        self
    }

    pub(crate) fn auth_failure(failure: AuthFailure, message: impl Into<String>) -> Error {
        let mut e = Error::new(ErrorKind::Auth, message);
        e.inner.auth = Some(failure);
        e
    }

    /// Why an authorization step failed, for [`ErrorKind::Auth`] errors.
    pub fn auth(&self) -> Option<&AuthFailure> {
        self.inner.auth.as_ref()
    }

    /// The error and its chain of sources on one line (`GET ...: the response is not the FHIR
    /// JSON expected: invalid date "1970-13" at $.birthDate`), for logs and messages: what
    /// `format!("{e:#}")` gives, also when `e` is a `Box<dyn Error>`. `Display` (`{e}`) shows
    /// this error alone, as error types that return a `source()` should.
    pub fn report(&self) -> String {
        format!("{self:#}")
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        self.inner.status
    }

    /// The `OperationOutcome` the server sent, if it sent one.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.inner.outcome.as_ref()
    }

    /// The JSON error (with its path) when the response could not be read.
    pub fn json(&self) -> Option<&json::Error> {
        self.inner.source.as_ref()?.downcast_ref::<json::Error>()
    }

    /// The request's URL, without its query (which may hold identifying data).
    pub fn url(&self) -> Option<&str> {
        self.inner.url.as_deref()
    }

    /// 404 or 410: the resource does not exist (or no longer does).
    pub fn is_not_found(&self) -> bool {
        matches!(self.inner.status, Some(404 | 410))
    }

    /// 410: the resource was deleted.
    pub fn is_gone(&self) -> bool {
        self.inner.status == Some(410)
    }

    /// 412: a version precondition (`If-Match`) failed; someone else changed the resource.
    pub fn is_precondition_failed(&self) -> bool {
        self.inner.status == Some(412)
    }

    /// 409: a conflict.
    pub fn is_conflict(&self) -> bool {
        self.inner.status == Some(409)
    }

    /// The request timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The server does not advertise what was asked.
    pub fn is_unsupported(&self) -> bool {
        self.inner.kind == ErrorKind::Unsupported
    }
}

/// A URL as errors and logs show it: no query, no fragment, no credentials.
pub(crate) fn redact_url(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    // Some servers put encoded parameters (even credentials) in path segments: a long segment,
    // or one with percent-escapes, is not shown.
    let path: Vec<String> = url
        .path_segments()
        .map(|segments| {
            segments
                .map(|p| if p.len() > 64 || p.contains('%') { "(hidden)".to_string() } else { p.to_string() })
                .collect()
        })
        .unwrap_or_default();
    if !path.is_empty() {
        u.set_path(&path.join("/"));
    }
    let mut s = u.to_string();
    if url.query().is_some() {
        s.push_str("?…");
    }
    s
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        if let (Some(m), Some(u)) = (&i.method, &i.url) {
            write!(f, "{m} {u}: ")?;
        }
        if let Some(s) = i.status {
            write!(f, "HTTP {s}: ")?;
        }
        f.write_str(&i.message)?;
        if let Some(o) = &i.outcome {
            if !o.issues.is_empty() {
                write!(f, " ({o})")?;
            }
        }
        // The source is not repeated here: `source()` returns it, and error reporters (anyhow's
        // `{:#}`, `Report`) print the chain. The alternate form (`{:#}`, also through a
        // `Box<dyn Error>`) and `Error::report` give the whole chain on one line.
        if f.alternate() {
            let mut next = std::error::Error::source(self);
            while let Some(e) = next {
                write!(f, ": {e}")?;
                next = e.source();
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Error")
            .field("kind", &i.kind)
            .field("auth", &i.auth)
            .field("message", &i.message)
            .field("method", &i.method)
            .field("url", &i.url)
            .field("status", &i.status)
            .field("outcome", &i.outcome)
            .field("source", &i.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_ref().map(|s| &**s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    /// What a URL may carry besides its path is never shown.
    #[test]
    fn urls_in_errors_hide_queries_credentials_and_encoded_or_long_path_segments() {
        let shown = |u: &str| super::redact_url(&url::Url::parse(u).unwrap());
        assert_eq!(shown("https://h.example/fhir/Patient/p1"), "https://h.example/fhir/Patient/p1");
        assert_eq!(shown("https://h.example/fhir/Patient?name=Smith"), "https://h.example/fhir/Patient?…");
        assert_eq!(shown("https://user:pw@h.example/fhir#x"), "https://h.example/fhir");
        let long = "a".repeat(65);
        assert_eq!(
            shown(&format!("https://h.example/v/{long}/fhir/metadata")),
            "https://h.example/v/(hidden)/fhir/metadata"
        );
        assert_eq!(
            shown("https://h.example/v/client_secret%3Ds3cr%2Bt/fhir/metadata"),
            "https://h.example/v/(hidden)/fhir/metadata"
        );
    }

    /// `Display` shows the error alone (its source is `source()`'s), and
    /// `report()` the whole chain.
    #[test]
    fn display_without_source_report_with_it() {
        use super::{Error, ErrorKind};
        let json_error = crate::json::Error::custom(crate::json::ErrorKind::Value, "invalid date");
        let e = Error::new(ErrorKind::Parse, "the response is not the FHIR JSON expected").with_source(json_error);
        assert_eq!(e.to_string(), "the response is not the FHIR JSON expected");
        assert_eq!(e.report(), "the response is not the FHIR JSON expected: invalid date at $");
        assert!(std::error::Error::source(&e).is_some());
        // The alternate form gives the chain too, also through a `Box<dyn Error>`.
        let boxed: Box<dyn std::error::Error> = Box::new(e);
        assert_eq!(format!("{boxed:#}"), "the response is not the FHIR JSON expected: invalid date at $");
        assert_eq!(format!("{boxed}"), "the response is not the FHIR JSON expected");
    }
}
