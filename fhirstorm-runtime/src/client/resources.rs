//! [`Resources`]: typed access to one resource type (read, create, update, delete, patch,
//! history, operations, search).

use std::marker::PhantomData;

use futures_util::stream::{self, Stream, TryStreamExt};
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;
use url::Url;

use super::connection::Connection;
use super::policy::{criteria, if_none_exist, operation_name, segment};
use super::search_set::SearchSet;
use super::service::Service;
use super::ClientVersion;
use crate::error::{Error, ErrorKind};
use crate::json;
use crate::search::IntoSearch;
use crate::transport::Response;
use crate::{AnyResourceOf, Resource};

/// Typed access to one resource type on a service: `service.r::<Patient>()`.
pub struct Resources<V: ClientVersion, R> {
    pub(super) service: Service<V>,
    pub(super) _r: PhantomData<fn() -> R>,
}

impl<V: ClientVersion, R> std::fmt::Debug for Resources<V, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resources").field("resource", &std::any::type_name::<R>()).finish_non_exhaustive()
    }
}

impl<V: ClientVersion, R: Resource<Version = V>> Resources<V, R> {
    pub(super) fn conn(&self) -> &Connection<V> {
        &self.service.conn
    }

    pub(super) fn typed<T: Resource<Version = V>>(&self, resp: &Response) -> Result<T, Error> {
        self.typed_read(resp).map(|read| read.value)
    }

    /// [`typed`](Self::typed), with the deviations of a lenient read.
    pub(super) fn typed_read<T: Resource<Version = V>>(&self, resp: &Response) -> Result<json::Lenient<T>, Error> {
        let read = read_as(self.conn(), resp, T::TYPE)?;
        let value = T::from_any(read.value).map_err(|other| wrong_type(resp, T::TYPE, other.resource_type()))?;
        Ok(json::Lenient { value, deviations: read.deviations })
    }

    /// Reads the current version of resource `id` (the Python FHIRstorm's `fetch`).
    pub async fn fetch(&self, id: &str) -> Result<R, Error> {
        self.fetch_with_deviations(id).await.map(|read| read.value)
    }

    /// [`fetch`](Self::fetch), with what did not fit the model (read leniently, the
    /// connection's default; none when the connection is strict): each as the error a strict
    /// read gives, its path from the resource.
    pub async fn fetch_with_deviations(&self, id: &str) -> Result<json::Lenient<R>, Error> {
        self.service.check(R::TYPE, "read")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        self.typed_read(&resp)
    }

