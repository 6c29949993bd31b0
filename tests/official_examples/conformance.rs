// Conformance: every official example of every enabled version is read into that version's
// `AnyResource` and written back, and the output must equal the input as JSON (member order
// ignored, numbers compared by their exact text). Then no data loss: each example is read, one
// unrelated element (its `id`) is changed, and it is written back: everything else — elements,
// extensions, unknown members, decimal digits — must be unchanged.
//
// Examples come from `$FHIR_EXAMPLES_DIR/{dstu2,stu3,r4,r4b,r5}` (`scripts/fhir-examples` gives
// the folder; default `../shared/fhir-examples` beside the project). Under `CI=true` a missing
// folder is a failure.
//
// `FHIRSTORM_CONFORMANCE=lenient` reads in lenient mode (`json::from_slice_lenient`): every file
// must still round-trip exactly, and the deviations are counted. In that mode the project's own
// non-conformant resources (`tests/fixtures/nonconformant/{version}`) are read as well.

use std::path::{Path, PathBuf};

use fhirstorm::json::{self, Value};

/// Examples that use members their release does not define. They must still round-trip (the
/// members are kept), but they are not counted against the models.
const NOT_IN_DEFINITIONS: &[(&str, &str, &str)] = &[
    (
        "stu3",
        "adverseevent-example.json",
        "uses kind, event and severity, which STU3 (3.0.1) AdverseEvent does not define",
    ),
    ("stu3", "ig-r4.json", "(npm hl7.fhir.r3.examples) uses packageId, license and manifest, which are R4's"),
];

/// Reads and writes back one resource through serde_json (`Deserialize` / `Serialize`): the fast
/// path (serde_json hands fhirstorm the raw text and writes fhirstorm's text), whose output must
/// equal the input exactly, and the generic path every other serializer takes (the pretty writer
/// takes it too), whose output must be the same JSON as serde_json's numbers allow.
///
/// A byte order mark is stripped first, as fhirstorm's docs tell serde users to do
/// (`json::strip_bom`): serde_json refuses one before fhirstorm's code runs (some npm examples
/// have one). `tests/offline/bad_input.rs` checks both halves of that promise.
#[cfg(via_serde)]
fn serde_round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(
    bytes: &[u8],
    _lenient: bool,
) -> Result<(Vec<u8>, Vec<String>, usize), json::Error> {
    let serde_error = |e: serde_json::Error| json::Error::custom(json::ErrorKind::Syntax, e.to_string());
    let v: T = serde_json::from_slice(json::strip_bom(bytes)).map_err(serde_error)?;
    let out = serde_json::to_vec(&v).map_err(serde_error)?;
    let generic = serde_json::to_vec_pretty(&v).map_err(serde_error)?;
    let fast = as_serde_json_reads_it(&json::from_slice::<Value>(&out)?);
    if let Some(d) = fast.first_difference(&json::from_slice::<Value>(&generic)?) {
        return Err(json::Error::custom(json::ErrorKind::Syntax, format!("the generic serde path differs: {d}")));
    }
    Ok((out, Vec::new(), 0))
}

