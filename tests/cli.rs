//! The `fhirstorm` command-line tool against the local sandbox (`sandbox/sandbox.mjs`: sekmet-fhir
//! with SMART tokens enforced, and oidc-provider as its authorization server), started on free
//! ports: each command as a user runs it, judged by its exit code, its output and the session
//! file it leaves.

#[path = "support/fake.rs"]
mod fake;
#[path = "cli-cases/hostile.rs"]
mod hostile;
#[path = "cli-cases/session.rs"]
mod session;
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{free_port, Runner, TempDir};

struct Sandbox {
    child: Child,
    fhir: String,
    smart: String,
    dir: TempDir,
}

impl Sandbox {
    fn start() -> Sandbox {
        let dir = TempDir::new("cli");
        let (fhir_port, auth_port) = (free_port(), free_port());
        let log = std::fs::File::create(dir.0.join("sandbox.log")).expect("a log file");
        let child = Command::new("node")
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .args(["sandbox/sandbox.mjs", "--fhir-port", &fhir_port.to_string(), "--auth-port", &auth_port.to_string()])
            .arg("--dir")
            .arg(dir.0.join("sandbox"))
            .stdout(log.try_clone().expect("the log"))
            .stderr(log)
            .spawn()
            .expect("node runs sandbox/sandbox.mjs (scripts/test installs what it needs)");
        support::track(&child);
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(dir.0.join("sandbox.log")).unwrap_or_default();
            if text.contains("SANDBOX READY") {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(120), "the sandbox did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(200));
        }
        Sandbox {
            child,
            fhir: format!("http://127.0.0.1:{fhir_port}/fhir"),
            smart: format!("http://127.0.0.1:{auth_port}/.well-known/smart-configuration"),
            dir,
        }
    }

    fn key(&self) -> PathBuf {
        self.dir.0.join("sandbox/keys/rs384.pem")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        support::untrack(&self.child);
    }
}

/// The tool, with its session file in `home`, `$BROWSER` a headless "browser" (curl following
/// the redirects, as the sandbox approves at once), and no setting from the caller's
/// environment.
#[derive(Debug)]
pub struct Tool<'a> {
    pub home: &'a Path,
}

impl Tool<'_> {
    pub fn session(&self) -> PathBuf {
        self.home.join("session.json")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.run_with_input(args, None)
    }

    fn run_with_input(&self, args: &[&str], input: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fhirstorm"));
        cmd.args(args)
            .env_remove("FHIRSTORM_SERVER")
            .env_remove("FHIRSTORM_FHIR_VERSION")
            .env("FHIRSTORM_SESSION_FILE", self.session())
            .env("BROWSER", self.home.join("headless-browser"))
            .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the fhirstorm binary runs");
        if let Some(text) = input {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes()).expect("input written");
        }
        child.wait_with_output().expect("the fhirstorm binary ends")
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Succeeded, or says why not.
fn ok(o: Output) -> Result<Output, String> {
    match code(&o) {
        0 => Ok(o),
        c => Err(format!("exit {c}: {}", stderr(&o))),
    }
}

fn lines_json(text: &str) -> Result<Vec<Value>, String> {
    text.lines().map(|l| serde_json::from_str(l).map_err(|e| format!("{e}: {l}"))).collect()
}

pub fn saved(tool: &Tool) -> Result<Value, String> {
    let text = std::fs::read_to_string(tool.session()).map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

fn main() {
    let sandbox = Sandbox::start();
    let home = TempDir::new("cli-home");
    let browser = home.0.join("headless-browser");
    let jar = home.0.join("cookies");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nexec curl -fsSL -c '{0}' -b '{0}' -o /dev/null \"$1\"\n", jar.display()),
    )
    .expect("the headless browser script");
    #[cfg(unix)]
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
    let tool = Tool { home: &home.0 };
    let mut t = Runner::new();
    signed_out(&mut t, &tool, &sandbox);
    backend(&mut t, &tool, &sandbox);
    standalone(&mut t, &tool, &sandbox);
    local(&mut t, &tool);
    other_versions(&mut t, &tool);
    hostile::server(&mut t, &tool);
    drop(sandbox);
    t.finish()
}

fn signed_out(t: &mut Runner, tool: &Tool, sb: &Sandbox) {
    t.case_blocking("no server and no sign-in: a usage error naming what to give", || {
        let o = tool.run(&["get", "Patient/sandbox-1"]);
        ensure!(code(&o) == 2 && stderr(&o).contains("--server URL"), "exit {}: {}", code(&o), stderr(&o));
        Ok(())
    });
    t.case_blocking("without a token the server refuses, and the error says so", || {
        let o = tool.run(&["--server", &sb.fhir, "get", "Patient/sandbox-1"]);
        ensure!(code(&o) == 1 && stderr(&o).contains("401"), "exit {}: {}", code(&o), stderr(&o));
        Ok(())
    });
}

