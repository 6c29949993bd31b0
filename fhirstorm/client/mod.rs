//! The async REST client: [`Connection`] to a FHIR server, its [`Service`]s (the statement's
//! `rest` entries, as in the seed's `conn.metadata.rest[0]`), and typed access to each resource
//! type through [`Service::r`].
//!
//! ```no_run
//! # async fn run() -> Result<(), fhirstorm::client::Error> {
//! use fhirstorm::client::Connection;
//! use fhirstorm::r4::{MedicationRequest, Patient};
//! use fhirstorm::R4;
//!
//! let service = Connection::<R4>::new("https://fhir.example.org/r4").service().await?;
//! let patient: Patient = service.r::<Patient>().fetch("123").await?;
//! let orders = service.r::<MedicationRequest>().search([("patient", "123")]).await?;
//! for order in orders.matches() {
//!     println!("{:?}", order.id);
//! }
//! # Ok(()) }
//! ```

mod capabilities;
mod error;
mod transaction;
mod version;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, TryStreamExt};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

pub use capabilities::{ResourceCapabilities, RestCapabilities};
pub use error::{AuthFailure, Error, ErrorKind, Outcome, OutcomeIssue};
pub use transaction::{BundleKind, TransactionBuilder, TransactionEntry, TransactionResponse};
pub use version::{ClientVersion, Entry};

use crate::json::{self, FromJson};
use crate::search::IntoSearch;
use crate::{AnyResourceOf, Resource};

/// How often and how long to retry when the server says it is busy.
///
/// A `429 Too Many Requests` means the server refused the request without processing it
/// (RFC 6585), so any request is sent again, a create or a transaction too. A `503` does not
/// say whether anything was done, so only idempotent requests (reads, searches, updates,
/// deletes) are sent again after one; a create, a transaction, a batch, a patch or a POSTed
/// operation is not.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub max_retries: u32,
    /// Delay before the first retry when the server gives no `Retry-After`; doubled each time.
    pub base_delay: Duration,
    /// The longest single wait, whatever `Retry-After` says.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(250), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// Never retry.
    pub fn none() -> Self {
        RetryPolicy { max_retries: 0, ..Default::default() }
    }
}

/// Builds a [`Connection`] with non-default settings.
#[derive(Debug, Clone)]
pub struct ConnectionBuilder<V> {
    base: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    http: Option<HttpConfig>,
    retry: RetryPolicy,
    max_response_bytes: usize,
    allow_insecure_loopback: bool,
    allow_insecure_http: bool,
    trust_capabilities: bool,
    strict_search: bool,
    error_excerpts: bool,
    conformance: json::Conformance,
    session: Option<crate::auth::Session>,
    _version: PhantomData<fn() -> V>,
}

impl<V: ClientVersion> ConnectionBuilder<V> {
    /// Timeout of a whole request, body included (default 60 s).
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Timeout of connecting (default 10 s).
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = ua.into();
        self
    }

    /// Adds your own settings to the HTTP client fhirstorm builds (proxies, root certificates,
    /// TLS options, a different timeout...): `f` gets a `reqwest::ClientBuilder` with
    /// fhirstorm's timeouts and user agent, and returns it changed.
    ///
    /// Whatever `f` sets, fhirstorm then sets the redirect policy and turns `Referer` off: a
    /// redirect is followed only to a URL under the FHIR base (never to another origin, another
    /// path of the same host, or from `https` to `http`), at most five times. So a request
    /// body (a resource, a token request with a secret) is never re-sent elsewhere by a 307 or
    /// 308, and no URL with its query leaks in a `Referer`. This is why fhirstorm takes a
    /// builder to configure, not a finished `reqwest::Client`, whose policy it could not know.
    pub fn configure_http_client(
        mut self,
        f: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync + 'static,
    ) -> Self {
        self.http = Some(HttpConfig(Arc::new(f)));
        self
    }

    /// Retries for 429 (any request) and 503 (idempotent requests): see [`RetryPolicy`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Largest response body accepted (default 64 MiB); a larger one is an error, not a crash.
    pub fn max_response_bytes(mut self, n: usize) -> Self {
        self.max_response_bytes = n;
        self
    }

    /// Allow plain `http://` to a loopback host (127.0.0.0/8, `[::1]`, `localhost`), for local
    /// servers. Any other plain-HTTP URL is always refused.
    pub fn allow_insecure_loopback(mut self, allow: bool) -> Self {
        self.allow_insecure_loopback = allow;
        self
    }

    /// Allow plain `http://` to **any** host, for test networks only (containers talking to each
    /// other over a private network, say): tokens and patient data then cross the network
    /// unencrypted. Off by default; a connection built with it logs a warning.
    pub fn allow_insecure_http_for_testing(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Whether an interaction the capability statement does not advertise is refused before any
    /// request (default `true`). Turn off for servers whose statement is incomplete.
    pub fn trust_capabilities(mut self, trust: bool) -> Self {
        self.trust_capabilities = trust;
        self
    }

    /// What to do when a search's first page shows (in `Bundle.link[self]`) that the server
    /// ignored a parameter: `false` (default) reports it in [`SearchSet::ignored_params`] and as
    /// a `tracing` warning; `true` makes it an error.
    pub fn strict_search(mut self, strict: bool) -> Self {
        self.strict_search = strict;
        self
    }

    /// Whether an error from a body that is not FHIR JSON (an HTML error page, say) quotes the
    /// start of that body (160 characters). Off by default: a server's error page may echo
    /// the request, and with it patient data, into logs. Without it, the error gives the
    /// content type and the size.
    pub fn error_excerpts(mut self, on: bool) -> Self {
        self.error_excerpts = on;
        self
    }

    /// How strictly the server's resources are held to the model (default
    /// [`Conformance::Lenient`](json::Conformance::Lenient)).
    ///
    /// Lenient: a member that does not fit the model (real servers hold data loaded from
    /// generators, older exporters, hand-made payloads) is kept as it came, in its object's
    /// `unknown` members, so a read-modify-write loses nothing; each one is logged as a
    /// `tracing` warning (its JSON path and kind, not its value) and, for a search page, listed
    /// in [`SearchSet::deviations`]. One such entry no longer makes a whole page unreadable.
    /// Strict: it is an error ([`ErrorKind::Parse`], its source naming the JSON path).
    /// Bad JSON and a resource of another type than asked are errors either way.
    pub fn conformance(mut self, conformance: json::Conformance) -> Self {
        self.conformance = conformance;
        self
    }

    /// Send this session's bearer token with every request (to the base URL's origin only),
    /// renewing it as the session says.
    pub fn session(mut self, session: crate::auth::Session) -> Self {
        self.session = Some(session);
        self
    }

    /// The connection, or a configuration error.
    pub fn build(self) -> Result<Connection<V>, Error> {
        let mut base = Url::parse(&self.base).map_err(|e| {
            Error::new(ErrorKind::Config, format!("invalid FHIR base URL {:?}", self.base)).with_source(e)
        })?;
        let plain_http = match (self.allow_insecure_http, self.allow_insecure_loopback) {
            (true, _) => PlainHttp::Anywhere,
            (false, true) => PlainHttp::Loopback,
            (false, false) => PlainHttp::Never,
        };
        check_secure(&base, plain_http)?;
        if plain_http == PlainHttp::Anywhere {
            tracing::warn!(base = %error::redact_url(&base), "allow_insecure_http_for_testing: plain HTTP is allowed to any host; tokens and data may cross the network unencrypted");
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(self.user_agent);
        if let Some(HttpConfig(f)) = &self.http {
            builder = f(builder);
        }
        // Set last, so that no user setting can loosen it (see `configure_http_client`).
        let redirect_base = base.clone();
        let http = builder
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() < 5 && under_base(&redirect_base, attempt.url()) {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .referer(false)
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, "could not build the HTTP client").with_source(e))?;
        Ok(Connection {
            shared: Arc::new(Shared {
                base,
                http,
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                plain_http,
                trust_capabilities: self.trust_capabilities,
                strict_search: self.strict_search,
                error_excerpts: self.error_excerpts,
                conformance: self.conformance,
                session: self.session,
                timeout: self.timeout,
                metadata: tokio::sync::OnceCell::new(),
            }),
            config_error: None,
        })
    }
}

