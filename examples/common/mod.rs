//! What the SMART examples share: arguments (with the local sandbox's addresses as defaults),
//! connecting, and playing the user in a headless authorization against the sandbox.

#![allow(dead_code)]

use std::collections::HashMap;

use fhirstorm::auth::{ClientAuth, ClientId, ClientSecret, RedirectUrl, SmartClient, SmartConfiguration};
use fhirstorm::client::Connection;
use fhirstorm::prelude::*;
use fhirstorm::r4::{HumanName, MedicationRequest, MedicationRequestMedication, Patient};
use fhirstorm::R4;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The sandbox's FHIR base URL (`scripts/sandbox`).
pub const SANDBOX_FHIR: &str = "http://127.0.0.1:8090/fhir";
/// The sandbox's SMART configuration (its authorization server).
pub const SANDBOX_SMART: &str = "http://127.0.0.1:8091/.well-known/smart-configuration";
/// The sandbox's registered redirect URL (headless runs never load it).
pub const SANDBOX_REDIRECT: &str = "http://127.0.0.1:8000/callback";

/// The options every SMART example takes.
pub const COMMON_HELP: &str = "\
  --fhir-base URL       FHIR R4 base URL                    [default: http://127.0.0.1:8090/fhir]
  --smart-config URL    the authorization server's .well-known/smart-configuration; without it,
                        discovered from the FHIR server     [default: the sandbox's, http://127.0.0.1:8091/...]
  --redirect-uri URL    the app's registered redirect URL   [default: http://127.0.0.1:8000/callback]
  --browser             print the authorization URL and read the redirect URL back from stdin,
                        instead of completing the authorization headlessly (sandbox only)
  -h, --help            this help";

/// Prints an error the way people read it (its `Display`, and what caused it) and gives the
/// exit code.
pub fn report(result: Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(s) = source {
                eprintln!("  caused by: {s}");
                source = s.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}

/// `--name value` options and `--flag`s, with `--help` printing `usage`.
pub struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

impl Args {
    /// Parses the command line; `values` are the options that take a value, `flags` the others.
    pub fn parse(usage: &str, values: &[&str], flags: &[&str]) -> Args {
        let mut out = Args { values: HashMap::new(), flags: Vec::new() };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            if a == "-h" || a == "--help" {
                println!("{usage}");
                std::process::exit(0);
            } else if values.contains(&a.as_str()) {
                match it.next() {
                    Some(v) => {
                        out.values.insert(a, v);
                    }
                    None => die(usage, &format!("{a} needs a value")),
                }
            } else if flags.contains(&a.as_str()) {
                out.flags.push(a);
            } else {
                die(usage, &format!("unknown argument {a}"));
            }
        }
        out
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn get_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.get(name).unwrap_or(default)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

fn die(usage: &str, msg: &str) -> ! {
    eprintln!("error: {msg}\n\n{usage}");
    std::process::exit(2)
}

/// A connection to `--fhir-base`. Plain HTTP is allowed for loopback addresses only (the
/// sandbox); anything else must be HTTPS.
pub fn connect(args: &Args) -> Result<Connection<R4>> {
    Ok(Connection::<R4>::builder(args.get_or("--fhir-base", SANDBOX_FHIR)).allow_insecure_loopback(true).build()?)
}

/// The SMART configuration: from `--smart-config` (the sandbox's by default when the FHIR base is
/// the sandbox's), else discovered from the FHIR server.
pub async fn configuration(conn: &Connection<R4>, args: &Args) -> Result<SmartConfiguration> {
    let sandbox = conn.base_url().as_str().trim_end_matches('/') == SANDBOX_FHIR;
    match args.get("--smart-config").or(if sandbox { Some(SANDBOX_SMART) } else { None }) {
        Some(url) => Ok(SmartConfiguration::from_url(conn, url).await?),
        None => Ok(SmartConfiguration::discover(conn).await?),
    }
}

/// A Backend Services client's private key: `--key` (PKCS#8 PEM; the sandbox's RS384 key by
/// default), its id `--kid` (or the `.kid` file beside it), signing with `alg`.
pub fn backend_key(args: &Args, alg: fhirstorm::auth::SigningAlgorithm) -> Result<fhirstorm::auth::PrivateKey> {
    let default_key = concat!(env!("CARGO_MANIFEST_DIR"), "/../.cache/sandbox/keys/rs384.pem");
    let key_path = std::path::PathBuf::from(args.get_or("--key", default_key));
    let kid = match args.get("--kid") {
        Some(k) => k.to_string(),
        None => std::fs::read_to_string(key_path.with_extension("kid"))
            .map_err(|e| format!("no --kid, and {} has no .kid file beside it: {e}", key_path.display()))?,
    };
    let pem = std::fs::read(&key_path).map_err(|e| format!("reading {}: {e}", key_path.display()))?;
    Ok(fhirstorm::auth::PrivateKey::from_pem(alg, &pem, kid)?)
}

/// The client: confidential (Basic) when there is a secret, public otherwise.
pub fn client_auth(id: &str, secret: Option<&str>) -> ClientAuth {
    match secret {
        Some(s) => ClientAuth::SecretBasic(ClientId::new(id), ClientSecret::new(s)),
        None => ClientAuth::Public(ClientId::new(id)),
    }
}

pub async fn smart_client(conn: &Connection<R4>, args: &Args, auth: ClientAuth) -> Result<SmartClient> {
    let config = configuration(conn, args).await?;
    let redirect = RedirectUrl::new(args.get_or("--redirect-uri", SANDBOX_REDIRECT))?;
    Ok(SmartClient::new(conn, config, auth).redirect_url(redirect))
}

/// The user's part: sign in and approve at `url`, then come back to the redirect URL. With
/// `--browser` a person does it; otherwise the sandbox approves at once and this follows its
/// redirects (keeping its cookies) like a browser would.
pub async fn user_authorizes(args: &Args, url: &url::Url) -> Result<String> {
    let redirect = args.get_or("--redirect-uri", SANDBOX_REDIRECT).to_string();
    if args.flag("--browser") {
        println!("Open this URL in a browser, sign in, and paste the URL you are sent back to:\n\n  {url}\n");
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        return Ok(line.trim().to_string());
    }
    let http = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build()?;
    let mut at = url.clone();
    for _ in 0..10 {
        let resp = http.get(at.clone()).send().await?;
        let location = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| format!("the authorization server answered {} without a redirect", resp.status()))?;
        let next = at.join(location)?;
        if next.as_str().starts_with(&redirect) {
            return Ok(next.to_string());
        }
        at = next;
    }
    Err("too many redirects during the authorization".into())
}

/// `Given Family`.
pub fn display_name(names: &[HumanName]) -> String {
    let Some(n) = names.first() else { return "(no name)".into() };
    if let Some(t) = n.text.value() {
        return t.clone();
    }
    let mut parts: Vec<String> = n.given.iter().filter_map(|g| g.value.clone()).collect();
    parts.extend(n.family.value().cloned());
    if parts.is_empty() {
        "(no name)".into()
    } else {
        parts.join(" ")
    }
}

/// What a medication request asks for, in words.
pub fn medication_text(m: &MedicationRequest) -> String {
    match &m.medication {
        Some(MedicationRequestMedication::CodeableConcept(c)) => c
            .text
            .value()
            .cloned()
            .or_else(|| c.coding.iter().find_map(|cd| cd.display.value().cloned()))
            .unwrap_or_else(|| "(uncoded medication)".into()),
        Some(MedicationRequestMedication::Reference(r)) => {
            r.display.value().cloned().or_else(|| r.reference.value().cloned()).unwrap_or_default()
        }
        None => "(no medication)".into(),
    }
}

/// The Python FHIRstorm README's ending: a patient and their medication requests, printed.
pub fn print_summary(patient: &Patient, meds: &[MedicationRequest]) {
    println!("Patient   {} ({})", display_name(&patient.name), patient.id.as_deref().unwrap_or("?"));
    match patient.birth_date.value() {
        Some(d) => println!("Born      {d}"),
        None => println!("Born      (not recorded)"),
    }
    println!("Medications ({}):", meds.len());
    for m in meds {
        let dosage = m.dosage_instruction.first().and_then(|d| d.text.value().cloned()).unwrap_or_default();
        println!(
            "  - {}{}",
            medication_text(m),
            if dosage.is_empty() { String::new() } else { format!(" — {dosage}") }
        );
    }
}
