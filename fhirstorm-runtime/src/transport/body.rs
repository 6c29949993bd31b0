//! Reading HTTP answers: transport errors, bounded bodies, `Retry-After`, status reasons and
//! body excerpts.

use std::time::Duration;

use crate::error::{Error, ErrorKind};
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::Method;
use url::Url;

pub(crate) fn transport_error(e: reqwest::Error, method: &Method, url: &Url) -> Error {
    let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
    let what = if e.is_timeout() { "timed out" } else { "request failed" };
    // reqwest's message may include the URL with its query: keep only our redacted one.
    Error::new(kind, what).with_source(e.without_url()).with_request(method.as_str(), url)
}

/// How much of an error response's body is read (for its `OperationOutcome` and an excerpt).
pub(crate) const MAX_ERROR_BODY: usize = 1 << 20;

/// The first `max` bytes of the body; the rest is not read (the connection is dropped).
pub(crate) async fn read_prefix(mut resp: super::Incoming, max: usize) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while body.len() < max {
        match resp.chunk().await {
            Ok(Some(c)) => body.extend_from_slice(&c[..c.len().min(max - body.len())]),
            Ok(None) => break,
            // What arrived of an error body is enough: the status is the error.
            Err(_) => break,
        }
    }
    Ok(body)
}

pub(crate) async fn read_limited(mut resp: super::Incoming, max: usize) -> Result<Vec<u8>, Error> {
    if resp.content_length().is_some_and(|n| n > max as u64) {
        return Err(Error::new(ErrorKind::TooLarge, format!("response body larger than the maximum of {max} bytes")));
    }
    // Room for what the server announced (up to 32 MiB, whatever it claims), so that a large
    // body is not copied as it grows.
    let announced = resp.content_length().unwrap_or(0).min(32 << 20) as usize;
    let mut body = Vec::with_capacity(announced);
    loop {
        let chunk = resp.chunk().await.map_err(|e| {
            let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Transport };
            Error::new(kind, "reading the response body failed").with_source(e.without_url())
        })?;
        match chunk {
            None => return Ok(body),
            Some(c) => {
                if body.len() + c.len() > max {
                    return Err(Error::new(
                        ErrorKind::TooLarge,
                        format!("response body larger than the maximum of {max} bytes"),
                    ));
                }
                body.extend_from_slice(&c);
            }
        }
    }
}

/// `Retry-After`: seconds, or an HTTP-date read against the clock. Anything else is ignored
/// (the policy's backoff applies); the caller caps the wait.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_value(headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?, std::time::SystemTime::now())
}

/// `Retry-After`'s value at `now`: delay-seconds, or an HTTP-date in any of RFC 9110's three
/// forms (by the `httpdate` crate, whose four-digit years cannot overflow), a past date being
/// no wait at all.
pub(crate) fn retry_after_value(v: &str, now: std::time::SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

pub(crate) fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("error status")
}

/// A server's text made safe to show: control characters, and those that reorder or hide text
/// on a terminal (bidirectional overrides and isolates, zero-width characters), become spaces.
pub(crate) fn printable(text: &str) -> String {
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    text.chars().map(|c| if hidden(c) { ' ' } else { c }).collect()
}

/// A short, printable excerpt of a non-FHIR body (an HTML error page, say).
pub(crate) fn excerpt(body: &[u8], content_type: Option<&HeaderValue>) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(400)]);
    let flat = printable(&text);
    let flat = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    let cut: String = flat.chars().take(160).collect();
    let ellipsis = if flat.chars().count() > 160 || body.len() > 400 { "…" } else { "" };
    match content_type.and_then(|c| c.to_str().ok()) {
        Some(ct) => format!("({ct}) {cut}{ellipsis}"),
        None => format!("{cut}{ellipsis}"),
    }
}

#[cfg(test)]
mod excerpt_tests {
    /// An excerpt carries no character that could rewrite or hide what a terminal shows.
    #[test]
    fn excerpts_drop_control_and_bidi_characters() {
        let body = "ok\u{1b}[2J\u{202E}evil\u{2066}x\u{200B}y\r\nz".as_bytes();
        let shown = super::excerpt(body, None);
        assert_eq!(shown, "ok [2J evil x y z");
    }
}

#[cfg(test)]
mod retry_tests {
    #[test]
    pub(crate) fn retry_after_values() {
        use std::time::{Duration, SystemTime, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        let at = |v| super::retry_after_value(v, now);
        assert_eq!(at("120"), Some(Duration::from_secs(120)));
        assert_eq!(at("Sun, 06 Nov 1994 08:51:37 GMT"), Some(Duration::from_secs(120)));
        assert_eq!(at("Sunday, 06-Nov-94 08:51:37 GMT"), Some(Duration::from_secs(120)), "RFC 850");
        assert_eq!(at("Sun Nov  6 08:51:37 1994"), Some(Duration::from_secs(120)), "asctime");
        assert_eq!(at("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO), "in the past");
        assert_eq!(at("Sun, 06 Nov 1994 08:49:37 PST"), None);
        assert_eq!(at(""), None);
        assert_eq!(at("-1"), None);
        // Years that overflowed the old hand-written date arithmetic.
        assert_eq!(at("Sun, 06 Nov 18446744073709551615 08:49:37 GMT"), None);
        assert_eq!(at("Sun, 06 Nov 99999999999999999999 08:49:37 GMT"), None);
        assert!(at("Fri, 31 Dec 9999 23:59:59 GMT").is_some());
        assert!(super::retry_after_value("Fri, 31 Dec 9999 23:59:59 GMT", SystemTime::now()).is_some());
    }
}
