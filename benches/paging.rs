//! Paging 10,000 resources from a local FHIR server (sekmet-fhir, started here): fhirstorm's
//! typed `search_all` stream against raw `reqwest` + `serde_json::Value` following the same
//! `next` links, in the same run.
//!
//! ```text
//! scripts/install-test-servers && cargo bench --bench paging
//! ```

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use fhirstorm::client::Connection;
use fhirstorm::r4::Observation;
use fhirstorm::R4;
use futures_util::StreamExt;
use support::{seed_observations, FhirServer, CODE, PAGE, TOTAL};

async fn fhirstorm_run(service: &fhirstorm::client::Service<R4>) -> usize {
    let code = format!("urn:fhirstorm|{CODE}");
    let count = PAGE.to_string();
    let obs = service.r::<Observation>();
    let mut stream = std::pin::pin!(obs.search_all([("code", code.as_str()), ("_count", count.as_str())]));
    let mut n = 0;
    while let Some(o) = stream.next().await {
        std::hint::black_box(o.expect("observation"));
        n += 1;
    }
    n
}

async fn raw_run(client: &reqwest::Client, base: &str) -> usize {
    let mut url = format!("{base}/Observation?code=urn:fhirstorm%7C{CODE}&_count={PAGE}");
    let mut n = 0;
    loop {
        let body = client
            .get(&url)
            .header("accept", "application/fhir+json")
            .send()
            .await
            .expect("get")
            .bytes()
            .await
            .expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        n += v["entry"].as_array().map_or(0, |e| e.len());
        let next = v["link"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["relation"] == "next"))
            .and_then(|l| l["url"].as_str());
        match next {
            Some(u) => url = u.to_string(),
            None => return n,
        }
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let server = FhirServer::start();
    let conn = Connection::<R4>::builder(&server.base).allow_insecure_loopback(true).build().expect("connection");
    let service = conn.service().await.expect("service");
    seed_observations(&service).await.expect("seeded");
    let client = reqwest::Client::new();
    assert_eq!(fhirstorm_run(&service).await, TOTAL);
    assert_eq!(raw_run(&client, &server.base).await, TOTAL);

    let (mut ours, mut raw) = (Vec::new(), Vec::new());
    // Interleaved, so that both see the same server state and machine load.
    for _ in 0..5 {
        let t = Instant::now();
        fhirstorm_run(&service).await;
        ours.push(t.elapsed());
        let t = Instant::now();
        raw_run(&client, &server.base).await;
        raw.push(t.elapsed());
    }
    let (ours, raw) = (median(ours), median(raw));
    println!("paging {TOTAL} Observations, {PAGE} per page, median of 5:");
    println!("  fhirstorm search_all (typed)        {:>8.1} ms", ours.as_secs_f64() * 1e3);
    println!("  reqwest + serde_json::Value         {:>8.1} ms", raw.as_secs_f64() * 1e3);
    println!("  ratio fhirstorm / raw: {:.3}", ours.as_secs_f64() / raw.as_secs_f64());
}
