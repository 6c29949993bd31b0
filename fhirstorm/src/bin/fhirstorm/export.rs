//! `fhirstorm export`: a Bulk Data export into NDJSON files under `--out`, within limits.
//!
//! The server names the files' types and the manifest pages; none of its text becomes a path.
//! A file is named after one of the version's resource types (`Observation.1.ndjson`), created
//! new (an existing file or link is never written through: the next free number is taken), and
//! always directly in `--out`, readable by its owner only. The time, each file, the number of
//! files and the bytes in all are bounded.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use fhirstorm::client::bulk::{OutputFile, PollPolicy};
use fhirstorm::client::{ClientVersion, Service};
use fhirstorm::json;

use crate::commands::unknown_type;
use crate::output::{self, clean};
use crate::Failure;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Export the members of this Group and their data (default: the whole system).
    #[arg(long, value_name = "ID", conflicts_with = "patients")]
    group: Option<String>,
    /// Export every patient and their data.
    #[arg(long)]
    patients: bool,
    /// Only resources of this type (repeat for more); a file of another type is refused.
    #[arg(long = "type", value_name = "TYPE")]
    types: Vec<String>,
    /// Only resources changed after this instant (`2024-01-01T00:00:00Z`).
    #[arg(long, value_name = "INSTANT")]
    since: Option<String>,
    /// The directory the NDJSON files are written to.
    #[arg(long, default_value = ".", value_name = "DIR")]
    out: PathBuf,
    /// The largest file to download (bytes, or with K, M, G or T: binary units).
    #[arg(long, default_value = "16G", value_name = "SIZE", value_parser = parse_size)]
    max_file_size: u64,
    /// The most to write in all (bytes, or with K, M, G or T).
    #[arg(long, default_value = "256G", value_name = "SIZE", value_parser = parse_size)]
    max_total_size: u64,
    /// The most files to write.
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    max_files: u64,
    /// How long the whole export may take, waiting and downloading (seconds, or with s, m, h
    /// or d).
    #[arg(long, default_value = "24h", value_name = "DURATION", value_parser = parse_duration)]
    max_wait: Duration,
}

/// How many numbers are tried for a file's name before giving up (`Patient.1.ndjson`, ...).
const MAX_NAME_TRIES: u64 = 10_000;

pub async fn export<V: ClientVersion>(service: &Service<V>, args: &ExportArgs) -> Result<(), Failure> {
    tokio::time::timeout(args.max_wait, run(service, args)).await.unwrap_or_else(|_| {
        Err(Failure::new(format!(
            "the export did not end within --max-wait ({} s); the files written so far are kept",
            args.max_wait.as_secs()
        )))
    })
}

async fn run<V: ClientVersion>(service: &Service<V>, args: &ExportArgs) -> Result<(), Failure> {
    let mut request = match (&args.group, args.patients) {
        (Some(group), _) => service.export_group(group),
        (None, true) => service.export_patients(),
        (None, false) => service.export(),
    };
    for ty in &args.types {
        request = request.resource_type_named(ty).map_err(|e| unknown_type::<V>(e, ty))?;
    }
    if let Some(since) = &args.since {
        let instant: fhirstorm::Instant =
            since.parse().map_err(|e| Failure::usage(format!("--since {since:?}: {e}")))?;
        request = request.since(&instant);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| Failure::new(format!("creating {}: {e}", args.out.display())))?;
    let policy =
        PollPolicy { deadline: Some(args.max_wait), max_file_bytes: Some(args.max_file_size), ..PollPolicy::default() };
    let mut job = request.start().await?.with_policy(policy);
    let waiting = output::spinner("export started".into());
    let mut manifest = job
        .wait_with(|progress| waiting.set_message(format!("exporting: {}", clean(progress.unwrap_or("in progress")))))
        .await?;
    waiting.finish_and_clear();
    let mut files = Files {
        out: &args.out,
        asked: &args.types,
        next: BTreeMap::new(),
        written: BTreeMap::new(),
        total: 0,
        max: args.max_total_size,
        max_files: args.max_files,
    };
    loop {
        let total: u64 = manifest.output.iter().filter_map(|f| f.count).sum();
        let bar = output::bar(total, "resources");
        let pending: Vec<OutputFile> =
            job.pending(&manifest).into_iter().chain(job.pending_errors(&manifest)).cloned().collect();
        for file in pending {
            let is_error = manifest.error.contains(&file);
            let (sink, path, ty) = files.create::<V>(&file, is_error)?;
            bar.set_message(ty);
            let mut lines = job.download_any(&manifest, &file).await?;
            let mut sink = BufWriter::new(sink);
            let write_failed = |e: std::io::Error| Failure::new(format!("writing {}: {e}", path.display()));
            while let Some(resource) = lines.next().await {
                let mut line = json::to_vec(&resource?);
                line.push(b'\n');
                files.count(&path, line.len())?;
                sink.write_all(&line).map_err(write_failed)?;
                bar.inc(1);
            }
            sink.flush().map_err(write_failed)?;
            job.mark_fetched(&file);
            println!("{}", path.display());
        }
        bar.finish_and_clear();
        match job.next_manifest(&manifest).await? {
            Some(next) => manifest = next,
            None => break,
        }
    }
    let summary: Vec<String> = files.written.iter().map(|(ty, n)| format!("{ty} ({n} file(s))")).collect();
    eprintln!("Exported at {}: {}, {} bytes", clean(&manifest.transaction_time), summary.join(", "), files.total);
    Ok(())
}

