//! Typed extensions: the types fhirstorm-codegen generates from an implementation guide's
//! extension definitions, and typed access to any element's `extension` list.
//!
//! Each generated extension type implements [`TypedExtension`]: its canonical URL and the
//! conversions from and into the version's generic `Extension`. A simple extension is a typed
//! value (AU Base's `AustralianIndigenousStatus` holds a `Coding`); a complex one is a struct of
//! its sub-extensions. Every `Vec<Extension>` of a version (the `extension` and
//! `modifierExtension` of any element) then gets [`Extensions`]:
//!
//! ```ignore
//! use fhirstorm::extension::Extensions;
//! let status: Option<AustralianIndigenousStatus> = patient.extension.get_typed()?;
//! patient.extension.set_typed(AustralianIndigenousStatus(coding));
//! patient.extension.remove_typed::<AustralianIndigenousStatus>();
//! ```
//!
//! Extensions with other URLs are never touched. A typed value holds what its definition
//! defines: reading one and setting it back replaces the extension with one built from the value,
//! which keeps every defined element but not the `id` of the `Extension` elements themselves, and
//! writes a complex extension's known sub-extensions in definition order (the unknown ones, kept
//! in its `other` field, after them).

use std::fmt;

/// A version's generic `Extension` element (implemented by the generated models).
pub trait ExtensionElement {
    /// The extension's `url`.
    fn url(&self) -> Option<&str>;
}

/// An extension type generated from an extension definition.
pub trait TypedExtension: Sized {
    /// The version's generic `Extension` this type reads from and writes into.
    type Element: ExtensionElement;
    /// The definition's canonical URL, which the extension's `url` carries.
    const URL: &'static str;
    /// Reads the typed value from an extension with this URL (the URL itself is not checked
    /// here; [`Extensions`] selects by it).
    fn from_extension(extension: &Self::Element) -> Result<Self, ExtensionError>;
    /// The extension carrying this value, with its `url` set.
    fn into_extension(self) -> Self::Element;
}

/// Typed access to an `extension` (or `modifierExtension`) list, by each type's URL; extensions
/// with other URLs are kept as they are.
pub trait Extensions<E> {
    /// The first extension of type `T`, read; `Ok(None)` when there is none.
    fn get_typed<T: TypedExtension<Element = E>>(&self) -> Result<Option<T>, ExtensionError>;
    /// Every extension of type `T`, read, in order.
    fn all_typed<T: TypedExtension<Element = E>>(&self) -> Result<Vec<T>, ExtensionError>;
    /// Whether an extension of type `T` is present.
    fn has_typed<T: TypedExtension<Element = E>>(&self) -> bool;
    /// Sets the extension of type `T`: replaces the first one in place and removes the others,
    /// or appends it when there is none.
    fn set_typed<T: TypedExtension<Element = E>>(&mut self, value: T);
    /// Appends an extension of type `T` (for extensions that repeat).
    fn push_typed<T: TypedExtension<Element = E>>(&mut self, value: T);
    /// Removes every extension of type `T`; returns how many there were.
    fn remove_typed<T: TypedExtension<Element = E>>(&mut self) -> usize;
}

impl<E: ExtensionElement> Extensions<E> for Vec<E> {
    fn get_typed<T: TypedExtension<Element = E>>(&self) -> Result<Option<T>, ExtensionError> {
        self.iter().find(|e| e.url() == Some(T::URL)).map(T::from_extension).transpose()
    }

    fn all_typed<T: TypedExtension<Element = E>>(&self) -> Result<Vec<T>, ExtensionError> {
        self.iter().filter(|e| e.url() == Some(T::URL)).map(T::from_extension).collect()
    }

    fn has_typed<T: TypedExtension<Element = E>>(&self) -> bool {
        self.iter().any(|e| e.url() == Some(T::URL))
    }

    fn set_typed<T: TypedExtension<Element = E>>(&mut self, value: T) {
        match self.iter().position(|e| e.url() == Some(T::URL)) {
            Some(first) => {
                self[first] = value.into_extension();
                let mut i = 0;
                self.retain(|e| {
                    i += 1;
                    i - 1 == first || e.url() != Some(T::URL)
                });
            }
            None => self.push(value.into_extension()),
        }
    }

    fn push_typed<T: TypedExtension<Element = E>>(&mut self, value: T) {
        self.push(value.into_extension());
    }

    fn remove_typed<T: TypedExtension<Element = E>>(&mut self) -> usize {
        let before = self.len();
        self.retain(|e| e.url() != Some(T::URL));
        before - self.len()
    }
}

/// An extension that does not fit its definition: which extension, where in it, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionError {
    url: &'static str,
    path: &'static str,
    kind: ExtensionErrorKind,
}

