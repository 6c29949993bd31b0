//! A started export: polling its status until the manifest, cancelling it, downloading its
//! files, and its state, which a restarted process resumes from.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT};
use reqwest::Method;
use url::Url;

use super::manifest::{Manifest, OutputFile};
use super::ndjson::{NdjsonStream, Reopen};
use crate::client::{ClientVersion, Service};
use crate::error::{redact_url, Error, ErrorKind};
use crate::json::{self, Members, Value};
use crate::transport::{retry_after_header, Purpose, Request};
use crate::Resource;

/// How an export's status is polled and its files read.
#[derive(Debug, Clone)]
pub struct PollPolicy {
    /// The shortest wait between two polls, whatever `Retry-After` says.
    pub floor: Duration,
    /// The longest wait between two polls (also when the server gives no `Retry-After`).
    pub ceiling: Duration,
    /// How many failed polls in a row (a transport error, a `5xx` without an
    /// `OperationOutcome`) are retried before the error is returned.
    pub transient_errors: u32,
    /// How long [`ExportJob::wait`] waits in all before giving up (`None`: no limit; default
    /// 24 hours).
    pub deadline: Option<Duration>,
    /// The longest line of a file, in bytes (default 64 MiB).
    pub max_line_bytes: usize,
    /// The largest file, in bytes (`None`: no limit; default 64 GiB).
    pub max_file_bytes: Option<u64>,
    /// How many pages of a paged manifest [`ExportJob::next_manifest`] follows (default
    /// 10,000); a `next` link back to a page already read is an error whatever this says.
    pub max_manifest_pages: usize,
}

impl Default for PollPolicy {
    fn default() -> Self {
        PollPolicy {
            floor: Duration::from_millis(500),
            ceiling: Duration::from_secs(120),
            transient_errors: 5,
            deadline: Some(Duration::from_secs(24 * 60 * 60)),
            max_line_bytes: 64 << 20,
            max_file_bytes: Some(64 << 30),
            max_manifest_pages: 10_000,
        }
    }
}

/// What a status poll found.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportStatus {
    /// Still running: the server's `X-Progress` and `Retry-After`, when given.
    InProgress {
        /// `X-Progress` (free text: "50% complete", "writing").
        progress: Option<String>,
        /// How long the server asks to wait before the next poll.
        retry_after: Option<Duration>,
    },
    /// Done: what it produced.
    Complete(Manifest),
}

/// What a process keeps of an export to resume it after a restart: the status URL, the
/// export's transaction time once known, and the files already fetched. Written and read as
/// JSON ([`to_json`](Self::to_json), [`from_json`](Self::from_json)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobState {
    /// Where the export's status is polled.
    pub status_url: String,
    /// The manifest's `transactionTime`, once complete.
    pub transaction_time: Option<String>,
    /// The URLs of the files fetched whole ([`ExportJob::mark_fetched`]).
    pub fetched: BTreeSet<String>,
}

impl JobState {
    pub(crate) fn new(status_url: String) -> JobState {
        JobState { status_url, transaction_time: None, fetched: BTreeSet::new() }
    }

    /// The state as JSON.
    pub fn to_json(&self) -> String {
        let mut m = Members::default();
        m.push("statusUrl", Value::String(self.status_url.clone()));
        if let Some(t) = &self.transaction_time {
            m.push("transactionTime", Value::String(t.clone()));
        }
        m.push("fetched", Value::Array(self.fetched.iter().cloned().map(Value::String).collect()));
        json::to_string(&Value::Object(m))
    }

    /// Reads a state written by [`to_json`](Self::to_json).
    pub fn from_json(text: &str) -> Result<JobState, Error> {
        let bad = |what: &str| Error::new(ErrorKind::Parse, format!("the export state's {what}"));
        let v = Value::parse(text).map_err(|e| bad("JSON does not parse").with_source(e))?;
        let status_url = v.get("statusUrl").and_then(Value::as_str).ok_or_else(|| bad("statusUrl is missing"))?;
        let transaction_time = match v.get("transactionTime") {
            None => None,
            Some(t) => Some(t.as_str().ok_or_else(|| bad("transactionTime is not a string"))?.to_string()),
        };
        let mut fetched = BTreeSet::new();
        for (i, f) in v.get("fetched").and_then(Value::as_array).unwrap_or(&[]).iter().enumerate() {
            fetched.insert(f.as_str().ok_or_else(|| bad(&format!("fetched[{i}] is not a string")))?.to_string());
        }
        Ok(JobState { status_url: status_url.to_string(), transaction_time, fetched })
    }
}

/// A started export ([`ExportRequest::start`](super::ExportRequest::start), or
/// [`resume`](Self::resume)d from its [`JobState`]).
#[derive(Debug)]
pub struct ExportJob<V: ClientVersion> {
    service: Service<V>,
    state: JobState,
    policy: PollPolicy,
    /// The manifest pages read through `next` links (their URLs' hashes, without fragment), so
    /// that a link back to one is caught.
    pages: BTreeSet<u64>,
    hasher: std::hash::RandomState,
}

