//! The blocking [`Service`] and [`Resources`], and search results as iterators ([`Pages`],
//! [`Matches`]): each method is its async twin's, driven to its end.

use futures_util::stream::LocalBoxStream;
use futures_util::StreamExt;

use super::{Connection, Driver};
use crate::client::{self, ClientVersion, RestCapabilities, SearchSet, TransactionBuilder, TransactionResponse};
use crate::error::Error;
use crate::json;
use crate::search::IntoSearch;
use crate::Resource;

/// One `rest` entry of the server's capability statement, as [`client::Service`].
pub struct Service<V: ClientVersion> {
    inner: client::Service<V>,
    driver: Driver,
}

impl<V: ClientVersion> Clone for Service<V> {
    fn clone(&self) -> Self {
        Service { inner: self.inner.clone(), driver: self.driver.clone() }
    }
}

impl<V: ClientVersion> std::fmt::Debug for Service<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Service").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<V: ClientVersion> Service<V> {
    pub(super) fn new(inner: client::Service<V>, driver: Driver) -> Self {
        Service { inner, driver }
    }

    /// The connection this service belongs to.
    pub fn connection(&self) -> Connection<V> {
        Connection { inner: self.inner.connection().clone(), driver: self.driver.clone() }
    }

    /// The async service.
    pub fn as_async(&self) -> &client::Service<V> {
        &self.inner
    }

    pub(super) fn driver(&self) -> &Driver {
        &self.driver
    }

    /// What the service advertises.
    pub fn capabilities(&self) -> &RestCapabilities {
        self.inner.capabilities()
    }

    /// The resource types the service advertises.
    pub fn resources(&self) -> Vec<&str> {
        self.inner.resources()
    }

    /// Typed access to resource type `R`: `service.r::<Patient>().fetch("123")`.
    pub fn r<R: Resource<Version = V>>(&self) -> Resources<V, R> {
        Resources { inner: self.inner.r::<R>(), driver: self.driver.clone() }
    }

    /// How many resources of `resource_type` match `params` ([`client::Service::count`]).
    pub fn count<K: AsRef<str>, S: AsRef<str>>(
        &self,
        resource_type: &str,
        params: impl IntoIterator<Item = (K, S)>,
    ) -> Result<Option<u64>, Error> {
        self.driver.block_on(self.inner.count(resource_type, params))
    }

    /// Reads the resource a reference points to ([`client::Service::resolve`]).
    pub fn resolve(&self, reference: &str, context: Option<&V::AnyResource>) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.resolve(reference, context))
    }

    /// [`resolve`](Self::resolve), expecting a resource of type `R`.
    pub fn resolve_as<R: Resource<Version = V>>(
        &self,
        reference: &str,
        context: Option<&V::AnyResource>,
    ) -> Result<R, Error> {
        self.driver.block_on(self.inner.resolve_as::<R>(reference, context))
    }

    /// A transaction to build, then [`send`](Self::send).
    pub fn transaction(&self) -> TransactionBuilder<V> {
        self.inner.transaction()
    }

    /// A batch to build, then [`send`](Self::send).
    pub fn batch(&self) -> TransactionBuilder<V> {
        self.inner.batch()
    }

    /// Sends a transaction or batch and returns the answer for each entry.
    pub fn send(&self, bundle: TransactionBuilder<V>) -> Result<TransactionResponse<V>, Error> {
        self.driver.block_on(bundle.send())
    }

    /// The history of every resource on the server, as a Bundle.
    pub fn history(&self) -> Result<V::Bundle, Error> {
        self.driver.block_on(self.inner.history())
    }

    /// A system-level operation (`name` without `$`) ([`client::Service::operation`]).
    pub fn operation(&self, name: &str, parameters: Option<&dyn json::ToJsonDyn>) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.operation(name, parameters))
    }
}

/// Typed access to one resource type, as [`client::Resources`].
pub struct Resources<V: ClientVersion, R> {
    inner: client::Resources<V, R>,
    driver: Driver,
}