/// JSON as serde_json's generic path writes it: serde_json (with `arbitrary_precision`) keeps every
/// digit of a number but writes its exponent marker as `e` (`1E-22` as `1e-22`, the same number).
/// fhirstorm keeps the `E`; through the generic serde path that is the one change allowed.
#[cfg(via_serde)]
fn as_serde_json_reads_it(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::Number(n.as_str().replace('E', "e").parse().expect("still a number")),
        Value::Array(items) => Value::Array(items.iter().map(as_serde_json_reads_it).collect()),
        Value::Object(members) => {
            let mut out = json::Members::new();
            for (k, v) in members.iter() {
                out.push(k, as_serde_json_reads_it(v));
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// The read-change-write of each enabled version.
const CHANGES: &[(&str, Change)] = &[
    #[cfg(feature = "dstu2")]
    ("dstu2", changed::<fhirstorm::dstu2::AnyResource>),
    #[cfg(feature = "stu3")]
    ("stu3", changed::<fhirstorm::stu3::AnyResource>),
    #[cfg(feature = "r4")]
    ("r4", changed::<fhirstorm::r4::AnyResource>),
    #[cfg(feature = "r4b")]
    ("r4b", changed::<fhirstorm::r4b::AnyResource>),
    #[cfg(feature = "r5")]
    ("r5", changed::<fhirstorm::r5::AnyResource>),
];

fn changes_for(version: &str) -> Change {
    CHANGES.iter().find(|(v, _)| *v == version).map(|(_, c)| *c).expect("a version with a change")
}

fn example_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    files
}

/// Reads (leniently or not) and writes back one resource; also returns the member names that
/// were not recognised and the number of deviations.
type RoundTrip = fn(&[u8], bool) -> Result<(Vec<u8>, Vec<String>, usize), json::Error>;

fn round_trip<T: json::FromJson + json::ToJson>(
    bytes: &[u8],
    lenient: bool,
) -> Result<(Vec<u8>, Vec<String>, usize), json::Error> {
    let text = std::str::from_utf8(bytes).expect("examples are UTF-8");
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut p = if lenient { json::Parser::lenient(text) } else { json::Parser::new(text) };
    let r = T::from_json(&mut p)?;
    p.finish()?;
    Ok((json::to_vec(&r), fhirstorm::hooks::unknown_members(&p).to_vec(), p.deviations().len()))
}

/// Reads, changes the id, writes back.
fn changed<T: json::FromJson + json::ToJson + fhirstorm::AnyResourceOf>(
    bytes: &[u8],
    lenient: bool,
) -> Result<Vec<u8>, json::Error> {
    let mut r = if lenient { json::from_slice_lenient::<T>(bytes)?.value } else { json::from_slice::<T>(bytes)? };
    r.set_id(Some(CHANGED_ID.to_string()));
    Ok(json::to_vec(&r))
}

const CHANGED_ID: &str = "fhirstorm-changed";

type Change = fn(&[u8], bool) -> Result<Vec<u8>, json::Error>;

/// No data loss: after changing the id, the output is the input with that one change.
fn check_changed(
    root: &Path,
    version: &str,
    change: Change,
    lenient: bool,
    failures: &mut Vec<String>,
) -> Option<usize> {
    let dir = root.join(version);
    if !dir.is_dir() {
        return None;
    }
    let mut count = 0;
    for file in example_files(&dir) {
        let input = std::fs::read(&file).expect("example readable");
        let Ok(value) = json::from_slice::<Value>(&input) else { continue };
        let Some(members) = value.as_object() else { continue };
        if value.get("resourceType").is_none() {
            continue;
        }
        count += 1;
        let mut expected = json::Members::new();
        let mut had_id = false;
        for (k, v) in members.iter() {
            if k == "id" {
                had_id = true;
                expected.push("id", Value::String(CHANGED_ID.into()));
            } else {
                expected.push(k, v.clone());
            }
        }
        if !had_id {
            expected.push("id", Value::String(CHANGED_ID.into()));
        }
        let expected = Value::Object(expected);
        match change(&input, lenient) {
            Err(e) => failures.push(format!("{} (changed): {e}", file.display())),
            Ok(output) => {
                let back = json::from_slice::<Value>(&output).expect("our output is JSON");
                if let Some(d) = expected.first_difference(&back) {
                    failures.push(format!("{} (changed id): {d}", file.display()));
                }
            }
        }
    }
    Some(count)
}

/// Files read and deviations found by one pass over a folder.
struct Counts {
    files: usize,
    deviations: usize,
}

fn check_version(
    root: &Path,
    version: &str,
    round_trip: RoundTrip,
    lenient: bool,
    failures: &mut Vec<String>,
) -> Option<Counts> {
    let dir = root.join(version.split(' ').next().unwrap_or(version));
    if !dir.is_dir() {
        return None;
    }
    let mut count = 0;
    let mut deviations = 0;
    for file in example_files(&dir) {
        let input = std::fs::read(&file).expect("example readable");
        // Package folders hold other JSON too (package.json, indexes): only resources count.
        let Ok(value) = json::from_slice::<Value>(&input) else {
            failures.push(format!("{}: input is not JSON", file.display()));
            continue;
        };
        if value.get("resourceType").is_none() {
            continue;
        }
        count += 1;
        match round_trip(&input, lenient) {
            Err(e) => failures.push(format!("{}: {e}", file.display())),
            Ok((_, unknown, _))
                if !unknown.is_empty()
                    && !NOT_IN_DEFINITIONS.iter().any(|(v, f, _)| *v == version && file.ends_with(f)) =>
            {
                failures.push(format!(
                    "{}: members not recognised (kept, but the model should know them): {unknown:?}",
                    file.display()
                ))
            }
            Ok((output, _, deviated)) => {
                deviations += deviated;
                let back = json::from_slice::<Value>(&output).expect("our output is JSON");
                if let Some(d) = value.first_difference(&back) {
                    failures.push(format!("{}: {d}", file.display()));
                }
            }
        }
    }
    Some(Counts { files: count, deviations })
}

pub fn run() -> Result<(), String> {
    let root = std::env::var_os("FHIR_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("../shared/fhir-examples"));
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let lenient = match std::env::var("FHIRSTORM_CONFORMANCE").as_deref() {
        Ok("lenient") => true,
        Ok("strict") | Err(_) => false,
        Ok(other) => panic!("FHIRSTORM_CONFORMANCE={other}: expected strict or lenient"),
    };
    println!("conformance mode: {}", if lenient { "lenient" } else { "strict" });
    let own = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("tests/fixtures/nonconformant");
    let versions: &[(&str, RoundTrip)] = &[
        #[cfg(feature = "dstu2")]
        ("dstu2", round_trip::<fhirstorm::dstu2::AnyResource>),
        #[cfg(feature = "stu3")]
        ("stu3", round_trip::<fhirstorm::stu3::AnyResource>),
        #[cfg(feature = "r4")]
        ("r4", round_trip::<fhirstorm::r4::AnyResource>),
        #[cfg(feature = "r4b")]
        ("r4b", round_trip::<fhirstorm::r4b::AnyResource>),
        #[cfg(feature = "r5")]
        ("r5", round_trip::<fhirstorm::r5::AnyResource>),
        #[cfg(all(via_serde, feature = "dstu2"))]
        ("dstu2 via serde_json", serde_round_trip::<fhirstorm::dstu2::AnyResource>),
        #[cfg(all(via_serde, feature = "stu3"))]
        ("stu3 via serde_json", serde_round_trip::<fhirstorm::stu3::AnyResource>),
        #[cfg(all(via_serde, feature = "r4"))]
        ("r4 via serde_json", serde_round_trip::<fhirstorm::r4::AnyResource>),
        #[cfg(all(via_serde, feature = "r4b"))]
        ("r4b via serde_json", serde_round_trip::<fhirstorm::r4b::AnyResource>),
        #[cfg(all(via_serde, feature = "r5"))]
        ("r5 via serde_json", serde_round_trip::<fhirstorm::r5::AnyResource>),
    ];
    #[cfg(via_serde)]
    {
        // Prove the feature is really on in this build: serde_json keeps the digits.
        let n: serde_json::Number = "1.50".parse().expect("number");
        assert_eq!(n.to_string(), "1.50", "serde_json's arbitrary_precision is not on in this build");
        println!("serde_json arbitrary_precision: on");
    }

    let mut failures = Vec::new();
    let mut passed = 0;
    let mut missing = Vec::new();
    for &(version, rt) in versions {
        let before = failures.len();
        match check_version(&root, version, rt, lenient, &mut failures) {
            Some(Counts { files: n, deviations }) => {
                let failed = failures.len() - before;
                let deviated = if lenient { format!(", {deviations} deviations") } else { String::new() };
                println!(
                    "conformance {version}: {n} examples, {} round-tripped, {failed} failed{deviated}",
                    n - failed
                );
                passed += n - failed;
            }
            None => {
                let dir = root.join(version.split(' ').next().unwrap_or(version));
                println!("conformance {version}: NO EXAMPLES at {} — {version} was not checked", dir.display());
                missing.push(version);
            }
        }
    }
    // No data loss after a change (the native path; serde's is the same models).
    let changes = CHANGES;
    for &(version, change) in changes {
        let before = failures.len();
        if let Some(n) = check_changed(&root, version, change, lenient, &mut failures) {
            let failed = failures.len() - before;
            println!(
                "no data loss {version}: {n} examples read, id changed, written: {} intact, {failed} failed",
                n - failed
            );
            passed += n - failed;
        }
    }
    // Lenient: our own non-conformant resources round-trip too, with their deviations counted.
    if lenient {
        for &(version, rt) in versions.iter().filter(|(v, _)| !v.contains(' ')) {
            let before = failures.len();
            if let Some(Counts { files: n, deviations }) = check_version(&own, version, rt, true, &mut failures) {
                let failed = failures.len() - before;
                println!(
                    "non-conformant {version} (tests/fixtures): {n} files, {} round-tripped, {failed} failed, {deviations} deviations",
                    n - failed
                );
                if deviations == 0 {
                    failures.push(format!("{version}: the non-conformant fixtures gave no deviation"));
                }
                passed += n - failed;
            }
            let before = failures.len();
            if let Some(n) = check_changed(&own, version, changes_for(version), true, &mut failures) {
                let failed = failures.len() - before;
                println!(
                    "non-conformant {version}: {n} files read, id changed, written: {} intact, {failed} failed",
                    n - failed
                );
                passed += n - failed;
            }
        }
    }
    for f in failures.iter().take(50) {
        println!("FAILED {f}");
    }
    if failures.len() > 50 {
        println!("... and {} more failures", failures.len() - 50);
    }
    println!("{passed} passed, {} failed", failures.len());
    if !failures.is_empty() || (ci && !missing.is_empty()) {
        if ci && !missing.is_empty() {
            println!("under CI=true the examples must be present: missing {missing:?}");
        }
        return Err(format!("{} failed, missing under CI=true: {missing:?}", failures.len()));
    }
    Ok(())
}