/// Where plain `http://` is allowed: nowhere (the default), to loopback hosts, or anywhere
/// (`allow_insecure_http_for_testing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainHttp {
    Never,
    Loopback,
    Anywhere,
}

impl From<bool> for PlainHttp {
    /// `allow_insecure_loopback`'s bool.
    fn from(loopback: bool) -> PlainHttp {
        if loopback {
            PlainHttp::Loopback
        } else {
            PlainHttp::Never
        }
    }
}

/// An endpoint URL a server named: parsed, and HTTPS unless plain HTTP is allowed for it.
pub(crate) fn checked_url(s: &str, plain_http: PlainHttp) -> Result<Url, Error> {
    // Not echoed: a URL that does not parse cannot be redacted, and may carry a secret.
    let url = Url::parse(s).map_err(|e| {
        Error::new(ErrorKind::Protocol, format!("invalid endpoint URL ({} characters, not shown)", s.chars().count()))
            .with_source(e)
    })?;
    check_secure(&url, plain_http).map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn check_secure(url: &Url, plain_http: PlainHttp) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if plain_http == PlainHttp::Anywhere => Ok(()),
        "http" if plain_http == PlainHttp::Loopback && is_loopback(url) => Ok(()),
        "http" if is_loopback(url) => Err(Error::new(
            ErrorKind::Config,
            format!("{} is plain HTTP: allow it with allow_insecure_loopback(true)", error::redact_url(url)),
        )),
        "http" => Err(Error::new(
            ErrorKind::Config,
            format!(
                "{} is not HTTPS (for a test network, allow plain HTTP with allow_insecure_http_for_testing(true))",
                error::redact_url(url)
            ),
        )),
        _ => Err(Error::new(ErrorKind::Config, format!("{} is not HTTPS", error::redact_url(url)))),
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether `url` is the FHIR base (whose path ends with `/`) or under it: same origin, and its
/// path starts with the base's. `Url` has resolved dot segments already, so `/fhir/../other`
/// is `/other` by then. The only URLs a connection sends requests, and its token, to.
pub(crate) fn under_base(base: &Url, url: &Url) -> bool {
    same_origin(base, url)
        && url.username().is_empty()
        && url.password().is_none()
        && url.path().starts_with(base.path())
}

/// The user's settings for the HTTP client (see [`ConnectionBuilder::configure_http_client`]).
#[derive(Clone)]
struct HttpConfig(Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>);

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpConfig(..)")
    }
}

struct Shared<V: ClientVersion> {
    base: Url,
    http: reqwest::Client,
    retry: RetryPolicy,
    max_response_bytes: usize,
    plain_http: PlainHttp,
    trust_capabilities: bool,
    strict_search: bool,
    error_excerpts: bool,
    conformance: json::Conformance,
    session: Option<crate::auth::Session>,
    timeout: Duration,
    metadata: tokio::sync::OnceCell<Capabilities<V>>,
}

/// A connection to one FHIR server of version `V`. Cheap to clone; clones share the HTTP
/// connection pool and the cached capability statement.
pub struct Connection<V: ClientVersion> {
    shared: Arc<Shared<V>>,
    /// A configuration error from [`Connection::new`], reported on first use.
    /// A build error of [`Connection::new`], kept whole (kind and source) for the first call.
    config_error: Option<Error>,
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
struct Response {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    url: Url,
    method: Method,
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
        ConnectionBuilder {
            base: base.into(),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("fhirstorm/", env!("CARGO_PKG_VERSION")).to_string(),
            http: None,
            retry: RetryPolicy::default(),
            max_response_bytes: 64 * 1024 * 1024,
            allow_insecure_loopback: false,
            allow_insecure_http: false,
            trust_capabilities: true,
            strict_search: false,
            error_excerpts: false,
            conformance: json::Conformance::Lenient,
            session: None,
            _version: PhantomData,
        }
    }

    /// The FHIR base URL (always ending in `/`).
    pub fn base_url(&self) -> &Url {
        &self.shared.base
    }

