//! Resource profiles → Rust: a type per profile wrapping the base resource, with accessors for
//! its extension slices and `validate()`.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use super::deep::{RuleDef, SliceDef};
use super::emit_slices::{element_slice_accessor, element_slice_check, kind_slice_accessor, resolving};
use super::profiles::{DeepSlice, ExtensionSlice, FieldRule, ProfileDef};
use super::tokens::{doc, ident, max_tokens};
use crate::doc_text::code;
use crate::emit::md;

/// The `profiles` module (nothing when the package has no resource profile).
pub(crate) fn module(base: &TokenStream, profiles: &[ProfileDef], package: &str) -> TokenStream {
    if profiles.is_empty() {
        return TokenStream::new();
    }
    let items = profiles.iter().map(|p| profile(base, p));
    let helpers = super::emit_slices::profile_slice_helpers(base, profiles);
    let resources: Vec<&ProfileDef> = profiles.iter().filter(|p| !p.datatype).collect();
    let urls = resources.iter().map(|p| &p.url);
    let arms = resources.iter().map(|p| {
        let (url, name, ty) = (&p.url, ident(&p.name), ident(&p.base_type));
        let type_name = &p.base_type;
        quote! {
            #url => match resource {
                #base::AnyResource::#ty(r) => #name::validate_resource(r),
                other => vec![Issue::new(#type_name, IssueKind::ResourceType { expected: #type_name, found: other.resource_type() })],
            },
        }
    });
    let mdoc = doc(&format!(
        "The resource and datatype profiles that {} defines, one type each: a base resource \
         or datatype that `TryFrom` validated, with typed accessors for the profile's slices.",
        code(package)
    ));
    quote! {
        #mdoc
        pub mod profiles {
            #[allow(unused_imports)]
            use crate::extension::{ExtensionError, Extensions};
            use crate::validation::{Invalid, Issue, IssueKind};

            /// The canonical URLs of the package's resource profiles.
            pub const URLS: &[&str] = &[#(#urls),*];

            /// Validates `resource` against the package's profile `url` (every issue found);
            /// `None` when the package defines no profile with that URL.
            pub fn validate_as(url: &str, resource: &#base::AnyResource) -> Option<Vec<Issue>> {
                Some(match url {
                    #(#arms)*
                    _ => return None,
                })
            }

            #helpers

            #(#items)*
        }
    }
}

fn profile(base: &TokenStream, p: &ProfileDef) -> TokenStream {
    let name = ident(&p.name);
    let ty = ident(&p.base_type);
    let url = &p.url;
    let mut text = format!("{}\n\nProfile {} on {}", md(&p.doc), code(&p.url), code(&p.base_type));
    if !p.derived_from.is_empty() {
        text.push_str(&format!(", derived from {}", code(&p.derived_from)));
    }
    text.push('.');
    if !p.must_support.is_empty() {
        let list: Vec<String> = p.must_support.iter().map(|m| code(m)).collect();
        text.push_str(&format!("\n\nMust support: {}.", list.join(", ")));
    }
    if !p.unchecked_bindings.is_empty() {
        let list: Vec<String> =
            p.unchecked_bindings.iter().map(|(el, vs)| format!("{} ({})", code(el), code(vs))).collect();
        text.push_str(&format!(
            "\n\nRequired bindings that the profile's own rules do not check, as their value sets cannot be \
             expanded from the package (on `code` elements, the base version's code lists still apply): {}.",
            list.join(", ")
        ));
    }
    if !p.unchecked_slices.is_empty() {
        let list: Vec<String> = p.unchecked_slices.iter().map(|el| code(el)).collect();
        text.push_str(&format!(
            "\n\nSlices not checked by `validate()` (discriminated by profile, or without the values \
             that tell their items apart): {}.",
            list.join(", ")
        ));
    }
    let by_profile: Vec<String> = p
        .kind_slices
        .iter()
        .filter(|s| matches!(s.by, super::profiles::SliceKind::Profile(_)))
        .map(|s| format!("`{}`", s.path))
        .collect();
    if !by_profile.is_empty() {
        text.push_str(&format!(
            "\n\nSlices by profile, counted by `validate_resolving()` rather than `validate()`, as they need \
             the references' targets: {}.",
            by_profile.join(", ")
        ));
    }
    let d = doc(&text);
    let checks: Vec<TokenStream> = p
        .fields
        .iter()
        .map(field_check)
        .chain(p.slices.iter().map(slice_check))
        .chain(p.element_slices.iter().map(element_slice_check))
        .collect();
    // The base definitions first (every element at every depth), then the profile's own rules.
    let base_issues = if p.datatype {
        let type_name = &p.base_type;
        quote!(#base::DEFINITIONS.validate_type(#type_name, &crate::json::to_value(resource)))
    } else {
        quote!(crate::validation::Validate::validate(resource))
    };
    let deep = deep_rules(p);
    let body = quote! {
        #[allow(unused_mut)]
        let mut issues = #base_issues;
        #(#checks)*
        #deep
        issues
    };
    let new_doc = doc(if p.datatype {
        "A new value with the profile's fixed and pattern values on its own single-valued elements."
    } else {
        "A new resource with `meta.profile` naming this profile and the profile's fixed and pattern values \
         on the resource's own single-valued elements."
    });
    let meta = if p.datatype {
        TokenStream::new()
    } else {
        quote!(meta: Some(#base::Meta { profile: vec![Self::URL.to_string().into()], ..Default::default() }),)
    };
    let accessors = p.slices.iter().map(|s| accessor(base, s));
    let deep_accessors = p.deep_extensions.iter().map(|s| deep_accessor(base, &p.base_type, s));
    let deep_slice_accessors = p.deep_element_slices.iter().map(|s| deep_slice_accessor(base, &p.base_type, s));
    let slices_const = slices_const(p);
    let slice_accessors = p.element_slices.iter().map(|s| element_slice_accessor(base, s));
    let kind_accessors = p.kind_slices.iter().map(|s| kind_slice_accessor(base, p, s));
    let resolving = resolving(base, p);
    let patterns = pattern_members(p);
    quote! {
        #d
        #[derive(Clone, Debug, PartialEq)]
        pub struct #name(#base::#ty);

        impl #name {
            /// The profile's canonical URL.
            pub const URL: &'static str = #url;

            #slices_const

            #new_doc
            pub fn new() -> Self {
                Self(#base::#ty {
                    #meta
                    #(#patterns)*
                    ..Default::default()
                })
            }

            /// Wraps `resource` without validating it (see `TryFrom` for the checked way).
            pub fn from_unverified(resource: #base::#ty) -> Self {
                Self(resource)
            }

            /// The base resource.
            pub fn into_inner(self) -> #base::#ty {
                self.0
            }

            /// Every way this resource does not meet the profile (empty when it does): the base
            /// definitions' checks, then the profile's.
            pub fn validate(&self) -> Vec<Issue> {
                Self::validate_resource(&self.0)
            }

            /// Every way `resource` does not meet the profile (empty when it does): the base
            /// definitions' checks, then the profile's.
            pub fn validate_resource(resource: &#base::#ty) -> Vec<Issue> {
                #body
            }

            #resolving

            #(#accessors)*
            #(#deep_accessors)*
            #(#deep_slice_accessors)*
            #(#slice_accessors)*
            #(#kind_accessors)*
        }

        impl Default for #name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::ops::Deref for #name {
            type Target = #base::#ty;
            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }

        impl std::ops::DerefMut for #name {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.0
            }
        }

        impl TryFrom<#base::#ty> for #name {
            type Error = Invalid<#base::#ty>;
            /// Validates `resource` against the profile: every issue found, and the resource back.
            fn try_from(resource: #base::#ty) -> Result<Self, Self::Error> {
                let issues = Self::validate_resource(&resource);
                if issues.is_empty() { Ok(Self(resource)) } else { Err(Invalid { resource, issues }) }
            }
        }

        impl From<#name> for #base::#ty {
            fn from(profiled: #name) -> Self {
                profiled.0
            }
        }
    }
}

