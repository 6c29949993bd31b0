//! A guide's `SearchParameter`s → typed methods on the base version's search builders, through
//! one extension trait per resource type (`PatientSearchExt` on `r4::PatientSearch`), with the
//! same compile-time checks as the base parameters: a value of the parameter's kind, a reference
//! only to the parameter's target types.

use std::collections::BTreeMap;

use proc_macro2::TokenStream;
use quote::quote;
use serde_json::Value;

use super::s;
use super::tokens::{doc, ident, search_value_type};
use crate::doc_text::code;
use crate::emit::{md, RESERVED};
use crate::ident as naming;

/// One search parameter the package defines.
#[derive(Debug)]
pub(crate) struct SearchParamDef {
    pub url: String,
    pub code: String,
    /// The resource types it applies to.
    pub base: Vec<String>,
    /// `token`, `reference`, ...
    pub kind: String,
    pub expression: String,
    pub doc: String,
    /// Reference targets (empty: any resource).
    pub targets: Vec<String>,
    pub modifiers: Vec<String>,
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
}

/// The package's search parameters, by code (then URL), from its `SearchParameter` resources.
pub(crate) fn read<'a>(resources: impl Iterator<Item = &'a Value>) -> Vec<SearchParamDef> {
    let mut out: Vec<SearchParamDef> = resources
        .filter(|v| s(v, "resourceType") == "SearchParameter" && !s(v, "code").is_empty())
        .map(|v| SearchParamDef {
            url: s(v, "url").to_string(),
            code: s(v, "code").to_string(),
            base: strings(v, "base"),
            kind: s(v, "type").to_string(),
            expression: s(v, "expression").to_string(),
            doc: [s(v, "description"), s(v, "name")].into_iter().find(|t| !t.is_empty()).unwrap_or("").to_string(),
            targets: strings(v, "target"),
            modifiers: strings(v, "modifier"),
        })
        .collect();
    out.sort_by(|a, b| (&a.code, &a.url).cmp(&(&b.code, &b.url)));
    out
}

/// The `search` module (nothing when the package defines no search parameter).
pub(crate) fn module(base: &TokenStream, params: &[SearchParamDef], package: &str) -> TokenStream {
    let mut by_type: BTreeMap<&str, Vec<&SearchParamDef>> = BTreeMap::new();
    for p in params {
        for b in &p.base {
            by_type.entry(b.as_str()).or_default().push(p);
        }
    }
    if by_type.is_empty() {
        return TokenStream::new();
    }
    let items = by_type.iter().map(|(ty, params)| resource(base, ty, params));
    let mdoc = doc(&format!(
        "The search parameters that {} defines, as methods on the base version's search builders: \
         bring a resource's `...SearchExt` trait into scope (`use ...::search::PatientSearchExt;`) and call \
         them on `Patient::search()` like its own. Where the base builder has a method of the same name \
         (a guide redefining a base parameter), `.code(..)` calls the base one; this one is \
         `ConditionSearchExt::code(query, ..)`. Each resource's module holds the parameters' `_sort` keys, \
         and for references their `_include`/`_revinclude` values and target traits.",
        code(package)
    ));
    quote! {
        #mdoc
        pub mod search {
            #[allow(unused_imports)]
            use crate::hooks;
            #(#items)*
        }
    }
}

/// The method name of a parameter: its code in snake case, `_param` after the builder's own names.
fn method_name(code: &str) -> String {
    let mut name = naming::snake(code).trim_start_matches("r#").to_string();
    if RESERVED.contains(&name.as_str()) {
        name.push_str("_param");
    }
    name
}

