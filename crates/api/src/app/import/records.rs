//! Records of a CSV feed (RFC 4180, parsed by `csv-core`, the `csv` crate's parser) with a size
//! cap, each with the line it starts on.
//!
//! A quoted field may hold a line break, so a record can span lines; errors name the line the
//! record starts on. Memory stays bounded: a record longer than the cap is not buffered but
//! reported, and reading starts again at the next line break, so an unclosed quote spoils the
//! cap's worth of input instead of swallowing the rest of the file.

use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

/// What the reader found next.
#[derive(Debug, PartialEq, Eq)]
pub enum Record {
    /// A record's fields (see [`RecordReader::field`]).
    Fields,
    /// More fields than `max_fields`; the record was read to its end and dropped.
    TooManyFields,
    /// Longer than the cap; its content was discarded.
    TooLong,
}

/// Reads capped records from a buffered reader.
#[derive(Debug)]
pub struct RecordReader<R> {
    inner: R,
    parser: csv_core::Reader,
    output: Vec<u8>,
    ends: Vec<usize>,
    count: usize,
    /// Line breaks consumed so far.
    lines: u64,
    bytes_read: u64,
}

impl<R: BufRead> RecordReader<R> {
    /// Records longer than `max_record_bytes` come back as [`Record::TooLong`]; records with
    /// more than `max_fields` fields as [`Record::TooManyFields`].
    pub fn new(inner: R, max_record_bytes: usize, max_fields: usize) -> Self {
        Self {
            inner,
            parser: csv_core::Reader::new(),
            output: vec![0; max_record_bytes.max(1)],
            // One spare slot so "one field too many" is counted and reported as a count.
            ends: vec![0; max_fields + 1],
            count: 0,
            lines: 0,
            bytes_read: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// How many fields the last record had.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the last record had no fields.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Field `i` of the last record, as bytes.
    pub fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.output[start..self.ends[i]]
    }

    /// The next record and the line (from 1) it starts on, or `None` at the end of the input.
    /// Blank lines between records are skipped.
    pub fn next_record(&mut self) -> io::Result<Option<(u64, Record)>> {
        if !self.skip_line_breaks()? {
            return Ok(None);
        }
        let line = self.lines + 1;
        self.parser.reset();
        self.count = 0;
        let (mut written, mut ended) = (0, 0);
        loop {
            let input = fill(&mut self.inner)?;
            let (result, used, out, end) = self.parser.read_record(
                input,
                &mut self.output[written..],
                &mut self.ends[ended..],
            );
            self.consume(used);
            written += out;
            ended += end;
            match result {
                ReadRecordResult::InputEmpty => continue,
                ReadRecordResult::Record | ReadRecordResult::End => {
                    self.count = ended;
                    return Ok(Some((line, Record::Fields)));
                }
                ReadRecordResult::OutputEndsFull => {
                    self.skip_record()?;
                    return Ok(Some((line, Record::TooManyFields)));
                }
                ReadRecordResult::OutputFull => {
                    self.skip_line()?;
                    return Ok(Some((line, Record::TooLong)));
                }
            }
        }
    }

    /// Consumes the line breaks before a record; false at the end of the input.
    fn skip_line_breaks(&mut self) -> io::Result<bool> {
        loop {
            let input = fill(&mut self.inner)?;
            if input.is_empty() {
                return Ok(false);
            }
            let breaks = input
                .iter()
                .take_while(|b| **b == b'\n' || **b == b'\r')
                .count();
            if breaks < input.len() {
                self.consume(breaks);
                return Ok(true);
            }
            self.consume(breaks);
        }
    }

    /// Reads the rest of a record with too many fields, keeping none of it.
    fn skip_record(&mut self) -> io::Result<()> {
        loop {
            let input = fill(&mut self.inner)?;
            let (result, used, _, _) =
                self.parser
                    .read_record(input, &mut self.output, &mut self.ends);
            self.consume(used);
            match result {
                ReadRecordResult::Record | ReadRecordResult::End => return Ok(()),
                ReadRecordResult::OutputFull => return self.skip_line(),
                _ => {}
            }
        }
    }

    /// Skips to just past the next line break, where reading starts again.
    fn skip_line(&mut self) -> io::Result<()> {
        loop {
            let input = fill(&mut self.inner)?;
            if input.is_empty() {
                return Ok(());
            }
            match input.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.consume(i + 1);
                    return Ok(());
                }
                None => {
                    let all = input.len();
                    self.consume(all);
                }
            }
        }
    }

    fn consume(&mut self, used: usize) {
        if used == 0 {
            return;
        }
        if let Ok(buffer) = self.inner.fill_buf() {
            self.lines += buffer[..used].iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.inner.consume(used);
        self.bytes_read += used as u64;
    }
}

