//! Checks of generated source from an untrusted package: it parses, has the items of the same
//! package with clean text, and its doc comments hold no Markdown code, HTML or links.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use pulldown_cmark::{Event, Options, Parser, Tag};

/// The tokens of generated code (its `///` comments are `#[doc]` attributes there).
fn tokens(code: &str) -> TokenStream {
    code.parse().unwrap_or_else(|e| panic!("the generated code does not lex: {e}"))
}

/// The string of a `#[doc = "..."]` attribute's bracketed group, if that is what it is.
fn doc_string(group: &TokenStream) -> Option<String> {
    let mut it = group.clone().into_iter();
    match (it.next(), it.next(), it.next(), it.next()) {
        (Some(TokenTree::Ident(doc)), Some(TokenTree::Punct(eq)), Some(TokenTree::Literal(lit)), None)
            if doc == "doc" && eq.as_char() == '=' =>
        {
            match syn::Lit::new(lit) {
                syn::Lit::Str(s) => Some(s.value()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Walks `stream`: every token but doc attributes goes to `shape` (string literals as `""`),
/// every doc string to `docs`.
fn walk(stream: TokenStream, shape: &mut String, docs: &mut Vec<String>) {
    let trees: Vec<TokenTree> = stream.into_iter().collect();
    let mut i = 0;
    while i < trees.len() {
        // `#[doc = ".."]` or `#![doc = ".."]`.
        if let TokenTree::Punct(p) = &trees[i] {
            let bang = matches!(trees.get(i + 1), Some(TokenTree::Punct(b)) if b.as_char() == '!');
            let at = if bang { i + 2 } else { i + 1 };
            if let (true, Some(TokenTree::Group(g))) = (p.as_char() == '#', trees.get(at)) {
                if g.delimiter() == Delimiter::Bracket {
                    if let Some(doc) = doc_string(&g.stream()) {
                        docs.push(doc);
                        i = at + 1;
                        continue;
                    }
                }
            }
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                shape.push_str(open);
                walk(g.stream(), shape, docs);
                shape.push_str(close);
            }
            TokenTree::Literal(l) => {
                let text = l.to_string();
                shape.push_str(if text.starts_with('"') || text.starts_with('r') { "\"\"" } else { &text });
            }
            other => shape.push_str(&other.to_string()),
        }
        shape.push(' ');
        i += 1;
    }
}

/// The code of a file with its doc comments and the text of its string literals taken out, as
/// tokens: two files with the same shape have the same items, fields, arms and expressions. The
/// file must parse with syn.
pub fn shape(code: &str) -> String {
    if let Err(e) = syn::parse_file(code) {
        panic!("the generated code does not parse: {e}");
    }
    let mut shape = String::new();
    walk(tokens(code), &mut shape, &mut Vec::new());
    shape
}

/// Every `#[doc]` string of the file, as the Rust lexer reads it.
fn doc_attributes(code: &str) -> Vec<String> {
    let mut docs = Vec::new();
    walk(tokens(code), &mut String::new(), &mut docs);
    docs
}

/// What rustdoc would read in a doc comment that is not text: code blocks (doctests), HTML,
/// links, images.
fn markup(doc: &str) -> Vec<String> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_DEFINITION_LIST;
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
