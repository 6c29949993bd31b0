//! The loopback redirect of a native app (RFC 8252 §7.3): a desktop or command-line app listens
//! on `http://127.0.0.1:PORT/callback`, opens the authorization URL in the user's browser, and
//! takes the code from the one request the browser sends back — a public client, so PKCE (always
//! on) is what protects the code.
//!
//! ```no_run
//! use fhirstorm::auth::{ClientAuth, ClientId, LoopbackRedirect, SmartClient};
//! use fhirstorm::client::Connection;
//! use fhirstorm::R4;
//!
//! # async fn run() -> Result<(), fhirstorm::client::Error> {
//! let conn = Connection::<R4>::new("https://ehr.example/fhir");
//! let loopback = LoopbackRedirect::bind().await?;
//! let client = SmartClient::discover(&conn, ClientAuth::Public(ClientId::new("my-desktop-app")))
//!     .await?
//!     .redirect_url(loopback.redirect_url().clone());
//! let scopes = "openid fhirUser launch/patient patient/*.read".parse().expect("scopes");
//! # #[cfg(feature = "system-browser")]
//! let token = loopback.authorize(&client, scopes, fhirstorm::auth::open_system_browser).await?;
//! # #[cfg(not(feature = "system-browser"))]
//! # let token = loopback.authorize(&client, scopes, |_| Ok(())).await?;
//! let service = conn.with_session(client.session(token)).service().await?;
//! # let _ = service; Ok(()) }
//! ```
//!
//! The authorization server must accept the loopback redirect with the port the system picked
//! (RFC 8252 §7.3 asks it to allow any port for `127.0.0.1`; register the client as a native
//! one), or the app binds a registered port with [`LoopbackRedirect::bind_port`].

use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use super::{RedirectUrl, Scopes, SmartClient, StateCheck, TokenResponse};
use crate::error::{AuthFailure, Error, ErrorKind};

/// The path the browser is sent back to.
const CALLBACK_PATH: &str = "/callback";
/// The most a request head may take: a redirect with a code and a state is far smaller.
const MAX_HEAD: usize = 16 * 1024;
/// How long one browser connection may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How many connections are read at once; a new one beyond them ends the oldest.
const MAX_CONNECTIONS: usize = 64;

/// A listener on `127.0.0.1` waiting for the authorization server's redirect, for one login.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect: RedirectUrl,
    timeout: Duration,
}

impl LoopbackRedirect {
    /// Listens on `127.0.0.1` on a port the system picks; the redirect URL is
    /// `http://127.0.0.1:PORT/callback`.
    pub async fn bind() -> Result<Self, Error> {
        LoopbackRedirect::bind_port(0).await
    }

