//! The client's own cost per request: fhirstorm's `fetch` against plain reqwest +
//! `serde_json::Value` on the same tiny resource, with and without a SMART session's bearer token,
//! and with a tracing subscriber that records the request spans. The server is a fake (axum, in
//! this process, on its own thread): it answers in microseconds, so that what differs between the
//! loops is the client's work (token check, headers, span, status and media type checks, typed
//! parse) rather than a real server's variance. Paging against a real server is
//! `cargo bench --bench paging`.
//!
//! ```text
//! cargo bench --bench client_overhead
//! ```

use std::time::{Duration, Instant};

use axum::extract::Path;
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;
use axum::Router;
use fhirstorm::auth::{Session, TokenResponse};
use fhirstorm::client::Connection;
use fhirstorm::r4::Patient;
use fhirstorm::R4;

const REQUESTS: usize = 2_000;
const ROUNDS: usize = 7;
const FHIR: &str = "application/fhir+json";

fn metadata() -> String {
    concat!(
        r#"{"resourceType":"CapabilityStatement","status":"active","date":"2026-12-03","kind":"instance","#,
        r#""fhirVersion":"4.0.1","format":["json"],"rest":[{"mode":"server","resource":[{"type":"Patient","#,
        r#""interaction":[{"code":"read"}]}]}]}"#
    )
    .to_string()
}

/// The fake: a capability statement and a one-line Patient per id, on 127.0.0.1.
fn start_server() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("server runtime");
        rt.block_on(async move {
            let app =
                Router::new().route("/fhir/metadata", get(|| async { ([(CONTENT_TYPE, FHIR)], metadata()) })).route(
                    "/fhir/Patient/{id}",
                    get(|Path(id): Path<String>| async move {
                        ([(CONTENT_TYPE, FHIR)], format!(r#"{{"resourceType":"Patient","id":"{id}","active":true}}"#))
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            tx.send(format!("http://{}/fhir", listener.local_addr().expect("address"))).expect("send");
            axum::serve(listener, app).await.expect("serve");
        });
    });
    rx.recv().expect("server started")
}

async fn raw_loop(client: &reqwest::Client, base: &str, token: Option<&str>) {
    for i in 0..REQUESTS {
        let mut request = client.get(format!("{base}/Patient/p{i}")).header("accept", FHIR);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let body = request.send().await.expect("get").bytes().await.expect("body");
        let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(v["resourceType"], "Patient");
    }
}

async fn fhirstorm_loop(service: &fhirstorm::client::Service<R4>) {
    let patients = service.r::<Patient>();
    for i in 0..REQUESTS {
        let p = patients.fetch(&format!("p{i}")).await.expect("fetch");
        assert!(p.id.is_some());
    }
}

/// Time per request of one loop.
async fn per_request(run: impl std::future::Future<Output = ()>) -> Duration {
    let t = Instant::now();
    run.await;
    t.elapsed() / REQUESTS as u32
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let base = start_server();
    // The client on one thread, so that a thread-local tracing subscriber sees its spans.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("client runtime");
    rt.block_on(async {
        let raw = reqwest::Client::new();
        let plain = Connection::<R4>::builder(&base).allow_insecure_loopback(true).build().expect("connection");
        let token: TokenResponse =
            serde_json::from_str(r#"{"access_token":"bench-token","token_type":"Bearer","expires_in":3600}"#)
                .expect("token");
        let with_session = plain.with_session(Session::fixed(token));
        let (plain, with_session) =
            (plain.service().await.expect("service"), with_session.service().await.expect("service"));

        let mut rows: [(&str, Vec<Duration>); 5] = Default::default();
        let names = [
            "reqwest + serde_json::Value",
            "reqwest + Value, bearer header",
            "fhirstorm fetch",
            "fhirstorm fetch, SMART session",
            "fhirstorm fetch, session, spans recorded",
        ];
        for (row, name) in rows.iter_mut().zip(names) {
            row.0 = name;
        }
        // Warm up, then interleave the loops so that the machine's load hits all alike.
        raw_loop(&raw, &base, None).await;
        fhirstorm_loop(&with_session).await;
        for _ in 0..ROUNDS {
            rows[0].1.push(per_request(raw_loop(&raw, &base, None)).await);
            rows[1].1.push(per_request(raw_loop(&raw, &base, Some("bench-token"))).await);
            rows[2].1.push(per_request(fhirstorm_loop(&plain)).await);
            rows[3].1.push(per_request(fhirstorm_loop(&with_session)).await);
            let subscriber =
                tracing_subscriber::fmt().with_max_level(tracing::Level::DEBUG).with_writer(std::io::sink).finish();
            let _guard = tracing::subscriber::set_default(subscriber);
            rows[4].1.push(per_request(fhirstorm_loop(&with_session)).await);
        }
        let medians: Vec<Duration> = rows.iter().map(|(_, v)| median(v.clone())).collect();
        println!("{REQUESTS} reads of a one-line Patient from an in-process fake, median of {ROUNDS} rounds:");
        for ((name, _), m) in rows.iter().zip(&medians) {
            println!("  {name:<44} {:>7.1} µs per request", m.as_secs_f64() * 1e6);
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!("fhirstorm's own cost per request (against the plain loop doing the same):");
        println!("  no token:                 {:>6.1} µs", us(medians[2]) - us(medians[0]));
        println!("  SMART session:            {:>6.1} µs", us(medians[3]) - us(medians[1]));
        println!("  session, spans recorded:  {:>6.1} µs", us(medians[4]) - us(medians[1]));
        println!("  ratio fhirstorm / plain (session): {:.3}", us(medians[3]) / us(medians[1]));
    });
}
