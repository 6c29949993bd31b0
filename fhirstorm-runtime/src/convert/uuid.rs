//! `uuid`: FHIR writes a UUID as an `id` (`c757873d-ec9a-4326-a141-556f43239520`) or a `uri`
//! (`urn:uuid:c757873d-...`), hyphenated and lowercase, which both directions keep to.

use ::uuid::Uuid;

use super::ConversionError;

fn parse(from: &'static str, value: &str, text: &str) -> Result<Uuid, ConversionError> {
    let error = |reason| ConversionError::new(from, "uuid::Uuid", value, reason);
    let uuid = Uuid::try_parse(text).map_err(|_| error("it is not a UUID"))?;
    // FHIR's form only: a round trip writes the same text.
    if uuid.hyphenated().to_string() != text {
        return Err(error("FHIR writes UUIDs hyphenated and lowercase"));
    }
    Ok(uuid)
}

/// The UUID of a `urn:uuid:` uri (a Bundle entry's `fullUrl`, an identifier's system or value).
pub fn uuid_from_urn(uri: &str) -> Result<Uuid, ConversionError> {
    let text = uri
        .strip_prefix("urn:uuid:")
        .ok_or_else(|| ConversionError::new("FHIR uri", "uuid::Uuid", uri, "it does not start with urn:uuid:"))?;
    parse("FHIR uri", uri, text)
}

/// The UUID a resource or element `id` is written as.
pub fn uuid_from_id(id: &str) -> Result<Uuid, ConversionError> {
    parse("FHIR id", id, id)
}

/// `urn:uuid:` and the UUID, as FHIR writes it.
pub fn urn_from_uuid(uuid: &Uuid) -> String {
    format!("urn:uuid:{}", uuid.hyphenated())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_form_only() {
        let urn = "urn:uuid:c757873d-ec9a-4326-a141-556f43239520";
        let uuid = uuid_from_urn(urn).unwrap();
        assert_eq!(urn_from_uuid(&uuid), urn);
        assert_eq!(uuid_from_id(&urn[9..]).unwrap(), uuid);
        assert!(uuid_from_urn("urn:uuid:C757873D-ec9a-4326-a141-556f43239520")
            .unwrap_err()
            .reason()
            .contains("lowercase"));
        assert!(uuid_from_urn("urn:oid:1.2.3").unwrap_err().reason().contains("urn:uuid:"));
        assert!(uuid_from_id("c757873dec9a4326a141556f43239520").is_err());
        assert!(uuid_from_id("not-a-uuid").is_err());
    }
}
