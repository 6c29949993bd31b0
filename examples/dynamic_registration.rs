//! Dynamic registration — the Python FHIRstorm's example app that registers itself (RFC 7591) at the
//! server's `registration_endpoint`, then signs in with the client it got and reads the patient.
//!
//! ```text
//! cargo run --example dynamic_registration                # against scripts/sandbox
//! cargo run --example dynamic_registration -- --help
//! ```

#[path = "common/mod.rs"]
mod common;

use common::{Args, Result, COMMON_HELP};
use fhirstorm::auth::{register, ClientRegistration, RedirectUrl, SmartClient};
use fhirstorm::r4::Patient;

fn usage() -> String {
    format!(
        "usage: dynamic_registration [options]\n\nRegisters a new client, then signs in with it.\n\n\
  --name NAME           the client_name to register     [default: fhirstorm example app]\n\
  --public              register a public client (no secret)\n{COMMON_HELP}"
    )
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args =
        Args::parse(&usage, &["--fhir-base", "--smart-config", "--redirect-uri", "--name"], &["--browser", "--public"]);
    let conn = common::connect(&args)?;
    let config = common::configuration(&conn, &args).await?;
    let redirect = RedirectUrl::new(args.get_or("--redirect-uri", common::SANDBOX_REDIRECT))?;
    let name = args.get_or("--name", "fhirstorm example app");
    let wanted = if args.flag("--public") {
        ClientRegistration::public(name, &redirect)
    } else {
        ClientRegistration::confidential(name, &redirect)
    };
    let registered = register(&conn, &config, &wanted).await?;
    println!(
        "Registered {:?} as client {} ({}; secret issued: {})",
        name,
        registered.client_id,
        registered.token_endpoint_auth_method.as_deref().unwrap_or("?"),
        registered.client_secret.is_some()
    );

    let client = SmartClient::new(&conn, config, registered.client_auth()).redirect_url(redirect);
    let (url, state, verifier) =
        client.authorization_request("openid fhirUser launch/patient patient/*.read".parse()?)?.url()?;
    let back = common::user_authorizes(&args, &url).await?;
    let token = client.exchange_redirect(&back, &state, &verifier).await?;
    let patient_id = token.patient_id_with_unverified_claims().ok_or("no patient in context")?;
    let patient: Patient =
        conn.with_session(client.session(token)).service().await?.r::<Patient>().fetch(&patient_id).await?;
    println!("Signed in with the new client; patient {}", common::display_name(&patient.name));
    Ok(())
}
