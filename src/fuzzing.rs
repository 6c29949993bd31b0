//! Entry points of the fuzz targets (`fuzz/`) and of their smoke test (`tests/fuzz_smoke.rs`):
//! the runtime's, with R4 where one needs a FHIR version. Not part of the API.

use std::sync::OnceLock;

use crate::auth::SmartClient;
use crate::client::Connection;

pub use fhirstorm_runtime::fuzzing::{any_resource, retry_after, smart_configuration, token_response};

fn connection() -> &'static Connection<crate::R4> {
    static CONN: OnceLock<Connection<crate::R4>> = OnceLock::new();
    CONN.get_or_init(|| Connection::builder("https://ehr.example/fhir").build().expect("a valid base"))
}

fn client() -> &'static SmartClient {
    static CLIENT: OnceLock<SmartClient> = OnceLock::new();
    CLIENT.get_or_init(|| fhirstorm_runtime::fuzzing::smart_client(connection()))
}

/// The URL the authorization server sends the user back to.
pub fn redirect_url(data: &[u8]) {
    fhirstorm_runtime::fuzzing::redirect_url(client(), data)
}

/// A search result page with paging links (R4 Patients).
pub fn search_page(data: &[u8]) {
    fhirstorm_runtime::fuzzing::search_page::<crate::R4, crate::r4::Patient>(data)
}

/// A bulk export manifest and the local names of its files (R4).
pub fn bulk_manifest(data: &[u8]) {
    fhirstorm_runtime::fuzzing::bulk_manifest::<crate::R4>(data)
}

/// Request URLs built from an id, and URLs a server named.
pub fn request_path(data: &[u8]) {
    fhirstorm_runtime::fuzzing::request_path(connection(), data)
}
