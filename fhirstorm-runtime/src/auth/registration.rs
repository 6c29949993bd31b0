//! Dynamic client registration (RFC 7591) at the server's `registration_endpoint`.

use serde::{Deserialize, Serialize};

use super::client_auth::ClientAuth;
use super::discovery::SmartConfiguration;
use super::secret::{ClientId, ClientSecret, ForStorage, RedirectUrl, RegistrationToken};
use crate::client::{ClientVersion, Connection};
use crate::error::{AuthFailure, Error, ErrorKind};
use crate::json;

/// What an app asks to be registered as (RFC 7591 client metadata). Members not listed go in
/// [`ClientRegistration::other`] (a `jwks` for `private_key_jwt`, say).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClientRegistration {
    /// `redirect_uris`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redirect_uris: Vec<String>,
    /// `client_name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `token_endpoint_auth_method` (`none`, `client_secret_basic`, `private_key_jwt`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// `grant_types`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<String>,
    /// `response_types`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_types: Vec<String>,
    /// `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Every other member.
    #[serde(flatten)]
    pub other: json::Members,
}

impl ClientRegistration {
    /// A web app with one redirect URL, authenticating with a client secret (Basic), using the
    /// authorization code flow with refresh.
    pub fn confidential(name: &str, redirect: &RedirectUrl) -> Self {
        ClientRegistration {
            redirect_uris: vec![redirect.as_str().to_string()],
            client_name: Some(name.to_string()),
            token_endpoint_auth_method: Some("client_secret_basic".into()),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            response_types: vec!["code".into()],
            ..Default::default()
        }
    }

    /// A public app (no secret: PKCE protects it).
    pub fn public(name: &str, redirect: &RedirectUrl) -> Self {
        ClientRegistration { token_endpoint_auth_method: Some("none".into()), ..Self::confidential(name, redirect) }
    }
}

/// What the server registered. It holds secrets, so it has no `Serialize`: store it with
/// [`RegisteredClient::for_storage`], which writes the registration response's JSON back.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct RegisteredClient {
    /// `client_id`.
    pub client_id: String,
    /// `client_secret`, for confidential symmetric clients.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<ClientSecret>,
    /// `client_secret_expires_at` (0: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<u64>,
    /// `registration_access_token` (RFC 7592).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_access_token: Option<RegistrationToken>,
    /// `registration_client_uri` (RFC 7592).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_client_uri: Option<String>,
    /// `token_endpoint_auth_method`, as registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<String>,
    /// The rest of the registered metadata.
    #[serde(flatten)]
    pub other: json::Members,
}

impl RegisteredClient {
    /// The registration for serde, secrets included (to store it; it reads back with serde).
    pub fn for_storage(&self) -> ForStorage<'_, Self> {
        ForStorage(self)
    }

    /// How this client authenticates at the token endpoint: with its secret (Basic or post, as
    /// registered), or as a public client. (`private_key_jwt` clients hold their key
    /// themselves: make [`ClientAuth::PrivateKeyJwt`] with it.)
    pub fn client_auth(&self) -> ClientAuth {
        let id = ClientId::new(self.client_id.clone());
        match (&self.client_secret, self.token_endpoint_auth_method.as_deref()) {
            (Some(secret), Some("client_secret_post")) => ClientAuth::SecretPost(id, secret.clone()),
            (Some(secret), _) => ClientAuth::SecretBasic(id, secret.clone()),
            (None, _) => ClientAuth::Public(id),
        }
    }
}

impl Serialize for ForStorage<'_, RegisteredClient> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Stored<'a> {
            client_id: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            client_secret: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            client_secret_expires_at: Option<u64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            registration_access_token: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            registration_client_uri: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            token_endpoint_auth_method: Option<&'a str>,
            #[serde(flatten)]
            other: &'a json::Members,
        }
        let c = self.0;
        Stored {
            client_id: &c.client_id,
            client_secret: c.client_secret.as_ref().map(ClientSecret::secret),
            client_secret_expires_at: c.client_secret_expires_at,
            registration_access_token: c.registration_access_token.as_ref().map(RegistrationToken::secret),
            registration_client_uri: c.registration_client_uri.as_deref(),
            token_endpoint_auth_method: c.token_endpoint_auth_method.as_deref(),
            other: &c.other,
        }
        .serialize(s)
    }
}

/// Registers a client at the server's `registration_endpoint` (RFC 7591), through `conn`'s
/// HTTP client and HTTPS policy.
pub async fn register<V: ClientVersion>(
    conn: &Connection<V>,
    config: &SmartConfiguration,
    registration: &ClientRegistration,
) -> Result<RegisteredClient, Error> {
    let endpoint = config.registration_endpoint.as_ref().ok_or_else(|| {
        Error::new(ErrorKind::Unsupported, "the server's SMART configuration has no registration_endpoint")
    })?;
    let body = serde_json::to_value(registration)
        .map_err(|e| Error::new(ErrorKind::Config, "the registration could not be written").with_source(e))?;
    let answer = super::http::AuthHttp::new(conn).post_json(endpoint, &body).await?;
    serde_json::from_slice::<RegisteredClient>(&answer).map_err(|_| {
        Error::auth_failure(AuthFailure::BadRegistration, "the registration response has no valid client_id")
    })
}
