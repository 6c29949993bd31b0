//! EHR launch web app — the seed's Flask app, in Rust with axum: the EHR opens `/launch` with
//! `iss` and `launch`; the app checks `iss` against its allow-list before anything else,
//! discovers the server, and sends the user to authorize (state + PKCE + `launch`); `/callback`
//! checks the state, exchanges the code and shows the patient in context with their medications.
//!
//! ```text
//! cargo run --example ehr_launch_app                      # listens on http://127.0.0.1:8000
//! cargo run --example ehr_launch_app -- --self-test       # plays the EHR and the browser once, then exits
//! cargo run --example ehr_launch_app -- --help
//! ```
//!
//! With `scripts/sandbox` running, the app prints a launch link (a launch context made at the
//! sandbox) to open in a browser.

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use common::{Args, Result};
use fhirstorm::auth::{
    ClientAuth, EhrLaunch, IssuerAllowList, PendingAuthorization, RedirectUrl, SmartClient, SmartConfiguration,
};
use fhirstorm::client::Connection;
use fhirstorm::r4::{MedicationRequest, Patient};
use fhirstorm::R4;

fn usage() -> String {
    "usage: ehr_launch_app [options]\n\nA SMART EHR-launch web app with /launch and /callback.\n\n\
  --listen ADDR         where to listen                      [default: 127.0.0.1:8000]\n\
  --iss URL             the FHIR server launches are accepted from [default: http://127.0.0.1:8090/fhir]\n\
  --smart-config URL    its authorization server's SMART configuration; without it, discovered\n\
                        from iss                             [default: the sandbox's]\n\
  --client-id ID        [default: demo-confidential]\n\
  --client-secret S     [default: the sandbox demo secret]\n\
  --self-test           make a launch at the sandbox, follow it like a browser, print the page, exit\n\
  -h, --help            this help"
        .to_string()
}

struct App {
    allowed: IssuerAllowList,
    smart_config: Option<String>,
    auth: ClientAuth,
    redirect: RedirectUrl,
    /// Launches in progress, by state. (A real app keeps these in its session store.)
    pending: Mutex<HashMap<String, PendingAuthorization>>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!("<!doctype html><meta charset=utf-8><title>{t}</title><h1>{t}</h1>{body}", t = escape(title));
    (status, Html(html)).into_response()
}

fn failure(e: impl std::fmt::Display) -> Response {
    page(StatusCode::BAD_REQUEST, "Launch failed", &format!("<p>{}</p>", escape(&e.to_string())))
}

async fn launch(AxumState(app): AxumState<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    // iss is checked before any request is made.
    let launch = match EhrLaunch::from_query(query.as_deref().unwrap_or(""), &app.allowed) {
        Ok(l) => l,
        Err(e) => return failure(e),
    };
    let started = async {
        let conn = Connection::<R4>::builder(launch.iss.as_str()).allow_insecure_loopback(true).build()?;
        let config = match &app.smart_config {
            Some(url) => SmartConfiguration::from_url(&conn, url).await?,
            None => SmartConfiguration::discover(&conn).await?,
        };
        let client = SmartClient::new(&conn, config, app.auth.clone()).redirect_url(app.redirect.clone());
        launch.authorize_with(client, "launch openid fhirUser patient/*.read".parse().expect("valid scopes"))
    }
    .await;
    match started {
        Ok(pending) => {
            let to = pending.url.to_string();
            app.pending.lock().unwrap().insert(pending.state.secret().to_string(), pending);
            Redirect::to(&to).into_response()
        }
        Err(e) => failure(e),
    }
}

