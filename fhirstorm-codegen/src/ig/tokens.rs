//! Token helpers of the implementation-guide emitters, which build token trees with `quote`
//! and print them with prettyplease (a guide's code is small; the version models are written
//! as text, `emit::Code`).

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::Prim;

/// An identifier for `name` (`r#type` raw), never failing: a name that is no identifier keeps its
/// ASCII letters, digits and underscores, with `_` before a leading digit and `_0` for nothing.
pub(crate) fn ident(name: &str) -> Ident {
    let (raw, body) = match name.strip_prefix("r#") {
        Some(body) => (true, body),
        None => (false, name),
    };
    let mut body: String = body.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    if body.is_empty() || body == "_" {
        body = "_0".to_string();
    } else if body.starts_with(|c: char| c.is_ascii_digit()) {
        body.insert(0, '_');
    }
    if matches!(body.as_str(), "self" | "Self" | "super" | "crate") {
        body.push('_');
    }
    if raw {
        Ident::new_raw(&body, Span::call_site())
    } else {
        Ident::new(&body, Span::call_site())
    }
}

/// `#[doc]` attributes, one per line of `text`, made safe by [`crate::doc_text::lines_within`] (no
/// Markdown code, HTML or links but the generator's own), and broken at spaces to keep within
/// the project's width at the depths these items are written at.
pub(crate) fn doc(text: &str) -> TokenStream {
    let lines: Vec<String> = crate::doc_text::lines_within(text, 100).into_iter().map(|l| format!(" {l}")).collect();
    quote! { #( #[doc = #lines] )* }
}

/// A Rust type (`crate::Decimal`, `u32`) as tokens.
fn type_tokens(text: &str) -> TokenStream {
    text.parse().expect("the generator's own type names are Rust")
}

/// The Rust type of a FHIR primitive's value.
pub(crate) fn prim_type(p: Prim) -> TokenStream {
    type_tokens(crate::emit::prim_type(p))
}

/// The search-value type of a parameter kind (`None` for a reference).
pub(crate) fn search_value_type(kind: &str) -> Option<TokenStream> {
    crate::emit::search_value_type(kind).map(type_tokens)
}

/// Parses a configured Rust path (`::fhirstorm`, `::fhirstorm::r4`); `what` names it in the error.
pub(crate) fn rust_path(text: &str, what: &str, example: &str) -> Result<TokenStream, crate::Error> {
    crate::emit::check_path(text, what, example)?;
    Ok(type_tokens(text))
}

/// Replaces every `crate` path root with `path` (for code compiled outside fhirstorm).
pub(crate) fn replace_crate(tokens: TokenStream, path: &TokenStream) -> TokenStream {
    use proc_macro2::{Group, TokenTree};
    tokens
        .into_iter()
        .flat_map(|t| -> Vec<TokenTree> {
            match t {
                TokenTree::Ident(i) if i == "crate" => path.clone().into_iter().collect(),
                TokenTree::Group(g) => {
                    let mut n = Group::new(g.delimiter(), replace_crate(g.stream(), path));
                    n.set_span(g.span());
                    vec![TokenTree::Group(n)]
                }
                other => vec![other],
            }
        })
        .collect()
}

/// A maximum count as tokens: `Some(n)`, or `None` for `*`.
pub(crate) fn max_tokens(max: Option<usize>) -> TokenStream {
    match max {
        Some(m) => quote!(Some(#m)),
        None => quote!(None),
    }
}
