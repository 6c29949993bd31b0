//! Quickstart — the original FHIRstorm README's "Getting started", in Rust: connect, discover,
//! build the authorization URL (state + PKCE), let the user authorize, exchange the code, take
//! the patient id from the token, fetch the patient, search their medication requests, print a
//! summary.
//!
//! Against the local sandbox (`scripts/sandbox` in another terminal; `scripts/demo` does both):
//!
//! ```text
//! cargo run --example quickstart
//! cargo run --example quickstart -- --help
//! ```

#[path = "common/mod.rs"]
mod common;

use common::{Args, Result, COMMON_HELP};
use fhirstorm::auth::Scopes;
use fhirstorm::r4::{MedicationRequest, Patient};

fn usage() -> String {
    format!(
        "usage: quickstart [options]\n\nA standalone SMART launch, then the patient and their medications.\n\n\
  --client-id ID        the app's client id                 [default: demo-confidential]\n\
  --client-secret S     its secret (omit for a public client) [default: the sandbox demo secret]\n\
  --public              no secret: a public client (PKCE only)\n{COMMON_HELP}"
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(
        &usage,
        &["--fhir-base", "--smart-config", "--redirect-uri", "--client-id", "--client-secret"],
        &["--browser", "--public"],
    );

    // conn = Connection(SERVICE_ROOT); service = conn.metadata.rest[0]
    let conn = common::connect(&args)?;
    let service = conn.service().await?;
    println!("Connected to {} (FHIR {})", conn.base_url(), conn.metadata().await?.fhir_version);

    // auth.authorization_url(service, client_id, client_secret, redirect_uri, scope, state, aud)
    let secret = if args.flag("--public") {
        None
    } else {
        Some(args.get_or("--client-secret", "demo-secret-for-the-local-sandbox-only"))
    };
    let client_id = args.get_or("--client-id", if secret.is_some() { "demo-confidential" } else { "demo-public" });
    let client = common::smart_client(&conn, &args, common::client_auth(client_id, secret)).await?;
    let scopes: Scopes = "openid fhirUser profile offline_access launch/patient patient/*.read".parse()?;
    let (url, state, verifier) = client.authorization_request(scopes)?.url()?;
    println!("Authorization URL (state and PKCE S256 included):\n  {url}");

    // The user signs in and is sent back to the redirect URL.
    let redirect = common::user_authorizes(&args, &url).await?;

    // auth.fetch_token(service, client_id, redirect_uri, authorization_response, client_secret, state)
    let token = client.exchange_redirect(&redirect, &state, &verifier).await?;
    let patient_id =
        token.patient_id_with_unverified_claims().ok_or("the token names no patient: was launch/patient granted?")?;
    println!("Token received: scopes {:?}, patient {patient_id}", token.scope.as_deref().unwrap_or(""));

    // An authorized connection (refreshing its token as needed).
    let service = service.connection().with_session(client.session(token)).service().await?;

    // p = service.r.Patient.fetch(patient_id)
    let patient: Patient = service.r::<Patient>().fetch(&patient_id).await?;
    // service.r.MedicationOrder.search(dict(patient=p.id)) — typed: only a parameter
    // MedicationRequest has, with a reference to a type it allows.
    let meds = service
        .r::<MedicationRequest>()
        .search(MedicationRequest::search().patient(Patient::reference(&patient_id)))
        .await?;

    println!();
    common::print_summary(&patient, meds.matches());
    Ok(())
}