    /// The same connection (settings, HTTP client) sending `session`'s bearer token. The
    /// capability statement is fetched again, as the authorized user sees it.
    pub fn with_session(&self, session: crate::auth::Session) -> Connection<V> {
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
                session: Some(session),
                timeout: s.timeout,
                metadata: tokio::sync::OnceCell::new(),
            }),
            config_error: self.config_error.clone(),
        }
    }

    /// The session whose token this connection sends, if any.
    pub fn session(&self) -> Option<&crate::auth::Session> {
        self.shared.session.as_ref()
    }

    /// Renews the session's token now (the seed's `service.refresh_token()`).
    pub async fn refresh_token(&self) -> Result<Arc<crate::auth::TokenResponse>, Error> {
        match &self.shared.session {
            Some(s) => s.refresh().await,
            None => Err(Error::auth_failure(AuthFailure::CannotRefresh, "this connection has no session")),
        }
    }

    /// The HTTP side of the auth flows: this connection's client and HTTPS policy, no token.
    pub(crate) fn auth_http(&self) -> AuthHttp {
        AuthHttp {
            http: self.shared.http.clone(),
            plain_http: self.shared.plain_http,
            max_response_bytes: self.shared.max_response_bytes.min(1024 * 1024),
        }
    }

    fn check_config(&self) -> Result<(), Error> {
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

    fn url(&self, path: &str) -> Result<Url, Error> {
        self.shared
            .base
            .join(path)
            .map_err(|e| Error::new(ErrorKind::Config, format!("bad request path {path:?}")).with_source(e))
    }

    /// Sends a request, retrying a 429, and a 503 if it is idempotent, and reads the whole body (up to
    /// the configured maximum).
    async fn send(
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
        let mut bearer = match &self.shared.session {
            Some(session) => Some(session.bearer().await.map_err(|e| e.or_request(method.as_str(), &url))?),
            None => None,
        };
        let mut reauthorized = false;
        loop {
            let span = tracing::debug_span!("fhir.request", method = %method, url = %error::redact_url(&url), status = tracing::field::Empty);
            let started = Instant::now();
            let mut req = self.shared.http.request(method.clone(), url.clone()).headers(headers.clone());
            if let Some((token, _)) = &bearer {
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
                if let (Some(session), Some((_, seen))) = (&self.shared.session, &bearer) {
                    // The token was refused (revoked, or expired early): renew it once, unless
                    // another request already did, and send again.
                    tracing::debug!(parent: &span, "401: renewing the access token");
                    drop(resp);
                    let token = session.rejected(*seen).await.map_err(|e| e.or_request(method.as_str(), &url))?;
                    bearer = Some((token, u64::MAX));
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

    async fn operation(&self, url: Url, parameters: Option<&dyn json::ToJsonDyn>) -> Result<V::AnyResource, Error> {
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

    fn check_status(&self, resp: Response) -> Result<Response, Error> {
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
    fn excerpt(&self, body: &[u8], content_type: Option<&HeaderValue>) -> String {
        if self.shared.error_excerpts {
            return excerpt(body, content_type);
        }
        let ct = content_type.and_then(|c| c.to_str().ok()).map(|c| format!("{c}, ")).unwrap_or_default();
        format!("({ct}{} bytes, not shown: turn on ConnectionBuilder::error_excerpts to see its start)", body.len())
    }

    fn parse_body<T: FromJson>(&self, resp: &Response) -> Result<T, Error> {
        self.read_body(resp).map(|read| read.value)
    }

    /// The body as `T`, read as the connection's [`json::Conformance`] says, with the
    /// deviations (none when strict), each logged.
    fn read_body<T: FromJson>(&self, resp: &Response) -> Result<json::Lenient<T>, Error> {
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

pub(crate) use error::redact_url as redact;

/// HTTP for the authorization flows: token, registration, OpenID discovery, JWKS. No bearer
/// token is sent; bodies are never echoed in errors (they hold secrets).
#[derive(Clone)]
pub(crate) struct AuthHttp {
    http: reqwest::Client,
    plain_http: PlainHttp,
    max_response_bytes: usize,
}

impl AuthHttp {
    /// An endpoint URL a server named: parsed, and HTTPS unless loopback is allowed.
    pub(crate) fn checked(&self, s: &str) -> Result<Url, Error> {
        let url = Url::parse(s)
            .map_err(|e| Error::new(ErrorKind::Protocol, "an endpoint URL is not valid").with_source(e))?;
        check_secure(&url, self.plain_http).map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
        Ok(url)
    }

    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&'static str, String)],
        basic: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut req = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(ACCEPT, "application/json")
            .body(body);
        if let Some(b) = basic {
            let mut v = HeaderValue::try_from(b)
                .map_err(|_| Error::new(ErrorKind::Config, "the client credentials are not a valid header value"))?;
            v.set_sensitive(true);
            req = req.header(reqwest::header::AUTHORIZATION, v);
        }
        self.exchange(Method::POST, url, req).await
    }

    pub(crate) async fn post_json(&self, url: &Url, body: &serde_json::Value) -> Result<Vec<u8>, Error> {
        let req = self
            .http
            .post(url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(serde_json::to_vec(body).unwrap_or_default());
        self.exchange(Method::POST, url, req).await
    }

    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>, Error> {
        let req = self.http.get(url.clone()).header(ACCEPT, "application/json");
        self.exchange(Method::GET, url, req).await
    }

    pub(crate) async fn get_json(&self, url: &Url) -> Result<serde_json::Value, Error> {
        let body = self.get(url).await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::new(ErrorKind::Parse, format!("the response is not JSON (line {}, column {})", e.line(), e.column()))
                .with_request("GET", url)
        })
    }

    async fn exchange(&self, method: Method, url: &Url, req: reqwest::RequestBuilder) -> Result<Vec<u8>, Error> {
        check_secure(url, self.plain_http).map_err(|e| e.with_request(method.as_str(), url))?;
        let span = tracing::debug_span!("fhir.auth", method = %method, url = %error::redact_url(url), status = tracing::field::Empty);
        let resp = {
            let _enter = span.enter();
            req.send().await.map_err(|e| transport_error(e, &method, url))?
        };
        let status = resp.status().as_u16();
        span.record("status", status);
        let body =
            read_limited(resp, self.max_response_bytes).await.map_err(|e| e.with_request(method.as_str(), url))?;
        tracing::debug!(parent: &span, status, bytes = body.len(), "auth response");
        if status < 400 {
            return Ok(body);
        }
        #[derive(serde::Deserialize)]
        struct OAuthError {
            error: String,
            error_description: Option<String>,
        }
        let err = match serde_json::from_slice::<OAuthError>(&body) {
            Ok(o) => {
                let description = o.error_description.map(|d| d.chars().take(300).collect::<String>());
                let message = match &description {
                    Some(d) => format!("{}: {d}", o.error),
                    None => o.error.clone(),
                };
                Error::auth_failure(AuthFailure::Endpoint { error: o.error, description }, message)
            }
            // The body is not echoed: a broken server may have put a secret in it.
            Err(_) => {
                Error::new(ErrorKind::Status, format!("{} ({} bytes of body not shown)", reason(status), body.len()))
            }
        };
        Err(err.with_status(status, None).with_request(method.as_str(), url))
    }
}

fn transport_error(e: reqwest::Error, method: &Method, url: &Url) -> Error {
    let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
    let what = if e.is_timeout() { "timed out" } else { "request failed" };
    // reqwest's message may include the URL with its query: keep only our redacted one.
    Error::new(kind, what).with_source(e.without_url()).with_request(method.as_str(), url)
}

/// How much of an error response's body is read (for its `OperationOutcome` and an excerpt).
pub(crate) const MAX_ERROR_BODY: usize = 1 << 20;

/// The first `max` bytes of the body; the rest is not read (the connection is dropped).
async fn read_prefix(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while body.len() < max {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c[..c.len().min(max - body.len())]),
            Ok(None) => break,
            // What arrived of an error body is enough: the status is the error.
            Err(_) => break,
        }
    }
    Ok(body)
}

async fn read_limited(mut resp: reqwest::Response, max: usize) -> Result<Vec<u8>, Error> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(Error::new(ErrorKind::TooLarge, format!("response body larger than the maximum of {max} bytes")));
    }
    let mut body = Vec::new();
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
            Error::new(kind, "reading the response body failed").with_source(e.without_url())
        })?;
        match chunk {
            None => return Ok(body),
            Some(c) => {
                if body.len() + c.len() > max {
                    return Err(Error::new(
                        ErrorKind::TooLarge,
                        format!("response body larger than the maximum of {max} bytes"),
                    ));
                }
                body.extend_from_slice(&c);
            }
        }
    }
}

