//! A fake FHIR server (hand-written, for what no real server does on demand: faults, DSTU2 and
//! STU3 endpoints). It answers each request with the next scripted reply and records requests.
//! Each test binary uses a part of it.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One scripted reply.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Shared, so that a large body is not copied for each connection.
    pub body: Arc<Vec<u8>>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// Send the body one byte at a time with this pause (a slow server).
    pub trickle: Option<Duration>,
    /// Send only this many bytes of the body (the head announces all of it), then close.
    pub cut_after: Option<usize>,
    /// Reset the connection (RST) instead of closing it, after `cut_after` bytes.
    pub reset: bool,
    /// No length: stream the body again and again, forever (an endless response).
    pub endless: bool,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::new(status, "application/fhir+json", body)
    }
    pub fn new(status: u16, content_type: &str, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: Arc::new(body.as_bytes().to_vec()),
            delay: Duration::ZERO,
            trickle: None,
            cut_after: None,
            reset: false,
            endless: false,
        }
    }
    pub fn header(mut self, k: &str, v: &str) -> Reply {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// A request as the fake saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

pub struct Fake {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A capability statement for `fhir_version`, advertising `types` with every interaction.
pub fn metadata(fhir_version: &str, types: &[&str]) -> String {
    let interactions = r#"[{"code":"read"},{"code":"vread"},{"code":"update"},{"code":"delete"},{"code":"create"},{"code":"search-type"},{"code":"history-instance"}]"#;
    let resources: Vec<String> = types
        .iter()
        .map(|t| format!(r#"{{"type":"{t}","interaction":{interactions},"searchParam":[{{"name":"patient","type":"reference"}}]}}"#))
        .collect();
    let rt = if fhir_version.starts_with("1.0") { "Conformance" } else { "CapabilityStatement" };
    format!(
        r#"{{"resourceType":"{rt}","status":"active","fhirVersion":"{fhir_version}","rest":[{{"mode":"server","resource":[{}]}}]}}"#,
        resources.join(",")
    )
}

/// A capability statement (R4) advertising `$export` at the system level and for `Patient` and
/// `Group`, and `read` of `Patient`.
pub fn export_metadata() -> Reply {
    let op =
        r#""operation":[{"name":"export","definition":"http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}]"#;
    Reply::json(
        200,
        &format!(
            r#"{{"resourceType":"CapabilityStatement","status":"active","fhirVersion":"4.0.1","rest":[{{"mode":"server",{op},"resource":[{{"type":"Patient","interaction":[{{"code":"read"}}],{op}}},{{"type":"Group",{op}}}]}}]}}"#
        ),
    )
}

/// Starts a fake that answers `replies` in order (the last one repeats).
pub async fn start(replies: Vec<Reply>) -> Fake {
    start_with(|_| replies).await
}

/// Starts a fake whose replies may name its own base URL (`http://127.0.0.1:PORT/fhir`).
pub async fn start_with(replies: impl FnOnce(&str) -> Vec<Reply>) -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}/fhir", listener.local_addr().expect("addr"));
    let replies = replies(&base);
    assert!(!replies.is_empty(), "a fake needs at least one reply");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let task = tokio::spawn(async move {
        let mut next = 0usize;
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let reply = replies[next.min(replies.len() - 1)].clone();
            next += 1;
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head and (by Content-Length) the body.
                let head_end = loop {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.lines();
                let first: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| {
                        l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
                    })
                    .collect();
                let len: usize =
                    headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
                while buf.len() < head_end + len {
                    let Ok(n) = sock.read(&mut chunk).await else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                log.lock().unwrap().push(Seen {
                    method: first.first().unwrap_or(&"").to_string(),
                    path: first.get(1).unwrap_or(&"").to_string(),
                    headers,
                });
                tokio::time::sleep(reply.delay).await;
                let mut out = if reply.endless {
                    format!("HTTP/1.1 {} X\r\nconnection: close\r\n", reply.status)
                } else {
                    format!(
                        "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                        reply.status,
                        reply.body.len()
                    )
                };
                for (k, v) in &reply.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                if sock.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
                if reply.endless {
                    while sock.write_all(&reply.body).await.is_ok() {}
                    return;
                }
                if let Some(n) = reply.cut_after {
                    let _ = sock.write_all(&reply.body[..n.min(reply.body.len())]).await;
                    let _ = sock.flush().await;
                    if reply.reset {
                        // SO_LINGER 0: the close sends a reset. (Deprecated in tokio because a
                        // non-zero linger blocks on drop; zero does not.)
                        #[allow(deprecated)]
                        let _ = sock.set_linger(Some(Duration::ZERO));
                    } else {
                        let _ = sock.shutdown().await;
                    }
                    return;
                }
                match reply.trickle {
                    None => {
                        let _ = sock.write_all(&reply.body).await;
                    }
                    Some(pause) => {
                        for b in reply.body.iter() {
                            if sock.write_all(&[*b]).await.is_err() {
                                return;
                            }
                            tokio::time::sleep(pause).await;
                        }
                    }
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    Fake { base, seen, task }
}

/// A SMART client (redirect `http://127.0.0.1:9/cb`) whose token and authorization endpoints
/// are the fake itself, so that the fake's replies are the token endpoint's answers.
pub fn smart_client<V: fhirstorm::client::ClientVersion>(
    f: &Fake,
    auth: fhirstorm::auth::ClientAuth,
) -> fhirstorm::auth::SmartClient {
    use fhirstorm::auth::{RedirectUrl, SmartClient, SmartConfiguration};
    let config = format!(r#"{{"token_endpoint":"{0}/token","authorization_endpoint":"{0}/auth"}}"#, f.base);
    let config = SmartConfiguration::from_slice(config.as_bytes(), true).expect("a valid configuration");
    let conn = fhirstorm::client::Connection::<V>::builder(&f.base)
        .allow_insecure_loopback(true)
        .build()
        .expect("a connection");
    SmartClient::new(&conn, config, auth).redirect_url(RedirectUrl::new("http://127.0.0.1:9/cb").expect("a URL"))
}
