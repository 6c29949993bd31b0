//! The members of a JSON object, as [`Value::Object`] holds them and as every model keeps the
//! members its definitions do not know.
//!
//! A member the model does not know is kept as its compact JSON text, not as a [`Value`] tree:
//! a tree costs about 30 times the text (a `Value` and an allocation per number or string), so
//! a server that pads a resource with a large unknown member would make reading it cost memory
//! out of proportion. The text is parsed into a `Value` the first time the program asks for it
//! ([`Members::get`], [`Members::iter`]), and written back as it is.

use std::fmt;
use std::sync::OnceLock;

use super::{Error, ErrorKind, Parser, Value, Writer};

/// The members of a JSON object, in the order they were read (duplicates kept).
#[derive(Clone, Default)]
pub struct Members(Vec<(String, Member)>);

/// One member's value: a tree, or compact JSON text parsed when first asked for.
#[derive(Clone)]
enum Member {
    Value(Value),
    Text { text: Box<str>, parsed: OnceLock<Value> },
}

impl Member {
    fn value(&self) -> &Value {
        match self {
            Member::Value(v) => v,
            // The text is what `Writer` wrote for a value the parser read: it parses.
            Member::Text { text, parsed } => parsed.get_or_init(|| Value::parse(text).unwrap_or_default()),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Member::Value(v) => v,
            Member::Text { text, parsed } => {
                parsed.into_inner().unwrap_or_else(|| Value::parse(&text).unwrap_or_default())
            }
        }
    }
}

impl Members {
    /// No members.
    pub const fn new() -> Members {
        Members(Vec::new())
    }

    /// Adds a member at the end.
    pub fn push(&mut self, key: impl Into<String>, value: Value) {
        self.0.push((key.into(), Member::Value(value)));
    }

    /// Adds a member at the end whose value is compact JSON text ([`Parser::compact_value`]).
    pub(crate) fn push_text(&mut self, key: impl Into<String>, text: Box<str>) {
        self.0.push((key.into(), Member::Text { text, parsed: OnceLock::new() }));
    }

    /// The first member named `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.value())
    }

    /// Removes and returns every member named `key`; the last one's value is returned.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let mut found = None;
        let mut kept = Vec::with_capacity(self.0.len());
        for (k, v) in self.0.drain(..) {
            if k == key {
                found = Some(v);
            } else {
                kept.push((k, v));
            }
        }
        self.0 = kept;
        found.map(Member::into_value)
    }

    /// The members, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.value()))
    }

    /// The names of the members, in order (without parsing any value).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// How many members there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Writes the members (the writer is inside an object): kept text as it is.
    pub(crate) fn write(&self, w: &mut Writer) {
        for (k, v) in &self.0 {
            w.member_key(k);
            match v {
                Member::Value(v) => super::ToJson::to_json(v, w),
                Member::Text { text, .. } => w.raw_value(text),
            }
        }
    }
}

/// Kept text and a tree compare by the tree the text parses to (parsed for the comparison,
/// not kept: comparing does not make a member cost its tree's memory).
impl PartialEq for Members {
    fn eq(&self, other: &Members) -> bool {
        self.len() == other.len()
            && self.0.iter().zip(&other.0).all(|((ka, a), (kb, b))| {
                ka == kb
                    && match (a, b) {
                        (Member::Value(x), Member::Value(y)) => x == y,
                        (Member::Text { text: x, .. }, Member::Text { text: y, .. }) => x == y,
                        (Member::Value(v), Member::Text { text, .. })
                        | (Member::Text { text, .. }, Member::Value(v)) => Value::parse(text).is_ok_and(|t| t == *v),
                    }
            })
    }
}

/// Each member as `name: value`; kept text shown as it is.
impl fmt::Debug for Members {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Text<'a>(&'a str);
        impl fmt::Debug for Text<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.0)
            }
        }
        let mut map = f.debug_map();
        for (k, v) in &self.0 {
            match v {
                Member::Value(v) => map.entry(k, v),
                Member::Text { text, .. } => map.entry(k, &Text(text)),
            };
        }
        map.finish()
    }
}

impl FromIterator<(String, Value)> for Members {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Members {
        Members(iter.into_iter().map(|(k, v)| (k, Member::Value(v))).collect())
    }
}

impl<'a> Parser<'a> {
    /// Reads any JSON value as its compact text ([`transcode`](Self::transcode)).
    pub(crate) fn compact_value(&mut self) -> Result<Box<str>, Error> {
        // A first pass over the value finds its length, so that the text is written into room
        // of about its size instead of a buffer that doubles as it grows.
        let start = self.position();
        self.skip()?;
        let len = self.position() - start;
        self.rewind(start);
        let mut w = Writer::with_buffer(Vec::with_capacity(len));
        self.transcode(&mut w)?;
        String::from_utf8(w.into_bytes())
            .map(String::into_boxed_str)
            .map_err(|_| self.error(ErrorKind::Syntax, "a value did not write back as UTF-8"))
    }

    /// Reads any JSON value and writes it to `w` as [`Value`]'s writer would (compact, strings
    /// escaped the writer's way, numbers as they came), without building it.
    pub(crate) fn transcode(&mut self, w: &mut Writer) -> Result<(), Error> {
        match self.peek() {
            Some(b'{') => {
                w.begin_object();
                self.object(|p, k| {
                    w.member_key(k);
                    p.transcode(w)
                })?;
                w.end_object();
            }
            Some(b'[') => {
                w.begin_array();
                self.array(|p, _| {
                    w.sep();
                    p.transcode(w)
                })?;
                w.end_array();
            }
            Some(b'"') => w.string(&self.str_inner()?),
            Some(b't' | b'f') => w.bool(self.bool()?),
            Some(b'n') => {
                self.literal("null")?;
                w.null();
            }
            Some(b'-' | b'0'..=b'9') => w.raw_number(self.number()?),
            _ => return Err(self.unexpected_syntax("a JSON value")),
        }
        Ok(())
    }
}