impl<V: ClientVersion> ExportJob<V> {
    /// The job whose state a process saved: poll it, download what is not fetched yet.
    pub fn resume(service: Service<V>, state: JobState) -> ExportJob<V> {
        ExportJob { service, state, policy: PollPolicy::default(), pages: BTreeSet::new(), hasher: Default::default() }
    }

    /// How it polls and reads.
    pub fn with_policy(mut self, policy: PollPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// What to keep to resume it.
    pub fn state(&self) -> &JobState {
        &self.state
    }

    fn status_url(&self) -> Result<Url, Error> {
        Url::parse(&self.state.status_url)
            .map_err(|e| Error::new(ErrorKind::Config, "the export's status URL does not parse").with_source(e))
    }

    /// Polls the status once.
    pub async fn status(&mut self) -> Result<ExportStatus, Error> {
        let conn = self.service.connection();
        let resp = conn
            .call(Method::GET, self.status_url()?)
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .send()
            .await?;
        match resp.status {
            202 => {
                let progress = resp.headers.get("x-progress").and_then(|v| v.to_str().ok()).map(String::from);
                let retry_after = retry_after_header(&resp.headers);
                Ok(ExportStatus::InProgress { progress, retry_after })
            }
            200 => {
                let manifest = manifest_of(&resp)?;
                self.state.transaction_time = Some(manifest.transaction_time.clone());
                Ok(ExportStatus::Complete(manifest))
            }
            other => Err(Error::new(ErrorKind::Protocol, format!("the export status answered {other}"))
                .with_request(resp.method.as_str(), &resp.url)),
        }
    }

    /// Polls until the export completes, waiting as the server's `Retry-After` says (within
    /// the policy's floor and ceiling) and logging its `X-Progress`; `progress` sees each one.
    /// A failed export (`4xx`/`5xx` with an `OperationOutcome`) is an error at once; other
    /// failed polls are retried within the policy's budget.
    pub async fn wait_with(&mut self, mut progress: impl FnMut(Option<&str>)) -> Result<Manifest, Error> {
        let started = std::time::Instant::now();
        let mut failures = 0;
        loop {
            let wait = match self.status().await {
                Ok(ExportStatus::Complete(m)) => return Ok(m),
                Ok(ExportStatus::InProgress { progress: p, retry_after }) => {
                    failures = 0;
                    tracing::info!(url = %self.state.status_url, progress = p.as_deref().unwrap_or(""), "bulk export in progress");
                    progress(p.as_deref());
                    retry_after.unwrap_or(self.policy.ceiling)
                }
                Err(e) if transient(&e) && failures < self.policy.transient_errors => {
                    failures += 1;
                    tracing::warn!(error = %e, failures, "bulk export status poll failed; retrying");
                    self.policy.floor.saturating_mul(1 << failures.min(10))
                }
                Err(e) => return Err(e),
            };
            let wait = wait.clamp(self.policy.floor, self.policy.ceiling.max(self.policy.floor));
            if let Some(deadline) = self.policy.deadline {
                if started.elapsed() + wait > deadline {
                    return Err(Error::new(
                        ErrorKind::Timeout,
                        format!("the export did not complete within {} s", deadline.as_secs_f64()),
                    ));
                }
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// [`wait_with`](Self::wait_with), without a progress callback.
    pub async fn wait(&mut self) -> Result<Manifest, Error> {
        self.wait_with(|_| {}).await
    }

    /// Cancels the export, or tells the server its files may go once they are fetched
    /// (`DELETE` on the status URL).
    pub async fn cancel(self) -> Result<(), Error> {
        let conn = self.service.connection();
        conn.call(Method::DELETE, self.status_url()?).send().await?;
        tracing::info!(url = %self.state.status_url, "bulk export cancelled");
        Ok(())
    }

    /// The next page of a paged manifest (its `next` link), or `None` after the last. A link
    /// back to the status URL or to a page already read, or more pages than the policy's
    /// `max_manifest_pages`, is a [`ErrorKind::Protocol`] error: the export would never end.
    pub async fn next_manifest(&mut self, manifest: &Manifest) -> Result<Option<Manifest>, Error> {
        let Some(next) = manifest.next() else { return Ok(None) };
        let mut url = Url::parse(next)
            .map_err(|e| Error::new(ErrorKind::Protocol, "the manifest's next link does not parse").with_source(e))?;
        url.set_fragment(None);
        let status = self.status_url()?;
        let page = std::hash::BuildHasher::hash_one(&self.hasher, url.as_str());
        if url == status || self.pages.contains(&page) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("the manifest's next link leads back to a page already read ({})", redact_url(&url)),
            ));
        }
        if self.pages.len() >= self.policy.max_manifest_pages {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!("the manifest has more than {} pages", self.policy.max_manifest_pages),
            ));
        }
        self.pages.insert(page);
        let conn = self.service.connection();
        let resp =
            conn.call(Method::GET, url).header(ACCEPT, HeaderValue::from_static("application/json")).send().await?;
        manifest_of(&resp).map(Some)
    }

    /// The files of `manifest` not fetched yet, each URL once.
    pub fn pending<'m>(&self, manifest: &'m Manifest) -> Vec<&'m OutputFile> {
        self.not_fetched(&manifest.output)
    }

    /// The error files (`OperationOutcome`s) of `manifest` not fetched yet, each URL once: a
    /// file named again by a later page is not fetched twice.
    pub fn pending_errors<'m>(&self, manifest: &'m Manifest) -> Vec<&'m OutputFile> {
        self.not_fetched(&manifest.error)
    }

    fn not_fetched<'m>(&self, files: &'m [OutputFile]) -> Vec<&'m OutputFile> {
        let mut seen = BTreeSet::new();
        files.iter().filter(|f| !self.state.fetched.contains(&f.url) && seen.insert(f.url.as_str())).collect()
    }

    /// Records that `file` was fetched whole (a resumed job does not fetch it again).
    pub fn mark_fetched(&mut self, file: &OutputFile) {
        self.state.fetched.insert(file.url.clone());
    }

    /// Opens `file` as a stream of `R` (the file's declared type must be `R`'s).
    pub async fn download<R: Resource<Version = V>>(
        &self,
        manifest: &Manifest,
        file: &OutputFile,
    ) -> Result<NdjsonStream<R>, Error> {
        if file.resource_type != R::TYPE {
            return Err(Error::new(
                ErrorKind::Config,
                format!("the file holds {}, not {}", file.resource_type, R::TYPE),
            ));
        }
        self.open(manifest, file).await
    }

    /// Opens `file` as a stream of the version's `AnyResource`.
    pub async fn download_any(
        &self,
        manifest: &Manifest,
        file: &OutputFile,
    ) -> Result<NdjsonStream<V::AnyResource>, Error> {
        self.open(manifest, file).await
    }

    /// Sends the bearer token only when the manifest requires it and only to a URL under the
    /// FHIR base; a file elsewhere is fetched without it.
    async fn open<T: json::FromJson>(&self, manifest: &Manifest, file: &OutputFile) -> Result<NdjsonStream<T>, Error> {
        let conn = self.service.connection();
        let url = crate::transport::checked_url(&file.url, conn.plain_http())?;
        let token = manifest.requires_access_token && crate::transport::under_base(conn.base_url(), &url);
        let request = move |range: Option<u64>| {
            let mut headers = reqwest::header::HeaderMap::new();
            headers.insert(ACCEPT, HeaderValue::from_static("application/fhir+ndjson"));
            if let Some(from) = range.and_then(|f| HeaderValue::try_from(format!("bytes={f}-")).ok()) {
                headers.insert(reqwest::header::RANGE, from);
            }
            Request {
                method: Method::GET,
                url: url.clone(),
                headers,
                body: None,
                idempotent: true,
                purpose: Purpose::Fhir,
            }
        };
        let opened = conn.open(request(None), token).await?;
        let again = conn.clone();
        let reopen: Reopen = Box::new(move |from| {
            let (conn, req) = (again.clone(), request(Some(from)));
            Box::pin(async move { conn.open(req, token).await })
        });
        if opened.status >= 400 {
            let resp = opened.read(conn.transport()?.max_response_bytes()).await?;
            return Err(conn
                .check_status(resp)
                .err()
                .unwrap_or_else(|| Error::new(ErrorKind::Protocol, "error status")));
        }
        if let (Some(max), Some(len)) = (self.policy.max_file_bytes, opened.content_length()) {
            if len > max {
                return Err(Error::new(
                    ErrorKind::TooLarge,
                    format!("{}: the file is larger than the maximum of {max} bytes", redact_url(&opened.url)),
                ));
            }
        }
        tracing::debug!(url = %redact_url(&opened.url), token, "bulk file opened");
        Ok(NdjsonStream::new(opened, reopen, self.policy.max_line_bytes, self.policy.max_file_bytes))
    }
}

/// A manifest from a response's body.
fn manifest_of(resp: &crate::transport::Response) -> Result<Manifest, Error> {
    let value = Value::parse(std::str::from_utf8(&resp.body).unwrap_or("")).map_err(|e| {
        Error::new(ErrorKind::Parse, "the export manifest is not JSON")
            .with_source(e)
            .with_request(resp.method.as_str(), &resp.url)
    })?;
    Manifest::from_json(&value).map_err(|e| e.or_request(resp.method.as_str(), &resp.url))
}

/// Whether a failed poll may be retried: no answer, or a server error that is not the export's
/// own failure (which comes with an `OperationOutcome`).
fn transient(e: &Error) -> bool {
    match e.kind() {
        ErrorKind::Transport | ErrorKind::Timeout => true,
        ErrorKind::Status => e.status().is_some_and(|s| s >= 500) && e.outcome().is_none(),
        _ => false,
    }
}
