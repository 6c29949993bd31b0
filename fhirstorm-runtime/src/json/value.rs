//! A JSON value that keeps numbers as their exact text, for members the definitions do not know.

use std::fmt;

use super::Members;

/// A JSON number, kept as the exact text it was read from (`1.50` stays `1.50`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl Number {
    pub(crate) fn from_text_unchecked(text: &str) -> Number {
        Number(text.to_string())
    }

    /// The number's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as an `f64` (may round).
    pub fn as_f64(&self) -> Option<f64> {
        self.0.parse().ok()
    }

    /// The number as an `i64`, when it is an integer in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }
}

impl std::str::FromStr for Number {
    type Err = super::Error;
    /// Parses JSON number text, keeping it exactly.
    fn from_str(s: &str) -> Result<Number, super::Error> {
        let mut p = super::Parser::new(s);
        let text = p.number()?;
        p.finish()?;
        Ok(Number(text.to_string()))
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Any JSON value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Value {
    /// `null`
    #[default]
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, with its exact text.
    Number(Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in the order read.
    Object(Members),
}

impl Value {
    /// Reads a value from JSON text.
    pub fn parse(text: &str) -> Result<Value, super::Error> {
        let mut p = super::Parser::new(text);
        let v = p.value()?;
        p.finish()?;
        Ok(v)
    }

    /// Compares two values as JSON documents (object member order ignored, numbers compared by
    /// their exact text) and describes the first difference, with its JSON path.
    pub fn first_difference(&self, other: &Value) -> Option<String> {
        diff(self, other, &mut String::from("$"))
    }

    /// The member `key`, when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(key),
            _ => None,
        }
    }

    /// The string, when this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The items, when this is an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The members, when this is an object.
    pub fn as_object(&self) -> Option<&Members> {
        match self {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }
}

impl super::FromJson for Value {
    fn from_json(p: &mut super::Parser<'_>) -> Result<Value, super::Error> {
        p.value()
    }
}

impl super::ToJson for Value {
    fn to_json(&self, w: &mut super::Writer) {
        match self {
            Value::Null => w.null(),
            Value::Bool(b) => w.bool(*b),
            Value::Number(n) => w.raw_number(n.as_str()),
            Value::String(s) => w.string(s),
            Value::Array(a) => {
                w.begin_array();
                for v in a {
                    w.item(v);
                }
                w.end_array();
            }
            Value::Object(m) => {
                w.begin_object();
                w.members(m);
                w.end_object();
            }
        }
    }
}

fn diff(a: &Value, b: &Value, path: &mut String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, va) in x.iter() {
                let len = path.len();
                path.push('.');
                path.push_str(k);
                let r = match y.get(k) {
                    Some(vb) => diff(va, vb, path),
                    None => Some(format!("{path}: missing in output")),
                };
                path.truncate(len);
                if r.is_some() {
                    return r;
                }
            }
            for (k, _) in y.iter() {
                if x.get(k).is_none() {
                    return Some(format!("{path}.{k}: added in output"));
                }
            }
            (x.len() != y.len()).then(|| format!("{path}: member count {} vs {}", x.len(), y.len()))
        }
        (Value::Array(x), Value::Array(y)) => {
            if x.len() != y.len() {
                return Some(format!("{path}: array length {} vs {}", x.len(), y.len()));
            }
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let r = diff(va, vb, path);
                path.truncate(len);
                if r.is_some() {
                    return r;
                }
            }
            None
        }
        _ if a == b => None,
        _ => Some(format!("{path}: {a:?} became {b:?}")),
    }
}

/// serde: the bridge the generated models' `Serialize`/`Deserialize` go through (feature `serde`).
#[cfg(feature = "serde")]
pub(crate) mod serde_impls {
    use std::fmt;

    use super::{Members, Number, Value};

    /// The key serde_json uses for a number when its `arbitrary_precision` feature is on.
    const SERDE_JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

    impl serde::Serialize for Value {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            match self {
                Value::Null => s.serialize_unit(),
                Value::Bool(b) => s.serialize_bool(*b),
                Value::Number(n) => {
                    let t = n.as_str();
                    if let Ok(i) = t.parse::<i64>() {
                        return s.serialize_i64(i);
                    }
                    if let Ok(u) = t.parse::<u64>() {
                        return s.serialize_u64(u);
                    }
                    // serde_json::Number keeps the text exactly when arbitrary_precision is on, and
                    // is the nearest f64 otherwise: exact where the serializer can be.
                    match t.parse::<serde_json::Number>() {
                        Ok(num) => num.serialize(s),
                        Err(_) => s.serialize_f64(t.parse::<f64>().unwrap_or(f64::NAN)),
                    }
                }
                Value::String(v) => s.serialize_str(v),
                Value::Array(a) => {
                    let mut seq = s.serialize_seq(Some(a.len()))?;
                    for v in a {
                        seq.serialize_element(v)?;
                    }
                    seq.end()
                }
                Value::Object(m) => m.serialize(s),
            }
        }
    }

    impl serde::Serialize for Members {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = s.serialize_map(Some(self.len()))?;
            for (k, v) in self.iter() {
                map.serialize_entry(k, v)?;
            }
            map.end()
        }
    }

    /// An object's members through serde (a JSON object; anything else is an error).
    impl<'de> serde::Deserialize<'de> for Members {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
            match Value::deserialize(d)? {
                Value::Object(m) => Ok(m),
                _ => Err(<D::Error as serde::de::Error>::custom("expected a JSON object")),
            }
        }
    }

    impl<'de> serde::Deserialize<'de> for Value {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
            d.deserialize_any(ValueVisitor)
        }
    }

    /// Reads any value of serde's data model as a [`Value`].
    pub(crate) struct ValueVisitor;

    impl<'de> serde::de::Visitor<'de> for ValueVisitor {
        type Value = Value;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any JSON value")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(Number(v.to_string())))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(Number(v.to_string())))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Value, E> {
            if !v.is_finite() {
                return Err(E::custom("a JSON number must be finite"));
            }
            let mut t = format!("{v}");
            if !t.contains(['.', 'e', 'E']) {
                t.push_str(".0");
            }
            Ok(Value::Number(Number(t)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::String(v.to_string()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::String(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_none<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
            serde::Deserialize::deserialize(d)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
            let mut a = Vec::new();
            while let Some(v) = seq.next_element()? {
                a.push(v);
            }
            Ok(Value::Array(a))
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
            match map.next_key::<String>()? {
                Some(first) => value_from_map(first, map),
                None => Ok(Value::Object(Members::new())),
            }
        }
    }

    /// The rest of a map whose first key has been read.
    pub(crate) fn value_from_map<'de, A: serde::de::MapAccess<'de>>(
        first: String,
        mut map: A,
    ) -> Result<Value, A::Error> {
        if first == SERDE_JSON_NUMBER_TOKEN {
            // serde_json with arbitrary_precision: the number's exact text.
            let text: String = map.next_value()?;
            return Ok(Value::Number(Number(text)));
        }
        let mut m = Members::new();
        m.push(first, map.next_value()?);
        while let Some(k) = map.next_key::<String>()? {
            let v: Value = map.next_value()?;
            m.push(k, v);
        }
        Ok(Value::Object(m))
    }
}