fn backend(t: &mut Runner, tool: &Tool, sb: &Sandbox) {
    let key = sb.key();
    t.case_blocking("login backend: the session file is the owner's only, no token printed", || {
        let o = ok(tool.run(&[
            "--server",
            &sb.fhir,
            "login",
            "backend",
            "--client-id",
            "demo-backend",
            "--key",
            key.to_str().unwrap_or_default(),
        ]))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(tool.session()).map_err(|e| e.to_string())?.permissions().mode();
            ensure!(mode & 0o777 == 0o600, "mode {:o}", mode & 0o777);
        }
        let s = saved(tool)?;
        let token = s["token"]["access_token"].as_str().ok_or("no access token saved")?;
        ensure!(token.len() > 20, "token {token:?}");
        ensure!(!stdout(&o).contains(token) && !stderr(&o).contains(token), "the token was printed");
        ensure!(s["key"]["path"].as_str() == key.to_str() && !stderr(&o).contains("PRIVATE KEY"), "{s}");
        Ok(())
    });
    t.case_blocking("get: pretty JSON by default, one line with -o ndjson", || {
        let pretty = stdout(&ok(tool.run(&["get", "Patient/sandbox-1"]))?);
        let p: Value = serde_json::from_str(&pretty).map_err(|e| e.to_string())?;
        ensure!(p["resourceType"] == "Patient" && p["id"] == "sandbox-1", "{p}");
        ensure!(pretty.contains("\n  \"id\": \"sandbox-1\",\n"), "not indented: {pretty}");
        let line = stdout(&ok(tool.run(&["get", "Patient/sandbox-1", "-o", "ndjson"]))?);
        ensure!(line.lines().count() == 1 && lines_json(&line)? == vec![p], "{line}");
        Ok(())
    });
    t.case_blocking("search: the first page, every page with --all, --limit", || {
        let first = ok(tool.run(&["search", "Patient", "_count=7", "-o", "ndjson"]))?;
        ensure!(lines_json(&stdout(&first))?.len() == 7, "{}", stdout(&first));
        ensure!(stderr(&first).contains("7 of 63 Patient shown"), "{}", stderr(&first));
        let all = lines_json(&stdout(&ok(tool.run(&["search", "Patient", "_count=7", "--all", "-o", "ndjson"]))?))?;
        let mut ids: Vec<&str> = all.iter().filter_map(|p| p["id"].as_str()).collect();
        ids.sort();
        ids.dedup();
        ensure!(all.len() == 63 && ids.len() == 63, "{} resources, {} ids", all.len(), ids.len());
        let some = lines_json(&stdout(&ok(
            tool.run(&["search", "Patient", "_count=7", "--all", "--limit", "10", "-o", "ndjson"])
        )?))?;
        ensure!(some.len() == 10, "{}", some.len());
        let found = lines_json(&stdout(&ok(tool.run(&["search", "Patient", "family=Rivera", "-o", "ndjson"]))?))?;
        ensure!(found.iter().any(|p| p["id"] == "sandbox-1"), "{found:?}");
        Ok(())
    });
    t.case_blocking("search: a misspelt parameter or type is refused before sending, with a suggestion", || {
        let o = tool.run(&["search", "Observation", "cod=8867-4"]);
        ensure!(code(&o) == 2 && stderr(&o).contains("did you mean code?"), "exit {}: {}", code(&o), stderr(&o));
        ensure!(stdout(&o).is_empty(), "{}", stdout(&o));
        let o = tool.run(&["search", "Observaton", "code=8867-4"]);
        ensure!(code(&o) == 2 && stderr(&o).contains("did you mean Observation?"), "{}", stderr(&o));
        // Modifiers and chains are checked by their parameter's name; --no-check sends any.
        ok(tool.run(&["search", "Observation", "code:text=heart", "subject.name=Rivera"]))?;
        let o = tool.run(&["search", "Observation", "vendor-param=1", "--no-check"]);
        ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
        Ok(())
    });
    t.case_blocking("export: NDJSON files per type, each line a valid resource", || {
        let out = tool.home.join("export");
        let out_arg = out.to_string_lossy().to_string();
        let o = ok(tool.run(&[
            "export",
            "--group",
            "sandbox-cohort",
            "--type",
            "Patient",
            "--type",
            "Observation",
            "--out",
            &out_arg,
        ]))?;
        let listed = stdout(&o);
        let files: Vec<&str> = listed.lines().collect();
        ensure!(files.len() == 2, "{files:?}");
        let patients = std::fs::read_to_string(out.join("Patient.1.ndjson")).map_err(|e| e.to_string())?;
        ensure!(lines_json(&patients)?.len() == 60, "{} patients", patients.lines().count());
        let v = ok(tool.run(&["validate", &out.join("Observation.1.ndjson").to_string_lossy()]))?;
        ensure!(stderr(&v).contains("240 resource(s) valid"), "{}", stderr(&v));
        let o = tool.run(&["export", "--type", "Observaton"]);
        ensure!(code(&o) == 2 && stderr(&o).contains("did you mean Observation?"), "{}", stderr(&o));
        Ok(())
    });
    t.case_blocking("a session file others can read is refused", || {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tool.session(), std::fs::Permissions::from_mode(0o644))
                .map_err(|e| e.to_string())?;
            let o = tool.run(&["get", "Patient/sandbox-1"]);
            std::fs::set_permissions(tool.session(), std::fs::Permissions::from_mode(0o600))
                .map_err(|e| e.to_string())?;
            ensure!(code(&o) == 1 && stderr(&o).contains("readable by others"), "exit {}: {}", code(&o), stderr(&o));
        }
        Ok(())
    });
}