/// The files written so far: the next number to try and the files written per type, and the
/// bytes written in all.
struct Files<'a> {
    out: &'a Path,
    asked: &'a [String],
    next: BTreeMap<&'static str, u64>,
    written: BTreeMap<&'static str, u64>,
    total: u64,
    max: u64,
    max_files: u64,
}

impl Files<'_> {
    /// A new file for `file` in `out`, with its path and its type's name.
    fn create<V: ClientVersion>(
        &mut self,
        file: &OutputFile,
        is_error: bool,
    ) -> Result<(File, PathBuf, &'static str), Failure> {
        // Refuses a type that is not one of the version's (the error shows it escaped).
        file.file_name::<V>(1)?;
        let ty = V::resource_type(&file.resource_type).unwrap_or_default();
        let expected = if is_error {
            ty == "OperationOutcome"
        } else {
            self.asked.is_empty() || self.asked.iter().any(|a| a == ty)
        };
        if !expected {
            let what = if is_error { "error files hold OperationOutcome" } else { "it was not asked for (--type)" };
            return Err(Failure::new(format!("the manifest names a file of {ty}, but {what}; nothing more written")));
        }
        let count: u64 = self.written.values().sum();
        if count >= self.max_files {
            return Err(Failure::new(format!(
                "the export has more than --max-files ({}) files; the files written so far are kept",
                self.max_files
            )));
        }
        let n = self.next.entry(ty).or_insert(1);
        for _ in 0..MAX_NAME_TRIES {
            let path = self.out.join(file.file_name::<V>(*n)?);
            *n += 1;
            match create_new(&path) {
                Ok(f) => {
                    *self.written.entry(ty).or_default() += 1;
                    return Ok((f, path, ty));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Failure::new(format!("creating {}: {e}", path.display()))),
            }
        }
        Err(Failure::new(format!("{}: {MAX_NAME_TRIES} files of {ty} exist already", self.out.display())))
    }

    /// Counts `bytes` more, within `--max-total-size`.
    fn count(&mut self, path: &Path, bytes: usize) -> Result<(), Failure> {
        self.total = self.total.saturating_add(bytes as u64);
        if self.total > self.max {
            return Err(Failure::new(format!(
                "the export is larger than --max-total-size ({} bytes), in {}; the files written so far are kept",
                self.max,
                path.display()
            )));
        }
        Ok(())
    }
}

/// Creates `path`, readable by its owner only (it holds patient data), failing if anything is
/// there already (a file, or a link, which is not followed).
fn create_new(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `1234`, `64K`, `16G`, ... (binary units).
fn parse_size(text: &str) -> Result<u64, String> {
    let (digits, unit) =
        text.trim().split_at(text.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(text.trim().len()));
    let shift = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{text:?}: give bytes, or a number with K, M, G or T")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{text:?}: give bytes, or a number with K, M, G or T"))?;
    n.checked_mul(1 << shift).ok_or_else(|| format!("{text:?} is too large"))
}

/// `90`, `90s`, `30m`, `24h`, `2d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let seconds = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: give seconds, or a number with s, m, h or d")),
    };
    let n: u64 = digits.parse().map_err(|_| format!("{text:?}: give seconds, or a number with s, m, h or d"))?;
    n.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("1234"), Ok(1234));
        assert_eq!(parse_size("64K"), Ok(64 << 10));
        assert_eq!(parse_size("16G"), Ok(16 << 30));
        assert_eq!(parse_size("2tib"), Ok(2 << 40));
        assert!(parse_size("99999999999T").is_err() && parse_size("1X").is_err() && parse_size("").is_err());
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_duration("1w").is_err() && parse_duration("h").is_err());
    }

    #[test]
    fn a_file_is_created_new_never_through_a_link() {
        let dir = std::env::temp_dir().join(format!("fhirstorm-export-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("Patient.1.ndjson");
        let _ = std::fs::remove_file(&path);
        create_new(&path).unwrap();
        assert_eq!(create_new(&path).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
        #[cfg(unix)]
        {
            let link = dir.join("Patient.2.ndjson");
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(dir.join("elsewhere"), &link).unwrap();
            assert_eq!(create_new(&link).unwrap_err().kind(), std::io::ErrorKind::AlreadyExists);
            assert!(!dir.join("elsewhere").exists());
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
