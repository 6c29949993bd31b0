//! The version's element table for `fhirstorm::validation` (`DEFINITIONS`): one entry per
//! element of every struct, with its cardinality and type, and the codes of the required value
//! sets the version lists. Data rather than a function per type, to keep the version's crate
//! cheap to compile.

use std::collections::HashMap;

use super::{list, lit, Code, Emitter};
use crate::ir::*;

impl Emitter<'_> {
    pub(super) fn definitions(&self, c: &mut Code) -> Result<(), crate::Error> {
        let index: HashMap<&str, u16> =
            self.model.structs.iter().enumerate().map(|(i, s)| (s.name.as_str(), i as u16)).collect();
        let extension =
            index.get("Extension").ok_or_else(|| crate::Error::new("the definitions have no Extension type"))?;
        c.doc("This version's element table, which `fhirstorm::validation::Validate` checks\nresources against.");
        c.open("pub static DEFINITIONS: crate::validation::Definitions =");
        c.line("#[allow(unused_imports)]");
        c.line(
            "use crate::validation::{CodedValueSetDef, ElementDef, ElementType, PrimitiveType, TypeDef, ValueSetDef};",
        );
        c.open("crate::validation::Definitions");
        c.line("types: &[");
        for st in &self.model.structs {
            let resource = st.kind == StructKind::Resource;
            c.line(format!("    TypeDef {{ name: {}, resource: {resource}, elements: &[", lit(&st.path)));
            for f in &st.fields {
                // A resource's `id` is a plain string in JSON, of the `id` type's format.
                let ty = if resource && f.json == "id" && f.ty == Ty::Plain {
                    "ElementType::Attribute(Some(PrimitiveType::Id))".to_string()
                } else if let (Some(set), Ty::Struct(name)) = (f.binding, &f.ty) {
                    let i = index.get(name.as_str()).ok_or_else(|| {
                        crate::Error::new(format!("{}: type {name} is not among the structs", st.path))
                    })?;
                    format!("ElementType::Coded({i}, {set})")
                } else {
                    self.element_type(&f.ty, &index, &st.path)?
                };
                c.line(format!(
                    "        ElementDef {{ name: {}, min: {}, many: {}, ty: {ty} }},",
                    lit(&f.json),
                    f.min,
                    f.many
                ));
            }
            c.line("    ] },");
        }
        c.line("],");
        c.line("value_sets: &[");
        for vs in &self.model.codes {
            let codes = list(vs.codes.iter().map(|(code, _)| lit(code)));
            c.line(format!("    ValueSetDef {{ url: {}, codes: &[{codes}] }},", lit(&vs.url)));
        }
        c.line("],");
        c.line("coded_value_sets: &[");
        for vs in &self.model.coded_bindings {
            let pairs = list(vs.codes.iter().map(|(system, code)| format!("({}, {})", lit(system), lit(code))));
            c.line(format!("    CodedValueSetDef {{ url: {}, codes: &[{pairs}] }},", lit(&vs.url)));
        }
        c.line("],");
        c.line(format!("extension: {extension},"));
        // DSTU2's JSON lets any object carry comments.
        c.line(format!("json_comments: {},", self.model.fhir_version.starts_with("1.")));
        c.close("");
        c.close(";");
        Ok(())
    }

    fn element_type(&self, ty: &Ty, index: &HashMap<&str, u16>, path: &str) -> Result<String, crate::Error> {
        Ok(match ty {
            Ty::Prim(Prim::Xhtml, _) | Ty::Plain => "ElementType::Attribute(None)".to_string(),
            Ty::Prim(p, Some(c)) => format!("ElementType::Primitive(PrimitiveType::{p:?}, Some({c}))"),
            Ty::Prim(p, None) => format!("ElementType::Primitive(PrimitiveType::{p:?}, None)"),
            Ty::Struct(name) => {
                let i = index
                    .get(name.as_str())
                    .ok_or_else(|| crate::Error::new(format!("{path}: type {name} is not among the structs")))?;
                format!("ElementType::Complex({i})")
            }
            Ty::Resource => "ElementType::Resource".to_string(),
            Ty::Choice(c) => {
                let variants = self.model.choices[*c]
                    .variants
                    .iter()
                    .map(|v| Ok(format!("({}, {})", lit(&v.suffix), self.element_type(&v.ty, index, path)?)))
                    .collect::<Result<Vec<_>, crate::Error>>()?;
                format!("ElementType::Choice(&[{}])", list(&variants))
            }
        })
    }
}