impl<V: ClientVersion, R> std::fmt::Debug for Resources<V, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resources").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<V: ClientVersion, R: Resource<Version = V>> Resources<V, R> {
    /// Reads the current version of resource `id`.
    pub fn fetch(&self, id: &str) -> Result<R, Error> {
        self.driver.block_on(self.inner.fetch(id))
    }

    /// [`fetch`](Self::fetch), with what did not fit the model.
    pub fn fetch_with_deviations(&self, id: &str) -> Result<json::Lenient<R>, Error> {
        self.driver.block_on(self.inner.fetch_with_deviations(id))
    }

    /// Reads version `version` of resource `id`.
    pub fn vread(&self, id: &str, version: &str) -> Result<R, Error> {
        self.driver.block_on(self.inner.vread(id, version))
    }

    /// Creates the resource; returns it as the server stored it.
    pub fn create(&self, resource: &R) -> Result<R, Error> {
        self.driver.block_on(self.inner.create(resource))
    }

    /// Creates the resource unless one matches `query` (a conditional create).
    pub fn create_if_none_exist(&self, resource: &R, query: impl IntoSearch<R>) -> Result<R, Error> {
        self.driver.block_on(self.inner.create_if_none_exist(resource, query))
    }

    /// Updates the resource (by its id, with its version as `If-Match` when it has one).
    pub fn update(&self, resource: &R) -> Result<R, Error> {
        self.driver.block_on(self.inner.update(resource))
    }

    /// Creates or replaces the one resource matching `query` (a conditional update).
    pub fn update_where(&self, query: impl IntoSearch<R>, resource: &R) -> Result<R, Error> {
        self.driver.block_on(self.inner.update_where(query, resource))
    }

    /// Deletes resource `id`.
    pub fn delete(&self, id: &str) -> Result<(), Error> {
        self.driver.block_on(self.inner.delete(id))
    }

    /// Deletes the resources matching `query` (a conditional delete).
    pub fn delete_where(&self, query: impl IntoSearch<R>) -> Result<(), Error> {
        self.driver.block_on(self.inner.delete_where(query))
    }

    /// Applies a JSON Patch to resource `id`.
    pub fn patch(&self, id: &str, operations: &json::Value) -> Result<R, Error> {
        self.driver.block_on(self.inner.patch(id, operations))
    }

    /// Searches and returns the first page (`query`: `R`'s typed builder or raw pairs).
    pub fn search(&self, query: impl IntoSearch<R>) -> Result<SearchSet<V, R>, Error> {
        self.driver.block_on(self.inner.search(query))
    }

    /// The next page of a search, if there is one.
    pub fn next_page(&self, page: &SearchSet<V, R>) -> Result<Option<SearchSet<V, R>>, Error> {
        self.driver.block_on(self.inner.next_page(page))
    }

    /// All pages of a search, each fetched when the iterator reaches it.
    pub fn search_pages(&self, query: impl IntoSearch<R>) -> Pages<'_, V, R> {
        Pages(Iter::new(Box::pin(self.inner.search_pages(query)), &self.driver))
    }

    /// Every matching resource across pages, a page fetched when the iterator reaches it.
    pub fn search_all(&self, query: impl IntoSearch<R>) -> Matches<'_, R> {
        Matches(Iter::new(Box::pin(self.inner.search_all(query)), &self.driver))
    }

    /// The history of every resource of this type, as a Bundle.
    pub fn history_type(&self) -> Result<V::Bundle, Error> {
        self.driver.block_on(self.inner.history_type())
    }

    /// The history of resource `id`, as a Bundle.
    pub fn history(&self, id: &str) -> Result<V::Bundle, Error> {
        self.driver.block_on(self.inner.history(id))
    }

    /// `$everything` on resource `id`: the first Bundle.
    pub fn everything(&self, id: &str) -> Result<V::Bundle, Error> {
        self.driver.block_on(self.inner.everything(id))
    }

    /// An operation on the type (`id` None) or one instance ([`client::Resources::operation`]).
    pub fn operation(
        &self,
        id: Option<&str>,
        name: &str,
        parameters: Option<&dyn json::ToJsonDyn>,
    ) -> Result<V::AnyResource, Error> {
        self.driver.block_on(self.inner.operation(id, name, parameters))
    }
}

/// A stream driven one item at a time; after an error, it ends.
pub(super) struct Iter<'a, T> {
    stream: Option<LocalBoxStream<'a, Result<T, Error>>>,
    driver: &'a Driver,
}

impl<'a, T> Iter<'a, T> {
    pub(super) fn new(stream: LocalBoxStream<'a, Result<T, Error>>, driver: &'a Driver) -> Self {
        Iter { stream: Some(stream), driver }
    }
}

impl<T> Iterator for Iter<'_, T> {
    type Item = Result<T, Error>;

    fn next(&mut self) -> Option<Result<T, Error>> {
        let item = self.driver.block_on(self.stream.as_mut()?.next());
        if !matches!(item, Some(Ok(_))) {
            self.stream = None;
        }
        item
    }
}

/// The pages of a search ([`Resources::search_pages`]).
pub struct Pages<'a, V: ClientVersion, R>(pub(super) Iter<'a, SearchSet<V, R>>);

impl<V: ClientVersion, R> std::fmt::Debug for Pages<'_, V, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

impl<V: ClientVersion, R> Iterator for Pages<'_, V, R> {
    type Item = Result<SearchSet<V, R>, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

/// The matches of a search across its pages ([`Resources::search_all`]).
pub struct Matches<'a, R>(pub(super) Iter<'a, R>);

impl<R> std::fmt::Debug for Matches<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matches").finish_non_exhaustive()
    }
}

impl<R> Iterator for Matches<'_, R> {
    type Item = Result<R, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}
