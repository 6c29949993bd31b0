//! FHIR primitive values: the [`Primitive`] wrapper that keeps an element's `id` and extensions,
//! exact [`Decimal`]s, and date/time types that keep their precision.

use std::fmt;
use std::str::FromStr;

use crate::json::{Error, ErrorKind, FromJson, Members, Parser, ToJson, Writer};

/// A primitive element: its value (absent when the element carries only extensions) and its
/// optional `id` and extensions, which JSON writes as the `_element` member.
///
/// Each version module has an alias with its own extension type: `fhirstorm::r4::Primitive<T>`.
#[derive(Clone, Debug, PartialEq)]
pub struct Primitive<T, E> {
    /// The value.
    pub value: Option<T>,
    /// The `id` and extensions (`_birthDate`), boxed: most primitives have none.
    pub ext: Option<Box<PrimitiveExt<E>>>,
}

impl<T, E> Default for Primitive<T, E> {
    fn default() -> Self {
        Primitive { value: None, ext: None }
    }
}

impl<T, E> Primitive<T, E> {
    /// A primitive with this value and no extensions.
    pub fn new(value: T) -> Self {
        Primitive { value: Some(value), ext: None }
    }

    /// The value, if present.
    pub fn value(&self) -> Option<&T> {
        self.value.as_ref()
    }

    /// The element id, if any.
    pub fn id(&self) -> Option<&str> {
        self.ext.as_ref().and_then(|e| e.id.as_deref())
    }

    /// The element's extensions.
    pub fn extension(&self) -> &[E] {
        self.ext.as_ref().map_or(&[], |e| &e.extension)
    }
}

impl<T, E> From<T> for Primitive<T, E> {
    fn from(value: T) -> Self {
        Primitive::new(value)
    }
}

impl<E> From<&str> for Primitive<String, E> {
    fn from(value: &str) -> Self {
        Primitive::new(value.to_string())
    }
}

/// The `id`, extensions and unknown members of a primitive element (its JSON `_element`).
#[derive(Clone, Debug, PartialEq)]
pub struct PrimitiveExt<E> {
    /// Element id.
    pub id: Option<String>,
    /// Extensions.
    pub extension: Vec<E>,
    /// Members not defined by FHIR, kept as read.
    pub unknown: Members,
}

impl<E> Default for PrimitiveExt<E> {
    fn default() -> Self {
        PrimitiveExt { id: None, extension: Vec::new(), unknown: Members::new() }
    }
}

/// `.value()` on an optional primitive field: `patient.birth_date.value()`.
pub trait PrimitiveValue<T> {
    /// The value, when the element is present and has one.
    fn value(&self) -> Option<&T>;
}

impl<T, E> PrimitiveValue<T> for Option<Primitive<T, E>> {
    fn value(&self) -> Option<&T> {
        self.as_ref().and_then(|p| p.value.as_ref())
    }
}

// ---------------------------------------------------------------------------------------------

/// A FHIR `decimal`, kept as its exact text so that `1.50` is written back as `1.50`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// The decimal's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The nearest `f64`.
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// A decimal from text known to be JSON number syntax (a conversion's own output).
    #[cfg_attr(not(feature = "rust_decimal"), allow(dead_code))]
    pub(crate) fn from_number_text(text: String) -> Decimal {
        debug_assert!(text.parse::<Decimal>().is_ok(), "{text}");
        Decimal(text)
    }

    /// A decimal from an `f64`, written in the shortest form that reads back the same.
    /// Returns `None` for NaN and infinities.
    pub fn from_f64(v: f64) -> Option<Decimal> {
        v.is_finite().then(|| Decimal(format!("{v}")))
    }
}

impl From<i64> for Decimal {
    fn from(v: i64) -> Self {
        Decimal(v.to_string())
    }
}

impl FromStr for Decimal {
    type Err = Error;
    /// Parses decimal text (JSON number syntax), keeping it exactly.
    fn from_str(s: &str) -> Result<Decimal, Error> {
        let mut p = Parser::new(s);
        let text = p.number()?;
        p.finish()?;
        Ok(Decimal(text.to_string()))
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Decimal({})", self.0)
    }
}

impl FromJson for Decimal {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        Ok(Decimal(p.number()?.to_string()))
    }
}

impl ToJson for Decimal {
    fn to_json(&self, w: &mut Writer) {
        w.raw_number(&self.0)
    }
}

// ---------------------------------------------------------------------------------------------

/// How much of a date or time is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Precision {
    /// `2017`
    Year,
    /// `2017-03`
    Month,
    /// `2017-03-14`
    Day,
    /// `2017-03-14T10:30`
    Minute,
    /// `2017-03-14T10:30:00`
    Second,
    /// `2017-03-14T10:30:00.123`
    Fraction,
}

