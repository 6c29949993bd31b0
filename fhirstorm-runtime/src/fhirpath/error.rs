//! What can go wrong with an expression, and where in it.

use std::fmt;

/// Where an error is in an expression: the byte offset, and the line and column (both from 1,
/// the column counted in characters) a reader finds it at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    /// Byte offset in the expression's text.
    pub offset: usize,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

impl Position {
    /// The position of byte `offset` of `text` (an offset past the end is the end).
    pub(crate) fn of(text: &str, offset: usize) -> Position {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        Position { offset, line, column }
    }
}

/// The kind of an [`Error`], as the FHIRPath specification tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The text is not FHIRPath: a token or a construct the grammar does not have.
    Syntax,
    /// Well-formed, but meaningless: an unknown function, a wrong number of arguments, a type
    /// that does not exist.
    Semantic,
    /// An evaluation that cannot go on: a function given a collection of several items where it
    /// takes one, say.
    Execution,
}

/// An expression that could not be compiled or evaluated: what, and where in the expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    position: Position,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, text: &str, offset: usize, message: impl Into<String>) -> Error {
        Error { kind, message: message.into(), position: Position::of(text, offset) }
    }

    /// Syntax, semantic or execution.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Where in the expression.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The reason, without the position.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::Semantic => "error",
            ErrorKind::Execution => "evaluation error",
        };
        let Position { line, column, .. } = self.position;
        write!(f, "FHIRPath {kind} at line {line}, column {column}: {}", self.message)
    }
}

impl std::error::Error for Error {}
