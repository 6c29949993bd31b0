//! Desktop or command-line login (RFC 8252): the app listens on `127.0.0.1` on a free port,
//! opens the system browser at the authorization server, and takes the code from the one
//! request the browser sends back — a public client with PKCE: no secret, no URL to paste.
//! Reads the patient in context.
//!
//! ```text
//! scripts/sandbox &                                        # the sandbox's client demo-native
//! cargo run --example desktop_login --features system-browser
//! cargo run --example desktop_login --features system-browser -- --no-browser   # print the URL instead
//! ```
//!
//! It needs a person at a browser, so `scripts/run-examples` does not run it; `tests/browser.rs`
//! drives the same `LoopbackRedirect::authorize` in headless Chromium.

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Args, Result};
use fhirstorm::auth::{open_system_browser, LoopbackRedirect};
use fhirstorm::r4::Patient;

fn usage() -> String {
    "usage: desktop_login [options]\n\nSign in through the system browser and a loopback redirect.\n\n\
  --fhir-base URL       FHIR R4 base URL                    [default: http://127.0.0.1:8090/fhir]\n\
  --smart-config URL    the authorization server's SMART configuration [default: the sandbox's]\n\
  --client-id ID        a public client registered as native [default: demo-native]\n\
  --no-browser          print the authorization URL instead of opening the browser\n\
  -h, --help            this help"
        .to_string()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(&usage, &["--fhir-base", "--smart-config", "--client-id"], &["--no-browser"]);
    let conn = common::connect(&args)?;
    let loopback = LoopbackRedirect::bind().await?.timeout(Duration::from_secs(300));
    let auth = common::client_auth(args.get_or("--client-id", "demo-native"), None);
    let client = common::smart_client(&conn, &args, auth).await?.redirect_url(loopback.redirect_url().clone());
    println!("Waiting for the browser at {} (five minutes at most)", loopback.redirect_url().as_str());
    let scopes = "openid fhirUser launch/patient patient/*.read".parse()?;
    let token = if args.flag("--no-browser") {
        loopback
            .authorize(&client, scopes, |url| {
                println!("Open this URL in a browser on this machine:\n\n  {url}\n");
                Ok(())
            })
            .await?
    } else {
        loopback.authorize(&client, scopes, open_system_browser).await?
    };
    let patient_id = token.patient_id().ok_or("no patient in context")?.to_string();
    let service = conn.with_session(client.session(token)).service().await?;
    let patient: Patient = service.r::<Patient>().fetch(&patient_id).await?;
    println!("Signed in. Patient in context: {} ({patient_id})", common::display_name(&patient.name));
    Ok(())
}
