//! Connection settings: [`ConnectionBuilder`].

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::authorizer::Authorizer;
use super::connection::{Connection, Shared, Unbuilt};
use super::ClientVersion;
use crate::error::{redact_url, Error, ErrorKind};
use crate::json;
use crate::transport::{self, check_secure, PlainHttp, RetryPolicy, Transport};

/// Builds a [`Connection`] with non-default settings.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .build()"]
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
    authorizer: Option<Arc<dyn Authorizer>>,
    #[cfg(test)]
    canned: Option<crate::transport::canned::Canned>,
    _version: PhantomData<fn() -> V>,
}

impl<V: ClientVersion> ConnectionBuilder<V> {
    /// The defaults (see [`Connection::builder`]).
    pub(super) fn new(base: String) -> Self {
        ConnectionBuilder {
            base,
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
            authorizer: None,
            #[cfg(test)]
            canned: None,
            _version: PhantomData,
        }
    }

    /// Answers from `canned` instead of the network (this crate's unit tests).
    #[cfg(test)]
    pub(crate) fn canned(mut self, canned: &crate::transport::canned::Canned) -> Self {
        self.canned = Some(canned.clone());
        self
    }

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
    /// ignored a parameter: `false` (default) reports it in [`SearchSet::ignored_params`](super::SearchSet::ignored_params) and as
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
    /// in [`SearchSet::deviations`](super::SearchSet::deviations). One such entry no longer makes a whole page unreadable.
    /// Strict: it is an error ([`ErrorKind::Parse`], its source naming the JSON path).
    /// Bad JSON and a resource of another type than asked are errors either way.
    pub fn conformance(mut self, conformance: json::Conformance) -> Self {
        self.conformance = conformance;
        self
    }

    /// Send the bearer tokens `authorizer` gives with every request (to URLs under the base
    /// only), asking it again once when the server answers `401`. A SMART session is one:
    /// [`ConnectionBuilder::session`].
    pub fn authorizer(mut self, authorizer: Arc<dyn Authorizer>) -> Self {
        self.authorizer = Some(authorizer);
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
            tracing::warn!(base = %redact_url(&base), "allow_insecure_http_for_testing: plain HTTP is allowed to any host; tokens and data may cross the network unencrypted");
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let transport = Transport::new(transport::Settings {
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
            user_agent: self.user_agent,
            http: self.http.map(|HttpConfig(f)| f),
            retry: self.retry,
            max_response_bytes: self.max_response_bytes,
            plain_http,
            redirects_under: base.clone(),
            #[cfg(test)]
            canned: self.canned,
        })?;
        Ok(Connection {
            inner: Ok(Arc::new(Shared {
                base,
                transport,
                trust_capabilities: self.trust_capabilities,
                strict_search: self.strict_search,
                error_excerpts: self.error_excerpts,
                conformance: self.conformance,
                authorizer: self.authorizer,
                metadata: tokio::sync::OnceCell::new(),
            })),
        })
    }
}

/// The user's settings for the HTTP client (see [`ConnectionBuilder::configure_http_client`]).
#[derive(Clone)]
pub(super) struct HttpConfig(transport::HttpConfig);

impl std::fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpConfig(..)")
    }
}

/// How a connection is made: with default settings, or through the builder.
impl<V: ClientVersion> Connection<V> {
    /// A connection with default settings (HTTPS only). Errors in `base` are reported by the
    /// first call; use [`Connection::builder`] to see them at once or to change settings.
    pub fn new(base: impl Into<String>) -> Connection<V> {
        let base = base.into();
        match Connection::builder(base.clone()).build() {
            Ok(c) => c,
            Err(error) => {
                let base = Url::parse(&base).unwrap_or_else(|_| Url::parse("about:invalid").expect("a constant URL"));
                Connection { inner: Err(Unbuilt { error, base }) }
            }
        }
    }

    /// A builder for a connection to `base` (the FHIR base URL, e.g. `https://host/fhir`).
    pub fn builder(base: impl Into<String>) -> ConnectionBuilder<V> {
        ConnectionBuilder::new(base.into())
    }
}
