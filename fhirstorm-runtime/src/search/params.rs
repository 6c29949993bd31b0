//! The result parameters of a search: `_include`, `_revinclude`, `_sort`, `_elements`,
//! `_total`, `_summary`.

use std::marker::PhantomData;

/// An `_include` of one of `R`'s reference parameters (generated constants such as
/// `Patient::INCLUDE_GENERAL_PRACTITIONER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Include<R> {
    value: &'static str,
    _r: PhantomData<fn() -> R>,
}

impl<R> Include<R> {
    pub(crate) const fn new(value: &'static str) -> Self {
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
    pub(crate) const fn new(code: &'static str) -> Self {
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
    pub(crate) const fn new(name: &'static str) -> Self {
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
