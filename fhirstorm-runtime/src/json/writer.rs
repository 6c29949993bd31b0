//! A JSON writer that generated code drives directly.

use super::{scan, Members, ToJson};

/// Writes compact JSON into a byte buffer.
#[derive(Default)]
pub struct Writer {
    buf: Vec<u8>,
    comma: bool,
}

/// How much is written, not what (it may hold private data).
impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").field("len", &self.buf.len()).finish_non_exhaustive()
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Writer {
    /// An empty writer.
    pub fn new() -> Writer {
        Writer::default()
    }

    /// A writer that appends to `buf`.
    pub fn with_buffer(buf: Vec<u8>) -> Writer {
        Writer { buf, comma: false }
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    #[inline]
    pub(crate) fn sep(&mut self) {
        if self.comma {
            self.buf.push(b',');
        }
    }

    /// Starts an object.
    #[inline]
    pub fn begin_object(&mut self) {
        self.buf.push(b'{');
        self.comma = false;
    }

    /// Ends an object.
    #[inline]
    pub fn end_object(&mut self) {
        self.buf.push(b'}');
        self.comma = true;
    }

    /// Starts an array.
    #[inline]
    pub fn begin_array(&mut self) {
        self.buf.push(b'[');
        self.comma = false;
    }

    /// Ends an array.
    #[inline]
    pub fn end_array(&mut self) {
        self.buf.push(b']');
        self.comma = true;
    }

    /// Writes a member name that needs no escaping (the generated code's own names).
    #[inline]
    pub fn key(&mut self, key: &str) {
        self.sep();
        self.buf.push(b'"');
        self.buf.extend_from_slice(key.as_bytes());
        self.buf.extend_from_slice(b"\":");
        self.comma = false;
    }

    /// Writes a choice member's name, `{base}{suffix}` (`_{base}{suffix}` when `ext`); like
    /// [`Writer::key`], the parts need no escaping.
    #[inline]
    pub(crate) fn choice_key(&mut self, ext: bool, base: &str, suffix: &str) {
        self.sep();
        self.buf.extend_from_slice(if ext { b"\"_" } else { b"\"" });
        self.buf.extend_from_slice(base.as_bytes());
        self.buf.extend_from_slice(suffix.as_bytes());
        self.buf.extend_from_slice(b"\":");
        self.comma = false;
    }

    /// Writes an array item.
    #[inline]
    pub fn item<T: ToJson + ?Sized>(&mut self, v: &T) {
        self.sep();
        v.to_json(self);
    }

    /// Writes `null`.
    pub fn null(&mut self) {
        self.buf.extend_from_slice(b"null");
        self.comma = true;
    }

    /// Writes a boolean.
    pub fn bool(&mut self, v: bool) {
        self.buf.extend_from_slice(if v { b"true" } else { b"false" });
        self.comma = true;
    }

    /// Writes number text as it is (the caller guarantees it is valid JSON number text).
    pub fn raw_number(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
        self.comma = true;
    }

    /// Writes an integer.
    pub fn int(&mut self, v: i64) {
        let mut b = itoa::Buffer::new();
        self.raw_number(b.format(v));
    }

    /// Writes an unsigned integer.
    pub fn uint(&mut self, v: u64) {
        let mut b = itoa::Buffer::new();
        self.raw_number(b.format(v));
    }

    /// Writes a string, escaped.
    pub fn string(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.buf.reserve(bytes.len() + 2);
        self.buf.push(b'"');
        let mut run = 0;
        loop {
            let i = scan::find_special(bytes, run);
            self.buf.extend_from_slice(&bytes[run..i]);
            let Some(&c) = bytes.get(i) else { break };
            match c {
                b'"' => self.buf.extend_from_slice(b"\\\""),
                b'\\' => self.buf.extend_from_slice(b"\\\\"),
                b'\n' => self.buf.extend_from_slice(b"\\n"),
                b'\r' => self.buf.extend_from_slice(b"\\r"),
                b'\t' => self.buf.extend_from_slice(b"\\t"),
                _ => self.buf.extend_from_slice(&[
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[(c >> 4) as usize],
                    HEX[(c & 0xf) as usize],
                ]),
            }
            run = i + 1;
        }
        self.buf.push(b'"');
        self.comma = true;
    }

    /// Writes a member.
    #[inline]
    pub fn value<T: ToJson + ?Sized>(&mut self, key: &str, v: &T) {
        self.key(key);
        v.to_json(self);
    }

    /// Writes members kept from the input.
    pub fn members(&mut self, m: &Members) {
        m.write(self);
    }

    /// Writes a member name given by the input (escaped), inside an object.
    pub(crate) fn member_key(&mut self, key: &str) {
        self.sep();
        self.string(key);
        self.buf.push(b':');
        self.comma = false;
    }

    /// Writes a value's compact JSON text as it is (the caller guarantees it is such text, as
    /// `Members` keeps it).
    pub(crate) fn raw_value(&mut self, text: &str) {
        self.buf.extend_from_slice(text.as_bytes());
        self.comma = true;
    }
}

/// Re-indents compact JSON (as [`Writer`] writes it: no whitespace outside strings) by two
/// spaces, byte for byte otherwise; empty objects and arrays stay `{}` and `[]`.
pub(super) fn indent(compact: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(compact.len() * 2);
    let mut depth = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut Vec<u8>, depth: usize| {
        out.push(b'\n');
        out.resize(out.len() + 2 * depth, b' ');
    };
    let mut bytes = compact.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if in_string {
            out.push(b);
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                out.push(b);
            }
            b'{' | b'[' => {
                out.push(b);
                if matches!(bytes.peek(), Some(b'}' | b']')) {
                    out.extend(bytes.next());
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(b);
            }
            b',' => {
                out.push(b);
                newline(&mut out, depth);
            }
            b':' => out.extend_from_slice(b": "),
            _ => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn indents_compact_json_exactly() {
        let compact = br#"{"a":[1.50,{}],"b":"x,\"{:}","c":{"d":[]},"e":[true,null]}"#;
        let pretty = String::from_utf8(super::indent(compact)).unwrap();
        let expected = "{\n  \"a\": [\n    1.50,\n    {}\n  ],\n  \"b\": \"x,\\\"{:}\",\n  \"c\": {\n    \"d\": []\n  },\n  \"e\": [\n    true,\n    null\n  ]\n}";
        assert_eq!(pretty, expected);
    }
}
