//! FHIRPath, the language FHIR computes in: every invariant (`ele-1`, `pat-1`), every search
//! parameter's path, slicing discriminators and SQL on FHIR views are FHIRPath expressions.
//!
//! [`Expression::parse`] compiles an expression once: its grammar (FHIRPath 2.0, with the 2.1
//! literals FHIR uses: `12L`), and its calls, each of a function FHIRPath or FHIR defines, with
//! as many arguments as it takes. An error says where and why:
//!
//! ```
//! use fhirstorm::fhirpath::{ErrorKind, Expression};
//!
//! let e = Expression::parse("name.where(use = 'official').given.first()").unwrap();
//! assert_eq!(e.as_str(), "name.where(use = 'official').given.first()");
//!
//! let err = Expression::parse("name.givn()").unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Semantic);
//! assert_eq!(err.to_string(), "FHIRPath error at line 1, column 6: unknown function `givn`");
//! ```
//!
//! Every expression of the official test suites (R4 and R5) that the suites call valid parses,
//! every one they call a syntax error is refused, and every search parameter's expression of the
//! STU3 to R5 definitions parses (`cargo test --all-features --test offline fhirpath::`).
//!
//! An expression is outside input (a package's invariants and search parameters, a view's
//! columns): its tree may be at most 500 deep and its parentheses, arguments and signs nest at
//! most 100 deep, so that no expression can exhaust the stack; beyond that it is a syntax error.
//!
//! # Why an engine of our own
//!
//! The Rust FHIRPath crates we compared (late 2026) each miss what this SDK needs:
//! `octofhir-fhirpath` 0.5 (the most complete, ~98 % of the R5 suite by its own account) needs
//! Rust 1.98, is async only, and brings tokio with every feature and 127 crates; `helios-fhirpath`
//! 0.2 brings a web server, an HTTP client and a second 36 MB FHIR model (217 crates);
//! `haste-fhirpath` is tied to its own R4 model, computes decimals as `f64` and fails about a
//! fifth of the suite; `fhirpathrs` covers part of FHIRPath 1.0. None walks our typed models
//! without copying each resource into its own tree first.

mod ast;
mod error;
mod functions;
mod lexer;
mod parser;

use std::fmt;
use std::str::FromStr;

pub use error::{Error, ErrorKind, Position};

/// A compiled FHIRPath expression: parsed and checked once, to be used many times.
#[derive(Clone)]
pub struct Expression {
    text: String,
    tree: ast::Expr,
}

impl Expression {
    /// Compiles `text`: a [`Syntax`](ErrorKind::Syntax) error where it is not FHIRPath, a
    /// [`Semantic`](ErrorKind::Semantic) one for a call of a function FHIRPath does not have,
    /// with a wrong number of arguments, or (for `is`, `as` and `ofType`) without a type's name.
    pub fn parse(text: &str) -> Result<Expression, Error> {
        Ok(Expression { text: text.to_string(), tree: parser::parse(text)? })
    }

    /// The expression as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// How the expression was understood: written back with every operation in parentheses
    /// (`1 + 2 * 3` is `(1 + (2 * 3))`).
    pub fn parenthesized(&self) -> String {
        self.tree.to_string()
    }
}

impl FromStr for Expression {
    type Err = Error;

    fn from_str(text: &str) -> Result<Expression, Error> {
        Expression::parse(text)
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expression").field(&self.text).finish()
    }
}

impl PartialEq for Expression {
    fn eq(&self, other: &Expression) -> bool {
        self.text == other.text
    }
}

impl Eq for Expression {}
