//! SMART App Launch in a real browser: headless Chromium (Debian's `chromium`, driven through its
//! `chromedriver` with fantoccini) signs in and consents on the authorization server's pages
//! (oidc-provider, interactive), following redirects across the app's, the authorization
//! server's and the FHIR server's ports on 127.0.0.1 with its own cookies. The EHR launch web app
//! is `examples/ehr_launch_app.rs`, run as the binary `cargo test` built; the desktop login is
//! the library's `auth::LoopbackRedirect`. Each flow ends with a screenshot under
//! `target/tmp/browser/` and assertions on the page's text.
//!
//! Without Chromium the test says it is skipped and how to enable it (`scripts/install-browser`);
//! under `CI=true` that is a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, Locator};
use fhirstorm::auth::{ClientAuth, ClientId, LoopbackRedirect, SmartClient, SmartConfiguration};
use fhirstorm::client::{Connection, Service};
use fhirstorm::prelude::PrimitiveValue;
use fhirstorm::r4::{MedicationRequest, Patient};
use fhirstorm::R4;
use serde_json::json;
use support::{FhirServer, Runner, SmartServer};

const TOKEN_KEY: &str = "fhirstorm-browser-test-access-token-key-0123456789";
const ADMIN: &str = "fhirstorm-admin-token-for-browser-seeding";
const SECRET: &str = "the-browser-test-app-secret";

/// Where Debian puts them, or `$FHIRSTORM_CHROMIUM` / `$FHIRSTORM_CHROMEDRIVER`.
fn tool(var: &str, default: &str) -> PathBuf {
    std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| PathBuf::from(default))
}

/// A process killed on drop (or by `Runner::finish`).
struct Proc(Child);

