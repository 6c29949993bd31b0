//! Parsing and serializing FHIR JSON: fhirstorm's typed models, natively and through serde_json,
//! against `serde_json::Value` and against the floor (`serde::de::IgnoredAny`: validation only),
//! in one process on the same bytes, with the peak heap each parse needs.
//!
//! ```text
//! cargo bench --bench parse            # BENCH_ROUNDS=15 by default: best of 15 interleaved runs
//! BENCH_ONLY="native parse" BENCH_ROUNDS=30 perf record -g target/release/deps/parse-<hash>
//! ```
//!
//! Two corpora: a compact R4 searchset Bundle (≥ 7 MB) built from the official examples
//! (`$FHIR_EXAMPLES_DIR/r4`, else `scripts/fhir-examples`), and a pretty-printed collection Bundle
//! of every conformance resource of the R4 core package (`scripts/r4-core`, about 45 MB: the
//! shape of the official `profiles-resources.json` and its siblings). Parse times exclude
//! dropping the result. Figures and the machine they ran on are kept in BENCHMARKS.md.

#[path = "common/counting.rs"]
mod counting;
#[path = "common/examples.rs"]
mod examples;

use std::hint::black_box;
use std::time::{Duration, Instant};

use fhirstorm::r4::AnyResource;

/// Builds a Bundle of the given type from resources' JSON texts, each kept as it came.
fn bundle(kind: &str, resources: &[Vec<u8>], target: Option<usize>, search: bool) -> Vec<u8> {
    let mut out = format!(r#"{{"resourceType":"Bundle","type":"{kind}","entry":["#).into_bytes();
    let mut i = 0;
    while i < resources.len() || target.is_some_and(|t| out.len() < t) {
        if i > 0 {
            out.extend_from_slice(b",\n");
        }
        out.extend_from_slice(format!(r#"{{"fullUrl":"urn:uuid:{i}","resource":"#).as_bytes());
        out.extend_from_slice(&resources[i % resources.len()]);
        out.extend_from_slice(if search { br#","search":{"mode":"match"}}"# } else { b"}" });
        i += 1;
        if target.is_some_and(|t| out.len() >= t) {
            break;
        }
    }
    out.extend_from_slice(b"]}");
    out
}

/// One measured operation: its name and a run that returns the time of the work alone.
struct Row<'a> {
    name: &'static str,
    run: Box<dyn FnMut() -> Duration + 'a>,
    best: Duration,
}

/// Times `f`, then drops its result outside the measured time.
fn timed<T>(f: impl FnOnce() -> T) -> Duration {
    let t = Instant::now();
    let out = black_box(f());
    let elapsed = t.elapsed();
    drop(out);
    elapsed
}

fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS").ok().and_then(|s| s.parse().ok()).unwrap_or(15)
}

fn run_corpus(title: &str, bytes: &[u8]) {
    let mb = bytes.len() as f64 / 1e6;
    println!("\n{title}: {mb:.2} MB");
    let typed = AnyResource::from_slice(bytes).expect("the corpus reads natively");
    let through_serde: AnyResource = serde_json::from_slice(bytes).expect("the corpus reads through serde_json");
    assert!(typed == through_serde, "serde_json and the native parser read the corpus alike");
    let value: serde_json::Value = serde_json::from_slice(bytes).expect("the corpus reads as a Value");
    assert_eq!(fhirstorm::json::to_vec(&typed), serde_json::to_vec(&typed).unwrap(), "both ways write alike");

    let mut rows = [
        Row {
            name: "floor: serde IgnoredAny parse",
            run: Box::new(|| timed(|| serde_json::from_slice::<serde::de::IgnoredAny>(bytes).unwrap())),
            best: Duration::MAX,
        },
        Row {
            name: "serde_json::Value parse",
            run: Box::new(|| timed(|| serde_json::from_slice::<serde_json::Value>(bytes).unwrap())),
            best: Duration::MAX,
        },
        Row {
            name: "fhirstorm native parse",
            run: Box::new(|| timed(|| AnyResource::from_slice(bytes).unwrap())),
            best: Duration::MAX,
        },
        Row {
            name: "fhirstorm through serde_json parse",
            run: Box::new(|| timed(|| serde_json::from_slice::<AnyResource>(bytes).unwrap())),
            best: Duration::MAX,
        },
        Row {
            name: "serde_json::Value serialize",
            run: Box::new(|| timed(|| serde_json::to_vec(&value).unwrap())),
            best: Duration::MAX,
        },
        Row { name: "fhirstorm native serialize", run: Box::new(|| timed(|| typed.to_vec())), best: Duration::MAX },
        Row {
            name: "fhirstorm through serde_json serialize",
            run: Box::new(|| timed(|| serde_json::to_vec(&typed).unwrap())),
            best: Duration::MAX,
        },
    ];
    // Interleaved: each round runs every row once, so that the machine's load hits all alike.
    // BENCH_ONLY=<text> runs only the rows whose name has it (for a profiler).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for _ in 0..rounds() {
        for row in rows.iter_mut().filter(|r| r.name.contains(only.as_str())) {
            row.best = row.best.min((row.run)());
        }
    }
    let peaks = [
        0,
        counting::peak_growth(|| serde_json::from_slice::<serde_json::Value>(bytes).unwrap()),
        counting::peak_growth(|| AnyResource::from_slice(bytes).unwrap()),
        counting::peak_growth(|| serde_json::from_slice::<AnyResource>(bytes).unwrap()),
    ];
    let value_parse = rows[1].best.as_secs_f64();
    let value_ser = rows[4].best.as_secs_f64();
    println!("{:<40} {:>9} {:>9} {:>12}", "", "MB/s", "× Value", "peak heap");
    for (i, row) in rows.iter().enumerate() {
        let t = row.best.as_secs_f64();
        let base = if i < 4 { value_parse } else { value_ser };
        let peak = match peaks.get(i) {
            Some(&p) if i > 0 => format!("{:.2}× input", p as f64 / bytes.len() as f64),
            _ => String::new(),
        };
        println!("{:<40} {:>9.1} {:>8.2}× {:>12}", row.name, mb / t, base / t, peak);
    }
    let value_peak = peaks[1] as f64;
    println!(
        "peak heap against Value's: native {:.2}×, through serde_json {:.2}×",
        peaks[2] as f64 / value_peak,
        peaks[3] as f64 / value_peak
    );
}

fn main() {
    let examples: Vec<Vec<u8>> = examples::r4_examples().iter().map(|b| examples::minify(b)).collect();
    let searchset = bundle("searchset", &examples, Some(7_000_000), true);
    let definitions = bundle("collection", &examples::r4_definitions(), None, false);
    println!("best of {} interleaved runs per row", rounds());
    run_corpus("R4 searchset Bundle of the official examples, compact", &searchset);
    run_corpus("R4 core package's conformance resources in one Bundle, pretty-printed", &definitions);
}
