//! Sessions renewing their tokens at oidc-provider: explicitly, before expiry, after a `401`;
//! one refresh shared by concurrent requests; a refused refresh token failing every waiter once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use super::{conn, count, expect_auth, launch, now, read_patient, World, SECRET, USER_SCOPES};
use fhirstorm::auth::{ClientAuth, ClientId, ClientSecret};
use fhirstorm::r4::Patient;

/// Refresh: explicit, before expiry, after a 401; callback sees each new token.
pub async fn explicit_before_expiry_and_after_a_401(w: &World) -> Result<(), String> {
    let client = w.client(ClientAuth::SecretBasic(ClientId::new("basic"), ClientSecret::new(SECRET))).await?;
    let token = launch(w, &client, USER_SCOPES).await?;
    let saved = Arc::new(AtomicUsize::new(0));
    let s2 = saved.clone();
    let session = client.session(token.clone()).on_refresh(move |_| {
        s2.fetch_add(1, Ordering::SeqCst);
    });
    let before = count(&w.smart.stats().await, "refresh_token:200");
    // explicit
    let fresh = session.refresh().await.map_err(|e| e.to_string())?;
    w.remember(&fresh);
    ensure!(fresh.access_token != token.access_token, "a new access token");
    ensure!(fresh.patient_id() == token.patient_id(), "context kept");
    ensure!(fresh.refresh_token != token.refresh_token, "the server rotated the refresh token");
    ensure!(session.refresh_count() == 1, "one explicit refresh");
    // before expiry: a token with 10 s left, and the default 60 s margin
    let mut soon = (*session.token()).clone();
    soon.set_expires_at(now() + 10);
    let s3 = saved.clone();
    let early = client.session(soon).on_refresh(move |_| {
        s3.fetch_add(1, Ordering::SeqCst);
    });
    read_patient(w, early.clone(), &w.patient_id).await?;
    ensure!(early.refresh_count() == 1, "renewed once before expiry: {}", early.refresh_count());
    // after a 401: a token the FHIR server does not accept (not expired as far as we know)
    // (from `early`'s token: the server rotates refresh tokens, so `session`'s is spent)
    let mut revoked = (*early.token()).clone();
    revoked.access_token = fhirstorm::auth::AccessToken::new("not-a-valid-token");
    let stale = client.session(revoked);
    read_patient(w, stale.clone(), &w.patient_id).await?;
    ensure!(stale.refresh_count() == 1, "one refresh after the 401: {}", stale.refresh_count());
    let after = count(&w.smart.stats().await, "refresh_token:200");
    ensure!(after - before == 3, "three refreshes at the server, saw {}", after - before);
    ensure!(saved.load(Ordering::SeqCst) == 2, "callback called for each renewal of its session");
    Ok(())
}

/// 100 concurrent requests with an expired token: exactly one refresh, all succeed.
pub async fn concurrent_requests_share_one_refresh(w: &World) -> Result<(), String> {
    let client = w.client(ClientAuth::Public(ClientId::new("public"))).await?;
    let token = launch(w, &client, USER_SCOPES).await?;
    let session = client.session(token);
    let conn = conn(w).with_session(session.clone());
    let service = conn.service().await.map_err(|e| e.to_string())?;
    session.mark_expired();
    let before = count(&w.smart.stats().await, "refresh_token:200");
    let reads = (0..100).map(|_| {
        let service = service.clone();
        let id = w.patient_id.clone();
        tokio::spawn(async move { service.r::<Patient>().fetch(&id).await })
    });
    let results = futures_util::future::join_all(reads).await;
    let failed = results.iter().filter(|r| !matches!(r, Ok(Ok(_)))).count();
    ensure!(failed == 0, "{failed} of 100 reads failed");
    let after = count(&w.smart.stats().await, "refresh_token:200");
    ensure!(
        after - before == 1 && session.refresh_count() == 1,
        "refreshes: server {} client {}",
        after - before,
        session.refresh_count()
    );
    Ok(())
}

/// A refused refresh token: one typed error for every waiting task, no refresh loop.
pub async fn a_refused_refresh_token_fails_every_waiter_once(w: &World) -> Result<(), String> {
    let client = w.client(ClientAuth::Public(ClientId::new("public"))).await?;
    let mut token = launch(w, &client, USER_SCOPES).await?;
    token.refresh_token = Some(fhirstorm::auth::RefreshToken::new("expired-or-revoked"));
    let session = client.session(token);
    let service = conn(w).with_session(session.clone()).service().await.map_err(|e| e.to_string())?;
    session.mark_expired();
    let before = w.smart.stats().await;
    let reads = (0..20).map(|_| {
        let service = service.clone();
        let id = w.patient_id.clone();
        tokio::spawn(async move { service.r::<Patient>().fetch(&id).await })
    });
    for r in futures_util::future::join_all(reads).await {
        let r = r.map_err(|e| e.to_string())?;
        expect_auth(w, r, |f| f.oauth_error() == Some("invalid_grant"))?;
    }
    expect_auth(w, service.r::<Patient>().fetch(&w.patient_id).await, |f| f.oauth_error() == Some("invalid_grant"))?;
    let after = w.smart.stats().await;
    let attempts = count(&after, "refresh_token:400") - count(&before, "refresh_token:400");
    ensure!(attempts == 1, "one refresh attempt at the server, saw {attempts}");
    Ok(())
}
