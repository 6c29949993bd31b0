//! # fhirstorm
//!
//! Typed SMART-on-FHIR for Rust: models generated from the official FHIR definitions of
//! DSTU2, STU3, R4, R4B and R5 (one module per version, chosen by cargo feature), read and written
//! losslessly by JSON code compiled once inside each version's crate; an async REST client with
//! compile-time checked searches; and SMART App Launch.
//!
//! This guide walks through the parts in the order an app meets them. The examples that need a
//! server are `no_run`; `examples/` in the repository has each of them as a program that runs
//! against the local sandbox (`scripts/sandbox`).
//!
//! ## Authorizing (SMART App Launch)
//!
//! [`auth::SmartClient`] discovers the server's SMART configuration, builds the authorization
//! URL (state and PKCE S256 always), exchanges the code, and makes a [`auth::Session`] that a
//! [`client::Connection`] sends and renews:
//!
//! ```no_run
//! # #[cfg(all(feature = "client", feature = "r4"))]
//! # async fn run(redirect_back: &str) -> Result<(), Box<dyn std::error::Error>> {
//! use fhirstorm::auth::{ClientAuth, ClientId, ClientSecret, RedirectUrl, SmartClient};
//! use fhirstorm::client::Connection;
//! use fhirstorm::R4;
//!
//! let conn = Connection::<R4>::new("https://ehr.example/fhir");
//! let auth = ClientAuth::SecretBasic(ClientId::new("my-app"), ClientSecret::new("from your vault"));
//! let client = SmartClient::discover(&conn, auth).await?
//!     .redirect_url(RedirectUrl::new("https://app.example/callback")?);
//! let (url, state, verifier) =
//!     client.authorization_request("openid fhirUser launch/patient offline_access patient/*.read".parse()?)?.url()?;
//! // Send the user to `url`; keep `state` and `verifier` (or sign the state, bound to the
//! // browser: auth::jwt_state, and derive the verifier: PkceVerifier::for_signed_state).
//! let token = client.exchange_redirect(redirect_back, &state, &verifier).await?;
//! let conn = conn.with_session(client.session(token).on_refresh(|t| { /* save t.to_vec() */ }));
//! # let _ = conn; Ok(()) }
//! ```
//!
//! EHR launches start with [`auth::EhrLaunch::from_query`] (which checks `iss` against an
//! allow-list first); system apps use [`auth::SmartClient::backend_session`]; new apps can
//! [`auth::register`] themselves. Secrets are newtypes that never print.
//!
//! ## Reading and writing
//!
//! ```no_run
//! # #[cfg(all(feature = "client", feature = "r4"))]
//! # async fn run(conn: fhirstorm::client::Connection<fhirstorm::R4>) -> Result<(), fhirstorm::client::Error> {
//! use fhirstorm::r4::Patient;
//!
//! let service = conn.service().await?;          // the capability statement's first rest entry
//! let patients = service.r::<Patient>();
//! let mut p: Patient = patients.fetch("123").await?;
//! p.active = Some(true.into());
//! let p = patients.update(&p).await?;           // If-Match: a concurrent change is a typed 412
//! # let _ = p; Ok(()) }
//! ```
//!
//! ## Searching and paging
//!
//! Each resource has a generated search builder whose methods are its search parameters, each
//! taking a value of the parameter's kind; a wrong search does not compile (see [`search`]).
//!
//! ```no_run
//! # #[cfg(all(feature = "client", feature = "r4"))]
//! # async fn run(service: fhirstorm::client::Service<fhirstorm::R4>) -> Result<(), fhirstorm::client::Error> {
//! use futures_util::TryStreamExt;
//! use fhirstorm::r4::{Observation, Patient};
//! use fhirstorm::search::{DateValue, TokenValue};
//!
//! let q = Observation::search()
//!     .subject(Patient::reference("123"))
//!     .code(TokenValue::code("http://loinc.org", "29463-7"))
//!     .date(DateValue::ge("2026-01"))
//!     .include(Observation::INCLUDE_SUBJECT);
//! let page = service.r::<Observation>().search(q.clone()).await?;
//! let subjects: Vec<Patient> = page.included_of::<Patient>();
//! // Every match, page after page (one page in memory at a time):
//! let all: Vec<Observation> = service.r::<Observation>().search_all(q).try_collect().await?;
//! # let _ = (subjects, all); Ok(()) }
//! ```
//!
//! Types chosen at run time go through [`client::Service::r_named`] (`"Observation"`): the
//! same calls, with the version's `AnyResource`.
//!
//! ## Transactions
//!
//! [`client::Service::transaction`] (and `batch`) build a Bundle whose entries may refer to
//! each other before they exist (`urn:uuid` full URLs), and answer per entry.
//!
//! ## Bulk export
//!
//! [`client::bulk`] exports a population (Bulk Data Access 2.0) from kick-off to typed
//! resources, a line of NDJSON at a time:
//!
//! ```no_run
//! # #[cfg(all(feature = "client", feature = "r4"))]
//! # async fn run(service: fhirstorm::client::Service<fhirstorm::R4>) -> Result<(), fhirstorm::client::Error> {
//! use fhirstorm::r4::Observation;
//!
//! let mut job = service.export_group("cohort").resource_type::<Observation>().start().await?;
//! let manifest = job.wait().await?;
//! for file in job.pending(&manifest) {
//!     let mut observations = job.download::<Observation>(&manifest, file).await?;
//!     while let Some(observation) = observations.next().await {
//!         let _typed: Observation = observation?;
//!     }
//!     job.mark_fetched(file); // job.state().to_json() resumes from here after a restart
//! }
//! # Ok(()) }
//! ```
//!
//! ## Without async
//!
//! `fhirstorm::blocking` (feature `blocking`) is the same client with blocking calls, for
//! scripts, command-line tools and synchronous services: `blocking::Connection::<R4>::new(url)?
//! .service()?.r::<Patient>().fetch(id)?`, search results as iterators, the SMART client's
//! steps. Each call drives the async client's future; there is no second implementation.
//!
//! ## On the command line
//!
//! The `fhirstorm` binary (feature `cli`: `cargo install fhirstorm --features cli`) signs in
//! (standalone through the system browser, or Backend Services with a key), keeps the token in
//! a file only its owner can read and renews it, and runs `get`, `search` (its parameters
//! checked against the server's), `create`, `update`, `delete`, `validate` and `export`,
//! writing indented JSON or NDJSON.
//!
//! ## Dates, decimals and UUIDs
//!
//! `fhirstorm::convert` (features `time`, `chrono`, `jiff`, `rust_decimal`, `uuid`) converts
//! FHIR's dates, times, decimals and `urn:uuid:` ids to and from those crates' types with
//! `TryFrom`, refusing what the target cannot hold (a date of only a year, `24:00`, a leap
//! second outside chrono, a decimal beyond 28 places) instead of rounding it.
//!
//! ## Errors
//!
//! One [`client::Error`] with kind queries: [`client::ErrorKind`] says what failed (status,
//! transport, timeout, parse, version mismatch, unsupported, too large, protocol, auth);
//! `status()`, `outcome()` (the server's `OperationOutcome`), `json()` (the JSON path of a parse
//! error) and `auth()` ([`client::AuthFailure`]: state mismatch, OAuth error codes, ...) say more.
//! Bad input never panics and never loses data silently.
//!
//! ## Without a server
//!
//! ```
//! # #[cfg(feature = "r4")] {
//! use fhirstorm::r4::{AnyResource, Patient};
//! use fhirstorm::prelude::*;
//!
//! let json = br#"{"resourceType":"Patient","id":"p1","birthDate":"1970-03","name":[{"family":"Chalmers"}]}"#;
//! let patient: Patient = fhirstorm::json::from_slice(json)?;
//! assert_eq!(patient.birth_date.value().map(|d| d.as_str()), Some("1970-03"));
//!
//! // Any resource, by its resourceType:
//! let any = AnyResource::from_slice(json)?;
//! assert_eq!(any.resource_type(), "Patient");
//! assert_eq!(any.to_vec(), fhirstorm::json::to_vec(&patient));
//! # }
//! # Ok::<(), fhirstorm::json::Error>(())
//! ```
//!
//! ## Versions
//!
//! | feature | module | FHIR |
//! |---|---|---|
//! | `dstu2` | `dstu2` | 1.0.2 |
//! | `stu3` | `stu3` | 3.0.1 |
//! | `r4` (default) | `r4` | 4.0.1 |
//! | `r4b` | `r4b` | 4.3.0 |
//! | `r5` | `r5` | 5.0.0 |
//! | `client` (default) | [`client`], [`auth`] | the REST client and SMART |
//!
//! Every resource implements [`Resource`], whose `Version` is the module's marker type
//! ([`R4`], ...), so that a resource of one version cannot be used where another's is expected;
//! `Connection::<R4>` checks the server's `fhirVersion`.
//!
//! ## Implementation guides
//!
//! `fhirstorm_codegen::Profiles`, in a build script, turns a guide's package (AU Base, mCODE,
//! ...) into a type per extension (read and written on any element's `extension` list through
//! [`extension::Extensions`]) and a type per resource profile (a base resource that `TryFrom`
//! validated, with typed accessors for its extension slices; issues are
//! [`validation::Issue`]s), and its search parameters into methods of the base search
//! builders. The guide `docs/implementation-guides.md` in the repository shows the set-up.
//!
//! ## Validation
//!
//! [`validation::Validate`] checks any resource against its version's definitions and returns
//! every issue with its location: cardinalities at every depth, primitive formats, codes of
//! required bindings, unknown members and empty elements.
//!
//! ## Lossless by design
//!
//! Primitive extensions (`_birthDate`) are kept in [`Primitive`]; decimals keep their text
//! ([`Decimal`]); dates keep their precision ([`Date`], [`DateTime`], [`Instant`], [`Time`]);
//! codes bound to a required value set are enums with an `Unrecognized` variant; JSON members
//! the definitions do not know are kept in each struct's `unknown` and written back.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(missing_docs)]
#![forbid(unsafe_code)]

