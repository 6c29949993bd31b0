//! NDJSON, a resource per line, read as it arrives: the body's pieces are split into lines, each
//! parsed as soon as it is whole, so memory holds one line and one piece of the body, never the
//! file.

use std::marker::PhantomData;
use std::ops::Range;
use std::pin::Pin;

use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::{Error, ErrorKind};
use crate::json::{self, FromJson};
use crate::transport::Opened;

/// Splits pieces of a body into lines (`\n`, with an optional `\r` before it).
#[derive(Debug)]
pub(crate) struct Lines {
    buf: Vec<u8>,
    /// Where the next line starts in `buf`.
    start: usize,
    max_line: usize,
    /// The number of the last line given.
    line: u64,
}

impl Lines {
    pub(crate) fn new(max_line: usize) -> Lines {
        Lines { buf: Vec::new(), start: 0, max_line, line: 0 }
    }

    /// Adds a piece of the body.
    pub(crate) fn push(&mut self, piece: &[u8]) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(piece);
    }

    /// The buffer, with room for `n` more bytes after what it holds (lines already given are
    /// dropped first), to read into.
    pub(crate) fn room(&mut self, n: usize) -> &mut Vec<u8> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.reserve(n);
        &mut self.buf
    }

    /// The next whole line (its number and where it lies, for [`get`](Self::get)); `Ok(None)`
    /// until more arrives; an error (the line's number) when the line being gathered is longer
    /// than the maximum.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, Range<usize>)>, u64> {
        let rest = &self.buf[self.start..];
        match memchr::memchr(b'\n', rest) {
            Some(end) if end <= self.max_line => {
                self.line += 1;
                let (from, mut to) = (self.start, self.start + end);
                if to > from && self.buf[to - 1] == b'\r' {
                    to -= 1;
                }
                self.start += end + 1;
                Ok(Some((self.line, from..to)))
            }
            Some(_) => Err(self.line + 1),
            None if rest.len() > self.max_line => Err(self.line + 1),
            None => Ok(None),
        }
    }

    /// At the end of the body: what is left, a last line without its newline.
    pub(crate) fn last_line(&mut self) -> Option<(u64, Range<usize>)> {
        let from = self.start;
        self.start = self.buf.len();
        if self.buf[from..].iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        self.line += 1;
        Some((self.line, from..self.buf.len()))
    }

    /// Takes the whole lines gathered (all that is left, `at_end`) as a batch; `None` when
    /// there are none.
    fn take_block(&mut self, at_end: bool) -> Option<Batch> {
        let rest = &self.buf[self.start..];
        let cut = if at_end { rest.len() } else { memchr::memrchr(b'\n', rest).map_or(0, |p| p + 1) };
        if rest[..cut].iter().all(u8::is_ascii_whitespace) {
            self.line += memchr::memchr_iter(b'\n', &rest[..cut]).count() as u64;
            self.start += cut;
            return None;
        }
        let mut bytes = std::mem::take(&mut self.buf);
        self.buf = bytes.split_off(self.start + cut);
        bytes.drain(..self.start);
        self.start = 0;
        let first = self.line + 1;
        self.line += memchr::memchr_iter(b'\n', &bytes).count() as u64;
        if !bytes.ends_with(b"\n") {
            self.line += 1;
        }
        Some(Batch { first, bytes, max_line: self.max_line })
    }

    /// A line's bytes, by the range [`next_line`](Self::next_line) gave (until the next push).
    pub(crate) fn get(&self, range: Range<usize>) -> &[u8] {
        &self.buf[range]
    }
}

/// A line that did not read, skipped (see [`NdjsonStream::skip_bad_lines`]).
#[derive(Debug, Clone)]
pub struct SkippedLine {
    /// Its number in the file, from 1.
    pub line: u64,
    /// Why (names the file, the line and the JSON path).
    pub error: Error,
}

