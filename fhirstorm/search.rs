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
//! What must not compile is checked by the `compile_fail` examples of `compile_checks` (in
//! the source; built with the `r4`, `stu3` and `client` features).
//!
//! Several values of one call are OR (`TokenValue::any(..)`, comma-joined); calling a method
//! twice is AND. Values are escaped as FHIR says (`\,`, `\$`, `\|`, `\\`). [`Query::raw`] stays
//! for server-specific parameters.

use std::fmt::Write as _;
use std::marker::PhantomData;

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

impl<R> Query<R> {
    /// An empty query.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter exactly as given (name with any modifier, value already escaped): the
    /// escape hatch for server-specific parameters.
    pub fn raw(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Adds a typed value under `name` (the value supplies its modifier).
    #[doc(hidden)]
    pub fn add<V: SearchValue>(mut self, name: &str, value: V) -> Self {
        let (modifier, text) = value.render();
        let key = match modifier {
            Some(m) => format!("{name}:{m}"),
            None => name.to_string(),
        };
        self.params.push((key, text));
        self
    }

    /// Adds a chained search: `subject:Patient.name=x` for each parameter of `inner`.
    #[doc(hidden)]
    pub fn chain<T>(mut self, name: &str, target: &str, inner: Query<T>) -> Self {
        for (k, v) in inner.params {
            self.params.push((format!("{name}:{target}.{k}"), v));
        }
        self
    }

    /// Adds a reverse chain: `_has:Observation:subject:code=x` for each parameter of `inner`
    /// (`via` is `Observation:subject`).
    #[doc(hidden)]
    pub fn has<T>(mut self, via: &str, inner: Query<T>) -> Self {
        for (k, v) in inner.params {
            self.params.push((format!("_has:{via}:{k}"), v));
        }
        self
    }

    /// Adds a `_sort` key (merged into one `_sort` parameter, in call order).
    #[doc(hidden)]
    pub fn sort(mut self, code: &str, descending: bool) -> Self {
        let key = if descending { format!("-{code}") } else { code.to_string() };
        match self.params.iter_mut().find(|(k, _)| k == "_sort") {
            Some((_, v)) => {
                v.push(',');
                v.push_str(&key);
            }
            None => self.params.push(("_sort".to_string(), key)),
        }
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
        let mut s = String::new();
        for (i, (k, v)) in self.params.iter().enumerate() {
            if i > 0 {
                s.push('&');
            }
            let _ = write!(s, "{}={}", form(k), form(v));
        }
        s
    }
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

/// A value of some search parameter kind: its modifier, and its text.
pub trait SearchValue {
    /// `(modifier, text)`.
    fn render(self) -> (Option<&'static str>, String);
}

/// Comparison prefixes of date, number and quantity parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl Prefix {
    fn as_str(self) -> &'static str {
        match self {
            Prefix::Eq => "",
            Prefix::Ne => "ne",
            Prefix::Gt => "gt",
            Prefix::Lt => "lt",
            Prefix::Ge => "ge",
            Prefix::Le => "le",
            Prefix::Sa => "sa",
            Prefix::Eb => "eb",
            Prefix::Ap => "ap",
        }
    }
}

macro_rules! value_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            modifier: Option<&'static str>,
            values: Vec<String>,
        }

        impl SearchValue for $name {
            fn render(self) -> (Option<&'static str>, String) {
                (self.modifier, self.values.join(","))
            }
        }

        impl $name {
            fn one(modifier: Option<&'static str>, text: String) -> Self {
                $name { modifier, values: vec![text] }
            }

            /// `:missing=true|false`: whether the element is absent.
            pub fn missing(missing: bool) -> Self {
                Self::one(Some("missing"), missing.to_string())
            }
        }
    };
}

