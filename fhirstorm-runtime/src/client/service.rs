//! [`Service`]: one `rest` entry of a server, and what spans resource types (capabilities,
//! `resolve`, whole-system history, transactions).

use reqwest::Method;
use url::Url;

use super::connection::Connection;
use super::policy::{operation_name, segment};
use super::{ClientVersion, RestCapabilities};
use crate::error::{redact_url, Error, ErrorKind};
use crate::json;
use crate::transport::under_base;
use crate::{AnyResourceOf, Resource};

/// One `rest` entry of a server: what it advertises, and typed access to its resources.
pub struct Service<V: ClientVersion> {
    pub(super) conn: Connection<V>,
    pub(super) index: usize,
}

impl<V: ClientVersion> Clone for Service<V> {
    fn clone(&self) -> Self {
        Service { conn: self.conn.clone(), index: self.index }
    }
}

impl<V: ClientVersion> std::fmt::Debug for Service<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service").field("connection", &self.conn).field("rest", &self.index).finish()
    }
}

impl<V: ClientVersion> Service<V> {
    /// The connection this service belongs to.
    pub fn connection(&self) -> &Connection<V> {
        &self.conn
    }

    /// What this `rest` entry advertises.
    pub fn capabilities(&self) -> &RestCapabilities {
        let caps = self.conn.shared().ok().and_then(|s| s.metadata.get());
        let caps = caps.expect("a Service exists only after metadata was read");
        &caps.rest[self.index]
    }

    /// The resource types this service advertises (the Python FHIRstorm's `dir(service.r)`).
    pub fn resources(&self) -> Vec<&str> {
        self.capabilities().resources.keys().map(String::as_str).collect()
    }

    /// How many resources of type `resource_type` match `params`, by a `_summary=count` search
    /// (for types chosen at run time; typed searches go through [`r`](Self::r)).
    pub async fn count<K, S>(
        &self,
        resource_type: &str,
        params: impl IntoIterator<Item = (K, S)>,
    ) -> Result<Option<u64>, Error>
    where
        K: AsRef<str>,
        S: AsRef<str>,
    {
        self.check(resource_type, "search-type")?;
        let conn = &self.conn;
        if !resource_type.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(Error::new(ErrorKind::Config, format!("{resource_type:?} is not a resource type")));
        }
        let mut url = conn.url(resource_type)?;
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in params {
                q.append_pair(k.as_ref(), v.as_ref());
            }
            q.append_pair("_summary", "count");
        }
        let bundle: V::Bundle = conn.call(Method::GET, url).fetch().await?;
        Ok(V::total(&bundle))
    }

    /// Resolves a reference, as found in `context` (the resource holding it, or the Bundle it
    /// came in): `#id` (a contained resource), a Bundle entry's `fullUrl`, `Type/id[/_history/v]`
    /// relative to this server, or an absolute URL on this server. A reference to another server
    /// is an error: it is not followed, so credentials never travel to another origin.
    pub async fn resolve(&self, reference: &str, context: Option<&V::AnyResource>) -> Result<V::AnyResource, Error> {
        if let Some(ctx) = context {
            if let Some(found) = find_in_context::<V>(reference, ctx, self.conn.base_url())? {
                return Ok(found);
            }
        }
        if reference.starts_with('#') || reference.starts_with("urn:") {
            return Err(Error::new(ErrorKind::Protocol, format!("{reference} is not in the context given")));
        }
        let url = self.conn.base_url().join(reference).map_err(|e| {
            Error::new(ErrorKind::Protocol, format!("{reference:?} is not a valid reference")).with_source(e)
        })?;
        if !under_base(self.conn.base_url(), &url) || !url.as_str().starts_with(self.conn.base_url().as_str()) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("{} is on another server; not followed", redact_url(&url)),
            ));
        }
        let rel = &url.as_str()[self.conn.base_url().as_str().len()..];
        let parts: Vec<&str> = rel.split('/').collect();
        let valid = matches!(parts.len(), 2 | 4)
            && parts[0].bytes().all(|b| b.is_ascii_alphanumeric())
            && segment(parts[1]).is_ok()
            && (parts.len() == 2 || (parts[2] == "_history" && segment(parts[3]).is_ok()));
        if !valid || url.query().is_some() {
            return Err(Error::new(ErrorKind::Protocol, format!("{reference:?} is not a resource reference")));
        }
        self.check(parts[0], if parts.len() == 4 { "vread" } else { "read" })?;
        self.conn.call(Method::GET, url).fetch().await
    }

    /// [`resolve`](Self::resolve), as resource type `R`.
    pub async fn resolve_as<R: Resource<Version = V>>(
        &self,
        reference: &str,
        context: Option<&V::AnyResource>,
    ) -> Result<R, Error> {
        let any = self.resolve(reference, context).await?;
        let found = any.resource_type();
        R::from_any(any)
            .map_err(|_| Error::new(ErrorKind::Parse, format!("{reference} is a {found}, not a {}", R::TYPE)))
    }

    /// The history of every resource on the server, newest first, as a Bundle.
    pub async fn history(&self) -> Result<V::Bundle, Error> {
        self.check_system("history-system")?;
        let conn = &self.conn;
        conn.call(Method::GET, conn.path(&["_history"])?).fetch().await
    }

    /// Invokes a system-level operation (`name` without `$`), with an optional `Parameters`
    /// body (POST) or none (GET), and returns what the server answers.
    pub async fn operation(
        &self,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        let conn = &self.conn;
        let url = conn.path(&[&format!("${}", operation_name(name)?)])?;
        conn.operation(url, parameters).await
    }

    pub(crate) fn check_system(&self, interaction: &str) -> Result<(), Error> {
        if !self.conn.trusts_capabilities() || self.capabilities().interactions.contains(interaction) {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Unsupported, format!("the server does not advertise the {interaction} interaction")))
    }

    /// Whether the server advertises operation `name` at system level (`ty` none) or on type
    /// `ty` (unless capabilities are not trusted).
    pub(crate) fn check_operation(&self, ty: Option<&str>, name: &str) -> Result<(), Error> {
        if !self.conn.trusts_capabilities() {
            return Ok(());
        }
        let caps = self.capabilities();
        let (advertised, at) = match ty {
            None => (caps.operations.contains(name), "system level".to_string()),
            Some(t) => (caps.resources.get(t).is_some_and(|r| r.operations.contains(name)), t.to_string()),
        };
        if advertised {
            return Ok(());
        }
        Err(Error::new(ErrorKind::Unsupported, format!("the server does not advertise ${name} at {at}")))
    }

    pub(super) fn check(&self, ty: &str, interaction: &str) -> Result<(), Error> {
        if !self.conn.trusts_capabilities() {
            return Ok(());
        }
        match self.capabilities().resources.get(ty) {
            None => Err(Error::new(ErrorKind::Unsupported, format!("the server does not advertise {ty}"))),
            Some(c) if !c.interactions.contains(interaction) => Err(Error::new(
                ErrorKind::Unsupported,
                format!("the server does not advertise the {interaction} interaction for {ty}"),
            )),
            Some(_) => Ok(()),
        }
    }
}