async fn callback(AxumState(app): AxumState<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let state = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "state").map(|(_, v)| v.into_owned());
    let Some(pending) = state.and_then(|s| app.pending.lock().unwrap().remove(&s)) else {
        return failure("unknown or already used state: start again from the EHR");
    };
    let url = format!("{}?{query}", app.redirect.as_str());
    let shown = async {
        let token = pending.client.exchange_redirect(&url, &pending.state, &pending.verifier).await?;
        let patient_id = token.patient_id().ok_or("the EHR gave no patient context")?.to_string();
        let conn = Connection::<R4>::builder(pending.client.aud().as_str())
            .allow_insecure_loopback(true)
            .session(pending.client.session(token))
            .build()?;
        let service = conn.service().await?;
        let patient: Patient = service.r::<Patient>().fetch(&patient_id).await?;
        let meds = service
            .r::<MedicationRequest>()
            .search(MedicationRequest::search().patient(Patient::reference(&patient_id)))
            .await?;
        let items: String =
            meds.matches().iter().map(|m| format!("<li>{}</li>", escape(&common::medication_text(m)))).collect();
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(format!(
            "<p>Patient: <b>{}</b> ({})</p><h2>Medications</h2><ul>{items}</ul>",
            escape(&common::display_name(&patient.name)),
            escape(&patient_id)
        ))
    }
    .await;
    match shown {
        Ok(body) => page(StatusCode::OK, "Patient in context", &body),
        Err(e) => failure(e),
    }
}

async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain")], "fhirstorm EHR launch example: the EHR opens /launch?iss=...&launch=...\n")
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> Result<()> {
    let usage = usage();
    let args = Args::parse(
        &usage,
        &["--listen", "--iss", "--smart-config", "--client-id", "--client-secret"],
        &["--self-test"],
    );
    let listen = args.get_or("--listen", "127.0.0.1:8000").to_string();
    let iss = args.get_or("--iss", common::SANDBOX_FHIR).to_string();
    let smart_config = args
        .get("--smart-config")
        .map(String::from)
        .or_else(|| (iss == common::SANDBOX_FHIR).then(|| common::SANDBOX_SMART.to_string()));
    let app = Arc::new(App {
        allowed: IssuerAllowList::new().allow(&iss)?,
        smart_config: smart_config.clone(),
        auth: common::client_auth(
            args.get_or("--client-id", "demo-confidential"),
            Some(args.get_or("--client-secret", "demo-secret-for-the-local-sandbox-only")),
        ),
        redirect: RedirectUrl::new(&format!("http://{listen}/callback"))?,
        pending: Mutex::new(HashMap::new()),
    });
    let router = Router::new()
        .route("/", get(index))
        .route("/launch", get(launch))
        .route("/callback", get(callback))
        .with_state(app);
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    println!("EHR launch app on http://{listen}/ (accepting launches from {iss})");

    // The sandbox plays the EHR: it makes a launch context and gives its id.
    let issuer = smart_config.as_deref().map(|u| u.trim_end_matches("/.well-known/smart-configuration").to_string());
    let launch_link = match issuer {
        Some(issuer) => {
            let made = reqwest::Client::new()
                .post(format!("{issuer}/admin/launch"))
                .body("{}")
                .send()
                .await
                .ok()
                .and_then(|r| r.status().is_success().then_some(r));
            match made {
                Some(r) => {
                    let v: serde_json::Value = serde_json::from_str(&r.text().await?)?;
                    let launch = v["launch"].as_str().unwrap_or_default().to_string();
                    let iss_q: String = url::form_urlencoded::byte_serialize(iss.as_bytes()).collect();
                    Some(format!("http://{listen}/launch?iss={iss_q}&launch={launch}"))
                }
                None => None,
            }
        }
        None => None,
    };

    if args.flag("--self-test") {
        let link = launch_link.ok_or("--self-test needs the sandbox (scripts/sandbox) to make a launch")?;
        tokio::spawn(async move { axum::serve(listener, router).await });
        let http = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
        let mut at = url::Url::parse(&link)?;
        for _ in 0..12 {
            let resp = http.get(at.clone()).send().await?;
            if let Some(loc) = resp.headers().get("location").and_then(|l| l.to_str().ok()) {
                at = at.join(loc)?;
                continue;
            }
            let status = resp.status();
            let body = resp.text().await?;
            println!("{status} {at}\n{body}");
            return if status.is_success() && body.contains("Medications") {
                Ok(())
            } else {
                Err("the launch did not end on the patient page".into())
            };
        }
        return Err("too many redirects".into());
    }
    if let Some(link) = launch_link {
        println!("Open this launch link (made at the sandbox, as an EHR would):\n  {link}");
    }
    axum::serve(listener, router).await?;
    Ok(())
}
