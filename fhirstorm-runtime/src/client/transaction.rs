//! `transaction` and `batch` Bundles: a builder of entries, and typed per-entry responses.

use std::marker::PhantomData;

use reqwest::Method;

use super::policy::if_none_exist;
use super::{segment, ClientVersion, Service};
use crate::error::{Error, ErrorKind, Outcome};
use crate::json::{self, Members, Value};
use crate::search::IntoSearch;
use crate::{AnyResourceOf, Resource};

/// Whether the entries succeed or fail together (`transaction`) or each on its own (`batch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleKind {
    /// All or nothing.
    Transaction,
    /// Independent entries.
    Batch,
}

/// A `transaction` or `batch` being built: `service.transaction().create(&p).update(&o).send()`.
/// Every method chains; an entry that cannot be built (an invalid id, a conditional create with
/// no criteria) makes [`send`](Self::send) fail with that error before anything is sent.
#[must_use = "a transaction does nothing until .send()"]
pub struct TransactionBuilder<V: ClientVersion> {
    service: Service<V>,
    kind: BundleKind,
    entries: Vec<Value>,
    next_uuid: u64,
    /// The first entry that could not be built.
    error: Option<Error>,
    _v: PhantomData<V>,
}

impl<V: ClientVersion> std::fmt::Debug for TransactionBuilder<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionBuilder")
            .field("kind", &self.kind)
            .field("entries", &self.entries.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

fn obj(members: Vec<(&str, Value)>) -> Value {
    Value::Object(members.into_iter().map(|(k, v)| (k.to_string(), v)).collect::<Members>())
}

fn string(s: impl Into<String>) -> Value {
    Value::String(s.into())
}

impl<V: ClientVersion> TransactionBuilder<V> {
    pub(crate) fn new(service: Service<V>, kind: BundleKind) -> Self {
        TransactionBuilder { service, kind, entries: Vec::new(), next_uuid: 0, error: None, _v: PhantomData }
    }

    /// Keeps the first error of an entry that could not be built.
    fn failed(mut self, e: Error) -> Self {
        self.error.get_or_insert(e);
        self
    }

    fn push(&mut self, full_url: Option<String>, resource: Option<Value>, request: Vec<(&str, Value)>) {
        let mut e = Vec::new();
        if let Some(u) = full_url {
            e.push(("fullUrl", string(u)));
        }
        if let Some(r) = resource {
            e.push(("resource", r));
        }
        e.push(("request", obj(request)));
        self.entries.push(obj(e));
    }

    /// A temporary id for a new resource (`urn:uuid:...`) that other entries can reference.
    /// Returns it so that references can be set before the resource is added.
    pub fn new_full_url(&mut self) -> String {
        self.next_uuid += 1;
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let n = nanos ^ (u128::from(self.next_uuid) << 64) ^ u128::from(std::process::id());
        let h = format!("{n:032x}");
        format!("urn:uuid:{}-{}-4{}-8{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
    }

    /// Creates `resource`.
    pub fn create<R: Resource<Version = V>>(self, resource: &R) -> Self {
        self.create_as(resource, None)
    }

    /// Creates `resource` under a temporary `fullUrl` (from [`new_full_url`](Self::new_full_url))
    /// that other entries' references may use.
    pub fn create_as<R: Resource<Version = V>>(mut self, resource: &R, full_url: Option<String>) -> Self {
        let body = json::to_value(resource);
        self.push(full_url, Some(body), vec![("method", string("POST")), ("url", string(R::TYPE))]);
        self
    }

    /// Creates `resource` unless one matching `query` exists (`R`'s typed search, or raw
    /// pairs).
    pub fn create_if_none_exist<R: Resource<Version = V>>(mut self, resource: &R, query: impl IntoSearch<R>) -> Self {
        let query = match if_none_exist(query) {
            Ok(q) => q,
            Err(e) => return self.failed(e),
        };
        let body = json::to_value(resource);
        self.push(
            None,
            Some(body),
            vec![("method", string("POST")), ("url", string(R::TYPE)), ("ifNoneExist", string(query))],
        );
        self
    }

    /// Replaces `resource` (by its id), with `If-Match` from its `meta.versionId`.
    pub fn update<R: Resource<Version = V>>(mut self, resource: &R) -> Self {
        let Some(id) = resource.id() else {
            return self.failed(Error::new(ErrorKind::Config, "update needs a resource with an id"));
        };
        let url = match segment(id) {
            Ok(id) => format!("{}/{id}", R::TYPE),
            Err(e) => return self.failed(e),
        };
        let mut request = vec![("method", string("PUT")), ("url", string(url))];
        if let Some(v) = resource.meta().and_then(V::version_id) {
            request.push(("ifMatch", string(format!("W/\"{v}\""))));
        }
        let body = json::to_value(resource);
        self.push(None, Some(body), request);
        self
    }

    /// Deletes `R/id`.
    pub fn delete<R: Resource<Version = V>>(self, id: &str) -> Self {
        self.on_id::<R>("DELETE", id)
    }

    /// Reads `R/id` as part of the Bundle.
    pub fn read<R: Resource<Version = V>>(self, id: &str) -> Self {
        self.on_id::<R>("GET", id)
    }

    /// An entry with no body on `R/id`.
    fn on_id<R: Resource<Version = V>>(mut self, method: &str, id: &str) -> Self {
        match segment(id) {
            Ok(id) => {
                let url = format!("{}/{id}", R::TYPE);
                self.push(None, None, vec![("method", string(method)), ("url", string(url))]);
                self
            }
            Err(e) => self.failed(e),
        }
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The Bundle as it will be sent.
    pub fn to_vec(&self) -> Vec<u8> {
        let kind = match self.kind {
            BundleKind::Transaction => "transaction",
            BundleKind::Batch => "batch",
        };
        let bundle = obj(vec![
            ("resourceType", string("Bundle")),
            ("type", string(kind)),
            ("entry", Value::Array(self.entries.clone())),
        ]);
        json::to_vec(&bundle)
    }

    /// Sends the Bundle; the response has one typed entry per entry sent, in order.
    pub async fn send(self) -> Result<TransactionResponse<V>, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let interaction = match self.kind {
            BundleKind::Transaction => "transaction",
            BundleKind::Batch => "batch",
        };
        self.service.check_system(interaction)?;
        let conn = self.service.connection();
        let url = conn.url("")?;
        let body = self.to_vec();
        let sent = self.entries.len();
        // Not idempotent: a 503 may come after some or all of it was done (a 429 is retried).
        let bundle: V::Bundle = conn.call(Method::POST, url.clone()).body(body).fetch().await?;
        let entries: Vec<TransactionEntry<V>> =
            V::entries(bundle).into_iter().map(TransactionEntry::from_entry).collect();
        if entries.len() != sent {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("sent {sent} entries but the server answered {}", entries.len()),
            )
            .with_request("POST", &url));
        }
        Ok(TransactionResponse { entries })
    }
}

