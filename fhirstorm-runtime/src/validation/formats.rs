//! The formats of FHIR's primitive types (the specification's regular expressions, as code).

use super::IssueKind;
use crate::json::Value;

/// FHIR's primitive types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum PrimitiveType {
    Boolean,
    Integer,
    Integer64,
    UnsignedInt,
    PositiveInt,
    Decimal,
    String,
    Code,
    Id,
    Markdown,
    Uri,
    Url,
    Canonical,
    Oid,
    Uuid,
    Base64Binary,
    Date,
    DateTime,
    Instant,
    Time,
}

impl PrimitiveType {
    /// Every primitive type.
    pub(crate) const ALL: [PrimitiveType; 20] = [
        PrimitiveType::Boolean,
        PrimitiveType::Integer,
        PrimitiveType::Integer64,
        PrimitiveType::UnsignedInt,
        PrimitiveType::PositiveInt,
        PrimitiveType::Decimal,
        PrimitiveType::String,
        PrimitiveType::Code,
        PrimitiveType::Id,
        PrimitiveType::Markdown,
        PrimitiveType::Uri,
        PrimitiveType::Url,
        PrimitiveType::Canonical,
        PrimitiveType::Oid,
        PrimitiveType::Uuid,
        PrimitiveType::Base64Binary,
        PrimitiveType::Date,
        PrimitiveType::DateTime,
        PrimitiveType::Instant,
        PrimitiveType::Time,
    ];

    /// The variant's name (`DateTime`), as the generated table writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PrimitiveType::Boolean => "Boolean",
            PrimitiveType::Integer => "Integer",
            PrimitiveType::Integer64 => "Integer64",
            PrimitiveType::UnsignedInt => "UnsignedInt",
            PrimitiveType::PositiveInt => "PositiveInt",
            PrimitiveType::Decimal => "Decimal",
            PrimitiveType::String => "String",
            PrimitiveType::Code => "Code",
            PrimitiveType::Id => "Id",
            PrimitiveType::Markdown => "Markdown",
            PrimitiveType::Uri => "Uri",
            PrimitiveType::Url => "Url",
            PrimitiveType::Canonical => "Canonical",
            PrimitiveType::Oid => "Oid",
            PrimitiveType::Uuid => "Uuid",
            PrimitiveType::Base64Binary => "Base64Binary",
            PrimitiveType::Date => "Date",
            PrimitiveType::DateTime => "DateTime",
            PrimitiveType::Instant => "Instant",
            PrimitiveType::Time => "Time",
        }
    }
}

/// The issue with a primitive's JSON value, if any.
pub(super) fn check(t: PrimitiveType, v: &Value) -> Option<IssueKind> {
    use PrimitiveType as P;
    let ok = match (t, v) {
        (P::Boolean, Value::Bool(_)) => true,
        (P::Integer, Value::Number(n)) => n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        (P::UnsignedInt, Value::Number(n)) => n.as_i64().is_some_and(|i| (0..=i64::from(i32::MAX)).contains(&i)),
        (P::PositiveInt, Value::Number(n)) => n.as_i64().is_some_and(|i| (1..=i64::from(i32::MAX)).contains(&i)),
        (P::Decimal, Value::Number(_)) => true,
        (P::Integer64, Value::String(s)) => s.parse::<i64>().is_ok(),
        (P::String | P::Markdown, Value::String(s)) => !s.is_empty(),
        (P::Code, Value::String(s)) => is_code(s),
        (P::Id, Value::String(s)) => {
            (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
        (P::Uri | P::Url | P::Canonical, Value::String(s)) => !s.is_empty() && !s.chars().any(char::is_whitespace),
        (P::Oid, Value::String(s)) => is_oid(s),
        (P::Uuid, Value::String(s)) => is_uuid(s),
        (P::Base64Binary, Value::String(s)) => is_base64(s),
        (P::Date, Value::String(s)) => s.parse::<crate::Date>().is_ok(),
        (P::DateTime, Value::String(s)) => s.parse::<crate::DateTime>().is_ok(),
        (P::Instant, Value::String(s)) => s.parse::<crate::Instant>().is_ok(),
        (P::Time, Value::String(s)) => s.parse::<crate::Time>().is_ok(),
        _ => false,
    };
    (!ok).then(|| IssueKind::Format { type_code: code_of(t), value: text_of(v) })
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.as_str().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::Array(_) => "[..]".to_string(),
        Value::Object(_) => "{..}".to_string(),
    }
}

/// `[^\s]+(\s[^\s]+)*`: no leading, trailing or doubled whitespace.
fn is_code(s: &str) -> bool {
    !s.is_empty() && s.split(char::is_whitespace).all(|w| !w.is_empty())
}

/// `urn:oid:[0-2](\.(0|[1-9][0-9]*))+`
fn is_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else { return false };
    let mut arcs = rest.split('.');
    let first_ok = matches!(arcs.next(), Some("0" | "1" | "2"));
    let mut count = 0;
    let rest_ok = arcs.all(|a| {
        count += 1;
        !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) && (a == "0" || !a.starts_with('0'))
    });
    first_ok && rest_ok && count > 0
}

