//! Typed search: each resource's generated builder (`Patient::search()`) has one method per
//! search parameter its FHIR version defines, taking a value of the parameter's kind, so that a
//! parameter of another resource, a value of the wrong kind or a reference to a target type the
//! parameter does not allow does not compile.
//!
//! ```
//! use fhirstorm::r4::{Observation, Patient};
//! use fhirstorm::search::{DateValue, TokenValue};
//!
//! let q = Observation::search()
//!     .subject(Patient::reference("123"))
//!     .code(TokenValue::code("http://loinc.org", "8867-4"))
//!     .date(DateValue::ge("2020-01"))
//!     .date(DateValue::lt("2021"));
//! assert_eq!(q.to_query_string(), "subject=Patient%2F123&code=http%3A%2F%2Floinc.org%7C8867-4&date=ge2020-01&date=lt2021");
//! ```
//!
//! What must not compile is checked, with the error rustc gives, by `tests/compile-fail/`.
//!
//! Several values of one call are OR (`TokenValue::any(..)`, comma-joined); calling a method
//! twice is AND. Values are escaped as FHIR says (`\,`, `\$`, `\|`, `\\`). [`Query::raw`] stays
//! for server-specific parameters.

mod params;
mod values;

use std::fmt::Write as _;
use std::marker::PhantomData;

pub use params::{Element, Include, RevIncludable, SortKey, Summary, Total};
pub use values::{
    Composite, DateValue, NumberValue, Prefix, QuantityValue, Ref, SearchValue, StringValue, TextValue, TokenValue,
    UriValue,
};

/// Escapes a search value: `\` `,` `$` `|` get a backslash.
pub fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | ',' | '$' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The parameters of a search on resource type `R`, in order.
#[must_use = "a query does nothing until a service runs it"]
pub struct Query<R> {
    params: Vec<(String, String)>,
    _r: PhantomData<fn() -> R>,
}

impl<R> Default for Query<R> {
    fn default() -> Self {
        Query { params: Vec::new(), _r: PhantomData }
    }
}

impl<R> Clone for Query<R> {
    fn clone(&self) -> Self {
        Query { params: self.params.clone(), _r: PhantomData }
    }
}

impl<R> std::fmt::Debug for Query<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.params.iter()).finish()
    }
}

// The methods below are generic over `R` only for the types: each does its work in a function
// compiled once (a version's search builders instantiate them for ~150 resource types).
impl<R> Query<R> {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter exactly as given (name with any modifier, value already escaped): the
    /// escape hatch for server-specific parameters.
    pub fn raw(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        push_pair(&mut self.params, name.into(), value.into());
        self
    }

    /// Adds a parameter as given, from borrowed text.
    pub(crate) fn pair(mut self, name: &str, value: &str) -> Self {
        push_str_pair(&mut self.params, name, value);
        self
    }

    /// Adds a typed value under `name` (the value supplies its modifier).
    pub(crate) fn add<V: SearchValue>(mut self, name: &str, value: V) -> Self {
        let (modifier, text) = value.render();
        push_value(&mut self.params, name, modifier, text);
        self
    }

    /// Adds a chained search: `subject:Patient.name=x` for each parameter of `inner`.
    pub(crate) fn chain<T>(mut self, name: &str, target: &str, inner: Query<T>) -> Self {
        push_prefixed(&mut self.params, &format!("{name}:{target}."), inner.params);
        self
    }

    /// Adds a reverse chain: `_has:Observation:subject:code=x` for each parameter of `inner`
    /// (`via` is `Observation:subject`).
    pub(crate) fn has<T>(mut self, via: &str, inner: Query<T>) -> Self {
        push_prefixed(&mut self.params, &format!("_has:{via}:"), inner.params);
        self
    }

    /// Adds a `_sort` key (merged into one `_sort` parameter, in call order).
    pub(crate) fn sort(mut self, code: &str, descending: bool) -> Self {
        push_sort(&mut self.params, code, descending);
        self
    }

    /// The parameters.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.params
    }

    /// The parameters, taken.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.params
    }

    /// The query string, form-encoded.
    pub fn to_query_string(&self) -> String {
        query_string(&self.params)
    }
}

type Pairs = Vec<(String, String)>;

#[inline(never)]
fn push_str_pair(params: &mut Pairs, name: &str, value: &str) {
    params.push((name.to_string(), value.to_string()));
}

#[inline(never)]
fn push_pair(params: &mut Pairs, name: String, value: String) {
    params.push((name, value));
}

fn push_value(params: &mut Pairs, name: &str, modifier: Option<&str>, text: String) {
    let key = match modifier {
        Some(m) => format!("{name}:{m}"),
        None => name.to_string(),
    };
    params.push((key, text));
}

fn push_prefixed(params: &mut Pairs, prefix: &str, inner: Pairs) {
    for (k, v) in inner {
        params.push((format!("{prefix}{k}"), v));
    }
}

fn push_sort(params: &mut Pairs, code: &str, descending: bool) {
    let key = if descending { format!("-{code}") } else { code.to_string() };
    match params.iter_mut().find(|(k, _)| k == "_sort") {
        Some((_, v)) => {
            v.push(',');
            v.push_str(&key);
        }
        None => params.push(("_sort".to_string(), key)),
    }
}

fn query_string(params: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in params.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        let _ = write!(s, "{}={}", form(k), form(v));
    }
    s
}

fn form(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// What `service.r::<R>().search(..)` accepts: `R`'s typed builder (`Patient::search()...`),
/// a [`Query<R>`], or raw `(name, value)` pairs (the escape hatch, as in the Python FHIRstorm's
/// `search(dict(patient=id))`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a search on `{R}`",
    label = "expected `{R}`'s search builder (`{R}::search()`), a `Query<{R}>` or (name, value) pairs"
)]
pub trait IntoSearch<R> {
    /// The parameters, as `(name, value)` pairs (values already escaped).
    fn into_pairs(self) -> Vec<(String, String)>;
}

impl<R> IntoSearch<R> for Query<R> {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.params
    }
}

impl<R, K: AsRef<str>, S: AsRef<str>, const N: usize> IntoSearch<R> for [(K, S); N] {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.into_iter().map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())).collect()
    }
}

impl<R, K: AsRef<str>, S: AsRef<str>> IntoSearch<R> for Vec<(K, S)> {
    fn into_pairs(self) -> Vec<(String, String)> {
        self.into_iter().map(|(k, v)| (k.as_ref().to_string(), v.as_ref().to_string())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(escape(r"a,b$c|d\e"), r"a\,b\$c\|d\\e");
        let q: Query<()> = Query::new().add("name", StringValue::any(["a,b", "c"]));
        assert_eq!(q.pairs(), &[("name".to_string(), r"a\,b,c".to_string())]);
    }
}
