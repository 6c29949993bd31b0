//! [`Connection`]: one FHIR server, its settings and transport; the capability statement;
//! sending a FHIR request (only under the base, with the authorizer's bearer token, asked again
//! once after a `401`). Building requests and reading their answers is in `request`.

use std::sync::Arc;

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use super::authorizer::{Authorizer, Bearer};
use super::{capabilities, ClientVersion, RestCapabilities};
use crate::error::{AuthFailure, Error, ErrorKind, Outcome};
use crate::json;
use crate::transport::{excerpt, reason, under_base, Opened, Request, Response, Transport};

/// What the clones of a [`Connection`] share: settings, the HTTP client, the cached statement.
pub(super) struct Shared<V: ClientVersion> {
    pub(super) base: Url,
    pub(super) transport: Transport,
    pub(super) trust_capabilities: bool,
    pub(super) strict_search: bool,
    pub(super) error_excerpts: bool,
    pub(super) conformance: json::Conformance,
    pub(super) authorizer: Option<Arc<dyn Authorizer>>,
    pub(super) metadata: tokio::sync::OnceCell<Capabilities<V>>,
}

/// A connection to one FHIR server of version `V`. Cheap to clone; clones share the HTTP
/// connection pool and the cached capability statement.
pub struct Connection<V: ClientVersion> {
    /// What the clones share; or, for [`Connection::new`], the build error, kept whole (kind
    /// and source) for every call: such a connection has no HTTP client and sends nothing.
    pub(super) inner: Result<Arc<Shared<V>>, Unbuilt>,
}

/// A connection [`Connection::new`] could not build.
#[derive(Clone)]
pub(super) struct Unbuilt {
    pub(super) error: Error,
    /// The base as given, if it was a URL at all (`about:invalid` if not).
    pub(super) base: Url,
}

impl<V: ClientVersion> Clone for Connection<V> {
    fn clone(&self) -> Self {
        Connection { inner: self.inner.clone() }
    }
}

impl<V: ClientVersion> std::fmt::Debug for Connection<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Connection");
        d.field("version", &V::NAME).field("base", &self.base_url().as_str());
        if let Err(unbuilt) = &self.inner {
            d.field("error", &unbuilt.error.to_string());
        }
        d.finish()
    }
}

/// The capability statement, read once per connection.
#[derive(Debug)]
pub struct Capabilities<V: ClientVersion> {
    /// The server's `fhirVersion`.
    pub fhir_version: String,
    /// The `rest` entries.
    pub rest: Vec<RestCapabilities>,
    /// The typed statement (`CapabilityStatement`; `Conformance` in DSTU2).
    pub statement: V::AnyResource,
}

impl<V: ClientVersion> Connection<V> {
    /// The FHIR base URL (always ending in `/`). For a connection [`Connection::new`] could
    /// not build, the base as given, or `about:invalid` if it was not a URL.
    pub fn base_url(&self) -> &Url {
        match &self.inner {
            Ok(shared) => &shared.base,
            Err(unbuilt) => &unbuilt.base,
        }
    }

    /// The connection's parts, or its build error.
    pub(super) fn shared(&self) -> Result<&Shared<V>, Error> {
        match &self.inner {
            Ok(shared) => Ok(shared),
            Err(unbuilt) => Err(unbuilt.error.clone()),
        }
    }

    /// The same connection (settings, HTTP client) sending the bearer tokens `authorizer`
    /// gives. The capability statement is fetched again, as the authorized user sees it.
    pub fn with_authorizer(&self, authorizer: Arc<dyn Authorizer>) -> Connection<V> {
        let Ok(s) = &self.inner else { return self.clone() };
        Connection {
            inner: Ok(Arc::new(Shared {
                base: s.base.clone(),
                transport: s.transport.clone(),
                trust_capabilities: s.trust_capabilities,
                strict_search: s.strict_search,
                error_excerpts: s.error_excerpts,
                conformance: s.conformance,
                authorizer: Some(authorizer),
                metadata: tokio::sync::OnceCell::new(),
            })),
        }
    }

    /// What gives this connection its bearer tokens, if anything.
    pub fn authorizer(&self) -> Option<&dyn Authorizer> {
        self.inner.as_ref().ok()?.authorizer.as_deref()
    }

    /// Whether errors show the start of a body that is not FHIR JSON
    /// (`ConnectionBuilder::error_excerpts`).
    pub(crate) fn error_excerpts(&self) -> bool {
        self.inner.as_ref().is_ok_and(|s| s.error_excerpts)
    }

    /// This connection's transport (its HTTP client and HTTPS policy), for the auth flows; or
    /// its build error.
    pub(crate) fn transport(&self) -> Result<&Transport, Error> {
        Ok(&self.shared()?.transport)
    }

