//! A short smoke run of the `ig_package` fuzz target (the long runs are `scripts/fuzz
//! ig_package`, with libFuzzer): its seeds (`fuzz/seeds/ig_package/`), the crash inputs kept in
//! `fuzz/regressions/ig_package/`, and some hundreds of mutations of them (a small deterministic
//! mutator) must generate code that parses, has the clean package's items and keeps its docs
//! text. It lives here, not in the root crate's `tests/official_examples/fuzz_smoke.rs`, because it needs the
//! generator.

mod support {
    pub mod generated;
    pub mod ig_fuzz;
}

use std::path::Path;

/// Pieces that a mutation inserts: Markdown, comment and line-break material.
const TOKENS: &[&str] = &[
    "```", "~~~", "\n", "\r", "\u{2028}", "    ", "\t", "*/", "//!", "<", "](", "[a]: ", "`", "\0", "\\", "\"", "-",
    "1.",
];

fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

#[test]
fn ig_package_seeds_and_mutations() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut inputs = files(&fuzz.join("seeds/ig_package"));
    assert!(!inputs.is_empty(), "no seeds in fuzz/seeds/ig_package");
    inputs.extend(files(&fuzz.join("regressions/ig_package")));
    for input in &inputs {
        support::ig_fuzz::run(input);
    }
    let iterations: usize = std::env::var("FUZZ_SMOKE_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000) / 10;
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for _ in 0..iterations {
        let mut data = inputs[next(inputs.len())].clone();
        for _ in 0..1 + next(4) {
            let at = next(data.len() + 1);
            data.splice(at..at, TOKENS[next(TOKENS.len())].bytes());
        }
        support::ig_fuzz::run(&data);
    }
}
