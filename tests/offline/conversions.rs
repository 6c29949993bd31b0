//! Conversions between FHIR's primitives and time, chrono, jiff, rust_decimal and uuid
//! (`fhirstorm::convert`): round trips, and each thing a target cannot hold refused by name.

use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};
use fhirstorm::convert::{urn_from_uuid, uuid_from_urn, ConversionError};
use fhirstorm::prelude::*;
use fhirstorm::{Date, DateTime, Decimal, Instant, Time};

fn dt(s: &str) -> DateTime {
    s.parse().unwrap()
}

/// Points in time that every crate holds, written as FHIR writes them back.
const POINTS: &[&str] = &[
    "2017-03-14T10:30:15.25+01:00",
    "1999-12-31T23:59:59Z",
    "2024-02-29T00:00:00.000000001-05:30",
    "0001-01-01T00:00:00Z",
    "9999-12-30T20:59:59.999999999+14:00",
    "2017-03-14T10:30:00-14:00",
];

#[test]
fn points_in_time_round_trip_through_every_crate() {
    for &text in POINTS {
        let d = dt(text);
        let i: Instant = text.parse().unwrap();
        let back = DateTime::try_from(chrono::DateTime::<FixedOffset>::try_from(&d).unwrap()).unwrap();
        assert_eq!(back, d, "chrono");
        let back = Instant::try_from(chrono::DateTime::<FixedOffset>::try_from(&i).unwrap()).unwrap();
        assert_eq!(back, i, "chrono instant");
        let back = DateTime::try_from(time::OffsetDateTime::try_from(&d).unwrap()).unwrap();
        assert_eq!(back, d, "time");
        let back = Instant::try_from(&jiff::Zoned::try_from(&i).unwrap()).unwrap();
        assert_eq!(back, i, "jiff");
        // The UTC types keep the instant, not the offset.
        let utc = chrono::DateTime::<Utc>::try_from(&d).unwrap();
        let ts = jiff::Timestamp::try_from(&d).unwrap();
        assert_eq!(utc.timestamp(), ts.as_second(), "{text}");
        assert_eq!(utc.timestamp_subsec_nanos() as i32, ts.subsec_nanosecond(), "{text}");
        assert_eq!(time::OffsetDateTime::try_from(&d).unwrap().unix_timestamp(), utc.timestamp());
    }
}

#[test]
fn ends_of_the_ranges() {
    // jiff's instants end on 9999-12-30 at 22:00 UTC (so that any offset's local time stays in
    // year 9999); chrono and time go further.
    let last = dt("9999-12-31T23:59:59.999999999+14:00");
    assert!(jiff::Zoned::try_from(&last).unwrap_err().reason().contains("range"));
    assert_eq!(DateTime::try_from(chrono::DateTime::<FixedOffset>::try_from(&last).unwrap()).unwrap(), last);
    assert_eq!(DateTime::try_from(time::OffsetDateTime::try_from(&last).unwrap()).unwrap(), last);
    // Year 0000 is read (some servers write it) but is in no calendar FHIR allows.
    let zero = dt("0000-01-01T00:00:00Z");
    let c = chrono::DateTime::<FixedOffset>::try_from(&zero).unwrap();
    assert!(DateTime::try_from(c).unwrap_err().reason().contains("0001 to 9999"));
}

#[test]
fn into_fhir_writes_minimal_fractions_and_z() {
    let at = FixedOffset::east_opt(0).unwrap().with_ymd_and_hms(2017, 3, 14, 10, 30, 0).unwrap();
    assert_eq!(DateTime::try_from(at).unwrap().as_str(), "2017-03-14T10:30:00Z");
    let at = Utc.with_ymd_and_hms(2017, 3, 14, 10, 30, 0).unwrap() + chrono::Duration::milliseconds(120);
    assert_eq!(Instant::try_from(at).unwrap().as_str(), "2017-03-14T10:30:00.12Z");
    let ts: jiff::Timestamp = "2017-03-14T10:30:00.5+02:00".parse().unwrap();
    assert_eq!(DateTime::try_from(ts).unwrap().as_str(), "2017-03-14T08:30:00.5Z");
    // "+00:00" comes back as "Z": the same instant, FHIR's shorter spelling.
    let d = dt("2017-03-14T10:30:00+00:00");
    assert_eq!(
        DateTime::try_from(chrono::DateTime::<FixedOffset>::try_from(&d).unwrap()).unwrap().as_str(),
        "2017-03-14T10:30:00Z"
    );
}

