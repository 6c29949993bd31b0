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
}

impl Code {
    /// An empty file whose `crate::` paths are written as `runtime::` paths.
    pub(crate) fn new(runtime: &str) -> Code {
        Code { out: String::with_capacity(1 << 20), depth: 0, runtime: format!("{runtime}::") }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
    }

    /// One line of code at the current indentation.
    pub(crate) fn line(&mut self, text: impl AsRef<str>) {
        let text = text.as_ref();
        if text.is_empty() {
            self.out.push('\n');
            return;
        }
        self.indent();
        let mut rest = text;
        while let Some(at) = rest.find("crate::") {
            self.out.push_str(&rest[..at]);
            self.out.push_str(&self.runtime);
            rest = &rest[at + "crate::".len()..];
        }
        self.out.push_str(rest);
        self.out.push('\n');
    }

    /// Text written as it is, with no indentation or rooting (the inside of a multi-line string
    /// literal).
    pub(crate) fn verbatim(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// A fragment to [`append`](Code::append) to another file: written at depth 0, its paths
    /// rooted when appended.
    pub(crate) fn nested() -> Code {
        Code { out: String::new(), depth: 0, runtime: "crate::".to_string() }
    }

    /// Appends a fragment written with [`nested`](Code::nested) at the current indentation.
    pub(crate) fn append(&mut self, fragment: Code) {
        for l in fragment.out.lines() {
            if l.trim_start().starts_with("//") {
                self.indent();
                self.out.push_str(l);
                self.out.push('\n');
            } else {
                self.line(l);
            }
        }
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

    /// A doc comment, one `///` line per line of `text`, made safe by [`crate::doc_text::lines`]
    /// (trimmed, no Markdown code, HTML or links but the generator's own).
    pub(crate) fn doc(&mut self, text: &str) {
        for l in crate::doc_text::lines(text) {
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