/// Opens the same file again from a byte offset (`Range: bytes=N-`).
pub(crate) type Reopen =
    Box<dyn Fn(u64) -> Pin<Box<dyn std::future::Future<Output = Result<Opened, Error>> + Send>> + Send + Sync>;

/// How often a download cut short is resumed with `Range` before its error is returned.
const RESUMES: u32 = 3;

/// Where a file's bytes come from.
enum Source {
    /// A download, and how to resume it when the server takes byte ranges.
    Http(Box<Opened>, Option<Reopen>),
    /// Anything else (a file on disk).
    Reader(Pin<Box<dyn AsyncRead + Send>>),
}

/// The resources of one NDJSON file, read line by line as the download goes: call
/// [`next`](Self::next), or turn it into a [`Stream`] with [`into_stream`](Self::into_stream) (or
/// parse it on several threads with [`for_each_parallel`](Self::for_each_parallel)). A line
/// that does not read as `T` is an error naming the file, the line and the JSON path, and ends
/// the stream, unless [`skip_bad_lines`](Self::skip_bad_lines) is on.
pub struct NdjsonStream<T> {
    source: Source,
    /// The file as errors name it (its URL, redacted).
    file: String,
    lines: Lines,
    skip_bad: bool,
    skipped: Vec<SkippedLine>,
    max_bytes: Option<u64>,
    bytes: u64,
    resources: u64,
    ended: bool,
    /// An error met while gathering a batch, for the next one.
    pending: Option<Error>,
    _t: PhantomData<fn() -> T>,
}

impl<T> std::fmt::Debug for NdjsonStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NdjsonStream")
            .field("file", &self.file)
            .field("bytes", &self.bytes)
            .field("resources", &self.resources)
            .field("skipped", &self.skipped.len())
            .finish()
    }
}

/// The longest line [`NdjsonStream::from_reader`] accepts.
const DEFAULT_MAX_LINE: usize = 64 << 20;

/// How much a read from a reader asks for.
const READ_BYTES: usize = 256 << 10;

/// About how many bytes of lines a worker parses at a time in parallel mode.
const BATCH_BYTES: usize = 1 << 20;

