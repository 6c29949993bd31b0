//! Conversions between FHIR's primitives and the types Rust programs already use for them, each
//! behind its own feature:
//!
//! | feature | FHIR | the crate's types |
//! |---|---|---|
//! | `time` | `Date`, `DateTime`, `Instant`, `Time` | `time::Date`, `time::OffsetDateTime`, `time::Time` |
//! | `chrono` | `Date`, `DateTime`, `Instant`, `Time` | `NaiveDate`, `DateTime<FixedOffset>`, `DateTime<Utc>`, `NaiveTime` |
//! | `jiff` | `Date`, `DateTime`, `Instant`, `Time` | `civil::Date`, `Zoned`, `Timestamp`, `civil::Time` |
//! | `rust_decimal` | `Decimal` | `rust_decimal::Decimal` |
//! | `uuid` | an `id` or a `urn:uuid:` uri | `uuid::Uuid` ([`uuid_from_urn`], [`uuid_from_id`], [`urn_from_uuid`]) |
//!
//! Every conversion is a `TryFrom` (from a reference, for the FHIR side) and fails with a
//! [`ConversionError`] that names both types, the value and the reason, where the target cannot
//! hold what the value says:
//!
//! - a FHIR date or dateTime of less than a day's precision (`2017`, `2017-03`) is not a calendar
//!   date, and a dateTime without a time of day or zone is not a point in time;
//! - `24:00` (accepted by some servers, not a FHIR time) is not a time of day anywhere;
//! - a leap second (`23:59:60`) exists in chrono (as a second 59 of over a billion nanoseconds)
//!   and nowhere else;
//! - a year outside 0001–9999, an offset beyond ±14:00 or with seconds, cannot be written in FHIR;
//! - a decimal of more than 28 decimal places or 96 bits of digits is not a `rust_decimal`.
//!
//! Going into FHIR, the fraction of a second is written with as many digits as it needs
//! (`.25`, none for a whole second) and a zero offset as `Z`.
//!
//! ```
//! # #[cfg(feature = "chrono")] {
//! use fhirstorm::DateTime;
//!
//! let when: DateTime = "2017-03-14T10:30:15.25+01:00".parse().unwrap();
//! let chrono_when = chrono::DateTime::<chrono::FixedOffset>::try_from(&when).unwrap();
//! assert_eq!(DateTime::try_from(chrono_when).unwrap(), when);
//!
//! let year: DateTime = "2017".parse().unwrap();
//! let error = chrono::DateTime::<chrono::Utc>::try_from(&year).unwrap_err();
//! assert!(error.to_string().contains("no month"), "{error}");
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;

#[cfg(feature = "chrono")]
mod chrono;
#[cfg(any(feature = "time", feature = "chrono", feature = "jiff"))]
mod dates;
#[cfg(feature = "jiff")]
mod jiff;
#[cfg(feature = "rust_decimal")]
mod rust_decimal;
#[cfg(feature = "time")]
mod time;
#[cfg(feature = "uuid")]
mod uuid;

#[cfg(feature = "uuid")]
pub use self::uuid::{urn_from_uuid, uuid_from_id, uuid_from_urn};

/// A value the target type cannot hold, or hold exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConversionError {
    from: &'static str,
    to: &'static str,
    value: String,
    reason: Cow<'static, str>,
}

impl ConversionError {
    pub(crate) fn new(
        from: &'static str,
        to: &'static str,
        value: impl fmt::Display,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        ConversionError { from, to, value: value.to_string(), reason: reason.into() }
    }

    /// The source type (`FHIR dateTime`, `chrono::NaiveTime`, ...).
    pub fn from_type(&self) -> &str {
        self.from
    }

    /// The target type.
    pub fn to_type(&self) -> &str {
        self.to
    }

    /// The value, as text.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Why the target cannot hold it.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot convert {} {:?} to {}: {}", self.from, self.value, self.to, self.reason)
    }
}

impl std::error::Error for ConversionError {}
