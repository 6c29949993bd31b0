//! Rust source written as text, line by line with its indentation, in rustfmt's style.
//!
//! The version models are written this way rather than as token trees formatted by
//! prettyplease: a build script runs the generator unoptimized in every debug build, and there
//! building, parsing and printing R4's 12 MB of tokens took 5 s, writing the text takes a
//! fraction of one. What is written is what the generator's logic decides; `Code` only indents,
//! writes doc comments and roots the runtime's paths.

use std::fmt::Write as _;

/// A Rust source file being written.
pub(crate) struct Code {
    out: String,
    depth: usize,
    /// The runtime's path (`::fhirstorm`) that replaces `crate::` in code lines.
    runtime: String,
    /// The depth at which the last line ended an item, and how: an item that starts next at
    /// that depth gets a blank line before it, as rustfmt'd code has.
    item_ended_at: Option<(usize, Ended)>,
}

/// How the last line ended an item.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// A block (`}`): any item after it is set apart.
    Block,
    /// A one-line item (`;`, or a block on one line, `{}`): set apart from any item but another
    /// of one line.
    Line,
    /// A `use`: set apart from anything but another `use`.
    Use,
}

use super::width::WIDTH;

/// Whether a line is a whole item: `…;`, or a block on one line (`impl A for B {}`).
fn one_line_item(line: &str) -> bool {
    line.ends_with(';') || (line.ends_with('}') && line.contains('{'))
}

/// Whether a line (without its indentation) starts an item, or the doc or attribute before one.
fn starts_item(line: &str) -> bool {
    const STARTS: &[&str] = &[
        "///",
        "#[",
        "pub ",
        "pub(",
        "impl",
        "unsafe impl",
        "fn ",
        "const ",
        "static ",
        "type ",
        "struct ",
        "enum ",
        "mod ",
    ];
    STARTS.iter().any(|s| line.starts_with(s))
}

impl Code {
    /// An empty file whose `crate::` paths are written as `runtime::` paths.
    pub(crate) fn new(runtime: &str) -> Code {
        Code { out: String::with_capacity(1 << 20), depth: 0, runtime: format!("{runtime}::"), item_ended_at: None }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
    }

    /// Before a line: a blank line if it starts an item after another item at this depth.
    /// After it ([`ended`](Self::ended)): whether it ended one.
    fn separate(&mut self, line: &str) {
        let apart = match self.item_ended_at {
            Some((depth, how)) if depth == self.depth => match how {
                Ended::Block => starts_item(line),
                Ended::Line => {
                    line.starts_with("///") || line.starts_with("#[") || (starts_item(line) && !one_line_item(line))
                }
                Ended::Use => !line.starts_with("use ") && !line.starts_with("pub use "),
            },
            _ => false,
        };
        if apart {
            self.out.push('\n');
        }
        self.item_ended_at = None;
    }

    fn ended(&mut self, line: &str) {
        let how = if line.starts_with("use ") || line.starts_with("pub use ") {
            Ended::Use
        } else if one_line_item(line) {
            Ended::Line
        } else if line.ends_with('}') {
            Ended::Block
        } else {
            return;
        };
        self.item_ended_at = Some((self.depth, how));
    }

    /// One line of code at the current indentation.
    pub(crate) fn line(&mut self, text: impl AsRef<str>) {
        let text = text.as_ref();
        if text.is_empty() {
            self.out.push('\n');
            self.item_ended_at = None;
            return;
        }
        if self.too_long(text) {
            if let Some(parts) = super::width::broken(text) {
                for (deeper, part) in parts {
                    self.depth += deeper;
                    self.line(part);
                    self.depth -= deeper;
                }
                return;
            }
        }
        self.separate(text);
        self.indent();
        let mut rest = text;
        while let Some(at) = rest.find("crate::") {
            self.out.push_str(&rest[..at]);
            self.out.push_str(&self.runtime);
            rest = &rest[at + "crate::".len()..];
        }
        self.out.push_str(rest);
        self.out.push('\n');
        self.ended(text);
    }

    /// The width left for a doc line's text at this depth.
    fn doc_width(&self) -> usize {
        WIDTH.saturating_sub(4 * self.depth + 4).max(60)
    }

    /// Whether `text` is wider than the project's width at this depth, its paths rooted.
    fn too_long(&self, text: &str) -> bool {
        let rooted = text.len() + text.matches("crate::").count() * self.runtime.len().saturating_sub(7);
        4 * self.depth + rooted > WIDTH
    }

    /// Text written as it is, with no indentation or rooting (the inside of a multi-line string
    /// literal).
    pub(crate) fn verbatim(&mut self, text: &str) {
        self.out.push_str(text);
        // A literal that ends its item (`"#);`) ends it at this depth.
        self.item_ended_at = text.trim_end().ends_with(';').then_some((self.depth, Ended::Block));
    }

    /// A fragment to [`append`](Code::append) to another file: written at depth 0, its paths
    /// rooted when appended.
    pub(crate) fn nested() -> Code {
        Code { out: String::new(), depth: 0, runtime: "crate::".to_string(), item_ended_at: None }
    }

