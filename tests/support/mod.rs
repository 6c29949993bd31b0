//! Starts the real servers the integration tests talk to, on 127.0.0.1, and stops them after.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running sekmet-fhir server (PyPI `sekmet-fhir`, a FHIR R4 server on SQLite), killed on drop.
pub struct FhirServer {
    child: Child,
    /// The FHIR base URL (`http://127.0.0.1:PORT/fhir`).
    pub base: String,
    _dir: TempDir,
}

/// A temporary folder, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("fhirstorm-{name}-{}-{}", std::process::id(), nanos()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

/// The servers this test process started and has not stopped yet: `Runner::finish` ends the
/// process with `exit`, which runs no destructor, so it stops them itself.
static RUNNING: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// Records a child process to stop at `Runner::finish` (if it is still running then).
pub fn track(child: &Child) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).push(child.id());
}

/// Forgets a child that was stopped (killed and waited for).
pub fn untrack(child: &Child) {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner()).retain(|&pid| pid != child.id());
}

fn stop_tracked() {
    for pid in RUNNING.lock().unwrap_or_else(|e| e.into_inner()).drain(..) {
        let _ = Command::new("kill").arg(pid.to_string()).status();
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Where `scripts/test` installed the server (or `$FHIRSTORM_SEKMET`).
fn sekmet_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("FHIRSTORM_SEKMET") {
        return PathBuf::from(p);
    }
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(".cache/sekmet-venv/bin/sekmet")
}

impl FhirServer {
    /// Starts a fresh server with an empty database. Panics with instructions when the server
    /// is not installed (run `scripts/test`, which installs it).
    pub fn start() -> FhirServer {
        FhirServer::start_with("", None)
    }

    /// Starts a server whose FHIR API takes only bearer tokens: HS256 JWTs signed with
    /// `token_key` (the key the SMART authorization server signs its access tokens with), with
    /// SMART scopes enforced, plus the static `admin_token`. `smart_clients` is the YAML list of
    /// its own Backend Services clients.
    pub fn start_smart(token_key: &str, admin_token: &str, smart_clients: &str) -> FhirServer {
        let yaml = format!(
            "server_auth:\n  types: [smart, bearer]\n  enforce_scopes: true\n  token_lifetime: 300\n  tokens: [{admin_token:?}]\n  smart_clients:\n{smart_clients}"
        );
        FhirServer::start_with(&yaml, Some(token_key))
    }

    fn start_with(extra_yaml: &str, token_key: Option<&str>) -> FhirServer {
        let bin = sekmet_bin();
        assert!(
            bin.exists(),
            "the sekmet-fhir server is not installed at {}: run scripts/test (it installs it), or set FHIRSTORM_SEKMET",
            bin.display()
        );
        let dir = TempDir::new("sekmet");
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}/fhir");
        let settings = dir.0.join("settings.yaml");
        std::fs::write(
            &settings,
            format!(
                "host: 127.0.0.1\nport: {port}\nbase_url: {base}\ndata_dir: {}\nsimulator:\n  enabled: false\nlog_inbound: false\n{extra_yaml}\n",
                dir.0.join("data").display()
            ),
        )
        .expect("settings written");
        std::fs::create_dir_all(dir.0.join("data")).expect("data dir");
        if let Some(key) = token_key {
            // sekmet verifies access tokens with the key in its store's `jwt_secret`: share ours.
            let python = bin.parent().expect("venv bin").join("python");
            let status = Command::new(python)
                .arg("-c")
                .arg("import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT)'); c.execute('INSERT OR REPLACE INTO kv VALUES (?,?)', ('jwt_secret', sys.argv[2])); c.commit()")
                .arg(dir.0.join("data/sekmet.db"))
                .arg(key)
                .status()
                .expect("python runs");
            assert!(status.success(), "could not write sekmet's token key");
        }
        let log = std::fs::File::create(dir.0.join("server.log")).expect("log file");
        let child = Command::new(&bin)
            .args(["serve", "-c"])
            .arg(&settings)
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("sekmet starts");
        track(&child);
        let server = FhirServer { child, base, _dir: dir };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let start = Instant::now();
        let addr = self.base.trim_start_matches("http://").split('/').next().unwrap_or("").to_string();
        while start.elapsed() < Duration::from_secs(60) {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                use std::io::{Read, Write};
                let req = format!("GET /fhir/metadata HTTP/1.0\r\nHost: {addr}\r\n\r\n");
                if s.write_all(req.as_bytes()).is_ok() {
                    let mut head = [0u8; 12];
                    if s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200") {
                        return;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(self._dir.0.join("server.log")).unwrap_or_default();
        panic!("sekmet-fhir did not become ready within 60 s; its log:\n{log}");
    }
}

/// The SMART authorization server of the tests: npm `oidc-provider` run by
/// `tests/smart-server/server.mjs` (installed by `scripts/install-test-servers`), killed on drop.
pub struct SmartServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub issuer: String,
    _dir: TempDir,
}

fn smart_server_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join("tests/smart-server")
}

