//! Backend Services — a system app with no user: `client_credentials` with a signed
//! `private_key_jwt` assertion (RS384 or ES384), `system/` scopes, the token cached and renewed
//! by the session. Discovers the token endpoint from the FHIR server itself.
//!
//! ```text
//! cargo run --example backend_services                    # against scripts/sandbox
//! cargo run --example backend_services -- --help
//! ```

#[path = "common/mod.rs"]
mod common;

use common::{Args, Result};
use fhirstorm::auth::{ClientAuth, ClientId, SigningAlgorithm, SmartClient, SmartConfiguration};
use fhirstorm::r4::Patient;

fn usage() -> String {
    "usage: backend_services [options]\n\nA Backend Services client reading every patient.\n\n\
  --fhir-base URL       FHIR R4 base URL                 [default: http://127.0.0.1:8090/fhir]\n\
  --client-id ID        [default: demo-backend]\n\
  --key PATH            its private key, PKCS#8 PEM      [default: .cache/sandbox/keys/rs384.pem]\n\
  --kid KID             the key's id at the server       [default: read from the .kid file beside the key]\n\
  --alg RS384|ES384     [default: RS384]\n\
  --scope SCOPES        [default: system/*.read]\n\
  -h, --help            this help"
        .to_string()
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(&usage, &["--fhir-base", "--client-id", "--key", "--kid", "--alg", "--scope"], &[]);
    let alg = match args.get_or("--alg", "RS384") {
        "RS384" => SigningAlgorithm::Rs384,
        "ES384" => SigningAlgorithm::Es384,
        other => return Err(format!("unsupported --alg {other}").into()),
    };
    let key = common::backend_key(&args, alg)?;

    let conn = common::connect(&args)?;
    let config = SmartConfiguration::discover(&conn).await?;
    println!("Token endpoint: {} (auth methods {:?})", config.token_endpoint, config.token_endpoint_auth_methods);
    let client = SmartClient::new(
        &conn,
        config,
        ClientAuth::PrivateKeyJwt(ClientId::new(args.get_or("--client-id", "demo-backend")), key),
    );
    let session = client.backend_session(args.get_or("--scope", "system/*.read").parse()?).await?;
    println!("Granted {}", session.token().scope.as_deref().unwrap_or("(scope not stated)"));

    let service = conn.with_session(session).service().await?;
    let page = service.r::<Patient>().search(Patient::search().count(50)).await?;
    println!("{} patients:", page.matches().len());
    for p in page.matches() {
        println!("  {:<12} {}", p.id.as_deref().unwrap_or("?"), common::display_name(&p.name));
    }
    Ok(())
}
