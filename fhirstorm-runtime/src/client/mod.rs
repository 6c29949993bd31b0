//! The async REST client: [`Connection`] to a FHIR server, its [`Service`]s (the statement's
//! `rest` entries, as in the Python FHIRstorm's `conn.metadata.rest[0]`), and typed access to each resource
//! type through [`Service::r`].
//!
//! ```no_run
//! # async fn run() -> Result<(), fhirstorm::client::Error> {
//! use fhirstorm::client::Connection;
//! use fhirstorm::r4::{MedicationRequest, Patient};
//! use fhirstorm::R4;
//!
//! let service = Connection::<R4>::new("https://fhir.example.org/r4").service().await?;
//! let patient: Patient = service.r::<Patient>().fetch("123").await?;
//! let orders = service.r::<MedicationRequest>().search([("patient", "123")]).await?;
//! for order in orders.matches() {
//!     println!("{:?}", order.id);
//! }
//! # Ok(()) }
//! ```

mod any_resources;
mod authorizer;
mod builder;
pub mod bulk;
mod capabilities;
mod connection;
mod policy;
mod request;
mod resources;
mod search_set;
mod service;
#[cfg(test)]
pub(crate) mod test_version;
mod transaction;

#[cfg(test)]
mod in_memory_tests;

pub use crate::error::{AuthFailure, Error, ErrorKind, Outcome, OutcomeIssue};
pub use crate::transport::RetryPolicy;
pub use crate::version::{ClientVersion, Entry};
pub use capabilities::{ResourceCapabilities, RestCapabilities};
pub use transaction::{BundleKind, TransactionBuilder, TransactionEntry, TransactionResponse};

pub use any_resources::AnyResources;
pub use authorizer::{AuthFuture, Authorizer, Bearer};
pub use builder::ConnectionBuilder;
pub use connection::{Capabilities, Connection};
pub use resources::Resources;
pub use search_set::SearchSet;
pub use service::Service;

pub(crate) use policy::segment;