fn node() -> String {
    std::env::var("FHIRSTORM_NODE").unwrap_or_else(|_| "node".into())
}

/// Client key pairs for `private_key_jwt`: `rs384.pem`, `es384.pem`, their `.kid` files, and
/// the public `jwks.json`.
pub struct ClientKeys {
    pub dir: TempDir,
}

impl ClientKeys {
    pub fn generate() -> ClientKeys {
        let dir = TempDir::new("keys");
        let status = Command::new(node())
            .arg(smart_server_dir().join("server.mjs"))
            .arg("--keys")
            .arg(&dir.0)
            .status()
            .expect("node runs");
        assert!(status.success(), "generating client keys failed");
        ClientKeys { dir }
    }
    pub fn pem(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.0.join(format!("{name}.pem"))).expect("key")
    }
    pub fn kid(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.0.join(format!("{name}.kid"))).expect("kid")
    }
    pub fn jwks(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("jwks.json")).expect("jwks")
    }
}

impl SmartServer {
    /// Starts the server with `config` (see server.mjs; `port` is filled in).
    pub fn start(mut config: serde_json::Value) -> SmartServer {
        let dir_path = smart_server_dir();
        assert!(
            dir_path.join("node_modules/oidc-provider").exists(),
            "oidc-provider is not installed in {}: run scripts/install-test-servers (scripts/test does)",
            dir_path.display()
        );
        let dir = TempDir::new("smart");
        let port = free_port();
        config["port"] = port.into();
        let cfg = dir.0.join("config.json");
        std::fs::write(&cfg, serde_json::to_vec_pretty(&config).expect("json")).expect("config written");
        let log = std::fs::File::create(dir.0.join("server.log")).expect("log");
        let mut child = Command::new(node())
            .arg(dir_path.join("server.mjs"))
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .expect("node starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(issuer) = line.strip_prefix("READY ") {
                    let _ = tx.send(issuer.to_string());
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(issuer) => {
                track(&child);
                SmartServer { child, issuer, _dir: dir }
            }
            Err(_) => {
                let _ = child.kill();
                let log = std::fs::read_to_string(dir.0.join("server.log")).unwrap_or_default();
                panic!("the SMART server did not start within 30 s; its log:\n{log}");
            }
        }
    }

    /// Token requests so far, by `grant_type:status`.
    pub async fn stats(&self) -> serde_json::Value {
        let text =
            reqwest::get(format!("{}/admin/stats", self.issuer)).await.expect("stats").text().await.expect("stats");
        serde_json::from_str(&text).expect("stats json")
    }

