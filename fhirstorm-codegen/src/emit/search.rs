//! A resource's typed search builder (`PatientSearch`): one method per search parameter, typed
//! by its kind; for each reference parameter a target trait (only its target types compile),
//! a chained-search method and a `_revinclude` type; and the result parameters (`_include`,
//! `_revinclude`, `_has`, `_sort`, `_elements`, `_total`, `_count`, `_summary`) with their
//! constants on the resource type.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{bare_snake, doc, ident, md, Emitter};
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

/// What the parameters of one resource add: builder methods, target traits and `_revinclude`
/// types (beside the builder), and constants (on the resource type).
#[derive(Default)]
struct Parts {
    methods: Vec<TokenStream>,
    traits: Vec<TokenStream>,
    consts: Vec<TokenStream>,
}

/// The search-value type of a parameter kind (`None` for a reference, typed per target).
pub(crate) fn value_type(kind: &str) -> Option<TokenStream> {
    match kind {
        "string" => Some(quote!(crate::search::StringValue)),
        "token" => Some(quote!(crate::search::TokenValue)),
        "date" => Some(quote!(crate::search::DateValue)),
        "number" => Some(quote!(crate::search::NumberValue)),
        "quantity" => Some(quote!(crate::search::QuantityValue)),
        "uri" => Some(quote!(crate::search::UriValue)),
        "reference" => None,
        _ => Some(quote!(crate::search::TextValue)),
    }
}

