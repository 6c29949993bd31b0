//! [`Connection`]: one FHIR server, its settings and HTTP client; sending a request (retries,
//! limits, the bearer token, redaction), checking its status, reading its body.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use super::auth_http::AuthHttp;
use super::authorizer::Authorizer;
use super::builder::{ConnectionBuilder, RetryPolicy};
use super::http::{excerpt, read_limited, read_prefix, reason, retry_after, transport_error, MAX_ERROR_BODY};
use super::policy::{checked_url, under_base, PlainHttp};
use super::service::Service;
use super::{capabilities, error, AuthFailure, ClientVersion, Error, ErrorKind, Outcome, RestCapabilities};
use crate::json::{self, FromJson};

/// What the clones of a [`Connection`] share: settings, the HTTP client, the cached statement.
pub(super) struct Shared<V: ClientVersion> {
    pub(super) base: Url,
    pub(super) http: reqwest::Client,
    pub(super) retry: RetryPolicy,
    pub(super) max_response_bytes: usize,
    pub(super) plain_http: PlainHttp,
    pub(super) trust_capabilities: bool,
    pub(super) strict_search: bool,
    pub(super) error_excerpts: bool,
    pub(super) conformance: json::Conformance,
    pub(super) authorizer: Option<Arc<dyn Authorizer>>,
    pub(super) timeout: Duration,
    pub(super) metadata: tokio::sync::OnceCell<Capabilities<V>>,
}

/// A connection to one FHIR server of version `V`. Cheap to clone; clones share the HTTP
/// connection pool and the cached capability statement.
pub struct Connection<V: ClientVersion> {
    pub(super) shared: Arc<Shared<V>>,
    /// A configuration error from [`Connection::new`], reported on first use.
    /// A build error of [`Connection::new`], kept whole (kind and source) for the first call.
    pub(super) config_error: Option<Error>,
}

impl<V: ClientVersion> Clone for Connection<V> {
    fn clone(&self) -> Self {
        Connection { shared: self.shared.clone(), config_error: self.config_error.clone() }
    }
}

impl<V: ClientVersion> std::fmt::Debug for Connection<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("version", &V::NAME).field("base", &self.shared.base.as_str()).finish()
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

/// A response as read: status, headers, the whole body.
pub(super) struct Response {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    pub(super) url: Url,
    pub(super) method: Method,
}

impl<V: ClientVersion> Connection<V> {
    /// A connection with default settings (HTTPS only). Errors in `base` are reported by the
    /// first call; use [`Connection::builder`] to see them at once or to change settings.
    pub fn new(base: impl Into<String>) -> Connection<V> {
        let base = base.into();
        match Connection::builder(base.clone()).build() {
            Ok(c) => c,
            Err(e) => {
                let mut c = Connection::builder("https://invalid.invalid/")
                    .build()
                    .expect("a constant HTTPS URL and default settings always build");
                c.config_error = Some(e);
                c
            }
        }
    }

    /// A builder for a connection to `base` (the FHIR base URL, e.g. `https://host/fhir`).
    pub fn builder(base: impl Into<String>) -> ConnectionBuilder<V> {
        ConnectionBuilder::new(base.into())
    }

