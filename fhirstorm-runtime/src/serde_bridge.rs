//! `Serialize`/`Deserialize` for the generated models: one small impl per model that calls the two
//! functions here, so that serde's generic code is compiled once per serializer, not once per
//! model.
//!
//! **Through serde_json** (which most applications meet the models through: axum's `Json`,
//! reqwest's `.json()`), the models go at the native parser's and writer's speed: serde_json hands
//! over the value's raw text the way it does for `serde_json::value::RawValue` (its `raw_value`
//! feature, which this crate turns on), and [`json::from_str`](crate::json::from_str) reads it;
//! writing, [`json::to_string`](crate::json::to_string)'s text goes out as a raw value. Both are
//! exact (decimals keep every digit, with or without serde_json's `arbitrary_precision`).
//! serde_json's compact writer is recognised by its type name (`std::any::type_name`): a writer it
//! does not recognise (the pretty one, a wrapper such as `serde_path_to_error`) takes the generic
//! path, which is correct everywhere, only slower.
//!
//! (`serde_json::from_value` hands over the `Value`'s text too, so it takes this path.)
//!
//! **Through any other format** (CBOR, MessagePack, `serde_json::to_value`, serde's own buffering
//! in `#[serde(flatten)]` or untagged enums), the generic path: the model goes through
//! [`json::Value`](crate::json::Value) (built from the format's data model, then read natively).
//! Numbers there are what the format holds: an integer exactly, a decimal as the format's float
//! unless the format keeps text (serde_json with `arbitrary_precision` does).
//!
//! A byte order mark never reaches this code: serde_json refuses it first, so strip it with
//! [`json::strip_bom`](crate::json::strip_bom).

/// Implements serde's traits through this module (generated code only).
#[cfg(feature = "serde")]
#[macro_export]
#[doc(hidden)]
macro_rules! __serde_via_json {
    ($($t:ident),* $(,)?) => {$(
        impl $crate::__private::serde::Serialize for $t {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::serde_bridge::serialize(self, s)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::serde_bridge::deserialize(d)
            }
        }
    )*};
}

/// Implements serde's traits for code enums, as their code string (generated code only).
#[cfg(feature = "serde")]
#[macro_export]
#[doc(hidden)]
macro_rules! __serde_via_str {
    ($($t:ident),* $(,)?) => {$(
        impl $crate::__private::serde::Serialize for $t {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s: ::std::borrow::Cow<'de, str> = $crate::__private::serde::Deserialize::deserialize(d)?;
                Ok($t::from(&*s))
            }
        }
    )*};
}

/// Without the `serde` feature, generated code's serde impls are not compiled.
#[cfg(not(feature = "serde"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __serde_via_json {
    ($($t:tt)*) => {};
}

/// Without the `serde` feature, generated code's serde impls are not compiled.
#[cfg(not(feature = "serde"))]
#[macro_export]
#[doc(hidden)]
macro_rules! __serde_via_str {
    ($($t:tt)*) => {};
}

#[cfg(feature = "serde")]
pub use imp::{deserialize, serialize};

#[cfg(feature = "serde")]
mod imp {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{self, Deserializer, MapAccess, Visitor};
    use serde::ser::{SerializeStruct, Serializer};
    use serde::{Deserialize, Serialize};

    use crate::json::{self, value_from_map, FromJson, ToJson, Value, ValueVisitor};

    /// The name serde_json gives a raw value's newtype and its one member (`raw_value` feature).
    const RAW_TOKEN: &str = "$serde_json::private::RawValue";