    /// Appends a fragment written with [`nested`](Code::nested) at the current indentation.
    pub(crate) fn append(&mut self, fragment: Code) {
        let depth = self.depth;
        for l in fragment.out.lines() {
            // The fragment's own indentation, on top of this file's.
            let inner = l.len() - l.trim_start().len();
            self.depth = depth + inner / 4;
            let l = l.trim_start();
            if let Some(doc) = l.strip_prefix("/// ") {
                // Written at depth 0 and sanitized there: broken again, at spaces only, for this
                // depth.
                self.separate(l);
                for piece in crate::doc_text::wrap(doc, self.doc_width()) {
                    self.indent();
                    let _ = writeln!(self.out, "/// {piece}");
                }
            } else if l.starts_with("//") {
                self.separate(l);
                self.indent();
                self.out.push_str(l);
                self.out.push('\n');
            } else {
                self.line(l);
            }
        }
        self.depth = depth;
    }

    /// `head {` and one level deeper.
    pub(crate) fn open(&mut self, head: impl AsRef<str>) {
        let head = head.as_ref();
        self.line(if head.is_empty() { "{".to_string() } else { format!("{head} {{") });
        self.depth += 1;
    }

    /// `head { body }` on three lines: a function or arm of one expression.
    pub(crate) fn block(&mut self, head: impl AsRef<str>, body: impl AsRef<str>) {
        self.open(head);
        self.line(body);
        self.close("");
    }

    /// `head { match scrutinee { arms } }`: a function whose body is one `match`, an arm a line.
    pub(crate) fn match_fn(&mut self, head: impl AsRef<str>, scrutinee: &str, arms: impl IntoIterator<Item = String>) {
        self.open(head);
        self.open(format!("match {scrutinee}"));
        for arm in arms {
            self.line(arm);
        }
        self.close("");
        self.close("");
    }

    /// Closes a block and opens the next on the same line: `} head {` (`} else {`).
    pub(crate) fn reopen(&mut self, head: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(format!("}} {head} {{"));
        self.depth += 1;
    }

    /// One level out, then `head {` and one level deeper: the end of a parameter list that
    /// [`open_bare`](Self::open_bare) began, and the body.
    pub(crate) fn close_bare_open(&mut self, head: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.open(head);
    }

    /// `head` (ending in an opening bracket) and one level deeper.
    pub(crate) fn open_bare(&mut self, head: impl AsRef<str>) {
        self.line(head);
        self.depth += 1;
    }

    /// One level out and `}` followed by `tail` (`,`, `;` or nothing).
    pub(crate) fn close(&mut self, tail: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(format!("}}{tail}"));
    }

    /// One level out and `tail` (`];`).
    pub(crate) fn close_bare(&mut self, tail: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.line(tail);
    }

    /// A doc comment, one `///` line per line of `text`, made safe by [`crate::doc_text::lines_within`]
    /// (trimmed, no Markdown code, HTML or links but the generator's own).
    pub(crate) fn doc(&mut self, text: &str) {
        self.separate("///");
        for l in crate::doc_text::lines_within(text, self.doc_width()) {
            self.indent();
            if l.is_empty() {
                self.out.push_str("///\n");
            } else {
                let _ = writeln!(self.out, "/// {l}");
            }
        }
    }

    /// A plain comment line.
    pub(crate) fn comment(&mut self, text: &str) {
        self.separate("//");
        self.indent();
        let _ = writeln!(self.out, "// {}", crate::doc_text::one_line(text));
    }

    /// The text written.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}

/// A Rust string literal of `text`.
pub(crate) fn lit(text: &str) -> String {
    format!("{text:?}")
}

/// Checks a configured Rust path (`::fhirstorm`, `::fhirstorm::r4`, `crate::models`); `what`
/// names it in the error.
pub(crate) fn check_path(text: &str, what: &str, example: &str) -> Result<(), crate::Error> {
    let body = text.strip_prefix("::").unwrap_or(text);
    let valid = !body.is_empty()
        && body.split("::").enumerate().all(|(i, seg)| {
            let seg = seg.strip_prefix("r#").unwrap_or(seg);
            let mut chars = seg.chars();
            let ident = chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
                && seg != "_";
            ident && (i == 0 || !matches!(seg, "crate" | "self" | "super" | "Self"))
        });
    if valid {
        Ok(())
    } else {
        Err(crate::Error::new(format!("invalid {what} path {text:?} (expected a Rust path, e.g. {example})")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_roots_and_documents() {
        let mut c = Code::new("::fhirstorm");
        c.doc("A thing.\n\n  Second `crate::x` line.  ");
        c.open("impl crate::Resource for X");
        c.line("fn f() -> crate::json::Value { crate::json::Value::Null }");
        c.line("");
        c.comment("note");
        c.close("");
        assert_eq!(
            c.finish(),
            "/// A thing.\n///\n/// Second `crate::x` line.\nimpl ::fhirstorm::Resource for X {\n    fn f() -> \
             ::fhirstorm::json::Value { ::fhirstorm::json::Value::Null }\n\n    // note\n}\n"
        );
    }

    #[test]
    fn string_literals_escape() {
        assert_eq!(lit("a \"b\" \\ c\n"), r#""a \"b\" \\ c\n""#);
    }

    #[test]
    fn paths_are_checked() {
        for ok in ["::fhirstorm", "fhirstorm_runtime", "::fhirstorm::r4", "crate::models", "r#type"] {
            assert!(check_path(ok, "runtime", "::fhirstorm").is_ok(), "{ok}");
        }
        for bad in ["", "::", "fhir storm", "a::", "a::crate", "1x", "a-b", "a;b"] {
            assert!(check_path(bad, "runtime", "::fhirstorm").is_err(), "{bad}");
        }
    }
}
