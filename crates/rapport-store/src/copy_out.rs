//! Bulk reads on PostgreSQL: a query's rows through `COPY (query) TO STDOUT (FORMAT binary)`.
//!
//! A report's first run reads every account and a wave's 257,000 analytics cells at 100,000
//! accounts. As a query's result, each row arrives as a message that sqlx turns into a row
//! object whose columns are then looked up and type-checked one by one; that decoding, not the
//! server, was most of the read (BENCHMARKS.md, issue 3). COPY sends the same values in the
//! same binary encodings, which are read here straight from the bytes, field after field.
//!
//! The format (PostgreSQL's documentation, "COPY", binary format): an 11-byte signature, a
//! flags word and a header extension; then per row a 16-bit field count and per field a
//! 32-bit length (-1 for NULL) and the value's bytes; then a field count of -1. The server
//! sends the stream in chunks that need not end where a row ends.

use anyhow::{Context, anyhow};
use futures_util::TryStreamExt;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};

use crate::error::StoreError;

const SIGNATURE: &[u8] = b"PGCOPY\n\xff\r\n\0";

/// One row's fields in the order the query selects them.
pub(crate) struct Fields<'a> {
    buf: &'a [u8],
    /// Per field: where it starts in `buf` and its length, None for NULL.
    spans: &'a [(usize, Option<usize>)],
}

impl<'a> Fields<'a> {
    fn raw(&self, i: usize) -> Result<Option<&'a [u8]>, StoreError> {
        let &(start, len) = self.spans.get(i).ok_or_else(|| anyhow!("COPY row has no field {i}"))?;
        Ok(len.map(|len| &self.buf[start..start + len]))
    }

    /// A `bigint` field.
    pub(crate) fn int8(&self, i: usize) -> Result<Option<i64>, StoreError> {
        self.raw(i)?
            .map(|b| <[u8; 8]>::try_from(b).map(i64::from_be_bytes))
            .transpose()
            .map_err(|_| anyhow!("COPY field {i} is not an int8").into())
    }

    /// An `integer` field.
    pub(crate) fn int4(&self, i: usize) -> Result<Option<i32>, StoreError> {
        self.raw(i)?
            .map(|b| <[u8; 4]>::try_from(b).map(i32::from_be_bytes))
            .transpose()
            .map_err(|_| anyhow!("COPY field {i} is not an int4").into())
    }

    /// A `bigint` field that is never NULL.
    pub(crate) fn int8_not_null(&self, i: usize) -> Result<i64, StoreError> {
        self.int8(i)?.ok_or_else(|| anyhow!("COPY field {i} is NULL").into())
    }

    /// A `timestamptz` field that is never NULL: microseconds since 2000-01-01 UTC, as
    /// PostgreSQL sends it (with its default integer datetimes).
    pub(crate) fn timestamptz_not_null(&self, i: usize) -> Result<time::OffsetDateTime, StoreError> {
        let micros = self.int8_not_null(i).map_err(|_| anyhow!("COPY field {i} is not a timestamptz"))?;
        // 2000-01-01T00:00:00Z in microseconds since 1970.
        const EPOCH_2000: i128 = 946_684_800_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos((i128::from(micros) + EPOCH_2000) * 1000)
            .map_err(|e| anyhow!("COPY field {i} is a timestamptz out of range: {e}").into())
    }

    /// A `boolean` field.
    pub(crate) fn bool(&self, i: usize) -> Result<Option<bool>, StoreError> {
        match self.raw(i)? {
            None => Ok(None),
            Some([b]) => Ok(Some(*b != 0)),
            Some(_) => Err(anyhow!("COPY field {i} is not a boolean").into()),
        }
    }

    /// A `text` field.
    pub(crate) fn text(&self, i: usize) -> Result<Option<&'a str>, StoreError> {
        self.raw(i)?
            .map(std::str::from_utf8)
            .transpose()
            .map_err(|e| anyhow!("COPY field {i} is not UTF-8: {e}").into())
    }

    /// A `text` field that is never NULL.
    pub(crate) fn text_not_null(&self, i: usize) -> Result<&'a str, StoreError> {
        self.text(i)?.ok_or_else(|| anyhow!("COPY field {i} is NULL").into())
    }

    /// A `bytea` field that is never NULL.
    pub(crate) fn bytes_not_null(&self, i: usize) -> Result<&'a [u8], StoreError> {
        self.raw(i)?.ok_or_else(|| anyhow!("COPY field {i} is NULL").into())
    }
}

