//! At oidc-provider: the `short` client's access tokens live 20 s
//! (`clientAccessTokenTtl`), less than the session's default 60 s refresh margin, and the server
//! breaks the signature of the id_token in its refresh responses (`tamperRefreshedIdToken`).

use super::{count, launch, read_patient, World};
use fhirstorm::auth::{ClientAuth, ClientId};

/// Client id of the short-lived tokens (registered by `smart.rs`).
pub const SHORT: &str = "short";
/// Its access token lifetime, in seconds.
pub const SHORT_TTL: u64 = 20;

/// Point 1: a valid token is used, never refused and never refreshed per request, though its
/// whole lifetime is inside the default margin; with no refresh token too.
pub async fn margin_larger_than_the_lifetime(w: &World) -> Result<(), String> {
    let client = w.client(ClientAuth::Public(ClientId::new(SHORT))).await?;
    // No offline_access: no refresh token.
    let token = launch(w, &client, "openid fhirUser launch/patient patient/*.read").await?;
    ensure!(token.expires_in == Some(SHORT_TTL), "the server's short lifetime: {:?}", token.expires_in);
    ensure!(token.refresh_token.is_none(), "no refresh token without offline_access");
    let session = client.session(token);
    for i in 0..3 {
        read_patient(w, session.clone(), &w.patient_id).await.map_err(|e| format!("read {i}: {e}"))?;
    }
    ensure!(session.refresh_count() == 0, "no refresh: {}", session.refresh_count());

    // With a refresh token: still no refresh while the token is valid and outside half its life.
    let token = launch(w, &client, super::USER_SCOPES).await?;
    ensure!(token.refresh_token.is_some(), "offline_access gives a refresh token");
    let before = count(&w.smart.stats().await, "refresh_token:200");
    let session = client.session(token);
    for i in 0..3 {
        read_patient(w, session.clone(), &w.patient_id).await.map_err(|e| format!("read {i}: {e}"))?;
    }
    let refreshes = count(&w.smart.stats().await, "refresh_token:200") - before;
    ensure!(refreshes == 0 && session.refresh_count() == 0, "3 requests, {refreshes} refreshes at the server");
    Ok(())
}

/// Point 2: a refresh whose id_token does not verify keeps the verified one (and its claims).
pub async fn a_bad_refreshed_id_token_keeps_the_verified_one(w: &World) -> Result<(), String> {
    let client = w.client(ClientAuth::Public(ClientId::new(SHORT))).await?;
    let token = launch(w, &client, super::USER_SCOPES).await?;
    let claims = client.verify_id_token(&token).await.map_err(|e| format!("the first id_token: {e}"))?;
    let verified = token.id_token.clone().ok_or("an id_token")?;
    let tampered_before = count(&w.smart.stats().await, "tampered_id_token");
    let session = client.session(token);
    let fresh = session.refresh().await.map_err(|e| format!("refresh: {e}"))?;
    w.remember(&fresh);
    ensure!(
        count(&w.smart.stats().await, "tampered_id_token") == tampered_before + 1,
        "the server sent a bad id_token"
    );
    ensure!(fresh.id_token.as_ref() == Some(&verified), "the verified id_token is kept");
    let again = client.verify_id_token(&session.token()).await.map_err(|e| format!("kept id_token: {e}"))?;
    ensure!(again.subject() == claims.subject(), "the same user");
    ensure!(again.fhir_user() == claims.fhir_user(), "the same fhirUser");
    // The access token was renewed all the same.
    read_patient(w, session, &w.patient_id).await?;
    Ok(())
}
