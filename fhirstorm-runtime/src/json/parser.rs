//! A pull parser over a JSON document that generated code drives directly: no intermediate tree,
//! strings borrowed from the input where they have no escapes, numbers kept as their text.

use std::borrow::Cow;

use super::contract::{ReadItems, ReadMembers};
use super::{scan, Error, ErrorKind, Members, Number, Value};

/// Deepest nesting of objects and arrays accepted (FHIR resources nest far less).
pub const MAX_DEPTH: u32 = 128;

/// A JSON pull parser over a UTF-8 document.
pub struct Parser<'a> {
    src: &'a str,
    pos: usize,
    depth: u32,
    unknown: Vec<String>,
    lenient: bool,
    /// Lenient mode: what did not fit the model, each as the error strict mode would have
    /// returned, its path completed while the read travels outwards.
    deviations: Vec<Error>,
    /// Lenient mode: the member being kept as it came, while its object's reader is called
    /// again (with [`DEVIANT_KEY`]) to store it among the unknown members.
    deviant: Option<(String, Error)>,
}

/// The position and mode, not the document (which may be large, or hold private data).
impl std::fmt::Debug for Parser<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parser")
            .field("pos", &self.pos)
            .field("len", &self.src.len())
            .field("depth", &self.depth)
            .field("lenient", &self.lenient)
            .field("deviations", &self.deviations.len())
            .finish_non_exhaustive()
    }
}

/// A closure as a [`ReadMembers`] ([`Parser::object`]).
struct MemberFn<F>(F);

impl<'a, F: FnMut(&mut Parser<'a>, &str) -> Result<(), Error>> ReadMembers<'a> for MemberFn<F> {
    fn read_member(&mut self, p: &mut Parser<'a>, key: &str) -> Result<(), Error> {
        (self.0)(p, key)
    }
}

/// A closure as a [`ReadItems`] ([`Parser::array`]).
struct ItemFn<F>(F);

impl<'a, F: FnMut(&mut Parser<'a>, usize) -> Result<(), Error>> ReadItems<'a> for ItemFn<F> {
    fn read_item(&mut self, p: &mut Parser<'a>, index: usize) -> Result<(), Error> {
        (self.0)(p, index)
    }
}

/// The key a struct's reader is called with to keep a member that did not fit as it came: it
/// matches no member of any model, so the reader hands it to
/// [`keep_member`](Parser::keep_member), which stores the value under its real key.
pub(crate) const DEVIANT_KEY: &str = "\u{0}";

fn describe(b: Option<u8>) -> &'static str {
    match b {
        None => "the end of the input",
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(b'-' | b'0'..=b'9') => "a number",
        Some(_) => "an unexpected character",
    }
}

