//! What a FHIR request may name: ids as single path segments, operation names, the criteria
//! of conditional interactions. (Where a request may go at all is the transport's policy.)

use crate::error::{Error, ErrorKind};
use crate::search::IntoSearch;

pub(super) fn operation_name(name: &str) -> Result<&str, Error> {
    let name = name.trim_start_matches('$');
    if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        Ok(name)
    } else {
        Err(Error::new(ErrorKind::Config, format!("{name:?} is not an operation name")))
    }
}

/// An id (or version id) as one path segment: FHIR ids are `[A-Za-z0-9\-\.]{1,64}`; anything
/// else would change the request path, and so would an id of dots only (`.`, `..` are dot
/// segments: `Patient/..` is the base itself), which the id pattern allows but no server uses.
pub(crate) fn segment(id: &str) -> Result<&str, Error> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !id.bytes().all(|b| b == b'.');
    if ok {
        Ok(id)
    } else {
        Err(Error::new(ErrorKind::Config, format!("{id:?} is not a valid FHIR id")))
    }
}

/// The criteria of a conditional interaction; none is an error, since the interaction would
/// then apply to every resource of the type.
pub(super) fn criteria<R>(query: impl IntoSearch<R>, what: &str) -> Result<Vec<(String, String)>, Error> {
    let pairs = query.into_pairs();
    if pairs.is_empty() {
        return Err(Error::new(ErrorKind::Config, format!("{what} needs search criteria")));
    }
    Ok(pairs)
}

/// The criteria of a conditional create as the `If-None-Exist` value (a query string).
pub(super) fn if_none_exist<R>(query: impl IntoSearch<R>) -> Result<String, Error> {
    let pairs = criteria(query, "a conditional create")?;
    Ok(url::form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish())
}
