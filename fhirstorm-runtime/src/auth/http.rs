//! HTTP for the authorization flows (token, registration, OpenID discovery, JWKS): no bearer
//! token of the FHIR server's, bodies not echoed (unless the connection shows error excerpts, and
//! then without what the request sent that is secret).

use crate::client::{ClientVersion, Connection};
use crate::error::{AuthFailure, Error, ErrorKind};
use crate::transport::{checked_url, excerpt, printable, reason, PlainHttp, Purpose, Request, Transport};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Method;
use url::Url;
use zeroize::Zeroizing;

/// HTTP for the authorization flows: token, registration, introspection, OpenID discovery, JWKS.
/// The FHIR server's bearer token is never sent (introspection may send one of its own); bodies
/// are not echoed in errors (they may hold secrets) unless the connection shows error excerpts,
/// and then only the start of one that is not an OAuth error, without what the request sent
/// that is secret.
#[derive(Clone)]
pub(crate) struct AuthHttp {
    /// The connection's transport, or the error it could not be built with (sent by every call).
    transport: Result<Transport, Error>,
    plain_http: PlainHttp,
    /// Whether a non-OAuth error body is shown (the connection's `error_excerpts`).
    excerpts: bool,
}

impl AuthHttp {
    /// `conn`'s transport (its HTTP client and HTTPS policy), with answers of at most 1 MiB.
    pub(crate) fn new<V: ClientVersion>(conn: &Connection<V>) -> AuthHttp {
        AuthHttp {
            transport: conn.transport().map(|t| t.with_max_response_bytes(1024 * 1024)),
            plain_http: conn.plain_http(),
            excerpts: conn.error_excerpts(),
        }
    }

    /// An endpoint URL a server named: parsed, and HTTPS unless loopback is allowed.
    pub(crate) fn checked(&self, s: &str) -> Result<Url, Error> {
        checked_url(s, self.plain_http)
    }

    pub(crate) async fn post_form(
        &self,
        url: &Url,
        form: &[(&'static str, String)],
        authorization: Option<&str>,
    ) -> Result<Vec<u8>, Error> {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let secrets = sent_secrets(form, authorization);
        let mut headers = json_headers();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
        if let Some(a) = authorization {
            let mut v = HeaderValue::try_from(a).map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    "the Authorization header (client credentials or a token) is not a valid header value",
                )
            })?;
            v.set_sensitive(true);
            headers.insert(reqwest::header::AUTHORIZATION, v);
        }
        self.exchange(Method::POST, url, headers, Some(body.into_bytes()), &secrets).await
    }

    pub(crate) async fn post_json(&self, url: &Url, body: &serde_json::Value) -> Result<Vec<u8>, Error> {
        let mut headers = json_headers();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.exchange(Method::POST, url, headers, Some(serde_json::to_vec(body).unwrap_or_default()), &[]).await
    }

    pub(crate) async fn get(&self, url: &Url) -> Result<Vec<u8>, Error> {
        self.exchange(Method::GET, url, json_headers(), None, &[]).await
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
        secrets: &[Zeroizing<String>],
    ) -> Result<Vec<u8>, Error> {
        let idempotent = method == Method::GET;
        let req = Request { method, url: url.clone(), headers, body, idempotent, purpose: Purpose::Auth };
        let transport = self.transport.as_ref().map_err(Clone::clone)?;
        let resp = transport.send(&req).await?;
        let (status, body, method, headers) = (resp.status, resp.body, req.method, resp.headers);
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
                let description = o.error_description.map(|d| printable(&d.chars().take(300).collect::<String>()));
                let error = printable(&o.error.chars().take(100).collect::<String>());
                let message = match &description {
                    Some(d) => format!("{error}: {d}"),
                    None => error.clone(),
                };
                Error::auth_failure(AuthFailure::Endpoint { error, description }, message)
            }
            // The body is not echoed unless excerpts are on, and then without what this request
            // sent that is secret: a broken server or a gateway may echo the request.
            Err(_) if self.excerpts => {
                let mut text = String::from_utf8_lossy(&body).into_owned();
                for s in secrets {
                    text = text.replace(s.as_str(), "(hidden)");
                }
                Error::new(
                    ErrorKind::Status,
                    format!("{}; body: {}", reason(status), excerpt(text.as_bytes(), headers.get(CONTENT_TYPE))),
                )
            }
            Err(_) => Error::new(
                ErrorKind::Status,
                format!(
                    "{} ({} bytes of body, not shown: turn on ConnectionBuilder::error_excerpts to see its start)",
                    reason(status),
                    body.len()
                ),
            ),
        };
        Err(err.with_status(status, None).with_request(method.as_str(), url))
    }
}

fn json_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers
}

/// What a form request sent that an error excerpt must not show: the values of its secret
/// fields and the credentials of its `Authorization` header, as sent and form-urlencoded;
/// longest first, so that a secret is hidden whole before a part of it is.
fn sent_secrets(form: &[(&'static str, String)], authorization: Option<&str>) -> Vec<Zeroizing<String>> {
    const SECRET: &[&str] = &[
        "client_secret",
        "client_assertion",
        "code",
        "code_verifier",
        "refresh_token",
        "token",
        "assertion",
        "password",
    ];
    let mut out: Vec<Zeroizing<String>> =
        form.iter().filter(|(k, _)| SECRET.contains(k)).map(|(_, v)| Zeroizing::new(v.clone())).collect();
    if let Some((_, credentials)) = authorization.and_then(|a| a.split_once(' ')) {
        out.push(Zeroizing::new(credentials.to_string()));
        use base64::Engine as _;
        if let Ok(pair) = base64::engine::general_purpose::STANDARD.decode(credentials) {
            let pair = Zeroizing::new(pair);
            let text = Zeroizing::new(String::from_utf8_lossy(&pair).into_owned());
            out.extend(text.split(':').map(|part| Zeroizing::new(part.to_string())));
        }
    }
    let encoded: Vec<Zeroizing<String>> = out
        .iter()
        .map(|v| Zeroizing::new(url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()))
        .collect();
    out.extend(encoded);
    out.retain(|s| s.len() >= 4);
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out.dedup();
    out
}