fn field_check(f: &FieldRule) -> TokenStream {
    let field = ident(&f.field);
    let path = &f.path;
    let count = f.count.map(|(min, max)| {
        let max = max_tokens(max);
        let found = if f.many { quote!(resource.#field.len()) } else { quote!(usize::from(resource.#field.is_some())) };
        quote! { crate::hooks::check_count(&mut issues, #path, #found, #min, #max); }
    });
    let types = f.choice_types.as_ref().map(|t| {
        quote! {
            if let Some(v) = &resource.#field {
                crate::hooks::check_type(&mut issues, #path, v.type_code(), &[#(#t),*]);
            }
        }
    });
    let pattern = f.pattern.as_ref().map(|p| {
        let (json, exact) = (&p.json, p.exact);
        let values = values_of(&field, p.primitive);
        quote! { crate::hooks::check_pattern(&mut issues, #path, #values, #json, #exact); }
    });
    let binding = f.binding.as_ref().map(|(vs, codes)| {
        let values = values_of(&field, f.primitive);
        let pairs = codes.iter().map(|(system, code)| quote!((#system, #code)));
        quote! { crate::hooks::check_binding(&mut issues, #path, #values, &[#(#pairs),*], #vs); }
    });
    quote! { #count #types #pattern #binding }
}

/// The element's values as `&dyn ToJsonDyn` (a primitive's value, without its `_element`).
fn values_of(field: &Ident, primitive: bool) -> TokenStream {
    if primitive {
        quote!(resource.#field.iter().filter_map(|p| p.value.as_ref()).map(|v| v as &dyn crate::json::ToJsonDyn))
    } else {
        quote!(resource.#field.iter().map(|v| v as &dyn crate::json::ToJsonDyn))
    }
}

/// The struct literal's members that give a new resource the profile's fixed and pattern values
/// (single-valued elements of the resource's own level), and an item for each required slice
/// whose pattern is a whole item.
fn pattern_members(p: &ProfileDef) -> Vec<TokenStream> {
    let mut out: Vec<TokenStream> = p
        .fields
        .iter()
        .filter(|f| !f.many)
        .filter_map(|f| {
            let pattern = f.pattern.as_ref()?;
            let (field, json) = (ident(&f.field), &pattern.json);
            Some(if pattern.primitive {
                quote! { #field: crate::hooks::pattern_primitive(#json), }
            } else {
                quote! { #field: crate::hooks::pattern_value(#json), }
            })
        })
        .collect();
    let mut fields: Vec<&str> = Vec::new();
    for sl in p.element_slices.iter().filter(|s| s.whole && s.min > 0) {
        if !fields.contains(&sl.field.as_str()) {
            fields.push(&sl.field);
        }
    }
    for field in fields {
        let items = p.element_slices.iter().filter(|s| s.whole && s.min > 0 && s.field == field).flat_map(|s| {
            let json = &s.pattern;
            std::iter::repeat_n(quote!(crate::hooks::pattern_value(#json)), s.min)
        });
        let f = ident(field);
        out.push(quote! { #f: [#(#items),*].into_iter().flatten().collect(), });
    }
    out
}

fn slice_check(s: &ExtensionSlice) -> TokenStream {
    let (path, list, min, max) = (&s.path, ident(&s.list), s.min, max_tokens(s.max));
    match &s.typed {
        Some(t) => {
            let t = ident(t);
            quote! {
                crate::hooks::check_typed_slice::<super::extensions::#t>(&mut issues, #path, &resource.#list, #min, #max);
            }
        }
        None => {
            let url = &s.url;
            quote! { crate::hooks::check_url_slice(&mut issues, #path, &resource.#list, #url, #min, #max); }
        }
    }
}

fn accessor(base: &TokenStream, s: &ExtensionSlice) -> TokenStream {
    let list = ident(&s.list);
    let method: Ident = ident(&s.method);
    let setter = ident(&format!("set_{}", s.method));
    let max_text = s.max.map_or("*".to_string(), |m| m.to_string());
    let about = format!("{}\n\n{} · {}..{} · extension {}", md(&s.doc), code(&s.path), s.min, max_text, code(&s.url));
    match &s.typed {
        Some(t) => {
            let t = ident(t);
            if s.max.is_some_and(|m| m <= 1) {
                let get = doc(&about);
                let set = doc(&format!("Sets (or, with `None`, removes) `{}`.", s.path));
                quote! {
                    #get
                    pub fn #method(&self) -> Result<Option<super::extensions::#t>, ExtensionError> {
                        self.0.#list.get_typed()
                    }
                    #set
                    pub fn #setter(&mut self, value: Option<super::extensions::#t>) {
                        match value {
                            Some(v) => self.0.#list.set_typed(v),
                            None => {
                                self.0.#list.remove_typed::<super::extensions::#t>();
                            }
                        }
                    }
                }
            } else {
                let get = doc(&about);
                let set = doc(&format!("Replaces every `{}` with `values`.", s.path));
                quote! {
                    #get
                    pub fn #method(&self) -> Result<Vec<super::extensions::#t>, ExtensionError> {
                        self.0.#list.all_typed()
                    }
                    #set
                    pub fn #setter(&mut self, values: Vec<super::extensions::#t>) {
                        self.0.#list.remove_typed::<super::extensions::#t>();
                        for v in values {
                            self.0.#list.push_typed(v);
                        }
                    }
                }
            }
        }
        None => {
            let url = &s.url;
            let get = doc(&format!("{about}\n\nIts definition is not in the package: the extensions as they are."));
            quote! {
                #get
                pub fn #method(&self) -> Vec<&#base::Extension> {
                    self.0.#list.iter().filter(|e| e.url.as_deref() == Some(#url)).collect()
                }
            }
        }
    }
}

/// The slices that element ids below the profile's own level go through, as the associated
/// constant `SLICES` (nothing when there are none).
fn slices_const(p: &ProfileDef) -> TokenStream {
    let used = !p.deep.rules.is_empty() || !p.deep_extensions.is_empty() || !p.deep_element_slices.is_empty();
    if p.deep.slices.is_empty() || !used {
        return TokenStream::new();
    }
    let slices = p.deep.slices.iter().map(|s| match s {
        SliceDef::Url(path, url) => quote!(Slice { path: #path, by: SliceBy::Url(#url) }),
        SliceDef::Pattern(path, json) => quote!(Slice { path: #path, by: SliceBy::Pattern(#json) }),
        SliceDef::Key(path, key) => quote!(Slice { path: #path, by: SliceBy::Key(#key) }),
        SliceDef::ResourceType(path, member, ty) => {
            quote!(Slice { path: #path, by: SliceBy::ResourceType(#member, #ty) })
        }
    });
    quote! {
        /// The slices that the element ids below the profile's own level go through.
        const SLICES: &'static [crate::validation::Slice] = {
            use crate::validation::{Slice, SliceBy};
            &[#(#slices),*]
        };
    }
}

/// The check of the rules below the profile's own level (nothing when it has none).
fn deep_rules(p: &ProfileDef) -> TokenStream {
    if p.deep.rules.is_empty() {
        return TokenStream::new();
    }
    let rules = p.deep.rules.iter().map(|r| match r {
        RuleDef::Count(path, min, max) => {
            let max = max_tokens(*max);
            quote!(Rule { path: #path, check: Check::Count { min: #min, max: #max } })
        }
        RuleDef::Pattern(path, json, exact) => {
            quote!(Rule { path: #path, check: Check::Pattern { json: #json, exact: #exact } })
        }
        RuleDef::Types(path, t) => quote!(Rule { path: #path, check: Check::Types(&[#(#t),*]) }),
        RuleDef::Binding(path, vs, codes) => {
            let pairs = codes.iter().map(|(system, code)| quote!((#system, #code)));
            quote!(Rule { path: #path, check: Check::Binding { value_set: #vs, codes: &[#(#pairs),*] } })
        }
        RuleDef::Extension(path, typed) => {
            let t = ident(typed);
            quote!(Rule { path: #path, check: Check::Extension(crate::hooks::reads_as::<super::extensions::#t>) })
        }
    });
    let root = &p.base_type;
    let slices = if p.deep.slices.is_empty() { quote!(&[]) } else { quote!(Self::SLICES) };
    quote! {
        {
            use crate::validation::{Check, Rule};
            static RULES: &[Rule] = &[#(#rules),*];
            issues.extend(crate::validation::check_rules(&crate::json::to_value(resource), #root, #slices, RULES));
        }
    }
}

/// The accessor of an extension slice below the profile's own level: every occurrence, read
/// from the JSON.
fn deep_accessor(base: &TokenStream, root: &str, s: &ExtensionSlice) -> TokenStream {
    let method = ident(&s.method);
    let path = &s.path;
    let max_text = s.max.map_or("*".to_string(), |m| m.to_string());
    let about = format!(
        "{}\n\n`{}` · {}..{} · extension `{}`\n\nEvery occurrence in the resource (one per occurrence of the \
         elements on the way); to change them, use the element's `extension` list with \
         `fhirstorm::extension::Extensions`.",
        md(&s.doc),
        s.path,
        s.min,
        max_text,
        s.url
    );
    let get = doc(&about);
    match &s.typed {
        Some(t) => {
            let t = ident(t);
            quote! {
                #get
                pub fn #method(&self) -> Result<Vec<super::extensions::#t>, ExtensionError> {
                    crate::hooks::extensions_at(&self.0, #root, #path, Self::SLICES)
                }
            }
        }
        None => quote! {
            #get
            pub fn #method(&self) -> Vec<#base::Extension> {
                crate::hooks::items_at(&self.0, #root, #path, Self::SLICES)
            }
        },
    }
}

/// The accessor of a slice by value or pattern below the profile's own level: its items at every
/// occurrence, read from the JSON.
fn deep_slice_accessor(base: &TokenStream, root: &str, s: &DeepSlice) -> TokenStream {
    let (method, ty, path) = (ident(&s.method), ident(&s.item_type), &s.path);
    let max_text = s.max.map_or("*".to_string(), |m| m.to_string());
    let get = doc(&format!(
        "{}\n\n`{}` · {}..{} · the items of the slice at every occurrence of the elements on the way, \
         as copies; to change them, go through the elements.",
        md(&s.doc),
        s.path,
        s.min,
        max_text
    ));
    quote! {
        #get
        pub fn #method(&self) -> Vec<#base::#ty> {
            crate::hooks::items_at(&self.0, #root, #path, Self::SLICES)
        }
    }
}
