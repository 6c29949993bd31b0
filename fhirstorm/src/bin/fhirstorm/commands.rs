//! The commands that talk to a FHIR server (and `validate`, which need not): each reads its
//! arguments, calls the client, and writes resources through [`Output`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use fhirstorm::client::{ClientVersion, Service};
use fhirstorm::json::{self, Value};
use fhirstorm::AnyResourceOf;
use futures_util::StreamExt;

use crate::output::{self, clean, did_you_mean, Output};
use crate::Failure;

/// Parameters every server takes for every type (FHIR's common and result parameters).
const COMMON_PARAMS: &[&str] = &[
    "_id",
    "_lastUpdated",
    "_tag",
    "_profile",
    "_security",
    "_source",
    "_text",
    "_content",
    "_list",
    "_has",
    "_type",
    "_query",
    "_filter",
    "_count",
    "_sort",
    "_include",
    "_revinclude",
    "_summary",
    "_elements",
    "_total",
    "_contained",
    "_containedType",
    "_format",
    "_pretty",
];

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// The resource type (`Observation`).
    resource_type: String,
    /// Search parameters, `name=value` (modifiers and chains as FHIR writes them:
    /// `name:exact=Ann`, `subject.name=Ann`).
    params: Vec<String>,
    /// Every page, not just the first.
    #[arg(long)]
    all: bool,
    /// At most this many resources.
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Send parameters the server does not list for the type (its own, undocumented ones).
    #[arg(long)]
    no_check: bool,
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// JSON files of one resource each, or NDJSON files (`.ndjson`) of one per line.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Also ask the server (`[type]/$validate`), which may know profiles and terminology.
    #[arg(long)]
    pub remote: bool,
}

/// `Type/id` or `Type/id/_history/version`, relative or under the service's base.
fn reference<'a, V: ClientVersion>(service: &Service<V>, text: &'a str) -> Result<Vec<&'a str>, Failure> {
    let base = service.connection().base_url().as_str();
    let rel = text.strip_prefix(base).or_else(|| text.strip_prefix(base.trim_end_matches('/'))).unwrap_or(text);
    let parts: Vec<&str> = rel.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        [_, id] if !id.is_empty() => Ok(parts),
        [_, id, "_history", v] if !id.is_empty() && !v.is_empty() => Ok(parts),
        _ => Err(Failure::usage(format!("{text:?} is not a reference: give Type/id or Type/id/_history/version"))),
    }
}

/// The resources of type `name`, with a "did you mean" when the version has no such type.
fn resources<V: ClientVersion>(
    service: &Service<V>,
    name: &str,
) -> Result<fhirstorm::client::AnyResources<V>, Failure> {
    service.r_named(name).map_err(|e| unknown_type::<V>(e, name))
}

/// `e` (the version has no type `name`) as a usage error, with the closest type's name.
pub fn unknown_type<V: ClientVersion>(e: fhirstorm::client::Error, name: &str) -> Failure {
    let message = Failure::from(e).message;
    match did_you_mean(name, V::resource_types()) {
        Some(s) => Failure::usage(format!("{message}; did you mean {s}?")),
        None => Failure::usage(message),
    }
}

pub async fn get<V: ClientVersion>(service: &Service<V>, text: &str, out: &mut Output) -> Result<(), Failure> {
    let parts = reference(service, text)?;
    let r = resources(service, parts[0])?;
    let resource = match parts.as_slice() {
        [_, id, _, version] => r.vread(id, version).await?,
        _ => r.fetch(parts[1]).await?,
    };
    out.write(&resource)?;
    Ok(out.flush()?)
}

pub async fn delete<V: ClientVersion>(service: &Service<V>, text: &str) -> Result<(), Failure> {
    let parts = reference(service, text)?;
    if parts.len() != 2 {
        return Err(Failure::usage("delete takes Type/id, not a version"));
    }
    resources(service, parts[0])?.delete(parts[1]).await?;
    eprintln!("Deleted {}/{}", clean(parts[0]), clean(parts[1]));
    Ok(())
}

