//! Starting an export: the request's level and parameters, typed where they can be.

use reqwest::header::{HeaderName, HeaderValue, CONTENT_LOCATION};
use reqwest::Method;

use super::job::{ExportJob, JobState};
use crate::client::policy::segment;
use crate::client::{ClientVersion, Service};
use crate::error::{Error, ErrorKind};
use crate::json::{self, Members, Value};
use crate::search::IntoSearch;
use crate::{Instant, Resource};

/// Which resources an export covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportLevel {
    /// Every resource on the server (`[base]/$export`).
    System,
    /// Every patient and what their compartments hold (`[base]/Patient/$export`).
    AllPatients,
    /// The members of a group and their compartments (`[base]/Group/[id]/$export`).
    Group(String),
}

/// A bulk export to start ([`Service::export`], [`Service::export_patients`],
/// [`Service::export_group`]): its parameters, then [`start`](Self::start).
#[must_use = "an export starts with .start()"]
pub struct ExportRequest<V: ClientVersion> {
    service: Service<V>,
    level: ExportLevel,
    params: Vec<(&'static str, Param)>,
    strict: bool,
    post: bool,
}

impl<V: ClientVersion> std::fmt::Debug for ExportRequest<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRequest")
            .field("level", &self.level)
            .field("params", &self.params)
            .field("strict", &self.strict)
            .field("post", &self.post)
            .finish_non_exhaustive()
    }
}

/// A parameter's value, typed as its `Parameters` form needs.
#[derive(Debug, Clone)]
enum Param {
    String(String),
    Instant(String),
    Code(String),
    Reference(String),
}

impl Param {
    fn text(&self) -> &str {
        match self {
            Param::String(s) | Param::Instant(s) | Param::Code(s) | Param::Reference(s) => s,
        }
    }
}

impl<V: ClientVersion> Service<V> {
    /// A system-level export: every resource the server holds (of the types given, if any).
    pub fn export(&self) -> ExportRequest<V> {
        ExportRequest::new(self.clone(), ExportLevel::System)
    }

    /// An export of every patient and the resources in their compartments.
    pub fn export_patients(&self) -> ExportRequest<V> {
        ExportRequest::new(self.clone(), ExportLevel::AllPatients)
    }

    /// An export of the members of group `id` and the resources in their compartments.
    pub fn export_group(&self, id: &str) -> ExportRequest<V> {
        ExportRequest::new(self.clone(), ExportLevel::Group(id.to_string()))
    }
}

impl<V: ClientVersion> ExportRequest<V> {
    fn new(service: Service<V>, level: ExportLevel) -> Self {
        ExportRequest { service, level, params: Vec::new(), strict: false, post: false }
    }

    /// `_type`: export resources of type `R` (call once per type; none: every type the server
    /// exports). A type of another version does not compile.
    pub fn resource_type<R: Resource<Version = V>>(self) -> Self {
        self.push_type(R::TYPE)
    }

    /// [`resource_type`](Self::resource_type) for a type named at run time (`"Observation"`);
    /// an error when the version has no such type.
    pub fn resource_type_named(self, name: &str) -> Result<Self, Error> {
        match V::resource_type(name) {
            Some(ty) => Ok(self.push_type(ty)),
            None => Err(Error::new(ErrorKind::Config, format!("FHIR {} has no resource type {name:?}", V::NAME))),
        }
    }

    fn push_type(mut self, ty: &str) -> Self {
        // One comma-separated `_type`, the form every server takes.
        match self.params.iter_mut().find(|(name, _)| *name == "_type") {
            Some((_, Param::String(types))) => {
                types.push(',');
                types.push_str(ty);
            }
            _ => self.params.push(("_type", Param::String(ty.to_string()))),
        }
        self
    }

    /// `_since`: only resources changed after `instant` (a manifest's `transaction_time` for
    /// the next export of the same data).
    pub fn since(mut self, instant: &Instant) -> Self {
        self.params.push(("_since", Param::Instant(instant.to_string())));
        self
    }

