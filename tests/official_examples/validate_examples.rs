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

/// An example set: its version and number of files (the issues below were found in these sets).
type Set = (&'static str, usize);

/// `../shared/fhir-examples`'s sets (the releases' examples), and the npm examples packages a
/// newcomer's `scripts/fhir-examples` fetches where `../shared` is absent (R4B and R5 are the
/// same in both).
const DSTU2: Set = ("dstu2", 1164);
const STU3: Set = ("stu3", 528);
const R4: Set = ("r4", 2459);
const R4B: Set = ("r4b", 2840);
const R5: Set = ("r5", 2822);
const NPM_STU3: Set = ("stu3", 8287);
const NPM_R4: Set = ("r4", 5306);

/// Issues in the published examples, by the sets they occur in and the text of the issue, with
/// the reason.
const EXPLAINED: &[(&[Set], &str, &str)] = &[
    (
        &[DSTU2],
        "._id: not an element of the definition",
        "12 DSTU2 examples put comments on the resource id (`_id`); the definitions make the resource id a plain \
         id, with no place for them (kept as read)",
    ),
    (
        &[DSTU2],
        "SearchParameter.id: \"observation-genetics-cg-prf-1a-Observation-",
        "3 SearchParameter ids of the genetics profile are longer than the 64 characters an id may have",
    ),
    (
        &[R4, R4B, NPM_R4],
        "SearchParameter.id: \"questionnaireresponse-extensions-QuestionnaireResponse-item-subject\" is not a valid id",
        "the id has 67 characters; an id may have 64",
    ),
    (&[STU3], "AdverseEvent.", "adverseevent-example.json uses kind, event and severity, which are R4's"),
    (
        &[R4B, NPM_R4, NPM_STU3],
        "SearchParameter.base: occurs 0 times",
        "the SearchParameters of the codesystem-/valueset-extensions (and STU3's location-/organization-) have \
         no base (R4B 10, npm R4 10, npm STU3 12)",
    ),
    (
        &[R4B],
        ".status: occurs 0 times",
        "3 CodeSystem/ValueSet examples of R4B (catalogType, two in Bundle-valuesets) have no status",
    ),
    (
        &[NPM_R4, NPM_STU3],
        "\\u{a0}\" is not a valid code",
        "v2 table 0550 (CodeSystem-v2-0550, and R4's Bundle-v2-valuesets) has codes CHEST, KIDN and two blank \
         ones ending in a non-breaking space, mis-encoded (Â U+00A0); a code has no such whitespace",
    ),
    (
        &[NPM_R4, NPM_STU3],
        "ImplementationGuide.name: occurs 0 times",
        "the build's own ImplementationGuide-fhir.json and ig-r4.json have no name",
    ),
    (
        &[NPM_R4, NPM_STU3],
        "ImplementationGuide.status: occurs 0 times",
        "the build's own ImplementationGuide-fhir.json and ig-r4.json have no status",
    ),
    (
        &[NPM_STU3],
        "ImplementationGuide.packageId: not an element of the definition",
        "STU3's package carries ig-r4.json, an R4 ImplementationGuide (packageId, license, manifest are R4's)",
    ),
    (&[NPM_STU3], "ImplementationGuide.license: not an element of the definition", "the same R4 ig-r4.json"),
    (&[NPM_STU3], "ImplementationGuide.manifest: not an element of the definition", "the same R4 ig-r4.json"),
    (
        &[NPM_R4, NPM_STU3],
        "linkId: occurs 0 times, 1..1 allowed",
        "Questionnaire-qs1.json's nested display items have no linkId (R4 32, STU3 57)",
    ),
    (
        &[NPM_STU3],
        "type: has no code from the value set http://hl7.org/fhir/ValueSet/action-type",
        "6 actions of the exclusive-breastfeeding PlanDefinitions have type {code: create} without a system; \
         a value set's codes are (system, code) pairs",
    ),
    (
        &[NPM_STU3],
        "DataElement.element[0].example[0].valueUri: \"http://www.acme.com/identifiers/patient or urn:ietf",
        "DataElement-Identifier.system's example uri is a sentence, with spaces",
    ),
    (
        &[NPM_STU3],
        "StructureDefinition.type: occurs 0 times",
        "the logical models Definition, Event and Request have no type",
    ),
];

/// The example sets `EXPLAINED` was written for. Another set of a version is validated and its
/// issues printed and counted, but not held to explanations written for other sets.
const EXPLAINED_SETS: &[Set] = &[DSTU2, STU3, R4, R4B, R5, NPM_STU3, NPM_R4];

type Check = fn(&[u8]) -> Result<Vec<Issue>, String>;

fn check<A: fhirstorm::json::FromJson>(bytes: &[u8], validate: fn(&A) -> Vec<Issue>) -> Result<Vec<Issue>, String> {
    let any: A = fhirstorm::json::from_slice(bytes).map_err(|e| e.to_string())?;
    Ok(validate(&any))
}

pub fn run() {
    let root = std::env::var_os("FHIR_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("../shared/fhir-examples"));
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
    // (explanation, set) pairs that matched an issue
    let mut used: Vec<(usize, Set)> = Vec::new();
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
                let set = (version, files.len());
                match EXPLAINED.iter().position(|(sets, pattern, _)| sets.contains(&set) && text.contains(pattern)) {
                    Some(i) => {
                        used.push((i, set));
                        explained += 1;
                    }
                    None if held => unexplained.push(format!("{version} {name}: {text}")),
                    None => {}
                }
            }
        }
        if held {
            println!("{version}: {} examples, {count} issues ({explained} explained)", files.len());
            ran.push((version, files.len()));
        } else {
            println!(
                "{version}: {} examples, {count} issues (another example set than the explanations'; not held to them)",
                files.len()
            );
        }
    }
    let stale: Vec<String> = EXPLAINED
        .iter()
        .enumerate()
        .flat_map(|(i, (sets, pattern, _))| sets.iter().map(move |s| (i, *s, *pattern)))
        .filter(|(i, s, _)| ran.contains(s) && !used.contains(&(*i, *s)))
        .map(|(_, (v, n), pattern)| format!("{v} ({n} files): {pattern}"))
        .collect();
    assert!(unexplained.is_empty(), "{} unexplained issues:\n{}", unexplained.len(), unexplained.join("\n"));
    assert!(stale.is_empty(), "explanations that match nothing any more: {stale:?}");
    assert!(!ran.is_empty() || !ci, "no version was validated");
}
