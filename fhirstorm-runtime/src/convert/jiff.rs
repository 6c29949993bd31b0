//! `jiff`: `civil::Date`, `civil::Time`, `Timestamp`, and `Zoned` in a fixed-offset zone. jiff
//! has no leap seconds.

use ::jiff::civil::{Date as CivilDate, DateTime as CivilDateTime, Time as CivilTime};
use ::jiff::tz::{Offset, TimeZone};
use ::jiff::{Timestamp, Zoned};

use super::dates::{calendar_conversions, no_leap_second, point_text, Hmsn, Source, Ymd};
use super::ConversionError;
use crate::{DateTime, Instant};

const DATE: &str = "jiff::civil::Date";
const TIME: &str = "jiff::civil::Time";
const ZONED: &str = "jiff::Zoned";
const TIMESTAMP: &str = "jiff::Timestamp";

fn date(source: &Source<'_>, to: &'static str, (y, m, d): Ymd) -> Result<CivilDate, ConversionError> {
    // FHIR years are 0000-9999 (an i16), months 1-12 and days 1-31 (i8s).
    CivilDate::new(y as i16, m as i8, d as i8).map_err(|_| source.error(to, "it is not a day of the calendar"))
}

fn time(source: &Source<'_>, to: &'static str, (h, m, s, nanos): Hmsn) -> Result<CivilTime, ConversionError> {
    no_leap_second(source, to, s)?;
    // Hours, minutes and seconds are below 60, nanoseconds below a billion.
    CivilTime::new(h as i8, m as i8, s as i8, nanos as i32).map_err(|_| source.error(to, "it is not a time of day"))
}

fn zoned(source: &Source<'_>, to: &'static str) -> Result<Zoned, ConversionError> {
    let (ymd, hmsn, offset) = source.point(to)?;
    let local = CivilDateTime::from_parts(date(source, to, ymd)?, time(source, to, hmsn)?);
    let offset = Offset::from_seconds(offset).map_err(|_| source.error(to, "its offset is out of range"))?;
    local.to_zoned(TimeZone::fixed(offset)).map_err(|_| source.error(to, "it is out of jiff's range"))
}

fn ymd(d: &CivilDate) -> Ymd {
    (i32::from(d.year()), d.month() as u8, d.day() as u8)
}

fn hmsn(t: &CivilTime) -> Hmsn {
    (t.hour() as u8, t.minute() as u8, t.second() as u8, t.subsec_nanosecond() as u32)
}

calendar_conversions! {
    date: CivilDate = DATE, date, ymd;
    time: CivilTime = TIME, time, hmsn;
}

macro_rules! points {
    ($fhir:ident, $source:ident, $name:literal) => {
        /// In a fixed-offset zone of the value's offset.
        impl TryFrom<&$fhir> for Zoned {
            type Error = ConversionError;
            fn try_from(d: &$fhir) -> Result<Self, ConversionError> {
                zoned(&Source::$source(d), ZONED)
            }
        }

        /// The instant (the offset is not kept).
        impl TryFrom<&$fhir> for Timestamp {
            type Error = ConversionError;
            fn try_from(d: &$fhir) -> Result<Self, ConversionError> {
                Ok(zoned(&Source::$source(d), TIMESTAMP)?.timestamp())
            }
        }

        /// With the zone's offset at that instant (`Z` for zero).
        impl TryFrom<&Zoned> for $fhir {
            type Error = ConversionError;
            fn try_from(z: &Zoned) -> Result<Self, ConversionError> {
                let local = z.datetime();
                point_text(ZONED, $name, z, (ymd(&local.date()), hmsn(&local.time()), z.offset().seconds()))
            }
        }

        /// In UTC (`Z`).
        impl TryFrom<Timestamp> for $fhir {
            type Error = ConversionError;
            fn try_from(t: Timestamp) -> Result<Self, ConversionError> {
                let local = Offset::UTC.to_datetime(t);
                point_text(TIMESTAMP, $name, &t, (ymd(&local.date()), hmsn(&local.time()), 0))
            }
        }
    };
}
points!(DateTime, date_time, "FHIR dateTime");
points!(Instant, instant, "FHIR instant");