impl<'a> Parser<'a> {
    /// A parser at the start of `src`.
    pub fn new(src: &'a str) -> Parser<'a> {
        Parser { src, pos: 0, depth: 0, unknown: Vec::new(), lenient: false, deviations: Vec::new(), deviant: None }
    }

    /// A parser in lenient mode: a member whose value does not fit the model (the wrong JSON
    /// type, an invalid value, a second type for a choice element, an unknown resource type)
    /// is kept as it came among its object's unknown members, written back where it was, and
    /// reported in [`deviations`](Parser::deviations) instead of failing the whole read. Bad
    /// JSON (syntax, nesting depth) and a resource of the wrong type are still errors.
    pub fn lenient(src: &'a str) -> Parser<'a> {
        Parser { lenient: true, ..Parser::new(src) }
    }

    /// Whether this parser is in lenient mode.
    pub fn is_lenient(&self) -> bool {
        self.lenient
    }

    /// Lenient mode: each member that did not fit the model, as the error strict mode would
    /// have returned (its [`path`](Error::path) names the value at fault; the innermost member
    /// containing it was kept as it came).
    pub fn deviations(&self) -> &[Error] {
        &self.deviations
    }

    /// The deviations, taken.
    pub fn take_deviations(&mut self) -> Vec<Error> {
        std::mem::take(&mut self.deviations)
    }

    /// Reads the value of a member the model does not know and keeps it in `members` (listed
    /// in [`unknown_members`](Parser::unknown_members) when `counted`). In lenient mode this is
    /// also where a member that did not fit is kept, under its real key, and counted as a
    /// deviation instead.
    ///
    /// The value is kept as its compact JSON text, parsed only when the program asks for it
    /// (memory in proportion to the text, not to a tree of it).
    pub(crate) fn keep_member(&mut self, members: &mut Members, key: &str, counted: bool) -> Result<(), Error> {
        let v = self.compact_value()?;
        if let Some((real, deviation)) = self.deviant.take() {
            members.push_text(real, v);
            self.deviations.push(deviation);
            return Ok(());
        }
        if counted {
            self.note_unknown(key);
        }
        members.push_text(key, v);
        Ok(())
    }

    /// Names of the members read so far that the definitions do not know (kept in `unknown`).
    pub(crate) fn unknown_members(&self) -> &[String] {
        &self.unknown
    }

    fn note_unknown(&mut self, key: &str) {
        self.unknown.push(key.to_string());
    }

    #[inline]
    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    /// An error at the current position.
    pub fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::new(kind, message, self.bytes(), self.pos)
    }

    fn unexpected(&mut self, expected: &str) -> Error {
        let found = self.peek();
        let kind = match found {
            None => ErrorKind::Syntax,
            Some(b'{' | b'[' | b'"' | b't' | b'f' | b'n' | b'-' | b'0'..=b'9') => ErrorKind::Type,
            Some(_) => ErrorKind::Syntax,
        };
        self.error(kind, format!("expected {expected}, found {}", describe(found)))
    }

    #[inline]
    fn skip_ws(&mut self) {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    /// The next significant byte, without consuming it.
    #[inline]
    pub fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.bytes().get(self.pos).copied()
    }

    /// Fails unless only whitespace is left.
    pub fn finish(&mut self) -> Result<(), Error> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.error(ErrorKind::Syntax, "trailing characters after the JSON value")),
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(ErrorKind::Depth, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    /// Reads an object, calling `f` with each member's key while the parser stands at its value.
    /// `f` must consume the value. Errors from `f` get the key added to their path.
    #[inline]
    pub fn object(&mut self, f: impl FnMut(&mut Self, &str) -> Result<(), Error>) -> Result<(), Error> {
        self.members(&mut MemberFn(f))
    }

    /// Reads an object into `target`, member by member ([`object`](Self::object) with a
    /// [`ReadMembers`] instead of a closure: what the models' generated readers call).
    ///
    /// The loop (lenient reading, paths in errors) is compiled once, and each model hands it
    /// itself as a trait object: one indirect call per member, and no closure, with its
    /// `FnOnce`/`FnMut` shims, compiled per model (a version has ~1,300 of them).
    pub(crate) fn members(&mut self, target: &mut dyn ReadMembers<'a>) -> Result<(), Error> {
        if self.peek() != Some(b'{') {
            return Err(self.unexpected("an object"));
        }
        self.pos += 1;
        self.enter()?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.unexpected_syntax("a member name"));
            }
            let key = self.str_inner()?;
            if self.peek() != Some(b':') {
                return Err(self.unexpected_syntax("':'"));
            }
            self.pos += 1;
            let (start, depth, marks) = (self.pos, self.depth, (self.deviations.len(), self.unknown.len()));
            match target.read_member(self, &key) {
                Ok(()) => {
                    if self.deviations.len() > marks.0 {
                        self.deviations[marks.0..].iter_mut().for_each(|d| d.push_key(&key));
                    }
                }
                Err(e) => {
                    let e = e.in_key(&key);
                    if !self.lenient || !e.fits_lenient() || key == "resourceType" {
                        return Err(e);
                    }
                    // Keep the member as it came: back to its value, and through the reader
                    // again, which stores it among the unknown members.
                    (self.pos, self.depth) = (start, depth);
                    self.deviations.truncate(marks.0);
                    self.unknown.truncate(marks.1);
                    self.deviant = Some((key.to_string(), e));
                    match (target.read_member(self, DEVIANT_KEY), self.deviant.take()) {
                        // The value is not even JSON: that is the error.
                        (Err(bad), _) => return Err(bad.in_key(&key)),
                        // The reader had no place for unknown members: the first error stands.
                        (Ok(()), Some((_, e))) => return Err(e),
                        (Ok(()), None) => {}
                    }
                }
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected_syntax("',' or '}'")),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    pub(super) fn unexpected_syntax(&mut self, expected: &str) -> Error {
        let found = self.peek();
        self.error(ErrorKind::Syntax, format!("expected {expected}, found {}", describe(found)))
    }

    /// Reads an array, calling `f` with each item's index while the parser stands at it.
    /// Errors from `f` get the index added to their path.
    #[inline]
    pub fn array(&mut self, f: impl FnMut(&mut Self, usize) -> Result<(), Error>) -> Result<(), Error> {
        self.items(&mut ItemFn(f))
    }

