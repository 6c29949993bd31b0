//! FHIR JSON, read and written by code generated for each model: a pull parser and a writer
//! that the models drive directly (no intermediate tree, no generic serde code in your build),
//! numbers kept as their exact text, and errors that name the JSON path.
//!
//! Use [`from_slice`] / [`to_vec`] with any model (`AnyResource::from_slice` / `to_vec` too); the
//! [`FromJson`] / [`ToJson`] traits are what they call, on a [`Parser`] and a [`Writer`].
//!
//! With the `serde` feature the models are `Serialize`/`Deserialize` as well. Through
//! serde_json (`serde_json::from_slice`, `to_vec`, axum's and reqwest's JSON helpers) that is
//! this same reader and writer: serde_json hands over the value's raw text and writes the text
//! back, so the result is as exact and nearly as fast as calling [`from_slice`] / [`to_vec`].
//! Other serde formats go through [`Value`].

pub(crate) mod contract;
mod error;
mod members;
mod parser;
mod scan;
mod value;
mod writer;

pub use error::{Error, ErrorKind};
pub use members::Members;
pub use parser::{Parser, MAX_DEPTH};
#[cfg(feature = "serde")]
pub(crate) use value::serde_impls::{value_from_map, ValueVisitor};
pub use value::{Number, Value};
pub use writer::Writer;

/// A type that can be read from FHIR JSON.
pub trait FromJson: Sized {
    /// Reads one value at the parser's position.
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error>;
}

/// A type that can be written as FHIR JSON.
pub trait ToJson {
    /// Writes the value at the writer's position.
    fn to_json(&self, w: &mut Writer);
}

/// The bytes without a leading UTF-8 byte order mark, if they have one.
///
/// [`from_slice`] and [`from_str`] ignore a byte order mark themselves (RFC 8259 lets a parser
/// do so; files saved by some editors and servers carry one). Through serde the deserializer
/// sees the bytes before fhirstorm does, and `serde_json` refuses a byte order mark (`expected
/// value at line 1 column 1`): strip it first.
///
/// ```
/// let bytes = b"\xEF\xBB\xBF{\"resourceType\":\"Patient\"}";
/// # {
/// let p: fhirstorm::r4::Patient = serde_json::from_slice(fhirstorm::json::strip_bom(bytes))?;
/// # }
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Reads a value from JSON bytes (which must be UTF-8; a leading byte order mark is ignored,
/// as RFC 8259 allows).
pub fn from_slice<T: FromJson>(bytes: &[u8]) -> Result<T, Error> {
    let bytes = strip_bom(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => from_str(s),
        Err(e) => Err(Error::new(ErrorKind::Syntax, "invalid UTF-8", bytes, e.valid_up_to())),
    }
}

/// Reads a value from JSON text (a leading byte order mark is ignored).
pub fn from_str<T: FromJson>(s: &str) -> Result<T, Error> {
    let mut p = Parser::new(s.strip_prefix('\u{FEFF}').unwrap_or(s));
    let v = T::from_json(&mut p)?;
    p.finish()?;
    Ok(v)
}

/// How strictly JSON is held to the model's definitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conformance {
    /// A member that does not fit the model fails the read ([`from_slice`]'s way).
    #[default]
    Strict,
    /// A member that does not fit the model is kept as it came and reported as a deviation
    /// ([`from_slice_lenient`]'s way); the default for data read from a server.
    Lenient,
}

/// A value read in lenient mode, with what did not fit the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Lenient<T> {
    /// The value. Each member that did not fit is in its object's `unknown` members, written
    /// back where it was.
    pub value: T,
    /// Each member that did not fit, as the error strict reading returns for it (same kind,
    /// message and path).
    pub deviations: Vec<Error>,
}

/// Reads a value in lenient mode: what does not fit the model (a single object where the
/// element repeats, an array where it does not, a string where a CodeableConcept belongs, a
/// dateTime where a date belongs, `"true"` for `true`, a second type for a choice element, a
/// resource type this version does not know) is kept as it came and reported, not refused; a
/// read-modify-write still loses nothing. Bad JSON, and a resource of another type than `T`,
/// are still errors.
///
/// ```
/// # {
/// use fhirstorm::{json, r4::Patient};
/// let bytes = br#"{"resourceType":"Patient","active":"true","birthDate":"1970-01-01"}"#;
/// assert!(json::from_slice::<Patient>(bytes).is_err());
/// let read = json::from_slice_lenient::<Patient>(bytes)?;
/// assert_eq!(read.deviations[0].path(), "$.active");
/// assert!(read.value.birth_date.is_some());
/// // Written back as it came (the member among the unknown ones, so last).
/// let (sent, back): (json::Value, json::Value) = (json::from_slice(bytes)?, json::from_slice(&json::to_vec(&read.value))?);
/// assert_eq!(sent.first_difference(&back), None);
/// # }
/// # Ok::<(), fhirstorm::json::Error>(())
/// ```
pub fn from_slice_lenient<T: FromJson>(bytes: &[u8]) -> Result<Lenient<T>, Error> {
    let bytes = strip_bom(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => from_str_lenient(s),
        Err(e) => Err(Error::new(ErrorKind::Syntax, "invalid UTF-8", bytes, e.valid_up_to())),
    }
}