/// The parsed parts of a date/time text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Parts {
    pub(crate) year: u16,
    pub(crate) month: Option<u8>,
    pub(crate) day: Option<u8>,
    pub(crate) hour: Option<u8>,
    pub(crate) minute: Option<u8>,
    pub(crate) second: Option<u8>,
    pub(crate) nanos: Option<u32>,
    /// Offset from UTC in minutes (`Z` = 0).
    pub(crate) offset: Option<i16>,
}

fn two(b: &[u8], i: usize) -> Option<u8> {
    let d = b.get(i..i + 2)?;
    (d[0].is_ascii_digit() && d[1].is_ascii_digit()).then(|| (d[0] - b'0') * 10 + (d[1] - b'0'))
}

/// Parses `hh:mm[:ss[.fff]]` at `i`; returns the end.
fn parse_time(b: &[u8], mut i: usize, parts: &mut Parts) -> Option<usize> {
    let h = two(b, i).filter(|h| *h <= 24)?;
    if b.get(i + 2) != Some(&b':') {
        return None;
    }
    let m = two(b, i + 3).filter(|m| *m <= 59)?;
    parts.hour = Some(h);
    parts.minute = Some(m);
    i += 5;
    if b.get(i) == Some(&b':') {
        parts.second = Some(two(b, i + 1).filter(|s| *s <= 60)?);
        i += 3;
        if b.get(i) == Some(&b'.') {
            let start = i + 1;
            let mut j = start;
            while b.get(j).is_some_and(u8::is_ascii_digit) {
                j += 1;
            }
            if j == start {
                return None;
            }
            let digits = &b[start..j.min(start + 9)];
            let mut n: u32 = 0;
            for d in digits {
                n = n * 10 + u32::from(d - b'0');
            }
            n *= 10u32.pow(9 - digits.len() as u32);
            parts.nanos = Some(n);
            i = j;
        }
    }
    Some(i)
}

/// Parses a date with optional time and zone. `time_allowed`: dateTime/instant.
fn parse_date_time(s: &str, time_allowed: bool) -> Option<Parts> {
    let b = s.as_bytes();
    let mut p = Parts::default();
    if b.len() < 4 || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    p.year = s[..4].parse().ok()?;
    let mut i = 4;
    if b.get(i) == Some(&b'-') {
        p.month = Some(two(b, i + 1).filter(|m| (1..=12).contains(m))?);
        i += 3;
        if b.get(i) == Some(&b'-') {
            p.day = Some(two(b, i + 1).filter(|d| (1..=31).contains(d))?);
            i += 3;
            if time_allowed && b.get(i) == Some(&b'T') {
                i = parse_time(b, i + 1, &mut p)?;
                match b.get(i) {
                    Some(b'Z') => {
                        p.offset = Some(0);
                        i += 1;
                    }
                    Some(&sign @ (b'+' | b'-')) => {
                        let h = two(b, i + 1).filter(|h| *h <= 14)?;
                        if b.get(i + 3) != Some(&b':') {
                            return None;
                        }
                        let m = two(b, i + 4).filter(|m| *m <= 59)?;
                        let off = i16::from(h) * 60 + i16::from(m);
                        p.offset = Some(if sign == b'-' { -off } else { off });
                        i += 6;
                    }
                    _ => {}
                }
            }
        }
    }
    (i == b.len()).then_some(p)
}

macro_rules! date_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $parse:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The text, exactly as read.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub(crate) fn parts(&self) -> Parts {
                let parse: fn(&str) -> Option<Parts> = $parse;
                parse(&self.0).unwrap_or_default()
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<$name, Error> {
                let parse: fn(&str) -> Option<Parts> = $parse;
                match parse(s) {
                    Some(_) => Ok($name(s.to_string())),
                    None => Err(Error::custom(ErrorKind::Value, format!(concat!("invalid ", $what, " {:?}"), s))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0)
            }
        }

        impl FromJson for $name {
            fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
                let s = p.str()?;
                let parse: fn(&str) -> Option<Parts> = $parse;
                match parse(&s) {
                    Some(_) => Ok($name(s.into_owned())),
                    None => Err(p.error(ErrorKind::Value, format!(concat!("invalid ", $what, " {:?}"), s))),
                }
            }
        }

        impl ToJson for $name {
            fn to_json(&self, w: &mut Writer) {
                w.string(&self.0)
            }
        }
    };
}