/// `INCLUDE_GENERAL_PRACTITIONER` from `general-practitioner`.
fn const_name(prefix: &str, code: &str) -> proc_macro2::Ident {
    format_ident!("{prefix}_{}", ident::snake(code).trim_start_matches("r#").to_ascii_uppercase())
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

    pub(super) fn search_builder(&self, st: &Struct) -> TokenStream {
        let name = ident(&st.name);
        let ty = &st.path;
        let builder = format_ident!("{}Search", st.name);
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
            let sort_doc = doc(&format!("`_sort` by `{}`.", sp.code));
            let (key_const, code) =
                (format_ident!("SORT_{}", mname.trim_start_matches("r#").to_ascii_uppercase()), &sp.code);
            parts.consts.push(
                quote! { #sort_doc pub const #key_const: crate::search::SortKey<#name> = hooks::sort_key(#code); },
            );
            if sp.kind == "reference" {
                self.reference_param(st, sp, &mname, &mut parts);
            } else {
                parts.methods.push(value_param(sp, &mname));
            }
        }
        for f in &st.fields {
            let cname = format_ident!("ELEMENT_{}", f.rust.trim_start_matches("r#").to_ascii_uppercase());
            let json = &f.json;
            let edoc = doc(&format!("`_elements` entry `{json}`."));
            parts
                .consts
                .push(quote! { #edoc pub const #cname: crate::search::Element<#name> = hooks::element(#json); });
        }
        let Parts { methods, traits, consts } = parts;
        let bdoc = doc(&format!("A typed search on `{ty}`: one method per search parameter FHIR defines for it."));
        let by_release = self.release_methods(st);
        quote! {
            #(#traits)*
            #bdoc
            #[derive(Clone, Debug, Default)]
            pub struct #builder(crate::search::Query<#name>);
            impl #builder {
                #(#methods)*
                /// `_include` one of this resource's references.
                pub fn include(self, include: crate::search::Include<#name>) -> Self { Self(self.0.raw("_include", include.as_str())) }
                /// `_revinclude`: resources of another type whose reference parameter points here
                /// (`Observation::REVINCLUDE_SUBJECT` in a Patient search).
                pub fn revinclude<I: crate::search::RevIncludable<#name>>(self, _include: I) -> Self { Self(self.0.raw("_revinclude", I::VALUE)) }
                /// `_has`: only resources that a resource of another type refers to through
                /// `via` (`Observation::REVINCLUDE_SUBJECT`), where that resource matches `query`:
                /// `_has:Observation:subject:code=...` for each parameter of `query`.
                pub fn has<I: crate::search::RevIncludable<#name>>(self, via: I, query: impl Into<crate::search::Query<I::Source>>) -> Self {
                    let _ = via;
                    Self(hooks::search_has(self.0, I::VALUE, query.into()))
                }
                #by_release
                /// `_sort` ascending by one of this resource's parameters (`Patient::SORT_BIRTHDATE`); calls add keys.
                pub fn sort(self, key: crate::search::SortKey<#name>) -> Self { Self(hooks::search_sort(self.0, key.as_str(), false)) }
                /// `_sort` descending.
                pub fn sort_desc(self, key: crate::search::SortKey<#name>) -> Self { Self(hooks::search_sort(self.0, key.as_str(), true)) }
                /// `_elements`: only these of this resource's elements (`Patient::ELEMENT_NAME`).
                pub fn elements(self, elements: impl IntoIterator<Item = crate::search::Element<#name>>) -> Self {
                    let list: Vec<&str> = elements.into_iter().map(|e| e.as_str()).collect();
                    Self(self.0.raw("_elements", list.join(",")))
                }
                /// `_count`: page size.
                pub fn count(self, n: u32) -> Self { Self(self.0.raw("_count", n.to_string())) }
                /// `_summary`.
                pub fn summary(self, s: crate::search::Summary) -> Self { Self(self.0.raw("_summary", s.as_str())) }
                /// A parameter the definitions do not have (server-specific), as given.
                pub fn raw(self, name: &str, value: &str) -> Self { Self(self.0.raw(name, value)) }
                /// The query string.
                pub fn to_query_string(&self) -> String { self.0.to_query_string() }
            }
            impl From<#builder> for crate::search::Query<#name> {
                fn from(b: #builder) -> Self { b.0 }
            }
            impl From<crate::search::Query<#name>> for #builder {
                /// The builder over a query built elsewhere (an implementation guide's
                /// parameters add to it this way).
                fn from(q: crate::search::Query<#name>) -> Self { Self(q) }
            }
            impl crate::search::IntoSearch<#name> for #builder {
                fn into_pairs(self) -> Vec<(String, String)> { self.0.into_pairs() }
            }
            impl #name {
                /// A typed search on this resource type.
                pub fn search() -> #builder { #builder::default() }
                /// A reference to the resource `id` of this type, as a search value.
                pub fn reference(id: &str) -> crate::search::Ref<#name> { crate::search::Ref::to(id) }
                #(#consts)*
            }
        }
    }

    /// A reference parameter: a trait its target types implement (so that only they compile,
    /// with a message naming the parameter), the typed method and its chained form, the
    /// `_revinclude` type and the `_include` / `_revinclude` constants.
    fn reference_param(&self, st: &Struct, sp: &SearchParam, mname: &str, parts: &mut Parts) {
        let (name, ty, code) = (ident(&st.name), &st.path, &sp.code);
        let resources: Vec<&str> =
            self.model.structs.iter().filter(|s| s.kind == StructKind::Resource).map(|s| s.path.as_str()).collect();
        let targets: Vec<&str> = if sp.targets.is_empty() || sp.targets.iter().any(|t| t == "Resource") {
            resources.clone()
        } else {
            sp.targets.iter().map(String::as_str).filter(|t| resources.contains(t)).collect()
        };
        // Every resource type, named or listed one by one (R5's SearchParameters list them all).
        let any_resource = targets.iter().collect::<std::collections::HashSet<_>>().len() == resources.len();
        let tr = format_ident!("{}{}Target", st.name, ident::upper_camel(code));
        let marker = &self.marker;
        // A reference to any resource: one blanket impl for the version's resources, not one
        // impl per type (R5 has 240 such parameters over 158 resource types).
        let timpls: Vec<TokenStream> = if any_resource {
            vec![quote!(impl<T: crate::Resource<Version = #marker>> #tr for T {})]
        } else {
            targets
                .iter()
                .map(|t| {
                    let t = ident(&ident::type_name(t));
                    quote!(impl #tr for #t {})
                })
                .collect()
        };
        let listed = if any_resource { "any resource of this version".to_string() } else { targets.join(", ") };
        let tdoc = doc(&format!("The resource types `{ty}?{code}=` may refer to: {listed}."));
        let rev = format_ident!("{}{}RevInclude", st.name, ident::upper_camel(code));
        let rev_value = format!("{ty}:{code}");
        let rev_doc = doc(&format!("`_revinclude={rev_value}`, usable in a search on {listed}."));
        let msg = format!("a `{{Self}}` cannot be what `{ty}?{code}=` refers to");
        let label = format!(
            "allowed targets: {}",
            if targets.len() > 12 { "see the trait's documentation".to_string() } else { listed.clone() }
        );
        parts.traits.push(quote! {
            #tdoc
            #[diagnostic::on_unimplemented(message = #msg, label = #label)]
            pub trait #tr: crate::Resource {}
            #(#timpls)*
            #rev_doc
            #[derive(Clone, Copy, Debug)]
            pub struct #rev;
            impl<T: #tr> crate::search::RevIncludable<T> for #rev {
                const VALUE: &'static str = #rev_value;
                type Source = #name;
            }
        });
        let m = ident(&ident::escape_keyword(mname.to_string()));
        let d = param_doc(sp);
        let chain = format_ident!("{}_where", mname);
        let chain_doc = doc(&format!(
            "Chained search through `{code}`: `{code}:Target.param=value` for each parameter of `query`."
        ));
        parts.methods.push(quote! {
            #d
            pub fn #m<T: #tr>(self, value: crate::search::Ref<T>) -> Self { Self(hooks::search_add(self.0, #code, value)) }
            #chain_doc
            pub fn #chain<T: #tr>(self, query: impl Into<crate::search::Query<T>>) -> Self {
                Self(hooks::search_chain(self.0, #code, <T as crate::Resource>::TYPE, query.into()))
            }
        });
        if !code.starts_with('_') {
            let rname = const_name("REVINCLUDE", code);
            let cname = const_name("INCLUDE", code);
            let cdoc = doc(&format!("`_include={rev_value}`"));
            parts.consts.push(quote! {
                #rev_doc pub const #rname: #rev = #rev;
                #cdoc pub const #cname: crate::search::Include<#name> = hooks::include(#rev_value);
            });
        }
    }

    /// The result parameters that differ by release: `:iterate` from STU3 on (DSTU2, and STU3
    /// for older servers, say `:recurse`); `_total` from R4 on.
    fn release_methods(&self, st: &Struct) -> TokenStream {
        let name = ident(&st.name);
        let release = self.model.fhir_version.split('.').next().unwrap_or("");
        let mut out = TokenStream::new();
        if release != "1" {
            out.extend(quote! {
                /// `_include:iterate`.
                pub fn include_iterate(self, include: crate::search::Include<#name>) -> Self { Self(self.0.raw("_include:iterate", include.as_str())) }
                /// `_revinclude:iterate`.
                pub fn revinclude_iterate<I: crate::search::RevIncludable<#name>>(self, _include: I) -> Self { Self(self.0.raw("_revinclude:iterate", I::VALUE)) }
            });
        }
        if release == "1" || release == "3" {
            out.extend(quote! {
                /// `_include:recurse`.
                pub fn include_recurse(self, include: crate::search::Include<#name>) -> Self { Self(self.0.raw("_include:recurse", include.as_str())) }
                /// `_revinclude:recurse`.
                pub fn revinclude_recurse<I: crate::search::RevIncludable<#name>>(self, _include: I) -> Self { Self(self.0.raw("_revinclude:recurse", I::VALUE)) }
            });
        }
        if release.parse::<u32>().is_ok_and(|r| r >= 4) {
            out.extend(quote! {
                /// `_total`: how precisely the server should count the matches.
                pub fn total(self, total: crate::search::Total) -> Self { Self(self.0.raw("_total", total.as_str())) }
            });
        }
        out
    }
}

/// The parameter's description, code, kind and FHIRPath expression, as its method's doc.
fn param_doc(sp: &SearchParam) -> TokenStream {
    let mut text = md(&sp.doc);
    text.push_str(&format!("\n\n`{}` · {}", sp.code, sp.kind));
    if !sp.expression.is_empty() {
        text.push_str(&format!(" · `{}`", sp.expression.replace('`', "'")));
    }
    doc(&text)
}

/// The method of a parameter that is not a reference: a value of its kind, or for a composite
/// of two to four components, a tuple of their kinds (joined by `$`).
fn value_param(sp: &SearchParam, mname: &str) -> TokenStream {
    let m = ident(&ident::escape_keyword(mname.to_string()));
    let (code, d) = (&sp.code, param_doc(sp));
    if sp.kind == "composite" && (2..=4).contains(&sp.components.len()) {
        let parts = sp.components.iter().map(|k| value_type(k).unwrap_or_else(|| quote!(crate::search::TextValue)));
        return quote! {
            #d
            pub fn #m(self, value: (#(#parts),*)) -> Self { Self(hooks::search_add(self.0, #code, crate::search::Composite(value))) }
        };
    }
    let v = value_type(&sp.kind).unwrap_or_else(|| quote!(crate::search::TextValue));
    quote! {
        #d
        pub fn #m(self, value: impl Into<#v>) -> Self { Self(hooks::search_add(self.0, #code, value.into())) }
    }
}
