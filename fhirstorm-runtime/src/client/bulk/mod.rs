//! Bulk Data Access 2.0 ("Flat FHIR"): export a population from kick-off to a stream of typed
//! resources, in bounded memory.
//!
//! ```no_run
//! # async fn run(service: fhirstorm::client::Service<fhirstorm::R4>) -> Result<(), fhirstorm::client::Error> {
//! use fhirstorm::r4::{Observation, Patient};
//!
//! let mut job = service
//!     .export_group("diabetes-cohort")
//!     .resource_type::<Patient>()
//!     .resource_type::<Observation>()
//!     .type_filter(Observation::search().status("final"))
//!     .start()
//!     .await?;
//! let manifest = job.wait_with(|progress| println!("{progress:?}")).await?;
//! for file in job.pending(&manifest) {
//!     if file.resource_type == "Observation" {
//!         let mut observations = job.download::<Observation>(&manifest, file).await?;
//!         while let Some(observation) = observations.next().await {
//!             let observation = observation?; // a line that does not read names file, line and path
//!             println!("{:?}", observation.id);
//!         }
//!         job.mark_fetched(file);
//!     }
//! }
//! job.cancel().await?; // the server may delete the files
//! # Ok(()) }
//! ```
//!
//! - **Kick-off** at system, all-patients or group level ([`Service::export`](crate::client::Service::export),
//!   [`Service::export_patients`](crate::client::Service::export_patients), [`Service::export_group`](crate::client::Service::export_group)), by GET or with `Parameters`
//!   (POST): `_type` (typed: a resource of another version does not compile), `_since`,
//!   `_typeFilter` (the typed search builders), `_elements`, `patient`, `_outputFormat`,
//!   `includeAssociatedData`, `organizeOutputBy`; `Prefer: respond-async`, and
//!   `handling=strict` on request. The server must advertise the operation at that level.
//! - **Status** ([`ExportJob::wait`]): `Retry-After` (seconds or HTTP date) within a floor and
//!   a ceiling, `X-Progress` logged and passed on, failed polls retried within a budget, the
//!   export's own failure (an `OperationOutcome`) an error at once; [`ExportJob::cancel`].
//! - **Resume**: [`JobState`] (status URL, transaction time, files fetched) is JSON; a process
//!   that restarts calls [`ExportJob::resume`] and fetches only [`ExportJob::pending`] files.
//! - **Download**: each file as a [`NdjsonStream`] of `R` or of the version's `AnyResource`, a
//!   line at a time (memory: the longest line and one piece of the body). The bearer token is
//!   sent only when the manifest's `requiresAccessToken` is true, and only to URLs under the
//!   FHIR base: a file on another host is fetched without it. Redirects follow the
//!   connection's policy (only under the FHIR base). Limits on the wait (24 hours), a line
//!   (64 MiB), a file (64 GiB) and the manifest's pages (10,000) are in [`PollPolicy`]. A
//!   program that writes the files names them with [`OutputFile::file_name`], made of the
//!   version's resource types, never of the server's text.
//!
//! - **Parallel parsing**: [`NdjsonStream::for_each_parallel`] parses on several threads and
//!   hands each resource to a function on the thread that parsed it (in the file's order
//!   within batches of about 1 MiB of lines; across batches, any order).
//!
//! - **Cuts and pages**: a download cut short resumes from where it stopped with `Range`
//!   (up to three times) when the server said it takes byte ranges; a server that then does
//!   not answer `206` from that byte leaves the cut's error. [`ExportJob::next_manifest`]
//!   follows a paged manifest's `next` link, and refuses one that leads back to a page read.

mod job;
mod kickoff;
mod manifest;
mod ndjson;

pub use job::{ExportJob, ExportStatus, JobState, PollPolicy};
pub use kickoff::{ExportLevel, ExportRequest};
pub use manifest::{Manifest, ManifestLink, OutputFile};
pub use ndjson::{NdjsonStream, ParallelSummary, SkippedLine};