    /// Reads version `version` of resource `id`.
    pub async fn vread(&self, id: &str, version: &str) -> Result<R, Error> {
        self.service.check(R::TYPE, "vread")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?, "_history", segment(version)?])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        self.typed(&resp)
    }

    /// Creates `resource` (its id is ignored by the server) and returns what the server stored.
    pub async fn create(&self, resource: &R) -> Result<R, Error> {
        self.create_with(resource, None).await
    }

    /// Creates `resource` unless one matching `query` exists (`If-None-Exist`): a conditional
    /// create. `query` is `R`'s typed search (`Patient::search().identifier(..)`), escaped as a
    /// search is, or raw `(name, value)` pairs.
    pub async fn create_if_none_exist(&self, resource: &R, query: impl IntoSearch<R>) -> Result<R, Error> {
        self.create_with(resource, Some(&if_none_exist(query)?)).await
    }

    pub(super) async fn create_with(&self, resource: &R, if_none_exist: Option<&str>) -> Result<R, Error> {
        self.service.check(R::TYPE, "create")?;
        let mut call = self.conn().call(Method::POST, self.conn().url(R::TYPE)?).json(resource).prefer_representation();
        if let Some(q) = if_none_exist {
            call = call.header(HeaderName::from_static("if-none-exist"), header_value(q)?);
        }
        self.representation(call.send().await?).await
    }

    /// Replaces resource `resource.id`, sending `If-Match` from its `meta.versionId` so that a
    /// change made meanwhile by someone else fails (HTTP 412, [`Error::is_precondition_failed`])
    /// instead of being overwritten.
    pub async fn update(&self, resource: &R) -> Result<R, Error> {
        self.service.check(R::TYPE, "update")?;
        let id = resource.id().ok_or_else(|| Error::new(ErrorKind::Config, "update needs a resource with an id"))?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let mut call = self.conn().call(Method::PUT, url).json(resource).prefer_representation();
        if let Some(v) = resource.meta().and_then(V::version_id) {
            call = call.header(reqwest::header::IF_MATCH, header_value(&format!("W/\"{v}\""))?);
        }
        self.representation(call.send().await?).await
    }

    /// Deletes resource `id`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        self.service.check(R::TYPE, "delete")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        self.conn().call(Method::DELETE, url).send().await.map(drop)
    }

    /// The resource the server returned, or (when it returned none) the one its `Location` names.
    pub(super) async fn representation(&self, resp: Response) -> Result<R, Error> {
        self.typed(&located(self.conn(), resp).await?)
    }

    /// Searches and returns the first page. `query` is `R`'s typed builder
    /// (`MedicationRequest::search().patient(..)`), or raw `(name, value)` pairs (the Python FHIRstorm's
    /// `search(dict(patient=id))`).
    pub async fn search(&self, query: impl IntoSearch<R>) -> Result<SearchSet<V, R>, Error> {
        self.service.check(R::TYPE, "search-type")?;
        let pairs = query.into_pairs();
        let resp = search_response(self.conn(), R::TYPE, &pairs).await?;
        let page = SearchSet::from_bundle(self.typed_read(&resp)?, self.conn().base_url())?;
        check_ignored(self.conn(), R::TYPE, page, &pairs)
    }

    /// Applies a JSON Patch (RFC 6902) to resource `id` (STU3 and later) and returns the result.
    pub async fn patch(&self, id: &str, operations: &json::Value) -> Result<R, Error> {
        if !V::JSON_PATCH {
            return Err(Error::new(ErrorKind::Unsupported, format!("FHIR {} has no patch interaction", V::NAME)));
        }
        self.service.check(R::TYPE, "patch")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?])?;
        let call = self
            .conn()
            .call(Method::PATCH, url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json-patch+json"))
            .json(operations)
            .prefer_representation();
        self.representation(call.send().await?).await
    }

    pub(super) async fn page(&self, url: Url) -> Result<SearchSet<V, R>, Error> {
        let resp = self.conn().call(Method::GET, url).send().await?;
        let bundle = self.typed_read(&resp)?;
        SearchSet::from_bundle(bundle, self.conn().base_url())
    }

    /// The next page of a search, if there is one.
    pub async fn next_page(&self, page: &SearchSet<V, R>) -> Result<Option<SearchSet<V, R>>, Error> {
        match &page.next {
            None => Ok(None),
            Some(next) => self.page(next.clone()).await.map(Some),
        }
    }

    /// All pages of a search, fetched one at a time as the stream is read (at most one page is
    /// held), following the server's `next` links.
    pub fn search_pages(&self, query: impl IntoSearch<R>) -> impl Stream<Item = Result<SearchSet<V, R>, Error>> + '_ {
        let params: Vec<(String, String)> = query.into_pairs();
        enum State<P> {
            Start(Vec<(String, String)>),
            Next(P),
            Done,
        }
        stream::try_unfold(State::<Url>::Start(params), move |state| async move {
            let page = match state {
                State::Done => return Ok(None),
                State::Start(params) => self.search(params).await?,
                State::Next(url) => self.page(url).await?,
            };
            let next = match &page.next {
                Some(u) => State::Next(u.clone()),
                None => State::Done,
            };
            Ok(Some((page, next)))
        })
    }

    /// Every matching resource of a search, across pages, as a stream.
    pub fn search_all(&self, query: impl IntoSearch<R>) -> impl Stream<Item = Result<R, Error>> + '_ {
        self.search_pages(query).map_ok(|page| stream::iter(page.into_matches().into_iter().map(Ok))).try_flatten()
    }

    /// Creates or replaces the one resource matching `query` (the typed search, or raw pairs):
    /// a conditional update.
    pub async fn update_where(&self, query: impl IntoSearch<R>, resource: &R) -> Result<R, Error> {
        self.service.check(R::TYPE, "update")?;
        let url = self.conditional_url(query, "a conditional update")?;
        let resp = self.conn().call(Method::PUT, url).json(resource).prefer_representation().send().await?;
        self.representation(resp).await
    }

    /// Deletes the resources matching `query` (the typed search, or raw pairs): a conditional
    /// delete.
    pub async fn delete_where(&self, query: impl IntoSearch<R>) -> Result<(), Error> {
        self.service.check(R::TYPE, "delete")?;
        let url = self.conditional_url(query, "a conditional delete")?;
        self.conn().call(Method::DELETE, url).send().await.map(drop)
    }

    /// `[base]/[type]?criteria`.
    fn conditional_url(&self, query: impl IntoSearch<R>, what: &str) -> Result<Url, Error> {
        let criteria = criteria(query, what)?;
        let mut url = self.conn().path(&[R::TYPE])?;
        url.query_pairs_mut().extend_pairs(criteria);
        Ok(url)
    }

    /// The history of every resource of this type, newest first, as a Bundle.
    pub async fn history_type(&self) -> Result<V::Bundle, Error> {
        self.service.check(R::TYPE, "history-type")?;
        let url = self.conn().path(&[R::TYPE, "_history"])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        self.typed(&resp)
    }

    /// Invokes an operation on the type (`id` None) or on one instance, with an optional
    /// `Parameters` body (POST) or none (GET). `name` is given without `$`.
    pub async fn operation(
        &self,
        id: Option<&str>,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        self.conn().operation(operation_url(self.conn(), R::TYPE, id, name)?, parameters).await
    }

    /// `$everything` on resource `id` (Patient, Encounter): the first Bundle the server returns
    /// of everything it holds about it.
    pub async fn everything(&self, id: &str) -> Result<V::Bundle, Error> {
        let url = self.conn().path(&[R::TYPE, segment(id)?, "$everything"])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        self.typed(&resp)
    }

    /// The history of resource `id`, newest first, as a Bundle.
    pub async fn history(&self, id: &str) -> Result<V::Bundle, Error> {
        self.service.check(R::TYPE, "history-instance")?;
        let url = self.conn().path(&[R::TYPE, segment(id)?, "_history"])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        self.typed(&resp)
    }
}