impl<T: FromJson> NdjsonStream<T> {
    /// A download; `reopen` resumes it after a cut when the server said it takes byte ranges
    /// (`Accept-Ranges: bytes`).
    pub(crate) fn new(body: Opened, reopen: Reopen, max_line: usize, max_bytes: Option<u64>) -> NdjsonStream<T> {
        let file = crate::error::redact_url(&body.url);
        let ranges = body
            .headers
            .get(reqwest::header::ACCEPT_RANGES)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|u| u.trim().eq_ignore_ascii_case("bytes")));
        let source = Source::Http(Box::new(body), ranges.then_some(reopen));
        NdjsonStream::with_source(source, file, max_line, max_bytes)
    }

    /// The resources of NDJSON read from `reader` (a file an export saved, say), named `name`
    /// in errors; lines of at most 64 MiB.
    pub fn from_reader(reader: impl AsyncRead + Send + 'static, name: &str) -> NdjsonStream<T> {
        let source = Source::Reader(Box::pin(reader));
        NdjsonStream::with_source(source, name.to_string(), DEFAULT_MAX_LINE, None)
    }

    fn with_source(source: Source, file: String, max_line: usize, max_bytes: Option<u64>) -> NdjsonStream<T> {
        NdjsonStream {
            source,
            file,
            lines: Lines::new(max_line),
            skip_bad: false,
            skipped: Vec::new(),
            max_bytes,
            bytes: 0,
            resources: 0,
            ended: false,
            pending: None,
            _t: PhantomData,
        }
    }

    /// Skip a line that does not read rather than end the stream; each one skipped is kept in
    /// [`skipped`](Self::skipped) and logged (a `tracing` warning, without the line's content).
    pub fn skip_bad_lines(mut self, skip: bool) -> Self {
        self.skip_bad = skip;
        self
    }

    /// The lines skipped so far.
    pub fn skipped(&self) -> &[SkippedLine] {
        &self.skipped
    }

    /// The bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The resources read so far (by [`next`](Self::next)).
    pub fn resources_read(&self) -> u64 {
        self.resources
    }

    /// Reads one more piece of the file into the lines; `false` at its end.
    async fn fill(&mut self) -> Result<bool, Error> {
        let n = match &mut self.source {
            Source::Http(body, reopen) => {
                let mut resumed = 0;
                loop {
                    match body.chunk().await {
                        Ok(Some(piece)) => {
                            self.lines.push(&piece);
                            break piece.len();
                        }
                        Ok(None) => break 0,
                        Err(e) => {
                            let Some(reopen) = reopen.as_ref().filter(|_| resumed < RESUMES) else { return Err(e) };
                            resumed += 1;
                            tracing::warn!(file = %self.file, from = self.bytes, error = %e, "download cut; resuming with Range");
                            **body = resume(reopen, self.bytes).await.map_err(|r| {
                                Error::new(e.kind(), format!("{e}; resuming from byte {} failed: {r}", self.bytes))
                            })?;
                        }
                    }
                }
            }
            Source::Reader(reader) => {
                // straight into the line buffer's spare room
                reader.read_buf(self.lines.room(READ_BYTES)).await.map_err(|e| {
                    Error::new(ErrorKind::Transport, format!("{}: reading failed", self.file)).with_source(e)
                })?
            }
        };
        self.bytes += n as u64;
        if let Some(max) = self.max_bytes.filter(|&m| self.bytes > m) {
            return Err(Error::new(
                ErrorKind::TooLarge,
                format!("{}: the file is larger than the maximum of {max} bytes", self.file),
            ));
        }
        Ok(n > 0)
    }

    /// The next line that is not blank, reading more of the file as needed; `None` at its end
    /// (a last line without its newline included: whole if it reads, else cut short).
    async fn raw_line(&mut self) -> Result<Option<(u64, Range<usize>)>, Error> {
        loop {
            match self.lines.next_line() {
                Ok(Some((_, r))) if self.lines.get(r.clone()).iter().all(u8::is_ascii_whitespace) => continue,
                Ok(Some(line)) => return Ok(Some(line)),
                Ok(None) => {}
                Err(n) => return Err(self.too_long(n)),
            }
            if !self.fill().await? {
                return Ok(self.lines.last_line());
            }
        }
    }

    /// The next resource; `None` at the end of the file (or after an error).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        loop {
            if self.ended {
                return None;
            }
            let (n, range) = match self.raw_line().await {
                Ok(Some(line)) => line,
                Ok(None) => {
                    self.ended = true;
                    tracing::info!(file = %self.file, bytes = self.bytes, resources = self.resources, "bulk file read");
                    return None;
                }
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            };
            match parse_line(&self.file, n, self.lines.get(range)) {
                Ok(v) => {
                    self.resources += 1;
                    return Some(Ok(v));
                }
                Err(e) => {
                    if let Some(e) = self.bad(n, e) {
                        return Some(Err(e));
                    }
                }
            }
        }
    }

    /// A bad line: the error to end with, or `None` when it is skipped.
    fn bad(&mut self, line: u64, error: Error) -> Option<Error> {
        if !self.skip_bad {
            self.ended = true;
            return Some(error);
        }
        tracing::warn!(file = %self.file, line, "skipping an NDJSON line that does not read");
        self.skipped.push(SkippedLine { line, error });
        None
    }

    /// As a [`Stream`] of resources.
    pub fn into_stream(self) -> impl Stream<Item = Result<T, Error>> {
        futures_util::stream::unfold(self, |mut s| async move { s.next().await.map(|item| (item, s)) })
    }

    /// The next block of whole lines, about [`BATCH_BYTES`] (or the rest of the file); `None`
    /// at the end. The lines are split by the worker that parses them.
    async fn next_batch(&mut self) -> Option<Result<Batch, Error>> {
        if let Some(e) = self.pending.take() {
            return Some(Err(e));
        }
        if self.ended {
            return None;
        }
        loop {
            let rest = &self.lines.buf[self.lines.start..];
            let whole = memchr::memrchr(b'\n', rest).map_or(0, |p| p + 1);
            if rest.len() - whole > self.lines.max_line {
                self.ended = true;
                let n = self.lines.line + memchr::memchr_iter(b'\n', rest).count() as u64 + 1;
                return Some(Err(self.too_long(n)));
            }
            if whole >= BATCH_BYTES {
                break;
            }
            match self.fill().await {
                Ok(true) => {}
                Ok(false) => {
                    self.ended = true;
                    break;
                }
                Err(e) => {
                    self.ended = true;
                    self.pending = Some(e);
                    break;
                }
            }
        }
        let batch = self.lines.take_block(self.ended && self.pending.is_none());
        match batch {
            Some(b) => Some(Ok(b)),
            None => self.pending.take().map(Err),
        }
    }

    fn too_long(&self, line: u64) -> Error {
        Error::new(
            ErrorKind::TooLarge,
            format!("{}: line {line} is longer than the maximum of {} bytes", self.file, self.lines.max_line),
        )
    }
}

