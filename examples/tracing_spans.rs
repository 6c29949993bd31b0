//! What fhirstorm tells `tracing`: a `fhir.request` span per HTTP request (method, URL without
//! its query string, status; `fhir.auth` for the authorization server's), a `response` event
//! with the time and size, and the session's token renewals. Here printed by
//! `tracing-subscriber`'s formatter with each span's time when it closes, for a Backend
//! Services session reading patients. No token, secret or query value appears in any of it.
//!
//! ```text
//! cargo run --example tracing_spans                    # against scripts/sandbox
//! ```

#[path = "common/mod.rs"]
mod common;

use common::{Args, Result};
use fhirstorm::auth::{ClientAuth, ClientId, SigningAlgorithm, SmartClient, SmartConfiguration};
use fhirstorm::r4::Patient;
use tracing_subscriber::fmt::format::FmtSpan;

fn usage() -> String {
    "usage: tracing_spans [options]\n\nA Backend Services client reading patients, its spans printed.\n\n\
  --fhir-base URL       FHIR R4 base URL                 [default: http://127.0.0.1:8090/fhir]\n\
  --key PATH            the backend client's private key [default: .cache/sandbox/keys/rs384.pem]\n\
  --kid KID             the key's id at the server       [default: read from the .kid file beside the key]\n\
  -h, --help            this help"
        .to_string()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_span_events(FmtSpan::CLOSE)
        .with_target(false)
        .with_ansi(false)
        .init();
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(&usage, &["--fhir-base", "--key", "--kid"], &[]);
    let key = common::backend_key(&args, SigningAlgorithm::Rs384)?;
    let conn = common::connect(&args)?;
    let config = SmartConfiguration::discover(&conn).await?;
    let client = SmartClient::new(&conn, config, ClientAuth::PrivateKeyJwt(ClientId::new("demo-backend"), key));
    let session = client.backend_session("system/*.read".parse()?).await?;
    let service = conn.with_session(session).service().await?;
    let page = service.r::<Patient>().search(Patient::search().count(5)).await?;
    if let Some(id) = page.matches().first().and_then(|p| p.id.clone()) {
        service.r::<Patient>().fetch(&id).await?;
    }
    println!("read {} patient(s); the spans above are fhirstorm's", page.matches().len());
    Ok(())
}