/// `Retry-After`: seconds, or an HTTP-date read against the clock. Anything else is ignored
/// (the policy's backoff applies); the caller caps the wait.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_value(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?, std::time::SystemTime::now())
}

/// `Retry-After`'s value at `now`: delay-seconds, or an HTTP-date in any of RFC 9110's three
/// forms (by the `httpdate` crate, whose four-digit years cannot overflow), a past date being
/// no wait at all.
pub(crate) fn retry_after_value(v: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("error status")
}

/// A short, printable excerpt of a non-FHIR body (an HTML error page, say).
fn excerpt(body: &[u8], content_type: Option<&HeaderValue>) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = flat.chars().take(160).collect();
    let ellipsis = if flat.chars().count() > 160 || body.len() > 400 { "…" } else { "" };
    match content_type.and_then(|c| c.to_str().ok()) {
        Some(ct) => format!("({ct}) {cut}{ellipsis}"),
        None => format!("{cut}{ellipsis}"),
    }
}

/// One `rest` entry of a server: what it advertises, and typed access to its resources.
pub struct Service<V: ClientVersion> {
    conn: Connection<V>,
    index: usize,
}

impl<V: ClientVersion> Clone for Service<V> {
    fn clone(&self) -> Self {
        Service { conn: self.conn.clone(), index: self.index }
    }
}

impl<V: ClientVersion> std::fmt::Debug for Service<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("connection", &self.conn).field("rest", &self.index).finish()
    }
}

impl<V: ClientVersion> Service<V> {
    /// The connection this service belongs to.
    pub fn connection(&self) -> &Connection<V> {
        &self.conn
    }

    /// What this `rest` entry advertises.
    pub fn capabilities(&self) -> &RestCapabilities {
        let caps = self.conn.shared.metadata.get().expect("a Service exists only after metadata was read");
        &caps.rest[self.index]
    }

    /// The resource types this service advertises (the seed's `dir(service.r)`).
    pub fn resources(&self) -> Vec<&str> {
        self.capabilities().resources.keys().map(String::as_str).collect()
    }

    /// Typed access to resource type `R` (the seed's `service.r.Patient`).
    pub fn r<R: Resource<Version = V>>(&self) -> Resources<V, R> {
        Resources { service: self.clone(), _r: PhantomData }
    }

