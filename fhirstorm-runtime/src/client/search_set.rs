//! [`SearchSet`]: one page of search results, read from a `searchset` Bundle.

use url::Url;

use super::ClientVersion;
use crate::error::{redact_url, Error, ErrorKind};
use crate::json;
use crate::transport::under_base;
use crate::{AnyResourceOf, Resource};

/// One page of search results: the matches as `R`, included resources, the total and the link
/// to the next page.
pub struct SearchSet<V: ClientVersion, R> {
    pub(super) matches: Vec<R>,
    pub(super) included: Vec<V::AnyResource>,
    /// `Bundle.total`, when the server gives it.
    pub total: Option<u64>,
    pub(super) next: Option<Url>,
    pub(super) self_link: Option<String>,
    pub(super) ignored: Vec<String>,
    pub(super) deviations: Vec<json::Error>,
}

impl<V: ClientVersion, R: Resource<Version = V>> SearchSet<V, R> {
    /// Reads a search result page (a `searchset` Bundle) from JSON bytes, as the client does
    /// with a server's answer: matches of type `R`, everything else as included, and the `next`
    /// link resolved against `base` (refused when it points to another origin).
    ///
    /// Strict: an entry that does not fit the model fails the page. See
    /// [`from_slice_lenient`](Self::from_slice_lenient) for the client's default.
    pub fn from_slice(body: &[u8], base: &Url) -> Result<SearchSet<V, R>, Error> {
        let bundle: V::Bundle = json::from_slice(body).map_err(|e| {
            Error::new(ErrorKind::Parse, "the search result is not the FHIR JSON expected").with_source(e)
        })?;
        Self::from_bundle(json::Lenient { value: bundle, deviations: Vec::new() }, base)
    }

    /// [`from_slice`](Self::from_slice) in lenient mode, as the client reads pages by default:
    /// what does not fit the model is kept as it came and listed in
    /// [`deviations`](Self::deviations); an entry whose resource type this version does not
    /// know (or whose resource is not an object) is in neither the matches nor the included
    /// resources, and is a deviation too.
    pub fn from_slice_lenient(body: &[u8], base: &Url) -> Result<SearchSet<V, R>, Error> {
        let bundle = json::from_slice_lenient(body).map_err(|e| {
            Error::new(ErrorKind::Parse, "the search result is not the FHIR JSON expected").with_source(e)
        })?;
        Self::from_bundle(bundle, base)
    }

    pub(super) fn from_bundle(read: json::Lenient<V::Bundle>, base: &Url) -> Result<SearchSet<V, R>, Error> {
        Self::from_bundle_as(read, base, R::TYPE, R::from_any)
    }
}

impl<V: ClientVersion, R> SearchSet<V, R> {
    /// A page whose matches are the `search.mode = match` entries of type `ty`, each taken by
    /// `take` (which gives back what it does not take: an included resource).
    pub(super) fn from_bundle_as(
        read: json::Lenient<V::Bundle>,
        base: &Url,
        ty: &str,
        take: impl Fn(V::AnyResource) -> Result<R, V::AnyResource>,
    ) -> Result<SearchSet<V, R>, Error> {
        let json::Lenient { value: bundle, deviations } = read;
        let total = V::total(&bundle);
        let self_link = V::link(&bundle, "self").map(String::from);
        let next = match V::next_link(&bundle) {
            None => None,
            Some(link) => {
                let url = base.join(link).map_err(|e| {
                    Error::new(ErrorKind::Protocol, "invalid next link in the search Bundle").with_source(e)
                })?;
                // The policy: a next link outside the base (another origin, or another path of
                // the same host: another tenant) is refused, never followed.
                if !under_base(base, &url) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("the next link points outside the FHIR base ({}); not followed", redact_url(&url)),
                    ));
                }
                Some(url)
            }
        };
        let mut matches = Vec::new();
        let mut included = Vec::new();
        for entry in V::entries(bundle) {
            let Some(resource) = entry.resource else { continue };
            let is_match = entry.search_mode.as_deref().is_none_or(|m| m == "match") && resource.resource_type() == ty;
            if is_match {
                match take(resource) {
                    Ok(r) => matches.push(r),
                    Err(other) => included.push(other),
                }
            } else {
                included.push(resource);
            }
        }
        Ok(SearchSet { matches, included, total, next, self_link, ignored: Vec::new(), deviations })
    }

    /// The matching resources.
    pub fn matches(&self) -> &[R] {
        &self.matches
    }

    /// The matching resources, taken.
    pub fn into_matches(self) -> Vec<R> {
        self.matches
    }

    /// Resources the server included (`_include`, `_revinclude`, `OperationOutcome`s).
    pub fn included(&self) -> &[V::AnyResource] {
        &self.included
    }

    /// The included resources of type `T`.
    pub fn included_of<T: Resource<Version = V>>(&self) -> Vec<T> {
        self.included
            .iter()
            .filter(|r| r.resource_type() == T::TYPE)
            .filter_map(|r| T::from_any(r.clone()).ok())
            .collect()
    }

    /// Whether the server has another page.
    pub fn has_next(&self) -> bool {
        self.next.is_some()
    }

    /// Search parameters the server did not apply, judged by its `self` link (first page only).
    /// Empty when it applied all of them, or gave no `self` link.
    pub fn ignored_params(&self) -> &[String] {
        &self.ignored
    }

    /// What did not fit the model in this page, read leniently (the connection's default): each
    /// as the error a strict read returns, its path from the Bundle (`$.entry[3].resource.birthDate`).
    /// The member at fault is kept as it came, in its object's `unknown` members.
    pub fn deviations(&self) -> &[json::Error] {
        &self.deviations
    }

    /// The Bundle's `self` link: the search as the server understood it.
    pub fn self_link(&self) -> Option<&str> {
        self.self_link.as_deref()
    }
}

impl<V: ClientVersion, R: std::fmt::Debug> std::fmt::Debug for SearchSet<V, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchSet")
            .field("matches", &self.matches.len())
            .field("included", &self.included.len())
            .field("total", &self.total)
            .field("has_next", &self.next.is_some())
            .field("deviations", &self.deviations.len())
            .finish()
    }
}