value_type!(
    /// A `string` parameter's value: starts-with by default; `exact`, `contains`.
    StringValue
);
value_type!(
    /// A `token` parameter's value: `code`, `system|code`, `system|`; `text`, `not`, `above`, `below`, `in`, `not_in`, `of_type`.
    TokenValue
);
value_type!(
    /// A `date` parameter's value with its prefix: `DateValue::ge("2020-01")`.
    DateValue
);
value_type!(
    /// A `number` parameter's value with its prefix.
    NumberValue
);
value_type!(
    /// A `quantity` parameter's value: `[prefix]number|system|code`.
    QuantityValue
);
value_type!(
    /// A `uri` parameter's value; `above`, `below`.
    UriValue
);
value_type!(
    /// A `special` or `composite` parameter's value, as text (escaped).
    TextValue
);

impl<T: AsRef<str>> From<T> for StringValue {
    fn from(s: T) -> Self {
        Self::one(None, escape(s.as_ref()))
    }
}

impl StringValue {
    /// `:exact`.
    pub fn exact(s: &str) -> Self {
        Self::one(Some("exact"), escape(s))
    }
    /// `:contains`.
    pub fn contains(s: &str) -> Self {
        Self::one(Some("contains"), escape(s))
    }
    /// Any of these (OR).
    pub fn any<I: IntoIterator<Item = S>, S: AsRef<str>>(values: I) -> Self {
        StringValue { modifier: None, values: values.into_iter().map(|s| escape(s.as_ref())).collect() }
    }
}

impl<T: AsRef<str>> From<T> for TokenValue {
    /// A code in any system.
    fn from(code: T) -> Self {
        Self::one(None, escape(code.as_ref()))
    }
}

impl TokenValue {
    /// `system|code`.
    pub fn code(system: &str, code: &str) -> Self {
        Self::one(None, format!("{}|{}", escape(system), escape(code)))
    }
    /// `|code`: a code with no system.
    pub fn code_without_system(code: &str) -> Self {
        Self::one(None, format!("|{}", escape(code)))
    }
    /// `system|`: any code of the system.
    pub fn system(system: &str) -> Self {
        Self::one(None, format!("{}|", escape(system)))
    }
    /// `:text`.
    pub fn text(s: &str) -> Self {
        Self::one(Some("text"), escape(s))
    }
    /// `:not` `system|code`.
    pub fn not(system: &str, code: &str) -> Self {
        Self::one(Some("not"), format!("{}|{}", escape(system), escape(code)))
    }
    /// `:above` `system|code` (subsumes).
    pub fn above(system: &str, code: &str) -> Self {
        Self::one(Some("above"), format!("{}|{}", escape(system), escape(code)))
    }
    /// `:below` `system|code` (subsumed by).
    pub fn below(system: &str, code: &str) -> Self {
        Self::one(Some("below"), format!("{}|{}", escape(system), escape(code)))
    }
    /// `:in` a value set.
    pub fn in_value_set(url: &str) -> Self {
        Self::one(Some("in"), escape(url))
    }
    /// `:not-in` a value set.
    pub fn not_in_value_set(url: &str) -> Self {
        Self::one(Some("not-in"), escape(url))
    }
    /// `:of-type` (identifiers): `system|code|value`.
    pub fn of_type(system: &str, code: &str, value: &str) -> Self {
        Self::one(Some("of-type"), format!("{}|{}|{}", escape(system), escape(code), escape(value)))
    }
    /// Any of these (OR), each `code` or `system|code` as built by the constructors above
    /// without a modifier.
    pub fn any<I: IntoIterator<Item = TokenValue>>(values: I) -> Self {
        TokenValue { modifier: None, values: values.into_iter().flat_map(|v| v.values).collect() }
    }
}

