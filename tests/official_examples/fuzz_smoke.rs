//! A short smoke run of every fuzz target (the long runs are `scripts/fuzz`, with libFuzzer):
//! each target's entry point gets its seeds, the crash inputs kept in `fuzz/regressions/`, and
//! some thousands of mutations of them (a small deterministic mutator), and must not panic.
//!
//! The seeds the repository owns (`fuzz/seeds/TARGET/`) are enough for every target; the small
//! official examples, where `FHIR_EXAMPLES_DIR` (or `../shared/fhir-examples`) has them, only add
//! seeds. Each owned seed of a model target must be a resource its model accepts, so the smoke
//! run mutates real resources, not noise.
//!
//! The generator's target, `ig_package`, is replayed by `fhirstorm-codegen/tests/fuzz_ig_package.rs`
//! (this crate does not build the generator).

use std::path::{Path, PathBuf};

type Target = fn(&[u8]);
/// Whether a model target's model accepts the input (to check the owned seeds).
type Accepts = fn(&[u8]) -> Result<(), String>;

/// A target: its name, its entry point, and for a model target its examples folder and model.
type TargetRow<'a> = (&'a str, Target, Option<(&'a str, Accepts)>);

fn accepts<A: fhirstorm::json::FromJson>(data: &[u8]) -> Result<(), String> {
    fhirstorm::json::from_slice::<A>(data).map(|_| ()).map_err(|e| e.to_string())
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.retain(|p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')));
    v.sort();
    v
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const TOKENS: &[&[u8]] = &[
    b"\"",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\u0000",
    b"\\ud800",
    b"null",
    b"-0",
    b"1e999",
    b"0.10",
    b"\xff",
    b"\"resourceType\":\"Patient\"",
    b"\"_birthDate\":",
    b"&",
    b"=",
    b"%",
    b"%zz",
    b"state=",
    b"code=",
    b"?",
    b"#",
    b"\"type\":\"",
    b"../",
    b"/",
    b"\\\\",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = d.len();
        match rng.below(6) {
            0 if len > 0 => {
                let i = rng.below(len);
                d[i] ^= 1 << rng.below(8);
            }
            1 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                let i = rng.below(len + 1);
                d.splice(i..i, t.iter().copied());
            }
            2 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(16)).min(len);
                d.drain(i..j);
            }
            3 if len > 0 => d.truncate(rng.below(len)),
            4 if len > 0 => {
                let i = rng.below(len);
                let j = (i + 1 + rng.below(64)).min(len);
                let chunk = d[i..j].to_vec();
                let k = rng.below(len + 1);
                d.splice(k..k, chunk);
            }
            _ => {
                let i = rng.below(len + 1);
                d.insert(i, rng.next() as u8);
            }
        }
    }
    d
}

pub fn run() {
    let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let examples = std::env::var_os("FHIR_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/fhir-examples"));
    let iterations: usize = std::env::var("FUZZ_SMOKE_ITERS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    use fhirstorm::{dstu2, r4, stu3};
    let targets: &[TargetRow] = &[
        ("parse_r4", fhirstorm::fuzzing::any_resource::<r4::AnyResource>, Some(("r4", accepts::<r4::AnyResource>))),
        (
            "parse_stu3",
            fhirstorm::fuzzing::any_resource::<stu3::AnyResource>,
            Some(("stu3", accepts::<stu3::AnyResource>)),
        ),
        (
            "parse_dstu2",
            fhirstorm::fuzzing::any_resource::<dstu2::AnyResource>,
            Some(("dstu2", accepts::<dstu2::AnyResource>)),
        ),
        #[cfg(feature = "r4b")]
        (
            "parse_r4b",
            fhirstorm::fuzzing::any_resource::<fhirstorm::r4b::AnyResource>,
            Some(("r4b", accepts::<fhirstorm::r4b::AnyResource>)),
        ),
        #[cfg(feature = "r5")]
        (
            "parse_r5",
            fhirstorm::fuzzing::any_resource::<fhirstorm::r5::AnyResource>,
            Some(("r5", accepts::<fhirstorm::r5::AnyResource>)),
        ),
        ("token_response", fhirstorm::fuzzing::token_response, None),
        ("smart_configuration", fhirstorm::fuzzing::smart_configuration, None),
        ("redirect_url", fhirstorm::fuzzing::redirect_url, None),
        ("search_page", fhirstorm::fuzzing::search_page, None),
        ("retry_after", fhirstorm::fuzzing::retry_after, None),
        ("request_path", fhirstorm::fuzzing::request_path, None),
        ("bulk_manifest", fhirstorm::fuzzing::bulk_manifest, None),
        ("fhirpath", fhirstorm::fuzzing::fhirpath, None),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for (name, target, version) in targets {
        let owned = files(&root.join("fuzz/seeds").join(name));
        assert!(!owned.is_empty(), "{name}: the repository has no seeds in fuzz/seeds/{name}");
        let mut seeds: Vec<Vec<u8>> = Vec::new();
        for f in &owned {
            let bytes = std::fs::read(f).expect("seed readable");
            if let Some((_, accepts)) = version {
                if let Err(e) = accepts(&bytes) {
                    panic!("{}: the seed is not a resource its model accepts: {e}", f.display());
                }
            }
            seeds.push(bytes);
        }
        let regressions = files(&root.join("fuzz/regressions").join(name));
        seeds.extend(regressions.iter().filter_map(|f| std::fs::read(f).ok()));
        let regressions = regressions.len();
        let mut from_examples = 0;
        if let Some((v, _)) = version {
            // The small official examples (big ones make slow mutants).
            let mut ex: Vec<Vec<u8>> = files(&examples.join(v))
                .iter()
                .filter_map(|f| std::fs::read(f).ok())
                .filter(|b| b.len() < 4096)
                .collect();
            ex.truncate(300);
            from_examples = ex.len();
            seeds.extend(ex);
        }
        for s in &seeds {
            target(s);
        }
        for _ in 0..iterations {
            let seed = &seeds[rng.below(seeds.len())];
            target(&mutate(&mut rng, seed));
        }
        println!(
            "fuzz smoke {name}: {} seeds ({} owned, {regressions} regression inputs, {from_examples} official \
             examples), {iterations} mutants, no panic",
            seeds.len(),
            owned.len()
        );
    }
}