/// Checks each parameter's name (before any `:modifier` or `.chain`) against those the
/// server lists for the type; a server that lists none cannot be checked against.
fn check_params(listed: &BTreeMap<String, String>, ty: &str, params: &[(String, String)]) -> Result<(), Failure> {
    if listed.is_empty() {
        eprintln!("note: the server lists no search parameters for {ty}; the names are not checked");
        return Ok(());
    }
    for (name, _) in params {
        let base = name.split([':', '.']).next().unwrap_or(name);
        if COMMON_PARAMS.contains(&base) || listed.contains_key(base) {
            continue;
        }
        let known = listed.keys().map(String::as_str).chain(COMMON_PARAMS.iter().copied());
        // The names are the server's: each shown on the tool's own lines, cleaned.
        let hint = match did_you_mean(base, known) {
            Some(s) => format!("; did you mean {}?", clean(s)),
            None => String::new(),
        };
        let names: Vec<String> = listed.keys().map(|k| clean(k).into_owned()).collect();
        return Err(Failure::usage(format!(
            "{ty} has no search parameter {base:?} at this server{hint}\n  its parameters: {}\n  (--no-check sends it anyway)",
            names.join(", ")
        )));
    }
    Ok(())
}

pub async fn search<V: ClientVersion>(
    service: &Service<V>,
    args: &SearchArgs,
    out: &mut Output,
) -> Result<(), Failure> {
    let r = resources(service, &args.resource_type)?;
    let ty = r.resource_type();
    let mut params = Vec::new();
    for p in &args.params {
        let (name, value) = p.split_once('=').ok_or_else(|| Failure::usage(format!("{p:?} is not name=value")))?;
        params.push((name.to_string(), value.to_string()));
    }
    if !args.no_check {
        let listed = service.capabilities().resources.get(ty).map(|c| c.search_params.clone()).unwrap_or_default();
        check_params(&listed, ty, &params)?;
    }
    let limit = args.limit.unwrap_or(usize::MAX);
    let mut written = 0;
    if !args.all {
        let page = r.search(params).await?;
        for resource in page.matches().iter().take(limit) {
            out.write(resource)?;
            written += 1;
        }
        out.flush()?;
        if page.has_next() && written < limit {
            let total = page.total.map(|t| format!(" of {t}")).unwrap_or_default();
            eprintln!("{written}{} {ty} shown: the first page (--all for every page)", clean(&total));
        }
        return Ok(());
    }
    let progress = output::spinner(format!("searching {ty}"));
    let mut pages = std::pin::pin!(r.search_pages(params));
    let mut count = 0;
    'pages: while let Some(page) = pages.next().await {
        let page = page?;
        count += 1;
        for resource in page.matches() {
            if written == limit {
                break 'pages;
            }
            out.write(resource)?;
            written += 1;
        }
        let total = page.total.map(|t| format!(" of {t}")).unwrap_or_default();
        progress.set_message(format!("{ty}: {written}{total}, {count} page(s)"));
    }
    progress.finish_and_clear();
    Ok(out.flush()?)
}

fn read_input(file: &Path) -> Result<Vec<u8>, Failure> {
    let read = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).map(|_| bytes)
    } else {
        std::fs::read(file)
    };
    read.map_err(|e| Failure::new(format!("reading {}: {e}", file.display())))
}

/// A resource from JSON, read strictly: an error names the file and the JSON path.
fn parse<V: ClientVersion>(bytes: &[u8], name: &str) -> Result<V::AnyResource, Failure> {
    json::from_slice::<V::AnyResource>(bytes)
        .map_err(|e| Failure::new(format!("{name}: not a FHIR {} resource: {e}", V::NAME)))
}

