//! EHR launch web app — the Python FHIRstorm's Flask app, in Rust with axum: the EHR opens `/launch` with
//! `iss` and `launch`; the app checks `iss` against its allow-list before anything else,
//! discovers the server, and sends the user to authorize (signed state + PKCE + `launch`);
//! `/callback` checks the state, exchanges the code and shows the patient in context with their
//! medications.
//!
//! The app keeps no session: the state is signed (`jwt_state`, with an expiry and the launch's
//! `iss`), bound to the browser by a cookie, and single-use; the PKCE verifier is derived from
//! it. Two tabs launching at once each get their own state; a callback replayed (Back, a
//! refresh) or too late is refused with a page that says why, before any token request.
//!
//! ```text
//! cargo run --example ehr_launch_app                      # listens on http://127.0.0.1:8000
//! cargo run --example ehr_launch_app -- --self-test       # plays the EHR and the browser once, then exits
//! cargo run --example ehr_launch_app -- --help
//! ```
//!
//! With `scripts/sandbox` running, the app prints a launch link (a launch context made at the
//! sandbox) to open in a browser. `tests/browser.rs` drives it in Chromium.

#[path = "common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State as AxumState};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use common::{Args, Result};
use fhirstorm::auth::{
    jwt_state, BrowserBinding, ClientAuth, EhrLaunch, IssuerAllowList, PkceVerifier, RedirectUrl, SmartClient,
    SmartConfiguration, StateKey, StateValidator,
};
use fhirstorm::client::{AuthFailure, Connection};
use fhirstorm::prelude::PrimitiveValue;
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
  --state-lifetime S    seconds a launch may take from /launch to /callback [default: 600]\n\
  --self-test           make a launch at the sandbox, follow it like a browser, print the page, exit\n\
  -h, --help            this help"
        .to_string()
}

/// The cookie that binds a signed state to the browser that started the launch.
const BINDING_COOKIE: &str = "ehr_app_binding";

struct App {
    allowed: IssuerAllowList,
    smart_config: Option<String>,
    auth: ClientAuth,
    redirect: RedirectUrl,
    /// Signs the states (a new key per run: a restart ends the launches in flight).
    key: StateKey,
    state_lifetime: Duration,
    /// Nonces of the states already used, with when they may be forgotten.
    used: Mutex<HashMap<String, Instant>>,
    /// The client of each FHIR server launched from, discovered once.
    clients: Mutex<HashMap<String, SmartClient>>,
}

impl App {
    async fn client(&self, iss: &str) -> std::result::Result<SmartClient, fhirstorm::client::Error> {
        if let Some(c) = self.clients.lock().unwrap().get(iss) {
            return Ok(c.clone());
        }
        let conn = Connection::<R4>::builder(iss).allow_insecure_loopback(true).build()?;
        let config = match &self.smart_config {
            Some(url) => SmartConfiguration::from_url(&conn, url).await?,
            None => SmartConfiguration::discover(&conn).await?,
        };
        let client = SmartClient::new(&conn, config, self.auth.clone()).redirect_url(self.redirect.clone());
        self.clients.lock().unwrap().insert(iss.to_string(), client.clone());
        Ok(client)
    }

    /// A validator of this browser's states; `single_use` also records the state's nonce.
    fn validator(self: &Arc<Self>, binding: &BrowserBinding, single_use: bool) -> StateValidator {
        let v = StateValidator::new(self.key.clone(), binding);
        if !single_use {
            return v;
        }
        let app = Arc::clone(self);
        v.single_use(move |nonce| {
            let mut used = app.used.lock().unwrap();
            let now = Instant::now();
            used.retain(|_, forget_at| *forget_at > now);
            used.insert(nonce.to_string(), now + app.state_lifetime).is_none()
        })
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A whole HTML page. No script runs on it (the content security policy allows none), and
/// nothing is cached: the callback's URL carries a code.
fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{t} · fhirstorm EHR launch example</title>\n<style>\
         body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         dt{{font-weight:600}}dd{{margin:0 0 .5rem 0}}\
         </style>\n</head>\n<body>\n<h1>{t}</h1>\n{body}\n</body>\n</html>\n",
        t = escape(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"),
        ],
        html,
    )
        .into_response()
}

fn failure(title: &str, why: &str) -> Response {
    page(StatusCode::BAD_REQUEST, title, &format!("<p>{}</p>", escape(why)))
}

/// The page for a callback that failed, in words for the person looking at it.
fn callback_failure(app: &App, e: &fhirstorm::client::Error) -> Response {
    let minutes = app.state_lifetime.as_secs().div_ceil(60);
    match e.auth() {
        Some(AuthFailure::StateExpired) => failure(
            "This sign-in has expired",
            &format!("It took longer than the {minutes} minute(s) a launch may take. Start again from the EHR."),
        ),
        Some(AuthFailure::StateInvalid | AuthFailure::StateMissing | AuthFailure::StateMismatch) => failure(
            "This sign-in link was already used, or is not for this browser",
            &format!("{e}. Nothing was requested with it. Start again from the EHR."),
        ),
        Some(AuthFailure::Denied { error, description }) => failure(
            "Access was not granted",
            &format!("The authorization server said: {}", description.as_deref().unwrap_or(error)),
        ),
        _ => failure("Launch failed", &e.to_string()),
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|kv| kv.trim().strip_prefix(name)?.strip_prefix('=').map(str::to_string))
}