/// What [`NdjsonStream::for_each_parallel`] did.
#[derive(Debug, Clone, Default)]
pub struct ParallelSummary {
    /// The resources handed to the function.
    pub resources: u64,
    /// The lines skipped (with [`NdjsonStream::skip_bad_lines`]), in the file's order.
    pub skipped: Vec<SkippedLine>,
}

impl<T: FromJson + Send + 'static> NdjsonStream<T> {
    /// Parses the file on up to `workers` threads (tokio's blocking pool) and calls `f` on each
    /// resource, on the thread that parsed it: lines are read in batches of about 1 MiB, and
    /// each batch is parsed and handed to `f` on one worker while the next ones are read.
    ///
    /// **Order**: within a batch (consecutive lines), the file's order; batches run at the same
    /// time, so across batches any order. Memory: about `2 × workers` batches. A line that
    /// does not read ends the run with its error (batches already started finish), unless
    /// [`skip_bad_lines`](Self::skip_bad_lines) is on: then it is skipped and listed in the
    /// summary. Each resource is used and dropped on its worker, which is what makes this
    /// scale (handing parsed resources to one consumer thread costs as much as it gains).
    pub async fn for_each_parallel<F>(mut self, workers: usize, f: F) -> Result<ParallelSummary, Error>
    where
        F: Fn(T) + Send + Sync + 'static,
    {
        let f = std::sync::Arc::new(f);
        let file: std::sync::Arc<str> = self.file.clone().into();
        let skip = self.skip_bad;
        let mut running = futures_util::stream::FuturesOrdered::new();
        let mut summary = ParallelSummary::default();
        let mut done = false;
        loop {
            while !done && running.len() < 2 * workers.max(1) {
                match self.next_batch().await {
                    Some(Ok(batch)) => {
                        let (f, file) = (f.clone(), file.clone());
                        running.push_back(tokio::task::spawn_blocking(move || batch.run(&file, skip, &*f)));
                    }
                    Some(Err(e)) => return Err(e),
                    None => done = true,
                }
            }
            let Some(joined) = running.next().await else {
                tracing::info!(file = %self.file, bytes = self.bytes, resources = summary.resources, "bulk file read");
                return Ok(summary);
            };
            let (count, bad) =
                joined.map_err(|e| Error::new(ErrorKind::Parse, "a parsing worker failed").with_source(e))?;
            summary.resources += count;
            for skipped in bad {
                if !skip {
                    return Err(skipped.error);
                }
                tracing::warn!(file = %self.file, line = skipped.line, "skipped an NDJSON line that does not read");
                summary.skipped.push(skipped);
            }
        }
    }
}