impl Proc {
    fn new(child: Child) -> Proc {
        support::track(&child);
        Proc(child)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        support::untrack(&self.0);
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_port(port: u16, what: &str) {
    for _ in 0..150 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on 127.0.0.1:{port} within 15 s");
}

/// The example binary `cargo test` built beside this test (`target/<profile>/examples/`).
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/..");
    let bin = profile_dir.join("examples").join(name);
    assert!(
        bin.exists(),
        "{} is not built: run the whole `cargo test --all-features` (it builds the examples), or `cargo build --example {name}` first",
        bin.display()
    );
    bin
}

/// The EHR launch app on `port`, for the confidential client `client_id`.
fn start_app(port: u16, fhir: &str, issuer: &str, client_id: &str, state_lifetime: u64) -> Proc {
    let child = Command::new(example_binary("ehr_launch_app"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--iss", fhir])
        .args(["--smart-config", &format!("{issuer}/.well-known/smart-configuration")])
        .args(["--client-id", client_id, "--client-secret", SECRET])
        .args(["--state-lifetime", &state_lifetime.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the EHR launch app starts");
    let app = Proc::new(child);
    wait_for_port(port, "the EHR launch app");
    app
}

struct World {
    browser: Client,
    shots: PathBuf,
    fhir: String,
    smart: SmartServer,
    /// The app, and the same app with a two-second state lifetime.
    app: String,
    slow_app: String,
    ada: String,
    grace: String,
    marked_up: String,
}

impl World {
    async fn shot(&self, name: &str) -> Result<(), String> {
        let png = self.browser.screenshot().await.map_err(|e| format!("screenshot: {e}"))?;
        std::fs::write(self.shots.join(format!("{name}.png")), png).map_err(|e| e.to_string())
    }

    async fn text(&self) -> Result<String, String> {
        let body = self.browser.find(Locator::Css("body")).await.map_err(|e| format!("no body: {e}"))?;
        body.text().await.map_err(|e| e.to_string())
    }

    /// Polls the page until its text contains `needle` (ten seconds at most).
    async fn wait_for(&self, needle: &str) -> Result<String, String> {
        self.wait_for_any(&[needle]).await
    }

    /// Polls the page until its text contains one of `needles`.
    async fn wait_for_any(&self, needles: &[&str]) -> Result<String, String> {
        let mut last = String::new();
        for _ in 0..100 {
            if let Ok(text) = self.text().await {
                if needles.iter().any(|n| text.contains(n)) {
                    return Ok(text);
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = self.browser.current_url().await.map(|u| u.to_string()).unwrap_or_default();
        Err(format!("the page never showed {needles:?}; it is {url} showing:\n{last}"))
    }

    async fn click(&self, label: &str) -> Result<(), String> {
        let button = self
            .browser
            .find(Locator::XPath(&format!("//button[normalize-space()='{label}']")))
            .await
            .map_err(|e| format!("no {label:?} button: {e}"))?;
        button.click().await.map_err(|e| format!("clicking {label:?}: {e}"))
    }

    /// Signs in when asked (the first time), and answers the consent page.
    async fn consent(&self, allow: bool) -> Result<(), String> {
        let text = self.wait_for_any(&["Sign in", "asks for access"]).await?;
        if !text.contains("asks for access") {
            self.click("Sign in").await?;
            self.wait_for("asks for access").await?;
        }
        self.click(if allow { "Allow" } else { "Deny" }).await
    }

    /// Opens a launch of `patient` at `app`, as the EHR would.
    async fn launch(&self, app: &str, patient: &str) -> Result<(), String> {
        let launch = self.smart.new_launch(patient).await;
        let iss: String = url::form_urlencoded::byte_serialize(self.fhir.as_bytes()).collect();
        self.browser.goto(&format!("{app}/launch?iss={iss}&launch={launch}")).await.map_err(|e| e.to_string())
    }

    /// Fails when a code was exchanged since `before` (a count from `codes_exchanged`).
    async fn no_code_exchanged_since(&self, before: u64, after: &str) -> Result<(), String> {
        match self.codes_exchanged().await - before {
            0 => Ok(()),
            n => Err(format!("{n} token requests {after}")),
        }
    }

    async fn codes_exchanged(&self) -> u64 {
        let stats = self.smart.stats().await;
        stats.as_object().map_or(0, |m| {
            m.iter().filter(|(k, _)| k.starts_with("authorization_code:")).filter_map(|(_, v)| v.as_u64()).sum()
        })
    }
}

async fn seed(service: &Service<R4>, patient: serde_json::Value, meds: &[&str]) -> String {
    let p: Patient = fhirstorm::json::from_str(&patient.to_string()).expect("a patient");
    let id = service.r::<Patient>().create(&p).await.expect("created").id.expect("an id");
    for med in meds {
        let m: MedicationRequest = fhirstorm::json::from_str(
            &json!({"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "medicationCodeableConcept": {"text": med}, "subject": {"reference": format!("Patient/{id}")}})
            .to_string(),
        )
        .expect("a medication request");
        service.r::<MedicationRequest>().create(&m).await.expect("created");
    }
    id
}

fn main() {
    let chromium = tool("FHIRSTORM_CHROMIUM", "/usr/bin/chromium");
    let driver = tool("FHIRSTORM_CHROMEDRIVER", "/usr/bin/chromedriver");
    if !chromium.exists() || !driver.exists() {
        let msg = format!(
            "browser tests skipped: no Chromium at {} or no ChromeDriver at {} (install them with \
             scripts/install-browser, Debian's chromium and chromium-driver; or set FHIRSTORM_CHROMIUM \
             and FHIRSTORM_CHROMEDRIVER)",
            chromium.display(),
            driver.display()
        );
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            eprintln!("{msg}; under CI=true they must run");
            std::process::exit(1);
        }
        println!("{msg}");
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(run(chromium, driver));
}

async fn run(chromium: PathBuf, driver: PathBuf) {
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&shots).expect("the screenshot folder");

    let fhir = FhirServer::start_smart(
        TOKEN_KEY,
        ADMIN,
        "    - client_id: unused\n      client_secret: unused-secret\n      scopes: \"system/*.read\"\n",
    );
    let admin = support::fixed_token_service(&fhir.base, ADMIN).await;
    let ada = seed(
        &admin,
        json!({"resourceType": "Patient", "name": [{"given": ["Ada"], "family": "Lovelace"}], "birthDate": "1815-12-10"}),
        &["Metformin 500 mg tablet", "Lisinopril 10 mg tablet"],
    )
    .await;
    let grace = seed(
        &admin,
        json!({"resourceType": "Patient", "name": [{"given": ["Grace"], "family": "Hopper"}], "birthDate": "1906-12-09"}),
        &["Atorvastatin 20 mg tablet"],
    )
    .await;
    let marked_up = seed(
        &admin,
        json!({"resourceType": "Patient", "name": [{"text": "<script>alert('name')</script>"}]}),
        &["<img src=x onerror=alert('medication')>"],
    )
    .await;

    let (app_port, slow_port) = (support::free_port(), support::free_port());
    let app = format!("http://127.0.0.1:{app_port}");
    let slow_app = format!("http://127.0.0.1:{slow_port}");
    let web = |id: &str, base: &str| {
        json!({"client_id": id, "client_secret": SECRET, "token_endpoint_auth_method": "client_secret_basic",
            "redirect_uris": [format!("{base}/callback")], "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"]})
    };
    let smart = SmartServer::start(json!({
        "fhirBase": fhir.base, "accessTokenKey": TOKEN_KEY, "patient": ada, "fhirUser": "Practitioner/dr-1",
        "user": "dr-okafor", "userName": "Dr. Amara Okafor", "interactive": true,
        "clients": [
            web("browser-app", &app),
            web("browser-slow-app", &slow_app),
            {"client_id": "browser-native", "token_endpoint_auth_method": "none", "application_type": "native",
             "redirect_uris": ["http://127.0.0.1/callback"], "grant_types": ["authorization_code"], "response_types": ["code"]},
        ],
    }));
    let _app = start_app(app_port, &fhir.base, &smart.issuer, "browser-app", 600);
    let _slow = start_app(slow_port, &fhir.base, &smart.issuer, "browser-slow-app", 2);

    let driver_port = support::free_port();
    let _driver = Proc::new(
        Command::new(&driver)
            .arg(format!("--port={driver_port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
    );
    wait_for_port(driver_port, "chromedriver");
    // A fresh browser profile (cookies and all) for each run, beside the screenshots.
    let profile = shots.join("profile");
    let _ = std::fs::remove_dir_all(&profile);
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": chromium, "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--window-size=1000,760", format!("--user-data-dir={}", profile.display()),
        ]}),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let browser = fantoccini::ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a Chromium session");
    println!("screenshots in {}", shots.display());

    let w = World { browser, shots, fhir: fhir.base.clone(), smart, app, slow_app, ada, grace, marked_up };
    let mut t = Runner::new();
    t.case("ehr_launch_signs_in_consents_and_shows_the_patient", || ehr_launch(&w)).await;
    t.case("a_refreshed_callback_is_refused_without_a_second_token", || refreshed_callback(&w)).await;
    t.case("back_then_forward_after_the_callback_asks_no_second_token", || back_after_callback(&w)).await;
    t.case("two_tabs_launching_at_once_each_show_their_patient", || two_tabs(&w)).await;
    t.case("a_denied_consent_shows_the_servers_description", || denied(&w)).await;
    t.case("a_launch_older_than_the_state_lifetime_is_refused", || expired(&w)).await;
    t.case("markup_in_a_patient_record_shows_as_text", || escaped(&w)).await;
    t.case("desktop_login_through_the_loopback_redirect", || loopback(&w)).await;
    let _ = w.browser.clone().close().await;
    t.finish();
}

async fn ehr_launch(w: &World) -> Result<(), String> {
    let before = w.codes_exchanged().await;
    w.launch(&w.app, &w.ada).await?;
    w.wait_for("Sign in").await?;
    w.shot("1-sign-in").await?;
    w.click("Sign in").await?;
    let consent = w.wait_for("asks for access").await?;
    if !consent.contains(&format!("Patient in context: {}", w.ada)) {
        return Err(format!("the consent page does not name the patient: {consent}"));
    }
    w.shot("2-consent").await?;
    w.click("Allow").await?;
    let text = w.wait_for("Medications").await?;
    w.shot("3-patient-in-context").await?;
    for expected in ["Ada Lovelace", "1815-12-10", "Medications", "Metformin 500 mg tablet", "Lisinopril 10 mg tablet"]
    {
        if !text.contains(expected) {
            return Err(format!("the patient page lacks {expected:?}:\n{text}"));
        }
    }
    let items = w.browser.find_all(Locator::Css("ul > li")).await.map_err(|e| e.to_string())?;
    if items.len() != 2 {
        return Err(format!("{} medication list items, 2 expected", items.len()));
    }
    let source = w.browser.source().await.map_err(|e| e.to_string())?;
    for part in ["<html lang=\"en\">", "<meta charset=\"utf-8\">", "<title>Patient in context"] {
        if !source.contains(part) {
            return Err(format!("the page's HTML lacks {part:?}"));
        }
    }
    let title = w.browser.title().await.map_err(|e| e.to_string())?;
    if !title.starts_with("Patient in context") {
        return Err(format!("title {title:?}"));
    }
    match w.codes_exchanged().await - before {
        1 => Ok(()),
        n => Err(format!("{n} code exchanges for one launch")),
    }
}

async fn refreshed_callback(w: &World) -> Result<(), String> {
    let before = w.codes_exchanged().await;
    w.browser.refresh().await.map_err(|e| e.to_string())?;
    let text = w.wait_for("already used").await?;
    w.shot("4-callback-refreshed").await?;
    if !text.contains("Nothing was requested with it") {
        return Err(format!("the page does not say nothing was requested: {text}"));
    }
    w.no_code_exchanged_since(before, "after the refresh of the callback").await
}

async fn back_after_callback(w: &World) -> Result<(), String> {
    w.launch(&w.app, &w.grace).await?;
    w.consent(true).await?;
    w.wait_for("Grace Hopper").await?;
    let before = w.codes_exchanged().await;
    w.browser.back().await.map_err(|e| e.to_string())?;
    let back = w.text().await?;
    w.shot("5-back-from-the-patient-page").await?;
    if back.contains("Internal Server Error") || back.contains("server_error") {
        return Err(format!("Back reached a server error: {back}"));
    }
    w.browser.forward().await.map_err(|e| e.to_string())?;
    let forward = w.text().await?;
    w.shot("6-forward-to-the-callback").await?;
    // Forward either requests the callback again (refused: already used) or shows the page the
    // browser kept; it never sends the code again.
    if !(forward.contains("already used") || forward.contains("Grace Hopper")) {
        return Err(format!("Forward shows neither the refusal nor the kept page: {forward}"));
    }
    w.no_code_exchanged_since(before, "after Back and Forward").await
}

async fn two_tabs(w: &World) -> Result<(), String> {
    let first = w.browser.window().await.map_err(|e| e.to_string())?;
    w.launch(&w.app, &w.ada).await?;
    w.wait_for(&format!("Patient in context: {}", w.ada)).await?;
    let tab = w.browser.new_window(true).await.map_err(|e| e.to_string())?;
    w.browser.switch_to_window(tab.handle.clone()).await.map_err(|e| e.to_string())?;
    w.launch(&w.app, &w.grace).await?;
    w.wait_for(&format!("Patient in context: {}", w.grace)).await?;
    // The second tab finishes first, then the first.
    w.click("Allow").await?;
    let second = w.wait_for("Medications").await?;
    w.shot("7-second-tab").await?;
    w.browser.close_window().await.map_err(|e| e.to_string())?;
    w.browser.switch_to_window(first).await.map_err(|e| e.to_string())?;
    w.click("Allow").await?;
    let first = w.wait_for("Medications").await?;
    w.shot("8-first-tab").await?;
    if !second.contains("Grace Hopper") || !first.contains("Ada Lovelace") {
        return Err(format!("the tabs' patients are mixed up:\nsecond tab: {second}\nfirst tab: {first}"));
    }
    Ok(())
}

async fn denied(w: &World) -> Result<(), String> {
    let before = w.codes_exchanged().await;
    w.launch(&w.app, &w.ada).await?;
    w.consent(false).await?;
    let text = w.wait_for("Access was not granted").await?;
    w.shot("9-denied").await?;
    if !text.contains("The user denied the app access.") {
        return Err(format!("the server's error description is not shown: {text}"));
    }
    w.no_code_exchanged_since(before, "after a denial").await
}

async fn expired(w: &World) -> Result<(), String> {
    let before = w.codes_exchanged().await;
    w.launch(&w.slow_app, &w.ada).await?;
    w.wait_for("asks for access").await?;
    // The person looks away for longer than the app's two-second launch lifetime.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    w.click("Allow").await?;
    let text = w.wait_for("This sign-in has expired").await?;
    w.shot("10-expired").await?;
    if !text.contains("Start again from the EHR") {
        return Err(format!("the page does not say what to do: {text}"));
    }
    w.no_code_exchanged_since(before, "with an expired state").await
}

async fn escaped(w: &World) -> Result<(), String> {
    w.launch(&w.app, &w.marked_up).await?;
    w.consent(true).await?;
    let text = w.wait_for("Medications").await?;
    w.shot("11-markup-as-text").await?;
    for shown in ["<script>alert('name')</script>", "<img src=x onerror=alert('medication')>"] {
        if !text.contains(shown) {
            return Err(format!("{shown:?} is not shown as text:\n{text}"));
        }
    }
    if w.browser.get_alert_text().await.is_ok() {
        return Err("a script ran: an alert is open".into());
    }
    let images = w.browser.find_all(Locator::Css("img, script")).await.map_err(|e| e.to_string())?;
    if !images.is_empty() {
        return Err(format!("{} elements made from the record's text", images.len()));
    }
    Ok(())
}

async fn loopback(w: &World) -> Result<(), String> {
    let conn =
        Connection::<R4>::builder(w.fhir.as_str()).allow_insecure_loopback(true).build().map_err(|e| e.to_string())?;
    let config = SmartConfiguration::from_url(&conn, &format!("{}/.well-known/smart-configuration", w.smart.issuer))
        .await
        .map_err(|e| e.to_string())?;
    let redirect = LoopbackRedirect::bind().await.map_err(|e| e.to_string())?.timeout(Duration::from_secs(60));
    let client = SmartClient::new(&conn, config, ClientAuth::Public(ClientId::new("browser-native")))
        .redirect_url(redirect.redirect_url().clone());
    // The "system browser" is this Chromium: the opener hands it the URL.
    let (opened, url) = tokio::sync::oneshot::channel();
    let scopes = "openid fhirUser launch/patient patient/*.read".parse().map_err(|e| format!("{e}"))?;
    let login = redirect.authorize(&client, scopes, move |url| {
        let _ = opened.send(url.clone());
        Ok(())
    });
    let person = async {
        let url = url.await.map_err(|_| "the login never opened the browser".to_string())?;
        if !url.as_str().contains("code_challenge_method=S256") {
            return Err(format!("no PKCE in {url}"));
        }
        w.browser.goto(url.as_str()).await.map_err(|e| e.to_string())?;
        w.consent(true).await?;
        let text = w.wait_for("You are signed in").await?;
        w.shot("12-loopback-signed-in").await?;
        Ok(text)
    };
    let (token, page) = tokio::join!(login, person);
    let token = token.map_err(|e| format!("the loopback login failed: {e}"))?;
    page?;
    let patient_id = token.patient_id().ok_or("no patient in context")?.to_string();
    let service = conn.with_session(client.session(token)).service().await.map_err(|e| e.to_string())?;
    let patient: Patient = service.r::<Patient>().fetch(&patient_id).await.map_err(|e| e.to_string())?;
    match patient.name.first().and_then(|n| n.family.value().cloned()).as_deref() {
        Some("Lovelace") => Ok(()),
        other => Err(format!("the token reads another patient: {other:?}")),
    }
}