    /// How many resources of type `resource_type` match `params`, by a `_summary=count` search
    /// (for types chosen at run time; typed searches go through [`r`](Self::r)).
    pub async fn count<K, S>(
        &self,
        resource_type: &str,
        params: impl IntoIterator<Item = (K, S)>,
    ) -> Result<Option<u64>, Error>
    where
        K: AsRef<str>,
        S: AsRef<str>,
    {
        self.check(resource_type, "search-type")?;
        let conn = &self.conn;
        if !resource_type.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::new(ErrorKind::Config, format!("{resource_type:?} is not a resource type")));
        }
        let mut url = conn.url(resource_type)?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k.as_ref(), v.as_ref());
            }
            q.append_pair("_summary", "count");
        }
        let resp = conn.send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = conn.check_status(resp)?;
        let bundle: V::Bundle = conn.parse_body(&resp)?;
        Ok(V::total(&bundle))
    }

    /// Resolves a reference, as found in `context` (the resource holding it, or the Bundle it
    /// came in): `#id` (a contained resource), a Bundle entry's `fullUrl`, `Type/id[/_history/v]`
    /// relative to this server, or an absolute URL on this server. A reference to another server
    /// is an error: it is not followed, so credentials never travel to another origin.
    pub async fn resolve(&self, reference: &str, context: Option<&V::AnyResource>) -> Result<V::AnyResource, Error> {
        if let Some(ctx) = context {
            if let Some(found) = find_in_context::<V>(reference, ctx, &self.conn.shared.base)? {
                return Ok(found);
            }
        }
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return Err(Error::new(ErrorKind::Protocol, format!("{reference} is not in the context given")));
        }
        let url = self.conn.shared.base.join(reference).map_err(|e| {
            Error::new(ErrorKind::Protocol, format!("{reference:?} is not a valid reference")).with_source(e)
        })?;
        if !under_base(&self.conn.shared.base, &url) || !url.as_str().starts_with(self.conn.shared.base.as_str()) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("{} is on another server; not followed", error::redact_url(&url)),
            ));
        }
        let rel = &url.as_str()[self.conn.shared.base.as_str().len()..];
        let parts: Vec<&str> = rel.split('/').collect();
        let valid = matches!(parts.len(), 2 | 4)
            && parts[0].bytes().all(|b| b.is_ascii_alphanumeric())
            && segment(parts[1]).is_ok()
            && (parts.len() == 2 || (parts[2] == "_history" && segment(parts[3]).is_ok()));
        if !valid || url.query().is_some() {
            return Err(Error::new(ErrorKind::Protocol, format!("{reference:?} is not a resource reference")));
        }
        self.check(parts[0], if parts.len() == 4 { "vread" } else { "read" })?;
        let resp = self.conn.send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn.check_status(resp)?;
        self.conn.parse_body(&resp)
    }

    /// [`resolve`](Self::resolve), as resource type `R`.
    pub async fn resolve_as<R: Resource<Version = V>>(
        &self,
        reference: &str,
        context: Option<&V::AnyResource>,
    ) -> Result<R, Error> {
        let any = self.resolve(reference, context).await?;
        let found = any.resource_type();
        R::from_any(any)
            .map_err(|_| Error::new(ErrorKind::Parse, format!("{reference} is a {found}, not a {}", R::TYPE)))
    }

    /// A `transaction` Bundle to build and send: all entries succeed or none does.
    pub fn transaction(&self) -> TransactionBuilder<V> {
        TransactionBuilder::new(self.clone(), BundleKind::Transaction)
    }

    /// A `batch` Bundle to build and send: each entry succeeds or fails on its own.
    pub fn batch(&self) -> TransactionBuilder<V> {
        TransactionBuilder::new(self.clone(), BundleKind::Batch)
    }

    /// The history of every resource on the server, newest first, as a Bundle.
    pub async fn history(&self) -> Result<V::Bundle, Error> {
        self.check_system("history-system")?;
        let conn = &self.conn;
        let resp = conn.send(Method::GET, conn.path(&["_history"])?, None, HeaderMap::new(), true).await?;
        let resp = conn.check_status(resp)?;
        conn.parse_body(&resp)
    }

    /// Invokes a system-level operation (`name` without `$`), with an optional `Parameters`
    /// body (POST) or none (GET), and returns what the server answers.
    pub async fn operation(
        &self,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        let conn = &self.conn;
        let url = conn.path(&[&format!("${}", operation_name(name)?)])?;
        conn.operation(url, parameters).await
    }

    pub(crate) fn check_system(&self, interaction: &str) -> Result<(), Error> {
        if !self.conn.shared.trust_capabilities || self.capabilities().interactions.contains(interaction) {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Unsupported, format!("the server does not advertise the {interaction} interaction")))
    }

    fn check(&self, ty: &str, interaction: &str) -> Result<(), Error> {
        if !self.conn.shared.trust_capabilities {
            return Ok(());
        }
        match self.capabilities().resources.get(ty) {
            None => Err(Error::new(ErrorKind::Unsupported, format!("the server does not advertise {ty}"))),
            Some(c) if !c.interactions.contains(interaction) => Err(Error::new(
                ErrorKind::Unsupported,
                format!("the server does not advertise the {interaction} interaction for {ty}"),
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Typed access to one resource type on a service: `service.r::<Patient>()`.
pub struct Resources<V: ClientVersion, R> {
    service: Service<V>,
    _r: PhantomData<fn() -> R>,
}

impl<V: ClientVersion, R: Resource<Version = V>> Resources<V, R> {
    fn conn(&self) -> &Connection<V> {
        &self.service.conn
    }

    fn typed<T: Resource<Version = V>>(&self, resp: &Response) -> Result<T, Error> {
        self.typed_read(resp).map(|read| read.value)
    }

    /// [`typed`](Self::typed), with the deviations of a lenient read.
    fn typed_read<T: Resource<Version = V>>(&self, resp: &Response) -> Result<json::Lenient<T>, Error> {
        // Read as any resource first, so that a resource of another type is a clear error.
        let read: json::Lenient<V::AnyResource> = self.conn().read_body(resp)?;
        let found = read.value.resource_type();
        let value = T::from_any(read.value).map_err(|_| {
            Error::new(ErrorKind::Parse, format!("expected a {}, the server sent a {found}", T::TYPE))
                .with_request(resp.method.as_str(), &resp.url)
        })?;
        Ok(json::Lenient { value, deviations: read.deviations })
    }

    /// Reads the current version of resource `id` (the seed's `fetch`).
    pub async fn fetch(&self, id: &str) -> Result<R, Error> {
        self.service.check(R::TYPE, "read")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        self.typed(&resp)
    }

    /// Reads version `version` of resource `id`.
    pub async fn vread(&self, id: &str, version: &str) -> Result<R, Error> {
        self.service.check(R::TYPE, "vread")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?, "_history", segment(version)?])?;
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        self.typed(&resp)
    }

    /// Creates `resource` (its id is ignored by the server) and returns what the server stored.
    pub async fn create(&self, resource: &R) -> Result<R, Error> {
        self.create_with(resource, None).await
    }

    /// Creates `resource` unless one matching `query` (`identifier=x|y`) exists (`If-None-Exist`).
    pub async fn create_if_none_exist(&self, resource: &R, query: &str) -> Result<R, Error> {
        self.create_with(resource, Some(query)).await
    }

    async fn create_with(&self, resource: &R, if_none_exist: Option<&str>) -> Result<R, Error> {
        self.service.check(R::TYPE, "create")?;
        let url = self.conn().url(R::TYPE)?;
        let mut headers = HeaderMap::new();
        headers.insert("prefer", HeaderValue::from_static("return=representation"));
        if let Some(q) = if_none_exist {
            headers.insert("if-none-exist", header_value(q)?);
        }
        let resp = self.conn().send(Method::POST, url, Some(json::to_vec(resource)), headers, false).await?;
        let resp = self.conn().check_status(resp)?;
        self.representation(resp).await
    }

    /// Replaces resource `resource.id`, sending `If-Match` from its `meta.versionId` so that a
    /// change made meanwhile by someone else fails (HTTP 412, [`Error::is_precondition_failed`])
    /// instead of being overwritten.
    pub async fn update(&self, resource: &R) -> Result<R, Error> {
        self.service.check(R::TYPE, "update")?;
        let id = resource.id().ok_or_else(|| Error::new(ErrorKind::Config, "update needs a resource with an id"))?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let mut headers = HeaderMap::new();
        headers.insert("prefer", HeaderValue::from_static("return=representation"));
        if let Some(v) = resource.meta().and_then(V::version_id) {
            headers.insert("if-match", header_value(&format!("W/\"{v}\""))?);
        }
        let resp = self.conn().send(Method::PUT, url, Some(json::to_vec(resource)), headers, true).await?;
        let resp = self.conn().check_status(resp)?;
        self.representation(resp).await
    }

    /// Deletes resource `id`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        self.service.check(R::TYPE, "delete")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let resp = self.conn().send(Method::DELETE, url, None, HeaderMap::new(), true).await?;
        self.conn().check_status(resp).map(drop)
    }

    /// The resource the server returned, or (when it returned none) the one its `Location` names.
    async fn representation(&self, resp: Response) -> Result<R, Error> {
        if !resp.body.is_empty() {
            return self.typed(&resp);
        }
        let location = resp.headers.get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).ok_or_else(|| {
            Error::new(ErrorKind::Protocol, "the server returned neither the resource nor a Location")
        })?;
        let url = resp
            .url
            .join(location)
            .map_err(|e| Error::new(ErrorKind::Protocol, "bad Location header").with_source(e))?;
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        self.typed(&resp)
    }

    /// Searches and returns the first page. `query` is `R`'s typed builder
    /// (`MedicationRequest::search().patient(..)`), or raw `(name, value)` pairs (the seed's
    /// `search(dict(patient=id))`).
    pub async fn search(&self, query: impl IntoSearch<R>) -> Result<SearchSet<V, R>, Error> {
        self.service.check(R::TYPE, "search-type")?;
        let mut url = self.conn().url(R::TYPE)?;
        let pairs = query.into_pairs();
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in &pairs {
                q.append_pair(k, v);
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        if url.as_str().len() > MAX_GET_URL {
            // Too long for a URL many servers and proxies accept: POST the form to `_search`.
            let form = url.query().unwrap_or("").as_bytes().to_vec();
            let url = self.conn().path(&[R::TYPE, "_search"])?;
            let mut headers = HeaderMap::new();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
            let resp = self.conn().send(Method::POST, url, Some(form), headers, true).await?;
            let resp = self.conn().check_status(resp)?;
            let bundle = self.typed_read(&resp)?;
            let page = SearchSet::from_bundle(bundle, &self.conn().shared.base)?;
            return self.check_ignored(page, &pairs);
        }
        let page = self.page(url).await?;
        self.check_ignored(page, &pairs)
    }

    /// Compares what was sent with the server's `self` link and records (or, when strict,
    /// refuses) parameters the server did not apply.
    fn check_ignored(&self, mut page: SearchSet<V, R>, sent: &[(String, String)]) -> Result<SearchSet<V, R>, Error> {
        let Some(link) = page.self_link.as_deref() else { return Ok(page) };
        let Ok(url) = self.conn().shared.base.join(link) else { return Ok(page) };
        let applied: Vec<String> =
            url.query_pairs().map(|(k, _)| k.split(':').next().unwrap_or("").to_string()).collect();
        // Result-shaping parameters that servers commonly leave out of the self link.
        const SHAPING: &[&str] =
            &["_count", "_format", "_pretty", "_summary", "_elements", "_total", "_sort", "_include", "_revinclude"];
        let mut ignored: Vec<String> = sent
            .iter()
            .map(|(k, _)| k.split(':').next().unwrap_or("").split('.').next().unwrap_or("").to_string())
            .filter(|name| !SHAPING.contains(&name.as_str()) && !applied.contains(name))
            .collect();
        let mut seen = std::collections::HashSet::new();
        ignored.retain(|name| seen.insert(name.clone()));
        if !ignored.is_empty() {
            if self.conn().shared.strict_search {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!("the server ignored the search parameter(s) {}", ignored.join(", ")),
                ));
            }
            tracing::warn!(resource = R::TYPE, ignored = %ignored.join(","), "the server ignored search parameters");
        }
        page.ignored = ignored;
        Ok(page)
    }

    /// Applies a JSON Patch (RFC 6902) to resource `id` (STU3 and later) and returns the result.
    pub async fn patch(&self, id: &str, operations: &json::Value) -> Result<R, Error> {
        if !V::JSON_PATCH {
            return Err(Error::new(ErrorKind::Unsupported, format!("FHIR {} has no patch interaction", V::NAME)));
        }
        self.service.check(R::TYPE, "patch")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json-patch+json"));
        headers.insert("prefer", HeaderValue::from_static("return=representation"));
        let resp = self.conn().send(Method::PATCH, url, Some(json::to_vec(operations)), headers, false).await?;
        let resp = self.conn().check_status(resp)?;
        self.representation(resp).await
    }

    async fn page(&self, url: Url) -> Result<SearchSet<V, R>, Error> {
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        let bundle = self.typed_read(&resp)?;
        SearchSet::from_bundle(bundle, &self.conn().shared.base)
    }

    /// The next page of a search, if there is one.
    pub async fn next_page(&self, page: &SearchSet<V, R>) -> Result<Option<SearchSet<V, R>>, Error> {
        match &page.next {
            None => Ok(None),
            Some(next) => self.page(next.clone()).await.map(Some),
        }
    }

    /// All pages of a search, fetched one at a time as the stream is read (at most one page is
    /// held), following the server's `next` links.
    pub fn search_pages(&self, query: impl IntoSearch<R>) -> impl Stream<Item = Result<SearchSet<V, R>, Error>> + '_ {
        let params: Vec<(String, String)> = query.into_pairs();
        enum State<P> {
            Start(Vec<(String, String)>),
            Next(P),
            Done,
        }
        stream::try_unfold(State::<Url>::Start(params), move |state| async move {
            let page = match state {
                State::Done => return Ok(None),
                State::Start(params) => self.search(params).await?,
                State::Next(url) => self.page(url).await?,
            };
            let next = match &page.next {
                Some(u) => State::Next(u.clone()),
                None => State::Done,
            };
            Ok(Some((page, next)))
        })
    }

    /// Every matching resource of a search, across pages, as a stream.
    pub fn search_all(&self, query: impl IntoSearch<R>) -> impl Stream<Item = Result<R, Error>> + '_ {
        self.search_pages(query).map_ok(|page| stream::iter(page.into_matches().into_iter().map(Ok))).try_flatten()
    }

    /// Creates or replaces the one resource matching `query` (`identifier=sys|val`): a
    /// conditional update.
    pub async fn update_where(&self, query: &str, resource: &R) -> Result<R, Error> {
        self.service.check(R::TYPE, "update")?;
        let url = self.conn().url(&format!("{}?{query}", R::TYPE))?;
        let mut headers = HeaderMap::new();
        headers.insert("prefer", HeaderValue::from_static("return=representation"));
        let resp = self.conn().send(Method::PUT, url, Some(json::to_vec(resource)), headers, true).await?;
        let resp = self.conn().check_status(resp)?;
        self.representation(resp).await
    }

    /// Deletes the resources matching `query`: a conditional delete.
    pub async fn delete_where(&self, query: &str) -> Result<(), Error> {
        self.service.check(R::TYPE, "delete")?;
        let url = self.conn().url(&format!("{}?{query}", R::TYPE))?;
        let resp = self.conn().send(Method::DELETE, url, None, HeaderMap::new(), true).await?;
        self.conn().check_status(resp).map(drop)
    }

    /// The history of every resource of this type, newest first, as a Bundle.
    pub async fn history_type(&self) -> Result<V::Bundle, Error> {
        self.service.check(R::TYPE, "history-type")?;
        let url = self.conn().path(&[R::TYPE, "_history"])?;
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        self.typed(&resp)
    }

    /// Invokes an operation on the type (`id` None) or on one instance, with an optional
    /// `Parameters` body (POST) or none (GET). `name` is given without `$`.
    pub async fn operation(
        &self,
        id: Option<&str>,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        let op = format!("${}", operation_name(name)?);
        let url = match id {
            Some(id) => self.conn().path(&[R::TYPE, segment(id)?, &op])?,
            None => self.conn().path(&[R::TYPE, &op])?,
        };
        self.conn().operation(url, parameters).await
    }

    /// `$everything` on resource `id` (Patient, Encounter): the first Bundle the server returns
    /// of everything it holds about it.
    pub async fn everything(&self, id: &str) -> Result<V::Bundle, Error> {
        let url = self.conn().path(&[R::TYPE, segment(id)?, "$everything"])?;
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        self.typed(&resp)
    }

    /// The history of resource `id`, newest first, as a Bundle.
    pub async fn history(&self, id: &str) -> Result<V::Bundle, Error> {
        self.service.check(R::TYPE, "history-instance")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?, "_history"])?;
        let resp = self.conn().send(Method::GET, url, None, HeaderMap::new(), true).await?;
        let resp = self.conn().check_status(resp)?;
        self.typed(&resp)
    }
}

