//! `chrono`: `NaiveDate`, `NaiveTime`, `DateTime<FixedOffset>` and `DateTime<Utc>`. chrono is the
//! one target with leap seconds: FHIR's `:60` is its second 59 with a billion nanoseconds more.

use ::chrono::{
    DateTime as ChronoDateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc,
};

use super::dates::{date_text, parse_written, point_text, time_text, Hmsn, Source, Ymd};
use super::ConversionError;
use crate::{Date, DateTime, Instant, Time};

const NAIVE_DATE: &str = "chrono::NaiveDate";
const NAIVE_TIME: &str = "chrono::NaiveTime";
const FIXED: &str = "chrono::DateTime<FixedOffset>";
const UTC: &str = "chrono::DateTime<Utc>";

fn naive_date(source: &Source<'_>, to: &'static str, (y, m, d): Ymd) -> Result<NaiveDate, ConversionError> {
    NaiveDate::from_ymd_opt(y, m.into(), d.into()).ok_or_else(|| source.error(to, "it is not a day of the calendar"))
}

fn naive_time(source: &Source<'_>, to: &'static str, (h, m, s, nanos): Hmsn) -> Result<NaiveTime, ConversionError> {
    let (s, nanos) = if s == 60 { (59, nanos + 1_000_000_000) } else { (s, nanos) };
    NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), nanos)
        .ok_or_else(|| source.error(to, "it is not a time of day"))
}

fn fixed(source: &Source<'_>, to: &'static str) -> Result<ChronoDateTime<FixedOffset>, ConversionError> {
    let (ymd, hmsn, offset) = source.point(to)?;
    let local = naive_date(source, to, ymd)?.and_time(naive_time(source, to, hmsn)?);
    let zone = FixedOffset::east_opt(offset).ok_or_else(|| source.error(to, "its offset is out of range"))?;
    zone.from_local_datetime(&local).single().ok_or_else(|| source.error(to, "it is out of chrono's range"))
}

/// chrono's time of day in FHIR's terms (a leap second as second 60).
fn hmsn(t: &impl Timelike) -> Hmsn {
    let nanos = t.nanosecond();
    let (s, nanos) = if nanos >= 1_000_000_000 { (60, nanos - 1_000_000_000) } else { (t.second() as u8, nanos) };
    (t.hour() as u8, t.minute() as u8, s, nanos)
}

fn ymd(d: &impl Datelike) -> Ymd {
    (d.year(), d.month() as u8, d.day() as u8)
}

impl TryFrom<&Date> for NaiveDate {
    type Error = ConversionError;
    fn try_from(d: &Date) -> Result<Self, ConversionError> {
        let source = Source::date(d);
        naive_date(&source, NAIVE_DATE, source.ymd(NAIVE_DATE)?)
    }
}

/// A dateTime of exactly a day's precision (`2017-03-14`).
impl TryFrom<&DateTime> for NaiveDate {
    type Error = ConversionError;
    fn try_from(d: &DateTime) -> Result<Self, ConversionError> {
        let source = Source::date_time(d);
        naive_date(&source, NAIVE_DATE, source.date_only(NAIVE_DATE)?)
    }
}

impl TryFrom<NaiveDate> for Date {
    type Error = ConversionError;
    fn try_from(d: NaiveDate) -> Result<Self, ConversionError> {
        parse_written(NAIVE_DATE, "FHIR date", &d, &date_text(NAIVE_DATE, "FHIR date", &d, ymd(&d))?)
    }
}

impl TryFrom<&Time> for NaiveTime {
    type Error = ConversionError;
    fn try_from(t: &Time) -> Result<Self, ConversionError> {
        let source = Source::time(t);
        naive_time(&source, NAIVE_TIME, source.hmsn(NAIVE_TIME)?)
    }
}

impl TryFrom<NaiveTime> for Time {
    type Error = ConversionError;
    fn try_from(t: NaiveTime) -> Result<Self, ConversionError> {
        parse_written(NAIVE_TIME, "FHIR time", &t, &time_text(hmsn(&t)))
    }
}

macro_rules! points {
    ($fhir:ident, $source:ident, $name:literal) => {
        impl TryFrom<&$fhir> for ChronoDateTime<FixedOffset> {
            type Error = ConversionError;
            fn try_from(d: &$fhir) -> Result<Self, ConversionError> {
                fixed(&Source::$source(d), FIXED)
            }
        }

        /// The same instant in UTC (the offset is not kept).
        impl TryFrom<&$fhir> for ChronoDateTime<Utc> {
            type Error = ConversionError;
            fn try_from(d: &$fhir) -> Result<Self, ConversionError> {
                Ok(fixed(&Source::$source(d), UTC)?.with_timezone(&Utc))
            }
        }

        /// With the value's offset from UTC (`Z` for zero).
        impl<Tz: TimeZone> TryFrom<ChronoDateTime<Tz>> for $fhir
        where
            Tz::Offset: std::fmt::Display,
        {
            type Error = ConversionError;
            fn try_from(d: ChronoDateTime<Tz>) -> Result<Self, ConversionError> {
                let offset = d.offset().fix().local_minus_utc();
                let local = d.naive_local();
                point_text("chrono::DateTime", $name, &d, (ymd(&local), hmsn(&local), offset))
            }
        }
    };
}
points!(DateTime, date_time, "FHIR dateTime");
points!(Instant, instant, "FHIR instant");
