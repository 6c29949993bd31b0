//! The seed's "resources tour" tutorial in Rust: connect, list the resource types the server
//! advertises (the seed's `dir(service.r)`), and for each type that can be searched by patient,
//! count that patient's resources.
//!
//! ```text
//! cargo run --example resources_tour -- --base URL [--patient ID | --seed] [--allow-insecure-loopback]
//! ```
//!
//! `--seed` first creates a demo patient with a few observations, conditions and medication
//! requests (in one transaction) and tours that patient.

use fhirstorm::client::{Connection, Service};
use fhirstorm::prelude::*;
use fhirstorm::r4::{self, CodeableConcept, Condition, MedicationRequest, Observation, Patient, Reference};
use fhirstorm::R4;

const HELP: &str = "\
usage: resources_tour --base URL [--patient ID | --seed] [--allow-insecure-loopback]

  --base URL                  the FHIR R4 base URL, e.g. http://127.0.0.1:8090/fhir
  --patient ID                tour this patient's resources
  --seed                      create a demo patient (with observations, conditions and
                              medication requests) and tour it
  --allow-insecure-loopback   allow plain http:// to 127.0.0.1 / localhost";

struct Args {
    base: String,
    patient: Option<String>,
    seed: bool,
    insecure_loopback: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args { base: String::new(), patient: None, seed: false, insecure_loopback: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--base" => a.base = it.next().ok_or("--base needs a URL")?,
            "--patient" => a.patient = Some(it.next().ok_or("--patient needs an id")?),
            "--seed" => a.seed = true,
            "--allow-insecure-loopback" => a.insecure_loopback = true,
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if a.base.is_empty() || (a.patient.is_none() && !a.seed) {
        return Err("--base and one of --patient or --seed are needed".into());
    }
    Ok(a)
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
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\n\n{HELP}");
            std::process::exit(2);
        }
    };
    let conn = Connection::<R4>::builder(&args.base).allow_insecure_loopback(args.insecure_loopback).build()?;
    let service = conn.service().await?;
    let caps = conn.metadata().await?;
    println!("{} — FHIR {}", args.base, caps.fhir_version);

    let resources = service.resources();
    println!("{} resource types advertised: {}", resources.len(), resources.join(", "));

    let id = match &args.patient {
        Some(id) => id.clone(),
        None => seed(&service).await?,
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
