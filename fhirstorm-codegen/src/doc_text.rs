//! Text from the definitions or a package, made safe to write into doc comments.
//!
//! rustdoc reads doc comments as Markdown and runs their code blocks as doctests, so a
//! description that opens a code block (a fence of backticks or tildes, an indented line) would
//! run its own code in the user's `cargo test`, and one that writes HTML or a link would put it
//! in the user's documentation. Every doc comment the generators write goes through [`lines_within`],
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

/// Whether `c` stays as it is in [`normalise`] (the quick test of most characters).
fn is_plain(c: char) -> bool {
    match c {
        '\n' | ' '..='~' => true,
        '\0'..='\u{9F}' => false,
        _ => !is_line_break(c) && !is_dropped(c),
    }
}

/// `text` with every line break as `\n`, tabs as spaces, and the dropped characters gone.
fn normalise(text: &str) -> std::borrow::Cow<'_, str> {
    // Most text needs nothing: printable characters and `\n`.
    if text.chars().all(is_plain) {
        return text.into();
    }
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
    out.into()
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
    let mut rest: &str = &text;
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
/// code spans; a line longer than `width` characters is broken at spaces (a word longer than
/// `width` stays whole: a soft line break, the doc renders the same). Blank lines (paragraph
/// breaks) are empty strings.
pub(crate) fn lines_within(text: &str, width: usize) -> Vec<String> {
    let text = normalise(text);
    let mut out = Vec::new();
    let mut paragraph = String::new();
    for line in text.split('\n').map(str::trim) {
        if line.is_empty() {
            flush(&mut paragraph, &mut out);
            out.push(String::new());
            continue;
        }
        for piece in wrap(line, width) {
            if !paragraph.is_empty() {
                paragraph.push('\n');
            }
            block_safe(piece, &mut paragraph);
        }
    }
    flush(&mut paragraph, &mut out);
    // A trailing newline of `text` ends the last line; it adds no empty line.
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

/// `line` in pieces of at most `width` characters, broken at spaces, never before a character
/// that would make [`block_safe`] change the piece (so that what renders stays as written):
/// a line [`lines_within`] made safe stays safe broken again.
pub(crate) fn wrap(line: &str, width: usize) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = line;
    while rest.chars().count() > width {
        let breaks = rest.char_indices().filter(|&(i, c)| {
            c == ' ' && rest[i + 1..].starts_with(|n: char| n.is_alphabetic() || matches!(n, '(' | '"' | '\''))
        });
        let mut fits = None;
        let mut first = None;
        for (i, _) in breaks {
            first.get_or_insert(i);
            if rest[..i].chars().count() > width {
                break;
            }
            fits = Some(i);
        }
        let Some(at) = fits.or(first) else { break };
        pieces.push(rest[..at].trim_end());
        rest = rest[at..].trim_start();
    }
    pieces.push(rest);
    pieces
}

/// Writes a paragraph's lines, made inline-safe together (a code span may cross lines).
fn flush(paragraph: &mut String, out: &mut Vec<String>) {
    if paragraph.is_empty() {
        return;
    }
    out.extend(inline_safe(paragraph).split('\n').map(str::to_string));
    paragraph.clear();
}

/// Appends a trimmed, non-empty line so that Markdown reads it as paragraph text: a backslash (or
/// `&lt;`) goes before what would start a fence, a heading, a thematic break, a quote, a list
/// item, a definition, an HTML block or a link reference definition.
fn block_safe(line: &str, out: &mut String) {
    let bytes = line.as_bytes();
    let first = bytes[0];
    let only = |set: &[u8]| bytes.iter().all(|b| set.contains(b));
    let ends_marker = |n: usize| bytes.get(n).is_none_or(|&b| b == b' ');
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let escape_at = match first {
        b'<' => {
            // An HTML block may interrupt a paragraph, even one whose code span crosses the line.
            out.push_str("&lt;");
            out.push_str(&line[1..]);
            return;
        }
        b'`' | b'~' => (line.starts_with("```") || line.starts_with("~~~")).then_some(0),
        // `:` starts a definition where the Markdown has definition lists.
        b'>' | b'[' | b':' => Some(0),
        b'#' => ends_marker(bytes.iter().take_while(|&&b| b == b'#').count()).then_some(0),
        b'=' => only(b"= ").then_some(0),
        b'_' => only(b"_ ").then_some(0),
        b'-' | b'+' | b'*' => (ends_marker(1) || only(&[first, b' '])).then_some(0),
        b'0'..=b'9' if digits <= 9 && matches!(bytes.get(digits), Some(b'.' | b')')) && ends_marker(digits + 1) => {
            Some(digits)
        }
        _ => None,
    };
    match escape_at {
        Some(at) => {
            out.push_str(&line[..at]);
            out.push('\\');
            out.push_str(&line[at..]);
        }
        None => out.push_str(line),
    }
}

/// `text` with, outside its code spans, every `<` written `&lt;` (no HTML, no autolink) and every
/// `](` written `]\(` (no inline link or image). Code spans are found as Markdown finds them: a
/// run of backticks not escaped by a backslash, closed by the next run of the same length.
fn inline_safe(text: &str) -> std::borrow::Cow<'_, str> {
    // Everything significant here is ASCII, so the text is walked as bytes and copied in slices.
    if !text.contains('<') && !text.contains("](") {
        return text.into();
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + 16);
    let mut copied = 0;
    let mut i = 0;
    // Whether the byte before `i` is a `]` that is not escaped.
    let mut after_bracket = false;
    while i < bytes.len() {
        let (replace, next) = match bytes[i] {
            b'\\' if bytes.get(i + 1).is_some_and(u8::is_ascii_punctuation) => (None, i + 2),
            b'`' => {
                let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
                (None, closing_run(bytes, i + run, run).map_or(i + run, |close| close + run))
            }
            b'<' => (Some("&lt;"), i + 1),
            b'(' if after_bracket => (Some("\\("), i + 1),
            _ => (None, i + 1),
        };
        after_bracket = next == i + 1 && bytes[i] == b']';
        if let Some(with) = replace {
            out.push_str(&text[copied..i]);
            out.push_str(with);
            copied = next;
        }
        i = next;
    }
    out.push_str(&text[copied..]);
    out.into()
}

/// Where the run of exactly `len` backticks that closes a code span starts, searching from `from`.
fn closing_run(bytes: &[u8], from: usize, len: usize) -> Option<usize> {
    let mut i = from;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let run = bytes[i..].iter().take_while(|&&b| b == b'`').count();
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