    /// Whether the capability statement is trusted to refuse what it does not advertise.
    pub(super) fn trusts_capabilities(&self) -> bool {
        self.inner.as_ref().is_ok_and(|s| s.trust_capabilities)
    }

    /// Where plain HTTP is allowed (nowhere, for a connection that could not be built).
    pub(crate) fn plain_http(&self) -> crate::transport::PlainHttp {
        self.inner.as_ref().map_or(crate::transport::PlainHttp::Never, |s| s.transport.plain_http())
    }

    /// The server's capability statement, fetched once and cached. Fails with
    /// [`ErrorKind::VersionMismatch`] when the server's `fhirVersion` is not `V`'s.
    pub async fn metadata(&self) -> Result<&Capabilities<V>, Error> {
        self.shared()?
            .metadata
            .get_or_try_init(|| async {
                let resp = self.call(Method::GET, self.url("metadata")?).send().await?;
                let value: json::Value = self.parse_body(&resp)?;
                let (fhir_version, rest) = capabilities::read(&value);
                if !fhir_version.is_empty() && !V::accepts(&fhir_version) {
                    return Err(Error::new(
                        ErrorKind::VersionMismatch,
                        format!(
                            "the server speaks FHIR {fhir_version}, but this connection is for {} ({})",
                            V::NAME,
                            V::FHIR_VERSION
                        ),
                    )
                    .with_request("GET", &resp.url));
                }
                let statement: V::AnyResource = self.parse_body(&resp)?;
                Ok(Capabilities { fhir_version, rest, statement })
            })
            .await
    }

    /// GETs `path` (relative to the base) and reads it as JSON (a SMART document, say).
    pub(crate) async fn get_json(&self, path: &str) -> Result<json::Value, Error> {
        self.call(Method::GET, self.url(path)?)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .fetch()
            .await
    }

    /// The URL of a path under the base from its segments (a type, an id, `_history`, `$op`).
    /// Callers check each id ([`segment`]); this checks that the built path is exactly the
    /// base's path followed by the segments, so that nothing an id holds (a dot segment, a `/`,
    /// a `?`) can send a request with this connection's token to another path.
    pub(crate) fn path(&self, segments: &[&str]) -> Result<Url, Error> {
        let rel = segments.join("/");
        let url = self.url(&rel)?;
        let expected = format!("{}{rel}", self.shared()?.base.path());
        if url.path() != expected || url.query().is_some() || url.fragment().is_some() {
            let shown: String = rel.chars().take(80).collect();
            return Err(Error::new(
                ErrorKind::Config,
                format!("the request path {shown:?} does not stay under the FHIR base"),
            ));
        }
        Ok(url)
    }

    pub(super) fn url(&self, path: &str) -> Result<Url, Error> {
        self.shared()?
            .base
            .join(path)
            .map_err(|e| Error::new(ErrorKind::Config, format!("bad request path {path:?}")).with_source(e))
    }

    /// Sends a FHIR request: only to a URL under the base, with the authorizer's bearer token;
    /// after a `401` to that token, once more with the one the authorizer gives instead.
    /// (Retries, limits and redaction are the transport's.)
    pub(super) async fn send(&self, req: Request) -> Result<Response, Error> {
        let opened = self.open(req, true).await?;
        opened.read(self.shared()?.transport.max_response_bytes()).await
    }

    /// Sends a request as [`send`](Self::send) does, and returns the answer with its body still
    /// to be read. With `token` false, the request carries no token and may go to a URL outside
    /// the base (a bulk data file on another host), HTTPS unless plain HTTP is allowed there.
    pub(crate) async fn open(&self, mut req: Request, token: bool) -> Result<Opened, Error> {
        let shared = self.shared()?;
        let (method, url) = (req.method.clone(), req.url.clone());
        if token && !under_base(&shared.base, &url) {
            return Err(Error::new(ErrorKind::Protocol, "refusing to send a request outside the FHIR base")
                .with_request(method.as_str(), &url));
        }
        if !req.headers.contains_key(ACCEPT) {
            req.headers.insert(ACCEPT, HeaderValue::from_static(V::JSON_MIME));
        }
        if req.body.is_some() && !req.headers.contains_key(CONTENT_TYPE) {
            req.headers.insert(CONTENT_TYPE, HeaderValue::from_static(V::JSON_MIME));
        }
        let transport = &shared.transport;
        let Some(authorizer) = shared.authorizer.as_ref().filter(|_| token) else {
            return transport.open(&req).await;
        };
        let bearer = authorizer.bearer().await.map_err(|e| e.or_request(method.as_str(), &url))?;
        authorize(&mut req, &bearer)?;
        let resp = transport.open(&req).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        // The token was refused (revoked, or expired early): ask for another once (the
        // authorizer knows whether another request already renewed it).
        tracing::debug!(method = %method, url = %crate::error::redact_url(&url), "401: asking for another access token");
        drop(resp);
        let bearer = authorizer.rejected(&bearer).await.map_err(|e| e.or_request(method.as_str(), &url))?;
        authorize(&mut req, &bearer)?;
        let resp = transport.open(&req).await?;
        if resp.status != 401 {
            return Ok(resp);
        }
        // Refused again: the renewed token is not the problem's fix (scopes, the user's rights,
        // or a server that does not accept this authorization server's tokens).
        let resp = resp.read(transport.max_response_bytes()).await?;
        Err(self.check_status(resp).err().map_or_else(
            || Error::new(ErrorKind::Status, reason(401)),
            |e| e.with_note("the renewed access token was refused too"),
        ))
    }

