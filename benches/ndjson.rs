//! Streaming NDJSON, as a bulk export's files arrive: a ≥ 100 MB file built from the official R4
//! examples (one resource per line), parsed a line at a time by fhirstorm's `NdjsonStream` into
//! typed resources, beside `serde_json::Value` line by line, and fhirstorm's parallel mode
//! (`for_each_parallel`) on 2 workers, in the same run.
//!
//! ```text
//! cargo bench --bench ndjson
//! ```
//!
//! Examples come from `$FHIR_EXAMPLES_DIR/r4`, else from `scripts/fhir-examples`.

#[path = "common/examples.rs"]
mod examples;

use std::sync::Arc;
use std::time::{Duration, Instant};

use fhirstorm::client::bulk::NdjsonStream;
use fhirstorm::r4::AnyResource;

const TARGET_BYTES: usize = 100 * 1000 * 1000;

/// One example per line (without whitespace), repeated until the target size.
fn build_file() -> Arc<[u8]> {
    let lines: Vec<Vec<u8>> = examples::r4_examples().iter().map(|b| examples::minify(b)).collect();
    let mut out = Vec::with_capacity(TARGET_BYTES + (1 << 20));
    let mut i = 0;
    while out.len() < TARGET_BYTES {
        out.extend_from_slice(&lines[i % lines.len()]);
        out.push(b'\n');
        i += 1;
    }
    out.into()
}

/// The median of `runs` timings of `f`, after one warm-up.
fn measure(runs: usize, mut f: impl FnMut() -> usize) -> (Duration, usize) {
    let n = f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(f(), n, "every run reads every line");
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], n)
}

fn main() {
    let file = build_file();
    let mb = file.len() as f64 / 1e6;
    println!("NDJSON file: {mb:.1} MB");
    let single = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let multi = tokio::runtime::Builder::new_multi_thread().worker_threads(2).max_blocking_threads(2).build().unwrap();
    let reader = || std::io::Cursor::new(file.clone());

    let value = measure(5, || {
        let mut n = 0;
        for line in file.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            std::hint::black_box(serde_json::from_slice::<serde_json::Value>(line).unwrap());
            n += 1;
        }
        n
    });
    let typed = measure(5, || {
        single.block_on(async {
            let mut stream = NdjsonStream::<AnyResource>::from_reader(reader(), "bench.ndjson");
            let mut n = 0;
            while let Some(r) = stream.next().await {
                std::hint::black_box(r.unwrap());
                n += 1;
            }
            n
        })
    });
    let parallel = measure(5, || {
        multi.block_on(async {
            let stream = NdjsonStream::<AnyResource>::from_reader(reader(), "bench.ndjson");
            let summary = stream
                .for_each_parallel(2, |r| {
                    std::hint::black_box(r);
                })
                .await
                .unwrap();
            summary.resources as usize
        })
    });
    let rows = [
        ("serde_json::Value, line by line", value),
        ("fhirstorm NdjsonStream (typed AnyResource)", typed),
        ("fhirstorm parallel, 2 workers", parallel),
    ];
    for (name, (t, n)) in &rows {
        println!(
            "{name:<44} {:>8.1} MB/s   ({n} resources, {:.0} ms per run)",
            mb / t.as_secs_f64(),
            t.as_secs_f64() * 1e3
        );
    }
    let speed = |d: Duration| mb / d.as_secs_f64();
    let single_ratio = speed(typed.0) / speed(value.0);
    let parallel_ratio = speed(parallel.0) / speed(typed.0);
    println!("typed streaming is {single_ratio:.2}x serde_json::Value (goal 1.5x); 2 workers {parallel_ratio:.2}x one (goal 1.8x)");
}