    /// Writes a model: as raw JSON text into serde_json's compact writer, else as a [`Value`].
    pub fn serialize<T: ToJson, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        if is_serde_json_compact::<S>() {
            let text = json::to_string(v);
            let mut raw = s.serialize_struct(RAW_TOKEN, 1)?;
            raw.serialize_field(RAW_TOKEN, text.as_str())?;
            raw.end()
        } else {
            json::to_value(v).serialize(s)
        }
    }

    /// Whether `S` is serde_json's compact writer (`serde_json::to_vec`, `to_string`,
    /// `to_writer`), which writes a raw value's text as it is. A pretty writer would not indent
    /// it, and any other serializer would write the raw value's wrapper as a map.
    fn is_serde_json_compact<S>() -> bool {
        is_compact_name(std::any::type_name::<S>())
    }

    /// `&mut serde_json::ser::Serializer<W>` (the formatter left at its default) or
    /// `&mut serde_json::ser::Serializer<W, serde_json::ser::CompactFormatter>`.
    pub(super) fn is_compact_name(name: &str) -> bool {
        let Some(args) = name.strip_prefix("&mut serde_json::ser::Serializer<").and_then(|a| a.strip_suffix('>'))
        else {
            return false;
        };
        // The formatter is the second type argument, after the last comma outside any `<>`.
        let mut depth = 0usize;
        let mut last_comma = None;
        for (i, c) in args.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => last_comma = Some(i),
                _ => {}
            }
        }
        match last_comma {
            None => true,
            Some(i) => args[i + 1..].trim() == "serde_json::ser::CompactFormatter",
        }
    }

    /// Reads a model: from the raw text serde_json hands over, else through a [`Value`].
    pub fn deserialize<'de, T: FromJson, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        match d.deserialize_newtype_struct(RAW_TOKEN, IncomingVisitor)? {
            Incoming::Text(text) => json::from_str(&text),
            Incoming::Tree(value) => json::from_value(&value),
        }
        .map_err(de::Error::custom)
    }

    /// What a deserializer gave: the value's JSON text (serde_json) or its data (any format).
    enum Incoming<'de> {
        Text(Cow<'de, str>),
        Tree(Value),
    }

    struct IncomingVisitor;

    impl<'de> Visitor<'de> for IncomingVisitor {
        type Value = Incoming<'de>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a FHIR JSON object")
        }

        /// A format without serde_json's raw values: the value as data.
        fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Incoming<'de>, D::Error> {
            Value::deserialize(d).map(Incoming::Tree)
        }

        /// serde_json's raw value is a map of one member named [`RAW_TOKEN`] holding the text; a
        /// format that answers a newtype with its content gives the object itself.
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Incoming<'de>, A::Error> {
            let Some(first) = map.next_key::<String>()? else {
                return Ok(Incoming::Tree(Value::Object(json::Members::new())));
            };
            if first == RAW_TOKEN {
                return map.next_value::<RawText<'de>>().map(|t| Incoming::Text(t.0));
            }
            value_from_map(first, map).map(Incoming::Tree)
        }

        // A format that answers a newtype with its content and the content is not an object: the
        // model's reader refuses it with the error it gives any non-object.
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Incoming<'de>, E> {
            ValueVisitor.visit_bool(v).map(Incoming::Tree)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Incoming<'de>, E> {
            ValueVisitor.visit_i64(v).map(Incoming::Tree)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Incoming<'de>, E> {
            ValueVisitor.visit_u64(v).map(Incoming::Tree)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Incoming<'de>, E> {
            ValueVisitor.visit_f64(v).map(Incoming::Tree)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Incoming<'de>, E> {
            ValueVisitor.visit_str(v).map(Incoming::Tree)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Incoming<'de>, E> {
            ValueVisitor.visit_unit().map(Incoming::Tree)
        }
        fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Incoming<'de>, A::Error> {
            ValueVisitor.visit_seq(seq).map(Incoming::Tree)
        }
    }

    /// A raw value's text, borrowed from the input where serde_json can (`from_slice`,
    /// `from_str`), owned where it cannot (`from_reader`, `from_value`).
    struct RawText<'de>(Cow<'de, str>);

    impl<'de> Deserialize<'de> for RawText<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct TextVisitor;
            impl<'de> Visitor<'de> for TextVisitor {
                type Value = RawText<'de>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("raw JSON text")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<RawText<'de>, E> {
                    Ok(RawText(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<RawText<'de>, E> {
                    Ok(RawText(Cow::Owned(v.to_owned())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<RawText<'de>, E> {
                    Ok(RawText(Cow::Owned(v)))
                }
            }
            d.deserialize_str(TextVisitor)
        }
    }
}

#[cfg(all(test, feature = "serde"))]
mod tests {
    use super::imp::is_compact_name;

    #[test]
    fn serde_json_compact_writer_is_recognised_by_name() {
        for compact in [
            "&mut serde_json::ser::Serializer<&mut alloc::vec::Vec<u8>>",
            "&mut serde_json::ser::Serializer<std::io::stdio::Stdout>",
            "&mut serde_json::ser::Serializer<&mut my::Writer<a::B, c::D>>",
            "&mut serde_json::ser::Serializer<&mut alloc::vec::Vec<u8>, serde_json::ser::CompactFormatter>",
        ] {
            assert!(is_compact_name(compact), "{compact}");
        }
        for other in [
            "&mut serde_json::ser::Serializer<&mut alloc::vec::Vec<u8>, serde_json::ser::PrettyFormatter<'_>>",
            "&mut serde_json::ser::Serializer<&mut my::Writer<a::B, c::D>, my::Formatter>",
            "serde_json::value::ser::Serializer",
            "&mut ciborium::ser::Serializer<&mut alloc::vec::Vec<u8>>",
        ] {
            assert!(!is_compact_name(other), "{other}");
        }
    }
}
