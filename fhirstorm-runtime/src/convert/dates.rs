//! What the date and time conversions share: reading a FHIR value into the parts a target needs,
//! and writing FHIR text from a target's parts.

use std::borrow::Cow;
use std::fmt;

use super::ConversionError;
use crate::primitive::Parts;
use crate::{Date, DateTime, Instant, Time};

// ---- Reading a FHIR value into the parts a target needs ------------------------------------

/// A calendar date: year, month, day.
pub(crate) type Ymd = (i32, u8, u8);

/// A time of day: hour (0–23), minute, second (0–60: 60 is a leap second), nanoseconds.
pub(crate) type Hmsn = (u8, u8, u8, u32);

/// A FHIR value being converted: its type's name, text and parsed parts.
pub(crate) struct Source<'a> {
    what: &'static str,
    text: &'a str,
    parts: Parts,
}

impl<'a> Source<'a> {
    pub(crate) fn date(d: &'a Date) -> Self {
        Source { what: "FHIR date", text: d.as_str(), parts: d.parts() }
    }

    pub(crate) fn date_time(d: &'a DateTime) -> Self {
        Source { what: "FHIR dateTime", text: d.as_str(), parts: d.parts() }
    }

    pub(crate) fn instant(d: &'a Instant) -> Self {
        Source { what: "FHIR instant", text: d.as_str(), parts: d.parts() }
    }

    pub(crate) fn time(t: &'a Time) -> Self {
        Source { what: "FHIR time", text: t.as_str(), parts: t.parts() }
    }

    pub(crate) fn error(&self, to: &'static str, reason: impl Into<Cow<'static, str>>) -> ConversionError {
        ConversionError::new(self.what, to, self.text, reason)
    }

    /// Year, month and day; an error when the value has less than a day's precision.
    pub(crate) fn ymd(&self, to: &'static str) -> Result<Ymd, ConversionError> {
        let p = &self.parts;
        let month = p.month.ok_or_else(|| self.error(to, "it gives only a year (no month or day)"))?;
        let day = p.day.ok_or_else(|| self.error(to, "it gives a year and month, no day"))?;
        Ok((i32::from(p.year), month, day))
    }

    /// A calendar date and nothing more: a dateTime with a time of day is refused rather than
    /// cut to its date (convert it to a date-time and take the date there).
    pub(crate) fn date_only(&self, to: &'static str) -> Result<Ymd, ConversionError> {
        if self.parts.hour.is_some() {
            return Err(self.error(to, "it has a time of day, which a date cannot hold"));
        }
        self.ymd(to)
    }

    /// The time of day; an error when there is none, or for `24:00`.
    pub(crate) fn hmsn(&self, to: &'static str) -> Result<Hmsn, ConversionError> {
        let p = &self.parts;
        let (Some(hour), Some(minute)) = (p.hour, p.minute) else {
            return Err(self.error(to, "it has no time of day"));
        };
        if hour == 24 {
            return Err(self.error(to, "24:00 is not a time of day (FHIR times run to 23:59:59)"));
        }
        Ok((hour, minute, p.second.unwrap_or(0), p.nanos.unwrap_or(0)))
    }

    /// Date, time of day and offset from UTC in seconds: a point in time.
    pub(crate) fn point(&self, to: &'static str) -> Result<(Ymd, Hmsn, i32), ConversionError> {
        let ymd = self.ymd(to)?;
        let hmsn = self.hmsn(to)?;
        let offset = self.parts.offset.ok_or_else(|| self.error(to, "it has no zone offset"))?;
        Ok((ymd, hmsn, i32::from(offset) * 60))
    }
}

/// The refusal of a leap second by a target that has none.
#[cfg(any(feature = "time", feature = "jiff"))]
pub(crate) fn no_leap_second(source: &Source<'_>, to: &'static str, second: u8) -> Result<(), ConversionError> {
    if second == 60 {
        return Err(source.error(to, "a leap second (:60), which this type cannot hold"));
    }
    Ok(())
}

// ---- Writing a FHIR value from a target's parts --------------------------------------------