fn resource(base: &TokenStream, ty: &str, params: &[&SearchParamDef]) -> TokenStream {
    let name = ident(&naming::type_name(ty));
    let builder = ident(&format!("{}Search", naming::type_name(ty)));
    let ext = ident(&format!("{}SearchExt", naming::type_name(ty)));
    let module = ident(&naming::snake(ty));
    let (mut sigs, mut bodies, mut items) = (Vec::new(), Vec::new(), Vec::new());
    for p in params {
        let mname = method_name(&p.code);
        let m = ident(&naming::escape_keyword(mname.clone()));
        let code = &p.code;
        let d = param_doc(p, ty);
        let key = ident(&format!("SORT_{}", mname.to_ascii_uppercase()));
        let kdoc = doc(&format!("`_sort` by `{code}`."));
        items.push(quote! { #kdoc pub const #key: crate::search::SortKey<#base::#name> = hooks::sort_key(#code); });
        if p.kind == "reference" {
            let camel = naming::upper_camel(code);
            let (target, rev) = (ident(&format!("{camel}Target")), ident(&format!("{camel}RevInclude")));
            let listed = if p.targets.is_empty() || p.targets.iter().any(|t| t == "Resource") {
                "any resource of the base version".to_string()
            } else {
                p.targets.join(", ")
            };
            let impls: Vec<TokenStream> = if listed.starts_with("any ") {
                vec![quote! {
                    impl<T: crate::Resource<Version = <#base::#name as crate::Resource>::Version>> #target for T {}
                }]
            } else {
                p.targets
                    .iter()
                    .map(|t| {
                        let t = ident(&naming::type_name(t));
                        quote!(impl #target for #base::#t {})
                    })
                    .collect()
            };
            let value = format!("{ty}:{code}");
            let (tdoc, rdoc) = (
                doc(&format!("The resource types `{ty}?{code}=` may refer to: {listed}.")),
                doc(&format!("`_revinclude={value}`, usable in a search on {listed}.")),
            );
            let msg = format!("a `{{Self}}` cannot be what `{ty}?{code}=` refers to");
            let label = format!("allowed targets: {listed}");
            let (inc, revc) = (
                ident(&format!("INCLUDE_{}", mname.to_ascii_uppercase())),
                ident(&format!("REVINCLUDE_{}", mname.to_ascii_uppercase())),
            );
            let idoc = doc(&format!("`_include={value}`."));
            items.push(quote! {
                #tdoc
                #[diagnostic::on_unimplemented(message = #msg, label = #label)]
                pub trait #target: crate::Resource {}
                #(#impls)*
                #rdoc
                #[derive(Clone, Copy, Debug)]
                pub struct #rev;
                impl<T: #target> crate::search::RevIncludable<T> for #rev {
                    const VALUE: &'static str = #value;
                    type Source = #base::#name;
                }
                #rdoc pub const #revc: #rev = #rev;
                #idoc pub const #inc: crate::search::Include<#base::#name> = hooks::include(#value);
            });
            let chain = ident(&format!("{mname}_where"));
            let cdoc = doc(&format!(
                "Chained search through `{code}`: `{code}:Target.param=value` for each parameter of `query`."
            ));
            sigs.push(quote! {
                #d
                fn #m<T: #module::#target>(self, value: crate::search::Ref<T>) -> Self;
                #cdoc
                fn #chain<T: #module::#target>(self, query: impl Into<crate::search::Query<T>>) -> Self;
            });
            bodies.push(quote! {
                fn #m<T: #module::#target>(self, value: crate::search::Ref<T>) -> Self {
                    Self::from(hooks::search_add(self.into(), #code, value))
                }
                fn #chain<T: #module::#target>(self, query: impl Into<crate::search::Query<T>>) -> Self {
                    Self::from(hooks::search_chain(self.into(), #code, <T as crate::Resource>::TYPE, query.into()))
                }
            });
        } else {
            let v = search_value_type(&p.kind).unwrap_or_else(|| quote!(crate::search::TextValue));
            sigs.push(quote! { #d fn #m(self, value: impl Into<#v>) -> Self; });
            bodies.push(quote! {
                fn #m(self, value: impl Into<#v>) -> Self {
                    Self::from(hooks::search_add(self.into(), #code, value.into()))
                }
            });
        }
    }
    let tdoc = doc(&format!("The guide's search parameters on `{ty}`, as methods of `{ty}::search()`."));
    let mdoc = doc(&format!("`_sort` keys and reference helpers of the guide's parameters on `{ty}`."));
    quote! {
        #tdoc
        pub trait #ext: Sized {
            #(#sigs)*
        }
        impl #ext for #base::#builder {
            #(#bodies)*
        }
        #mdoc
        pub mod #module {
            #[allow(unused_imports)]
            use crate::hooks;
            #(#items)*
        }
    }
}

/// The parameter's description, code, kind, modifiers and expression, as its method's doc.
/// Of an expression over several resource types, only the part for `ty`.
fn param_doc(p: &SearchParamDef, ty: &str) -> TokenStream {
    let mut text = md(&p.doc);
    text.push_str(&format!("\n\n{} · {}", code(&p.code), p.kind));
    let parts: Vec<&str> = p.expression.split(" | ").filter(|e| e.starts_with(&format!("{ty}."))).collect();
    let expression = if parts.is_empty() { p.expression.clone() } else { parts.join(" | ") };
    if !expression.is_empty() {
        text.push_str(&format!(" · {}", code(&expression)));
    }
    if !p.modifiers.is_empty() {
        text.push_str(&format!(" · modifiers: {}", p.modifiers.join(", ")));
    }
    text.push_str(&format!("\n\nDefined by {}.", code(&p.url)));
    doc(&text)
}
