//! HTTP for the authorization flows (token, registration, OpenID discovery, JWKS): no bearer
//! token, bodies never echoed.

use super::http::{read_limited, reason, transport_error};
use super::policy::{check_secure, PlainHttp};
use super::{error, AuthFailure, Error, ErrorKind};
use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

/// HTTP for the authorization flows: token, registration, OpenID discovery, JWKS. No bearer
/// token is sent; bodies are never echoed in errors (they hold secrets).
#[derive(Clone)]
pub(crate) struct AuthHttp {
    pub(super) http: reqwest::Client,
    pub(super) plain_http: PlainHttp,
    pub(super) max_response_bytes: usize,
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

    pub(super) async fn exchange(
        &self,
        method: Method,
        url: &Url,
        req: reqwest::RequestBuilder,
    ) -> Result<Vec<u8>, Error> {
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
