//! The typed search builders: one generic `Search<R>` per version with the result parameters
//! (`_include`, `_revinclude`, `_has`, `_sort`, `_elements`, `_total`, `_count`, `_summary`),
//! and per resource (`PatientSearch = Search<Patient>`) one method per search parameter, typed
//! by its kind; for each reference parameter a target trait (only its target types compile),
//! a chained-search method and a `_revinclude` type; the constants on the resource type.

use super::{bare_snake, lit, md, Code, Emitter};
use crate::ident;
use crate::ir::*;

/// Method names the builder has for itself; a parameter of that name gets `_param`.
pub(crate) const RESERVED: &[&str] = &[
    "raw",
    "include",
    "include_iterate",
    "include_recurse",
    "count",
    "summary",
    "sort",
    "sort_desc",
    "elements",
    "total",
    "has",
    "revinclude",
    "revinclude_iterate",
    "revinclude_recurse",
    "to_query_string",
];

/// A doc comment and the line it documents.
type Item = (String, String);

/// What the parameters of one resource add: builder methods, target traits and `_revinclude`
/// types (beside the builder), and constants (on the resource type).
#[derive(Default)]
struct Parts {
    methods: Vec<Code>,
    traits: Vec<Code>,
    consts: Vec<Item>,
}

/// The search-value type of a parameter kind (`None` for a reference, typed per target).
pub(crate) fn value_type(kind: &str) -> Option<&'static str> {
    match kind {
        "string" => Some("crate::search::StringValue"),
        "token" => Some("crate::search::TokenValue"),
        "date" => Some("crate::search::DateValue"),
        "number" => Some("crate::search::NumberValue"),
        "quantity" => Some("crate::search::QuantityValue"),
        "uri" => Some("crate::search::UriValue"),
        "reference" => None,
        _ => Some("crate::search::TextValue"),
    }
}

/// `INCLUDE_GENERAL_PRACTITIONER` from `general-practitioner`.
fn const_name(prefix: &str, code: &str) -> String {
    format!("{prefix}_{}", bare_snake(code).to_ascii_uppercase())
}

/// One method: its doc, signature and body lines.
fn method(c: &mut Code, doc: &str, signature: &str, body: &str) {
    c.doc(doc);
    c.block(signature, body);
}