    /// Reads an array into `target`, item by item ([`array`](Self::array) with a [`ReadItems`]
    /// instead of a closure, compiled once as [`members`](Self::members) is).
    pub(crate) fn items(&mut self, target: &mut dyn ReadItems<'a>) -> Result<(), Error> {
        if self.peek() != Some(b'[') {
            return Err(self.unexpected("an array"));
        }
        self.pos += 1;
        self.enter()?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(());
        }
        let mut i = 0;
        loop {
            let mark = self.deviations.len();
            target.read_item(self, i).map_err(|e| e.in_index(i))?;
            if self.deviations.len() > mark {
                self.deviations[mark..].iter_mut().for_each(|d| d.push_index(i));
            }
            i += 1;
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected_syntax("',' or ']'")),
            }
        }
        self.depth -= 1;
        Ok(())
    }

    /// Consumes a `null` if one is next; says whether it did.
    #[inline]
    pub fn null(&mut self) -> Result<bool, Error> {
        if self.peek() != Some(b'n') {
            return Ok(false);
        }
        self.literal("null")?;
        Ok(true)
    }

    pub(super) fn literal(&mut self, word: &str) -> Result<(), Error> {
        if self.bytes()[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.error(ErrorKind::Syntax, format!("invalid literal, expected {word}")))
        }
    }

    /// Reads `true` or `false`.
    pub fn bool(&mut self) -> Result<bool, Error> {
        match self.peek() {
            Some(b't') => self.literal("true").map(|_| true),
            Some(b'f') => self.literal("false").map(|_| false),
            _ => Err(self.unexpected("a boolean")),
        }
    }

    /// Reads a number and returns its exact text.
    pub fn number(&mut self) -> Result<&'a str, Error> {
        match self.peek() {
            Some(b'-' | b'0'..=b'9') => {}
            _ => return Err(self.unexpected("a number")),
        }
        let b = self.bytes();
        let start = self.pos;
        let mut i = start;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        let digits = |i: &mut usize| {
            let s = *i;
            while b.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i - s
        };
        let int_start = i;
        let n = digits(&mut i);
        if n == 0 || (n > 1 && b[int_start] == b'0') {
            self.pos = i;
            return Err(self.error(ErrorKind::Syntax, "invalid number"));
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            if digits(&mut i) == 0 {
                self.pos = i;
                return Err(self.error(ErrorKind::Syntax, "invalid number: no digits after '.'"));
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if digits(&mut i) == 0 {
                self.pos = i;
                return Err(self.error(ErrorKind::Syntax, "invalid number: no digits in exponent"));
            }
        }
        self.pos = i;
        Ok(&self.src[start..i])
    }

    /// Reads a string, borrowed from the input when it has no escapes.
    #[inline]
    pub fn str(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected("a string"));
        }
        self.str_inner()
    }

    /// Reads a string into an owned `String`.
    #[inline]
    pub fn string(&mut self) -> Result<String, Error> {
        self.str().map(Cow::into_owned)
    }

    /// At an opening quote: reads the string.
    pub(super) fn str_inner(&mut self) -> Result<Cow<'a, str>, Error> {
        let b = self.bytes();
        let start = self.pos + 1;
        let mut i = scan::find_special(b, start);
        match b.get(i) {
            Some(b'"') => {
                self.pos = i + 1;
                return Ok(Cow::Borrowed(&self.src[start..i]));
            }
            Some(b'\\') => {}
            Some(_) => {
                self.pos = i;
                return Err(self.error(ErrorKind::Syntax, "control character in string"));
            }
            None => {
                self.pos = i;
                return Err(self.error(ErrorKind::Syntax, "unterminated string"));
            }
        }
        // Slow path: unescape.
        let mut out = String::with_capacity(i - start + 16);
        out.push_str(&self.src[start..i]);
        let mut run = i;
        loop {
            match b.get(i) {
                Some(b'"') => {
                    out.push_str(&self.src[run..i]);
                    self.pos = i + 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    out.push_str(&self.src[run..i]);
                    self.pos = i;
                    let esc = b.get(i + 1).copied();
                    i += 2;
                    match esc {
                        Some(b'"') => out.push('"'),
                        Some(b'\\') => out.push('\\'),
                        Some(b'/') => out.push('/'),
                        Some(b'b') => out.push('\u{8}'),
                        Some(b'f') => out.push('\u{c}'),
                        Some(b'n') => out.push('\n'),
                        Some(b'r') => out.push('\r'),
                        Some(b't') => out.push('\t'),
                        Some(b'u') => {
                            let hi = self.hex4(i)?;
                            i += 4;
                            let c = if (0xD800..0xDC00).contains(&hi) {
                                if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                                    return Err(self.error(ErrorKind::Syntax, "unpaired surrogate in \\u escape"));
                                }
                                let lo = self.hex4(i + 2)?;
                                i += 6;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.error(ErrorKind::Syntax, "unpaired surrogate in \\u escape"));
                                }
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                            } else {
                                char::from_u32(hi)
                            };
                            match c {
                                Some(c) => out.push(c),
                                None => return Err(self.error(ErrorKind::Syntax, "unpaired surrogate in \\u escape")),
                            }
                        }
                        _ => return Err(self.error(ErrorKind::Syntax, "invalid escape in string")),
                    }
                    run = i;
                }
                Some(&c) if c < 0x20 => {
                    self.pos = i;
                    return Err(self.error(ErrorKind::Syntax, "control character in string"));
                }
                Some(_) => i = scan::find_special(b, i + 1),
                None => {
                    self.pos = i;
                    return Err(self.error(ErrorKind::Syntax, "unterminated string"));
                }
            }
        }
    }

    fn hex4(&mut self, at: usize) -> Result<u32, Error> {
        let digits = self.bytes().get(at..at + 4).and_then(|h| std::str::from_utf8(h).ok());
        match digits.and_then(|h| u32::from_str_radix(h, 16).ok()) {
            Some(v) if digits.is_some_and(|d| d.bytes().all(|c| c.is_ascii_hexdigit())) => Ok(v),
            _ => {
                self.pos = at;
                Err(self.error(ErrorKind::Syntax, "invalid \\u escape"))
            }
        }
    }

    /// Reads any JSON value into a [`Value`].
    pub fn value(&mut self) -> Result<Value, Error> {
        Ok(match self.peek() {
            Some(b'{') => {
                let mut m = Members::new();
                self.object(|p, k| {
                    m.push(k, p.value()?);
                    Ok(())
                })?;
                Value::Object(m)
            }
            Some(b'[') => {
                let mut a = Vec::new();
                self.array(|p, _| {
                    a.push(p.value()?);
                    Ok(())
                })?;
                Value::Array(a)
            }
            Some(b'"') => Value::String(self.string()?),
            Some(b't' | b'f') => Value::Bool(self.bool()?),
            Some(b'n') => {
                self.literal("null")?;
                Value::Null
            }
            Some(b'-' | b'0'..=b'9') => Value::Number(Number::from_text_unchecked(self.number()?)),
            _ => return Err(self.unexpected_syntax("a JSON value")),
        })
    }

    /// The byte offset the parser stands at.
    pub(super) fn position(&self) -> usize {
        self.pos
    }

    /// Back to `pos`, an offset this parser stood at (at the same nesting depth).
    pub(super) fn rewind(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// Skips any JSON value without building it.
    pub fn skip(&mut self) -> Result<(), Error> {
        match self.peek() {
            Some(b'{') => self.object(|p, _| p.skip()),
            Some(b'[') => self.array(|p, _| p.skip()),
            Some(b'"') => self.str_inner().map(drop),
            Some(b't' | b'f') => self.bool().map(drop),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number().map(drop),
            _ => Err(self.unexpected_syntax("a JSON value")),
        }
    }

    /// At an object: finds its `resourceType` without consuming anything.
    pub fn peek_resource_type(&mut self) -> Result<Cow<'a, str>, Error> {
        if self.peek() != Some(b'{') {
            return Err(self.unexpected("a resource (an object)"));
        }
        let start = self.pos;
        let depth = self.depth;
        // Fast path: `resourceType` is nearly always the first member.
        self.pos += 1;
        let found = (|| -> Result<Option<Cow<'a, str>>, Error> {
            loop {
                if self.peek() != Some(b'"') {
                    return Ok(None);
                }
                let key = self.str_inner()?;
                if self.peek() != Some(b':') {
                    return Err(self.unexpected_syntax("':'"));
                }
                self.pos += 1;
                if key == "resourceType" {
                    return match self.str() {
                        Ok(t) => Ok(Some(t)),
                        Err(e) => Err(e.in_key("resourceType")),
                    };
                }
                self.skip()?;
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    _ => return Ok(None),
                }
            }
        })();
        let at = self.pos;
        self.pos = start;
        self.depth = depth;
        match found {
            Ok(Some(t)) => Ok(t),
            Ok(None) => {
                let mut e = self.error(ErrorKind::ResourceType, "missing resourceType");
                if at > start {
                    e = Error::new(ErrorKind::ResourceType, "missing resourceType", self.bytes(), start);
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    /// The error for a `resourceType` this version does not define.
    pub fn unknown_resource_type(&self, found: &str, version: &str) -> Error {
        self.error(ErrorKind::ResourceType, format!("unknown resourceType {found:?} for FHIR {version}"))
            .in_key("resourceType")
    }
}