/// Reads a value from JSON text in lenient mode (see [`from_slice_lenient`]).
pub fn from_str_lenient<T: FromJson>(s: &str) -> Result<Lenient<T>, Error> {
    let mut p = Parser::lenient(s.strip_prefix('\u{FEFF}').unwrap_or(s));
    let value = T::from_json(&mut p)?;
    p.finish()?;
    Ok(Lenient { value, deviations: p.take_deviations() })
}

/// Writes a value as compact JSON.
pub fn to_vec<T: ToJson + ?Sized>(v: &T) -> Vec<u8> {
    let mut w = Writer::new();
    v.to_json(&mut w);
    w.into_bytes()
}

/// Writes a value as JSON indented by two spaces, one member or item per line (numbers and
/// strings exactly as in the compact form).
pub fn to_vec_pretty<T: ToJson + ?Sized>(v: &T) -> Vec<u8> {
    writer::indent(&to_vec(v))
}

/// Writes a value as a compact JSON string.
pub fn to_string<T: ToJson + ?Sized>(v: &T) -> String {
    // The writer only ever writes valid UTF-8: strings come from `&str`, the rest is ASCII.
    String::from_utf8(to_vec(v)).unwrap_or_default()
}

/// Converts a model to a [`Value`] (through its JSON).
pub fn to_value(v: &dyn ToJsonDyn) -> Value {
    let mut w = Writer::new();
    v.to_json_dyn(&mut w);
    let bytes = w.into_bytes();
    // Our own output always parses; an empty object stands in should it ever not.
    std::str::from_utf8(&bytes).ok().and_then(|s| Value::parse(s).ok()).unwrap_or(Value::Object(Members::new()))
}

/// Reads a model from a [`Value`] (through its JSON).
pub fn from_value<T: FromJson>(v: &Value) -> Result<T, Error> {
    from_slice(&to_vec(v))
}

/// Object-safe form of [`ToJson`], so that conversions are compiled once.
pub trait ToJsonDyn {
    /// Writes the value.
    fn to_json_dyn(&self, w: &mut Writer);
}

impl<T: ToJson> ToJsonDyn for T {
    fn to_json_dyn(&self, w: &mut Writer) {
        self.to_json(w)
    }
}

// ---- impls for the Rust types that FHIR primitives map to ----

impl FromJson for bool {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        p.bool()
    }
}
impl ToJson for bool {
    fn to_json(&self, w: &mut Writer) {
        w.bool(*self)
    }
}

fn integer<T: std::str::FromStr>(p: &mut Parser<'_>, what: &str) -> Result<T, Error> {
    let text = p.number()?;
    text.parse::<T>().map_err(|_| p.error(ErrorKind::Value, format!("expected {what}, found {text}")))
}

impl FromJson for i32 {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        integer(p, "a 32-bit integer")
    }
}
impl ToJson for i32 {
    fn to_json(&self, w: &mut Writer) {
        w.int(i64::from(*self))
    }
}
impl FromJson for u32 {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        integer(p, "a non-negative 32-bit integer")
    }
}
impl ToJson for u32 {
    fn to_json(&self, w: &mut Writer) {
        w.uint(u64::from(*self))
    }
}
impl FromJson for i64 {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        // FHIR's integer64 is written as a JSON string.
        if p.peek() == Some(b'"') {
            let s = p.str()?;
            return s.parse().map_err(|_| p.error(ErrorKind::Value, format!("expected a 64-bit integer, found {s:?}")));
        }
        integer(p, "a 64-bit integer")
    }
}
impl ToJson for i64 {
    fn to_json(&self, w: &mut Writer) {
        w.string(&self.to_string())
    }
}
impl FromJson for String {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        p.string()
    }
}
impl ToJson for String {
    fn to_json(&self, w: &mut Writer) {
        w.string(self)
    }
}
impl ToJson for str {
    fn to_json(&self, w: &mut Writer) {
        w.string(self)
    }
}
impl<T: FromJson> FromJson for Box<T> {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        T::from_json(p).map(Box::new)
    }
}
impl<T: ToJson + ?Sized> ToJson for Box<T> {
    fn to_json(&self, w: &mut Writer) {
        (**self).to_json(w)
    }
}
impl<T: ToJson> ToJson for [T] {
    fn to_json(&self, w: &mut Writer) {
        w.begin_array();
        for v in self {
            w.item(v);
        }
        w.end_array();
    }
}
impl<T: ToJson> ToJson for Vec<T> {
    fn to_json(&self, w: &mut Writer) {
        self.as_slice().to_json(w)
    }
}
impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        let mut v = Vec::new();
        p.array(|p, _| {
            v.push(T::from_json(p)?);
            Ok(())
        })?;
        Ok(v)
    }
}
