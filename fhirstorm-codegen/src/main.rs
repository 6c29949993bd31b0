//! The `fhirstorm-codegen` command line.
//!
//! ```text
//! fhirstorm-codegen --definitions DIR --out FILE [--marker NAME] [--runtime PATH] [--no-client]
//! fhirstorm-codegen trim --from PATH... [--xsd DIR] --out FILE
//! fhirstorm-codegen profiles --package PKG --out FILE [--runtime PATH] [--base PATH]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage:
  fhirstorm-codegen --definitions DIR --out FILE [--marker NAME] [--runtime PATH] [--no-client]
      Generate Rust models from a folder of FHIR definitions (JSON resources or Bundles).
      --marker: the version marker type (default from the FHIR version: R4, R4B, ...).
      --runtime: where the code finds fhirstorm (default `::fhirstorm`).
      --no-client: leave out what fhirstorm's REST client needs of the version (its
      ClientVersion impl and Reference::resolve; compiled only with fhirstorm's `client`).
  fhirstorm-codegen trim --from PATH [--from PATH ...] [--xsd DIR] --out FILE
      Read an official package (a folder, JSON files or Bundles) and write the compact,
      trimmed Bundle of what generation uses (types, resources, search parameters and the
      value sets of required bindings). --xsd: a folder of the official DSTU2 schemas, from
      which the DSTU2 datatypes, missing resources and code lists are derived.
  fhirstorm-codegen profiles --package PKG --out FILE [--runtime PATH] [--base PATH]
      Generate typed Rust from an implementation guide's package (the npm-format .tgz as
      published, or its unpacked folder): a type per extension definition, read and written
      through fhirstorm::extension::Extensions.
      --base: the module of the base version's models (default from the package's
      fhirVersions: ::fhirstorm::r4 for 4.0.1).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fhirstorm-codegen: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("profiles") {
        return profiles(&args[1..]);
    }
    let (trim, rest) = match args.first().map(String::as_str) {
        Some("trim") => (true, &args[1..]),
        _ => (false, args),
    };
    let mut from = Vec::new();
    let mut defs = None;
    let mut out = None;
    let mut marker = None;
    let mut xsd = None;
    let mut runtime = None;
    let mut client = true;
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--from" => from.push(PathBuf::from(value()?)),
            "--definitions" => defs = Some(value()?),
            "--out" => out = Some(value()?),
            "--marker" => marker = Some(value()?),
            "--xsd" => xsd = Some(PathBuf::from(value()?)),
            "--runtime" => runtime = Some(value()?),
            "--no-client" => client = false,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let out = out.ok_or_else(|| format!("--out is required\n{USAGE}"))?;
    if trim {
        if from.is_empty() {
            return Err(format!("trim needs --from\n{USAGE}"));
        }
        let bundle = fhirstorm_codegen::trim_definitions(&from, xsd.as_deref()).map_err(|e| e.to_string())?;
        std::fs::write(&out, bundle).map_err(|e| format!("writing {out}: {e}"))?;
        return Ok(());
    }
    let defs = defs.ok_or_else(|| format!("--definitions is required\n{USAGE}"))?;
    let mut config = fhirstorm_codegen::Config::new();
    config.definitions(defs).out_file(out).client(client);
    if let Some(m) = marker {
        config.marker(m);
    }
    if let Some(r) = runtime {
        config.runtime_path(r);
    }
    config.generate().map_err(|e| e.to_string())
}

fn profiles(args: &[String]) -> Result<(), String> {
    let mut config = fhirstorm_codegen::Profiles::new();
    let (mut package, mut out) = (false, false);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{a} needs a value\n{USAGE}"));
        match a.as_str() {
            "--package" => {
                config.package(value()?);
                package = true;
            }
            "--out" => {
                config.out_file(value()?);
                out = true;
            }
            "--runtime" => {
                config.runtime_path(value()?);
            }
            "--base" => {
                config.base_path(value()?);
            }
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if !package || !out {
        return Err(format!("profiles needs --package and --out\n{USAGE}"));
    }
    config.generate().map_err(|e| e.to_string())
}