/// What is wrong with an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtensionErrorKind {
    /// The value is of a type the definition does not allow, or missing (`found: None`).
    ValueType {
        /// The FHIR types the definition allows.
        expected: &'static [&'static str],
        /// The FHIR type found, if there is a value.
        found: Option<&'static str>,
    },
    /// A required sub-extension is absent.
    Missing {
        /// Its slice name (its `url` in the extension).
        slice: &'static str,
    },
    /// A sub-extension occurs more often than its definition allows.
    TooMany {
        /// Its slice name.
        slice: &'static str,
        /// The most the definition allows.
        max: usize,
        /// How many there are.
        found: usize,
    },
}

impl ExtensionError {
    /// The extension definition's canonical URL.
    pub fn url(&self) -> &str {
        self.url
    }

    /// The element of the definition at fault, as its element id
    /// (`Extension.extension:routability-flag.value[x]`).
    pub fn path(&self) -> &str {
        self.path
    }

    /// What is wrong.
    pub fn kind(&self) -> &ExtensionErrorKind {
        &self.kind
    }

    #[doc(hidden)]
    pub fn new(url: &'static str, path: &'static str, kind: ExtensionErrorKind) -> ExtensionError {
        ExtensionError { url, path, kind }
    }
}

impl fmt::Display for ExtensionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "extension {} at {}: ", self.url, self.path)?;
        match &self.kind {
            ExtensionErrorKind::ValueType { expected, found } => {
                write!(f, "expected a value of type {}", expected.join(" or "))?;
                match found {
                    Some(t) => write!(f, ", found {t}"),
                    None => f.write_str(", found no value"),
                }
            }
            ExtensionErrorKind::Missing { slice } => write!(f, "the required sub-extension {slice} is absent"),
            ExtensionErrorKind::TooMany { slice, max, found } => {
                write!(f, "sub-extension {slice} occurs {found} times, at most {max} allowed")
            }
        }
    }
}

impl std::error::Error for ExtensionError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::{ext_optional, ext_repeating, ext_required};

    #[derive(Debug, Clone, PartialEq)]
    struct Ext(&'static str, u32);

    impl ExtensionElement for Ext {
        fn url(&self) -> Option<&str> {
            Some(self.0)
        }
    }

    #[derive(Debug, PartialEq)]
    struct Count(u32);

    impl TypedExtension for Count {
        type Element = Ext;
        const URL: &'static str = "count";
        fn from_extension(e: &Ext) -> Result<Self, ExtensionError> {
            Ok(Count(e.1))
        }
        fn into_extension(self) -> Ext {
            Ext("count", self.0)
        }
    }

    #[test]
    fn set_replaces_the_first_in_place_and_drops_the_rest() {
        let mut list = vec![Ext("a", 0), Ext("count", 1), Ext("b", 0), Ext("count", 2)];
        assert_eq!(list.get_typed::<Count>().unwrap(), Some(Count(1)));
        assert_eq!(list.all_typed::<Count>().unwrap(), vec![Count(1), Count(2)]);
        list.set_typed(Count(9));
        assert_eq!(list, vec![Ext("a", 0), Ext("count", 9), Ext("b", 0)]);
        list.push_typed(Count(3));
        assert_eq!(list.remove_typed::<Count>(), 2);
        assert_eq!(list, vec![Ext("a", 0), Ext("b", 0)]);
        assert!(!list.has_typed::<Count>());
        list.set_typed(Count(4));
        assert_eq!(list.last(), Some(&Ext("count", 4)));
    }

    #[test]
    fn sub_extension_cardinality() {
        let (url, path) = ("http://example.org/x", "Extension.extension:part");
        assert_eq!(ext_optional(Vec::<u8>::new(), url, path, "part"), Ok(None));
        assert_eq!(
            ext_optional(vec![1, 2], url, path, "part").unwrap_err().kind(),
            &ExtensionErrorKind::TooMany { slice: "part", max: 1, found: 2 }
        );
        assert_eq!(
            ext_required(Vec::<u8>::new(), url, path, "part").unwrap_err().kind(),
            &ExtensionErrorKind::Missing { slice: "part" }
        );
        assert_eq!(ext_repeating(vec![1, 2, 3], 1, Some(3), url, path, "part"), Ok(vec![1, 2, 3]));
        let err = ext_repeating(vec![1, 2, 3, 4], 1, Some(3), url, path, "part").unwrap_err();
        assert_eq!(err.to_string(), "extension http://example.org/x at Extension.extension:part: sub-extension part occurs 4 times, at most 3 allowed");
        assert!(ext_repeating(Vec::<u8>::new(), 1, None, url, path, "part").is_err());
    }
}
