//! An authorized session: the current token, refreshed shortly before it expires and once after
//! a 401, single-flight (one refresh however many requests wait), with a callback to persist it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::oauth::SmartClient;
use super::scope::Scopes;
use super::secret::AccessToken;
use super::token::TokenResponse;
use crate::client::{AuthFailure, Error};

type Callback = Arc<dyn Fn(&TokenResponse) + Send + Sync>;

/// The token a [`crate::client::Connection`] sends, and how to renew it. Cheap to clone; clones
/// share the token. Build one with [`SmartClient::session`] (a user's token, renewed with its
/// refresh token), [`SmartClient::backend_session`] (Backend Services, renewed with
/// `client_credentials`), or [`Session::fixed`] (a token that is never renewed).
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

    /// Renew this long before the token expires (default 60 s).
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

    /// Refreshes now (the seed's `service.refresh_token()`), whatever the expiry says.
    pub async fn refresh(&self) -> Result<Arc<TokenResponse>, Error> {
        let seen = self.lock().attempts;
        self.refresh_after(seen).await
    }

    /// The access token to send, renewed first if it expires within the margin; with the
    /// attempt counter it was read at (for [`Session::rejected`]).
    pub(crate) async fn bearer(&self) -> Result<(AccessToken, u64), Error> {
        let margin = *self.inner.margin.lock().unwrap_or_else(|p| p.into_inner());
        let (token, attempts) = {
            let s = self.lock();
            if let Some(dead) = &s.dead {
                return Err(dead.clone());
            }
            (s.token.clone(), s.attempts)
        };
        if self.inner.client.is_some() && token.expires_within(margin) {
            let token = self.refresh_after(attempts).await?;
            let attempts = self.lock().attempts;
            return Ok((token.access_token.clone(), attempts));
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
        let result = self.renew(&current).await;
        let mut s = self.lock();
        s.attempts += 1;
        match result {
            Ok(new) => {
                let new = Arc::new(current.merged_with(new));
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
                tracing::warn!(error = %e, "access token renewal failed");
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
