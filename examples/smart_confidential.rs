//! Confidential app — the Python FHIRstorm's "Obtain an authorization code / token" tutorial with a client
//! secret and a *signed* state (`auth.jwt_state(INTERNAL_SECRET)` and
//! `auth.jwt_state_validator(INTERNAL_SECRET)`), then the id_token verified, the patient read,
//! and the token refreshed (the Python FHIRstorm's `service.refresh_token()`).
//!
//! ```text
//! cargo run --example smart_confidential                  # against scripts/sandbox
//! cargo run --example smart_confidential -- --help
//! ```

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Args, Result, COMMON_HELP};
use fhirstorm::auth::{jwt_state, BrowserBinding, PkceVerifier, StateKey, StateValidator};
use fhirstorm::r4::Patient;

fn usage() -> String {
    format!(
        "usage: smart_confidential [options]\n\nA confidential client (client_secret_basic) with a signed state.\n\n\
  --client-id ID        [default: demo-confidential]\n\
  --client-secret S     [default: the sandbox demo secret]\n\
  --save PATH           write the token response there (JSON; it holds secrets)\n{COMMON_HELP}"
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
        &["--fhir-base", "--smart-config", "--redirect-uri", "--client-id", "--client-secret", "--save"],
        &["--browser"],
    );
    let conn = common::connect(&args)?;
    let auth = common::client_auth(
        args.get_or("--client-id", "demo-confidential"),
        Some(args.get_or("--client-secret", "demo-secret-for-the-local-sandbox-only")),
    );
    let client = common::smart_client(&conn, &args, auth).await?;

    // state=auth.jwt_state(INTERNAL_SECRET): nothing to keep on the server between redirect and
    // callback. (A real app loads its key from its secret store; a fresh one lives as long as
    // the process.) The state is bound to the browser: a web app sets `browser` as an HttpOnly,
    // Secure, SameSite=Lax cookie before the redirect and reads it back at the callback, so an
    // attacker's own state cannot be replayed through a victim's browser (login CSRF).
    let key = StateKey::random()?;
    let browser = BrowserBinding::random()?;
    let state = jwt_state(&key, Duration::from_secs(600), &browser, &[("return_to", "/chart")])?;
    // The PKCE verifier is derived from the state with the key: never a claim (claims are
    // readable), never stored.
    let (url, _, _) = client
        .authorization_request("profile openid fhirUser offline_access launch/patient patient/*.read".parse()?)?
        .pkce_verifier(PkceVerifier::for_signed_state(&key, state.secret()))
        .state(state)
        .url()?;
    println!("Send the user to:\n  {url}\n");
    let redirect = common::user_authorizes(&args, &url).await?;

    // auth.fetch_token(..., authorization_response, client_secret=..., state_validator=...)
    // At the callback: the binding from the browser's cookie, the verifier from the returned state.
    let returned_state = url::Url::parse(&redirect)?
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .ok_or("the redirect has no state")?;
    let validator = StateValidator::new(key.clone(), &browser).claim("return_to", "/chart");
    let verifier = PkceVerifier::for_signed_state(&key, &returned_state);
    let token = client.exchange_redirect(&redirect, &validator, &verifier).await?;
    println!("Granted: {}", token.scope.as_deref().unwrap_or("(scope not stated)"));
    if let Some(left) = token.expires_after() {
        println!("Access token valid for {} s; refresh token: {}", left.as_secs(), token.refresh_token.is_some());
    }
    let claims = client.verify_id_token(&token).await?;
    if let Some(user) = claims.fhir_user() {
        println!("Signed-in user (verified id_token): {:?}/{}", user.resource_type, user.id);
    }
    if let Some(path) = args.get("--save") {
        std::fs::write(path, token.to_vec())?;
        println!("Token saved to {path}");
    }

    let patient_id = token.patient_id_with_unverified_claims().ok_or("no patient in context")?;
    let conn = conn.with_session(client.session(token).on_refresh(|t| {
        println!("(new token, valid for {:?} s)", t.expires_after().map(|d| d.as_secs()));
    }));
    let patient: Patient = conn.service().await?.r::<Patient>().fetch(&patient_id).await?;
    println!("Patient: {} (born {})", common::display_name(&patient.name), {
        use fhirstorm::prelude::*;
        patient.birth_date.value().map(|d| d.to_string()).unwrap_or_default()
    });

    // service.refresh_token()
    let fresh = conn.refresh_token().await?;
    println!("Refreshed: patient still {:?}", fresh.patient_id());
    Ok(())
}
