//! fhirstorm's models in the crates Rust services are made of: an axum service that takes and
//! answers typed resources (`Json<Patient>`, a searchset `Json<Bundle>`), called with plain
//! reqwest (`.json(&patient)`, `.json::<Bundle>()`). The serde impls read and write through
//! fhirstorm's own JSON (exact decimals, unknown members and primitive extensions kept).
//!
//! ```text
//! cargo run --example axum_service --all-features              # serves on 127.0.0.1:8095
//! cargo run --example axum_service --all-features -- --self-test   # serves, calls itself, exits
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use fhirstorm::r4::{self, Bundle, BundleEntry, Patient};

type Store = Arc<Mutex<BTreeMap<String, Patient>>>;

/// `POST /Patient`: stores the patient under a new id and answers it as stored.
async fn create(State(store): State<Store>, Json(mut patient): Json<Patient>) -> (StatusCode, Json<Patient>) {
    let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
    let id = format!("p{}", store.len() + 1);
    patient.id = Some(id.clone());
    store.insert(id, patient.clone());
    (StatusCode::CREATED, Json(patient))
}

/// `GET /Patient/{id}`.
async fn read(State(store): State<Store>, Path(id): Path<String>) -> Result<Json<Patient>, StatusCode> {
    let store = store.lock().unwrap_or_else(|e| e.into_inner());
    store.get(&id).cloned().map(Json).ok_or(StatusCode::NOT_FOUND)
}

/// `GET /Patient`: every patient, as a searchset Bundle.
async fn search(State(store): State<Store>) -> Json<Bundle> {
    let store = store.lock().unwrap_or_else(|e| e.into_inner());
    let entry = store
        .values()
        .map(|p| BundleEntry { resource: Some(r4::AnyResource::from(p.clone())), ..Default::default() })
        .collect();
    Json(Bundle {
        r#type: Some(r4::Primitive::new(r4::codes::BundleType::Searchset)),
        total: Some(r4::Primitive::new(store.len() as u32)),
        entry,
        ..Default::default()
    })
}

fn app() -> Router {
    let store = Store::default();
    Router::new().route("/Patient", get(search).post(create)).route("/Patient/{id}", get(read)).with_state(store)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let self_test = std::env::args().any(|a| a == "--self-test");
    let listener = tokio::net::TcpListener::bind(if self_test { "127.0.0.1:0" } else { "127.0.0.1:8095" }).await?;
    let base = format!("http://{}", listener.local_addr()?);
    println!("serving typed FHIR resources at {base}/Patient");
    let server = tokio::spawn(async move { axum::serve(listener, app()).await });
    if !self_test {
        server.await??;
        return Ok(());
    }

    // A client that knows nothing of fhirstorm's own client: reqwest and serde.
    let http = reqwest::Client::new();
    let sent: Patient = fhirstorm::json::from_slice(
        br#"{"resourceType":"Patient","name":[{"family":"Chalmers","given":["Peter"]}],
            "birthDate":"1974-12-25","_birthDate":{"extension":[{"url":"http://example.org/precision","valueCode":"day"}]},
            "extension":[{"url":"http://example.org/weight","valueDecimal":72.50}]}"#,
    )?;
    let created: Patient =
        http.post(format!("{base}/Patient")).json(&sent).send().await?.error_for_status()?.json().await?;
    let id = created.id.clone().ok_or("the service gave no id")?;
    println!("created Patient/{id}");
    let read: Patient = http.get(format!("{base}/Patient/{id}")).send().await?.error_for_status()?.json().await?;
    let bundle: Bundle = http.get(format!("{base}/Patient")).send().await?.error_for_status()?.json().await?;
    println!("searchset: {} patient(s)", bundle.entry.len());

    // Nothing lost on the way: the extension on birthDate, the decimal's trailing zero.
    let mut expected = sent;
    expected.id = Some(id);
    if read != expected {
        return Err(format!(
            "the patient changed on the way:\n{}\n{}",
            fhirstorm::json::to_string(&read),
            fhirstorm::json::to_string(&expected)
        )
        .into());
    }
    let text = fhirstorm::json::to_string(&read);
    if !text.contains("72.50") || !text.contains("http://example.org/precision") {
        return Err(format!("lost a decimal digit or an extension: {text}").into());
    }
    let missing = http.get(format!("{base}/Patient/nope")).send().await?.status();
    if missing != reqwest::StatusCode::NOT_FOUND {
        return Err(format!("expected 404, got {missing}").into());
    }
    println!("round trip through axum and reqwest: nothing lost");
    Ok(())
}
