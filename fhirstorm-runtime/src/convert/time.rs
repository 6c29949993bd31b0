//! `time`: `Date`, `Time` and `OffsetDateTime`. `time` has no leap seconds.

use ::time::{Date as TimeDate, Month, OffsetDateTime, PrimitiveDateTime, Time as TimeTime, UtcOffset};

use super::dates::{calendar_conversions, no_leap_second, point_text, Hmsn, Source, Ymd};
use super::ConversionError;
use crate::{DateTime, Instant};

const DATE: &str = "time::Date";
const TIME: &str = "time::Time";
const OFFSET: &str = "time::OffsetDateTime";

fn date(source: &Source<'_>, to: &'static str, (y, m, d): Ymd) -> Result<TimeDate, ConversionError> {
    let month = Month::try_from(m).map_err(|_| source.error(to, "its month is out of range"))?;
    TimeDate::from_calendar_date(y, month, d).map_err(|_| source.error(to, "it is not a day of the calendar"))
}

fn time(source: &Source<'_>, to: &'static str, (h, m, s, nanos): Hmsn) -> Result<TimeTime, ConversionError> {
    no_leap_second(source, to, s)?;
    TimeTime::from_hms_nano(h, m, s, nanos).map_err(|_| source.error(to, "it is not a time of day"))
}

fn offset_date_time(source: &Source<'_>) -> Result<OffsetDateTime, ConversionError> {
    let (ymd, hmsn, offset) = source.point(OFFSET)?;
    let local = PrimitiveDateTime::new(date(source, OFFSET, ymd)?, time(source, OFFSET, hmsn)?);
    let offset =
        UtcOffset::from_whole_seconds(offset).map_err(|_| source.error(OFFSET, "its offset is out of range"))?;
    Ok(local.assume_offset(offset))
}

fn ymd(d: &TimeDate) -> Ymd {
    (d.year(), u8::from(d.month()), d.day())
}

fn hmsn(t: &TimeTime) -> Hmsn {
    (t.hour(), t.minute(), t.second(), t.nanosecond())
}

calendar_conversions! {
    date: TimeDate = DATE, date, ymd;
    time: TimeTime = TIME, time, hmsn;
}

macro_rules! points {
    ($fhir:ident, $source:ident, $name:literal) => {
        impl TryFrom<&$fhir> for OffsetDateTime {
            type Error = ConversionError;
            fn try_from(d: &$fhir) -> Result<Self, ConversionError> {
                offset_date_time(&Source::$source(d))
            }
        }

        /// With the value's offset from UTC (`Z` for zero).
        impl TryFrom<OffsetDateTime> for $fhir {
            type Error = ConversionError;
            fn try_from(d: OffsetDateTime) -> Result<Self, ConversionError> {
                point_text(OFFSET, $name, &d, (ymd(&d.date()), hmsn(&d.time()), d.offset().whole_seconds()))
            }
        }
    };
}
points!(DateTime, date_time, "FHIR dateTime");
points!(Instant, instant, "FHIR instant");
