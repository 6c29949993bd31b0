//! The one place that sends HTTP: the `reqwest` client fhirstorm builds (timeouts, redirects
//! that stay under the FHIR base, no `Referer`), HTTPS unless plain HTTP is allowed, retries
//! of `429` and `503` with `Retry-After`, bounded bodies, and logs and errors that show URLs
//! redacted. It knows nothing of FHIR resources or of SMART: the client and the authorization
//! flows hand it a [`Request`] and get a [`Response`] back, read whole (or an [`Opened`] one,
//! read piece by piece).

mod body;
#[cfg(test)]
pub(crate) mod canned;
mod policy;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;
use reqwest::Method;
use url::Url;

use crate::error::{redact_url, Error};
use body::{read_limited, read_prefix, retry_after, transport_error, MAX_ERROR_BODY};

#[cfg(feature = "fuzzing")]
pub(crate) use body::retry_after_value;
pub(crate) use body::{excerpt, printable, reason, retry_after as retry_after_header};
pub(crate) use policy::{check_secure, checked_url, under_base, PlainHttp};

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

/// The user's settings for the `reqwest` client (see `ConnectionBuilder::configure_http_client`).
pub(crate) type HttpConfig = Arc<dyn Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder + Send + Sync>;

/// What a [`Transport`] is built from.
pub(crate) struct Settings {
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) user_agent: String,
    pub(crate) http: Option<HttpConfig>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: usize,
    pub(crate) plain_http: PlainHttp,
    /// Redirects are followed only to URLs under this one (the FHIR base).
    pub(crate) redirects_under: Url,
    /// Canned answers instead of the network (this crate's unit tests).
    #[cfg(test)]
    pub(crate) canned: Option<canned::Canned>,
}

/// What a request is for: which log span it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A FHIR interaction (span `fhir.request`).
    Fhir,
    /// An authorization flow: token, registration, discovery, keys (span `fhir.auth`).
    Auth,
}

/// A request to send: everything but the connection it goes over.
pub(crate) struct Request {
    pub(crate) method: Method,
    pub(crate) url: Url,
    /// Sensitive values (an `Authorization`) are marked so by whoever adds them.
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<Vec<u8>>,
    /// Whether it may be sent again after a `503` (a `429` is always retried).
    pub(crate) idempotent: bool,
    pub(crate) purpose: Purpose,
}

/// A response as read: status, headers, the whole body (for an error status, its first MiB).
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) url: Url,
    pub(crate) method: Method,
}

/// The HTTP client and its policy. Cheap to clone (the connection pool is shared).
#[derive(Clone)]
pub(crate) struct Transport {
    http: Backend,
    retry: RetryPolicy,
    max_response_bytes: usize,
    plain_http: PlainHttp,
}

impl Transport {
    pub(crate) fn new(settings: Settings) -> Result<Transport, Error> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .user_agent(settings.user_agent);
        if let Some(f) = &settings.http {
            builder = f(builder);
        }
        // Set last, so that no user setting can loosen it (see `configure_http_client`).
        let under = settings.redirects_under;
        let http = builder
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() < 5 && under_base(&under, attempt.url()) {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .referer(false)
            .build()
            .map_err(|e| {
                Error::new(crate::error::ErrorKind::Config, "could not build the HTTP client").with_source(e)
            })?;
        #[cfg(test)]
        let http = match settings.canned {
            Some(canned) => Backend::Canned(canned),
            None => Backend::Http(http),
        };
        #[cfg(not(test))]
        let http = Backend::Http(http);
        Ok(Transport {
            http,
            retry: settings.retry,
            max_response_bytes: settings.max_response_bytes,
            plain_http: settings.plain_http,
        })
    }

    /// Where plain HTTP is allowed.
    pub(crate) fn plain_http(&self) -> PlainHttp {
        self.plain_http
    }

    /// The most a body read whole may have.
    pub(crate) fn max_response_bytes(&self) -> usize {
        self.max_response_bytes
    }

    /// The same transport, accepting bodies of at most `max` bytes.
    pub(crate) fn with_max_response_bytes(&self, max: usize) -> Transport {
        Transport { max_response_bytes: max, ..self.clone() }
    }

    /// Sends `req` (HTTPS unless plain HTTP is allowed for its URL), retrying a `429`, and a
    /// `503` if it is idempotent, as the [`RetryPolicy`] says; reads the whole body, up to the
    /// maximum, or for an error status its first MiB (enough for an `OperationOutcome` or an
    /// OAuth error, and a hostile server cannot make it cost more).
    pub(crate) async fn send(&self, req: &Request) -> Result<Response, Error> {
        let opened = self.open(req).await?;
        let max = self.max_response_bytes;
        opened.read(max).await
    }

