//! The version's element table for `fhirstorm::validation` (`DEFINITIONS`): one entry per
//! element of every struct, with its cardinality and type, and the codes of the required value
//! sets the version lists. Data rather than a function per type, to keep the version's crate
//! cheap to compile.

use std::collections::HashMap;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::Emitter;
use crate::ir::*;

impl Emitter<'_> {
    pub(super) fn definitions(&self) -> Result<TokenStream, crate::Error> {
        let index: HashMap<&str, u16> =
            self.model.structs.iter().enumerate().map(|(i, s)| (s.name.as_str(), i as u16)).collect();
        let types = self
            .model
            .structs
            .iter()
            .map(|st| {
                let name = &st.path;
                let resource = st.kind == StructKind::Resource;
                let elements = st
                    .fields
                    .iter()
                    .map(|f| {
                        let (json, min, many) = (&f.json, Literal::u32_unsuffixed(f.min), f.many);
                        // A resource's `id` is a plain string in JSON, of the `id` type's format.
                        let ty = if resource && f.json == "id" && f.ty == Ty::Plain {
                            quote!(ElementType::Attribute(Some(PrimitiveType::Id)))
                        } else if let (Some(set), Ty::Struct(name)) = (f.binding, &f.ty) {
                            let i = Literal::u16_unsuffixed(*index.get(name.as_str()).ok_or_else(|| {
                                crate::Error::new(format!("{}: type {name} is not among the structs", st.path))
                            })?);
                            let set = Literal::usize_unsuffixed(set);
                            quote!(ElementType::Coded(#i, #set))
                        } else {
                            self.element_type(&f.ty, &index, &st.path)?
                        };
                        Ok(quote! { ElementDef { name: #json, min: #min, many: #many, ty: #ty } })
                    })
                    .collect::<Result<Vec<_>, crate::Error>>()?;
                Ok(quote! { TypeDef { name: #name, resource: #resource, elements: &[#(#elements),*] } })
            })
            .collect::<Result<Vec<_>, crate::Error>>()?;
        let value_sets = self.model.codes.iter().map(|c| {
            let url = &c.url;
            let codes = c.codes.iter().map(|(code, _)| code);
            quote! { ValueSetDef { url: #url, codes: &[#(#codes),*] } }
        });
        let coded_value_sets = self.model.coded_bindings.iter().map(|c| {
            let url = &c.url;
            let pairs = c.codes.iter().map(|(system, code)| quote!((#system, #code)));
            quote! { CodedValueSetDef { url: #url, codes: &[#(#pairs),*] } }
        });
        let extension = Literal::u16_unsuffixed(
            *index.get("Extension").ok_or_else(|| crate::Error::new("the definitions have no Extension type"))?,
        );
        // DSTU2's JSON lets any object carry comments.
        let json_comments = self.model.fhir_version.starts_with("1.");
        Ok(quote! {
            /// This version's element table, which `fhirstorm::validation::Validate` checks
            /// resources against.
            pub static DEFINITIONS: crate::validation::Definitions = {
                #[allow(unused_imports)]
                use crate::validation::{CodedValueSetDef, ElementDef, ElementType, PrimitiveType, TypeDef, ValueSetDef};
                crate::validation::Definitions {
                    types: &[#(#types),*],
                    value_sets: &[#(#value_sets),*],
                    coded_value_sets: &[#(#coded_value_sets),*],
                    extension: #extension,
                    json_comments: #json_comments,
                }
            };
        })
    }

    fn element_type(&self, ty: &Ty, index: &HashMap<&str, u16>, path: &str) -> Result<TokenStream, crate::Error> {
        Ok(match ty {
            Ty::Prim(Prim::Xhtml, _) | Ty::Plain => quote!(ElementType::Attribute(None)),
            Ty::Prim(p, codes) => {
                let p = format_ident!("{}", format!("{p:?}"));
                let vs = match codes {
                    Some(c) => {
                        let c = Literal::usize_unsuffixed(*c);
                        quote!(Some(#c))
                    }
                    None => quote!(None),
                };
                quote!(ElementType::Primitive(PrimitiveType::#p, #vs))
            }
            Ty::Struct(name) => {
                let i = index
                    .get(name.as_str())
                    .ok_or_else(|| crate::Error::new(format!("{path}: type {name} is not among the structs")))?;
                let i = Literal::u16_unsuffixed(*i);
                quote!(ElementType::Complex(#i))
            }
            Ty::Resource => quote!(ElementType::Resource),
            Ty::Choice(c) => {
                let variants = self.model.choices[*c]
                    .variants
                    .iter()
                    .map(|v| {
                        let suffix = &v.suffix;
                        let t = self.element_type(&v.ty, index, path)?;
                        Ok(quote!((#suffix, #t)))
                    })
                    .collect::<Result<Vec<_>, crate::Error>>()?;
                quote!(ElementType::Choice(&[#(#variants),*]))
            }
        })
    }
}
