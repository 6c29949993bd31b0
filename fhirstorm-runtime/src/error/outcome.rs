//! [`Outcome`]: the issues of an `OperationOutcome` a server sent with an error, read from the
//! JSON of any FHIR version.

use std::fmt;

use crate::json;

/// One issue of an `OperationOutcome`, in any FHIR version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeIssue {
    /// `fatal | error | warning | information`
    pub severity: String,
    /// The issue type code (`not-found`, `conflict`, ...).
    pub code: String,
    /// `diagnostics`, or else `details.text`.
    pub text: Option<String>,
}

/// An `OperationOutcome` the server sent with an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The issues, in order.
    pub issues: Vec<OutcomeIssue>,
}

impl Outcome {
    /// Reads the issues of an `OperationOutcome` body; `None` if the body is not one.
    ///
    /// Only a JSON object of at most 1 MiB is parsed (an `OperationOutcome` is small; anything
    /// else would cost memory out of proportion to what it could say).
    pub fn from_body(body: &[u8]) -> Option<Outcome> {
        let first = json::strip_bom(body).iter().find(|b| !b.is_ascii_whitespace())?;
        if *first != b'{' || body.len() > 1 << 20 {
            return None;
        }
        let v: json::Value = json::from_slice(body).ok()?;
        if v.get("resourceType")?.as_str()? != "OperationOutcome" {
            return None;
        }
        let issues = v
            .get("issue")
            .and_then(json::Value::as_array)
            .unwrap_or(&[])
            .iter()
            .map(|i| OutcomeIssue {
                severity: i.get("severity").and_then(json::Value::as_str).unwrap_or("").to_string(),
                code: i.get("code").and_then(json::Value::as_str).unwrap_or("").to_string(),
                text: i
                    .get("diagnostics")
                    .or_else(|| i.get("details").and_then(|d| d.get("text")))
                    .and_then(json::Value::as_str)
                    .map(String::from),
            })
            .collect();
        Some(Outcome { issues })
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, issue) in self.issues.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{} {}", issue.severity, issue.code)?;
            if let Some(t) = &issue.text {
                write!(f, ": {t}")?;
            }
        }
        Ok(())
    }
}