/// Longest search URL sent as a GET; longer searches are POSTed to `_search`.
pub(super) const MAX_GET_URL: usize = 2000;

/// `[base]/[ty]/$name` or `[base]/[ty]/[id]/$name`.
pub(super) fn operation_url<V: ClientVersion>(
    conn: &Connection<V>,
    ty: &str,
    id: Option<&str>,
    name: &str,
) -> Result<Url, Error> {
    let op = format!("${}", operation_name(name)?);
    match id {
        Some(id) => conn.path(&[ty, segment(id)?, &op]),
        None => conn.path(&[ty, &op]),
    }
}

/// The body of `resp` as any resource of the version, which must be of type `ty` (read as the
/// connection's conformance says).
pub(super) fn read_as<V: ClientVersion>(
    conn: &Connection<V>,
    resp: &Response,
    ty: &str,
) -> Result<json::Lenient<V::AnyResource>, Error> {
    // Read as any resource first, so that a resource of another type is a clear error.
    let read: json::Lenient<V::AnyResource> = conn.read_body(resp)?;
    match read.value.resource_type() {
        found if found == ty => Ok(read),
        found => Err(wrong_type(resp, ty, found)),
    }
}

fn wrong_type(resp: &Response, expected: &str, found: &str) -> Error {
    Error::new(ErrorKind::Parse, format!("expected a {expected}, the server sent a {found}"))
        .with_request(resp.method.as_str(), &resp.url)
}

