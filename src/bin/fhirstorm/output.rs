//! What the commands write: resources on standard output (indented JSON, or NDJSON), progress
//! and notes on standard error (progress only where standard error is a terminal).

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
        self.out.write_all(&bytes)?;
        self.out.write_all(b"\n")
    }

    /// Writes a line of text.
    pub fn line(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.out, "{text}")
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
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
    use super::did_you_mean;

    #[test]
    fn suggests_the_closest_name_only_when_close() {
        let names = ["code", "category", "patient", "subject", "date"];
        assert_eq!(did_you_mean("cod", names), Some("code"));
        assert_eq!(did_you_mean("pateint", names), Some("patient"));
        assert_eq!(did_you_mean("Subjct", names), Some("subject"));
        assert_eq!(did_you_mean("xyz", names), None);
    }
}