/// Longest search URL sent as a GET; longer searches are POSTed to `_search`.
const MAX_GET_URL: usize = 2000;

fn operation_name(name: &str) -> Result<&str, Error> {
    let name = name.trim_start_matches('$');
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(name)
    } else {
        Err(Error::new(ErrorKind::Config, format!("{name:?} is not an operation name")))
    }
}

/// An id (or version id) as one path segment: FHIR ids are `[A-Za-z0-9\-\.]{1,64}`; anything
/// else would change the request path, and so would an id of dots only (`.`, `..` are dot
/// segments: `Patient/..` is the base itself), which the id pattern allows but no server uses.
pub(crate) fn segment(id: &str) -> Result<&str, Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !id.bytes().all(|b| b == b'.');
    if ok {
        Ok(id)
    } else {
        Err(Error::new(ErrorKind::Config, format!("{id:?} is not a valid FHIR id")))
    }
}

fn header_value(v: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(v).map_err(|e| Error::new(ErrorKind::Config, "invalid header value").with_source(e))
}

/// Looks a reference up inside a resource (contained, `#id`) or a Bundle (entry `fullUrl`).
fn find_in_context<V: ClientVersion>(
    reference: &str,
    ctx: &V::AnyResource,
    base: &Url,
) -> Result<Option<V::AnyResource>, Error> {
    let value = json::to_value(ctx);
    let pick = |v: &json::Value| -> Result<V::AnyResource, Error> {
        json::from_value(v).map_err(|e| Error::new(ErrorKind::Parse, "a resource in the context").with_source(e))
    };
    if let Some(id) = reference.strip_prefix('#') {
        let contained = value.get("contained").and_then(json::Value::as_array).unwrap_or(&[]);
        return match contained.iter().find(|r| r.get("id").and_then(json::Value::as_str) == Some(id)) {
            Some(r) => pick(r).map(Some),
            None => Ok(None),
        };
    }
    // In a Bundle: the entry whose fullUrl is the reference (absolute, or relative to the base).
    let absolute = base.join(reference).map(|u| u.to_string()).unwrap_or_default();
    for entry in value.get("entry").and_then(json::Value::as_array).unwrap_or(&[]) {
        let full = entry.get("fullUrl").and_then(json::Value::as_str).unwrap_or("");
        if !full.is_empty() && (full == reference || full == absolute) {
            if let Some(r) = entry.get("resource") {
                return pick(r).map(Some);
            }
        }
    }
    Ok(None)
}

