//! Where a request may go: HTTPS (or allowed plain HTTP), URLs under the FHIR base, ids as
//! single path segments, operation names.

use super::{error, Error, ErrorKind};
use crate::search::IntoSearch;
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

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

pub(super) fn check_secure(url: &Url, plain_http: PlainHttp) -> Result<(), Error> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if plain_http == PlainHttp::Anywhere => Ok(()),
        "http" if plain_http == PlainHttp::Loopback && is_loopback(url) => Ok(()),
        "http" if is_loopback(url) => Err(Error::new(
            ErrorKind::Config,
            format!("{} is plain HTTP: allow it with allow_insecure_loopback(true)", error::redact_url(url)),
        )),
        "http" => Err(Error::new(
            ErrorKind::Config,
            format!(
                "{} is not HTTPS (for a test network, allow plain HTTP with allow_insecure_http_for_testing(true))",
                error::redact_url(url)
            ),
        )),
        _ => Err(Error::new(ErrorKind::Config, format!("{} is not HTTPS", error::redact_url(url)))),
    }
}

pub(super) fn same_origin(a: &Url, b: &Url) -> bool {
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

pub(super) fn operation_name(name: &str) -> Result<&str, Error> {
    let name = name.trim_start_matches('$');
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(name)
    } else {
        Err(Error::new(ErrorKind::Config, format!("{name:?} is not an operation name")))
    }
}

/// An id (or version id) as one path segment: FHIR ids are `[A-Za-z0-9\-\.]{1,64}`; anything
/// else would change the request path, and so would an id of dots only (`.`, `..` are dot
/// segments: `Patient/..` is the base itself), which the id pattern allows but no server uses.
pub(crate) fn segment(id: &str) -> Result<&str, Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !id.bytes().all(|b| b == b'.');
    if ok {
        Ok(id)
    } else {
        Err(Error::new(ErrorKind::Config, format!("{id:?} is not a valid FHIR id")))
    }
}

/// The criteria of a conditional interaction; none is an error, since the interaction would
/// then apply to every resource of the type.
pub(super) fn criteria<R>(query: impl IntoSearch<R>, what: &str) -> Result<Vec<(String, String)>, Error> {
    let pairs = query.into_pairs();
    if pairs.is_empty() {
        return Err(Error::new(ErrorKind::Config, format!("{what} needs search criteria")));
    }
    Ok(pairs)
}

/// The criteria of a conditional create as the `If-None-Exist` value (a query string).
pub(super) fn if_none_exist<R>(query: impl IntoSearch<R>) -> Result<String, Error> {
    let pairs = criteria(query, "a conditional create")?;
    Ok(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}
