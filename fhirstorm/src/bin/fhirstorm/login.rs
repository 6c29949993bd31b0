//! `login`, `logout`, and the connection every other command makes: to `--server` or the
//! server signed in to, with the saved token (renewed and saved again when it expires) when
//! it is that server's.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use fhirstorm::auth::{
    open_system_browser, ClientAuth, ClientId, LoopbackRedirect, PrivateKey, Scopes, Session, SigningAlgorithm,
    SmartClient, SmartConfiguration, TokenResponse,
};
use fhirstorm::client::{ClientVersion, Connection, Service};

use crate::output::clean;
use crate::session_file::{self, Flow as SavedFlow, Saved};
use crate::{Cli, Failure, LoginCommon};

/// How to sign in.
#[derive(Subcommand, Debug)]
pub enum Flow {
    /// A user signs in through the system browser (SMART standalone launch, a public native
    /// client with PKCE and a loopback redirect on 127.0.0.1). Default scopes: `openid
    /// fhirUser launch/patient patient/*.read offline_access`.
    Standalone {
        #[command(flatten)]
        common: LoginCommon,
        /// Print the authorization URL instead of opening the browser.
        #[arg(long)]
        no_browser: bool,
        /// Listen on this port (for a server that registered an exact redirect URL)
        /// [default: one the system picks].
        #[arg(long, value_name = "PORT")]
        port: Option<u16>,
        /// How long to wait for the browser, in seconds.
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        timeout: u64,
    },
    /// A system signs in with its key (SMART Backend Services: `client_credentials` with a
    /// signed assertion). Default scopes: `system/*.read`.
    Backend {
        #[command(flatten)]
        common: LoginCommon,
        /// The client's private key, PKCS#8 PEM. Its path is saved (not the key), to sign the
        /// next assertions.
        #[arg(long, value_name = "PATH")]
        key: PathBuf,
        /// The key's id at the server [default: the `.kid` file beside the key].
        #[arg(long, value_name = "KID")]
        kid: Option<String>,
        /// The signing algorithm: RS384 or ES384.
        #[arg(long, default_value = "RS384", value_name = "ALG")]
        alg: String,
    },
}

fn connection<V: ClientVersion>(server: &str) -> Result<Connection<V>, Failure> {
    Ok(Connection::<V>::builder(server).allow_insecure_loopback(true).build()?)
}

async fn configuration<V: ClientVersion>(
    conn: &Connection<V>,
    url: Option<&str>,
) -> Result<SmartConfiguration, Failure> {
    Ok(match url {
        Some(url) => SmartConfiguration::from_url(conn, url).await?,
        None => SmartConfiguration::discover(conn).await?,
    })
}

fn scopes(text: &str) -> Result<Scopes, Failure> {
    text.parse().map_err(|e| Failure::usage(format!("--scope {text:?}: {e}")))
}

fn algorithm(name: &str) -> Result<SigningAlgorithm, Failure> {
    match name.to_ascii_uppercase().as_str() {
        "RS384" => Ok(SigningAlgorithm::Rs384),
        "ES384" => Ok(SigningAlgorithm::Es384),
        _ => Err(Failure::usage(format!("--alg {name}: RS384 or ES384"))),
    }
}

fn private_key(path: &Path, alg: &str, kid: &str) -> Result<PrivateKey, Failure> {
    let pem = std::fs::read(path).map_err(|e| Failure::new(format!("reading the key {}: {e}", path.display())))?;
    Ok(PrivateKey::from_pem(algorithm(alg)?, &pem, kid)?)
}

fn server<'a>(cli: &'a Cli, saved: Option<&'a Saved>) -> Result<&'a str, Failure> {
    cli.server
        .as_deref()
        .or(saved.map(|s| s.server.as_str()))
        .ok_or_else(|| Failure::usage("no server: give --server URL (or FHIRSTORM_SERVER), or sign in with `login`"))
}

