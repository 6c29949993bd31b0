//! FHIRPath's official test suites (R4 and R5, `tests/fixtures/fhirpath/`): every expression the
//! suites call valid compiles (and, written back, parses to the same tree), and every one they
//! call a syntax error is refused as one, with its position. What the suites call semantic errors is counted: those that need the model's
//! types (`(Observation.value as Period).unit`) are found when expressions are checked against
//! a model, not by the grammar alone.

use std::path::Path;

use fhirstorm::fhirpath::{ErrorKind, Expression};

/// Each test of a suite: its name, its expression, and its `invalid` attribute.
fn cases(version: &str) -> Vec<(String, String, Option<String>)> {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/fhirpath"))
        .join(version)
        .join(format!("tests-fhir-{version}.xml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc = roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    doc.descendants()
        .filter(|n| n.has_tag_name("test") || n.tag_name().name() == "test")
        .filter_map(|test| {
            let expression = test.children().find(|n| n.tag_name().name() == "expression")?;
            let name = test.attribute("name").unwrap_or_default().to_string();
            let text = expression.text().unwrap_or_default().to_string();
            Some((name, text, expression.attribute("invalid").map(String::from)))
        })
        .collect()
}

/// The expression written back parses to the same tree.
fn written_back(e: &Expression) -> Result<(), String> {
    let shown = e.parenthesized();
    match Expression::parse(&shown) {
        Ok(again) if again.parenthesized() == shown => Ok(()),
        Ok(again) => Err(format!("written back as {shown:?}, read again as {:?}", again.parenthesized())),
        Err(err) => Err(format!("written back as {shown:?}, which does not parse: {err}")),
    }
}

fn check(version: &str, expected_tests: usize) {
    let cases = cases(version);
    assert_eq!(cases.len(), expected_tests, "{version}: the suite's tests");
    let mut wrong = Vec::new();
    let (mut valid, mut syntax, mut semantic_found, mut semantic, mut early) = (0, 0, 0, 0, 0);
    for (name, text, invalid) in &cases {
        let parsed = Expression::parse(text);
        if let Ok(e) = &parsed {
            if let Err(why) = written_back(e) {
                wrong.push(format!("{name}: {text:?}: {why}"));
            }
        }
        match (invalid.as_deref(), &parsed) {
            (None | Some("execution" | "true"), Ok(_)) => valid += 1,
            (None, Err(e)) => wrong.push(format!("{name}: {text:?} is valid: {e}")),
            // An error when run (`@T14:34:28Z`: a time has no zone), found already.
            (Some("execution" | "true"), Err(_)) => early += 1,
            (Some("syntax"), Err(e)) if e.kind() == ErrorKind::Syntax => syntax += 1,
            (Some("syntax"), _) => wrong.push(format!("{name}: {text:?} is a syntax error: {parsed:?}")),
            (Some("semantic"), Err(e)) if e.kind() == ErrorKind::Semantic => {
                semantic += 1;
                semantic_found += 1;
            }
            (Some("semantic"), Ok(_)) => semantic += 1,
            (Some(other), _) => wrong.push(format!("{name}: {text:?} ({other}): {parsed:?}")),
        }
    }
    println!(
        "FHIRPath {version} suite: {} tests; {valid} valid or failing only when run compile, {early} failing when run \
         refused already, {syntax} syntax errors refused, {semantic_found} of {semantic} semantic errors found by the \
         grammar and the function table",
        cases.len()
    );
    assert!(wrong.is_empty(), "{} of {} wrong:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

#[test]
fn the_r4_suite_compiles() {
    check("r4", 935);
}

#[test]
fn the_r5_suite_compiles() {
    check("r5", 1051);
}

/// Every search parameter's expression in the definitions the models are built from (STU3 to
/// R5: DSTU2 has XPath only) compiles: the expressions real servers and guides use.
#[test]
fn every_search_parameter_expression_of_the_definitions_compiles() {
    for version in ["stu3", "r4", "r4b", "r5"] {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../fhir-definitions"))
            .join(version)
            .join("definitions.json");
        let bundle: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
                .expect("the definitions are JSON");
        let mut expressions = Vec::new();
        for entry in bundle["entry"].as_array().expect("entries") {
            let resource = &entry["resource"];
            if resource["resourceType"] == "SearchParameter" {
                expressions.extend(resource["expression"].as_str());
                for component in resource["component"].as_array().into_iter().flatten() {
                    expressions.extend(component["expression"].as_str());
                }
            }
        }
        let wrong: Vec<String> = expressions
            .iter()
            .filter_map(|text| {
                let why = Expression::parse(text).map_err(|e| e.to_string()).and_then(|e| written_back(&e)).err()?;
                Some(format!("{text:?}: {why}"))
            })
            .collect();
        println!("{version}: {} search parameter expressions compile", expressions.len() - wrong.len());
        assert!(expressions.len() > 100, "{version}: {} expressions", expressions.len());
        assert!(
            wrong.is_empty(),
            "{version}: {} of {} do not compile:\n{}",
            wrong.len(),
            expressions.len(),
            wrong.join("\n")
        );
    }
}