    /// `_typeFilter`: of type `R`, only the resources `query` finds, written with `R`'s typed
    /// search builder (`Observation::search().status(..)` becomes `Observation?status=..`).
    pub fn type_filter<R: Resource<Version = V>>(mut self, query: impl IntoSearch<R>) -> Self {
        let query = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query.into_pairs()).finish();
        self.params.push(("_typeFilter", Param::String(format!("{}?{query}", R::TYPE))));
        self
    }

    /// `_elements`: only these elements (`Patient.name`, or `name` for every type), and the
    /// mandatory ones; the server marks such resources `SUBSETTED`.
    pub fn elements(mut self, elements: &[&str]) -> Self {
        self.params.push(("_elements", Param::String(elements.join(","))));
        self
    }

    /// `patient`: only these patients (references, `Patient/123`); patient and group level
    /// only, and sent as `Parameters` (POST), as the specification requires.
    pub fn patient(mut self, reference: &str) -> Self {
        self.params.push(("patient", Param::Reference(reference.to_string())));
        self.post = true;
        self
    }

    /// `_outputFormat` (the default is `application/fhir+ndjson`, which is what fhirstorm reads).
    pub fn output_format(mut self, format: &str) -> Self {
        self.params.push(("_outputFormat", Param::String(format.to_string())));
        self
    }

    /// `includeAssociatedData` (`LatestProvenanceResources`, `RelevantProvenanceResources`, or a
    /// server's own code).
    pub fn include_associated_data(mut self, code: &str) -> Self {
        self.params.push(("includeAssociatedData", Param::Code(code.to_string())));
        self
    }

    /// `organizeOutputBy`: files organized by instances of this resource type (`Patient`).
    pub fn organize_output_by<R: Resource<Version = V>>(mut self) -> Self {
        self.params.push(("organizeOutputBy", Param::String(R::TYPE.to_string())));
        self
    }

    /// `Prefer: handling=strict`: the server fails the kick-off on a parameter it does not
    /// support rather than ignore it.
    pub fn strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// Sends the parameters as a `Parameters` resource (POST) rather than in the query (GET).
    pub fn post(mut self, post: bool) -> Self {
        self.post = post;
        self
    }

    /// Kicks the export off (`Prefer: respond-async`): the server accepts it (`202`) and names
    /// the status URL to poll; refused up front when the server does not advertise the
    /// operation at this level (unless capabilities are not trusted).
    pub async fn start(self) -> Result<ExportJob<V>, Error> {
        let service = &self.service;
        let conn = service.connection();
        let mut url = match &self.level {
            ExportLevel::System => {
                service.check_operation(None, "export")?;
                conn.path(&["$export"])?
            }
            ExportLevel::AllPatients => {
                service.check_operation(Some("Patient"), "export")?;
                conn.path(&["Patient", "$export"])?
            }
            ExportLevel::Group(id) => {
                service.check_operation(Some("Group"), "export")?;
                conn.path(&["Group", segment(id)?, "$export"])?
            }
        };
        let prefer = if self.strict { "respond-async, handling=strict" } else { "respond-async" };
        let call = if self.post {
            conn.call(Method::POST, url).body(json::to_vec(&self.parameters()))
        } else {
            if !self.params.is_empty() {
                let mut q = url.query_pairs_mut();
                for (name, value) in &self.params {
                    q.append_pair(name, value.text());
                }
            }
            conn.call(Method::GET, url)
        };
        let resp = call
            .header(HeaderName::from_static("prefer"), HeaderValue::from_static(prefer))
            .idempotent(false)
            .send()
            .await?;
        let status_url = match (resp.status, resp.headers.get(CONTENT_LOCATION).and_then(|v| v.to_str().ok())) {
            (202, Some(location)) => location.to_string(),
            (202, None) => {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    "the export was accepted without a status URL (Content-Location)",
                )
                .with_request(resp.method.as_str(), &resp.url))
            }
            (status, _) => {
                return Err(Error::new(
                    ErrorKind::Protocol,
                    format!("the export kick-off answered {status}, not 202 Accepted"),
                )
                .with_request(resp.method.as_str(), &resp.url))
            }
        };
        let status_url = resp
            .url
            .join(&status_url)
            .map_err(|e| Error::new(ErrorKind::Protocol, "the export's status URL does not parse").with_source(e))?;
        tracing::info!(url = %crate::error::redact_url(&status_url), level = ?self.level, "bulk export started");
        Ok(ExportJob::resume(service.clone(), JobState::new(status_url.to_string())))
    }

    /// The parameters as a `Parameters` resource.
    fn parameters(&self) -> Value {
        let mut items = Vec::new();
        for (name, value) in &self.params {
            let mut p = Members::default();
            p.push("name", Value::String(name.to_string()));
            let (key, v) = match value {
                Param::String(s) => ("valueString", Value::String(s.clone())),
                Param::Instant(s) => ("valueInstant", Value::String(s.clone())),
                Param::Code(s) => ("valueCode", Value::String(s.clone())),
                Param::Reference(s) => {
                    let mut r = Members::default();
                    r.push("reference", Value::String(s.clone()));
                    ("valueReference", Value::Object(r))
                }
            };
            p.push(key, v);
            items.push(Value::Object(p));
        }
        let mut body = Members::default();
        body.push("resourceType", Value::String("Parameters".to_string()));
        body.push("parameter", Value::Array(items));
        Value::Object(body)
    }
}
