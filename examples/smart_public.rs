//! Public app — the Python FHIRstorm's authorization tutorial for an app that cannot keep a secret (a
//! browser or desktop app): PKCE (S256) protects the code, and the random state is kept by the
//! app and compared in constant time. Reads the patient and their conditions.
//!
//! ```text
//! cargo run --example smart_public                        # against scripts/sandbox
//! cargo run --example smart_public -- --help
//! ```

#[path = "common/mod.rs"]
mod common;

use common::{Args, Result, COMMON_HELP};
use fhirstorm::prelude::*;
use fhirstorm::r4::{Condition, Patient};

fn usage() -> String {
    format!(
        "usage: smart_public [options]\n\nA public client: PKCE and state, no secret.\n\n\
  --client-id ID        [default: demo-public]\n{COMMON_HELP}"
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(&usage, &["--fhir-base", "--smart-config", "--redirect-uri", "--client-id"], &["--browser"]);
    let conn = common::connect(&args)?;
    let client =
        common::smart_client(&conn, &args, common::client_auth(args.get_or("--client-id", "demo-public"), None))
            .await?;
    println!(
        "Authorization server: {} (PKCE methods: {:?})",
        client.configuration().authorization_endpoint.as_ref().map(|u| u.as_str()).unwrap_or("?"),
        client.configuration().code_challenge_methods
    );

    // The state and the PKCE verifier stay with the app until the user comes back.
    let (url, state, verifier) =
        client.authorization_request("openid fhirUser launch/patient patient/*.read".parse()?)?.url()?;
    let redirect = common::user_authorizes(&args, &url).await?;
    let token = client.exchange_redirect(&redirect, &state, &verifier).await?;
    let patient_id = token.patient_id_with_unverified_claims().ok_or("no patient in context")?;

    let service = conn.with_session(client.session(token)).service().await?;
    let patient: Patient = service.r::<Patient>().fetch(&patient_id).await?;
    println!("Patient: {}", common::display_name(&patient.name));
    let conditions =
        service.r::<Condition>().search(Condition::search().patient(Patient::reference(&patient_id))).await?;
    for c in conditions.matches() {
        let text = c.code.as_ref().and_then(|cc| cc.text.value().cloned()).unwrap_or_else(|| "(uncoded)".into());
        println!("  condition: {text}");
    }
    Ok(())
}