// The runtime: json, search, client, auth, the traits every version implements, ...
#[doc(inline)]
pub use fhirstorm_runtime::*;

/// One FHIR version's models (crate `fhirstorm-<version>`, generated at build time from
/// `fhir-definitions/<version>/`) as a module, and its marker type at the crate root. A module
/// of re-exports rather than the crate renamed, so that rustc's messages name the types
/// `fhirstorm::r4::Patient`.
macro_rules! fhir_version {
    ($feature:literal, $krate:ident, $module:ident, $marker:ident, $doc:literal) => {
        #[cfg(feature = $feature)]
        #[doc = $doc]
        pub mod $module {
            pub use $krate::*;
        }
        #[cfg(feature = $feature)]
        pub use $krate::$marker;
    };
}

fhir_version!("dstu2", fhirstorm_dstu2, dstu2, Dstu2, "FHIR DSTU2 (1.0.2) models (crate `fhirstorm-dstu2`).");
fhir_version!("stu3", fhirstorm_stu3, stu3, Stu3, "FHIR STU3 (3.0.1) models (crate `fhirstorm-stu3`).");
fhir_version!("r4", fhirstorm_r4, r4, R4, "FHIR R4 (4.0.1) models (crate `fhirstorm-r4`).");
fhir_version!("r4b", fhirstorm_r4b, r4b, R4B, "FHIR R4B (4.3.0) models (crate `fhirstorm-r4b`).");
fhir_version!("r5", fhirstorm_r5, r5, R5, "FHIR R5 (5.0.0) models (crate `fhirstorm-r5`).");

/// Entry points of the fuzz targets (`fuzz/`) and of their smoke test (`tests/official_examples/fuzz_smoke.rs`):
/// the runtime's, with R4 where one needs a FHIR version. Behind the `fuzzing` feature, which
/// only those two turn on; not part of the API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use std::sync::OnceLock;

    use crate::auth::SmartClient;
    use crate::client::Connection;

    pub use fhirstorm_runtime::fuzzing::{any_resource, fhirpath, retry_after, smart_configuration, token_response};

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
}