/// Whole lines for one worker, end to end, and the number of the first.
struct Batch {
    first: u64,
    bytes: Vec<u8>,
    max_line: usize,
}

impl Batch {
    /// Parses each line and hands it to `f`: how many were, and the lines that did not read
    /// (only the first, unless `skip`).
    fn run<T: FromJson>(&self, file: &str, skip: bool, f: &(impl Fn(T) + ?Sized)) -> (u64, Vec<SkippedLine>) {
        let (mut count, mut bad) = (0, Vec::new());
        let mut from = 0;
        let mut n = self.first;
        while from < self.bytes.len() {
            let end = memchr::memchr(b'\n', &self.bytes[from..]).map_or(self.bytes.len(), |p| from + p);
            let line = &self.bytes[from..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let result = if line.len() > self.max_line {
                Err(Error::new(
                    ErrorKind::TooLarge,
                    format!("{file}: line {n} is longer than the maximum of {} bytes", self.max_line),
                ))
            } else if line.iter().all(u8::is_ascii_whitespace) {
                Ok(None)
            } else {
                parse_line(file, n, line).map(Some)
            };
            match result {
                Ok(Some(v)) => {
                    f(v);
                    count += 1;
                }
                Ok(None) => {}
                Err(error) => {
                    bad.push(SkippedLine { line: n, error });
                    if !skip {
                        break;
                    }
                }
            }
            from = end + 1;
            n += 1;
        }
        (count, bad)
    }
}

/// The file again from byte `from`: a `206` whose `Content-Range` starts there.
async fn resume(reopen: &Reopen, from: u64) -> Result<Opened, Error> {
    let opened = reopen(from).await?;
    let start = opened
        .headers
        .get(reqwest::header::CONTENT_RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("bytes "))
        .and_then(|v| v.split('-').next())
        .and_then(|s| s.trim().parse::<u64>().ok());
    if opened.status != 206 || start != Some(from) {
        return Err(Error::new(
            ErrorKind::Protocol,
            format!("the server answered {} (range start {start:?}) to a request from byte {from}", opened.status),
        ));
    }
    Ok(opened)
}

/// One line read as `T`; the error names the file, the line and the JSON path.
pub(crate) fn parse_line<T: FromJson>(file: &str, line: u64, bytes: &[u8]) -> Result<T, Error> {
    json::from_slice(bytes)
        .map_err(|e| Error::new(ErrorKind::Parse, format!("{file}: line {line}: {e}")).with_source(e))
}

#[cfg(test)]
mod tests {
    use super::Lines;

    fn all(pieces: &[&[u8]], max: usize) -> Result<Vec<(u64, String)>, u64> {
        let mut lines = Lines::new(max);
        let mut out = Vec::new();
        for p in pieces {
            lines.push(p);
            while let Some((n, r)) = lines.next_line()? {
                out.push((n, String::from_utf8_lossy(lines.get(r)).into_owned()));
            }
        }
        if let Some((n, r)) = lines.last_line() {
            out.push((n, String::from_utf8_lossy(lines.get(r)).into_owned()));
        }
        Ok(out)
    }

    #[test]
    fn lines_split_across_pieces() {
        let got = all(&[b"{\"a\":1}\n{\"b\"", b":2}\r\n\n{\"c\":3}"], 64).unwrap();
        let want = [(1, "{\"a\":1}"), (2, "{\"b\":2}"), (3, ""), (4, "{\"c\":3}")];
        assert_eq!(got, want.map(|(n, s)| (n, s.to_string())));
    }

    #[test]
    fn a_line_over_the_maximum_is_refused_before_it_is_whole() {
        assert_eq!(all(&[b"0123456789", b"0123456789"], 15), Err(1));
        assert_eq!(all(&[b"ok\n", b"0123456789\n"], 5), Err(2));
        assert!(all(&[b"12345\n"], 5).is_ok(), "a line of exactly the maximum");
    }
}