/// `urn:uuid:` and a lowercase UUID.
fn is_uuid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:uuid:") else { return false };
    let groups: Vec<&str> = rest.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
}

/// `(\s*([0-9a-zA-Z\+/=]){4}\s*)+`: groups of four base64 characters, whitespace between.
fn is_base64(s: &str) -> bool {
    let mut n = 0;
    for c in s.chars().filter(|c| !c.is_whitespace()) {
        if !(c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=') {
            return false;
        }
        n += 1;
    }
    n > 0 && n % 4 == 0
}

fn code_of(t: PrimitiveType) -> &'static str {
    use PrimitiveType as P;
    match t {
        P::Boolean => "boolean",
        P::Integer => "integer",
        P::Integer64 => "integer64",
        P::UnsignedInt => "unsignedInt",
        P::PositiveInt => "positiveInt",
        P::Decimal => "decimal",
        P::String => "string",
        P::Code => "code",
        P::Id => "id",
        P::Markdown => "markdown",
        P::Uri => "uri",
        P::Url => "url",
        P::Canonical => "canonical",
        P::Oid => "oid",
        P::Uuid => "uuid",
        P::Base64Binary => "base64Binary",
        P::Date => "date",
        P::DateTime => "dateTime",
        P::Instant => "instant",
        P::Time => "time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(t: PrimitiveType, json: &str) -> bool {
        check(t, &Value::parse(json).unwrap()).is_some()
    }

    #[test]
    fn primitive_formats() {
        use PrimitiveType as P;
        assert!(!bad(P::Code, r#""entered-in-error""#) && !bad(P::Code, r#""a b""#));
        assert!(bad(P::Code, r#"" a""#) && bad(P::Code, r#""a  b""#) && bad(P::Code, r#""""#));
        assert!(!bad(P::Id, r#""a-1.B""#) && bad(P::Id, r#""a_1""#) && bad(P::Id, &format!("{:?}", "x".repeat(65))));
        assert!(!bad(P::Oid, r#""urn:oid:1.2.36.1""#) && bad(P::Oid, r#""urn:oid:1.02""#) && bad(P::Oid, r#""1.2""#));
        assert!(!bad(P::Uuid, r#""urn:uuid:c757873d-ec9a-4326-a141-556f43239520""#));
        assert!(bad(P::Uuid, r#""urn:uuid:C757873D-ec9a-4326-a141-556f43239520""#));
        assert!(!bad(P::Base64Binary, r#""aGVs bG8=""#) && bad(P::Base64Binary, r#""aGVsbG8""#));
        assert!(!bad(P::PositiveInt, "1") && bad(P::PositiveInt, "0") && bad(P::UnsignedInt, "-1"));
        assert!(bad(P::Integer, "2147483648") && bad(P::Integer, "1.5") && !bad(P::Decimal, "1.50"));
        assert!(bad(P::String, r#""""#) && bad(P::Uri, r#""a b""#) && !bad(P::Uri, r#""urn:x""#));
        assert!(!bad(P::DateTime, r#""2020-01-02T03:04:05Z""#) && bad(P::Date, r#""2020-13""#));
        assert!(bad(P::Boolean, r#""true""#) && !bad(P::Integer64, r#""9007199254740993""#));
    }
}
