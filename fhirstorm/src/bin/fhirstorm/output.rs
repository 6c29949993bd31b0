//! What the commands write: resources on standard output (indented JSON, or NDJSON), progress
//! and notes on standard error (progress only where standard error is a terminal).
//!
//! Text from a server (or any file) reaches the terminal only through [`clean`] (notes, errors,
//! progress) or as JSON with every control character escaped ([`Output::write`]): a server
//! cannot move the cursor, rewrite what was printed, retitle the window or hide text.

use std::borrow::Cow;
use std::io::Write;
use std::time::Duration;

use fhirstorm::json::{self, ToJson};
use indicatif::{ProgressBar, ProgressStyle};

/// How resources are written.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Indented JSON, each resource after the other.
    Pretty,
    /// One resource per line (NDJSON, as Bulk Data writes).
    Ndjson,
}

/// Standard output, buffered, in the chosen format.
pub struct Output {
    format: Format,
    out: std::io::BufWriter<std::io::Stdout>,
}

impl Output {
    pub fn new(format: Format) -> Output {
        Output { format, out: std::io::BufWriter::new(std::io::stdout()) }
    }

    /// Writes one resource (or any JSON).
    pub fn write(&mut self, value: &(impl ToJson + ?Sized)) -> std::io::Result<()> {
        let bytes = match self.format {
            Format::Pretty => json::to_vec_pretty(value),
            Format::Ndjson => json::to_vec(value),
        };
        self.out.write_all(&escape_json(bytes))?;
        self.out.write_all(b"\n")
    }

    /// Writes a line of text ([`clean`]ed).
    pub fn line(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "{}", clean(text))
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Whether a terminal may act on `c` rather than show it, or show it as nothing: C0 and C1
/// controls, DEL, the bidirectional marks, overrides and isolates (which reorder what is
/// shown), zero-width characters and the tag characters.
fn is_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` with what a terminal would act on written out as `\u{1b}` (tabs kept; line breaks
/// too, so that a server cannot print a line of its own that looks like the tool's): for every
/// note, error and progress message that may carry a server's text.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| is_control(c) && c != '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '\t' => out.push(c),
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON with the control characters its writer leaves raw inside strings (DEL, the C1 controls,
/// the bidirectional ones) as `\uXXXX`: the same JSON value, harmless on a terminal.
fn escape_json(bytes: Vec<u8>) -> Vec<u8> {
    let text = match String::from_utf8(bytes) {
        Ok(text) if text.chars().any(is_control_in_json) => text,
        Ok(text) => return text.into_bytes(),
        Err(e) => return e.into_bytes(),
    };
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_control_in_json(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    out.into_bytes()
}

/// A control character the JSON writer does not escape (it escapes those below U+0020; line
/// breaks and indentation outside strings are its own).
fn is_control_in_json(c: char) -> bool {
    is_control(c) && c >= ' '
}

/// A spinner with a message, on standard error when it is a terminal.
pub fn spinner(message: String) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// A bar over `total` items.
pub fn bar(total: u64, what: &str) -> ProgressBar {
    let template = format!("{{bar:40}} {{pos}}/{{len}} {what} {{msg}}");
    let style = ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar());
    ProgressBar::new(total).with_style(style)
}

/// The candidate closest to `given`, when it is close enough to be a typo.
pub fn did_you_mean<'a>(given: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&given.to_ascii_lowercase(), &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::{clean, did_you_mean, escape_json};

    #[test]
    fn server_text_cannot_drive_the_terminal() {
        assert_eq!(clean("plain\tline"), "plain\tline");
        assert_eq!(clean("gone\nerror: fake"), "gone\\u{a}error: fake");
        assert_eq!(clean("a\u{200b}b\u{feff}\u{e0041}\u{61c}"), "a\\u{200b}b\\u{feff}\\u{e0041}\\u{61c}");
        assert_eq!(clean("a\u{1b}[2J\u{1b}]0;title\u{7}b"), "a\\u{1b}[2J\\u{1b}]0;title\\u{7}b");
        assert_eq!(clean("\u{9b}31m\u{7f}\r"), "\\u{9b}31m\\u{7f}\\u{d}");
        assert_eq!(clean("abc\u{202e}def\u{2066}"), "abc\\u{202e}def\\u{2066}");
        let json = br#"{"a":"x\u001b[31m"}"#.to_vec();
        assert_eq!(escape_json(json.clone()), json);
        let raw = "{\"a\":\"\u{9b}31m\u{7f}\u{202e}\"}".as_bytes().to_vec();
        assert_eq!(escape_json(raw), br#"{"a":"\u009b31m\u007f\u202e"}"#.to_vec());
    }

    #[test]
    fn suggests_the_closest_name_only_when_close() {
        let names = ["code", "category", "patient", "subject", "date"];
        assert_eq!(did_you_mean("cod", names), Some("code"));
        assert_eq!(did_you_mean("pateint", names), Some("patient"));
        assert_eq!(did_you_mean("Subjct", names), Some("subject"));
        assert_eq!(did_you_mean("xyz", names), None);
    }
}