fn standalone(t: &mut Runner, tool: &Tool, sb: &Sandbox) {
    session::keyring(t, tool, &sb.fhir, &sb.key().to_string_lossy());
    t.case_blocking("login standalone through the system browser: a refresh token kept", || {
        ok(tool.run(&[
            "--server",
            &sb.fhir,
            "login",
            "standalone",
            "--client-id",
            "demo-native",
            "--smart-config",
            &sb.smart,
            "--scope",
            "openid fhirUser launch/patient user/*.* offline_access",
            "--timeout",
            "60",
        ]))?;
        let s = saved(tool)?;
        ensure!(s.get("key").is_none() && s["token"]["refresh_token"].is_string(), "{s}");
        ensure!(s["token"]["patient"] == "sandbox-1", "{s}");
        Ok(())
    });
    t.case_blocking("create, update, a stale update refused, vread, delete", || {
        let new = r#"{"resourceType":"Patient","name":[{"family":"Cli","given":["Ann"]}],"birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://example.org/precision","valueString":"day"}]}}"#;
        let created = lines_json(&stdout(&ok(tool.run_with_input(&["create", "-", "-o", "ndjson"], Some(new)))?))?;
        let created = created.first().ok_or("nothing written")?.clone();
        let id = created["id"].as_str().ok_or("no id")?.to_string();
        ensure!(created["_birthDate"]["extension"][0]["valueString"] == "day", "{created}");
        let mut changed = created.clone();
        changed["name"][0]["family"] = "Cli-Changed".into();
        let file = tool.home.join("changed.json");
        std::fs::write(&file, changed.to_string()).map_err(|e| e.to_string())?;
        let file = file.to_string_lossy().to_string();
        let updated = lines_json(&stdout(&ok(tool.run(&["update", &file, "-o", "ndjson"]))?))?;
        ensure!(updated[0]["meta"]["versionId"] == "2" && updated[0]["name"][0]["family"] == "Cli-Changed", "{updated:?}");
        let stale = tool.run(&["update", &file]);
        ensure!(code(&stale) == 1 && stderr(&stale).contains("412"), "exit {}: {}", code(&stale), stderr(&stale));
        let first = lines_json(&stdout(&ok(tool.run(&["get", &format!("Patient/{id}/_history/1"), "-o", "ndjson"]))?))?;
        ensure!(first[0]["name"][0]["family"] == "Cli", "{first:?}");
        ok(tool.run(&["delete", &format!("Patient/{id}")]))?;
        let gone = tool.run(&["get", &format!("Patient/{id}")]);
        ensure!(code(&gone) == 1 && stderr(&gone).contains("410"), "{}", stderr(&gone));
        Ok(())
    });
    t.case_blocking("bad input to create: the JSON path in the error, nothing sent", || {
        let o = tool.run_with_input(&["create", "-"], Some(r#"{"resourceType":"Patient","birthDate":"1970-13-01"}"#));
        ensure!(code(&o) == 1 && stderr(&o).contains("$.birthDate"), "exit {}: {}", code(&o), stderr(&o));
        let o = tool.run_with_input(&["create", "-"], Some(r#"{"resourceType":"Patinet"}"#));
        ensure!(code(&o) == 1 && stderr(&o).contains("Patinet"), "exit {}: {}", code(&o), stderr(&o));
        Ok(())
    });
    t.case_blocking("an expired token is renewed with the refresh token, and saved", || {
        let mut s = saved(tool)?;
        let before = s["token"]["access_token"].clone();
        s["token"]["expires_at"] = 0.into();
        write_private(&tool.session(), &s.to_string())?;
        ok(tool.run(&["get", "Patient/sandbox-1"]))?;
        let after = saved(tool)?;
        ensure!(after["token"]["access_token"] != before, "the token was not renewed");
        ensure!(after["token"]["expires_at"].as_u64().unwrap_or(0) > 0, "{after}");
        Ok(())
    });
    t.case_blocking("validate --remote: the server's errors as well as ours", || {
        let file = tool.home.join("extra.json");
        std::fs::write(&file, r#"{"resourceType":"Patient","birthDate":"1970-01-01","foo":1}"#)
            .map_err(|e| e.to_string())?;
        let o = tool.run(&["validate", "--remote", &file.to_string_lossy()]);
        let out = stdout(&o);
        ensure!(code(&o) == 1 && out.contains("Patient.foo: not an element"), "exit {}: {out}", code(&o));
        ensure!(out.contains("the server: error"), "{out}");
        Ok(())
    });
    session::cases(t, tool);
    t.case_blocking("logout removes the session file", || {
        ok(tool.run(&["logout"]))?;
        ensure!(!tool.session().exists(), "still there");
        Ok(())
    });
}

pub fn write_private(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).map_err(|e| e.to_string())?;
    Ok(())
}

fn local(t: &mut Runner, tool: &Tool) {
    t.case_blocking("validate: what is wrong and where, per file and NDJSON line; exit 1", || {
        let dir = tool.home.join("validate");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let good = dir.join("good.json");
        std::fs::write(&good, r#"{"resourceType":"Patient","gender":"female","birthDate":"1970-01-01"}"#).map_err(|e| e.to_string())?;
        let o = ok(tool.run(&["validate", &good.to_string_lossy()]))?;
        ensure!(stderr(&o).contains("1 resource(s) valid"), "{}", stderr(&o));
        let lines = dir.join("mixed.ndjson");
        std::fs::write(
            &lines,
            "{\"resourceType\":\"Patient\"}\n{\"resourceType\":\"Patient\",\"gender\":\"robot\"}\n\n{\"resourceType\":\"Patient\",\"name\":[}\n",
        )
        .map_err(|e| e.to_string())?;
        let o = tool.run(&["validate", &good.to_string_lossy(), &lines.to_string_lossy()]);
        let out = stdout(&o);
        ensure!(code(&o) == 1 && stderr(&o).contains("2 of 4 resource(s) invalid"), "exit {}: {}", code(&o), stderr(&o));
        ensure!(out.contains("mixed.ndjson:2: Patient.gender"), "{out}");
        ensure!(out.contains("mixed.ndjson:4: not a FHIR R4 resource") && out.contains("$.name[0]"), "{out}");
        Ok(())
    });
    t.case_blocking("--fhir-version this build lacks: a usage error listing what it speaks", || {
        let o = tool.run(&["--fhir-version", "r9", "validate", "x.json"]);
        ensure!(code(&o) == 2 && stderr(&o).contains("this build speaks r4"), "exit {}: {}", code(&o), stderr(&o));
        Ok(())
    });
}

/// The sandbox speaks R4 only; an R5 endpoint is a fake (its capability statement for each
/// version tried, a patient, then its capability statement again).
fn other_versions(t: &mut Runner, tool: &Tool) {
    let rt = tokio::runtime::Runtime::new().expect("a runtime");
    let patient = r#"{"resourceType":"Patient","id":"r5-1","name":[{"family":"Fünf"}]}"#;
    let metadata = fake::Reply::json(200, &fake::metadata("5.0.0", &["Patient"]));
    // The versions tried before R5 (R4, and R4B when built in), then R5's own.
    let tries = if cfg!(feature = "r5") { 2 + usize::from(cfg!(feature = "r4b")) } else { 1 };
    let mut replies = vec![metadata.clone(); tries];
    replies.extend([fake::Reply::json(200, patient), metadata]);
    let server = rt.block_on(fake::start(replies));
    t.case_blocking("no --fhir-version: the version the server answers to (a fake R5 server)", || {
        let o = tool.run(&["--server", &server.base, "get", "Patient/r5-1", "-o", "ndjson"]);
        if !cfg!(feature = "r5") {
            ensure!(code(&o) == 1 && stderr(&o).contains("this build speaks r4"), "exit {}: {}", code(&o), stderr(&o));
            return Ok(());
        }
        ensure!(code(&o) == 0, "exit {}: {}", code(&o), stderr(&o));
        ensure!(
            lines_json(&stdout(&o))? == vec![serde_json::from_str::<Value>(patient).map_err(|e| e.to_string())?],
            "{}",
            stdout(&o)
        );
        let o = tool.run(&["--server", &server.base, "--fhir-version", "r4", "get", "Patient/r5-1"]);
        ensure!(code(&o) == 1 && stderr(&o).contains("speaks FHIR 5.0.0"), "exit {}: {}", code(&o), stderr(&o));
        Ok(())
    });
    drop(server);
}
