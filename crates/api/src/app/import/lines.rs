//! Physical lines of a CSV feed with a length cap, and their fields.
//!
//! The feed is read one line at a time (`\n` or `\r\n`), never more than the cap held in
//! memory: an over-long line is skipped to its end and reported, not buffered. Fields are
//! split by `csv-core` (the `csv` crate's parser, RFC 4180 quoting), one line per record: no
//! imported field may contain a line break (names refuse control characters), so a record
//! never spans lines, line numbers are exact, and a stray quote spoils one line only.

use std::io::{self, BufRead};

/// One physical line.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// The content, without its terminator.
    Content(&'a [u8]),
    /// Longer than the cap; its content was discarded.
    TooLong,
}

/// Reads capped lines from a buffered reader.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    max_line_bytes: usize,
    buf: Vec<u8>,
    line_number: u64,
    bytes_read: u64,
}

impl<R: BufRead> LineReader<R> {
    /// Lines longer than `max_line_bytes` (terminator excluded) come back as [`Line::TooLong`].
    pub fn new(inner: R, max_line_bytes: usize) -> Self {
        Self {
            inner,
            max_line_bytes,
            buf: Vec::with_capacity(max_line_bytes.min(64 * 1024)),
            line_number: 0,
            bytes_read: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next line and its number (from 1), or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<(u64, Line<'_>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (chunk, used, done) = match available.iter().position(|&b| b == b'\n') {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            if !too_long {
                if self.buf.len() + chunk.len() > self.max_line_bytes + 1 {
                    // One byte of slack for the `\r` of `\r\n`, checked below.
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(chunk);
                }
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if done {
                break;
            }
        }
        self.line_number += 1;
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if too_long || self.buf.len() > self.max_line_bytes {
            return Ok(Some((self.line_number, Line::TooLong)));
        }
        Ok(Some((self.line_number, Line::Content(&self.buf))))
    }
}

/// Why a line could not be split into fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// More fields than any valid line has.
    TooManyFields,
    /// A carriage return inside the line (only `\r\n` at the end is a terminator).
    StrayCarriageReturn,
}

/// Splits lines into fields, reusing its buffers.
#[derive(Debug)]
pub struct FieldSplitter {
    reader: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    count: usize,
}

impl FieldSplitter {
    /// `max_line_bytes` bounds the output (a field is never longer than its line); lines
    /// with more than `max_fields` fields are refused.
    pub fn new(max_line_bytes: usize, max_fields: usize) -> Self {
        Self {
            reader: csv_core::Reader::new(),
            output: vec![0; max_line_bytes.max(1)],
            // One spare slot so "too many" is detectable.
            ends: vec![0; max_fields + 1],
            count: 0,
        }
    }

    /// Splits one line (without its terminator).
    pub fn split(&mut self, line: &[u8]) -> Result<(), SplitError> {
        use csv_core::ReadRecordResult as R;
        self.reader.reset();
        self.count = 0;
        let (result, used, written, ended) =
            self.reader
                .read_record(line, &mut self.output, &mut self.ends);
        let ended = match result {
            R::Record if used < line.len() => return Err(SplitError::StrayCarriageReturn),
            R::Record => ended,
            R::End => 0,
            R::OutputEndsFull => return Err(SplitError::TooManyFields),
            // Unquoting never lengthens a line, and the buffer is as long as the cap.
            R::OutputFull => unreachable!("csv output buffer is sized to the line cap"),
            R::InputEmpty => {
                // No terminator in a line: an empty input tells the parser the record ended.
                // Field ends are positions from the record's start, across both calls.
                let (result, _, _, more) = self.reader.read_record(
                    &[],
                    &mut self.output[written..],
                    &mut self.ends[ended..],
                );
                match result {
                    R::OutputEndsFull => return Err(SplitError::TooManyFields),
                    _ => ended + more,
                }
            }
        };
        self.count = ended;
        Ok(())
    }

    /// How many fields the last split line had.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the last split line had no fields.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Field `i` of the last split line, as bytes.
    pub fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.output[start..self.ends[i]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], cap: usize) -> Vec<(u64, Result<Vec<u8>, ()>)> {
        let mut r = LineReader::new(input, cap);
        let mut out = Vec::new();
        while let Some((n, line)) = r.next_line().unwrap() {
            out.push((
                n,
                match line {
                    Line::Content(c) => Ok(c.to_vec()),
                    Line::TooLong => Err(()),
                },
            ));
        }
        out
    }

    #[test]
    fn splits_lines_and_caps_length() {
        let got = lines(b"ab\r\ncd\n\nefghij\nk", 4);
        assert_eq!(
            got,
            vec![
                (1, Ok(b"ab".to_vec())),
                (2, Ok(b"cd".to_vec())),
                (3, Ok(Vec::new())),
                (4, Err(())),
                (5, Ok(b"k".to_vec())),
            ]
        );
        // Exactly the cap, with and without `\r\n`.
        assert_eq!(
            lines(b"abcd\r\nabcd\nabcde\r\n", 4),
            vec![
                (1, Ok(b"abcd".to_vec())),
                (2, Ok(b"abcd".to_vec())),
                (3, Err(()))
            ]
        );
        assert!(lines(b"", 4).is_empty());
    }

    #[test]
    fn a_huge_line_is_not_buffered() {
        // 1 MiB line with a 16-byte cap, read through a tiny buffer.
        let mut input = vec![b'x'; 1 << 20];
        input.extend_from_slice(b"\nok\n");
        let mut r = LineReader::new(std::io::BufReader::with_capacity(64, &input[..]), 16);
        assert_eq!(r.next_line().unwrap(), Some((1, Line::TooLong)));
        assert!(r.buf.capacity() < 1024);
        assert_eq!(r.next_line().unwrap(), Some((2, Line::Content(&b"ok"[..]))));
        assert_eq!(r.next_line().unwrap(), None);
    }

    #[test]
    fn splits_fields_with_quotes() {
        let mut s = FieldSplitter::new(64, 3);
        s.split(br#"a,"b,c","d""e""#).unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s.field(0), b"a");
        assert_eq!(s.field(1), b"b,c");
        assert_eq!(s.field(2), br#"d"e"#);
        s.split(b"x,,").unwrap();
        assert_eq!((s.len(), s.field(1), s.field(2)), (3, &b""[..], &b""[..]));
        // One field too many is counted (the caller reports the count), more are refused.
        s.split(b"1,2,3,4").unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s.split(b"1,2,3,4,5"), Err(SplitError::TooManyFields));
        assert_eq!(s.split(b"1,2\r3"), Err(SplitError::StrayCarriageReturn));
        s.split(b"only").unwrap();
        assert_eq!((s.len(), s.field(0)), (1, &b"only"[..]));
    }
}
