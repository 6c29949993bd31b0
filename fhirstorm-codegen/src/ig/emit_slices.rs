//! Accessors for a profile's named slices of repeating elements, and their checks: slices by
//! value or pattern (the items containing the slice's values), by the type of the resource an
//! item holds, and by a profile its reference's target meets (given a way to resolve it).

use proc_macro2::TokenStream;
use quote::quote;

use super::profiles::{ElementSlice, KindSlice, ProfileDef, SliceKind};
use super::tokens::{doc, ident, max_tokens};
use crate::doc_text::code;
use crate::emit::md;

pub(super) fn element_slice_check(s: &ElementSlice) -> TokenStream {
    let (path, field, json, min, max) = (&s.path, ident(&s.field), &s.pattern, s.min, max_tokens(s.max));
    quote! { crate::hooks::check_element_slice(&mut issues, #path, &resource.#field, #json, #min, #max); }
}

pub(super) fn element_slice_accessor(base: &TokenStream, s: &ElementSlice) -> TokenStream {
    let (field, json) = (ident(&s.field), &s.pattern);
    let (method, method_mut) = (ident(&s.method), ident(&format!("{}_mut", s.method)));
    let ty = ident(&s.item_type);
    let max_text = s.max.map_or("*".to_string(), |m| m.to_string());
    let get = doc(&format!(
        "{}\n\n`{}` · {}..{} · the items of `{}` that contain `{}`",
        md(&s.doc),
        s.path,
        s.min,
        max_text,
        s.field,
        json.replace('`', "'")
    ));
    let get_mut = doc(&format!("The items of `{}`, to change them.", s.path));
    quote! {
        #get
        pub fn #method(&self) -> Vec<&#base::#ty> {
            crate::hooks::slice_items(&self.0.#field, #json)
        }
        #get_mut
        pub fn #method_mut(&mut self) -> Vec<&mut #base::#ty> {
            crate::hooks::slice_items_mut(&mut self.0.#field, #json)
        }
    }
}

/// The accessors of a slice by the type of the resource its items hold, or by a profile its
/// references' targets meet.
pub(super) fn kind_slice_accessor(base: &TokenStream, p: &ProfileDef, s: &KindSlice) -> TokenStream {
    let field = ident(&s.field);
    let (method, ty) = (ident(&s.method), ident(&s.item_type));
    let max_text = s.max.map_or("*".to_string(), |m| m.to_string());
    let about = format!("{}\n\n{} · {}..{}", md(&s.doc), code(&s.path), s.min, max_text);
    match &s.by {
        SliceKind::ResourceType { member, resource_type } => {
            let member = ident(member);
            let method_mut = ident(&format!("{}_mut", s.method));
            let get = doc(&format!("{about} · the items of `{}` holding a `{resource_type}`", s.field));
            let get_mut = doc(&format!("The items of `{}`, to change them.", s.path));
            quote! {
                #get
                pub fn #method(&self) -> Vec<&#base::#ty> {
                    self.0.#field.iter().filter(|i| i.#member.as_ref().is_some_and(|r| r.resource_type() == #resource_type)).collect()
                }
                #get_mut
                pub fn #method_mut(&mut self) -> Vec<&mut #base::#ty> {
                    self.0.#field.iter_mut().filter(|i| i.#member.as_ref().is_some_and(|r| r.resource_type() == #resource_type)).collect()
                }
            }
        }
        SliceKind::Profile(urls) => {
            let list: Vec<String> = urls.iter().map(|u| code(u)).collect();
            let get = doc(&format!(
                "{about} · the references of `{}` whose target meets {}\n\n\
                 `resolve` finds a reference's target (a `Bundle`'s entries, a client's cache){}; a \
                 reference without a target found belongs to no slice. A target meets a profile the \
                 package defines when it validates against it, a base resource's definition when it \
                 is that resource, and another profile when its `meta.profile` names it.",
                s.field,
                list.join(" or "),
                if has_contained(p) { "; contained resources are found without it" } else { "" },
            ));
            let contained = if has_contained(p) {
                quote!(contained_target(&self.0.contained, r).or_else(|| resolve(r)))
            } else {
                quote!(resolve(r))
            };
            quote! {
                #get
                pub fn #method<'a>(
                    &'a self,
                    mut resolve: impl FnMut(&#base::Reference) -> Option<&'a #base::AnyResource>,
                ) -> Vec<&'a #base::Reference> {
                    self.0.#field.iter().filter(|r| #contained.is_some_and(|t| conforms(t, &[#(#urls),*]))).collect()
                }
            }
        }
    }
}