date_type!(
    /// A FHIR `date`: `2017`, `2017-03` or `2017-03-14`, kept with its precision.
    Date,
    "date",
    |s| parse_date_time(s, false)
);
date_type!(
    /// A FHIR `dateTime`: a date, or a date and time with a zone, kept with its precision.
    DateTime,
    "dateTime",
    |s| parse_date_time(s, true)
);
date_type!(
    /// A FHIR `instant`: a date and time to the second or finer, with a zone.
    Instant,
    "instant",
    |s| parse_date_time(s, true).filter(|p| p.second.is_some())
);
date_type!(
    /// A FHIR `time` of day: `hh:mm:ss` with optional fraction.
    Time,
    "time",
    |s| {
        let mut p = Parts::default();
        let end = parse_time(s.as_bytes(), 0, &mut p)?;
        (end == s.len()).then_some(p)
    }
);

macro_rules! date_accessors {
    ($name:ident) => {
        impl $name {
            /// The year.
            pub fn year(&self) -> u16 {
                self.parts().year
            }
            /// The month (1–12), when given.
            pub fn month(&self) -> Option<u8> {
                self.parts().month
            }
            /// The day of the month, when given.
            pub fn day(&self) -> Option<u8> {
                self.parts().day
            }
            /// How much of the date (and time) is given.
            pub fn precision(&self) -> Precision {
                let p = self.parts();
                match (p.month, p.day, p.minute, p.second, p.nanos) {
                    (None, ..) => Precision::Year,
                    (_, None, ..) => Precision::Month,
                    (_, _, None, ..) => Precision::Day,
                    (_, _, _, None, _) => Precision::Minute,
                    (_, _, _, _, None) => Precision::Second,
                    _ => Precision::Fraction,
                }
            }
        }
    };
}
date_accessors!(Date);
date_accessors!(DateTime);
date_accessors!(Instant);

macro_rules! time_accessors {
    ($name:ident) => {
        impl $name {
            /// Hour, minute and second, when a time is given.
            pub fn time(&self) -> Option<(u8, u8, u8)> {
                let p = self.parts();
                Some((p.hour?, p.minute?, p.second.unwrap_or(0)))
            }
            /// Fraction of a second in nanoseconds, when given.
            pub fn nanos(&self) -> Option<u32> {
                self.parts().nanos
            }
        }
    };
}
time_accessors!(DateTime);
time_accessors!(Instant);
time_accessors!(Time);

impl DateTime {
    /// Offset from UTC in minutes, when a zone is given (`Z` is 0).
    pub fn offset_minutes(&self) -> Option<i16> {
        self.parts().offset
    }
}

impl Instant {
    /// Offset from UTC in minutes (`Z` is 0).
    pub fn offset_minutes(&self) -> Option<i16> {
        self.parts().offset
    }
}

// ---- JSON of a primitive's id and extensions (`_birthDate`) ----

impl<E: FromJson> FromJson for PrimitiveExt<E> {
    fn from_json(p: &mut Parser<'_>) -> Result<Self, Error> {
        let mut r = PrimitiveExt::default();
        p.object(|p, key| {
            match key {
                "id" if !p.null()? => r.id = Some(String::from_json(p)?),
                "id" => {}
                "extension" => r.extension = Vec::from_json(p)?,
                // DSTU2's `fhir_comments` is part of its JSON, not an unknown member.
                _ => p.keep_member(&mut r.unknown, key, key != "fhir_comments")?,
            }
            Ok(())
        })?;
        Ok(r)
    }
}

impl<E: ToJson> ToJson for PrimitiveExt<E> {
    fn to_json(&self, w: &mut Writer) {
        w.begin_object();
        if let Some(id) = &self.id {
            w.value("id", id);
        }
        if !self.extension.is_empty() {
            w.value("extension", &self.extension);
        }
        w.members(&self.unknown);
        w.end_object();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_keep_precision() {
        let d: DateTime = "2017-03".parse().unwrap();
        assert_eq!(d.precision(), Precision::Month);
        assert_eq!(d.as_str(), "2017-03");
        let d: DateTime = "2017-03-14T10:30:15.25+01:00".parse().unwrap();
        assert_eq!(d.precision(), Precision::Fraction);
        assert_eq!(d.nanos(), Some(250_000_000));
        assert_eq!(d.offset_minutes(), Some(60));
        assert!("2017-13-01".parse::<Date>().is_err());
        assert!("2017-03-14T10:30".parse::<Date>().is_err());
        assert!("not a date".parse::<DateTime>().is_err());
        assert!("2017-03-14T10:30Z".parse::<Instant>().is_err());
        assert!("10:30:00".parse::<Time>().is_ok());
    }

    #[test]
    fn decimals_are_exact() {
        let d: Decimal = "1.50".parse().unwrap();
        assert_eq!(d.to_string(), "1.50");
        assert!("1.".parse::<Decimal>().is_err());
    }
}
