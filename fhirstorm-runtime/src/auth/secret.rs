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
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
    /// A verifier kept from an earlier step: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`
    /// (RFC 7636 §4.1); anything else is refused, as the authorization server would refuse it
    /// after the user had already signed in.
    pub fn new(value: impl Into<String>) -> Result<Self, crate::error::Error> {
        let value = value.into();
        let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        if !(43..=128).contains(&value.len()) || !value.bytes().all(unreserved) {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::Config,
                format!(
                    "a PKCE verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636); this one has {}",
                    value.len()
                ),
            ));
        }
        Ok(PkceVerifier(value))
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

/// Secrets are overwritten with zeros when dropped (what the type holds; copies that went into
/// an HTTP request body belong to the HTTP stack).
macro_rules! zeroize_on_drop {
    ($($name:ident),*) => {$(
        impl Drop for $name {
            fn drop(&mut self) {
                zeroize::Zeroize::zeroize(&mut self.0);
            }
        }
    )*};
}

zeroize_on_drop!(State, PkceVerifier, StateKey);

/// A value holding secrets, lent to serde on purpose: `token.for_storage()` serializes the
/// token response with its tokens, for the app's own secret store (a database row, an encrypted
/// cookie, a session). The types themselves do not implement `Serialize`, so that no serializer
/// writes a secret by accident:
///
/// ```compile_fail,E0277
/// fn log_as_json<T: serde::Serialize>(_: &T) {}
/// log_as_json(&fhirstorm::auth::AccessToken::new("a-token")); // no Serialize: does not compile
/// ```
///
/// ```
/// let token = fhirstorm::auth::AccessToken::new("a-token");
/// assert_eq!(serde_json::to_string(&token.for_storage()).unwrap(), r#""a-token""#);
/// ```
#[derive(Clone, Copy)]
pub struct ForStorage<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: ?Sized> fmt::Debug for ForStorage<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ForStorage(<redacted>)")
    }
}

/// Defines a secret string newtype: redacted in `Debug`, no `Display`, compared in constant time,
/// and no `Serialize`: only [`ForStorage`] writes its value, so that no serializer (a log line,
/// a JSON response) can write it by accident. It reads with serde as a plain string.
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
            /// The value for serde, to store it where the app keeps secrets.
            pub fn for_storage(&self) -> ForStorage<'_, Self> {
                ForStorage(self)
            }
        }

        impl serde::Serialize for ForStorage<'_, $name> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0 .0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        zeroize_on_drop!($name);

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
            }
        }

        impl Eq for $name {}

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
    /// What ties a signed state to the browser that started the login: a random value the app
    /// sets in that browser as an `HttpOnly`, `Secure`, `SameSite=Lax` cookie before sending it to
    /// the authorization server, and reads back from the cookie at the callback (see
    /// [`crate::auth::jwt_state`]). `BrowserBinding::random()` makes one.
    BrowserBinding
}

impl BrowserBinding {
    /// 32 random bytes, base64url: a new binding for a new login.
    pub fn random() -> Result<Self, RandomUnavailable> {
        random_token(32).map(BrowserBinding)
    }
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
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, crate::error::Error> {
        let bytes = bytes.into();
        if bytes.len() < 32 {
            return Err(crate::error::Error::new(
                crate::error::ErrorKind::Config,
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
        let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert_eq!(v.challenge().as_str(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn pkce_verifiers_follow_rfc7636() {
        assert!(PkceVerifier::new("a".repeat(43)).is_ok());
        assert!(PkceVerifier::new("-._~AZaz09".repeat(12) + "12345678").is_ok(), "128 characters");
        assert!(PkceVerifier::new("a".repeat(42)).is_err(), "too short");
        assert!(PkceVerifier::new("a".repeat(129)).is_err(), "too long");
        assert!(PkceVerifier::new("").is_err());
        assert!(PkceVerifier::new(format!("{}+", "a".repeat(43))).is_err(), "not unreserved");
        assert!(PkceVerifier::new(format!("{}é", "a".repeat(43))).is_err());
        let e = PkceVerifier::new("short-secret").unwrap_err();
        assert!(!e.to_string().contains("short-secret"), "the value is not echoed: {e}");
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