macro_rules! prefixed {
    ($t:ident, $arg:ty, $conv:expr) => {
        impl $t {
            /// With an explicit prefix.
            pub fn with(prefix: Prefix, v: $arg) -> Self {
                let conv: fn($arg) -> String = $conv;
                Self::one(None, format!("{}{}", prefix.as_str(), conv(v)))
            }
            /// Equal (no prefix).
            pub fn eq(v: $arg) -> Self {
                Self::with(Prefix::Eq, v)
            }
            /// `ne`
            pub fn ne(v: $arg) -> Self {
                Self::with(Prefix::Ne, v)
            }
            /// `gt`
            pub fn gt(v: $arg) -> Self {
                Self::with(Prefix::Gt, v)
            }
            /// `lt`
            pub fn lt(v: $arg) -> Self {
                Self::with(Prefix::Lt, v)
            }
            /// `ge`
            pub fn ge(v: $arg) -> Self {
                Self::with(Prefix::Ge, v)
            }
            /// `le`
            pub fn le(v: $arg) -> Self {
                Self::with(Prefix::Le, v)
            }
            /// `sa` (starts after)
            pub fn sa(v: $arg) -> Self {
                Self::with(Prefix::Sa, v)
            }
            /// `eb` (ends before)
            pub fn eb(v: $arg) -> Self {
                Self::with(Prefix::Eb, v)
            }
            /// `ap` (approximately)
            pub fn ap(v: $arg) -> Self {
                Self::with(Prefix::Ap, v)
            }
        }
    };
}

prefixed!(DateValue, &str, |s| escape(s));
prefixed!(NumberValue, &str, |s| escape(s));

impl From<&crate::Date> for DateValue {
    fn from(d: &crate::Date) -> Self {
        DateValue::eq(d.as_str())
    }
}
impl From<&crate::DateTime> for DateValue {
    fn from(d: &crate::DateTime) -> Self {
        DateValue::eq(d.as_str())
    }
}
impl From<&str> for DateValue {
    fn from(d: &str) -> Self {
        DateValue::eq(d)
    }
}
impl From<i64> for NumberValue {
    fn from(n: i64) -> Self {
        NumberValue::eq(&n.to_string())
    }
}
impl From<&crate::Decimal> for NumberValue {
    fn from(d: &crate::Decimal) -> Self {
        NumberValue::eq(d.as_str())
    }
}

impl QuantityValue {
    /// `[prefix]number|system|code`.
    pub fn new(prefix: Prefix, number: &str, system: &str, code: &str) -> Self {
        Self::one(None, format!("{}{}|{}|{}", prefix.as_str(), escape(number), escape(system), escape(code)))
    }
    /// `[prefix]number` in any unit.
    pub fn number(prefix: Prefix, number: &str) -> Self {
        Self::one(None, format!("{}{}", prefix.as_str(), escape(number)))
    }
}

impl<T: AsRef<str>> From<T> for UriValue {
    fn from(s: T) -> Self {
        Self::one(None, escape(s.as_ref()))
    }
}

impl UriValue {
    /// `:above`: the URI or any it is a prefix-path of.
    pub fn above(s: &str) -> Self {
        Self::one(Some("above"), escape(s))
    }
    /// `:below`: the URI or any below it.
    pub fn below(s: &str) -> Self {
        Self::one(Some("below"), escape(s))
    }
}

impl<T: AsRef<str>> From<T> for TextValue {
    fn from(s: T) -> Self {
        Self::one(None, escape(s.as_ref()))
    }
}

/// A reference to a resource of type `T`, as a search value: `Patient::reference("123")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref<T> {
    text: String,
    _t: PhantomData<fn() -> T>,
}

impl<T: crate::Resource> Ref<T> {
    /// `Type/id`.
    pub fn to(id: &str) -> Self {
        Ref { text: format!("{}/{}", T::TYPE, escape(id)), _t: PhantomData }
    }
}

impl<T> SearchValue for Ref<T> {
    fn render(self) -> (Option<&'static str>, String) {
        (None, self.text)
    }
}

/// An `_include` of one of `R`'s reference parameters (generated constants such as
/// `Patient::INCLUDE_GENERAL_PRACTITIONER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Include<R> {
    value: &'static str,
    _r: PhantomData<fn() -> R>,
}