#[test]
fn offsets_are_kept_or_applied() {
    let d = dt("2017-03-14T10:30:00+01:00");
    assert_eq!(chrono::DateTime::<FixedOffset>::try_from(&d).unwrap().offset().local_minus_utc(), 3600);
    assert_eq!(chrono::DateTime::<Utc>::try_from(&d).unwrap().to_rfc3339(), "2017-03-14T09:30:00+00:00");
    assert_eq!(time::OffsetDateTime::try_from(&d).unwrap().offset().whole_seconds(), 3600);
    assert_eq!(jiff::Zoned::try_from(&d).unwrap().offset().seconds(), 3600);
    // What FHIR cannot write: offsets beyond ±14:00, offsets with seconds (local mean time).
    let far = FixedOffset::east_opt(14 * 3600 + 30 * 60).unwrap().with_ymd_and_hms(2017, 1, 1, 0, 0, 0).unwrap();
    assert!(DateTime::try_from(far).unwrap_err().reason().contains("14:00"));
    let lmt = FixedOffset::east_opt(561).unwrap().with_ymd_and_hms(1890, 1, 1, 0, 0, 0).unwrap();
    assert!(DateTime::try_from(lmt).unwrap_err().reason().contains("seconds"));
    let odt = time::OffsetDateTime::UNIX_EPOCH.to_offset(time::UtcOffset::from_hms(0, 9, 21).unwrap());
    assert!(Instant::try_from(odt).is_err());
}

#[test]
fn less_than_a_point_in_time_is_refused() {
    for text in ["2017", "2017-03", "2017-03-14"] {
        let d = dt(text);
        let e = chrono::DateTime::<Utc>::try_from(&d).unwrap_err();
        assert_eq!(e.from_type(), "FHIR dateTime");
        assert_eq!(e.to_type(), "chrono::DateTime<Utc>");
        assert_eq!(e.value(), text);
        assert!(time::OffsetDateTime::try_from(&d).is_err());
        assert!(jiff::Timestamp::try_from(&d).is_err());
    }
    // A time of day without a zone is not a point in time either.
    let local = dt("2017-03-14T10:30:00");
    assert!(chrono::DateTime::<FixedOffset>::try_from(&local).unwrap_err().reason().contains("zone"));
    let e = chrono::DateTime::<Utc>::try_from(&dt("2017")).unwrap_err();
    assert_eq!(
        e.to_string(),
        r#"cannot convert FHIR dateTime "2017" to chrono::DateTime<Utc>: it gives only a year (no month or day)"#
    );
}

#[test]
fn dates_need_a_day() {
    let birth: Date = "1970-03-14".parse().unwrap();
    assert_eq!(NaiveDate::try_from(&birth).unwrap(), NaiveDate::from_ymd_opt(1970, 3, 14).unwrap());
    assert_eq!(time::Date::try_from(&birth).unwrap().to_string(), "1970-03-14");
    assert_eq!(jiff::civil::Date::try_from(&birth).unwrap().to_string(), "1970-03-14");
    for text in ["1970", "1970-03"] {
        let d: Date = text.parse().unwrap();
        assert!(NaiveDate::try_from(&d).is_err());
        assert!(time::Date::try_from(&d).is_err());
        assert!(jiff::civil::Date::try_from(&d).is_err());
    }
    // The parser checks each field's range, the conversion the calendar.
    let feb30: Date = "2017-02-30".parse().unwrap();
    for e in [
        NaiveDate::try_from(&feb30).unwrap_err(),
        time::Date::try_from(&feb30).unwrap_err(),
        jiff::civil::Date::try_from(&feb30).unwrap_err(),
    ] {
        assert!(e.reason().contains("calendar"), "{e}");
    }
    let leap: Date = "2024-02-29".parse().unwrap();
    assert!(NaiveDate::try_from(&leap).is_ok());
    // A dateTime of a day's precision is a date; one with a time of day is not cut to one.
    assert!(NaiveDate::try_from(&dt("2017-03-14")).is_ok());
    assert!(jiff::civil::Date::try_from(&dt("2017-03-14T10:30:00Z")).unwrap_err().reason().contains("time of day"));
    // Years FHIR cannot write.
    for y in [0, 10_000, -44] {
        let d = NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        assert!(Date::try_from(d).unwrap_err().reason().contains("0001 to 9999"), "{y}");
    }
    assert_eq!(Date::try_from(NaiveDate::from_ymd_opt(9, 1, 2).unwrap()).unwrap().as_str(), "0009-01-02");
    assert_eq!(
        Date::try_from(time::Date::from_calendar_date(2000, time::Month::February, 29).unwrap()).unwrap().as_str(),
        "2000-02-29"
    );
    assert_eq!(Date::try_from(jiff::civil::date(2000, 2, 29)).unwrap().as_str(), "2000-02-29");
}

