//! An authorized session: the current token, refreshed shortly before it expires and once after
//! a 401, single-flight (one refresh however many requests wait), with a callback to persist it.

use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::oauth::SmartClient;
use super::scope::Scopes;
use super::secret::AccessToken;
use super::token::TokenResponse;
use crate::client::{AuthFuture, Authorizer, Bearer, ClientVersion, Connection, ConnectionBuilder};
use crate::error::{AuthFailure, Error};

type Callback = Arc<dyn Fn(&TokenResponse) + Send + Sync>;

/// The token a [`crate::client::Connection`] sends, and how to renew it. Cheap to clone; clones
/// share the token. Build one with [`SmartClient::session`] (a user's token, renewed with its
/// refresh token), [`SmartClient::backend_session`] (Backend Services, renewed with
/// `client_credentials`), or [`Session::fixed`] (a token that is never renewed).
///
/// On renewal, what the server leaves out of its answer is kept from the previous token (the
/// refresh token, the launch context, the scopes), and a new id_token replaces the previous one
/// only if it verifies ([`SmartClient::verify_id_token`]); otherwise the session keeps the
/// previous one, and with it the user's `fhirUser` and `sub`.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

struct Inner {
    client: Option<SmartClient>,
    /// `Some` for Backend Services: renew with `client_credentials` and these scopes.
    client_credentials: Option<Scopes>,
    state: Mutex<TokenState>,
    refresh_lock: tokio::sync::Mutex<()>,
    margin: Mutex<Duration>,
    on_refresh: Mutex<Option<Callback>>,
    refreshes: AtomicU64,
}

struct TokenState {
    token: Arc<TokenResponse>,
    /// Bumped by every refresh attempt, whether it worked or not.
    attempts: u64,
    /// The last attempt's failure, for the tasks that waited on it.
    last_failure: Option<Error>,
    /// A failure no retry can fix (the refresh token was refused): every later call gets it,
    /// without asking the server again.
    dead: Option<Error>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.inner.state.lock().unwrap_or_else(|p| p.into_inner());
        f.debug_struct("Session")
            .field("token", &state.token)
            .field("refreshes", &self.inner.refreshes.load(Ordering::Relaxed))
            .finish()
    }
}

impl Session {
    pub(crate) fn new(
        client: Option<SmartClient>,
        token: TokenResponse,
        client_credentials: Option<Scopes>,
    ) -> Session {
        Session {
            inner: Arc::new(Inner {
                client,
                client_credentials,
                state: Mutex::new(TokenState { token: Arc::new(token), attempts: 0, last_failure: None, dead: None }),
                refresh_lock: tokio::sync::Mutex::new(()),
                margin: Mutex::new(Duration::from_secs(60)),
                on_refresh: Mutex::new(None),
                refreshes: AtomicU64::new(0),
            }),
        }
    }

    /// A session that sends `token` as it is and never renews it.
    pub fn fixed(token: TokenResponse) -> Session {
        Session::new(None, token, None)
    }

    /// Renew this long before the token expires (default 60 s; at most half the token's
    /// lifetime).
    pub fn refresh_margin(self, margin: Duration) -> Self {
        *self.inner.margin.lock().unwrap_or_else(|p| p.into_inner()) = margin;
        self
    }