impl<R> Include<R> {
    #[doc(hidden)]
    pub const fn new(value: &'static str) -> Self {
        Include { value, _r: PhantomData }
    }
    /// An `_include` by name (`MedicationOrder:patient`), not checked: for DSTU2, whose
    /// reference parameters no registry package defines, and server-specific parameters.
    pub const fn unchecked(value: &'static str) -> Self {
        Include { value, _r: PhantomData }
    }
    /// The `_include` value (`Patient:general-practitioner`).
    pub fn as_str(&self) -> &'static str {
        self.value
    }
}

/// A `_sort` key: one of `R`'s search parameters (generated constants such as
/// `Patient::SORT_BIRTHDATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey<R> {
    code: &'static str,
    _r: PhantomData<fn() -> R>,
}

impl<R> SortKey<R> {
    #[doc(hidden)]
    pub const fn new(code: &'static str) -> Self {
        SortKey { code, _r: PhantomData }
    }
    /// A `_sort` key by name, not checked: for DSTU2 (see [`Include::unchecked`]).
    pub const fn unchecked(code: &'static str) -> Self {
        SortKey { code, _r: PhantomData }
    }
    /// The parameter code.
    pub fn as_str(&self) -> &'static str {
        self.code
    }
}

/// An `_elements` entry: one of `R`'s elements (generated constants such as `Patient::ELEMENT_NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<R> {
    name: &'static str,
    _r: PhantomData<fn() -> R>,
}

impl<R> Element<R> {
    #[doc(hidden)]
    pub const fn new(name: &'static str) -> Self {
        Element { name, _r: PhantomData }
    }
    /// The element name.
    pub fn as_str(&self) -> &'static str {
        self.name
    }
}

/// A `_revinclude` usable in a search on `T`: implemented by the generated
/// `...RevInclude` types of the reference parameters that may point at `T`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a reference parameter that can point at a `{T}`",
    label = "this `_revinclude` cannot apply to a search on `{T}`"
)]
pub trait RevIncludable<T> {
    /// The `_revinclude` value (`Observation:subject`).
    const VALUE: &'static str;
    /// The resource type that holds the reference (`Observation`).
    type Source;
}

/// A composite parameter's value: its components, in the definition's order, joined by `$`
/// (`code-value-quantity=http://loinc.org|8480-6$gt140`). Generated methods take the tuple.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite<T>(pub T);

macro_rules! composite {
    ($($v:ident),+) => {
        impl<$($v: SearchValue),+> SearchValue for Composite<($($v,)+)> {
            fn render(self) -> (Option<&'static str>, String) {
                #[allow(non_snake_case)]
                let ($($v,)+) = self.0;
                // Components take no modifiers; their text is already escaped.
                let parts: Vec<String> = vec![$($v.render().1),+];
                (None, parts.join("$"))
            }
        }
    };
}
composite!(A, B);
composite!(A, B, C);
composite!(A, B, C, D);

/// The values of `_total` (R4): how precisely the server should count the matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Total {
    /// No total.
    None,
    /// A guess is fine.
    Estimate,
    /// The exact number.
    Accurate,
}

impl Total {
    /// The value as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Total::None => "none",
            Total::Estimate => "estimate",
            Total::Accurate => "accurate",
        }
    }
}

/// The values of `_summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Summary {
    True,
    Text,
    Data,
    Count,
    False,
}

impl Summary {
    /// The value as sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Summary::True => "true",
            Summary::Text => "text",
            Summary::Data => "data",
            Summary::Count => "count",
            Summary::False => "false",
        }
    }
}

/// What `service.r::<R>().search(..)` accepts: `R`'s typed builder (`Patient::search()...`),
/// a [`Query<R>`], or raw `(name, value)` pairs (the escape hatch, as in the seed's
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