async fn launch(AxumState(app): AxumState<Arc<App>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    // iss is checked before any request is made.
    let launch = match EhrLaunch::from_query(query.as_deref().unwrap_or(""), &app.allowed) {
        Ok(l) => l,
        Err(e) => return failure("Launch refused", &e.to_string()),
    };
    // One binding per browser, kept across launches, so that two tabs launching at once both
    // come back to a browser their states are bound to.
    let binding = match cookie(&headers, BINDING_COOKIE) {
        Some(b) if b.len() >= 32 => BrowserBinding::new(b),
        _ => match BrowserBinding::random() {
            Ok(b) => b,
            Err(e) => return failure("Launch failed", &e.to_string()),
        },
    };
    let started = async {
        let client = app.client(launch.iss.as_str()).await?;
        let state = jwt_state(&app.key, app.state_lifetime, &binding, &[("iss", launch.iss.as_str())])?;
        let verifier = PkceVerifier::for_signed_state(&app.key, state.secret());
        let scopes = "launch openid fhirUser patient/*.read".parse().expect("valid scopes");
        let (url, _, _) = client
            .authorization_request(scopes)?
            .launch(launch.launch.clone())
            .state(state)
            .pkce_verifier(verifier)
            .url()
            .map_err(|e| e.to_string())?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(url)
    }
    .await;
    match started {
        Ok(url) => {
            let secure = if app.redirect.url().scheme() == "https" { "; Secure" } else { "" };
            let set_cookie =
                format!("{BINDING_COOKIE}={}; HttpOnly; SameSite=Lax; Path=/; Max-Age=86400{secure}", binding.secret());
            ([(header::SET_COOKIE, set_cookie)], Redirect::to(url.as_str())).into_response()
        }
        Err(e) => failure("Launch failed", &e.to_string()),
    }
}

async fn callback(AxumState(app): AxumState<Arc<App>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let Some(binding) = cookie(&headers, BINDING_COOKIE).map(BrowserBinding::new) else {
        return failure(
            "This browser did not start a launch",
            "The cookie set when the launch started is missing. Start again from the EHR.",
        );
    };
    let state = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "state").map(|(_, v)| v.into_owned());
    // The state says which FHIR server the launch was for (checked again, and spent, below).
    let claims = match app.validator(&binding, false).validate(state.as_deref().unwrap_or("")) {
        Ok(c) => c,
        Err(e) => return callback_failure(&app, &e),
    };
    let iss = claims.get("iss").and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let client = match app.client(&iss).await {
        Ok(c) => c,
        Err(e) => return failure("Launch failed", &e.to_string()),
    };
    let url = format!("{}?{query}", app.redirect.as_str());
    let code = match client.code_from_redirect(&url, &app.validator(&binding, true)) {
        Ok(code) => code,
        Err(e) => return callback_failure(&app, &e),
    };
    let verifier = PkceVerifier::for_signed_state(&app.key, state.as_deref().unwrap_or(""));
    let shown = async {
        let token = client.exchange_code(&code, &verifier).await?;
        let patient_id = token.patient_id().ok_or("the EHR gave no patient context")?.to_string();
        let conn = Connection::<R4>::builder(client.aud().as_str())
            .allow_insecure_loopback(true)
            .session(client.session(token))
            .build()?;
        let service = conn.service().await?;
        let patient: Patient = service.r::<Patient>().fetch(&patient_id).await?;
        let meds = service
            .r::<MedicationRequest>()
            .search(MedicationRequest::search().patient(Patient::reference(&patient_id)))
            .await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(patient_page(&patient_id, &patient, meds.matches()))
    }
    .await;
    match shown {
        Ok(body) => page(StatusCode::OK, "Patient in context", &body),
        Err(e) => failure("Launch failed", &e.to_string()),
    }
}

fn patient_page(id: &str, patient: &Patient, meds: &[MedicationRequest]) -> String {
    let born = patient.birth_date.value().map(|d| d.to_string()).unwrap_or_else(|| "not recorded".into());
    let list = if meds.is_empty() {
        "<p>No medication requests.</p>".to_string()
    } else {
        let items: String = meds.iter().map(|m| format!("<li>{}</li>", escape(&common::medication_text(m)))).collect();
        format!("<ul>{items}</ul>")
    };
    format!(
        "<dl>\n<dt>Name</dt><dd>{}</dd>\n<dt>Birth date</dt><dd>{}</dd>\n<dt>Patient id</dt><dd>{}</dd>\n</dl>\n\
         <h2>Medications</h2>\n{list}",
        escape(&common::display_name(&patient.name)),
        escape(&born),
        escape(id)
    )
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
        &["--listen", "--iss", "--smart-config", "--client-id", "--client-secret", "--state-lifetime"],
        &["--self-test"],
    );
    let listen = args.get_or("--listen", "127.0.0.1:8000").to_string();
    let iss = args.get_or("--iss", common::SANDBOX_FHIR).to_string();
    let smart_config = args
        .get("--smart-config")
        .map(String::from)
        .or_else(|| (iss == common::SANDBOX_FHIR).then(|| common::SANDBOX_SMART.to_string()));
    let state_lifetime = Duration::from_secs(args.get_or("--state-lifetime", "600").parse()?);
    let app = Arc::new(App {
        allowed: IssuerAllowList::new().allow(&iss)?,
        smart_config: smart_config.clone(),
        auth: common::client_auth(
            args.get_or("--client-id", "demo-confidential"),
            Some(args.get_or("--client-secret", "demo-secret-for-the-local-sandbox-only")),
        ),
        redirect: RedirectUrl::new(&format!("http://{listen}/callback"))?,
        key: StateKey::random()?,
        state_lifetime,
        used: Mutex::new(HashMap::new()),
        clients: Mutex::new(HashMap::new()),
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
