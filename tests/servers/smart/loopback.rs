//! The loopback redirect of a native app (`LoopbackRedirect`) at oidc-provider, with a page or
//! a local process reaching the port before the browser comes back.

use std::time::Duration;

use super::{World, USER_SCOPES};
use crate::support::browse_to_redirect;
use fhirstorm::auth::{ClientAuth, ClientId, LoopbackRedirect, SmartClient, SmartConfiguration};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Client id of the native client (registered by `smart.rs` with the loopback port).
pub const NATIVE: &str = "native";

/// Requests anyone who can reach the port can make without knowing the state: none of them may
/// end the login.
const FORGED: [&str; 5] = [
    "/callback?error=access_denied",
    "/callback?error=access_denied&state=guess",
    "/callback?code=a&code=b",
    "/callback?state=x&state=y&code=a",
    "/callback?code=a&iss=https%3A%2F%2Fevil.example",
];

/// A raw `GET` on the loopback port, as a page's image or a local process would send it: the
/// status line of the answer.
async fn get(port: u16, target: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await.map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or_default().to_string())
}

/// Idle connections first (ten of them: read one after the other, ten seconds each, they would
/// outlast the login's 30 s), then forged redirects; then the real one signs in.
pub async fn nothing_before_the_state_ends_the_login(w: &World, port: u16) -> Result<(), String> {
    let conn = super::conn(w);
    let config = SmartConfiguration::from_url(&conn, &format!("{}/.well-known/smart-configuration", w.smart.issuer))
        .await
        .map_err(|e| e.to_string())?;
    let loopback = LoopbackRedirect::bind_port(port).await.map_err(|e| e.to_string())?.timeout(Duration::from_secs(30));
    let prefix = loopback.redirect_url().url().to_string();
    let client = SmartClient::new(&conn, config, ClientAuth::Public(ClientId::new(NATIVE)))
        .redirect_url(loopback.redirect_url().clone());
    let (opened, url) = tokio::sync::oneshot::channel();
    let scopes = USER_SCOPES.parse().map_err(|e| format!("{e}"))?;
    let login = loopback.authorize(&client, scopes, move |url| {
        let _ = opened.send(url.clone());
        Ok(())
    });
    let others_then_browser = async {
        let url = url.await.map_err(|_| "the login never opened the browser".to_string())?;
        let mut idle = Vec::new();
        for _ in 0..10 {
            idle.push(TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?);
        }
        for target in FORGED {
            let status = get(port, target).await?;
            ensure!(status.starts_with("HTTP/1.1 400"), "{target}: {status}");
        }
        let back = browse_to_redirect(url.as_str(), &prefix).await?;
        let page = reqwest::get(&back).await.map_err(|e| e.to_string())?.text().await.map_err(|e| e.to_string())?;
        drop(idle);
        Ok::<_, String>(page)
    };
    let (token, page) = tokio::join!(login, others_then_browser);
    let page = page?;
    let token = token.map_err(|e| format!("the login ended: {e}"))?;
    ensure!(page.contains("You are signed in"), "{page}");
    ensure!(token.patient_id() == Some(w.patient_id.as_str()), "patient in context: {:?}", token.patient_id());
    w.remember(&token);
    Ok(())
}
