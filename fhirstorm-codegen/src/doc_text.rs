//! Text from the definitions or a package, made safe to write into doc comments.
//!
//! rustdoc reads doc comments as Markdown and runs their code blocks as doctests, so a
//! description that opens a code block (a fence of backticks or tildes, an indented line) would
//! run its own code in the user's `cargo test`, and one that writes HTML or a link would put it
//! in the user's documentation. Every doc comment the generators write goes through [`lines`],
//! which keeps ordinary prose and neutralises whatever could start a Markdown block (a fence,
//! indentation, an HTML block, a quote, a list, a link reference definition) and, outside code
//! spans, raw HTML and inline links. Package text goes in through [`prose`] (paragraphs, as
//! text) or [`code`] (one value, as a code span), so that it reads as written.

/// The characters that end a line, for Markdown or for a reader: CR, vertical tab, form feed,
/// next line, and the Unicode line and paragraph separators.
fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Characters dropped from doc text: other controls (NUL, ESC, ...) and the bidirectional
/// formatting characters, which rustc refuses in comments.
fn is_dropped(c: char) -> bool {
    (c.is_control() && !is_line_break(c) && c != '\t')
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// `text` with every line break as `\n`, tabs as spaces, and the dropped characters gone.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        if is_line_break(c) {
            out.push('\n');
        } else if c == '\t' {
            out.push(' ');
        } else if !is_dropped(c) {
            out.push(c);
        }
    }
    out
}

/// One line: `text` with its line breaks as spaces and the dropped characters gone (a URL, a
/// code, a name or a version).
pub(crate) fn one_line(text: &str) -> String {
    normalise(text).replace('\n', " ")
}

/// A value (a URL, a code, a path, a name) as an inline code span that shows it as written: one
/// line, delimited by more backticks than it holds in a row.
pub(crate) fn code(text: &str) -> String {
    let text = one_line(text);
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    if longest == 0 && !text.trim().is_empty() {
        return format!("`{text}`");
    }
    let fence = "`".repeat(longest + 1);
    format!("{fence} {text} {fence}")
}

/// Prose from the definitions (a description, a title) as Markdown text that renders as written:
/// URLs become code spans (rustdoc warns about bare URLs), Markdown's punctuation is escaped
/// with backslashes. Paragraphs stay paragraphs.
pub(crate) fn prose(text: &str) -> String {
    let text = normalise(text);
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = [rest.find("http://"), rest.find("https://")].into_iter().flatten().min() {
        let (before, url) = rest.split_at(at);
        let end =
            url.find(|c: char| c.is_whitespace() || matches!(c, ')' | '`' | '<' | '>' | '"')).unwrap_or(url.len());
        escape_into(before, &mut out);
        out.push('`');
        out.push_str(&url[..end]);
        out.push('`');
        rest = &url[end..];
    }
    escape_into(rest, &mut out);
    out
}

fn escape_into(text: &str, out: &mut String) {
    for c in text.chars() {
        if matches!(c, '\\' | '[' | ']' | '<' | '>' | '`' | '*' | '_' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// The lines of a doc comment for `text`, each to be written after `/// ` (or as a `#[doc]`
/// string): one per line of `text`, trimmed, with the dropped characters gone, no line that
/// could start a Markdown block other than a paragraph, and no raw HTML or inline link outside
/// code spans. Blank lines (paragraph breaks) are empty strings.
pub(crate) fn lines(text: &str) -> Vec<String> {
    let text = normalise(text);
    let mut out = Vec::new();
    let mut paragraph: Vec<String> = Vec::new();
    for line in text.split('\n').map(str::trim) {
        if line.is_empty() {
            flush(&mut paragraph, &mut out);
            out.push(String::new());
        } else {
            paragraph.push(block_safe(line));
        }
    }
    flush(&mut paragraph, &mut out);
    // A trailing newline of `text` ends the last line; it adds no empty line.
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// Writes a paragraph's lines, made inline-safe together (a code span may cross lines).
fn flush(paragraph: &mut Vec<String>, out: &mut Vec<String>) {
    if paragraph.is_empty() {
        return;
    }
    let joined = inline_safe(&paragraph.join("\n"));
    out.extend(joined.split('\n').map(str::to_string));
    paragraph.clear();
}

/// A trimmed, non-empty line that Markdown reads as paragraph text: a backslash goes before what
/// would start a fence, a heading underline, a thematic break, a quote, a list item, an HTML
/// block or a link reference definition.
fn block_safe(line: &str) -> String {
    let first = line.chars().next().unwrap_or(' ');
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    let after = |n: usize| line[n..].chars().next();
    let starts_block = match first {
        '`' | '~' => line.starts_with("```") || line.starts_with("~~~"),
        '>' | '[' | '=' | '_' | '|' | '#' => true,
        '-' | '+' | '*' => after(1).is_none_or(|c| c == ' ') || line.chars().all(|c| c == first || c == ' '),
        _ => false,
    };
    if first == '<' {
        // An HTML block may interrupt a paragraph, even one whose code span crosses the line.
        format!("&lt;{}", &line[1..])
    } else if starts_block {
        format!("\\{line}")
    } else if digits > 0 && matches!(after(digits), Some('.' | ')')) {
        // `1.` / `1)`: an ordered list item.
        format!("{}\\{}", &line[..digits], &line[digits..])
    } else {
        line.to_string()
    }
}

/// `text` with, outside its code spans, every `<` written `&lt;` (no HTML, no autolink) and every
/// `](` written `]\(` (no inline link or image). Code spans are found as Markdown finds them: a
/// run of backticks not escaped by a backslash, closed by the next run of the same length.
fn inline_safe(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(|n| n.is_ascii_punctuation()) => {
                out.push(c);
                out.push(chars[i + 1]);
                i += 2;
            }
            '`' => {
                let run = chars[i..].iter().take_while(|&&b| b == '`').count();
                let end = closing_run(&chars, i + run, run).map_or(i + run, |close| close + run);
                out.extend(&chars[i..end]);
                i = end;
            }
            '<' => {
                out.push_str("&lt;");
                i += 1;
            }
            '(' if i > 0 && chars[i - 1] == ']' => {
                out.push_str("\\(");
                i += 1;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Where the run of exactly `len` backticks that closes a code span starts, searching from `from`.
fn closing_run(chars: &[char], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&b| b == '`').count();
            if run == len {
                return Some(i);
            }
            i += run;
        } else {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
#[path = "doc_text_tests.rs"]
mod tests;
