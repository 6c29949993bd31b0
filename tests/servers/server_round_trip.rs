//! No data loss through a real server: every official R4 example of a type the server
//! (sekmet-fhir, on 127.0.0.1) accepts is stored there; then, as an app would, fhirstorm reads
//! it, changes one unrelated element (adds a `meta.tag`) and writes it back. What the server
//! sends afterwards must equal what it sent before, but for that tag and the version metadata —
//! every element, extension, unknown member and decimal digit the server sent survives the
//! typed read-change-write. The typed read is also checked alone: written back untouched, it is
//! exactly the JSON the server sent.

use crate::support;

use std::path::{Path, PathBuf};

use fhirstorm::client::Connection;
use fhirstorm::json::{self, Value};
use fhirstorm::r4::{self, AnyResource};
use fhirstorm::R4;
use support::{FhirServer, Runner};

fn examples() -> Option<PathBuf> {
    let root = std::env::var_os("FHIR_EXAMPLES_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("../shared/fhir-examples"));
    let dir = root.join("r4");
    dir.is_dir().then_some(dir)
}

/// The JSON without the members the server manages on every write.
fn without_version_meta(mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        if let Some(Value::Object(mut meta)) = m.remove("meta") {
            meta.remove("versionId");
            meta.remove("lastUpdated");
            meta.remove("tag");
            if !meta.is_empty() {
                m.push("meta", Value::Object(meta));
            }
        }
    }
    v
}

pub async fn run(t: &mut Runner) {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let Some(dir) = examples() else {
        println!("no R4 examples (set FHIR_EXAMPLES_DIR): not checked");
        if ci {
            t.case_blocking("R4 examples present under CI=true", || Err("no R4 examples".into()));
        }
        return;
    };
    let server = FhirServer::start();
    t.case("R4 examples: stored, read, changed, written back through a real server, nothing lost", || async {
        let conn = Connection::<R4>::builder(&server.base).allow_insecure_loopback(true).build().map_err(|e| e.to_string())?;
        let service = conn.service().await.map_err(|e| e.to_string())?;
        let accepted: Vec<String> = service.resources().iter().map(|s| s.to_string()).collect();
        let http = reqwest::Client::new();
        let (mut tried, mut stored, mut intact, mut refused) = (0, 0, 0, 0);
        let mut failures = Vec::new();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).map_err(|e| e.to_string())?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for (n, file) in files.iter().enumerate() {
            let Ok(bytes) = std::fs::read(file) else { continue };
            let Ok(mut any) = AnyResource::from_slice(&bytes) else { continue };
            let ty = any.resource_type();
            if !accepted.iter().any(|a| a == ty) {
                continue;
            }
            tried += 1;
            let id = format!("rt{n}");
            any.set_id(Some(id.clone()));
            let url = format!("{}/{ty}/{id}", server.base);
            let put = |body: Vec<u8>| http.put(&url).header("content-type", "application/fhir+json").body(body).send();
            match put(any.to_vec()).await {
                Ok(r) if r.status().is_success() => stored += 1,
                _ => {
                    // The server's validator refused it (or it is a kind it does not store).
                    refused += 1;
                    continue;
                }
            }
            // 1. What the server sends, read by fhirstorm and written back untouched, is exactly it.
            let first = http.get(&url).header("accept", "application/fhir+json").send().await.map_err(|e| e.to_string())?;
            let first = first.bytes().await.map_err(|e| e.to_string())?;
            let sent: Value = json::from_slice(&first).map_err(|e| format!("{}: server JSON: {e}", file.display()))?;
            let mut typed = match AnyResource::from_slice(&first) {
                Ok(r) => r,
                Err(e) => {
                    failures.push(format!("{}: reading the server's copy: {e}", file.display()));
                    continue;
                }
            };
            let untouched: Value = json::from_slice(&typed.to_vec()).expect("our JSON");
            if let Some(d) = sent.first_difference(&untouched) {
                failures.push(format!("{}: read and written back: {d}", file.display()));
                continue;
            }
            // 2. Change one unrelated element, write it back, read it again.
            typed.meta_mut().get_or_insert_with(Default::default).tag.push(r4::Coding {
                system: Some("urn:fhirstorm".into()),
                code: Some("round-trip".into()),
                ..Default::default()
            });
            match put(typed.to_vec()).await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    failures.push(format!("{}: writing back: HTTP {}", file.display(), r.status()));
                    continue;
                }
                Err(e) => return Err(e.to_string()),
            }
            let second = http.get(&url).header("accept", "application/fhir+json").send().await.map_err(|e| e.to_string())?;
            let second: Value = json::from_slice(&second.bytes().await.map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
            let tagged = second
                .get("meta")
                .and_then(|m| m.get("tag"))
                .and_then(|t| t.as_array())
                .is_some_and(|tags| tags.iter().any(|t| t.get("code").and_then(|c| c.as_str()) == Some("round-trip")));
            if !tagged {
                failures.push(format!("{}: the change did not arrive", file.display()));
                continue;
            }
            match without_version_meta(sent).first_difference(&without_version_meta(second)) {
                Some(d) => failures.push(format!("{}: after read-change-write: {d}", file.display())),
                None => intact += 1,
            }
        }
        println!(
            "server round trip r4: {tried} examples of accepted types, {stored} stored ({refused} refused by the server's validator), {intact} intact after read-change-write, {} failed",
            failures.len()
        );
        for f in failures.iter().take(20) {
            println!("  {f}");
        }
        ensure!(failures.is_empty(), "{} examples lost data", failures.len());
        ensure!(stored > 400, "too few examples stored to mean anything: {stored}");
        Ok(())
    })
    .await;
    drop(server);
}