/// Whether the profile's base resource has `contained` resources.
fn has_contained(p: &ProfileDef) -> bool {
    !p.datatype && p.has_contained
}

/// `validate_resolving()`, for a profile with slices by profile: `validate()` and those slices'
/// counts (nothing when it has none).
pub(super) fn resolving(base: &TokenStream, p: &ProfileDef) -> TokenStream {
    let by_profile: Vec<&KindSlice> = p.kind_slices.iter().filter(|s| matches!(s.by, SliceKind::Profile(_))).collect();
    if by_profile.is_empty() {
        return TokenStream::new();
    }
    let checks = by_profile.iter().map(|s| {
        let (path, method, min, max) = (&s.path, ident(&s.method), s.min, max_tokens(s.max));
        quote! { crate::hooks::check_count(&mut issues, #path, self.#method(&mut resolve).len(), #min, #max); }
    });
    let list: Vec<String> = by_profile.iter().map(|s| format!("`{}`", s.path)).collect();
    let d = doc(&format!(
        "`validate()`, and the counts of the slices by profile ({}), which need the references' \
         targets: `resolve` finds them, as for those slices' accessors.",
        list.join(", ")
    ));
    quote! {
        #d
        pub fn validate_resolving<'a>(
            &'a self,
            mut resolve: impl FnMut(&#base::Reference) -> Option<&'a #base::AnyResource>,
        ) -> Vec<Issue> {
            let mut issues = self.validate();
            #(#checks)*
            issues
        }
    }
}

/// The helpers of slices by profile, once per module (nothing when no profile has such slices).
pub(super) fn profile_slice_helpers(base: &TokenStream, profiles: &[ProfileDef]) -> TokenStream {
    let slices = profiles.iter().flat_map(|p| p.kind_slices.iter().map(move |s| (p, s)));
    let mut by_profile = slices.filter(|(_, s)| matches!(s.by, SliceKind::Profile(_))).peekable();
    if by_profile.peek().is_none() {
        return TokenStream::new();
    }
    let contained = if by_profile.any(|(p, _)| has_contained(p)) {
        quote! {
            /// The resource among `contained` that `reference` points to (`#id`).
            fn contained_target<'a>(
                contained: &'a [#base::AnyResource],
                reference: &#base::Reference,
            ) -> Option<&'a #base::AnyResource> {
                let id = reference.reference.as_ref()?.value.as_deref()?.strip_prefix('#')?;
                contained.iter().find(|c| c.id() == Some(id))
            }
        }
    } else {
        TokenStream::new()
    };
    quote! {
        #contained

        /// Whether `target` meets one of the profiles `urls`: one the package defines when it
        /// validates against it, a base resource's definition when it is that resource, another
        /// when its `meta.profile` names it.
        fn conforms(target: &#base::AnyResource, urls: &[&str]) -> bool {
            urls.iter().any(|url| match validate_as(url, target) {
                Some(issues) => issues.is_empty(),
                None => {
                    url.strip_prefix("http://hl7.org/fhir/StructureDefinition/") == Some(target.resource_type())
                        || target.meta().is_some_and(|m| m.profile.iter().any(|p| p.value.as_deref() == Some(*url)))
                }
            })
        }
    }
}