/// The reader's buffered input (empty at the end), retrying interrupted reads.
fn fill<R: BufRead>(inner: &mut R) -> io::Result<&[u8]> {
    loop {
        match inner.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    inner.fill_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record as (line, fields) or (line, what was wrong).
    fn records(input: &[u8], cap: usize, buffer: usize) -> Vec<(u64, Result<Vec<String>, Record>)> {
        let mut r = RecordReader::new(std::io::BufReader::with_capacity(buffer, input), cap, 3);
        let mut out = Vec::new();
        while let Some((line, record)) = r.next_record().unwrap() {
            out.push((
                line,
                match record {
                    Record::Fields => Ok((0..r.len())
                        .map(|i| String::from_utf8_lossy(r.field(i)).into_owned())
                        .collect()),
                    other => Err(other),
                },
            ));
        }
        out
    }

    fn fields(list: &[&str]) -> Result<Vec<String>, Record> {
        Ok(list.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn quoted_line_breaks_stay_in_their_record_and_lines_are_counted() {
        for buffer in [1, 3, 64] {
            let got = records(b"a,\"b\nstill b\",c\r\nd,e,f\n\n\"g\"\"h\",,\n", 64, buffer);
            assert_eq!(
                got,
                vec![
                    (1, fields(&["a", "b\nstill b", "c"])),
                    (3, fields(&["d", "e", "f"])),
                    (5, fields(&["g\"h", "", ""])),
                ],
                "buffer {buffer}"
            );
        }
        assert!(records(b"", 8, 8).is_empty());
        assert_eq!(records(b"x", 8, 8), vec![(1, fields(&["x"]))]);
    }

    #[test]
    fn too_many_fields_and_too_long_records_are_reported_and_skipped() {
        let got = records(b"1,2,3,4,5,6\nok\n", 64, 4);
        assert_eq!(
            got,
            vec![(1, Err(Record::TooManyFields)), (2, fields(&["ok"]))]
        );
        // One field too many is still counted, so the caller can say how many there were.
        assert_eq!(
            records(b"1,2,3,4\n", 64, 4),
            vec![(1, fields(&["1", "2", "3", "4"]))]
        );
        let got = records(b"abcdefghijklmnop\nok\n", 8, 4);
        assert_eq!(got, vec![(1, Err(Record::TooLong)), (2, fields(&["ok"]))]);
    }

    #[test]
    fn an_unclosed_quote_spoils_the_cap_not_the_rest_of_the_file() {
        let mut input = b"\"never closed,x\n".to_vec();
        for i in 0..50 {
            input.extend_from_slice(format!("row{i},b,c\n").as_bytes());
        }
        let got = records(&input, 64, 16);
        assert_eq!(got[0], (1, Err(Record::TooLong)));
        assert!(
            got.len() > 40,
            "reading starts again soon after: {}",
            got.len()
        );
        assert_eq!(got.last().unwrap(), &(51, fields(&["row49", "b", "c"])));
    }

    #[test]
    fn a_huge_record_is_not_buffered() {
        let mut input = vec![b'x'; 1 << 20];
        input.extend_from_slice(b"\nok\n");
        let mut r = RecordReader::new(std::io::BufReader::with_capacity(64, &input[..]), 16, 3);
        assert_eq!(r.next_record().unwrap(), Some((1, Record::TooLong)));
        assert_eq!(r.output.len(), 16);
        assert_eq!(r.next_record().unwrap(), Some((2, Record::Fields)));
        assert_eq!(r.field(0), b"ok");
        assert_eq!(r.next_record().unwrap(), None);
    }
}
