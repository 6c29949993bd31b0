//! Parsing and serializing FHIR JSON: fhirstorm's typed models, natively and through serde_json,
//! against `serde_json::Value` and against the floor (`serde::de::IgnoredAny`: validation only),
//! in one process on the same bytes, with the peak heap each parse needs.
//!
//! ```text
//! cargo bench --bench parse            # BENCH_ROUNDS=15 by default: best of 15 interleaved rounds
//! BENCH_ONLY="native parse" BENCH_ROUNDS=30 perf record -g target/release/deps/parse-<hash>
//! BENCH_CORPUS=searchset ...          # one corpus only (searchset or definitions)
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
    // Interleaved: each round runs every row, so that the machine's load hits all alike. Each row
    // runs twice in a row and the second run counts: it starts on the heap its own first run
    // left, as when a program parses one payload after another. (Timed right after another row,
    // a parse starts on that row's freed blocks: after `Value`'s millions of small ones, glibc's
    // malloc first consolidates them, which cost the next row about a tenth of its time.)
    // BENCH_ONLY=<text> runs only the rows whose name has it (for a profiler).
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    for _ in 0..rounds() {
        for row in rows.iter_mut().filter(|r| r.name.contains(only.as_str())) {
            (row.run)();
            row.best = row.best.min((row.run)());
        }
    }
    let usage = [
        counting::Usage::default(),
        counting::usage(|| serde_json::from_slice::<serde_json::Value>(bytes).unwrap()),
        counting::usage(|| AnyResource::from_slice(bytes).unwrap()),
        counting::usage(|| serde_json::from_slice::<AnyResource>(bytes).unwrap()),
    ];
    let value_parse = rows[1].best.as_secs_f64();
    let value_ser = rows[4].best.as_secs_f64();
    let kb = bytes.len() as f64 / 1e3;
    println!("{:<40} {:>9} {:>9} {:>12} {:>10}", "", "MB/s", "× Value", "peak heap", "allocs/KB");
    for (i, row) in rows.iter().enumerate() {
        let t = row.best.as_secs_f64();
        let base = if i < 4 { value_parse } else { value_ser };
        let (peak, calls) = match usage.get(i) {
            Some(u) if i > 0 => {
                (format!("{:.2}× input", u.peak as f64 / bytes.len() as f64), format!("{:.1}", u.calls as f64 / kb))
            }
            _ => (String::new(), String::new()),
        };
        println!("{:<40} {:>9.1} {:>8.2}× {:>12} {:>10}", row.name, mb / t, base / t, peak, calls);
    }
    let value = usage[1];
    println!(
        "peak heap against Value's: native {:.2}×, through serde_json {:.2}×; allocations: native {:.2}×, through serde_json {:.2}×",
        usage[2].peak as f64 / value.peak as f64,
        usage[3].peak as f64 / value.peak as f64,
        usage[2].calls as f64 / value.calls as f64,
        usage[3].calls as f64 / value.calls as f64,
    );
}

fn main() {
    let examples: Vec<Vec<u8>> = examples::r4_examples().iter().map(|b| examples::minify(b)).collect();
    let searchset = bundle("searchset", &examples, Some(7_000_000), true);
    let definitions = bundle("collection", &examples::r4_definitions(), None, false);
    println!("best of {} interleaved runs per row", rounds());
    let corpus = std::env::var("BENCH_CORPUS").unwrap_or_default();
    if corpus.is_empty() || corpus == "searchset" {
        run_corpus("R4 searchset Bundle of the official examples, compact", &searchset);
    }
    if corpus.is_empty() || corpus == "definitions" {
        run_corpus("R4 core package's conformance resources in one Bundle, pretty-printed", &definitions);
    }
}
