//! NDJSON, a resource per line, read as it arrives: the body's pieces are split into lines, each
//! parsed as soon as it is whole, so memory holds one line and one piece of the body, never the
//! file.

use std::marker::PhantomData;

use futures_util::Stream;

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

    /// The next whole line (its number and bytes); `Ok(None)` until more arrives; an error when
    /// the line being gathered is longer than the maximum.
    pub(crate) fn next_line(&mut self) -> Result<Option<(u64, &[u8])>, u64> {
        let rest = &self.buf[self.start..];
        match rest.iter().position(|&b| b == b'\n') {
            Some(end) if end <= self.max_line => {
                self.line += 1;
                let line = &self.buf[self.start..self.start + end];
                self.start += end + 1;
                Ok(Some((self.line, line.strip_suffix(b"\r").unwrap_or(line))))
            }
            Some(_) => Err(self.line + 1),
            None if rest.len() > self.max_line => Err(self.line + 1),
            None => Ok(None),
        }
    }

    /// At the end of the body: what is left, a last line without its newline.
    pub(crate) fn last_line(&mut self) -> Option<(u64, &[u8])> {
        let rest = &self.buf[self.start..];
        if rest.iter().all(u8::is_ascii_whitespace) {
            return None;
        }
        self.line += 1;
        self.start = self.buf.len();
        Some((self.line, rest))
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

/// The resources of one NDJSON file, read line by line as the download goes: call
/// [`next`](Self::next), or turn it into a [`Stream`] with [`into_stream`](Self::into_stream).
/// A line that does not read as `T` is an error naming the file, the line and the JSON path,
/// and ends the stream, unless [`skip_bad_lines`](Self::skip_bad_lines) is on.
pub struct NdjsonStream<T> {
    body: Opened,
    /// The file as errors name it (its URL, redacted).
    file: String,
    lines: Lines,
    skip_bad: bool,
    skipped: Vec<SkippedLine>,
    max_bytes: Option<u64>,
    bytes: u64,
    resources: u64,
    ended: bool,
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

impl<T: FromJson> NdjsonStream<T> {
    pub(crate) fn new(body: Opened, max_line: usize, max_bytes: Option<u64>) -> NdjsonStream<T> {
        NdjsonStream {
            file: crate::error::redact_url(&body.url),
            body,
            lines: Lines::new(max_line),
            skip_bad: false,
            skipped: Vec::new(),
            max_bytes,
            bytes: 0,
            resources: 0,
            ended: false,
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

    /// The resources read so far.
    pub fn resources_read(&self) -> u64 {
        self.resources
    }

    /// The next resource; `None` at the end of the file (or after an error).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        loop {
            if self.ended {
                return None;
            }
            match self.lines.next_line() {
                Ok(Some((n, line))) => {
                    if line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    match parse_line(&self.file, n, line) {
                        Ok(v) => return Some(Ok(self.count(v))),
                        Err(e) => match self.bad(n, e) {
                            Some(e) => return Some(Err(e)),
                            None => continue,
                        },
                    }
                }
                Ok(None) => {}
                Err(n) => {
                    self.ended = true;
                    return Some(Err(Error::new(
                        ErrorKind::TooLarge,
                        format!("{}: line {n} is longer than the maximum of {} bytes", self.file, self.lines.max_line),
                    )));
                }
            }
            match self.body.chunk().await {
                Ok(Some(piece)) => {
                    self.bytes += piece.len() as u64;
                    if let Some(max) = self.max_bytes.filter(|&m| self.bytes > m) {
                        self.ended = true;
                        let message = format!("{}: the file is larger than the maximum of {max} bytes", self.file);
                        return Some(Err(Error::new(ErrorKind::TooLarge, message)));
                    }
                    self.lines.push(&piece);
                }
                Ok(None) => {
                    self.ended = true;
                    let (n, line) = self.lines.last_line()?;
                    // A last line without its newline: whole if it reads, else cut short.
                    return match parse_line(&self.file, n, line) {
                        Ok(v) => Some(Ok(self.count(v))),
                        Err(e) => self.bad(n, e).map(Err),
                    };
                }
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
    }

    fn count(&mut self, v: T) -> T {
        self.resources += 1;
        v
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
            while let Some((n, l)) = lines.next_line()? {
                out.push((n, String::from_utf8_lossy(l).into_owned()));
            }
        }
        if let Some((n, l)) = lines.last_line() {
            out.push((n, String::from_utf8_lossy(l).into_owned()));
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