/// One page of search results: the matches as `R`, included resources, the total and the link
/// to the next page.
pub struct SearchSet<V: ClientVersion, R> {
    matches: Vec<R>,
    included: Vec<V::AnyResource>,
    /// `Bundle.total`, when the server gives it.
    pub total: Option<u64>,
    next: Option<Url>,
    self_link: Option<String>,
    ignored: Vec<String>,
    deviations: Vec<json::Error>,
}

impl<V: ClientVersion, R: Resource<Version = V>> SearchSet<V, R> {
    /// Reads a search result page (a `searchset` Bundle) from JSON bytes, as the client does
    /// with a server's answer: matches of type `R`, everything else as included, and the `next`
    /// link resolved against `base` (refused when it points to another origin).
    ///
    /// Strict: an entry that does not fit the model fails the page. See
    /// [`from_json_lenient`](Self::from_json_lenient) for the client's default.
    pub fn from_json(body: &[u8], base: &Url) -> Result<SearchSet<V, R>, Error> {
        let bundle: V::Bundle = json::from_slice(body).map_err(|e| {
            Error::new(ErrorKind::Parse, "the search result is not the FHIR JSON expected").with_source(e)
        })?;
        Self::from_bundle(json::Lenient { value: bundle, deviations: Vec::new() }, base)
    }