/// The server's answer to a transaction or batch.
#[derive(Debug)]
pub struct TransactionResponse<V: ClientVersion> {
    /// One per entry sent, in the same order.
    pub entries: Vec<TransactionEntry<V>>,
}

/// The outcome of one entry.
#[derive(Debug)]
pub struct TransactionEntry<V: ClientVersion> {
    /// The HTTP status code of the entry (`201` for `"201 Created"`).
    pub status: u16,
    /// `response.location`: where a created or updated resource lives.
    pub location: Option<String>,
    /// `response.etag`.
    pub etag: Option<String>,
    /// The resource the server returned for this entry, if any.
    pub resource: Option<V::AnyResource>,
}

impl<V: ClientVersion> TransactionEntry<V> {
    fn from_entry(e: super::Entry<V::AnyResource>) -> Self {
        let status =
            e.status.as_deref().and_then(|s| s.split_whitespace().next()).and_then(|c| c.parse().ok()).unwrap_or(0);
        TransactionEntry { status, location: e.location, etag: e.etag, resource: e.resource }
    }

    /// Whether the entry succeeded (2xx).
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The returned resource as `R`, if it is one.
    pub fn resource_as<R: Resource<Version = V>>(&self) -> Option<R> {
        let r = self.resource.as_ref()?;
        (r.resource_type() == R::TYPE).then(|| R::from_any(r.clone()).ok()).flatten()
    }

    /// The id of the created or updated resource, from `location` (`Patient/123/_history/1`).
    pub fn id(&self) -> Option<&str> {
        let loc = self.location.as_deref()?;
        let mut parts = loc.split('/').collect::<Vec<_>>();
        if let Some(i) = parts.iter().position(|p| *p == "_history") {
            parts.truncate(i);
        }
        parts.last().copied()
    }

    /// The `OperationOutcome` of a failed batch entry, if the server gave one.
    pub fn outcome(&self) -> Option<Outcome> {
        let r = self.resource.as_ref()?;
        if r.resource_type() != "OperationOutcome" {
            return None;
        }
        Outcome::from_body(&json::to_vec(r))
    }
}

/// A service starts transactions and batches.
impl<V: ClientVersion> Service<V> {
    /// A `transaction` Bundle to build and send: all entries succeed or none does.
    pub fn transaction(&self) -> TransactionBuilder<V> {
        TransactionBuilder::new(self.clone(), BundleKind::Transaction)
    }

    /// A `batch` Bundle to build and send: each entry succeeds or fails on its own.
    pub fn batch(&self) -> TransactionBuilder<V> {
        TransactionBuilder::new(self.clone(), BundleKind::Batch)
    }
}
