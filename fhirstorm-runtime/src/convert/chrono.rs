//! `chrono`: `NaiveDate`, `NaiveTime`, `DateTime<FixedOffset>` and `DateTime<Utc>`. chrono is the
//! one target with leap seconds: FHIR's `:60` is its second 59 with a billion nanoseconds more.

use ::chrono::{
    DateTime as ChronoDateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Timelike, Utc,
};

use super::dates::{calendar_conversions, point_text, Hmsn, Source, Ymd};
use super::ConversionError;
use crate::{DateTime, Instant};

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

calendar_conversions! {
    date: NaiveDate = NAIVE_DATE, naive_date, ymd;
    time: NaiveTime = NAIVE_TIME, naive_time, hmsn;
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
