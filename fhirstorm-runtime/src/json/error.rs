//! The error of reading FHIR JSON: what went wrong, and where (JSON path and byte offset).

use std::fmt;

/// What kind of problem a JSON read met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not JSON: a syntax error, a truncated document, invalid UTF-8, trailing characters.
    Syntax,
    /// JSON of the wrong shape for the element: a string where an object belongs, for example.
    Type,
    /// A value of the right JSON type that is not valid for its FHIR type (a bad date, an integer out of range).
    Value,
    /// `resourceType` missing, unknown, or not the type that was asked for.
    ResourceType,
    /// More than one type given for a choice element (`valueString` and `valueQuantity`).
    Choice,
    /// Nesting deeper than the parser allows.
    Depth,
}

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// An error reading FHIR JSON, naming the JSON path and byte offset where it happened.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    message: String,
    /// Innermost segment first: segments are added while the error travels outwards.
    rev_path: Vec<Seg>,
    offset: usize,
    line: usize,
    column: usize,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>, src: &[u8], offset: usize) -> Error {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        Error { inner: Box::new(Inner { kind, message: message.into(), rev_path: Vec::new(), offset, line, column }) }
    }

    /// An error with no position (for values built outside a parser).
    pub fn custom(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, message, &[], 0)
    }

    pub(crate) fn in_key(mut self, key: &str) -> Error {
        self.inner.rev_path.push(Seg::Key(key.to_string()));
        self
    }

    pub(crate) fn in_index(mut self, i: usize) -> Error {
        self.inner.rev_path.push(Seg::Index(i));
        self
    }

    pub(crate) fn push_key(&mut self, key: &str) {
        self.inner.rev_path.push(Seg::Key(key.to_string()));
    }

    pub(crate) fn push_index(&mut self, i: usize) {
        self.inner.rev_path.push(Seg::Index(i));
    }

    /// Whether lenient reading keeps the member instead: the JSON is sound, only its fit to
    /// the model is not.
    pub(crate) fn fits_lenient(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Type | ErrorKind::Value | ErrorKind::ResourceType | ErrorKind::Choice)
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The JSON path of the value at fault, e.g. `$.entry[3].resource.birthDate`.
    pub fn path(&self) -> String {
        let mut s = String::from("$");
        for seg in self.inner.rev_path.iter().rev() {
            match seg {
                Seg::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Seg::Index(i) => {
                    s.push_str(&format!("[{i}]"));
                }
            }
        }
        s
    }

    /// Byte offset in the input where the problem was found.
    pub fn offset(&self) -> usize {
        self.inner.offset
    }

    /// Line (from 1) and column (from 1) where the problem was found.
    pub fn line_column(&self) -> (usize, usize) {
        (self.inner.line, self.inner.column)
    }

    /// The message without the location.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {}", self.inner.message, self.path())?;
        if self.inner.line > 0 && self.inner.offset > 0 {
            write!(f, " (line {}, column {})", self.inner.line, self.inner.column)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("path", &self.path())
            .field("offset", &self.inner.offset)
            .finish()
    }
}

impl std::error::Error for Error {}