    /// Call `f` with each new token (to save it). It runs while the refresh lock is held:
    /// keep it short.
    pub fn on_refresh(self, f: impl Fn(&TokenResponse) + Send + Sync + 'static) -> Self {
        *self.inner.on_refresh.lock().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(f));
        self
    }

    /// The current token.
    pub fn token(&self) -> Arc<TokenResponse> {
        self.lock().token.clone()
    }

    /// Treats the current access token as expired: the next request renews it first (for an
    /// app that learned the token was revoked, say).
    pub fn mark_expired(&self) {
        let mut s = self.lock();
        let mut token = (*s.token).clone();
        token.set_expires_at(0);
        s.token = Arc::new(token);
    }

    /// How many refreshes have succeeded.
    pub fn refresh_count(&self) -> u64 {
        self.inner.refreshes.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TokenState> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Refreshes now (the Python FHIRstorm's `service.refresh_token()`), whatever the expiry says.
    pub async fn refresh(&self) -> Result<Arc<TokenResponse>, Error> {
        let seen = self.lock().attempts;
        self.refresh_after(seen).await
    }

    /// The access token to send, with the attempt counter it was read at (for
    /// [`Session::rejected`]). Within the refresh margin it is renewed first where it can be;
    /// the margin is a wish to renew early, never a reason to refuse a token that is still
    /// valid: without a refresh token, or when the early renewal fails, the current token is
    /// sent until it has expired. The margin is at most half the token's lifetime, so that a
    /// short-lived token is not renewed before every request.
    pub(crate) async fn bearer(&self) -> Result<(AccessToken, u64), Error> {
        let margin = *self.inner.margin.lock().unwrap_or_else(|p| p.into_inner());
        let (token, attempts, dead) = {
            let s = self.lock();
            (s.token.clone(), s.attempts, s.dead.clone())
        };
        let expired = token.expires_within(Duration::ZERO);
        if let Some(dead) = dead {
            return if expired { Err(dead) } else { Ok((token.access_token.clone(), attempts)) };
        }
        let margin = match token.expires_in {
            Some(lifetime) => margin.min(Duration::from_secs(lifetime / 2)),
            None => margin,
        };
        let renewable =
            self.inner.client.is_some() && (self.inner.client_credentials.is_some() || token.refresh_token.is_some());
        if expired || (renewable && token.expires_within(margin)) {
            match self.refresh_after(attempts).await {
                Ok(fresh) => return Ok((fresh.access_token.clone(), self.lock().attempts)),
                Err(e) if expired => return Err(e),
                Err(e) => {
                    tracing::warn!(error = %e.report(), "early renewal failed; the current access token is still valid");
                }
            }
            let s = self.lock();
            return Ok((s.token.access_token.clone(), s.attempts));
        }
        Ok((token.access_token.clone(), attempts))
    }

    /// The server refused the token read at `attempts` (a 401): renew it, unless another task
    /// already did.
    pub(crate) async fn rejected(&self, attempts: u64) -> Result<AccessToken, Error> {
        Ok(self.refresh_after(attempts).await?.access_token.clone())
    }

    /// Single flight: the first task to take the lock refreshes; the ones that waited find the
    /// attempt counter moved and share its result, success or failure.
    async fn refresh_after(&self, seen: u64) -> Result<Arc<TokenResponse>, Error> {
        let _guard = self.inner.refresh_lock.lock().await;
        let current = {
            let s = self.lock();
            if let Some(dead) = &s.dead {
                return Err(dead.clone());
            }
            if s.attempts != seen {
                return match &s.last_failure {
                    Some(e) => Err(e.clone()),
                    None => Ok(s.token.clone()),
                };
            }
            s.token.clone()
        };
        let result = match self.renew(&current).await {
            Ok(new) => Ok(self.keep_verifiable_id_token(&current, current.merged_with(new)).await),
            Err(e) => Err(e),
        };
        let mut s = self.lock();
        s.attempts += 1;
        match result {
            Ok(new) => {
                let new = Arc::new(new);
                s.token = new.clone();
                s.last_failure = None;
                drop(s);
                self.inner.refreshes.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("access token renewed");
                let callback = self.inner.on_refresh.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(f) = callback {
                    f(&new);
                }
                Ok(new)
            }
            Err(e) => {
                tracing::warn!(error = %e.report(), "access token renewal failed");
                let fatal = matches!(e.auth(), Some(AuthFailure::CannotRefresh))
                    || e.auth()
                        .and_then(|a| a.oauth_error())
                        .is_some_and(|c| c == "invalid_grant" || c == "invalid_client");
                if fatal {
                    s.dead = Some(e.clone());
                }
                s.last_failure = Some(e.clone());
                Err(e)
            }
        }
    }

    /// A renewal's new id_token replaces the session's only if it verifies: a server that sends
    /// a broken one on refresh (no `aud`, say) must not cost the app the user's verified
    /// identity. A new id_token where there was none is kept as it came.
    async fn keep_verifiable_id_token(&self, current: &TokenResponse, mut new: TokenResponse) -> TokenResponse {
        if let (Some(client), Some(old), Some(fresh)) = (&self.inner.client, &current.id_token, &new.id_token) {
            if old != fresh {
                if let Err(e) = client.verify(fresh).await {
                    tracing::warn!(error = %e.report(), "the renewed id_token does not verify; the session keeps the previous one");
                    new.id_token = Some(old.clone());
                }
            }
        }
        new
    }

    async fn renew(&self, current: &TokenResponse) -> Result<TokenResponse, Error> {
        let client = self.inner.client.as_ref().ok_or_else(|| {
            Error::auth_failure(
                AuthFailure::CannotRefresh,
                "this session's token is fixed: there is no client to renew it",
            )
        })?;
        if let Some(scopes) = &self.inner.client_credentials {
            return client.client_credentials(scopes).await;
        }
        let refresh_token = current.refresh_token.as_ref().ok_or_else(|| {
            Error::auth_failure(
                AuthFailure::CannotRefresh,
                "the token has expired and there is no refresh token (ask for offline_access or online_access)",
            )
        })?;
        client.refresh(refresh_token, None).await
    }
}

// ---- a session as what gives a connection its tokens ----

/// The sessions a client makes (the client's public calls only).
impl SmartClient {
    /// A session that sends `token` and refreshes it (before it expires, and once on a 401)
    /// with its refresh token.
    pub fn session(&self, token: TokenResponse) -> Session {
        Session::new(Some(self.clone()), token, None)
    }

    /// A Backend Services session: a `client_credentials` token now, a new one whenever it
    /// is about to expire.
    pub async fn backend_session(&self, scopes: Scopes) -> Result<Session, Error> {
        let token = self.client_credentials(&scopes).await?;
        Ok(Session::new(Some(self.clone()), token, Some(scopes)))
    }

    /// A Backend Services session resumed from a token obtained earlier (and saved): `token` is
    /// sent while it is valid, then renewed as [`backend_session`](Self::backend_session)'s is.
    pub fn resume_backend_session(&self, token: TokenResponse, scopes: Scopes) -> Session {
        Session::new(Some(self.clone()), token, Some(scopes))
    }
}

impl Authorizer for Session {
    fn bearer(&self) -> AuthFuture<'_, Bearer> {
        Box::pin(async move {
            let (token, attempts) = Session::bearer(self).await?;
            Ok(Bearer::new(token.secret(), attempts))
        })
    }

    fn rejected<'a>(&'a self, refused: &'a Bearer) -> AuthFuture<'a, Bearer> {
        Box::pin(async move {
            let token = Session::rejected(self, refused.mark()).await?;
            Ok(Bearer::new(token.secret(), self.lock().attempts))
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl<V: ClientVersion> ConnectionBuilder<V> {
    /// Send this session's bearer token with every request (to URLs under the base only),
    /// renewing it as the session says.
    pub fn session(self, session: Session) -> Self {
        self.authorizer(Arc::new(session))
    }
}

impl<V: ClientVersion> Connection<V> {
    /// The same connection (settings, HTTP client) sending `session`'s bearer token. The
    /// capability statement is fetched again, as the authorized user sees it.
    pub fn with_session(&self, session: Session) -> Connection<V> {
        self.with_authorizer(Arc::new(session))
    }

    /// The session whose token this connection sends, if its authorizer is one.
    pub fn session(&self) -> Option<&Session> {
        self.authorizer()?.as_any().downcast_ref()
    }

    /// Renews the session's token now (the Python FHIRstorm's `service.refresh_token()`).
    pub async fn refresh_token(&self) -> Result<Arc<TokenResponse>, Error> {
        match self.session() {
            Some(s) => s.refresh().await,
            None => Err(Error::auth_failure(AuthFailure::CannotRefresh, "this connection has no session")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ClientAuth, ClientId, SmartConfiguration};
    use crate::client::Connection;

    /// A client whose token endpoint refuses connections (nothing listens on port 9).
    fn unreachable_client() -> SmartClient {
        let conn = Connection::<crate::client::test_version::Bare>::builder("http://127.0.0.1:9/fhir")
            .allow_insecure_loopback(true)
            .build()
            .unwrap();
        let config = br#"{"token_endpoint":"http://127.0.0.1:9/token"}"#;
        SmartClient::new(
            &conn,
            SmartConfiguration::from_slice(config, true).unwrap(),
            ClientAuth::Public(ClientId::new("a")),
        )
    }

    fn token(expires_in: u64, left: u64, refresh: bool) -> TokenResponse {
        let refresh = if refresh { r#","refresh_token":"rt""# } else { "" };
        let mut t = TokenResponse::from_slice(
            format!(r#"{{"access_token":"at","token_type":"Bearer","expires_in":{expires_in}{refresh}}}"#).as_bytes(),
        )
        .unwrap();
        t.set_expires_at(super::super::token::now_secs() + left);
        t
    }

    fn attempts(s: &Session) -> u64 {
        s.lock().attempts
    }

    /// A token inside the refresh margin is still valid and is sent.
    #[tokio::test]
    async fn the_margin_is_a_wish_never_a_reason_to_refuse_a_valid_token() {
        // 60 s tokens, no refresh token: 50 s left is inside the default 60 s margin, and valid.
        let s = Session::new(Some(unreachable_client()), token(60, 50, false), None);
        assert_eq!(s.bearer().await.unwrap().0.secret(), "at");
        assert_eq!(attempts(&s), 0, "nothing to renew with: no attempt");

        // With a refresh token, the margin is at most half the lifetime: 40 s left of 60 is not
        // renewed yet (one renewal per request otherwise), 20 s left is.
        let s = Session::new(Some(unreachable_client()), token(60, 40, true), None);
        assert_eq!(s.bearer().await.unwrap().0.secret(), "at");
        assert_eq!(attempts(&s), 0);
        let s = Session::new(Some(unreachable_client()), token(60, 20, true), None);
        // The early renewal fails (the server is unreachable): the valid token is still sent.
        assert_eq!(s.bearer().await.unwrap().0.secret(), "at");
        assert_eq!(attempts(&s), 1, "one early renewal was tried");

        // Expired with nothing to renew with: now it is an error.
        let s = Session::new(Some(unreachable_client()), token(60, 0, false), None);
        let e = s.bearer().await.unwrap_err();
        assert_eq!(e.auth(), Some(&AuthFailure::CannotRefresh), "{e}");
        // Expired, and the renewal fails: the error.
        let s = Session::new(Some(unreachable_client()), token(60, 0, true), None);
        assert!(s.bearer().await.is_err());
    }
}
