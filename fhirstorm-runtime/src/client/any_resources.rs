//! [`AnyResources`]: the calls of [`Resources`](super::Resources) for a resource type named at
//! run time (a command-line tool, a generic browser), with resources as the version's
//! `AnyResource`. The requests, checks and errors are the typed ones'.

use futures_util::stream::{self, Stream, TryStreamExt};
use reqwest::Method;
use url::Url;

use super::connection::Connection;
use super::policy::segment;
use super::resources::{check_ignored, header_value, located, operation_url, read_as, search_response};
use super::search_set::SearchSet;
use super::service::Service;
use super::ClientVersion;
use crate::error::{Error, ErrorKind};
use crate::json;
use crate::AnyResourceOf;

/// Access to one resource type named at run time: `service.r_named("Patient")?`. What it reads
/// is checked to be of that type; what it writes must be.
pub struct AnyResources<V: ClientVersion> {
    service: Service<V>,
    ty: &'static str,
}

impl<V: ClientVersion> Clone for AnyResources<V> {
    fn clone(&self) -> Self {
        AnyResources { service: self.service.clone(), ty: self.ty }
    }
}

impl<V: ClientVersion> std::fmt::Debug for AnyResources<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnyResources").field("type", &self.ty).finish()
    }
}

impl<V: ClientVersion> Service<V> {
    /// Access to resource type `resource_type` (`"Patient"`), for types chosen at run time; an
    /// error when the version has no such type. Typed code uses [`r`](Self::r).
    pub fn r_named(&self, resource_type: &str) -> Result<AnyResources<V>, Error> {
        let ty = V::resource_type(resource_type).ok_or_else(|| {
            Error::new(ErrorKind::Config, format!("FHIR {} has no resource type {resource_type:?}", V::NAME))
        })?;
        Ok(AnyResources { service: self.clone(), ty })
    }
}

impl<V: ClientVersion> AnyResources<V> {
    fn conn(&self) -> &Connection<V> {
        &self.service.conn
    }

