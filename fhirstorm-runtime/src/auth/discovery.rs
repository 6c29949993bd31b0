//! SMART discovery: `.well-known/smart-configuration`, else the capability statement's
//! `oauth-uris` security extension.

use url::Url;

use crate::client::{ClientVersion, Connection};
use crate::error::{Error, ErrorKind};
use crate::json::{Members, Value};

/// What the server's SMART configuration says.
#[derive(Debug, Clone, PartialEq)]
pub struct SmartConfiguration {
    /// `issuer`.
    pub issuer: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<Url>,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<Url>,
    /// `token_endpoint`.
    pub token_endpoint: Url,
    /// `registration_endpoint` (dynamic client registration).
    pub registration_endpoint: Option<Url>,
    /// `management_endpoint`.
    pub management_endpoint: Option<Url>,
    /// `introspection_endpoint`.
    pub introspection_endpoint: Option<Url>,
    /// `revocation_endpoint`.
    pub revocation_endpoint: Option<Url>,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods: Vec<String>,
    /// `grant_types_supported`.
    pub grant_types: Vec<String>,
    /// `scopes_supported`.
    pub scopes_supported: Vec<String>,
    /// `code_challenge_methods_supported`.
    pub code_challenge_methods: Vec<String>,
    /// `capabilities` (`launch-ehr`, `client-confidential-symmetric`, `permission-v2`, ...).
    pub capabilities: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207): the server puts `iss` on
    /// every redirect, so a redirect without it is refused.
    pub authorization_response_iss_parameter_supported: bool,
    /// Whether this came from the capability statement (no `.well-known` document).
    pub from_capability_statement: bool,
    /// Members not listed above, kept.
    pub other: Members,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key).and_then(Value::as_array).unwrap_or(&[]).iter().filter_map(|s| s.as_str().map(String::from)).collect()
}

impl SmartConfiguration {
    /// Whether the server lists `capability`.
    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// Discovers the configuration of the server `conn` talks to: `.well-known/smart-configuration`
    /// first, then the capability statement's `oauth-uris` extension. Every endpoint must be
    /// HTTPS (or loopback, when the connection allows plain loopback).
    pub async fn discover<V: ClientVersion>(conn: &Connection<V>) -> Result<SmartConfiguration, Error> {
        match conn.get_json(".well-known/smart-configuration").await {
            Ok(v) => Self::from_document(&v, conn),
            Err(e) if e.status().is_some() || e.kind() == ErrorKind::Parse => Self::from_capabilities(conn).await,
            Err(e) => Err(e),
        }
    }

    /// Reads a SMART configuration document at `url` (an authorization server's own
    /// `.well-known/smart-configuration`, for apps configured with a known server).
    pub async fn from_url<V: ClientVersion>(conn: &Connection<V>, url: &str) -> Result<SmartConfiguration, Error> {
        let http = super::http::AuthHttp::new(conn);
        let url = http.checked(url)?;
        let body = http.get(&url).await?;
        let v: Value = crate::json::from_slice(&body)
            .map_err(|e| Error::new(ErrorKind::Parse, "the SMART configuration is not JSON").with_source(e))?;
        Self::from_document(&v, conn)
    }

    fn from_document<V: ClientVersion>(v: &Value, conn: &Connection<V>) -> Result<SmartConfiguration, Error> {
        Self::read(v, &|s| crate::transport::checked_url(s, conn.plain_http()))
    }

    /// Reads a SMART configuration document (`.well-known/smart-configuration`) from JSON
    /// bytes. Every endpoint must be HTTPS, or plain HTTP to loopback when
    /// `allow_insecure_loopback` is set.
    pub fn from_slice(body: &[u8], allow_insecure_loopback: bool) -> Result<SmartConfiguration, Error> {
        let v: Value = crate::json::from_slice(body)
            .map_err(|e| Error::new(ErrorKind::Parse, "the SMART configuration is not JSON").with_source(e))?;
        if v.as_object().is_none() {
            return Err(Error::new(ErrorKind::Parse, "the SMART configuration is not a JSON object"));
        }
        Self::read(&v, &|s| crate::transport::checked_url(s, allow_insecure_loopback.into()))
    }

