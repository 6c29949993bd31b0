//! Golden-file tests: the generator's output for small hand-made definitions in the R4 and DSTU2
//! formats. Run with `UPDATE_GOLDEN=1` to rewrite the expected files after a deliberate change.

use std::path::Path;

/// `client`: whether the fixture has what the REST client's adapter reads (a Bundle, ...).
fn check(fixture: &str, client: bool) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let code = fhirstorm_codegen::Config::new()
        .definitions(dir.join("fixtures").join(fixture))
        .client(client)
        .render()
        .unwrap_or_else(|e| panic!("{fixture}: {e}"));
    compare(fixture, &code);
}

/// Compares generated code with `tests/golden/{fixture}.rs` after checking that it parses as Rust
/// (the version models are written as text, not through a Rust syntax tree).
fn compare(fixture: &str, code: &str) {
    if let Err(e) = syn::parse_file(code) {
        panic!("{fixture}: the generated code does not parse: {e}");
    }
    compare_text(fixture, code);
}

/// Compares generated code with `tests/golden/{fixture}.rs` (or rewrites it under `UPDATE_GOLDEN`).
fn compare_text(fixture: &str, code: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let golden = dir.join("golden").join(format!("{fixture}.rs"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, code).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&golden).unwrap_or_default();
    if code != expected {
        let line = code.lines().zip(expected.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{fixture}: output differs from {} at line {}:\n  got:      {:?}\n  expected: {:?}\n(run with UPDATE_GOLDEN=1 if the change is deliberate)",
            golden.display(),
            line + 1,
            code.lines().nth(line),
            expected.lines().nth(line)
        );
    }
}

#[test]
fn r4_style() {
    check("r4_style", true);
}

#[test]
fn dstu2_style() {
    check("dstu2_style", false);
}

#[test]
fn r4_style_shapes() {
    // The features the fixture exists for, checked by name as well as by the golden text.
    let code = fhirstorm_codegen::Config::new()
        .definitions(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/r4_style"))
        .render()
        .unwrap();
    assert!(code.contains("pub next: Option<Box<Node>>"), "recursive field boxed");
    assert!(code.contains("pub children: Vec<Node>"), "repeating recursive field not boxed");
    assert!(code.contains("pub enum WidgetValue"), "choice enum");
    assert!(
        code.contains("\"DateTime\" => ::fhirstorm::__choice!(p, *slot, Self::DateTime, hooks::prim_in)"),
        "choice variant chosen by key suffix"
    );
    assert!(
        code.contains("_ => hooks::choice(p, &mut self.unknown, key, \"value\", &mut self.value),"),
        "choice member read by the choice's enum"
    );
    assert!(
        code.contains("&mut [(\"defaultSize\", &mut self.default_size), (\"default\", &mut self.default)]"),
        "several choices, the longer base name first"
    );
    assert!(code.contains("pub type WidgetPartDefault = ExtensionValue;"), "the same types share one enum");
    assert!(code.contains("write_field(v, w, \"default\")"), "a shared enum written under the element's name");
    assert!(code.contains("\"_tag\" => hooks::prim_exts"), "primitive array extensions");
    assert!(code.contains("pub struct WidgetPart"), "backbone element");
    assert!(code.contains("pub part: Vec<WidgetPart>"), "contentReference");
    assert!(code.contains("pub status: Option<Primitive<codes::WidgetStatus>>"), "required binding");
    assert!(code.contains("EnteredInError"), "nested concepts expanded");
    assert!(code.contains("impl ::fhirstorm::version::ClientVersion for R4"), "the client adapter");
    assert!(code.contains("const JSON_MIME: &'static str = \"application/fhir+json\""), "media type from the version");
    assert!(code.contains("const JSON_PATCH: bool = false"), "no patch code among the interactions");
    assert!(code.contains("::fhirstorm::__resolve_references!(Reference, R4);"), "Reference::resolve");
}

#[test]
fn the_client_adapter_names_the_element_a_release_lacks() {
    // dstu2_style has no Bundle: generating the adapter fails with the element's name, and
    // leaving it out works.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dstu2_style");
    let e = fhirstorm_codegen::Config::new().definitions(&fixture).render().unwrap_err().to_string();
    assert!(e.contains("Bundle.total") && e.contains("client(false)"), "{e}");
    let code = fhirstorm_codegen::Config::new().definitions(&fixture).client(false).render().unwrap();
    assert!(!code.contains("ClientVersion"));
}

#[test]
fn a_bad_runtime_path_is_an_error_not_a_panic() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/r4_style");
    for bad in ["not a path!", "", "::", "a::"] {
        let e = fhirstorm_codegen::Config::new().definitions(&fixture).runtime_path(bad).render().unwrap_err();
        assert!(e.to_string().contains("invalid runtime path"), "{bad:?}: {e}");
    }
    let ok = fhirstorm_codegen::Config::new().definitions(&fixture).runtime_path("::fhirstorm").render().unwrap();
    assert!(ok.contains("::fhirstorm::json"));
}