/// Compile checks of typed search.
///
/// Each of these compiles (the controls of the cases below):
///
/// ```no_run
/// # use fhirstorm::{r4, stu3, search::*};
/// let _ = r4::Observation::search().code("x").code(TokenValue::code("s", "c"));
/// let _ = r4::Observation::search().subject(r4::Patient::reference("p"));
/// let _ = r4::Patient::search().include(r4::Patient::INCLUDE_GENERAL_PRACTITIONER);
/// let _ = r4::Patient::search().sort(r4::Patient::SORT_FAMILY);
/// let _ = r4::Patient::search().revinclude(r4::MedicationRequest::REVINCLUDE_PATIENT);
/// let _ = r4::Patient::search().has(r4::Observation::REVINCLUDE_SUBJECT, r4::Observation::search().code("x"));
/// let _ = r4::Observation::search().code_value_quantity((TokenValue::from("x"), QuantityValue::number(Prefix::Gt, "1")));
/// async fn f(r4s: fhirstorm::client::Service<fhirstorm::R4>, s3: fhirstorm::client::Service<fhirstorm::Stu3>) {
///     let _ = r4s.r::<r4::Patient>().search(r4::Patient::search().family("x")).await;
///     let _ = s3.r::<stu3::Patient>().search(stu3::Patient::search().family("x")).await;
/// }
/// ```
///
/// What does not compile:
///
/// ```compile_fail
/// // A parameter of another resource: Patient has no `code`.
/// let q = fhirstorm::r4::Patient::search().code("x");
/// ```
///
/// ```compile_fail
/// // A date value for a token parameter.
/// let q = fhirstorm::r4::Observation::search().code(fhirstorm::search::DateValue::ge("2020"));
/// ```
///
/// ```compile_fail
/// // A reference to a target type the parameter does not allow: a Medication is no subject.
/// let q = fhirstorm::r4::Observation::search().subject(fhirstorm::r4::Medication::reference("m"));
/// ```
///
/// ```compile_fail
/// // An `_include` of another resource.
/// let q = fhirstorm::r4::Observation::search().include(fhirstorm::r4::Patient::INCLUDE_GENERAL_PRACTITIONER);
/// ```
///
/// ```compile_fail
/// // A `_sort` by another resource's parameter.
/// let q = fhirstorm::r4::Patient::search().sort(fhirstorm::r4::Observation::SORT_CODE);
/// ```
///
/// ```compile_fail
/// // A `_revinclude` whose reference cannot point at the resource searched: a
/// // MedicationRequest's `patient` never refers to an Organization.
/// let q = fhirstorm::r4::Organization::search().revinclude(fhirstorm::r4::MedicationRequest::REVINCLUDE_PATIENT);
/// ```
///
/// ```compile_fail
/// // A `_has` through a reference that cannot point at the resource searched.
/// let q = fhirstorm::r4::Organization::search()
///     .has(fhirstorm::r4::Observation::REVINCLUDE_SUBJECT, fhirstorm::r4::Observation::search().code("x"));
/// ```
///
/// ```compile_fail
/// // A `_has` whose inner query is on another type than the one holding the reference.
/// let q = fhirstorm::r4::Patient::search()
///     .has(fhirstorm::r4::Observation::REVINCLUDE_SUBJECT, fhirstorm::r4::Condition::search().code("x"));
/// ```
///
/// ```compile_fail
/// // A composite's components of the wrong kinds (code-value-quantity is token $ quantity).
/// use fhirstorm::search::*;
/// let q = fhirstorm::r4::Observation::search().code_value_quantity((DateValue::ge("2020"), TokenValue::from("x")));
/// ```
///
/// ```compile_fail
/// // `_total` is not in STU3.
/// let q = fhirstorm::stu3::Patient::search().total(fhirstorm::search::Total::Accurate);
/// ```
///
/// ```compile_fail
/// // A STU3 query sent to an R4 service.
/// async fn f(service: fhirstorm::client::Service<fhirstorm::R4>) {
///     let q = fhirstorm::stu3::Patient::search().family("x");
///     let _ = service.r::<fhirstorm::r4::Patient>().search(q).await;
/// }
/// ```
///
#[cfg(all(feature = "r4", feature = "stu3", feature = "client"))]
#[doc(hidden)]
pub mod compile_checks {}