/// Runs `query` (a SELECT whose columns are of the types [`Fields`] reads) and hands each row
/// to `each`, in the order the server sends them.
pub(crate) async fn copy_rows(
    pool: &PgPool,
    query: &str,
    mut each: impl FnMut(&Fields<'_>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut conn = CopyConnection::acquire(pool).await?;
    let mut rows = conn.copy(query).await?;
    while rows.next_rows(&mut each).await? {}
    Ok(())
}

/// The connection a COPY runs on, closed instead of going back to the pool unless its stream
/// was read to the end. sqlx does not note the reply a COPY still owes: a connection whose
/// COPY stopped early (a row that could not be read, or a request that went away and dropped
/// the read) would answer its next query with that COPY's leftovers.
pub(crate) struct CopyConnection {
    conn: PoolConnection<Postgres>,
    done: bool,
}

impl CopyConnection {
    /// A connection of `pool` to run a COPY on.
    pub(crate) async fn acquire(pool: &PgPool) -> Result<CopyConnection, StoreError> {
        Ok(CopyConnection { conn: pool.acquire().await?, done: false })
    }

    /// Starts `query` (see [`copy_rows`]); its rows are read with [`CopyRows::next_rows`].
    pub(crate) async fn copy(&mut self, query: &str) -> Result<CopyRows<'_>, StoreError> {
        let statement = format!("COPY ({query}) TO STDOUT (FORMAT binary)");
        let stream = self.conn.copy_out_raw(&statement).await?;
        Ok(CopyRows {
            stream,
            done: &mut self.done,
            reader: Reader::default(),
            pending: Vec::new(),
            query: query.to_string(),
        })
    }
}

impl Drop for CopyConnection {
    fn drop(&mut self) {
        if !self.done {
            self.conn.close_on_drop();
        }
    }
}

/// A COPY being read, a chunk at a time: the caller may do other work (await a write)
/// between chunks, while the server waits.
pub(crate) struct CopyRows<'c> {
    stream: futures_util::stream::BoxStream<'c, sqlx::Result<bytes::Bytes>>,
    /// The connection's: set once the stream was read to its end.
    done: &'c mut bool,
    reader: Reader,
    /// Bytes of a row that a chunk cut short, kept until the next chunk completes it.
    pending: Vec<u8>,
    query: String,
}

impl CopyRows<'_> {
    /// Reads the next chunk the server sends and hands each whole row in it to `each`;
    /// false once the stream has ended (read to its trailer).
    pub(crate) async fn next_rows(
        &mut self,
        each: &mut impl FnMut(&Fields<'_>) -> Result<(), StoreError>,
    ) -> Result<bool, StoreError> {
        // A row that cannot be read names the query it came from.
        let query = &self.query;
        let naming = |err: StoreError| match err {
            StoreError::Other(e) => StoreError::Other(e.context(format!("reading `{query}` through COPY"))),
            other => other,
        };
        let Some(chunk) = self.stream.try_next().await? else {
            if !self.reader.ended || !self.pending.is_empty() {
                return Err(anyhow!("the COPY stream of `{query}` ended before its trailer").into());
            }
            *self.done = true;
            return Ok(false);
        };
        if self.pending.is_empty() {
            let used = self.reader.rows(&chunk, each).map_err(naming)?;
            self.pending.extend_from_slice(&chunk[used..]);
        } else {
            self.pending.extend_from_slice(&chunk);
            let used = self.reader.rows(&self.pending, each).map_err(naming)?;
            self.pending.drain(..used);
        }
        Ok(true)
    }
}

/// Where a stream is: before its header, among its rows, or past its trailer.
#[derive(Default)]
struct Reader {
    header_read: bool,
    ended: bool,
    /// The fields of the row being read (see [`Fields`]), kept to reuse their room.
    fields: Vec<(usize, Option<usize>)>,
}