    /// Listens on `127.0.0.1:port` (for an authorization server that wants the exact port
    /// registered).
    pub async fn bind_port(port: u16) -> Result<Self, Error> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| {
            Error::new(ErrorKind::Config, format!("cannot listen on 127.0.0.1:{port} for the redirect: {e}"))
        })?;
        let port = listener.local_addr().map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?.port();
        let redirect = RedirectUrl::new(&format!("http://127.0.0.1:{port}{CALLBACK_PATH}"))
            .map_err(|e| Error::new(ErrorKind::Config, e.to_string()))?;
        Ok(LoopbackRedirect { listener, redirect, timeout: Duration::from_secs(300) })
    }

    /// The redirect URL to give the client ([`SmartClient::redirect_url`]).
    pub fn redirect_url(&self) -> &RedirectUrl {
        &self.redirect
    }

    /// How long to wait for the user to come back (default five minutes).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The whole login: builds the authorization URL (state and PKCE), gives it to `open` (say
    /// [`open_system_browser`]), waits for the browser to come back, checks the state and
    /// exchanges the code with `client` (whose redirect URL must be this one's). The browser's
    /// tab is answered with a short page saying whether the login worked.
    ///
    /// Connections are read side by side (up to 64 at once, each for ten seconds at most; a
    /// 65th ends the oldest), so that idle ones cannot hold up the redirect. Requests that are not the redirect (a
    /// `favicon.ico`), or that do not carry exactly this login's state (a stale tab, a request
    /// a page or another local program made up), are answered with a page and the wait goes
    /// on: nothing can end the login before the state is confirmed. Once it is, the
    /// authorization server's error (`access_denied`) ends the login as
    /// [`AuthFailure::Denied`], as does any other failed check of the redirect. Nothing arrives
    /// within the timeout: [`ErrorKind::Timeout`].
    pub async fn authorize(
        self,
        client: &SmartClient,
        scopes: Scopes,
        open: impl FnOnce(&Url) -> std::io::Result<()>,
    ) -> Result<TokenResponse, Error> {
        if client.redirect_url_ref() != Some(&self.redirect) {
            return Err(Error::new(
                ErrorKind::Config,
                "the client's redirect URL is not this loopback's: give it loopback.redirect_url()",
            ));
        }
        let (url, state, verifier) = client
            .authorization_request(scopes)?
            .url()
            .map_err(|e| Error::auth_failure(AuthFailure::Key, e.to_string()))?;
        open(&url).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("could not open the browser: {e}; open the authorization URL by hand"),
            )
        })?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        // Every connection is read on its own task, so that connections that send nothing (a
        // browser's speculative ones, or a local process's) cannot hold up the redirect.
        let mut reading = tokio::task::JoinSet::new();
        // The reading tasks, oldest first: when all the room is taken, the oldest gives way.
        let mut started = std::collections::VecDeque::new();
        let mut timer = std::pin::pin!(tokio::time::sleep_until(deadline));
        loop {
            let event = std::future::poll_fn(|cx| {
                if timer.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(None);
                }
                if let Poll::Ready(Some(read)) = reading.poll_join_next(cx) {
                    return Poll::Ready(Some(read.ok()));
                }
                if let Poll::Ready(accepted) = self.listener.poll_accept(cx) {
                    if let Ok((stream, _)) = accepted {
                        if reading.len() >= MAX_CONNECTIONS {
                            if let Some(oldest) = started.pop_front() {
                                tokio::task::AbortHandle::abort(&oldest);
                            }
                        }
                        started.push_back(reading.spawn(read_request(stream)));
                        if started.len() > 2 * MAX_CONNECTIONS {
                            started.retain(|t: &tokio::task::AbortHandle| !t.is_finished());
                        }
                    }
                    // Polled again at once: the new task and the next connection.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            })
            .await;
            let Some(read) = event else {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!("the browser did not come back within {} s", self.timeout.as_secs()),
                ));
            };
            // A reading task that panicked or was cancelled: that connection is gone.
            let Some((mut stream, target)) = read else { continue };
            let Some(target) = target else {
                respond(&mut stream, 400, "Bad request", "This is not a request this app understands.").await;
                continue;
            };
            if target.split('?').next() != Some(CALLBACK_PATH) {
                respond(&mut stream, 404, "Not found", "Nothing here: this app is waiting for a sign-in.").await;
                continue;
            }
            // Until the state is confirmed, the request may come from anyone who can reach the
            // port (a page, a local process): it is answered, and the wait goes on.
            if !carries_state(&target, &state) {
                respond(
                    &mut stream,
                    400,
                    "Not this sign-in",
                    "This app is waiting for another sign-in; use the newest tab.",
                )
                .await;
                continue;
            }
            let redirect = format!("{}{}", self.redirect.url().origin().ascii_serialization(), target);
            let code = match client.code_from_redirect(&redirect, &state) {
                Ok(code) => code,
                Err(e) => {
                    respond(&mut stream, 400, "Sign-in failed", &e.to_string()).await;
                    return Err(e);
                }
            };
            let token = client.exchange_code(&code, &verifier).await;
            match &token {
                Ok(_) => {
                    respond(
                        &mut stream,
                        200,
                        "Signed in",
                        "You are signed in. You can close this tab and go back to the app.",
                    )
                    .await
                }
                Err(e) => respond(&mut stream, 400, "Sign-in failed", &e.to_string()).await,
            }
            return token;
        }
    }
}

/// Whether the request target carries exactly one `state`, and it is the one this login sent.
fn carries_state(target: &str, state: &dyn StateCheck) -> bool {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let mut states = url::form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k == "state");
    match (states.next(), states.next()) {
        (Some((_, returned)), None) => state.check_state(Some(&returned)).is_ok(),
        _ => false,
    }
}

/// Opens `url` in the user's default browser (the `webbrowser` crate: `$BROWSER`, then the
/// platform's opener — `xdg-open`, `open`, `start`).
#[cfg(feature = "system-browser")]
pub fn open_system_browser(url: &Url) -> std::io::Result<()> {
    webbrowser::open(url.as_str())
}

/// The connection, with the target of its request ([`read_target`]).
async fn read_request(mut stream: TcpStream) -> (TcpStream, Option<String>) {
    let target = read_target(&mut stream).await;
    (stream, target)
}

/// The request target of a `GET` (`/callback?code=...`), or `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await.ok()?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Some(())
    };
    tokio::time::timeout(READ_TIMEOUT, read).await.ok()??;
    let line = head.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    (method == "GET" && target.starts_with('/') && version.starts_with("HTTP/1.") && parts.next().is_none())
        .then(|| target.to_string())
}

/// A small page for the browser tab, and the connection closed.
async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{p}</p></body></html>\n",
        t = escape_html(title),
        p = escape_html(text)
    );
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nreferrer-policy: no-referrer\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn target_of(request: &'static [u8]) -> Option<String> {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(request).await.unwrap();
            let mut answer = Vec::new();
            let _ = s.read_to_end(&mut answer).await;
        });
        let (mut stream, _) = listener.accept().await.unwrap();
        let target = read_target(&mut stream).await;
        drop(stream);
        client.await.unwrap();
        target
    }

    #[tokio::test]
    async fn only_a_get_with_a_path_is_read() {
        let ok = target_of(b"GET /callback?code=a&state=b HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert_eq!(ok.as_deref(), Some("/callback?code=a&state=b"));
        assert_eq!(target_of(b"POST /callback HTTP/1.1\r\n\r\n").await, None);
        assert_eq!(target_of(b"GET http://evil/callback HTTP/1.1\r\n\r\n").await, None);
        assert_eq!(target_of(b"GET /callback HTTP/1.1 extra\r\n\r\n").await, None);
        assert_eq!(target_of(b"\xff\xfe\r\n\r\n").await, None);
    }

    #[test]
    fn pages_escape_what_they_show() {
        assert_eq!(
            escape_html("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
