//! The blocking [`AnyResources`]: [`client::AnyResources`]' calls, each driven to its end.

use super::service::{Iter, Matches, Pages, Service};
use super::Driver;
use crate::client::{self, ClientVersion, SearchSet};
use crate::error::Error;
use crate::json;

/// Access to a resource type named at run time, as [`client::AnyResources`].
pub struct AnyResources<V: ClientVersion> {
    inner: client::AnyResources<V>,
    driver: Driver,
}

impl<V: ClientVersion> std::fmt::Debug for AnyResources<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::AnyResources").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<V: ClientVersion> Service<V> {
    /// Access to resource type `resource_type` (`"Patient"`), for types chosen at run time
    /// ([`client::Service::r_named`]).
    pub fn r_named(&self, resource_type: &str) -> Result<AnyResources<V>, Error> {
        Ok(AnyResources { inner: self.as_async().r_named(resource_type)?, driver: self.driver().clone() })
    }
}

impl<V: ClientVersion> AnyResources<V> {
    /// The resource type.
    pub fn resource_type(&self) -> &'static str {
        self.inner.resource_type()
    }

    /// Reads the current version of resource `id`.
    pub fn fetch(&self, id: &str) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.fetch(id))
    }

    /// Reads version `version` of resource `id`.
    pub fn vread(&self, id: &str, version: &str) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.vread(id, version))
    }

    /// Creates the resource; returns it as the server stored it.
    pub fn create(&self, resource: &V::AnyResource) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.create(resource))
    }

    /// Updates the resource (by its id, with its version as `If-Match` when it has one).
    pub fn update(&self, resource: &V::AnyResource) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.update(resource))
    }

    /// Deletes resource `id`.
    pub fn delete(&self, id: &str) -> Result<(), Error> {
        self.driver.block_on(self.inner.delete(id))
    }

    /// Searches with `(name, value)` pairs and returns the first page.
    pub fn search<K: AsRef<str>, S: AsRef<str>>(
        &self,
        params: impl IntoIterator<Item = (K, S)>,
    ) -> Result<SearchSet<V, V::AnyResource>, Error> {
        self.driver.block_on(self.inner.search(params))
    }

    /// The next page of a search, if there is one.
    pub fn next_page(
        &self,
        page: &SearchSet<V, V::AnyResource>,
    ) -> Result<Option<SearchSet<V, V::AnyResource>>, Error> {
        self.driver.block_on(self.inner.next_page(page))
    }

    /// All pages of a search, each fetched when the iterator reaches it.
    pub fn search_pages(&self, params: Vec<(String, String)>) -> Pages<'_, V, V::AnyResource> {
        Pages(Iter::new(Box::pin(self.inner.search_pages(params)), &self.driver))
    }

    /// Every matching resource across pages, a page fetched when the iterator reaches it.
    pub fn search_all(&self, params: Vec<(String, String)>) -> Matches<'_, V::AnyResource> {
        Matches(Iter::new(Box::pin(self.inner.search_all(params)), &self.driver))
    }

    /// An operation on the type (`id` None) or one instance ([`client::AnyResources::operation`]).
    pub fn operation(
        &self,
        id: Option<&str>,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.operation(id, name, parameters))
    }
}