    /// A new EHR launch context for `patient`.
    pub async fn new_launch(&self, patient: &str) -> String {
        let text = reqwest::Client::new()
            .post(format!("{}/admin/launch", self.issuer))
            .body(serde_json::json!({ "patient": patient }).to_string())
            .send()
            .await
            .expect("launch")
            .text()
            .await
            .expect("launch");
        let v: serde_json::Value = serde_json::from_str(&text).expect("launch json");
        v["launch"].as_str().expect("launch id").to_string()
    }
}

impl Drop for SmartServer {
    fn drop(&mut self) {
        untrack(&self.child);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Plays the user's browser through a headless authorization: follows redirects (keeping the
/// server's cookies) until one goes to `redirect_prefix`, and returns that URL.
pub async fn browse_to_redirect(start: &str, redirect_prefix: &str) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let mut url = reqwest::Url::parse(start).map_err(|e| e.to_string())?;
    for _ in 0..10 {
        let resp = http.get(url.clone()).send().await.map_err(|e| e.to_string())?;
        let Some(location) = resp.headers().get("location").and_then(|l| l.to_str().ok()).map(String::from) else {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            return Err(format!(
                "the authorization stopped at {status} without a redirect: {}",
                &body[..body.len().min(300)]
            ));
        };
        let next = url.join(&location).map_err(|e| e.to_string())?;
        if next.as_str().starts_with(redirect_prefix) {
            return Ok(next.to_string());
        }
        url = next;
    }
    Err("too many redirects".into())
}

impl Drop for FhirServer {
    fn drop(&mut self) {
        untrack(&self.child);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny test runner for the harness-less test binaries, whose cases share a server: runs
/// each named case, reports it, and ends with the plain `N passed, N failed` line.
///
/// A binary groups suites (`Runner::suite`), one module each. The arguments that are not
/// options select: a suite whose name contains one runs whole; when they name no suite, every
/// suite runs the cases whose names contain one (`cargo test --test servers -- smart bulk`, or
/// `-- refresh`).
pub struct Runner {
    passed: usize,
    failed: Vec<String>,
    filters: Vec<String>,
    suite: Option<&'static str>,
    suite_selected: bool,
}

impl Runner {
    /// A runner that runs every case (inside a `#[test]`, whose arguments are libtest's).
    pub fn unfiltered() -> Runner {
        Runner { passed: 0, failed: Vec::new(), filters: Vec::new(), suite: None, suite_selected: false }
    }

    /// A runner selecting by the binary's arguments.
    pub fn new() -> Runner {
        let filters = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
        Runner { filters, ..Runner::unfiltered() }
    }

    /// Runs the suite `name` (its set-up and its cases) unless the filter leaves none of it:
    /// `names` are all the binary's suites, to tell a suite filter from a case filter.
    pub fn suite(&mut self, name: &'static str, names: &[&str], run: impl FnOnce(&mut Runner)) {
        let names_a_suite = self.filters.iter().any(|f| names.iter().any(|n| n.contains(f.as_str())));
        if names_a_suite && !self.filters.iter().any(|f| name.contains(f.as_str())) {
            return;
        }
        println!("\n== {name}");
        self.suite = Some(name);
        self.suite_selected = names_a_suite;
        run(self);
        self.suite = None;
        self.suite_selected = false;
    }

    fn skips(&self, name: &str) -> bool {
        !self.suite_selected && !self.filters.is_empty() && !self.filters.iter().any(|f| name.contains(f.as_str()))
    }

    fn record(&mut self, name: &str, outcome: Result<(), String>, ms: u128) {
        let full = match self.suite {
            Some(suite) => format!("{suite}: {name}"),
            None => name.to_string(),
        };
        match outcome {
            Ok(()) => {
                println!("test {full} ... ok ({ms} ms)");
                self.passed += 1;
            }
            Err(e) => {
                println!("test {full} ... FAILED: {e}");
                self.failed.push(full);
            }
        }
    }

    pub async fn case<F, Fut>(&mut self, name: &str, f: F)
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        if self.skips(name) {
            return;
        }
        let started = Instant::now();
        let run = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(f()));
        let outcome = match tokio::time::timeout(Duration::from_secs(300), run).await {
            Ok(Ok(outcome)) => outcome,
            Ok(Err(panic)) => Err(panicked(panic)),
            Err(_) => Err("timed out".into()),
        };
        self.record(name, outcome, started.elapsed().as_millis());
    }

