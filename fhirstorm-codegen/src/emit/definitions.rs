//! The version's element table for `fhirstorm::validation` (`DEFINITIONS`): one entry per
//! element of every struct, with its cardinality and type, and the codes of the required value
//! sets the version lists. Data rather than a function per type, and one string rather than a
//! static of struct literals, to keep the version's crate cheap to compile.

use std::collections::HashMap;

use super::{Code, Emitter};
use crate::ir::*;

impl Emitter<'_> {
    /// `DEFINITIONS`: the table as text (`fhirstorm::hooks::LazyDefinitions`, whose
    /// documentation gives the format), one record per line, decoded when first used.
    pub(super) fn definitions(&self, c: &mut Code) -> Result<(), crate::Error> {
        let index: HashMap<&str, u16> =
            self.model.structs.iter().enumerate().map(|(i, s)| (s.name.as_str(), i as u16)).collect();
        let extension =
            index.get("Extension").ok_or_else(|| crate::Error::new("the definitions have no Extension type"))?;
        let mut t = Table::default();
        for st in &self.model.structs {
            let resource = st.kind == StructKind::Resource;
            t.record(["T", &st.path, flag(resource)])?;
            for f in &st.fields {
                // A resource's `id` is a plain string in JSON, of the `id` type's format.
                let ty = if resource && f.json == "id" && f.ty == Ty::Plain {
                    "aId".to_string()
                } else if let (Some(set), Ty::Struct(name)) = (f.binding, &f.ty) {
                    let i = index.get(name.as_str()).ok_or_else(|| {
                        crate::Error::new(format!("{}: type {name} is not among the structs", st.path))
                    })?;
                    format!("k{i}/{set}")
                } else {
                    self.element_type(&f.ty, &index, &st.path)?
                };
                t.record(["E", &f.json, &f.min.to_string(), flag(f.many), &ty])?;
            }
        }
        for vs in &self.model.codes {
            t.record(["V", vs.url.as_str()].into_iter().chain(vs.codes.iter().map(|(code, _)| code.as_str())))?;
        }
        for vs in &self.model.coded_bindings {
            let pairs = vs.codes.iter().flat_map(|(system, code)| [system.as_str(), code.as_str()]);
            t.record(["C", vs.url.as_str()].into_iter().chain(pairs))?;
        }
        t.record(["X", &extension.to_string()])?;
        // DSTU2's JSON lets any object carry comments.
        t.record(["J", flag(self.model.fhir_version.starts_with("1."))])?;

        c.doc("This version's element table (`FhirVersion::definitions()` gives it), which validation\nchecks resources against.");
        c.line("#[doc(hidden)]");
        c.line("pub static DEFINITIONS: crate::hooks::LazyDefinitions = crate::hooks::LazyDefinitions::new(r#\"");
        c.verbatim(&t.0);
        c.verbatim("\"#);\n");
        Ok(())
    }

    fn element_type(&self, ty: &Ty, index: &HashMap<&str, u16>, path: &str) -> Result<String, crate::Error> {
        Ok(match ty {
            Ty::Prim(Prim::Xhtml, _) | Ty::Plain => "a".to_string(),
            Ty::Prim(p, Some(c)) => format!("p{p:?}/{c}"),
            Ty::Prim(p, None) => format!("p{p:?}"),
            Ty::Struct(name) => {
                let i = index
                    .get(name.as_str())
                    .ok_or_else(|| crate::Error::new(format!("{path}: type {name} is not among the structs")))?;
                format!("c{i}")
            }
            Ty::Resource => "r".to_string(),
            Ty::Choice(c) => {
                let variants = self.model.choices[*c]
                    .variants
                    .iter()
                    .map(|v| Ok(format!("{}={}", v.suffix, self.element_type(&v.ty, index, path)?)))
                    .collect::<Result<Vec<_>, crate::Error>>()?;
                format!("x{}", variants.join(";"))
            }
        })
    }
}

fn flag(b: bool) -> &'static str {
    if b {
        "1"
    } else {
        "0"
    }
}

/// The table's text: records of tab-separated fields, a line each.
#[derive(Default)]
struct Table(String);

impl Table {
    fn record<'a>(&mut self, fields: impl IntoIterator<Item = &'a str>) -> Result<(), crate::Error> {
        for (i, field) in fields.into_iter().enumerate() {
            if field.contains(['\t', '\n', '\r']) || field.contains("\"#") {
                return Err(crate::Error::new(format!("{field:?}: a name or code with a tab, line break or `\"#`")));
            }
            if i > 0 {
                self.0.push('\t');
            }
            self.0.push_str(field);
        }
        self.0.push('\n');
        Ok(())
    }
}
