//! An in-memory backend for this crate's unit tests: canned answers in order, the requests
//! kept, no socket. The client's and the authorization flows' logic (what is sent, how each
//! answer is read, retries, renewals) is tested with it in memory, as `oauth2` tests its flows
//! through a pluggable HTTP function; the fake and the real servers of `tests/` test the wire.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::Method;
use url::Url;

use super::Request;

/// One canned answer.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    /// `status` with a JSON body (`application/fhir+json`).
    pub(crate) fn json(status: u16, body: &str) -> Answer {
        Answer { status, headers: HeaderMap::new(), body: body.as_bytes().to_vec() }
            .header("content-type", "application/fhir+json")
    }

    /// The same answer with a header added.
    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Answer {
        self.headers.append(HeaderName::from_static(name), HeaderValue::from_str(value).expect("a header value"));
        self
    }
}

/// A request as the backend saw it.
#[derive(Debug, Clone)]
pub(crate) struct Sent {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

impl Sent {
    /// The body as text.
    pub(crate) fn text(&self) -> &str {
        std::str::from_utf8(&self.body).expect("a UTF-8 body")
    }
}

/// The answers still to give and the requests seen. Shared: a test keeps one handle, the
/// transport another.
#[derive(Debug, Clone, Default)]
pub(crate) struct Canned(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    answers: VecDeque<Answer>,
    sent: Vec<Sent>,
}

impl Canned {
    /// A backend that gives `answers` in order; a request beyond them is a test failure.
    pub(crate) fn new(answers: impl IntoIterator<Item = Answer>) -> Canned {
        Canned(Arc::new(Mutex::new(State { answers: answers.into_iter().collect(), sent: Vec::new() })))
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The requests sent so far.
    pub(crate) fn sent(&self) -> Vec<Sent> {
        self.state().sent.clone()
    }

    /// How many answers are left.
    pub(crate) fn left(&self) -> usize {
        self.state().answers.len()
    }

    pub(super) fn answer(&self, req: &Request) -> Answer {
        let mut state = self.state();
        state.sent.push(Sent {
            method: req.method.clone(),
            url: req.url.clone(),
            headers: req.headers.clone(),
            body: req.body.clone().unwrap_or_default(),
        });
        let n = state.sent.len();
        state
            .answers
            .pop_front()
            .unwrap_or_else(|| panic!("request {n} ({} {}) has no canned answer", req.method, req.url))
    }
}