impl Reader {
    /// Reads every whole row at the start of `buf`, handing each to `each`; returns how many
    /// bytes they took (the rest is the start of a row that a later chunk completes).
    fn rows(
        &mut self,
        buf: &[u8],
        each: &mut impl FnMut(&Fields<'_>) -> Result<(), StoreError>,
    ) -> Result<usize, StoreError> {
        let mut at = 0;
        if !self.header_read {
            match header_len(buf)? {
                Some(len) => at = len,
                None => return Ok(0),
            }
            self.header_read = true;
        }
        loop {
            if self.ended {
                if at < buf.len() {
                    return Err(anyhow!("COPY stream has {} bytes after its trailer", buf.len() - at).into());
                }
                return Ok(at);
            }
            let Some(count) = buf.get(at..at + 2).map(|b| i16::from_be_bytes([b[0], b[1]])) else {
                return Ok(at);
            };
            if count == -1 {
                self.ended = true;
                at += 2;
                continue;
            }
            let count = usize::try_from(count).context("COPY row with a negative field count")?;
            // Each field as (start, length), or length None for NULL, until the row is whole.
            self.fields.clear();
            let mut next = at + 2;
            for _ in 0..count {
                let Some(len) = buf.get(next..next + 4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) else {
                    return Ok(at);
                };
                next += 4;
                if len == -1 {
                    self.fields.push((next, None));
                } else if len < 0 {
                    return Err(anyhow!("COPY field with the length {len}").into());
                } else {
                    let len = len as usize;
                    self.fields.push((next, Some(len)));
                    next += len;
                }
            }
            if next > buf.len() {
                return Ok(at);
            }
            each(&Fields { buf, spans: &self.fields })?;
            at = next;
        }
    }
}

/// The header's length when `buf` holds all of it, None when it is cut short.
fn header_len(buf: &[u8]) -> Result<Option<usize>, StoreError> {
    let fixed = SIGNATURE.len() + 8;
    if buf.len() < fixed {
        return Ok(None);
    }
    if &buf[..SIGNATURE.len()] != SIGNATURE {
        return Err(anyhow!("the COPY stream does not start with PostgreSQL's binary signature").into());
    }
    // Bits 16-31 of the flags are critical: a reader that does not know them must stop
    // (bit 16: every row carries its OID first).
    let flags = u32::from_be_bytes(buf[SIGNATURE.len()..SIGNATURE.len() + 4].try_into().expect("four bytes"));
    if flags & 0xFFFF_0000 != 0 {
        return Err(anyhow!("the COPY stream has flags {flags:#x} that this reader does not know").into());
    }
    let extension = u32::from_be_bytes(buf[fixed - 4..fixed].try_into().expect("four bytes")) as usize;
    Ok((buf.len() >= fixed + extension).then_some(fixed + extension))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of rows of (int8, text or NULL).
    fn stream(rows: &[(i64, Option<&str>)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0u32.to_be_bytes());
        out.extend_from_slice(&0u32.to_be_bytes());
        for (n, text) in rows {
            out.extend_from_slice(&2i16.to_be_bytes());
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&n.to_be_bytes());
            match text {
                Some(t) => {
                    out.extend_from_slice(&(t.len() as i32).to_be_bytes());
                    out.extend_from_slice(t.as_bytes());
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    /// Feeds `bytes` in chunks of `size` as the server may cut them, as `copy_rows` does.
    fn read_in_chunks(bytes: &[u8], size: usize) -> Result<Vec<(i64, Option<String>)>, StoreError> {
        let mut reader = Reader::default();
        let mut pending = Vec::new();
        let mut rows = Vec::new();
        let mut each = |f: &Fields<'_>| {
            rows.push((f.int8_not_null(0)?, f.text(1)?.map(str::to_string)));
            Ok(())
        };
        for chunk in bytes.chunks(size) {
            pending.extend_from_slice(chunk);
            let used = reader.rows(&pending, &mut each)?;
            pending.drain(..used);
        }
        assert!(reader.ended && pending.is_empty(), "the stream reads to its trailer");
        Ok(rows)
    }

    #[test]
    fn rows_read_the_same_however_the_stream_is_cut() {
        let rows = [(1, Some("Acme")), (-7, None), (i64::MAX, Some("Ünïcode 名前")), (0, Some(""))];
        let bytes = stream(&rows);
        let expected: Vec<(i64, Option<String>)> = rows.iter().map(|(n, t)| (*n, t.map(str::to_string))).collect();
        for size in [1, 2, 3, 5, 7, 19, 64, bytes.len()] {
            assert_eq!(read_in_chunks(&bytes, size).unwrap(), expected, "chunks of {size} bytes");
        }
    }

    /// Runs `test` against a pool of one connection to a PostgreSQL database of its own.
    fn with_one_connection(name: &str, test: impl AsyncFnOnce(PgPool) + std::panic::UnwindSafe) {
        rapport_test_utils::with_postgres(name, |url| {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                let pool = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
                test(pool).await;
            });
        });
    }

    #[test]
    fn a_copy_that_stops_early_leaves_no_connection_out_of_step() {
        // One connection, so each read below gets the one the COPY ran on.
        with_one_connection("the COPY reader's connection test", async |pool| {
            let answer = || sqlx::query_scalar::<_, i64>("SELECT 41::int8 + 1").fetch_one(&pool);
            let rows = "SELECT g::int8 FROM generate_series(1, 200000) g";
            // A row that cannot be read stops the read...
            let err = copy_rows(&pool, rows, |_| Err(anyhow!("stop here").into())).await.unwrap_err();
            assert!(format!("{err:#}").contains("stop here"), "{err:#}");
            assert_eq!(answer().await.unwrap(), 42);
            // ...and so does a caller that goes away in the middle (a request dropped). The
            // server pauses 10 ms every 100 rows (about 20 s in all), so the read waits for
            // rows, and notices that a thousand were read, well before the end.
            let many = "SELECT g::int8 FROM generate_series(1, 200000) g \
                            WHERE CASE WHEN g % 100 = 0 THEN pg_sleep(0.01) IS NOT NULL ELSE true END";
            let (mut read, enough) = (0, tokio::sync::Notify::new());
            let copy = copy_rows(&pool, many, |_| {
                read += 1;
                if read == 1000 {
                    enough.notify_one();
                }
                Ok(())
            });
            tokio::select! {
                _ = copy => panic!("every row was read before a thousand were noticed"),
                _ = enough.notified() => {}
            }
            assert!(read >= 1000, "the read stopped in the middle of the rows");
            assert_eq!(answer().await.unwrap(), 42);
            // A read to the end hands its connection back as good as before.
            let mut sum = 0;
            copy_rows(&pool, rows, |r| {
                sum += r.int8_not_null(0)?;
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(sum, 200_000 * 200_001 / 2);
            assert_eq!(answer().await.unwrap(), 42);
        });
    }

    #[test]
    fn times_read_through_copy_equal_those_a_query_reads() {
        with_one_connection("the COPY reader's time test", async |pool| {
            // Before, at and after PostgreSQL's epoch, with microseconds, and in another zone.
            let times = "SELECT t FROM (VALUES ('2026-08-01T09:00:00.123456Z'::timestamptz), \
                             ('1999-12-31T23:59:59.999999Z'), ('2000-01-01T00:00:00Z'), \
                             ('1970-01-01T00:00:00Z'), ('2026-11-24 12:00:00+05:30')) AS v (t)";
            let queried: Vec<time::OffsetDateTime> = sqlx::query_scalar(times).fetch_all(&pool).await.unwrap();
            let mut copied = Vec::new();
            copy_rows(&pool, times, |r| {
                copied.push(r.timestamptz_not_null(0)?);
                Ok(())
            })
            .await
            .unwrap();
            assert_eq!(copied, queried);
            assert_eq!(copied[2], time::macros::datetime!(2000-01-01 00:00 UTC));
        });
    }

    #[test]
    fn a_stream_that_is_not_binary_copy_is_refused() {
        let err = read_in_chunks(b"id,name\n1,Acme\n-------", 64).unwrap_err();
        assert!(err.to_string().contains("binary signature"), "{err}");
    }

    #[test]
    fn unknown_critical_flags_and_bad_lengths_are_refused() {
        // Bit 16: rows that carry their OIDs, which this reader would misread.
        let mut with_oids = stream(&[(1, Some("Acme"))]);
        with_oids[SIGNATURE.len()..SIGNATURE.len() + 4].copy_from_slice(&0x0001_0000u32.to_be_bytes());
        let err = read_in_chunks(&with_oids, 64).unwrap_err();
        assert!(err.to_string().contains("flags 0x10000"), "{err}");
        let mut bad_length = stream(&[(1, None)]);
        let null = bad_length.len() - 6;
        bad_length[null..null + 4].copy_from_slice(&(-2i32).to_be_bytes());
        let err = read_in_chunks(&bad_length, 64).unwrap_err();
        assert!(err.to_string().contains("length -2"), "{err}");
    }

    #[test]
    fn a_field_of_another_type_is_refused() {
        let mut bytes = stream(&[]);
        bytes.truncate(bytes.len() - 2);
        // One field of 4 bytes where an int8 is expected.
        bytes.extend_from_slice(&1i16.to_be_bytes());
        bytes.extend_from_slice(&4i32.to_be_bytes());
        bytes.extend_from_slice(&7i32.to_be_bytes());
        bytes.extend_from_slice(&(-1i16).to_be_bytes());
        let mut reader = Reader::default();
        let err = reader.rows(&bytes, &mut |f: &Fields<'_>| f.int8(0).map(drop)).unwrap_err();
        assert!(err.to_string().contains("not an int8"), "{err}");
    }
}