#[test]
fn leap_seconds_exist_only_in_chrono() {
    let d = dt("2016-12-31T23:59:60.5Z");
    let c = chrono::DateTime::<FixedOffset>::try_from(&d).unwrap();
    assert_eq!(chrono::Timelike::nanosecond(&c), 1_500_000_000);
    assert_eq!(DateTime::try_from(c).unwrap(), d);
    let t: Time = "23:59:60".parse().unwrap();
    assert_eq!(Time::try_from(NaiveTime::try_from(&t).unwrap()).unwrap(), t);
    for e in [
        time::OffsetDateTime::try_from(&d).unwrap_err(),
        jiff::Zoned::try_from(&d).unwrap_err(),
        time::Time::try_from(&t).unwrap_err(),
        jiff::civil::Time::try_from(&t).unwrap_err(),
    ] {
        assert!(e.reason().contains("leap second"), "{e}");
    }
}

#[test]
fn times_of_day() {
    for text in ["00:00:00", "10:30:15.25", "23:59:59.999999999"] {
        let t: Time = text.parse().unwrap();
        assert_eq!(Time::try_from(NaiveTime::try_from(&t).unwrap()).unwrap(), t);
        assert_eq!(Time::try_from(time::Time::try_from(&t).unwrap()).unwrap(), t);
        assert_eq!(Time::try_from(jiff::civil::Time::try_from(&t).unwrap()).unwrap(), t);
    }
    // 24:00 (end of day in ISO 8601, not a FHIR time, read leniently) is nobody's time of day.
    let midnight: Time = "24:00:00".parse().unwrap();
    for e in [
        NaiveTime::try_from(&midnight).unwrap_err(),
        time::Time::try_from(&midnight).unwrap_err(),
        jiff::civil::Time::try_from(&midnight).unwrap_err(),
    ] {
        assert!(e.reason().contains("24:00"), "{e}");
    }
    assert!(chrono::DateTime::<Utc>::try_from(&dt("2017-03-14T24:00:00Z")).is_err());
}

#[test]
fn model_fields_convert() {
    let json = br#"{"resourceType":"Observation","status":"final","code":{"text":"weight"},
        "effectiveDateTime":"2017-03-14T10:30:00+01:00","issued":"2017-03-14T11:00:00.123Z",
        "valueQuantity":{"value":72.50,"unit":"kg"}}"#;
    let obs: fhirstorm::r4::Observation = fhirstorm::json::from_slice(json).unwrap();
    let issued = chrono::DateTime::<Utc>::try_from(obs.issued.value().unwrap()).unwrap();
    assert_eq!(issued.timestamp_subsec_millis(), 123);
    let fhirstorm::r4::ObservationEffective::DateTime(effective) = obs.effective.as_ref().unwrap() else { panic!() };
    let effective = jiff::Zoned::try_from(effective.value().unwrap()).unwrap();
    assert!(effective.timestamp() < jiff::Timestamp::from_second(issued.timestamp()).unwrap());
    let fhirstorm::r4::ObservationValue::Quantity(q) = obs.value.as_ref().unwrap() else { panic!() };
    let kg = rust_decimal::Decimal::try_from(q.value.value().unwrap()).unwrap();
    assert_eq!(kg.to_string(), "72.50");
    assert_eq!(Decimal::from(kg * rust_decimal::Decimal::TWO).as_str(), "145.00");
}

#[test]
fn decimals_exact_or_refused() {
    let d: Decimal = "0.1".parse().unwrap();
    let r = rust_decimal::Decimal::try_from(&d).unwrap();
    assert_eq!((r + r + r).to_string(), "0.3");
    let huge: Decimal = "1e40".parse().unwrap();
    let e: ConversionError = rust_decimal::Decimal::try_from(&huge).unwrap_err();
    assert_eq!(e.to_type(), "rust_decimal::Decimal");
}

#[test]
fn bundle_full_urls_as_uuids() {
    let uuid = uuid::Uuid::from_u128(0xc757873d_ec9a_4326_a141_556f43239520);
    let urn = urn_from_uuid(&uuid);
    assert_eq!(urn, "urn:uuid:c757873d-ec9a-4326-a141-556f43239520");
    assert_eq!(uuid_from_urn(&urn).unwrap(), uuid);
    assert!(uuid_from_urn("http://example.org/fhir/Patient/1").is_err());
}