    fn read(v: &Value, checked: &dyn Fn(&str) -> Result<Url, Error>) -> Result<SmartConfiguration, Error> {
        let url = |key: &str| -> Result<Option<Url>, Error> {
            match v.get(key).and_then(Value::as_str) {
                None => Ok(None),
                Some(s) => checked(s).map(Some),
            }
        };
        let token_endpoint = url("token_endpoint")?
            .ok_or_else(|| Error::new(ErrorKind::Protocol, "the SMART configuration has no token_endpoint"))?;
        const KNOWN: &[&str] = &[
            "issuer",
            "jwks_uri",
            "authorization_endpoint",
            "token_endpoint",
            "registration_endpoint",
            "management_endpoint",
            "introspection_endpoint",
            "revocation_endpoint",
            "token_endpoint_auth_methods_supported",
            "grant_types_supported",
            "scopes_supported",
            "code_challenge_methods_supported",
            "capabilities",
            "authorization_response_iss_parameter_supported",
        ];
        let other = v
            .as_object()
            .map(|m| m.iter().filter(|(k, _)| !KNOWN.contains(k)).map(|(k, v)| (k.to_string(), v.clone())).collect())
            .unwrap_or_default();
        Ok(SmartConfiguration {
            issuer: v.get("issuer").and_then(Value::as_str).map(String::from),
            jwks_uri: url("jwks_uri")?,
            authorization_endpoint: url("authorization_endpoint")?,
            token_endpoint,
            registration_endpoint: url("registration_endpoint")?,
            management_endpoint: url("management_endpoint")?,
            introspection_endpoint: url("introspection_endpoint")?,
            revocation_endpoint: url("revocation_endpoint")?,
            token_endpoint_auth_methods: strings(v, "token_endpoint_auth_methods_supported"),
            grant_types: strings(v, "grant_types_supported"),
            scopes_supported: strings(v, "scopes_supported"),
            code_challenge_methods: strings(v, "code_challenge_methods_supported"),
            capabilities: strings(v, "capabilities"),
            authorization_response_iss_parameter_supported: v
                .get("authorization_response_iss_parameter_supported")
                .is_some_and(|b| matches!(b, Value::Bool(true))),
            from_capability_statement: false,
            other,
        })
    }

    async fn from_capabilities<V: ClientVersion>(conn: &Connection<V>) -> Result<SmartConfiguration, Error> {
        let caps = conn.metadata().await?;
        let uris = caps.rest.iter().map(|r| &r.oauth_uris).find(|u| !u.is_empty()).ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                "the server has no SMART configuration and no oauth-uris in its capability statement",
            )
        })?;
        let get = |k: &str| -> Result<Option<Url>, Error> {
            uris.get(k).map(|s| crate::transport::checked_url(s, conn.plain_http())).transpose()
        };
        Ok(SmartConfiguration {
            issuer: None,
            jwks_uri: None,
            authorization_endpoint: get("authorize")?,
            token_endpoint: get("token")?
                .ok_or_else(|| Error::new(ErrorKind::Protocol, "the oauth-uris extension has no token endpoint"))?,
            registration_endpoint: get("register")?,
            management_endpoint: get("manage")?,
            introspection_endpoint: get("introspect")?,
            revocation_endpoint: get("revoke")?,
            token_endpoint_auth_methods: Vec::new(),
            grant_types: Vec::new(),
            scopes_supported: Vec::new(),
            code_challenge_methods: Vec::new(),
            capabilities: Vec::new(),
            authorization_response_iss_parameter_supported: false,
            from_capability_statement: true,
            other: Members::new(),
        })
    }
}