    /// Sends `req` as [`send`](Self::send) does, and returns the response with its body still
    /// to be read ([`Opened::chunk`]): for a body too large to hold (a bulk data file).
    pub(crate) async fn open(&self, req: &Request) -> Result<Opened, Error> {
        let (method, url) = (&req.method, &req.url);
        check_secure(url, self.plain_http).map_err(|e| e.with_request(method.as_str(), url))?;
        let policy = &self.retry;
        let mut attempt = 0;
        loop {
            let span = match req.purpose {
                Purpose::Fhir => {
                    tracing::debug_span!("fhir.request", method = %method, url = %redact_url(url), status = tracing::field::Empty)
                }
                Purpose::Auth => {
                    tracing::debug_span!("fhir.auth", method = %method, url = %redact_url(url), status = tracing::field::Empty)
                }
            };
            let started = Instant::now();
            let (status, headers, body) = match &self.http {
                Backend::Http(http) => {
                    let mut builder = http.request(method.clone(), url.clone()).headers(req.headers.clone());
                    if let Some(b) = &req.body {
                        builder = builder.body(b.clone());
                    }
                    let result = {
                        let _enter = span.enter();
                        builder.send().await
                    };
                    let resp = result.map_err(|e| transport_error(e, method, url))?;
                    (resp.status().as_u16(), resp.headers().clone(), Incoming::Http(resp))
                }
                #[cfg(test)]
                Backend::Canned(canned) => {
                    let answer = canned.answer(req);
                    (answer.status, answer.headers, Incoming::Canned(Some(answer.body.into())))
                }
            };
            span.record("status", status);
            let unprocessed = status == 429 || (status == 503 && req.idempotent);
            if unprocessed && attempt < policy.max_retries {
                let wait = retry_after(&headers)
                    .unwrap_or_else(|| policy.base_delay.saturating_mul(1 << attempt.min(16)))
                    .min(policy.max_delay);
                tracing::debug!(parent: &span, status, ?wait, attempt, "server busy; retrying");
                drop(body);
                tokio::time::sleep(wait).await;
                attempt += 1;
                continue;
            }
            return Ok(Opened { status, headers, url: url.clone(), method: method.clone(), body, span, started });
        }
    }
}

/// A response whose body is still to be read.
pub(crate) struct Opened {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) url: Url,
    pub(crate) method: Method,
    body: Incoming,
    span: tracing::Span,
    started: Instant,
}

impl Opened {
    /// The next piece of the body as it arrives; `None` at its end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, Error> {
        self.body.chunk().await.map_err(|e| {
            let kind =
                if e.is_timeout() { crate::error::ErrorKind::Timeout } else { crate::error::ErrorKind::Transport };
            Error::new(kind, "reading the response body failed")
                .with_source(e.without_url())
                .with_request(self.method.as_str(), &self.url)
        })
    }

    /// The body's length, when the server declared it.
    pub(crate) fn content_length(&self) -> Option<u64> {
        self.body.content_length()
    }

    /// The whole body, up to `max` bytes, or for an error status its first MiB.
    pub(crate) async fn read(self, max: usize) -> Result<Response, Error> {
        let Opened { status, headers, url, method, body, span, started } = self;
        let body = if status >= 400 {
            read_prefix(body, MAX_ERROR_BODY.min(max)).await
        } else {
            read_limited(body, max).await
        }
        .map_err(|e| e.with_request(method.as_str(), &url))?;
        tracing::debug!(parent: &span, status, elapsed_ms = started.elapsed().as_millis() as u64, bytes = body.len(), "response");
        Ok(Response { status, headers, body, url, method })
    }
}

/// Where requests go: the network, or (in this crate's unit tests) canned answers.
#[derive(Clone)]
enum Backend {
    Http(reqwest::Client),
    #[cfg(test)]
    Canned(canned::Canned),
}

/// A response body still to be read.
pub(crate) enum Incoming {
    Http(reqwest::Response),
    /// A canned body, given whole as one piece.
    #[cfg(test)]
    Canned(Option<bytes::Bytes>),
}

impl Incoming {
    /// The body's length, when the server declared it.
    pub(crate) fn content_length(&self) -> Option<u64> {
        match self {
            Incoming::Http(resp) => resp.content_length(),
            #[cfg(test)]
            Incoming::Canned(body) => Some(body.as_ref().map_or(0, |b| b.len() as u64)),
        }
    }

    /// The next piece as it arrives; `None` at the end.
    pub(crate) async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, reqwest::Error> {
        match self {
            Incoming::Http(resp) => resp.chunk().await,
            #[cfg(test)]
            Incoming::Canned(body) => Ok(body.take()),
        }
    }
}
