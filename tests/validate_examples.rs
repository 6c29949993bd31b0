// Validation of the official examples against their base definitions: every example of every
// enabled version is read into its version's `AnyResource` and validated with
// `fhirstorm::validation` (cardinalities at every depth, primitive formats, codes of required
// bindings the version lists, unknown members, empty elements). Every issue is printed with its
// file; the test fails on an issue that `EXPLAINED` does not account for, and on an explanation
// that no longer matches anything (so the list stays true).
//
// Examples come from `$FHIR_EXAMPLES_DIR/{version}` (`scripts/fhir-examples` gives the folder;
// default `../shared/fhir-examples` beside the project); under `CI=true` a missing folder is a
// failure.

use std::path::{Path, PathBuf};

use fhirstorm::validation::Issue;

/// Issues in the published examples, by version and the text of the issue, with the reason.
const EXPLAINED: &[(&str, &str, &str)] = &[
    (
        "dstu2",
        "._id: not an element of the definition",
        "12 DSTU2 examples put comments on the resource id (`_id`); the definitions make the resource id a plain \
         id, with no place for them (kept as read)",
    ),
    (
        "dstu2",
        "SearchParameter.id: \"observation-genetics-cg-prf-1a-Observation-",
        "3 SearchParameter ids of the genetics profile are longer than the 64 characters an id may have",
    ),
    (
        "r4",
        "SearchParameter.id: \"questionnaireresponse-extensions-QuestionnaireResponse-item-subject\" is not a valid id",
        "the id has 67 characters; an id may have 64",
    ),
    (
        "r4b",
        "SearchParameter.id: \"questionnaireresponse-extensions-QuestionnaireResponse-item-subject\" is not a valid id",
        "the id has 67 characters (the same example as R4's)",
    ),
    ("stu3", "AdverseEvent.", "adverseevent-example.json uses kind, event and severity, which are R4's"),
    (
        "r4b",
        "SearchParameter.base: occurs 0 times",
        "10 SearchParameters of the R4B examples package (codesystem-/valueset-extensions) have no base",
    ),
    (
        "r4b",
        ".status: occurs 0 times",
        "3 CodeSystem/ValueSet examples of R4B (catalogType, two in Bundle-valuesets) have no status",
    ),
];

/// The example sets `EXPLAINED` was written for (`../shared/fhir-examples`), by their number of
/// files. Another set of a version (the npm examples package a newcomer's `scripts/fhir-examples`
/// fetches: R4 5,306 files, STU3 8,287) is validated and its issues printed and counted, but not
/// held to explanations written for another set.
const EXPLAINED_SETS: &[(&str, usize)] = &[("dstu2", 1164), ("stu3", 528), ("r4", 2459), ("r4b", 2840), ("r5", 2822)];

type Check = fn(&[u8]) -> Result<Vec<Issue>, String>;

fn check<A: fhirstorm::json::FromJson>(bytes: &[u8], validate: fn(&A) -> Vec<Issue>) -> Result<Vec<Issue>, String> {
    let any: A = fhirstorm::json::from_slice(bytes).map_err(|e| e.to_string())?;
    Ok(validate(&any))
}

fn main() {
    let root = std::env::var_os("FHIR_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fhir-examples"));
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let versions: &[(&str, Check)] = &[
        #[cfg(feature = "dstu2")]
        ("dstu2", |b| check(b, fhirstorm::dstu2::AnyResource::validate)),
        #[cfg(feature = "stu3")]
        ("stu3", |b| check(b, fhirstorm::stu3::AnyResource::validate)),
        #[cfg(feature = "r4")]
        ("r4", |b| check(b, fhirstorm::r4::AnyResource::validate)),
        #[cfg(feature = "r4b")]
        ("r4b", |b| check(b, fhirstorm::r4b::AnyResource::validate)),
        #[cfg(feature = "r5")]
        ("r5", |b| check(b, fhirstorm::r5::AnyResource::validate)),
    ];
    let mut unexplained = Vec::new();
    let mut used = vec![false; EXPLAINED.len()];
    let mut ran = Vec::new();
    for &(version, validate) in versions {
        let dir = root.join(version);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            assert!(!ci, "{}: no examples (run scripts/fhir-examples)", dir.display());
            println!("{version}: skipped, no {}", dir.display());
            continue;
        };
        let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        // The npm package's manifest sits beside the examples.
        files.retain(|p| p.extension().is_some_and(|x| x == "json") && !p.ends_with("package.json"));
        files.sort();
        let held = EXPLAINED_SETS.contains(&(version, files.len()));
        let (mut count, mut explained) = (0, 0);
        for file in &files {
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let issues = validate(&bytes).unwrap_or_else(|e| panic!("{version} {name} is not read: {e}"));
            for issue in issues {
                count += 1;
                let text = issue.to_string();
                println!("{version} {name}: {text}");
                match EXPLAINED.iter().position(|(v, pattern, _)| *v == version && text.contains(pattern)) {
                    Some(i) => {
                        used[i] = true;
                        explained += 1;
                    }
                    None if held => unexplained.push(format!("{version} {name}: {text}")),
                    None => {}
                }
            }
        }
        if held {
            println!("{version}: {} examples, {count} issues ({explained} explained)", files.len());
            ran.push(version);
        } else {
            println!(
                "{version}: {} examples, {count} issues (another example set than the explanations'; not held to them)",
                files.len()
            );
        }
    }
    let stale: Vec<String> = EXPLAINED
        .iter()
        .zip(&used)
        .filter(|((v, ..), used)| ran.contains(v) && !**used)
        .map(|((v, pattern, _), _)| format!("{v}: {pattern}"))
        .collect();
    assert!(unexplained.is_empty(), "{} unexplained issues:\n{}", unexplained.len(), unexplained.join("\n"));
    assert!(stale.is_empty(), "explanations that match nothing any more: {stale:?}");
    assert!(!ran.is_empty() || !ci, "no version was validated");
}
