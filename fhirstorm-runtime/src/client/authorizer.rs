//! What a connection asks of whoever gives it bearer tokens: a token for the next request, and
//! another one when the server refuses it. The client knows nothing of how tokens are obtained
//! or renewed; a SMART [`Session`](crate::auth::Session) is one authorizer, your own code can be
//! another.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use zeroize::Zeroizing;

use crate::error::Error;

/// The future an [`Authorizer`] returns.
pub type AuthFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// A bearer token as the connection sends it (zeroized when dropped, never printed), with a mark
/// that names it: the authorizer gets the token back, mark included, if the server refuses it.
pub struct Bearer {
    token: Zeroizing<String>,
    mark: u64,
}

impl Bearer {
    /// A token to send, and the authorizer's mark for it (a counter, a version: anything that
    /// tells it which token was refused).
    pub fn new(token: impl Into<String>, mark: u64) -> Bearer {
        Bearer { token: Zeroizing::new(token.into()), mark }
    }

    /// The token itself.
    pub fn secret(&self) -> &str {
        &self.token
    }

    /// The authorizer's mark.
    pub fn mark(&self) -> u64 {
        self.mark
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bearer").field("token", &"(hidden)").field("mark", &self.mark).finish()
    }
}

/// Gives a connection its bearer tokens ([`ConnectionBuilder::authorizer`](super::ConnectionBuilder::authorizer)).
/// The token goes only to URLs under the FHIR base.
pub trait Authorizer: Any + Send + Sync + fmt::Debug {
    /// The token to send with the next request; renewed first if the authorizer judges so.
    fn bearer(&self) -> AuthFuture<'_, Bearer>;

    /// The server answered `401` to `refused`: a new token to send once more, or the error the
    /// request then fails with. Called at most once per request.
    fn rejected<'a>(&'a self, refused: &'a Bearer) -> AuthFuture<'a, Bearer>;

    /// `self`, for finding the concrete type again ([`Connection::session`](super::Connection::session)).
    fn as_any(&self) -> &dyn Any;
}