/// The answer holding the resource after a create, update or patch: `resp` itself, or (when
/// the server returned no body) the answer to a read of its `Location`.
pub(super) async fn located<V: ClientVersion>(conn: &Connection<V>, resp: Response) -> Result<Response, Error> {
    if !resp.body.is_empty() {
        return Ok(resp);
    }
    let location =
        resp.headers.get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok()).ok_or_else(|| {
            Error::new(ErrorKind::Protocol, "the server returned neither the resource nor a Location")
        })?;
    let url =
        resp.url.join(location).map_err(|e| Error::new(ErrorKind::Protocol, "bad Location header").with_source(e))?;
    conn.call(Method::GET, url).send().await
}

/// A search of type `ty`: a GET, or (when the URL would be too long for many servers and
/// proxies) the form POSTed to `_search`.
pub(super) async fn search_response<V: ClientVersion>(
    conn: &Connection<V>,
    ty: &str,
    pairs: &[(String, String)],
) -> Result<Response, Error> {
    let mut url = conn.url(ty)?;
    url.query_pairs_mut().extend_pairs(pairs);
    if url.query() == Some("") {
        url.set_query(None);
    }
    if url.as_str().len() <= MAX_GET_URL {
        return conn.call(Method::GET, url).send().await;
    }
    let form = url.query().unwrap_or("").as_bytes().to_vec();
    conn.call(Method::POST, conn.path(&[ty, "_search"])?)
        .header(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"))
        .body(form)
        .idempotent(true)
        .send()
        .await
}

pub(super) fn header_value(v: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(v).map_err(|e| Error::new(ErrorKind::Config, "invalid header value").with_source(e))
}

/// Compares what was sent with the server's `self` link and records (or, when strict,
/// refuses) parameters the server did not apply.
pub(super) fn check_ignored<V: ClientVersion, R>(
    conn: &Connection<V>,
    ty: &str,
    mut page: SearchSet<V, R>,
    sent: &[(String, String)],
) -> Result<SearchSet<V, R>, Error> {
    let Some(link) = page.self_link.as_deref() else { return Ok(page) };
    let Ok(url) = conn.base_url().join(link) else { return Ok(page) };
    let applied: Vec<String> = url.query_pairs().map(|(k, _)| k.split(':').next().unwrap_or("").to_string()).collect();
    // Result-shaping parameters that servers commonly leave out of the self link.
    const SHAPING: &[&str] =
        &["_count", "_format", "_pretty", "_summary", "_elements", "_total", "_sort", "_include", "_revinclude"];
    let mut ignored: Vec<String> = sent
        .iter()
        .map(|(k, _)| k.split(':').next().unwrap_or("").split('.').next().unwrap_or("").to_string())
        .filter(|name| !SHAPING.contains(&name.as_str()) && !applied.contains(name))
        .collect();
    let mut seen = std::collections::HashSet::new();
    ignored.retain(|name| seen.insert(name.clone()));
    if !ignored.is_empty() {
        if conn.shared()?.strict_search {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!("the server ignored the search parameter(s) {}", ignored.join(", ")),
            ));
        }
        tracing::warn!(resource = ty, ignored = %ignored.join(","), "the server ignored search parameters");
    }
    page.ignored = ignored;
    Ok(page)
}

/// A service hands out typed access to its resource types.
impl<V: ClientVersion> Service<V> {
    /// Typed access to resource type `R` (the Python FHIRstorm's `service.r.Patient`).
    pub fn r<R: Resource<Version = V>>(&self) -> Resources<V, R> {
        Resources { service: self.clone(), _r: PhantomData }
    }
}
