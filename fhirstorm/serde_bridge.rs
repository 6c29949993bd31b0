//! `Serialize`/`Deserialize` for the generated models, through [`Value`](crate::json::Value):
//! each model's impl is a few lines, the generic serde code is instantiated once per serializer
//! for `Value`, not once per model. For exact decimals through serde_json, enable its
//! `arbitrary_precision` feature (it keeps every digit, and writes an exponent's `E` as `e`), or
//! use [`json::from_slice`](crate::json::from_slice), which is always exact (and faster). A byte
//! order mark never reaches this code: serde_json refuses it first, so strip it with
//! [`json::strip_bom`](crate::json::strip_bom).

/// Implements serde's traits through the JSON bridge (generated code only).
#[cfg(feature = "serde")]
#[macro_export]
#[doc(hidden)]
macro_rules! __serde_via_json {
    ($($t:ident),* $(,)?) => {$(
        impl $crate::__private::serde::Serialize for $t {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $crate::__private::serde::Serialize::serialize(&$crate::json::to_value(self), s)
            }
        }
        impl<'de> $crate::__private::serde::Deserialize<'de> for $t {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v: $crate::json::Value = $crate::__private::serde::Deserialize::deserialize(d)?;
                $crate::json::from_value(&v).map_err(<D::Error as $crate::__private::serde::de::Error>::custom)
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
