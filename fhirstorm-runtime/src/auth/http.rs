//! HTTP for the authorization flows (token, registration, OpenID discovery, JWKS): no bearer
//! token, bodies never echoed.

use crate::client::{ClientVersion, Connection};
use crate::error::{AuthFailure, Error, ErrorKind};
use crate::transport::{checked_url, reason, Purpose, Request, Transport};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

/// HTTP for the authorization flows: token, registration, OpenID discovery, JWKS. No bearer
/// token is sent; bodies are never echoed in errors (they hold secrets).
#[derive(Clone)]
pub(crate) struct AuthHttp {
    transport: Transport,
}

impl AuthHttp {
    /// `conn`'s transport (its HTTP client and HTTPS policy), with answers of at most 1 MiB.
    pub(crate) fn new<V: ClientVersion>(conn: &Connection<V>) -> AuthHttp {
        AuthHttp { transport: conn.transport().with_max_response_bytes(1024 * 1024) }
    }

    /// An endpoint URL a server named: parsed, and HTTPS unless loopback is allowed.
    pub(crate) fn checked(&self, s: &str) -> Result<Url, Error> {
        checked_url(s, self.transport.plain_http())
    }

    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&'static str, String)],
        basic: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let mut headers = json_headers();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        if let Some(b) = basic {
            let mut v = HeaderValue::try_from(b)
                .map_err(|_| Error::new(ErrorKind::Config, "the client credentials are not a valid header value"))?;
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        self.exchange(Method::POST, url, headers, Some(body.into_bytes())).await
    }

    pub(crate) async fn post_json(&self, url: &Url, body: &serde_json::Value) -> Result<Vec<u8>, Error> {
        let mut headers = json_headers();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.exchange(Method::POST, url, headers, Some(serde_json::to_vec(body).unwrap_or_default())).await
    }

    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>, Error> {
        self.exchange(Method::GET, url, json_headers(), None).await
    }

    pub(crate) async fn get_json(&self, url: &Url) -> Result<serde_json::Value, Error> {
        let body = self.get(url).await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::new(ErrorKind::Parse, format!("the response is not JSON (line {}, column {})", e.line(), e.column()))
                .with_request("GET", url)
        })
    }

    /// Sends the request (retrying a `429`, and a `503` for a GET) and returns the body of a
    /// success; an error status is an [`AuthFailure::Endpoint`] when the body is an OAuth error.
    async fn exchange(
        &self,
        method: Method,
        url: &Url,
        headers: HeaderMap,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, Error> {
        let idempotent = method == Method::GET;
        let req = Request { method, url: url.clone(), headers, body, idempotent, purpose: Purpose::Auth };
        let resp = self.transport.send(&req).await?;
        let (status, body, method) = (resp.status, resp.body, req.method);
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

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers
}
