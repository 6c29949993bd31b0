//! A blocking client, for scripts, command-line tools and synchronous services (feature
//! `blocking`), the way `reqwest::blocking` offers one: the same connection, services, typed
//! resources and search, paging as an iterator, and the SMART flows, each call waiting for its
//! answer.
//!
//! There is no second implementation: every call drives the async client's future to its end.
//! A blocking [`Connection`] owns a small tokio runtime (one worker thread, which runs the
//! connections' I/O and timers); the calling thread polls the request itself, so borrowed
//! arguments need no copying, and a call works from any thread, even one inside another async
//! runtime (where it blocks that runtime's thread, as any blocking call does: use the async
//! client there). Clones share the runtime; dropping the last one stops it without waiting.
//!
//! ```no_run
//! use fhirstorm::blocking::Connection;
//! use fhirstorm::r4::{MedicationRequest, Patient};
//! use fhirstorm::R4;
//!
//! # fn run() -> Result<(), fhirstorm::client::Error> {
//! let service = Connection::<R4>::new("https://fhir.example.org/r4")?.service()?;
//! let patient: Patient = service.r::<Patient>().fetch("123")?;
//! for order in service.r::<MedicationRequest>().search_all(MedicationRequest::search().patient(Patient::reference("123"))) {
//!     println!("{:?}", order?.id);
//! }
//! # let _ = patient; Ok(()) }
//! ```
//!
//! What has no blocking method here (registration, revocation, the loopback redirect, bulk
//! export) runs through [`Connection::block_on`] with the async API.

mod any_resources;
mod auth;
mod service;

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use url::Url;

use crate::auth::Session;
use crate::client::{self, Capabilities, ClientVersion};
use crate::error::{Error, ErrorKind};

pub use any_resources::AnyResources;
pub use auth::SmartClient;
pub use service::{Matches, Pages, Resources, Service};

/// The runtime a blocking connection and everything made from it share.
#[derive(Clone)]
struct Driver(Arc<Owned>);

struct Owned(Option<tokio::runtime::Runtime>);

impl Drop for Owned {
    fn drop(&mut self) {
        // Not `Runtime`'s own drop, which panics inside another runtime's context.
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Driver {
    fn new() -> Result<Driver, Error> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fhirstorm-blocking")
            .enable_all()
            .build()
            .map_err(|e| Error::new(ErrorKind::Config, "cannot start the blocking client's runtime").with_source(e))?;
        Ok(Driver(Arc::new(Owned(Some(runtime)))))
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let runtime = self.0 .0.as_ref().expect("the runtime is only taken when the last clone drops");
        // I/O and timers made while polling register with this runtime, whose worker drives them.
        let _context = runtime.handle().enter();
        block_on(future)
    }
}

/// Polls `future` on this thread, parking it until a waker unparks it. (Not `futures`'
/// executor, which panics when nested in another of its own; not `Runtime::block_on`, which
/// panics inside another runtime.)
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            // A wake before the park leaves a token, so no wake is lost; a spurious return re-polls.
            Poll::Pending => std::thread::park(),
        }
    }
}

/// A FHIR server, as [`client::Connection`], with blocking calls.
pub struct Connection<V: ClientVersion> {
    inner: client::Connection<V>,
    driver: Driver,
}

impl<V: ClientVersion> Clone for Connection<V> {
    fn clone(&self) -> Self {
        Connection { inner: self.inner.clone(), driver: self.driver.clone() }
    }
}

impl<V: ClientVersion> std::fmt::Debug for Connection<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("blocking::Connection").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<V: ClientVersion> Connection<V> {
    /// A connection to the server at `base` with the default settings
    /// ([`client::Connection::new`]); an error only when the runtime cannot start.
    pub fn new(base: impl Into<String>) -> Result<Connection<V>, Error> {
        Connection::from_async(client::Connection::new(base))
    }

    /// A blocking connection over an async one, for settings of
    /// [`client::Connection::builder`]: `Connection::from_async(client::Connection::builder(url).timeout(t).build()?)`.
    pub fn from_async(inner: client::Connection<V>) -> Result<Connection<V>, Error> {
        Ok(Connection { inner, driver: Driver::new()? })
    }

    /// The async connection (sharing settings, HTTP client and session), for
    /// [`block_on`](Self::block_on).
    pub fn as_async(&self) -> &client::Connection<V> {
        &self.inner
    }

    /// Runs any of fhirstorm's async calls to its end on this connection's runtime:
    /// `conn.block_on(fhirstorm::auth::register(conn.as_async(), &registration, None))`.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.driver.block_on(future)
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        self.inner.base_url()
    }

    /// This connection with a SMART session's bearer token (refreshed as it expires).
    pub fn with_session(&self, session: Session) -> Connection<V> {
        Connection { inner: self.inner.with_session(session), driver: self.driver.clone() }
    }

    /// The server's capability statement (fetched once).
    pub fn metadata(&self) -> Result<&Capabilities<V>, Error> {
        self.driver.block_on(self.inner.metadata())
    }

    /// The first service (`rest` entry) of the capability statement.
    pub fn service(&self) -> Result<Service<V>, Error> {
        self.service_at(0)
    }

    /// The service at `index` of the capability statement's `rest` entries.
    pub fn service_at(&self, index: usize) -> Result<Service<V>, Error> {
        let inner = self.driver.block_on(self.inner.service_at(index))?;
        Ok(Service::new(inner, self.driver.clone()))
    }
}
