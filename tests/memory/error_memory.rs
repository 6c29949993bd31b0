//! Threats 8 and 16 of RELIABILITY.md: a body cannot make the client use memory out of proportion.
//! A hostile server answers 500 with 16 MB of `[0,0,0,...]` as FHIR JSON: parsed into a JSON
//! tree, that grew about 30 times (half a gigabyte). Now an error body is read up to 1 MiB and
//! only an object is parsed for an `OperationOutcome`. A success body padded with a large member
//! the model does not know cost as much; that member is now kept as its text. Measured with a
//! counting allocator (in a process of its own, so nothing else allocates meanwhile).

use crate::counting;
use crate::fake;
use crate::support::Runner;

use fake::{metadata, start, Reply};
use fhirstorm::client::{Connection, ErrorKind, RetryPolicy};
use fhirstorm::r4::Patient;
use fhirstorm::R4;

pub async fn run(t: &mut Runner) {
    t.case("bodies cost memory in proportion to their size", || async {
        bodies_cost_memory_in_proportion_to_their_size().await;
        Ok(())
    })
    .await;
}

async fn bodies_cost_memory_in_proportion_to_their_size() {
    let mut zeros = Vec::with_capacity(16 << 20);
    zeros.push(b'[');
    while zeros.len() < (16 << 20) - 2 {
        zeros.extend_from_slice(b"0,");
    }
    zeros.extend_from_slice(b"0]");
    let mut hostile = Reply::json(500, "");
    hostile.body = std::sync::Arc::new(zeros);
    let outcome =
        r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"processing","diagnostics":"no"}]}"#;
    let f = start(vec![Reply::json(200, &metadata("4.0.1", &["Patient"])), hostile, Reply::json(500, outcome)]).await;
    let conn =
        Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).retry(RetryPolicy::none()).build().unwrap();
    let service = conn.service().await.unwrap();

    let (err, peak) = counting::peak_growth(service.r::<Patient>().fetch("p1")).await;
    let err = err.unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Status, Some(500)), "{err}");
    println!("peak heap growth for a 16 MiB error body: {:.2} MiB", peak as f64 / (1 << 20) as f64);
    assert!(peak < 4 << 20, "peak heap growth {peak} bytes for a 16 MiB error body");

    // A real OperationOutcome still arrives typed.
    let err = service.r::<Patient>().fetch("p1").await.unwrap_err();
    assert_eq!(err.outcome().map(|o| o.issues.len()), Some(1), "{err}");
    drop(f);

    // A success body: a Patient padded with an unknown member of 16 MiB (`[0,0,...]`). As a
    // tree of values it cost ~32 times its size; kept as its text, a small multiple.
    let mut padded = br#"{"resourceType":"Patient","id":"p1","padding":["#.to_vec();
    while padded.len() < (16 << 20) - 4 {
        padded.extend_from_slice(b"0,");
    }
    padded.extend_from_slice(b"0]}");
    let size = padded.len();
    let mut body = Reply::json(200, "");
    body.body = std::sync::Arc::new(padded);
    let f = start(vec![Reply::json(200, &metadata("4.0.1", &["Patient"])), body]).await;
    let conn =
        Connection::<R4>::builder(&f.base).allow_insecure_loopback(true).retry(RetryPolicy::none()).build().unwrap();
    let service = conn.service().await.unwrap();
    let (patient, peak) = counting::peak_growth(service.r::<Patient>().fetch("p1")).await;
    let patient = patient.expect("the padded patient reads");
    assert_eq!(patient.unknown.keys().collect::<Vec<_>>(), ["padding"]);
    println!("peak heap growth for a 16 MiB success body: {:.2} MiB", peak as f64 / (1 << 20) as f64);
    assert!(peak < 3 * size, "peak heap growth {peak} bytes for a {size}-byte success body");
    // What it kept is written back as it came.
    let back = fhirstorm::json::to_vec(&patient);
    assert_eq!(back.len(), size, "written back at another length");
}
