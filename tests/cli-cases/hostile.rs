//! The command-line tool against a hostile server (the hand-written fake of `tests/support/`,
//! for what no real server sends on demand): a manifest naming files outside `--out`, files and
//! links already there, a manifest that links to itself, and text meant for the terminal.

use std::path::Path;

use crate::fake::{self, Reply};
use crate::support::Runner;
use crate::{code, ensure, stderr, stdout, Tool};

/// The replies of an export up to its manifest (whose `files` are `(type, url)` and whose
/// `next` link, if any, is given), then `rest`.
fn export(base: &str, files: &[(&str, &str)], next: Option<&str>, rest: Vec<Reply>) -> Vec<Reply> {
    let output: Vec<String> = files.iter().map(|(t, url)| format!(r#"{{"type":"{t}","url":"{base}{url}"}}"#)).collect();
    let link = next.map(|n| format!(r#","link":[{{"relation":"next","url":"{base}{n}"}}]"#)).unwrap_or_default();
    let manifest = format!(
        r#"{{"transactionTime":"2026-12-07T10:00:00Z","request":"x","requiresAccessToken":false,"output":[{}],"error":[{{"type":"OperationOutcome","url":"{base}/files/errors"}}]{link}}}"#,
        output.join(",")
    );
    let kickoff = Reply::json(202, "").header("content-location", &format!("{base}/status/1"));
    [vec![fake::export_metadata(), kickoff, Reply::json(200, &manifest)], rest].concat()
}

fn ndjson(body: &str) -> Reply {
    Reply::new(200, "application/fhir+ndjson", body)
}

const PATIENT: &str = "{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n";
const OUTCOME: &str =
    "{\"resourceType\":\"OperationOutcome\",\"issue\":[{\"severity\":\"error\",\"code\":\"processing\"}]}\n";

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

pub fn server(t: &mut Runner, tool: &Tool) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let dir = tool.home.join("hostile");
    // The tool's export against `server` into `out`, with `flags`.
    let export_to = |server: &fake::Fake, out: &Path, flags: &[&str]| {
        let out = out.to_string_lossy().to_string();
        let args = ["--server", &server.base, "--fhir-version", "r4", "export", "--out", &out];
        tool.run(&[&args[..], flags].concat())
    };
    let run_export =
        |replies: &dyn Fn(&str) -> Vec<Reply>, out: &Path| export_to(&rt.block_on(fake::start_with(replies)), out, &[]);

    t.case_blocking("export: a manifest type with ../ or an absolute path writes nothing, says why", || {
        let out = dir.join("out-types");
        for hostile in ["../escaped", "../../../../tmp/fhirstorm-escaped", "/tmp/fhirstorm-absolute", "Patient/../../x"]
        {
            let o = run_export(&|base| export(base, &[(hostile, "/files/1")], None, vec![ndjson(PATIENT)]), &out);
            let err = stderr(&o);
            ensure!(
                code(&o) == 1 && err.contains("not a FHIR R4 resource type"),
                "{hostile}: exit {}: {err}",
                code(&o)
            );
            ensure!(files_in(&out).is_empty(), "{hostile}: written in --out: {:?}", files_in(&out));
            ensure!(files_in(&dir).iter().all(|f| f == "out-types"), "{hostile}: written beside: {:?}", files_in(&dir));
        }
        for outside in ["/tmp/fhirstorm-escaped.1.ndjson", "/tmp/fhirstorm-absolute.1.ndjson"] {
            ensure!(!Path::new(outside).exists(), "{outside} written");
        }
        Ok(())
    });

    t.case_blocking(
        "export: files and links already in --out are never written through; the next number is taken",
        || {
            let out = dir.join("out-existing");
            std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
            std::fs::write(out.join("Patient.1.ndjson"), "kept\n").map_err(|e| e.to_string())?;
            #[cfg(unix)]
            std::os::unix::fs::symlink(dir.join("link-target"), out.join("Patient.2.ndjson"))
                .map_err(|e| e.to_string())?;
            let o = run_export(
                &|base| export(base, &[("Patient", "/files/1")], None, vec![ndjson(PATIENT), ndjson(OUTCOME)]),
                &out,
            );
            ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
            let kept = std::fs::read_to_string(out.join("Patient.1.ndjson")).map_err(|e| e.to_string())?;
            ensure!(kept == "kept\n", "overwritten: {kept}");
            ensure!(!dir.join("link-target").exists(), "written through the link");
            let written = std::fs::read_to_string(out.join("Patient.3.ndjson")).map_err(|e| e.to_string())?;
            ensure!(written == PATIENT, "{written}");
            ensure!(out.join("OperationOutcome.1.ndjson").exists(), "{:?}", files_in(&out));
            ensure!(stdout(&o).lines().count() == 2, "{}", stdout(&o));
            Ok(())
        },
    );

    t.case_blocking("export: a manifest whose next link leads back to itself ends with an error", || {
        let out = dir.join("out-cycle");
        let o = run_export(
            &|base| export(base, &[("Patient", "/files/1")], Some("/status/1"), vec![ndjson(PATIENT), ndjson(OUTCOME)]),
            &out,
        );
        ensure!(
            code(&o) == 1 && stderr(&o).contains("leads back to a page already read"),
            "exit {}: {}",
            code(&o),
            stderr(&o)
        );
        ensure!(files_in(&out) == ["OperationOutcome.1.ndjson", "Patient.1.ndjson"], "{:?}", files_in(&out));
        Ok(())
    });

    t.case_blocking("export: a file listed twice is fetched once; --max-files ends the export", || {
        let out = dir.join("out-files");
        let server = rt.block_on(fake::start_with(|base| {
            export(
                base,
                &[("Patient", "/files/1"), ("Patient", "/files/1"), ("Patient", "/files/2")],
                None,
                vec![ndjson(PATIENT)],
            )
        }));
        let o = export_to(&server, &out, &["--max-files", "2"]);
        ensure!(code(&o) == 1 && stderr(&o).contains("more than --max-files (2)"), "exit {}: {}", code(&o), stderr(&o));
        ensure!(files_in(&out) == ["Patient.1.ndjson", "Patient.2.ndjson"], "{:?}", files_in(&out));
        let fetched = server
            .seen
            .lock()
            .map_err(|e| e.to_string())?
            .iter()
            .filter(|s| s.path.starts_with("/fhir/files/1"))
            .count();
        ensure!(fetched == 1, "/files/1 fetched {fetched} times");
        Ok(())
    });

    t.case_blocking("export: --max-total-size and --max-file-size end the export with a clear error", || {
        let out = dir.join("out-limits");
        let big = PATIENT.repeat(100);
        let server =
            rt.block_on(fake::start_with(|base| export(base, &[("Patient", "/files/1")], None, vec![ndjson(&big)])));
        let o = export_to(&server, &out, &["--max-total-size", "1K"]);
        ensure!(code(&o) == 1 && stderr(&o).contains("--max-total-size"), "exit {}: {}", code(&o), stderr(&o));
        let server =
            rt.block_on(fake::start_with(|base| export(base, &[("Patient", "/files/1")], None, vec![ndjson(&big)])));
        let o = export_to(&server, &out, &["--max-file-size", "2K"]);
        ensure!(
            code(&o) == 1 && stderr(&o).contains("larger than the maximum of 2048 bytes"),
            "exit {}: {}",
            code(&o),
            stderr(&o)
        );
        Ok(())
    });

    t.case_blocking("server text with terminal control sequences is printed escaped", || {
        let outcome = r#"{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found","diagnostics":"gone\u001b[2J\u001b]0;owned\u0007\u009b31m\u202ereversed"}]}"#;
        let patient = r#"{"resourceType":"Patient","id":"p1","name":[{"family":"A\u001b[31m\u009b1m\u007f\u202e"}]}"#;
        let server = rt.block_on(fake::start(vec![fake::export_metadata(), Reply::json(404, outcome)]));
        let o = tool.run(&["--server", &server.base, "--fhir-version", "r4", "get", "Patient/x"]);
        let err = stderr(&o);
        ensure!(code(&o) == 1 && err.contains("gone\\u{1b}[2J\\u{1b}]0;owned\\u{7}\\u{9b}31m\\u{202e}reversed"), "{err:?}");
        ensure!(!err.contains(['\u{1b}', '\u{7}', '\u{9b}', '\u{202e}']), "raw control characters: {err:?}");
        let server = rt.block_on(fake::start(vec![fake::export_metadata(), Reply::json(200, patient)]));
        let o = tool.run(&["--server", &server.base, "--fhir-version", "r4", "get", "Patient/p1", "-o", "ndjson"]);
        let out = stdout(&o);
        ensure!(code(&o) == 0 && !out.contains(['\u{1b}', '\u{9b}', '\u{7f}', '\u{202e}']), "raw control characters: {out:?}");
        let back: serde_json::Value = serde_json::from_str(&out).map_err(|e| e.to_string())?;
        ensure!(back["name"][0]["family"] == "A\u{1b}[31m\u{9b}1m\u{7f}\u{202e}", "not the same value: {back}");
        Ok(())
    });
}
