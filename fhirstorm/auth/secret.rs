//! Newtypes for the values of an authorization, so that they cannot be swapped by mistake and
//! secrets never show in `Debug` or `Display`.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;

/// The system's random number generator could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomUnavailable;

impl fmt::Display for RandomUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the system random number generator is unavailable")
    }
}

impl std::error::Error for RandomUnavailable {}

fn random_token(bytes: usize) -> Result<String, RandomUnavailable> {
    let mut buf = vec![0u8; bytes];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut buf).map_err(|_| RandomUnavailable)?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// Compares without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A client id (public).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    /// A client id.
    pub fn new(id: impl Into<String>) -> Self {
        ClientId(id.into())
    }
    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientId({:?})", self.0)
    }
}

/// The redirect URL registered for the app.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct RedirectUrl(url::Url);

impl RedirectUrl {
    /// Parses a redirect URL.
    pub fn new(url: &str) -> Result<Self, url::ParseError> {
        url::Url::parse(url).map(RedirectUrl)
    }
    /// The URL.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
    /// The URL, parsed.
    pub fn url(&self) -> &url::Url {
        &self.0
    }
}

/// The `state` of an authorization request: random (or signed), compared in constant time.
#[derive(Clone)]
pub struct State(String);

impl State {
    /// 32 random bytes, base64url.
    pub fn random() -> Result<Self, RandomUnavailable> {
        random_token(32).map(State)
    }
    /// A state kept by the caller (or signed).
    pub fn new(value: impl Into<String>) -> Self {
        State(value.into())
    }
    /// The value, to send or to store.
    pub fn secret(&self) -> &str {
        &self.0
    }
    /// Whether `returned` is this state, compared in constant time.
    pub fn matches(&self, returned: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), returned.as_bytes())
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("State(<redacted>)")
    }
}

impl PartialEq for State {
    fn eq(&self, other: &State) -> bool {
        self.matches(&other.0)
    }
}

/// A PKCE code verifier (RFC 7636): kept secret until the token request.
#[derive(Clone)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// 32 random bytes, base64url (43 characters).
    pub fn random() -> Result<Self, RandomUnavailable> {
        random_token(32).map(PkceVerifier)
    }
    /// A verifier kept from an earlier step.
    pub fn new(value: impl Into<String>) -> Self {
        PkceVerifier(value.into())
    }
    /// The value, for the token request.
    pub fn secret(&self) -> &str {
        &self.0
    }
    /// Its S256 challenge.
    pub fn challenge(&self) -> PkceChallenge {
        let digest = ring::digest::digest(&ring::digest::SHA256, self.0.as_bytes());
        PkceChallenge(URL_SAFE_NO_PAD.encode(digest.as_ref()))
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

/// A PKCE S256 code challenge (public).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The challenge.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Defines a secret string newtype: redacted in `Debug`, no `Display`, compared in constant time,
/// serialized as its value (so that an app can store it where it keeps secrets).
macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(String);

        impl $name {
            /// Wraps a value.
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }
            /// The value itself: for the request that needs it, never for logs.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
            }
        }

        impl Eq for $name {}

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name)
            }
        }
    };
}

secret_string! {
    /// A client secret (confidential symmetric clients).
    ClientSecret
}
secret_string! {
    /// An OAuth access token.
    AccessToken
}
secret_string! {
    /// An OAuth refresh token.
    RefreshToken
}
secret_string! {
    /// An OpenID Connect `id_token` (a signed JWT; see [`crate::auth::SmartClient::verify_id_token`]).
    IdToken
}
secret_string! {
    /// An authorization code, from the redirect back to the app.
    AuthorizationCode
}
secret_string! {
    /// A registration access token (RFC 7592), for managing a dynamically registered client.
    RegistrationToken
}

/// The key that signs and checks a signed (JWT) state: at least 32 bytes.
#[derive(Clone)]
pub struct StateKey(Vec<u8>);

impl StateKey {
    /// A key from bytes the app keeps (at least 32 of them).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, crate::client::Error> {
        let bytes = bytes.into();
        if bytes.len() < 32 {
            return Err(crate::client::Error::new(
                crate::client::ErrorKind::Config,
                "a state key needs at least 32 bytes",
            ));
        }
        Ok(StateKey(bytes))
    }
    /// 32 fresh random bytes (for an app whose states need not survive a restart).
    pub fn random() -> Result<Self, RandomUnavailable> {
        let mut buf = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut buf).map_err(|_| RandomUnavailable)?;
        Ok(StateKey(buf))
    }
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for StateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StateKey(<redacted>)")
    }
}

pub(crate) fn random_id() -> Result<String, RandomUnavailable> {
    random_token(16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(v.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn secrets_are_redacted_and_random() {
        let v = PkceVerifier::random().unwrap();
        let s = State::random().unwrap();
        assert_eq!(v.secret().len(), 43);
        assert!(!format!("{v:?}").contains(v.secret()));
        assert!(!format!("{s:?}").contains(s.secret()));
        assert_ne!(PkceVerifier::random().unwrap().secret(), v.secret());
        assert!(s.matches(s.secret()));
        assert!(!s.matches("other"));
    }
}
