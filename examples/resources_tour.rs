//! The Python FHIRstorm's "resources tour" tutorial in Rust: connect, list the resource types the server
//! advertises (the Python FHIRstorm's `dir(service.r)`), and for each type that can be searched by patient,
//! count that patient's resources.
//!
//! ```text
//! cargo run --example resources_tour                      # against scripts/sandbox, signed in
//! cargo run --example resources_tour -- --no-auth --fhir-base URL --seed
//! cargo run --example resources_tour -- --help
//! ```
//!
//! `--seed` first creates a demo patient with a few observations, conditions and medication
//! requests (in one transaction) and tours that patient.

#[path = "common/mod.rs"]
mod common;

use common::{Args, COMMON_HELP};
use fhirstorm::client::Service;
use fhirstorm::prelude::*;
use fhirstorm::r4::{self, CodeableConcept, Condition, MedicationRequest, Observation, Patient, Reference};
use fhirstorm::R4;

fn usage() -> String {
    format!(
        "usage: resources_tour [options]\n\nTours one patient's resources.\n\n\
  --patient ID          tour this patient           [default: the patient in the token's context]\n\
  --seed                create a demo patient (observations, conditions, medication requests) and tour it\n\
  --no-auth             the FHIR server needs no token (no SMART sign-in)\n\
  --client-id ID        [default: demo-confidential]\n\
  --client-secret S     [default: the sandbox demo secret]\n{COMMON_HELP}"
    )
}

fn concept(text: &str) -> Option<CodeableConcept> {
    Some(CodeableConcept { text: Some(text.into()), ..Default::default() })
}

/// Creates a demo patient and some of their data in one transaction; returns the patient id.
async fn seed(service: &Service<R4>) -> Result<String, Box<dyn std::error::Error>> {
    let mut tx = service.transaction();
    let patient_url = tx.new_full_url();
    let subject = || Some(Reference { reference: Some(patient_url.as_str().into()), ..Default::default() });
    let patient = Patient {
        name: vec![r4::HumanName {
            family: Some("Chalmers".into()),
            given: vec!["Peter".into()],
            ..Default::default()
        }],
        birth_date: Some(r4::Primitive::new("1974-12-25".parse()?)),
        gender: Some(r4::Primitive::new(r4::codes::AdministrativeGender::Male)),
        ..Default::default()
    };
    let mut tx = tx.create_as(&patient, Some(patient_url.clone()));
    for (what, value) in [("Body weight", "72.5"), ("Heart rate", "64")] {
        let obs = Observation {
            status: Some(r4::Primitive::new(r4::codes::ObservationStatus::Final)),
            code: concept(what),
            subject: subject(),
            value: Some(r4::ObservationValue::Quantity(Box::new(r4::Quantity {
                value: Some(r4::Primitive::new(value.parse()?)),
                ..Default::default()
            }))),
            ..Default::default()
        };
        tx = tx.create(&obs);
    }
    tx = tx.create(&Condition { code: concept("Hypertension"), subject: subject(), ..Default::default() });
    for drug in ["Lisinopril 10 mg", "Atorvastatin 20 mg"] {
        let order = MedicationRequest {
            status: Some(r4::Primitive::new(r4::codes::MedicationrequestStatus::Active)),
            intent: Some(r4::Primitive::new(r4::codes::MedicationRequestIntent::Order)),
            medication: Some(r4::MedicationRequestMedication::CodeableConcept(Box::new(CodeableConcept {
                text: Some(drug.into()),
                ..Default::default()
            }))),
            subject: subject(),
            ..Default::default()
        };
        tx = tx.create(&order);
    }
    let resp = tx.send().await?;
    Ok(resp.entries[0].id().ok_or("the server did not say where the patient is")?.to_string())
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    common::report(run().await)
}

async fn run() -> common::Result<()> {
    let usage = usage();
    let args = Args::parse(
        &usage,
        &["--fhir-base", "--smart-config", "--redirect-uri", "--client-id", "--client-secret", "--patient"],
        &["--browser", "--seed", "--no-auth"],
    );
    let mut conn = common::connect(&args)?;
    let mut context_patient = None;
    if !args.flag("--no-auth") {
        let auth = common::client_auth(
            args.get_or("--client-id", "demo-confidential"),
            Some(args.get_or("--client-secret", "demo-secret-for-the-local-sandbox-only")),
        );
        let client = common::smart_client(&conn, &args, auth).await?;
        let (url, state, verifier) =
            client.authorization_request("openid fhirUser launch/patient user/*.*".parse()?)?.url()?;
        let redirect = common::user_authorizes(&args, &url).await?;
        let token = client.exchange_redirect(&redirect, &state, &verifier).await?;
        context_patient = token.patient_id().map(String::from);
        conn = conn.with_session(client.session(token));
    }
    let service = conn.service().await?;
    let caps = conn.metadata().await?;
    println!("{} — FHIR {}", conn.base_url(), caps.fhir_version);

    let resources = service.resources();
    println!("{} resource types advertised: {}", resources.len(), resources.join(", "));

    let id = match (args.get("--patient"), args.flag("--seed"), context_patient) {
        (Some(id), _, _) => id.to_string(),
        (None, true, _) => seed(&service).await?,
        (None, false, Some(id)) => id,
        (None, false, None) => return Err("no patient: give --patient ID or --seed".into()),
    };
    let patient: Patient = service.r::<Patient>().fetch(&id).await?;
    let name = patient
        .name
        .first()
        .map(|n| {
            let given: Vec<&str> = n.given.iter().filter_map(|g| g.value().map(String::as_str)).collect();
            format!("{} {}", given.join(" "), n.family.value().map_or("", String::as_str))
        })
        .unwrap_or_default();
    println!("\nPatient/{id}: {name}, born {}", patient.birth_date.value().map_or("?", |d| d.as_str()));

    println!("\nresources of this patient, by type:");
    let mut total = 0;
    for (ty, caps) in &service.capabilities().resources {
        if !caps.search_params.contains_key("patient") || !caps.interactions.contains("search-type") {
            continue;
        }
        let n = service.count(ty, [("patient", id.as_str())]).await?.unwrap_or(0);
        if n > 0 {
            println!("  {ty:<28} {n}");
            total += n;
        }
    }
    println!("  {:<28} {total}", "(all)");

    let orders = service.r::<MedicationRequest>().search([("patient", id.as_str())]).await?;
    println!("\nmedication requests:");
    for order in orders.matches() {
        let what = match &order.medication {
            Some(r4::MedicationRequestMedication::CodeableConcept(c)) => c.text.value().cloned().unwrap_or_default(),
            Some(r4::MedicationRequestMedication::Reference(r)) => r.reference.value().cloned().unwrap_or_default(),
            None => String::new(),
        };
        println!("  - {what} ({})", order.status.value().map_or("?", |s| s.as_str()));
    }
    Ok(())
}
