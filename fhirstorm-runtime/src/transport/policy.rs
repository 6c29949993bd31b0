//! Where a request may go: HTTPS (or plain HTTP where allowed), and, for a FHIR request, only
//! URLs under the FHIR base.

use crate::error::{redact_url, Error, ErrorKind};
use url::Url;

/// Where plain `http://` is allowed: nowhere (the default), to loopback hosts, or anywhere
/// (`allow_insecure_http_for_testing`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlainHttp {
    Never,
    Loopback,
    Anywhere,
}

impl From<bool> for PlainHttp {
    /// `allow_insecure_loopback`'s bool.
    fn from(loopback: bool) -> PlainHttp {
        if loopback {
            PlainHttp::Loopback
        } else {
            PlainHttp::Never
        }
    }
}

/// An endpoint URL a server named: parsed, and HTTPS unless plain HTTP is allowed for it.
pub(crate) fn checked_url(s: &str, plain_http: PlainHttp) -> Result<Url, Error> {
    // Not echoed: a URL that does not parse cannot be redacted, and may carry a secret.
    let url = Url::parse(s).map_err(|e| {
        Error::new(ErrorKind::Protocol, format!("invalid endpoint URL ({} characters, not shown)", s.chars().count()))
            .with_source(e)
    })?;
    check_secure(&url, plain_http).map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
    Ok(url)
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

pub(crate) fn check_secure(url: &Url, plain_http: PlainHttp) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if plain_http == PlainHttp::Anywhere => Ok(()),
        "http" if plain_http == PlainHttp::Loopback && is_loopback(url) => Ok(()),
        "http" if is_loopback(url) => Err(Error::new(
            ErrorKind::Config,
            format!("{} is plain HTTP: allow it with allow_insecure_loopback(true)", redact_url(url)),
        )),
        "http" => Err(Error::new(
            ErrorKind::Config,
            format!(
                "{} is not HTTPS (for a test network, allow plain HTTP with allow_insecure_http_for_testing(true))",
                redact_url(url)
            ),
        )),
        _ => Err(Error::new(ErrorKind::Config, format!("{} is not HTTPS", redact_url(url)))),
    }
}

pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether `url` is the FHIR base (whose path ends with `/`) or under it: same origin, and its
/// path starts with the base's. `Url` has resolved dot segments already, so `/fhir/../other`
/// is `/other` by then. The only URLs a connection sends requests, and its token, to.
pub(crate) fn under_base(base: &Url, url: &Url) -> bool {
    same_origin(base, url)
        && url.username().is_empty()
        && url.password().is_none()
        && url.path().starts_with(base.path())
}
