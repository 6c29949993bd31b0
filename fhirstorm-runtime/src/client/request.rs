//! [`Call`]: the one way the client makes a FHIR request and reads its answer, replacing the
//! send → check the status → parse triple at every call site:
//!
//! ```text
//! conn.call(Method::GET, url).fetch::<V::Bundle>().await?            // send, check, parse
//! conn.call(Method::POST, url).json(resource).prefer_representation().send().await?
//! ```
//!
//! A `Call` is idempotent (may be sent again after a `503`) by its method's semantics: GET,
//! PUT and DELETE are, POST and PATCH are not ([`Call::idempotent`] overrides, for a search
//! POSTed to `_search`). Also here: an error status as an [`Error`] with its `OperationOutcome`,
//! and a body read as FHIR JSON under the connection's conformance.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use super::connection::Connection;
use super::ClientVersion;
use crate::error::{redact_url, Error, ErrorKind};
use crate::json::{self, FromJson, ToJson};
use crate::transport::{Purpose, Request, Response};

/// A FHIR request being built on a connection (see the module's documentation).
#[must_use = "a call does nothing until it is sent"]
pub(super) struct Call<'c, V: ClientVersion> {
    conn: &'c Connection<V>,
    req: Request,
}

impl<V: ClientVersion> Connection<V> {
    /// A request of `method` to `url` (which must be under the base: [`Connection::send`] checks).
    pub(super) fn call(&self, method: Method, url: Url) -> Call<'_, V> {
        let idempotent = matches!(method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE);
        Call {
            conn: self,
            req: Request { method, url, headers: HeaderMap::new(), body: None, idempotent, purpose: Purpose::Fhir },
        }
    }
}

impl<'c, V: ClientVersion> Call<'c, V> {
    pub(super) fn header(mut self, name: impl Into<HeaderName>, value: HeaderValue) -> Self {
        self.req.headers.insert(name.into(), value);
        self
    }

    /// `Prefer: return=representation`: the server returns what it stored.
    pub(super) fn prefer_representation(self) -> Self {
        self.header(HeaderName::from_static("prefer"), HeaderValue::from_static("return=representation"))
    }

    /// A body, sent as FHIR JSON unless a `Content-Type` header says otherwise.
    pub(super) fn body(mut self, body: Vec<u8>) -> Self {
        self.req.body = Some(body);
        self
    }

    /// `value` as the FHIR JSON body.
    pub(super) fn json(self, value: &(impl ToJson + ?Sized)) -> Self {
        self.body(json::to_vec(value))
    }

    /// Whether the request may be sent again after a `503` (see [`RetryPolicy`](super::RetryPolicy)).
    pub(super) fn idempotent(mut self, idempotent: bool) -> Self {
        self.req.idempotent = idempotent;
        self
    }

    /// Sends it; an error status is an [`Error`] (with the server's `OperationOutcome`).
    pub(super) async fn send(self) -> Result<Response, Error> {
        let resp = self.conn.send(self.req).await?;
        self.conn.check_status(resp)
    }

    /// Sends it and reads the answer as `T`, as the connection's conformance says.
    pub(super) async fn fetch<T: FromJson>(self) -> Result<T, Error> {
        let conn = self.conn;
        let resp = self.send().await?;
        conn.parse_body(&resp)
    }
}

impl<V: ClientVersion> Connection<V> {
    /// The body as `T` (see [`read_body`](Self::read_body)).
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
        let read = match self.shared()?.conformance {
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
                url = %redact_url(&resp.url),
                path = %d.path(),
                kind = ?d.kind(),
                "the server sent a member that does not fit the model; kept as it came"
            );
        }
        Ok(read)
    }

    /// An operation at `url`: POSTed with its `Parameters`, or a GET without.
    pub(super) async fn operation(
        &self,
        url: Url,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        match parameters {
            Some(p) => {
                let mut w = json::Writer::new();
                p.to_json_dyn(&mut w);
                self.call(Method::POST, url).body(w.into_bytes()).fetch().await
            }
            None => self.call(Method::GET, url).fetch().await,
        }
    }
}