/// `YYYY-MM-DD`; an error for a year FHIR cannot write.
pub(crate) fn date_text(
    from: &'static str,
    to: &'static str,
    value: &dyn fmt::Display,
    (y, m, d): Ymd,
) -> Result<String, ConversionError> {
    if !(1..=9999).contains(&y) {
        return Err(ConversionError::new(from, to, value, "FHIR writes years 0001 to 9999"));
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// `hh:mm:ss[.fffffffff]`, the fraction as long as it needs to be.
pub(crate) fn time_text((h, m, s, nanos): Hmsn) -> String {
    let mut text = format!("{h:02}:{m:02}:{s:02}");
    if nanos > 0 {
        let fraction = format!("{nanos:09}");
        text.push('.');
        text.push_str(fraction.trim_end_matches('0'));
    }
    text
}

/// `Z`, or `±hh:mm`; an error for an offset FHIR cannot write.
fn offset_text(
    from: &'static str,
    to: &'static str,
    value: &dyn fmt::Display,
    seconds: i32,
) -> Result<String, ConversionError> {
    if seconds == 0 {
        return Ok("Z".into());
    }
    if seconds % 60 != 0 {
        return Err(ConversionError::new(from, to, value, "its zone offset has seconds, which FHIR cannot write"));
    }
    let minutes = seconds.abs() / 60;
    if minutes > 14 * 60 {
        return Err(ConversionError::new(from, to, value, "its zone offset is beyond ±14:00"));
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    Ok(format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60))
}

/// A FHIR `dateTime` or `instant` (`T`) from a point in time.
pub(crate) fn point_text<T: std::str::FromStr>(
    from: &'static str,
    to: &'static str,
    value: &dyn fmt::Display,
    (ymd, hmsn, offset): (Ymd, Hmsn, i32),
) -> Result<T, ConversionError> {
    let text =
        format!("{}T{}{}", date_text(from, to, value, ymd)?, time_text(hmsn), offset_text(from, to, value, offset)?);
    parse_written(from, to, value, &text)
}

/// Parses text written above into its FHIR type (which checks it once more).
pub(crate) fn parse_written<T: std::str::FromStr>(
    from: &'static str,
    to: &'static str,
    value: &dyn fmt::Display,
    text: &str,
) -> Result<T, ConversionError> {
    text.parse().map_err(|_| ConversionError::new(from, to, value, format!("{text:?} is not a valid {to}")))
}

/// The conversions every crate's calendar date and time of day have alike: a FHIR date (and a
/// dateTime of exactly a day) into the crate's date and back, a FHIR time into its time of day
/// and back. Each crate file gives its type names and its four functions: building its date
/// and time from the parts (`make_date(&source, to, ymd)`, `make_time(&source, to, hmsn)`) and
/// reading the parts back (`ymd(&date)`, `hmsn(&time)`).
macro_rules! calendar_conversions {
    (date: $date:ty = $date_name:expr, $make_date:ident, $ymd:ident;
     time: $time:ty = $time_name:expr, $make_time:ident, $hmsn:ident;) => {
        impl TryFrom<&$crate::Date> for $date {
            type Error = $crate::convert::ConversionError;
            fn try_from(d: &$crate::Date) -> Result<Self, Self::Error> {
                let source = $crate::convert::dates::Source::date(d);
                $make_date(&source, $date_name, source.ymd($date_name)?)
            }
        }

        /// A dateTime of exactly a day's precision (`2017-03-14`).
        impl TryFrom<&$crate::DateTime> for $date {
            type Error = $crate::convert::ConversionError;
            fn try_from(d: &$crate::DateTime) -> Result<Self, Self::Error> {
                let source = $crate::convert::dates::Source::date_time(d);
                $make_date(&source, $date_name, source.date_only($date_name)?)
            }
        }

        impl TryFrom<$date> for $crate::Date {
            type Error = $crate::convert::ConversionError;
            fn try_from(d: $date) -> Result<Self, Self::Error> {
                let text = $crate::convert::dates::date_text($date_name, "FHIR date", &d, $ymd(&d))?;
                $crate::convert::dates::parse_written($date_name, "FHIR date", &d, &text)
            }
        }

        impl TryFrom<&$crate::Time> for $time {
            type Error = $crate::convert::ConversionError;
            fn try_from(t: &$crate::Time) -> Result<Self, Self::Error> {
                let source = $crate::convert::dates::Source::time(t);
                $make_time(&source, $time_name, source.hmsn($time_name)?)
            }
        }

        impl TryFrom<$time> for $crate::Time {
            type Error = $crate::convert::ConversionError;
            fn try_from(t: $time) -> Result<Self, Self::Error> {
                let text = $crate::convert::dates::time_text($hmsn(&t));
                $crate::convert::dates::parse_written($time_name, "FHIR time", &t, &text)
            }
        }
    };
}
pub(crate) use calendar_conversions;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_parts() {
        assert_eq!(time_text((10, 30, 0, 0)), "10:30:00");
        assert_eq!(time_text((10, 30, 5, 250_000_000)), "10:30:05.25");
        assert_eq!(time_text((10, 30, 5, 1)), "10:30:05.000000001");
        let v = &"x";
        assert_eq!(offset_text("a", "b", v, 0).unwrap(), "Z");
        assert_eq!(offset_text("a", "b", v, -(5 * 3600 + 30 * 60)).unwrap(), "-05:30");
        assert_eq!(offset_text("a", "b", v, 14 * 3600).unwrap(), "+14:00");
        assert!(offset_text("a", "b", v, 14 * 3600 + 60).is_err());
        assert!(offset_text("a", "b", v, 561).is_err());
        assert!(date_text("a", "b", v, (0, 1, 1)).is_err());
        assert!(date_text("a", "b", v, (10_000, 1, 1)).is_err());
        assert_eq!(date_text("a", "b", v, (9, 1, 2)).unwrap(), "0009-01-02");
    }

    #[test]
    fn read_parts() {
        let year: DateTime = "2017".parse().unwrap();
        let e = Source::date_time(&year).ymd("T").unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"cannot convert FHIR dateTime "2017" to T: it gives only a year (no month or day)"#
        );
        let midnight: Time = "24:00:00".parse().unwrap();
        assert!(Source::time(&midnight).hmsn("T").is_err());
        let local: DateTime = "2017-03-14T10:30:00".parse().unwrap();
        assert!(Source::date_time(&local).point("T").unwrap_err().reason().contains("zone"));
        assert!(Source::date_time(&local).date_only("T").is_err());
        let day: DateTime = "2017-03-14".parse().unwrap();
        assert_eq!(Source::date_time(&day).date_only("T").unwrap(), (2017, 3, 14));
        let at: Instant = "2017-03-14T10:30:15.5-02:30".parse().unwrap();
        assert_eq!(Source::instant(&at).point("T").unwrap(), ((2017, 3, 14), (10, 30, 15, 500_000_000), -9000));
    }
}