/// Where a service comes from: a `rest` entry of the connection's capability statement.
impl<V: ClientVersion> Connection<V> {
    /// The first `rest` entry of the capability statement (`conn.metadata.rest[0]` in the Python FHIRstorm).
    pub async fn service(&self) -> Result<Service<V>, Error> {
        self.service_at(0).await
    }

    /// The `rest` entry `index`.
    pub async fn service_at(&self, index: usize) -> Result<Service<V>, Error> {
        let caps = self.metadata().await?;
        if index >= caps.rest.len() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("the capability statement has {} rest entries, not {}", caps.rest.len(), index + 1),
            ));
        }
        Ok(Service { conn: self.clone(), index })
    }
}

/// Looks a reference up inside a resource (contained, `#id`) or a Bundle (entry `fullUrl`).
fn find_in_context<V: ClientVersion>(
    reference: &str,
    ctx: &V::AnyResource,
    base: &Url,
) -> Result<Option<V::AnyResource>, Error> {
    let value = json::to_value(ctx);
    let pick = |v: &json::Value| -> Result<V::AnyResource, Error> {
        json::from_value(v).map_err(|e| Error::new(ErrorKind::Parse, "a resource in the context").with_source(e))
    };
    if let Some(id) = reference.strip_prefix('#') {
        let contained = value.get("contained").and_then(json::Value::as_array).unwrap_or(&[]);
        return match contained.iter().find(|r| r.get("id").and_then(json::Value::as_str) == Some(id)) {
            Some(r) => pick(r).map(Some),
            None => Ok(None),
        };
    }
    // In a Bundle: the entry whose fullUrl is the reference (absolute, or relative to the base).
    let absolute = base.join(reference).map(|u| u.to_string()).unwrap_or_default();
    for entry in value.get("entry").and_then(json::Value::as_array).unwrap_or(&[]) {
        let full = entry.get("fullUrl").and_then(json::Value::as_str).unwrap_or("");
        if !full.is_empty() && (full == reference || full == absolute) {
            if let Some(r) = entry.get("resource") {
                return pick(r).map(Some);
            }
        }
    }
    Ok(None)
}
