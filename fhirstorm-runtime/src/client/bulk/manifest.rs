//! The completion manifest of a bulk export (Bulk Data Access 2.0, "Response - Complete
//! Status"), read with errors that name the JSON path at fault.

use crate::error::{Error, ErrorKind};
use crate::json::Value;
use crate::FhirVersion;

/// What a finished export produced: the files to download, per resource type.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The server's time when the export started: resources changed after it are not in it
    /// (the next export's `_since`).
    pub transaction_time: String,
    /// The kick-off request's URL.
    pub request: String,
    /// Whether downloading a file needs the access token (fhirstorm sends it only to URLs under
    /// the FHIR base, whatever this says).
    pub requires_access_token: bool,
    /// The files of resources, each of one type.
    pub output: Vec<OutputFile>,
    /// Files of `OperationOutcome`s about what could not be exported.
    pub error: Vec<OutputFile>,
    /// Files of `Bundle`s naming resources deleted since `_since` (2.0).
    pub deleted: Vec<OutputFile>,
    /// Links to further manifests of the same export (`next`), for servers that page them.
    pub link: Vec<ManifestLink>,
    /// The manifest's `extension` object, as sent.
    pub extension: Option<Value>,
}

/// One file of a manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    /// The resource type of every line (`Observation`; `OperationOutcome` in `error`).
    pub resource_type: String,
    /// Where to download it.
    pub url: String,
    /// How many resources it holds, when the server says.
    pub count: Option<u64>,
    /// The item's `extension` object, as sent.
    pub extension: Option<Value>,
}

impl OutputFile {
    /// A local name for the `n`th file of this type, `Observation.1.ndjson`, for a program
    /// that writes the files it downloads. The type must be one of `V`'s resource types, and
    /// the name is made of the version's own spelling of it: nothing the server sent becomes
    /// part of a path (a type such as `../../.bashrc` or `/etc/x` is a
    /// [`ErrorKind::Protocol`] error).
    pub fn file_name<V: FhirVersion>(&self, n: u64) -> Result<String, Error> {
        match V::resource_type(&self.resource_type) {
            Some(ty) => Ok(format!("{ty}.{n}.ndjson")),
            None => {
                let shown: String = self.resource_type.chars().take(64).collect();
                Err(Error::new(
                    ErrorKind::Protocol,
                    format!(
                        "the manifest names a file of type {shown:?}, which is not a FHIR {} resource type",
                        V::NAME
                    ),
                ))
            }
        }
    }
}

/// A link of a paged manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestLink {
    /// `next`.
    pub relation: String,
    /// The URL of that manifest.
    pub url: String,
}

impl Manifest {
    /// Reads a manifest from its JSON.
    pub fn from_json(value: &Value) -> Result<Manifest, Error> {
        Ok(Manifest {
            transaction_time: text(value, "transactionTime", "")?.to_string(),
            request: text(value, "request", "")?.to_string(),
            requires_access_token: match value.get("requiresAccessToken") {
                Some(Value::Bool(b)) => *b,
                None => false,
                Some(_) => return Err(bad("requiresAccessToken", "is not a boolean")),
            },
            output: files(value, "output")?,
            error: files(value, "error")?,
            deleted: files(value, "deleted")?,
            link: list(value, "link")?
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let at = format!("link[{i}]");
                    Ok(ManifestLink {
                        relation: text(l, "relation", &at)?.to_string(),
                        url: text(l, "url", &at)?.to_string(),
                    })
                })
                .collect::<Result<_, Error>>()?,
            extension: value.get("extension").cloned(),
        })
    }

    /// The `next` manifest's URL, for a paged one.
    pub fn next(&self) -> Option<&str> {
        self.link.iter().find(|l| l.relation == "next").map(|l| l.url.as_str())
    }
}

fn bad(path: &str, what: &str) -> Error {
    Error::new(ErrorKind::Parse, format!("the export manifest's {path} {what}"))
}

/// The string member `key` of `v` (at `at`), which must be there.
fn text<'a>(v: &'a Value, key: &str, at: &str) -> Result<&'a str, Error> {
    let path = if at.is_empty() { key.to_string() } else { format!("{at}.{key}") };
    match v.get(key) {
        Some(Value::String(s)) => Ok(s),
        None => Err(bad(&path, "is missing")),
        Some(_) => Err(bad(&path, "is not a string")),
    }
}

/// The array member `key` of `v`; absent is empty.
fn list<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], Error> {
    match v.get(key) {
        None => Ok(&[]),
        Some(a) => a.as_array().ok_or_else(|| bad(key, "is not an array")),
    }
}

fn files(v: &Value, key: &str) -> Result<Vec<OutputFile>, Error> {
    list(v, key)?
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let at = format!("{key}[{i}]");
            let count = match item.get("count") {
                None => None,
                Some(Value::Number(n)) if n.as_str().parse::<u64>().is_ok() => n.as_str().parse().ok(),
                Some(_) => return Err(bad(&format!("{at}.count"), "is not a count")),
            };
            Ok(OutputFile {
                resource_type: text(item, "type", &at)?.to_string(),
                url: text(item, "url", &at)?.to_string(),
                count,
                extension: item.get("extension").cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Manifest, Error> {
        Manifest::from_json(&Value::parse(text).unwrap())
    }

    #[test]
    fn a_complete_manifest_reads() {
        let m = read(
            r#"{"transactionTime":"2026-11-29T10:00:00Z","request":"https://x/fhir/$export","requiresAccessToken":true,
            "output":[{"type":"Patient","url":"https://x/f/1.ndjson","count":3}],
            "error":[{"type":"OperationOutcome","url":"https://x/f/e.ndjson"}],
            "deleted":[],"link":[{"relation":"next","url":"https://x/m/2"}],"extension":{"a":1}}"#,
        )
        .unwrap();
        assert!(m.requires_access_token);
        assert_eq!(m.output[0].count, Some(3));
        assert_eq!(m.error[0].count, None);
        assert_eq!(m.next(), Some("https://x/m/2"));
        assert!(m.extension.is_some());
    }

    #[test]
    fn a_broken_manifest_names_the_path() {
        let e = read(r#"{"transactionTime":"t","request":"r","output":[{"type":"Patient"}]}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Parse);
        assert!(e.to_string().contains("output[0].url is missing"), "{e}");
        let e =
            read(r#"{"transactionTime":"t","request":"r","output":[{"type":"P","url":"u","count":-1}]}"#).unwrap_err();
        assert!(e.to_string().contains("output[0].count is not a count"), "{e}");
        let e = read(r#"{"request":"r"}"#).unwrap_err();
        assert!(e.to_string().contains("transactionTime is missing"), "{e}");
    }
}