    /// The resource type.
    pub fn resource_type(&self) -> &'static str {
        self.ty
    }

    /// Reads the current version of resource `id`.
    pub async fn fetch(&self, id: &str) -> Result<V::AnyResource, Error> {
        self.service.check(self.ty, "read")?;
        let url = self.conn().path(&[self.ty, segment(id)?])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        read_as(self.conn(), &resp, self.ty).map(|read| read.value)
    }

    /// Reads version `version` of resource `id`.
    pub async fn vread(&self, id: &str, version: &str) -> Result<V::AnyResource, Error> {
        self.service.check(self.ty, "vread")?;
        let url = self.conn().path(&[self.ty, segment(id)?, "_history", segment(version)?])?;
        let resp = self.conn().call(Method::GET, url).send().await?;
        read_as(self.conn(), &resp, self.ty).map(|read| read.value)
    }

    /// Creates `resource` (its id is ignored by the server) and returns what the server stored.
    pub async fn create(&self, resource: &V::AnyResource) -> Result<V::AnyResource, Error> {
        self.check_type(resource)?;
        self.service.check(self.ty, "create")?;
        let call = self.conn().call(Method::POST, self.conn().url(self.ty)?).json(resource).prefer_representation();
        self.stored(call.send().await?).await
    }

    /// Replaces resource `resource.id`, with `If-Match` from its `meta.versionId` (as
    /// [`Resources::update`](super::Resources::update) does).
    pub async fn update(&self, resource: &V::AnyResource) -> Result<V::AnyResource, Error> {
        self.check_type(resource)?;
        self.service.check(self.ty, "update")?;
        let id = resource.id().ok_or_else(|| Error::new(ErrorKind::Config, "update needs a resource with an id"))?;
        let url = self.conn().path(&[self.ty, segment(id)?])?;
        let mut call = self.conn().call(Method::PUT, url).json(resource).prefer_representation();
        let value = json::to_value(resource);
        if let Some(v) = value.get("meta").and_then(|m| m.get("versionId")).and_then(json::Value::as_str) {
            call = call.header(reqwest::header::IF_MATCH, header_value(&format!("W/\"{v}\""))?);
        }
        self.stored(call.send().await?).await
    }

    /// Deletes resource `id`.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        self.service.check(self.ty, "delete")?;
        let url = self.conn().path(&[self.ty, segment(id)?])?;
        self.conn().call(Method::DELETE, url).send().await.map(drop)
    }

    /// Searches with `(name, value)` pairs and returns the first page.
    pub async fn search<K, S>(
        &self,
        params: impl IntoIterator<Item = (K, S)>,
    ) -> Result<SearchSet<V, V::AnyResource>, Error>
    where
        K: AsRef<str>,
        S: AsRef<str>,
    {
        self.service.check(self.ty, "search-type")?;
        let pairs: Vec<(String, String)> =
            params.into_iter().map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())).collect();
        let resp = search_response(self.conn(), self.ty, &pairs).await?;
        let page = self.read_page(&resp)?;
        check_ignored(self.conn(), self.ty, page, &pairs)
    }

    /// The next page of a search, if there is one.
    pub async fn next_page(
        &self,
        page: &SearchSet<V, V::AnyResource>,
    ) -> Result<Option<SearchSet<V, V::AnyResource>>, Error> {
        match &page.next {
            None => Ok(None),
            Some(next) => self.page(next.clone()).await.map(Some),
        }
    }

    /// All pages of a search, fetched one at a time as the stream is read.
    pub fn search_pages(
        &self,
        params: Vec<(String, String)>,
    ) -> impl Stream<Item = Result<SearchSet<V, V::AnyResource>, Error>> + '_ {
        enum State {
            Start(Vec<(String, String)>),
            Next(Url),
            Done,
        }
        stream::try_unfold(State::Start(params), move |state| async move {
            let page = match state {
                State::Done => return Ok(None),
                State::Start(params) => self.search(params).await?,
                State::Next(url) => self.page(url).await?,
            };
            let next = page.next.clone().map_or(State::Done, State::Next);
            Ok(Some((page, next)))
        })
    }

    /// Every matching resource of a search, across pages, as a stream.
    pub fn search_all(&self, params: Vec<(String, String)>) -> impl Stream<Item = Result<V::AnyResource, Error>> + '_ {
        self.search_pages(params).map_ok(|page| stream::iter(page.into_matches().into_iter().map(Ok))).try_flatten()
    }

    /// Invokes an operation on the type (`id` None) or on one instance, with an optional
    /// `Parameters` body (POST) or none (GET). `name` is given without `$`.
    pub async fn operation(
        &self,
        id: Option<&str>,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        self.conn().operation(operation_url(self.conn(), self.ty, id, name)?, parameters).await
    }

    async fn page(&self, url: Url) -> Result<SearchSet<V, V::AnyResource>, Error> {
        let resp = self.conn().call(Method::GET, url).send().await?;
        self.read_page(&resp)
    }

    fn read_page(&self, resp: &crate::transport::Response) -> Result<SearchSet<V, V::AnyResource>, Error> {
        let bundle = read_as(self.conn(), resp, "Bundle")?;
        let bundle = json::Lenient {
            value: <V::Bundle as crate::Resource>::from_any(bundle.value).map_err(|_| {
                Error::new(ErrorKind::Parse, "expected a Bundle").with_request(resp.method.as_str(), &resp.url)
            })?,
            deviations: bundle.deviations,
        };
        SearchSet::from_bundle_as(bundle, self.conn().base_url(), self.ty, Ok)
    }

    async fn stored(&self, resp: crate::transport::Response) -> Result<V::AnyResource, Error> {
        let resp = located(self.conn(), resp).await?;
        read_as(self.conn(), &resp, self.ty).map(|read| read.value)
    }

    fn check_type(&self, resource: &V::AnyResource) -> Result<(), Error> {
        match resource.resource_type() {
            found if found == self.ty => Ok(()),
            found => Err(Error::new(ErrorKind::Config, format!("a {found} given to the {} resources", self.ty))),
        }
    }
}