pub async fn create<V: ClientVersion>(
    service: &Service<V>,
    file: &Path,
    update: bool,
    out: &mut Output,
) -> Result<(), Failure> {
    let resource = parse::<V>(&read_input(file)?, &file.display().to_string())?;
    let r = resources(service, resource.resource_type())?;
    let stored = if update { r.update(&resource).await? } else { r.create(&resource).await? };
    eprintln!(
        "{} {}/{}",
        if update { "Updated" } else { "Created" },
        r.resource_type(),
        clean(stored.id().unwrap_or("?"))
    );
    out.write(&stored)?;
    Ok(out.flush()?)
}

/// The lines of an OperationOutcome: `severity: [where] diagnostics`.
fn outcome_lines(outcome: &Value) -> Vec<(String, String)> {
    let issues = outcome.get("issue").and_then(Value::as_array).unwrap_or(&[]);
    issues
        .iter()
        .map(|i| {
            let s = |k: &str| i.get(k).and_then(Value::as_str).unwrap_or("").to_string();
            let at = ["expression", "location"]
                .iter()
                .find_map(|k| i.get(k).and_then(Value::as_array).and_then(|a| a.first()).and_then(Value::as_str))
                .map(|w| format!("{w}: "))
                .unwrap_or_default();
            let text = i.get("details").and_then(|d| d.get("text")).and_then(Value::as_str).map(String::from);
            (s("severity"), format!("{at}{}", text.unwrap_or_else(|| s("diagnostics"))))
        })
        .collect()
}

pub async fn validate<V: ClientVersion>(
    service: Option<&Service<V>>,
    args: &ValidateArgs,
    out: &mut Output,
) -> Result<(), Failure> {
    let (mut checked, mut invalid) = (0usize, 0usize);
    for file in &args.files {
        let bytes = read_input(file)?;
        let name = file.display().to_string();
        let ndjson = file.extension().is_some_and(|e| e == "ndjson");
        let items: Vec<(String, &[u8])> = if ndjson {
            bytes
                .split(|b| *b == b'\n')
                .enumerate()
                .filter(|(_, l)| !l.iter().all(u8::is_ascii_whitespace))
                .map(|(n, l)| (format!("{name}:{}", n + 1), l))
                .collect()
        } else {
            vec![(name, &bytes[..])]
        };
        for (at, item) in items {
            checked += 1;
            let mut problems: Vec<String> = Vec::new();
            match parse::<V>(item, &at) {
                Err(f) => problems.push(f.message),
                Ok(resource) => {
                    let value = json::to_value(&resource);
                    problems.extend(V::definitions().validate(&value).iter().map(|i| format!("{at}: {i}")));
                    if let Some(service) = service {
                        problems.extend(remote(service, &resource, &at).await?);
                    }
                }
            }
            if !problems.is_empty() {
                invalid += 1;
            }
            for p in problems {
                out.line(&p)?;
            }
        }
    }
    out.flush()?;
    match invalid {
        0 => {
            eprintln!("{checked} resource(s) valid");
            Ok(())
        }
        n => Err(Failure::new(format!("{n} of {checked} resource(s) invalid"))),
    }
}

/// The server's `$validate` of `resource`: its errors and warnings.
async fn remote<V: ClientVersion>(
    service: &Service<V>,
    resource: &V::AnyResource,
    at: &str,
) -> Result<Vec<String>, Failure> {
    let r = resources(service, resource.resource_type())?;
    let outcome = match r.operation(None, "validate", Some(resource)).await {
        Ok(outcome) => json::to_value(&outcome),
        // A server may answer an invalid resource with an error status and the outcome.
        Err(e) => match e.outcome() {
            Some(o) => return Ok(vec![format!("{at}: the server: {}", o)]),
            None => return Err(e.into()),
        },
    };
    Ok(outcome_lines(&outcome)
        .into_iter()
        .filter(|(severity, _)| matches!(severity.as_str(), "fatal" | "error" | "warning"))
        .map(|(severity, text)| format!("{at}: the server: {severity}: {text}"))
        .collect())
}