impl Emitter<'_> {
    /// The search parameters that apply to resource type `ty` (its own and the common ones),
    /// by code, first definition winning.
    fn params_for(&self, ty: &str) -> Vec<&SearchParam> {
        let mut out: Vec<&SearchParam> = Vec::new();
        for sp in &self.model.search_params {
            let applies = sp.base.iter().any(|b| b == ty || b == "Resource" || b == "DomainResource");
            if applies && !sp.code.is_empty() && !out.iter().any(|o| o.code == sp.code) {
                out.push(sp);
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    pub(super) fn search_builder(&self, c: &mut Code, st: &Struct) {
        let name = &st.name;
        let ty = &st.path;
        let builder = format!("{name}Search");
        let params = self.params_for(ty);
        let own: Vec<String> =
            params.iter().filter(|p| !p.code.starts_with('_')).map(|p| bare_snake(&p.code)).collect();
        let mut parts = Parts::default();
        for sp in params {
            let mut mname = bare_snake(sp.code.trim_start_matches('_'));
            // A common parameter (`_source`) whose name a resource's own parameter (`source`) has.
            if sp.code.starts_with('_') && own.contains(&mname) {
                mname = format!("resource_{mname}");
            }
            if RESERVED.contains(&mname.as_str()) {
                mname.push_str("_param");
            }
            parts.consts.push((
                format!("`_sort` by `{}`.", sp.code),
                format!(
                    "pub const SORT_{}: crate::search::SortKey<{name}> = hooks::sort_key({});",
                    mname.to_ascii_uppercase(),
                    lit(&sp.code)
                ),
            ));
            if sp.kind == "reference" {
                self.reference_param(st, sp, &mname, &mut parts);
            } else {
                parts.methods.push(value_param(sp, &mname));
            }
        }
        for f in &st.fields {
            parts.consts.push((
                format!("`_elements` entry `{}`.", f.json),
                format!(
                    "pub const ELEMENT_{}: crate::search::Element<{name}> = hooks::element({});",
                    f.rust.trim_start_matches("r#").to_ascii_uppercase(),
                    lit(&f.json)
                ),
            ));
        }
        for t in parts.traits {
            c.append(t);
        }
        c.doc(&format!(
            "A typed search on `{ty}`: one method per search parameter FHIR defines for it, and\n\
             the result parameters every [`Search`] has."
        ));
        c.line(format!("pub type {builder} = Search<{name}>;"));
        c.line("");
        c.open(format!("impl Search<{name}>"));
        for m in parts.methods {
            c.append(m);
        }
        c.close("");
        c.open(format!("impl {name}"));
        method(
            c,
            "A typed search on this resource type.",
            &format!("pub fn search() -> {builder}"),
            &format!("{builder}::default()"),
        );
        method(
            c,
            "A reference to the resource `id` of this type, as a search value.",
            &format!("pub fn reference(id: &str) -> crate::search::Ref<{name}>"),
            "crate::search::Ref::to(id)",
        );
        for (doc, line) in &parts.consts {
            c.doc(doc);
            c.line(line);
        }
        c.close("");
    }

    /// A reference parameter: a trait its target types implement (so that only they compile,
    /// with a message naming the parameter), the typed method and its chained form, the
    /// `_revinclude` type and the `_include` / `_revinclude` constants.
    fn reference_param(&self, st: &Struct, sp: &SearchParam, mname: &str, parts: &mut Parts) {
        let (name, ty, code) = (&st.name, &st.path, &sp.code);
        let resources: Vec<&str> =
            self.model.structs.iter().filter(|s| s.kind == StructKind::Resource).map(|s| s.path.as_str()).collect();
        let targets: Vec<&str> = if sp.targets.is_empty() || sp.targets.iter().any(|t| t == "Resource") {
            resources.clone()
        } else {
            sp.targets.iter().map(String::as_str).filter(|t| resources.contains(t)).collect()
        };
        // Every resource type, named or listed one by one (R5's SearchParameters list them all).
        let any_resource = targets.iter().collect::<std::collections::HashSet<_>>().len() == resources.len();
        let tr = format!("{name}{}Target", ident::upper_camel(code));
        let listed = if any_resource { "any resource of this version".to_string() } else { targets.join(", ") };
        let rev = format!("{name}{}RevInclude", ident::upper_camel(code));
        let rev_value = format!("{ty}:{code}");
        let rev_doc = format!("`_revinclude={rev_value}`, usable in a search on {listed}.");
        let msg = format!("a `{{Self}}` cannot be what `{ty}?{code}=` refers to");
        let label = format!(
            "allowed targets: {}",
            if targets.len() > 12 { "see the trait's documentation".to_string() } else { listed.clone() }
        );
        let mut t = Code::nested();
        t.doc(&format!("The resource types `{ty}?{code}=` may refer to: {listed}."));
        t.line(format!("#[diagnostic::on_unimplemented(message = {}, label = {})]", lit(&msg), lit(&label)));
        t.line(format!("pub trait {tr}: crate::Resource {{}}"));
        // A reference to any resource: one blanket impl for the version's resources, not one
        // impl per type (R5 has 240 such parameters over 158 resource types).
        if any_resource {
            t.line(format!("impl<T: crate::Resource<Version = {}>> {tr} for T {{}}", self.marker));
        } else {
            for target in &targets {
                t.line(format!("impl {tr} for {} {{}}", ident::type_name(target)));
            }
        }
        t.doc(&rev_doc);
        t.line("#[derive(Clone, Copy, Debug)]");
        t.line(format!("pub struct {rev};"));
        t.open(format!("impl<T: {tr}> crate::search::RevIncludable<T> for {rev}"));
        t.line(format!("const VALUE: &'static str = {};", lit(&rev_value)));
        t.line(format!("type Source = {name};"));
        t.close("");
        parts.traits.push(t);

        let m = ident::escape_keyword(mname.to_string());
        let mut c = Code::nested();
        method(
            &mut c,
            &param_doc(sp),
            &format!("pub fn {m}<T: {tr}>(self, value: crate::search::Ref<T>) -> Self"),
            &format!("Self(hooks::search_add(self.0, {}, value))", lit(code)),
        );
        method(
            &mut c,
            &format!("Chained search through `{code}`: `{code}:Target.param=value` for each parameter of `query`."),
            &format!("pub fn {mname}_where<T: {tr}>(self, query: impl Into<crate::search::Query<T>>) -> Self"),
            &format!("Self(hooks::search_chain(self.0, {}, <T as crate::Resource>::TYPE, query.into()))", lit(code)),
        );
        parts.methods.push(c);
        if !code.starts_with('_') {
            parts.consts.push((rev_doc, format!("pub const {}: {rev} = {rev};", const_name("REVINCLUDE", code))));
            parts.consts.push((
                format!("`_include={rev_value}`"),
                format!(
                    "pub const {}: crate::search::Include<{name}> = hooks::include({});",
                    const_name("INCLUDE", code),
                    lit(&rev_value)
                ),
            ));
        }
    }

    /// The search builder every resource's `XSearch` is (`PatientSearch = Search<Patient>`):
    /// the result parameters (`_include`, `_revinclude`, `_has`, `_sort`, `_elements`, `_count`,
    /// `_summary`, and by release `:iterate`/`:recurse` and `_total`) once per version, generic
    /// over the resource; each resource's own parameters are an `impl Search<Patient>` beside it.
    pub(super) fn search_type(&self, c: &mut Code) {
        c.doc(
            "A typed search on resource type `R` of this version (`Patient::search()`): the result\n\
             parameters here, and one method per search parameter FHIR defines for `R` in the\n\
             resource's own block (`PatientSearch` is `Search<Patient>`). Pass it to\n\
             `Service::search`, or turn it into a `Query` with `into()`.",
        );
        c.line("#[must_use = \"a search does nothing until a service runs it\"]");
        c.line("pub struct Search<R>(crate::search::Query<R>);");
        c.line("");
        c.open("impl<R> Default for Search<R>");
        c.block("fn default() -> Self", "Self(crate::search::Query::default())");
        c.close("");
        c.open("impl<R> Clone for Search<R>");
        c.block("fn clone(&self) -> Self", "Self(self.0.clone())");
        c.close("");
        c.open("impl<R> std::fmt::Debug for Search<R>");
        c.block(
            "fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result",
            "f.debug_tuple(\"Search\").field(&self.0).finish()",
        );
        c.close("");
        c.open("impl<R> Search<R>");
        method(
            c,
            "`_include` one of this resource's references (`Observation::INCLUDE_SUBJECT`).",
            "pub fn include(self, include: crate::search::Include<R>) -> Self",
            "Self(hooks::search_raw(self.0, \"_include\", include.as_str()))",
        );
        method(
            c,
            "`_revinclude`: resources of another type whose reference parameter points here\n\
             (`Observation::REVINCLUDE_SUBJECT` in a Patient search).",
            "pub fn revinclude<I: crate::search::RevIncludable<R>>(self, _include: I) -> Self",
            "Self(hooks::search_raw(self.0, \"_revinclude\", I::VALUE))",
        );
        c.doc(
            "`_has`: only resources that a resource of another type refers to through\n\
             `via` (`Observation::REVINCLUDE_SUBJECT`), where that resource matches `query`:\n\
             `_has:Observation:subject:code=...` for each parameter of `query`.",
        );
        c.line("pub fn has<I: crate::search::RevIncludable<R>>(");
        c.line("    self,");
        c.line("    via: I,");
        c.line("    query: impl Into<crate::search::Query<I::Source>>,");
        c.open(") -> Self");
        c.line("let _ = via;");
        c.line("Self(hooks::search_has(self.0, I::VALUE, query.into()))");
        c.close("");
        self.release_methods(c);
        method(
            c,
            "`_sort` ascending by one of this resource's parameters (`Patient::SORT_BIRTHDATE`); calls add keys.",
            "pub fn sort(self, key: crate::search::SortKey<R>) -> Self",
            "Self(hooks::search_sort(self.0, key.as_str(), false))",
        );
        method(
            c,
            "`_sort` descending.",
            "pub fn sort_desc(self, key: crate::search::SortKey<R>) -> Self",
            "Self(hooks::search_sort(self.0, key.as_str(), true))",
        );
        c.doc("`_elements`: only these of this resource's elements (`Patient::ELEMENT_NAME`).");
        c.open("pub fn elements(self, elements: impl IntoIterator<Item = crate::search::Element<R>>) -> Self");
        c.line("let list: Vec<&str> = elements.into_iter().map(|e| e.as_str()).collect();");
        c.line("Self(hooks::search_raw(self.0, \"_elements\", &list.join(\",\")))");
        c.close("");
        method(
            c,
            "`_count`: page size.",
            "pub fn count(self, n: u32) -> Self",
            "Self(hooks::search_raw(self.0, \"_count\", &n.to_string()))",
        );
        method(
            c,
            "`_summary`.",
            "pub fn summary(self, s: crate::search::Summary) -> Self",
            "Self(hooks::search_raw(self.0, \"_summary\", s.as_str()))",
        );
        method(
            c,
            "A parameter the definitions do not have (server-specific), as given.",
            "pub fn raw(self, name: &str, value: &str) -> Self",
            "Self(hooks::search_raw(self.0, name, value))",
        );
        method(c, "The query string.", "pub fn to_query_string(&self) -> String", "self.0.to_query_string()");
        c.close("");
        c.open("impl<R> From<Search<R>> for crate::search::Query<R>");
        c.block("fn from(b: Search<R>) -> Self", "b.0");
        c.close("");
        c.open("impl<R> From<crate::search::Query<R>> for Search<R>");
        method(
            c,
            "The builder over a query built elsewhere (an implementation guide's\nparameters add to it this way).",
            "fn from(q: crate::search::Query<R>) -> Self",
            "Self(q)",
        );
        c.close("");
        c.open("impl<R> crate::search::IntoSearch<R> for Search<R>");
        c.block("fn into_pairs(self) -> Vec<(String, String)>", "self.0.into_pairs()");
        c.close("");
    }

    /// The result parameters that differ by release: `:iterate` from STU3 on (DSTU2, and STU3
    /// for older servers, say `:recurse`); `_total` from R4 on.
    fn release_methods(&self, c: &mut Code) {
        let release = self.model.fhir_version.split('.').next().unwrap_or("");
        let modifier = |c: &mut Code, modifier: &str| {
            method(
                c,
                &format!("`_include:{modifier}`."),
                &format!("pub fn include_{modifier}(self, include: crate::search::Include<R>) -> Self"),
                &format!("Self(hooks::search_raw(self.0, \"_include:{modifier}\", include.as_str()))"),
            );
            method(
                c,
                &format!("`_revinclude:{modifier}`."),
                &format!("pub fn revinclude_{modifier}<I: crate::search::RevIncludable<R>>(self, _include: I) -> Self"),
                &format!("Self(hooks::search_raw(self.0, \"_revinclude:{modifier}\", I::VALUE))"),
            );
        };
        if release != "1" {
            modifier(c, "iterate");
        }
        if release == "1" || release == "3" {
            modifier(c, "recurse");
        }
        if release.parse::<u32>().is_ok_and(|r| r >= 4) {
            method(
                c,
                "`_total`: how precisely the server should count the matches.",
                "pub fn total(self, total: crate::search::Total) -> Self",
                "Self(hooks::search_raw(self.0, \"_total\", total.as_str()))",
            );
        }
    }
}

/// The parameter's description, code, kind and FHIRPath expression, as its method's doc.
fn param_doc(sp: &SearchParam) -> String {
    let mut text = md(&sp.doc);
    text.push_str(&format!("\n\n`{}` · {}", sp.code, sp.kind));
    if !sp.expression.is_empty() {
        text.push_str(&format!(" · `{}`", sp.expression.replace('`', "'")));
    }
    text
}

/// The method of a parameter that is not a reference: a value of its kind, or for a composite
/// of two to four components, a tuple of their kinds (joined by `$`).
fn value_param(sp: &SearchParam, mname: &str) -> Code {
    let m = ident::escape_keyword(mname.to_string());
    let code = lit(&sp.code);
    let mut c = Code::nested();
    if sp.kind == "composite" && (2..=4).contains(&sp.components.len()) {
        let parts: Vec<&str> =
            sp.components.iter().map(|k| value_type(k).unwrap_or("crate::search::TextValue")).collect();
        method(
            &mut c,
            &param_doc(sp),
            &format!("pub fn {m}(self, value: ({})) -> Self", super::list(&parts)),
            &format!("Self(hooks::search_add(self.0, {code}, crate::search::Composite(value)))"),
        );
    } else {
        let v = value_type(&sp.kind).unwrap_or("crate::search::TextValue");
        method(
            &mut c,
            &param_doc(sp),
            &format!("pub fn {m}(self, value: impl Into<{v}>) -> Self"),
            &format!("Self(hooks::search_add(self.0, {code}, value.into()))"),
        );
    }
    c
}