    /// A case of blocking code (`fhirstorm::blocking`, or a whole check that asserts), on this
    /// thread; a panic fails the case and the next one runs.
    pub fn case_blocking(&mut self, name: &str, f: impl FnOnce() -> Result<(), String>) {
        if self.skips(name) {
            return;
        }
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| Err(panicked(p)));
        self.record(name, outcome, started.elapsed().as_millis());
    }

    /// Ends the process: exit status 0 when every case passed.
    pub fn finish(self) -> ! {
        stop_tracked();
        for name in &self.failed {
            println!("FAILED {name}");
        }
        println!("\n{} passed, {} failed", self.passed, self.failed.len());
        std::process::exit(if self.failed.is_empty() { 0 } else { 1 })
    }

    /// For a suite run inside a `#[test]`: panics naming the failed cases, if any.
    pub fn assert_passed(self) {
        assert!(self.failed.is_empty(), "{} passed, failed: {:?}", self.passed, self.failed);
    }
}

/// A failed case's message for a panic (whose own message the panic hook printed already).
fn panicked(panic: Box<dyn std::any::Any + Send>) -> String {
    let text = panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()));
    format!("panicked: {}", text.unwrap_or_default())
}

/// A runtime on this thread alone, as `#[tokio::main(flavor = "current_thread")]` makes.
pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

/// A runtime with a worker per core, as `#[tokio::main]` makes.
pub fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a runtime")
}

/// How many resources the paging test and benchmark create, and their page size.
pub const TOTAL: usize = 10_000;
/// Page size (`_count`) and transaction size.
pub const PAGE: usize = 500;
/// The code the paging Observations carry (system `urn:fhirstorm`).
pub const CODE: &str = "fhirstorm-paging";

/// Creates `TOTAL` small Observations, `value` 0..TOTAL, in transactions of `PAGE`.
pub async fn seed_observations(service: &fhirstorm::client::Service<fhirstorm::R4>) -> Result<(), String> {
    use fhirstorm::r4;
    for batch in 0..TOTAL / PAGE {
        let mut tx = service.transaction();
        for i in 0..PAGE {
            let obs = r4::Observation {
                status: Some(r4::Primitive::new(r4::codes::ObservationStatus::Final)),
                code: Some(r4::CodeableConcept {
                    coding: vec![r4::Coding {
                        system: Some("urn:fhirstorm".into()),
                        code: Some(CODE.into()),
                        ..Default::default()
                    }],
                    ..Default::default()
                }),
                value: Some(r4::ObservationValue::Integer(r4::Primitive::new((batch * PAGE + i) as i32))),
                ..Default::default()
            };
            tx = tx.create(&obs);
        }
        tx.send().await.map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `assert!` for the runner's cases: returns an error instead of panicking.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!("{} (at {}:{})", format!($($msg)+), file!(), line!()));
        }
    };
}

/// A service at `base` whose requests carry the bearer `token` (a fixed session, never renewed).
pub async fn fixed_token_service(base: &str, token: &str) -> fhirstorm::client::Service<fhirstorm::R4> {
    use fhirstorm::auth::{Session, TokenResponse};
    let response = format!(r#"{{"access_token":"{token}","token_type":"Bearer"}}"#);
    fhirstorm::client::Connection::<fhirstorm::R4>::builder(base)
        .allow_insecure_loopback(true)
        .session(Session::fixed(TokenResponse::from_slice(response.as_bytes()).expect("a token response")))
        .build()
        .expect("a connection")
        .service()
        .await
        .expect("the service")
}