fn same_server(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn expiry(token: &TokenResponse) -> String {
    match token.expires_after() {
        Some(d) => format!("; the access token expires in {} s", d.as_secs()),
        None => String::new(),
    }
}

pub async fn login<V: ClientVersion>(cli: &Cli, flow: &Flow, path: &Path) -> Result<(), Failure> {
    let saved = Saved::load(path).ok().flatten();
    let server = server(cli, saved.as_ref())?.to_string();
    let conn = connection::<V>(&server)?;
    // The server's FHIR version is checked first, so that the sign-in is saved with it.
    conn.metadata().await?;
    let (common, saved_flow, token) = match flow {
        Flow::Standalone { common, no_browser, port, timeout } => {
            let loopback = match port {
                Some(p) => LoopbackRedirect::bind_port(*p).await?,
                None => LoopbackRedirect::bind().await?,
            }
            .timeout(Duration::from_secs(*timeout));
            let config = configuration(&conn, common.smart_config.as_deref()).await?;
            let client = SmartClient::new(&conn, config, ClientAuth::Public(ClientId::new(&common.client_id)))
                .redirect_url(loopback.redirect_url().clone());
            let scope =
                common.scope.as_deref().unwrap_or("openid fhirUser launch/patient patient/*.read offline_access");
            eprintln!("Waiting for the browser at {} ({timeout} s at most)", loopback.redirect_url().as_str());
            let token = if *no_browser {
                loopback
                    .authorize(&client, scopes(scope)?, |url| {
                        eprintln!("Open this URL in a browser on this machine:\n\n  {url}\n");
                        Ok(())
                    })
                    .await?
            } else {
                loopback
                    .authorize(&client, scopes(scope)?, |url| {
                        open_system_browser(url).map_err(|e| {
                            std::io::Error::new(e.kind(), format!("{e} (use --no-browser to open the URL yourself)"))
                        })
                    })
                    .await?
            };
            (common, SavedFlow::Standalone, token)
        }
        Flow::Backend { common, key, kid, alg } => {
            let key = std::path::absolute(key).unwrap_or_else(|_| key.clone());
            let kid =
                match kid {
                    Some(k) => k.clone(),
                    None => std::fs::read_to_string(key.with_extension("kid")).map(|k| k.trim().to_string()).map_err(
                        |e| Failure::usage(format!("no --kid, and no {}: {e}", key.with_extension("kid").display())),
                    )?,
                };
            let private = private_key(&key, alg, &kid)?;
            let config = configuration(&conn, common.smart_config.as_deref()).await?;
            let client =
                SmartClient::new(&conn, config, ClientAuth::PrivateKeyJwt(ClientId::new(&common.client_id), private));
            let scope = common.scope.as_deref().unwrap_or("system/*.read");
            let token = client.client_credentials(&scopes(scope)?).await?;
            (common, SavedFlow::Backend { key, alg: alg.to_ascii_uppercase(), kid }, token)
        }
    };
    let context = match (&token.fhir_user, token.patient_id()) {
        (Some(user), Some(p)) => format!(" as {user}, patient {p}"),
        (Some(user), None) => format!(" as {user}"),
        (None, Some(p)) => format!(", patient {p}"),
        (None, None) => String::new(),
    };
    let granted = token.scope.clone().unwrap_or_else(|| "(not stated)".into());
    let saved = Saved {
        server: server.clone(),
        fhir_version: V::NAME.to_string(),
        client_id: common.client_id.clone(),
        smart_configuration: common.smart_config.clone(),
        scope: token.scope.clone().or(common.scope.clone()).unwrap_or_default(),
        flow: saved_flow,
        token,
        in_keyring: common.keyring,
    };
    let in_keyring = saved.save(path)?;
    eprintln!("Signed in to {server}{}; granted {}{}", clean(&context), clean(&granted), expiry(&saved.token));
    match in_keyring {
        true => eprintln!(
            "The sign-in is kept in {} (readable by you only), its tokens in the system keyring",
            path.display()
        ),
        false => eprintln!("The sign-in is kept in {} (readable by you only)", path.display()),
    }
    Ok(())
}

pub async fn logout<V: ClientVersion>(path: &Path) -> Result<(), Failure> {
    let saved = match Saved::load(path) {
        Ok(Some(saved)) => saved,
        Ok(None) => {
            eprintln!("Not signed in ({} does not exist)", path.display());
            return Ok(());
        }
        // Unreadable or shared: remove it all the same.
        Err(_) => {
            session_file::remove(path)?;
            eprintln!("Removed {}", path.display());
            return Ok(());
        }
    };
    // Revoke where the server offers it; the file goes whatever the answer.
    let revoked = match smart_client::<V>(&saved).await {
        Ok((_, client)) if client.configuration().revocation_endpoint.is_some() => {
            // Revoking the refresh token ends the grant (RFC 7009 §2.1); many servers cannot
            // revoke a self-contained (JWT) access token, which expires on its own.
            match &saved.token.refresh_token {
                Some(r) => client.revoke(r).await,
                None => client.revoke(&saved.token.access_token).await,
            }
            .map(|()| true)
        }
        _ => Ok(false),
    };
    session_file::remove(path)?;
    match revoked {
        Ok(true) => eprintln!("Signed out of {}: tokens revoked, {} removed", saved.server, path.display()),
        Ok(false) => eprintln!("Signed out of {}: {} removed", saved.server, path.display()),
        Err(e) => {
            eprintln!(
                "Removed {}; the server did not revoke the tokens: {}",
                path.display(),
                clean(&Failure::from(e).message)
            )
        }
    }
    Ok(())
}

/// The connection and SMART client a saved sign-in renews its token with.
async fn smart_client<V: ClientVersion>(saved: &Saved) -> Result<(Connection<V>, SmartClient), Failure> {
    let conn = connection::<V>(&saved.server)?;
    let config = configuration(&conn, saved.smart_configuration.as_deref()).await?;
    let auth = match &saved.flow {
        SavedFlow::Standalone => ClientAuth::Public(ClientId::new(&saved.client_id)),
        SavedFlow::Backend { key, alg, kid } => {
            ClientAuth::PrivateKeyJwt(ClientId::new(&saved.client_id), private_key(key, alg, kid)?)
        }
    };
    let client = SmartClient::new(&conn, config, auth);
    Ok((conn, client))
}

/// The service the other commands use: `--server`'s (or the signed-in server's), with the
/// saved token when it is that server's.
pub async fn service<V: ClientVersion>(cli: &Cli, path: &Path) -> Result<Service<V>, Failure> {
    let saved = Saved::load(path)?;
    let server = server(cli, saved.as_ref())?.to_string();
    let saved = saved.filter(|s| same_server(&s.server, &server));
    let conn = match saved {
        None => connection::<V>(&server)?,
        Some(saved) => {
            if !saved.fhir_version.eq_ignore_ascii_case(V::NAME) {
                return Err(Failure {
                    mismatch: true,
                    ..Failure::usage(format!(
                        "signed in to {server} as FHIR {}; give --fhir-version {}",
                        saved.fhir_version,
                        saved.fhir_version.to_ascii_lowercase()
                    ))
                });
            }
            let (conn, client) = smart_client::<V>(&saved).await?;
            let session = match &saved.flow {
                SavedFlow::Standalone => client.session(saved.token.clone()),
                SavedFlow::Backend { .. } => client.resume_backend_session(saved.token.clone(), scopes(&saved.scope)?),
            };
            conn.with_session(keep_saving(session, saved, path.to_path_buf()))
        }
    };
    Ok(conn.service().await?)
}

/// Saves each renewed token, so that the next command starts from it.
fn keep_saving(session: Session, saved: Saved, path: PathBuf) -> Session {
    session.on_refresh(move |token| {
        let renewed = Saved { token: token.clone(), ..saved.clone() };
        if let Err(e) = renewed.save(&path) {
            eprintln!("warning: the renewed token was not saved: {}", clean(&e.message));
        }
    })
}