#[cfg(feature = "profiles")]
#[test]
fn ig_style() {
    // An implementation guide's extensions: a simple one, a choice of value types, a complex one
    // with a required code, a bounded choice, a nested sub-extension, a sub-extension that is
    // another extension of the package, and one whose definition the package lacks; a resource
    // profile with extension slices (typed, required and repeating, untyped; one below the
    // profile's level), narrowed cardinalities and a narrowed choice, slices by value, pattern
    // and profile; a Bundle profile with a slice by its entries' resource type.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let code = fhirstorm_codegen::Profiles::new()
        .package(dir.join("fixtures/ig_style"))
        .render()
        .unwrap_or_else(|e| panic!("ig_style: {e}"));
    compare("ig_style", &code);
    assert!(
        code.contains("pub struct Flavour(pub ::fhirstorm::r4::Coding);"),
        "simple extension, base from fhirVersions"
    );
    assert!(code.contains("pub enum Origin {"), "a choice of value types is an enum");
    assert!(code.contains("pub kind: ::fhirstorm::r4::Primitive<String>,"), "required sub-extension");
    assert!(code.contains("pub note: Vec<RecipeNote>,"), "bounded repeating choice");
    assert!(code.contains("pub step: Vec<RecipeStep>,"), "nested sub-extensions become a struct");
    assert!(code.contains("pub flavour: Vec<Flavour>,"), "a sub-extension that is another extension");
    assert!(code.contains("pub absent: Option<::fhirstorm::r4::Extension>,"), "a missing definition degrades");
    assert!(code.contains("is not in the package"), "and says so");
    assert!(code.contains("pub struct Cook(::fhirstorm::r4::Patient);"), "a resource profile wraps its base");
    assert!(code.contains("pub fn entry_cook(&self)"), "a slice by the type of an entry's resource");
    assert!(code.contains("pub fn general_practitioner_kitchen<'a>("), "a slice by profile, resolving");
    assert!(code.contains("pub fn validate_resolving<'a>("), "which validate_resolving counts");
    assert!(code.contains("reads_as::<super::extensions::Flavour>"), "an extension slice below the profile's level");
    assert!(code.contains("pub fn name_flavour("), "with a typed accessor");
    assert!(code.contains("pub fn marital_status_coding_v3(&self)"), "as a value slice below the profile's level");
    // (doc lines are broken at spaces: the text, its lines joined)
    let docs = code.lines().map(|l| l.trim_start().trim_start_matches("///").trim()).collect::<Vec<_>>().join(" ");
    assert!(docs.contains("`Patient.contact.gender` (`http://example.org/fhir/ValueSet/nowhere`)"), "listed");
    assert!(
        code.contains("super::extensions::Recipe,") && code.contains("\"Patient.extension:recipe\""),
        "a typed slice"
    );
    assert!(code.contains("\"http://elsewhere.example.org/StructureDefinition/missing\""), "an untyped one by URL");
    assert!(code.contains("\"Patient.birthDate\""), "a cardinality the profile narrows");
    assert!(code.contains("&[\"boolean\"]"), "a choice the profile narrows");
    assert!(code.contains("active: ::fhirstorm::hooks::pattern_primitive(\"true\")"), "a fixed primitive applied");
    assert!(code.contains("marital_status: ::fhirstorm::hooks::pattern_value("), "a pattern applied");
    assert!(
        code.contains("(\"urn:ietf:bcp:47\", \"fr-CA\")"),
        "a required binding expanded through an included value set"
    );
    assert!(
        docs.contains("`Patient.gender` (`http://hl7.org/fhir/ValueSet/administrative-gender`)"),
        "one not expandable is listed"
    );
    assert!(!code.contains("\"Patient.gender\""), "an element it leaves as the base has it is not checked");
    assert!(
        docs.contains("Must support: `Patient.extension:flavour`, `Patient.name`, `Patient.gender`."),
        "must-support listed"
    );
}
