//! What the flows print and what an app awaits: no secret in any `Debug` or `Display`, and the
//! futures `Send`.

use super::{World, SECRET};
use fhirstorm::auth::{
    AuthorizationCode, BrowserBinding, ClientAuth, ClientId, ClientSecret, PkceVerifier, PrivateKey, Scopes, Session,
    SigningAlgorithm, SmartClient, State, StateKey, StateValidator,
};

/// Every value the flows printed, and a few more, hold none of the secrets they handled.
pub async fn nothing_printed_holds_a_secret(w: &World) -> Result<(), String> {
    let key = PrivateKey::from_pem(SigningAlgorithm::Es384, &w.keys.pem("es384"), "k").unwrap();
    let pem = String::from_utf8(w.keys.pem("es384")).unwrap();
    let mut printed = w.printed.lock().unwrap().clone();
    printed.push(format!("{:?}", ClientAuth::SecretBasic(ClientId::new("a"), ClientSecret::new(SECRET))));
    printed.push(format!("{key:?}"));
    printed.push(format!("{:?}", w.client(ClientAuth::PrivateKeyJwt(ClientId::new("a"), key.clone())).await?));
    let verifier = PkceVerifier::new("verifier-secret-verifier-secret-verifier-sec").unwrap();
    printed.push(format!("{verifier:?} {:?}", AuthorizationCode::new("code-secret")));
    let secrets = w.secrets.lock().unwrap().clone();
    let body: Vec<&str> = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    ensure!(printed.len() > 25, "enough printed values checked: {}", printed.len());
    for p in &printed {
        for s in
            secrets.iter().map(String::as_str).chain(body.iter().copied()).chain(["verifier-secret", "code-secret"])
        {
            ensure!(!p.contains(s), "a secret in {p}");
        }
    }
    Ok(())
}

/// The futures an app awaits inside a web framework or `tokio::spawn` must be `Send`.
#[allow(dead_code)]
fn auth_futures_are_send(client: SmartClient, state: State, verifier: PkceVerifier, session: Session) {
    fn send<T: Send>(_: T) {}
    let c = client.clone();
    send(async move { c.exchange_redirect("", &state, &verifier).await });
    let c = client.clone();
    send(async move { c.backend_session(Scopes::default()).await });
    let c = client.clone();
    let s = session.clone();
    send(async move { c.verify_id_token(&s.token()).await });
    send(async move { session.refresh().await });
    let v = StateValidator::new(StateKey::random().unwrap(), &BrowserBinding::random().unwrap());
    send(async move { client.exchange_redirect("", &v, &PkceVerifier::random().unwrap()).await });
}
