//! A bulk export on the fake server: its replies (kick-off, manifest, files) and the client's
//! side (a service with a fixed token, a fast poll policy). For the binaries that include both
//! `support/mod.rs` and `support/fake.rs`.

use std::time::Duration;

use crate::fake::{export_metadata, start_with, Fake, Reply};
use fhirstorm::client::bulk::{ExportJob, Manifest, PollPolicy};
use fhirstorm::client::Service;
use fhirstorm::R4;

/// The access token the fake's service sends.
pub const TOKEN: &str = "bulk-fault-token-abc123";

pub fn kickoff(base: &str) -> Reply {
    Reply::json(202, "").header("content-location", &format!("{base}/status/1"))
}

pub fn manifest(files: &[(&str, &str)]) -> Reply {
    let output: Vec<String> = files.iter().map(|(t, url)| format!(r#"{{"type":"{t}","url":"{url}"}}"#)).collect();
    Reply::json(
        200,
        &format!(
            r#"{{"transactionTime":"2026-11-29T10:00:00Z","request":"x","requiresAccessToken":true,"output":[{}],"error":[]}}"#,
            output.join(",")
        ),
    )
}

pub fn ndjson(body: &str) -> Reply {
    Reply::new(200, "application/fhir+ndjson", body)
}

/// A service on the fake whose requests carry [`TOKEN`].
pub async fn service(f: &Fake) -> Service<R4> {
    crate::support::fixed_token_service(&f.base, TOKEN).await
}

pub fn fast() -> PollPolicy {
    PollPolicy { floor: Duration::from_millis(5), ceiling: Duration::from_millis(20), ..Default::default() }
}

/// Starts an export on a fake with `replies` after the metadata and the kick-off, and waits for
/// the manifest.
pub async fn export(
    replies: impl FnOnce(&str) -> Vec<Reply>,
) -> (Fake, ExportJob<R4>, Result<Manifest, fhirstorm::client::Error>) {
    let f = start_with(|base| [vec![export_metadata(), kickoff(base)], replies(base)].concat()).await;
    let s = service(&f).await;
    let mut job = s.export().start().await.expect("kick-off").with_policy(fast());
    let m = job.wait().await;
    (f, job, m)
}