    /// An error status as an error: the server's `OperationOutcome`, or else what its body
    /// starts with (where excerpts are on).
    pub(super) fn check_status(&self, resp: Response) -> Result<Response, Error> {
        if resp.status < 400 {
            return Ok(resp);
        }
        let outcome = Outcome::from_body(&resp.body);
        let message = if outcome.is_some() {
            reason(resp.status).to_string()
        } else {
            format!("{}; body: {}", reason(resp.status), self.excerpt(&resp.body, resp.headers.get(CONTENT_TYPE)))
        };
        Err(Error::new(ErrorKind::Status, message)
            .with_status(resp.status, outcome)
            .with_request(resp.method.as_str(), &resp.url))
    }

    /// What an error says of a body that is not FHIR JSON: its start, where excerpts are on.
    pub(super) fn excerpt(&self, body: &[u8], content_type: Option<&HeaderValue>) -> String {
        if self.error_excerpts() {
            return excerpt(body, content_type);
        }
        let ct = content_type.and_then(|c| c.to_str().ok()).map(|c| format!("{c}, ")).unwrap_or_default();
        format!("({ct}{} bytes, not shown: turn on ConnectionBuilder::error_excerpts to see its start)", body.len())
    }
}

/// Sets the `Authorization` header, marked sensitive (never logged by the HTTP stack). Only ever
/// for URLs under the base: `send` checks, and redirects stay under it.
fn authorize(req: &mut Request, bearer: &Bearer) -> Result<(), Error> {
    let mut value = HeaderValue::try_from(format!("Bearer {}", bearer.secret())).map_err(|_| {
        Error::auth_failure(AuthFailure::BadTokenResponse, "the access token is not a valid header value")
    })?;
    value.set_sensitive(true);
    req.headers.insert(reqwest::header::AUTHORIZATION, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    /// A build error of `Connection::new` keeps its kind and source, for the
    /// first call (as reqwest defers a builder's error to `send()`).
    #[tokio::test]
    async fn a_build_error_is_kept_whole_for_the_first_call() {
        let conn = super::Connection::<crate::client::test_version::Bare>::new("not a URL");
        let e = conn.metadata().await.expect_err("the build error, at the first call");
        assert_eq!(e.kind(), crate::error::ErrorKind::Config);
        assert!(e.to_string().contains("invalid FHIR base URL"), "{e}");
        let source = std::error::Error::source(&e).expect("the URL parser's error, kept");
        assert!(source.downcast_ref::<url::ParseError>().is_some(), "{source:?}");
    }

    /// A connection that could not be built has no HTTP client: every call, the authorization
    /// flows' too, fails with its build error, and it still says what base it was given.
    #[tokio::test]
    async fn an_unbuilt_connection_sends_nothing_and_fails_every_call_alike() {
        use crate::auth::{ClientAuth, ClientId, SmartClient, SmartConfiguration};
        let conn = super::Connection::<crate::client::test_version::Bare>::new("http://fhir.example/r4");
        assert_eq!(conn.base_url().as_str(), "http://fhir.example/r4");
        assert!(format!("{conn:?}").contains("plain HTTP"), "{conn:?}");
        let e = conn.metadata().await.expect_err("plain HTTP to another host is refused");
        assert_eq!(e.kind(), crate::error::ErrorKind::Config, "{e}");
        let config = SmartConfiguration::from_slice(br#"{"token_endpoint":"https://auth.example/token"}"#, false)
            .expect("a configuration");
        let client = SmartClient::new(&conn, config, ClientAuth::Public(ClientId::new("app")));
        let scopes = "system/*.read".parse().expect("scopes");
        let same = client.client_credentials(&scopes).await.expect_err("no transport");
        assert_eq!((same.kind(), same.to_string()), (e.kind(), e.to_string()));
        let unparsed = super::Connection::<crate::client::test_version::Bare>::new("not a URL");
        assert_eq!(unparsed.base_url().as_str(), "about:invalid");
    }
}
