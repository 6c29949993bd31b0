//! Checks of generated source from an untrusted package: it parses, has the items of the same
//! package with clean text, and its doc comments hold no Markdown code, HTML or links.

use pulldown_cmark::{Event, Options, Parser, Tag};
use syn::visit_mut::VisitMut;

/// The code of a file with its doc comments and the text of its string literals taken out, as
/// tokens: two files with the same shape have the same items, fields, arms and expressions.
pub fn shape(code: &str) -> String {
    struct Blank;
    impl VisitMut for Blank {
        fn visit_lit_str_mut(&mut self, lit: &mut syn::LitStr) {
            *lit = syn::LitStr::new("", lit.span());
        }
    }
    let mut file = syn::parse_file(code).unwrap_or_else(|e| panic!("the generated code does not parse: {e}"));
    Blank.visit_file_mut(&mut file);
    let tokens = quote::quote!(#file).to_string().replace("# [doc = \"\"]", "").replace("# ! [doc = \"\"]", "");
    tokens.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every `#[doc]` string of the file, as syn reads it.
fn doc_attributes(code: &str) -> Vec<String> {
    struct Docs(Vec<String>);
    impl VisitMut for Docs {
        fn visit_attribute_mut(&mut self, attr: &mut syn::Attribute) {
            if attr.path().is_ident("doc") {
                if let syn::Meta::NameValue(nv) = &attr.meta {
                    if let syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) = &nv.value {
                        self.0.push(s.value());
                    }
                }
            }
        }
    }
    let mut file = syn::parse_file(code).unwrap_or_else(|e| panic!("the generated code does not parse: {e}"));
    let mut docs = Docs(Vec::new());
    docs.visit_file_mut(&mut file);
    docs.0
}

/// What rustdoc would read in a doc comment that is not text: code blocks (doctests), HTML,
/// links, images.
fn markup(doc: &str) -> Vec<String> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION;
    Parser::new_ext(doc, options)
        .filter_map(|e| match e {
            Event::Start(Tag::CodeBlock(kind)) => Some(format!("code block {kind:?}")),
            Event::Html(h) | Event::InlineHtml(h) => Some(format!("HTML {h:?}")),
            Event::Start(Tag::Link { dest_url, .. }) => Some(format!("link to {dest_url}")),
            Event::Start(Tag::Image { dest_url, .. }) => Some(format!("image {dest_url}")),
            _ => None,
        })
        .collect()
}

/// Checks the doc comments of generated code: each line (as syn reads the `#[doc]` strings)
/// could not start a code block (a fence after up to three spaces, four spaces, a tab), and each
/// comment (consecutive `///` lines, as prettyplease writes them) holds no code block, HTML or
/// link when read as Markdown.
pub fn check_docs(code: &str) -> Result<(), String> {
    let attrs = doc_attributes(code);
    for line in attrs.iter().flat_map(|a| a.split('\n')) {
        let body = line.strip_prefix(' ').unwrap_or(line);
        let trimmed = body.trim_start_matches(' ');
        let indent = body.len() - trimmed.len();
        if body.contains(['\t', '\r']) || indent >= 4 {
            return Err(format!("indented doc line {line:?}"));
        }
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            return Err(format!("a doc line opens a fence: {line:?}"));
        }
    }
    let mut comments: Vec<Vec<&str>> = Vec::new();
    let mut open = false;
    let mut lines = 0;
    for line in code.lines() {
        let t = line.trim_start();
        let doc = t.strip_prefix("///").or_else(|| t.strip_prefix("//!"));
        match doc {
            Some(text) => {
                lines += 1;
                if !open {
                    comments.push(Vec::new());
                }
                comments.last_mut().expect("pushed").push(text);
                open = true;
            }
            None => open = false,
        }
    }
    if lines != attrs.len() {
        return Err(format!("{} doc attributes, {lines} doc comment lines: a doc is written another way", attrs.len()));
    }
    for comment in comments {
        let text = comment.join("\n");
        let found = markup(&text);
        if !found.is_empty() {
            return Err(format!("{found:?} in the doc comment\n{text}"));
        }
    }
    Ok(())
}
