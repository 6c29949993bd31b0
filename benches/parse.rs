//! Parsing and serializing a large R4 searchset Bundle (≥ 5 MB, built from the official
//! examples): fhirstorm's typed models against `serde_json::Value`, in the same run.
//!
//! ```text
//! cargo bench --bench parse
//! ```
//!
//! Examples come from `$FHIR_EXAMPLES_DIR/r4` (default `../shared/fhir-examples/r4`).

#[path = "common/examples.rs"]
mod examples;

use std::time::{Duration, Instant};

use fhirstorm::r4::AnyResource;

const TARGET_BYTES: usize = 5 * 1024 * 1024;

fn build_bundle() -> Vec<u8> {
    let resources: Vec<String> =
        examples::r4_examples().into_iter().map(|b| String::from_utf8(b).expect("UTF-8 examples")).collect();
    let mut out = String::from(r#"{"resourceType":"Bundle","type":"searchset","entry":["#);
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        if i > 0 {
            out.push(',');
        }
        let r = &resources[i % resources.len()];
        out.push_str(&format!(r#"{{"fullUrl":"urn:uuid:{i}","resource":{r},"search":{{"mode":"match"}}}}"#));
        i += 1;
    }
    out.push_str("]}");
    out.into_bytes()
}

/// Runs `f` repeatedly for about `budget` and returns the median time of one run.
fn measure(budget: Duration, mut f: impl FnMut()) -> Duration {
    f(); // warm up
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (start.elapsed() < budget && times.len() < 200) {
        let t = Instant::now();
        f();
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let bundle = build_bundle();
    let mb = bundle.len() as f64 / 1e6;
    let budget = Duration::from_secs(3);
    println!("bundle: {:.2} MB", mb);

    let typed = AnyResource::from_slice(&bundle).expect("bundle parses");
    let value: serde_json::Value = serde_json::from_slice(&bundle).expect("bundle parses");

    let rows = [
        (
            "fhirstorm parse (typed AnyResource)",
            measure(budget, || drop(std::hint::black_box(AnyResource::from_slice(&bundle).unwrap()))),
        ),
        (
            "fhirstorm parse, lenient",
            measure(budget, || {
                drop(std::hint::black_box(fhirstorm::json::from_slice_lenient::<AnyResource>(&bundle).unwrap()))
            }),
        ),
        (
            "serde_json::Value parse",
            measure(budget, || {
                drop(std::hint::black_box(serde_json::from_slice::<serde_json::Value>(&bundle).unwrap()))
            }),
        ),
        ("fhirstorm serialize", measure(budget, || drop(std::hint::black_box(typed.to_vec())))),
        (
            "serde_json::Value serialize",
            measure(budget, || drop(std::hint::black_box(serde_json::to_vec(&value).unwrap()))),
        ),
    ];
    for (name, t) in &rows {
        println!("{name:<40} {:>8.1} MB/s   ({:.1} ms per run)", mb / t.as_secs_f64(), t.as_secs_f64() * 1e3);
    }
    let parse_ratio = rows[2].1.as_secs_f64() / rows[0].1.as_secs_f64();
    let ser_ratio = rows[4].1.as_secs_f64() / rows[3].1.as_secs_f64();
    println!("typed parse is {parse_ratio:.2}x the speed of serde_json::Value; serialize {ser_ratio:.2}x");
}