    /// [`from_json`](Self::from_json) in lenient mode, as the client reads pages by default:
    /// what does not fit the model is kept as it came and listed in
    /// [`deviations`](Self::deviations); an entry whose resource type this version does not
    /// know (or whose resource is not an object) is in neither the matches nor the included
    /// resources, and is a deviation too.
    pub fn from_json_lenient(body: &[u8], base: &Url) -> Result<SearchSet<V, R>, Error> {
        let bundle = json::from_slice_lenient(body).map_err(|e| {
            Error::new(ErrorKind::Parse, "the search result is not the FHIR JSON expected").with_source(e)
        })?;
        Self::from_bundle(bundle, base)
    }

    fn from_bundle(read: json::Lenient<V::Bundle>, base: &Url) -> Result<SearchSet<V, R>, Error> {
        let json::Lenient { value: bundle, deviations } = read;
        let total = V::total(&bundle);
        let self_link = V::link(&bundle, "self").map(String::from);
        let next = match V::next_link(&bundle) {
            None => None,
            Some(link) => {
                let url = base.join(link).map_err(|e| {
                    Error::new(ErrorKind::Protocol, "invalid next link in the search Bundle").with_source(e)
                })?;
                // The policy: a next link outside the base (another origin, or another path of
                // the same host: another tenant) is refused, never followed.
                if !under_base(base, &url) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!(
                            "the next link points outside the FHIR base ({}); not followed",
                            error::redact_url(&url)
                        ),
                    ));
                }
                Some(url)
            }
        };
        let mut matches = Vec::new();
        let mut included = Vec::new();
        for entry in V::entries(bundle) {
            let Some(resource) = entry.resource else { continue };
            let is_match =
                entry.search_mode.as_deref().is_none_or(|m| m == "match") && resource.resource_type() == R::TYPE;
            if is_match {
                match R::from_any(resource) {
                    Ok(r) => matches.push(r),
                    Err(other) => included.push(other),
                }
            } else {
                included.push(resource);
            }
        }
        Ok(SearchSet { matches, included, total, next, self_link, ignored: Vec::new(), deviations })
    }

    /// The matching resources.
    pub fn matches(&self) -> &[R] {
        &self.matches
    }

    /// The matching resources, taken.
    pub fn into_matches(self) -> Vec<R> {
        self.matches
    }

    /// Resources the server included (`_include`, `_revinclude`, `OperationOutcome`s).
    pub fn included(&self) -> &[V::AnyResource] {
        &self.included
    }

    /// The included resources of type `T`.
    pub fn included_of<T: Resource<Version = V>>(&self) -> Vec<T> {
        self.included
            .iter()
            .filter(|r| r.resource_type() == T::TYPE)
            .filter_map(|r| T::from_any(r.clone()).ok())
            .collect()
    }

    /// Whether the server has another page.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Search parameters the server did not apply, judged by its `self` link (first page only).
    /// Empty when it applied all of them, or gave no `self` link.
    pub fn ignored_params(&self) -> &[String] {
        &self.ignored
    }

    /// What did not fit the model in this page, read leniently (the connection's default): each
    /// as the error a strict read returns, its path from the Bundle (`$.entry[3].resource.birthDate`).
    /// The member at fault is kept as it came, in its object's `unknown` members.
    pub fn deviations(&self) -> &[json::Error] {
        &self.deviations
    }

    /// The Bundle's `self` link: the search as the server understood it.
    pub fn self_link(&self) -> Option<&str> {
        self.self_link.as_deref()
    }
}

impl<V: ClientVersion, R: std::fmt::Debug> std::fmt::Debug for SearchSet<V, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchSet")
            .field("matches", &self.matches.len())
            .field("included", &self.included.len())
            .field("total", &self.total)
            .field("has_next", &self.next.is_some())
            .field("deviations", &self.deviations.len())
            .finish()
    }
}

#[cfg(test)]
mod retry_tests {
    #[test]
    fn retry_after_values() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let at = |v| super::retry_after_value(v, now);
        assert_eq!(at("120"), Some(Duration::from_secs(120)));
        assert_eq!(at("Sun, 06 Nov 1994 08:51:37 GMT"), Some(Duration::from_secs(120)));
        assert_eq!(at("Sunday, 06-Nov-94 08:51:37 GMT"), Some(Duration::from_secs(120)), "RFC 850");
        assert_eq!(at("Sun Nov  6 08:51:37 1994"), Some(Duration::from_secs(120)), "asctime");
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO), "in the past");
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(at(""), None);
        assert_eq!(at("-1"), None);
        // Years that overflowed the old hand-written date arithmetic.
        assert_eq!(at("Sun, 06 Nov 18446744073709551615 08:49:37 GMT"), None);
        assert_eq!(at("Sun, 06 Nov 99999999999999999999 08:49:37 GMT"), None);
        assert!(at("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
        assert!(super::retry_after_value("Fri, 31 Dec 9999 23:59:59 GMT", SystemTime::now()).is_some());
    }
}