    /// The FHIR base URL (always ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.shared.base
    }

    /// The same connection (settings, HTTP client) sending the bearer tokens `authorizer`
    /// gives. The capability statement is fetched again, as the authorized user sees it.
    pub fn with_authorizer(&self, authorizer: Arc<dyn Authorizer>) -> Connection<V> {
        let s = &self.shared;
        Connection {
            shared: Arc::new(Shared {
                base: s.base.clone(),
                http: s.http.clone(),
                retry: s.retry.clone(),
                max_response_bytes: s.max_response_bytes,
                plain_http: s.plain_http,
                trust_capabilities: s.trust_capabilities,
                strict_search: s.strict_search,
                error_excerpts: s.error_excerpts,
                conformance: s.conformance,
                authorizer: Some(authorizer),
                timeout: s.timeout,
                metadata: tokio::sync::OnceCell::new(),
            }),
            config_error: self.config_error.clone(),
        }
    }

    /// What gives this connection its bearer tokens, if anything.
    pub fn authorizer(&self) -> Option<&dyn Authorizer> {
        self.shared.authorizer.as_deref()
    }

    /// The HTTP side of the auth flows: this connection's client and HTTPS policy, no token.
    pub(crate) fn auth_http(&self) -> AuthHttp {
        AuthHttp {
            http: self.shared.http.clone(),
            plain_http: self.shared.plain_http,
            max_response_bytes: self.shared.max_response_bytes.min(1024 * 1024),
        }
    }

    pub(super) fn check_config(&self) -> Result<(), Error> {
        match &self.config_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The server's capability statement, fetched once and cached. Fails with
    /// [`ErrorKind::VersionMismatch`] when the server's `fhirVersion` is not `V`'s.
    pub async fn metadata(&self) -> Result<&Capabilities<V>, Error> {
        self.check_config()?;
        self.shared
            .metadata
            .get_or_try_init(|| async {
                let url = self.url("metadata")?;
                let resp = self.send(Method::GET, url, None, HeaderMap::new(), true).await?;
                let resp = self.check_status(resp)?;
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

    /// The first `rest` entry of the capability statement (`conn.metadata.rest[0]` in the seed).
    pub async fn service(&self) -> Result<Service<V>, Error> {
        self.service_at(0).await
    }

    /// The `rest` entry `index`.
    pub async fn service_at(&self, index: usize) -> Result<Service<V>, Error> {
        let caps = self.metadata().await?;
        if index >= caps.rest.len() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("the capability statement has {} rest entries, not {}", caps.rest.len(), index + 1),
            ));
        }
        Ok(Service { conn: self.clone(), index })
    }

    /// GETs `path` (relative to the base) and reads it as JSON (a SMART document, say).
    pub(crate) async fn get_json(&self, path: &str) -> Result<json::Value, Error> {
        let url = self.url(path)?;
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let resp = self.send(Method::GET, url, None, headers, true).await?;
        let resp = self.check_status(resp)?;
        self.parse_body(&resp)
    }

    /// An endpoint URL a server named: parsed, and HTTPS unless loopback is allowed.
    pub(crate) fn checked_endpoint(&self, s: &str) -> Result<Url, Error> {
        checked_url(s, self.shared.plain_http)
    }

    /// The URL of a path under the base from its segments (a type, an id, `_history`, `$op`).
    /// Callers check each id ([`segment`]); this checks that the built path is exactly the
    /// base's path followed by the segments, so that nothing an id holds (a dot segment, a `/`,
    /// a `?`) can send a request with this connection's token to another path.
    pub(crate) fn path(&self, segments: &[&str]) -> Result<Url, Error> {
        let rel = segments.join("/");
        let url = self.url(&rel)?;
        let expected = format!("{}{rel}", self.shared.base.path());
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
        self.shared
            .base
            .join(path)
            .map_err(|e| Error::new(ErrorKind::Config, format!("bad request path {path:?}")).with_source(e))
    }

    /// Sends a request, retrying a 429, and a 503 if it is idempotent, and reads the whole body (up to
    /// the configured maximum).
    pub(super) async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
        mut headers: HeaderMap,
        idempotent: bool,
    ) -> Result<Response, Error> {
        self.check_config()?;
        if !under_base(&self.shared.base, &url) {
            return Err(Error::new(ErrorKind::Protocol, "refusing to send a request outside the FHIR base")
                .with_request(method.as_str(), &url));
        }
        if !headers.contains_key(ACCEPT) {
            headers.insert(ACCEPT, HeaderValue::from_static(V::JSON_MIME));
        }
        if body.is_some() && !headers.contains_key(CONTENT_TYPE) {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static(V::JSON_MIME));
        }
        let policy = &self.shared.retry;
        let mut attempt = 0;
        let mut bearer = match &self.shared.authorizer {
            Some(authorizer) => Some(authorizer.bearer().await.map_err(|e| e.or_request(method.as_str(), &url))?),
            None => None,
        };
        let mut reauthorized = false;
        loop {
            let span = tracing::debug_span!("fhir.request", method = %method, url = %error::redact_url(&url), status = tracing::field::Empty);
            let started = Instant::now();
            let mut req = self.shared.http.request(method.clone(), url.clone()).headers(headers.clone());
            if let Some(token) = &bearer {
                // Only ever to URLs under the base: checked above, and redirects stay under it.
                let mut value = HeaderValue::try_from(format!("Bearer {}", token.secret())).map_err(|_| {
                    Error::auth_failure(AuthFailure::BadTokenResponse, "the access token is not a valid header value")
                })?;
                value.set_sensitive(true);
                req = req.header(reqwest::header::AUTHORIZATION, value);
            }
            if let Some(b) = &body {
                req = req.body(b.clone());
            }
            let result = {
                let _enter = span.enter();
                req.send().await
            };
            let resp = result.map_err(|e| transport_error(e, &method, &url))?;
            let status = resp.status().as_u16();
            span.record("status", status);
            if status == 401 && !reauthorized {
                if let (Some(authorizer), Some(refused)) = (&self.shared.authorizer, &bearer) {
                    // The token was refused (revoked, or expired early): ask for another once
                    // (the authorizer knows whether another request already renewed it).
                    tracing::debug!(parent: &span, "401: asking for another access token");
                    drop(resp);
                    let token = authorizer.rejected(refused).await.map_err(|e| e.or_request(method.as_str(), &url))?;
                    bearer = Some(token);
                    reauthorized = true;
                    continue;
                }
            }
            let unprocessed = status == 429 || (status == 503 && idempotent);
            let retryable = unprocessed && attempt < policy.max_retries;
            if retryable {
                let wait = retry_after(resp.headers())
                    .unwrap_or_else(|| policy.base_delay.saturating_mul(1 << attempt.min(16)))
                    .min(policy.max_delay);
                tracing::debug!(parent: &span, status, ?wait, attempt, "server busy; retrying");
                drop(resp);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            let headers = resp.headers().clone();
            // An error's body is only read for its OperationOutcome and an excerpt: the first
            // MiB is plenty, and a hostile server cannot make it cost more.
            let body = if status >= 400 {
                read_prefix(resp, MAX_ERROR_BODY.min(self.shared.max_response_bytes)).await
            } else {
                read_limited(resp, self.shared.max_response_bytes).await
            }
            .map_err(|e| e.with_request(method.as_str(), &url))?;
            tracing::debug!(parent: &span, status, elapsed_ms = started.elapsed().as_millis() as u64, bytes = body.len(), "fhir response");
            return Ok(Response { status, headers, body, url, method });
        }
    }

    pub(super) async fn operation(
        &self,
        url: Url,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        let (method, body) = match parameters {
            Some(p) => {
                let mut w = json::Writer::new();
                p.to_json_dyn(&mut w);
                (Method::POST, Some(w.into_bytes()))
            }
            None => (Method::GET, None),
        };
        let idempotent = method == Method::GET;
        let resp = self.send(method, url, body, HeaderMap::new(), idempotent).await?;
        let resp = self.check_status(resp)?;
        self.parse_body(&resp)
    }

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
        if self.shared.error_excerpts {
            return excerpt(body, content_type);
        }
        let ct = content_type.and_then(|c| c.to_str().ok()).map(|c| format!("{c}, ")).unwrap_or_default();
        format!("({ct}{} bytes, not shown: turn on ConnectionBuilder::error_excerpts to see its start)", body.len())
    }

    pub(super) fn parse_body<T: FromJson>(&self, resp: &Response) -> Result<T, Error> {
        self.read_body(resp).map(|read| read.value)
    }

    /// The body as `T`, read as the connection's [`json::Conformance`] says, with the
    /// deviations (none when strict), each logged.
    pub(super) fn read_body<T: FromJson>(&self, resp: &Response) -> Result<json::Lenient<T>, Error> {
        let ct = resp.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mime = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if !mime.is_empty()
            && !matches!(mime.as_str(), "application/fhir+json" | "application/json+fhir" | "application/json")
        {
            return Err(Error::new(
                ErrorKind::Parse,
                format!("expected FHIR JSON, got {mime}; body: {}", self.excerpt(&resp.body, None)),
            )
            .with_request(resp.method.as_str(), &resp.url));
        }
        let read = match self.shared.conformance {
            json::Conformance::Lenient => json::from_slice_lenient(&resp.body),
            _ => json::from_slice(&resp.body).map(|value| json::Lenient { value, deviations: Vec::new() }),
        };
        let read = read.map_err(|e| {
            Error::new(ErrorKind::Parse, "the response is not the FHIR JSON expected")
                .with_source(e)
                .with_request(resp.method.as_str(), &resp.url)
        })?;
        for d in &read.deviations {
            // The path and kind only: the value and the message may quote patient data.
            tracing::warn!(
                url = %error::redact_url(&resp.url),
                path = %d.path(),
                kind = ?d.kind(),
                "the server sent a member that does not fit the model; kept as it came"
            );
        }
        Ok(read)
    }
}
