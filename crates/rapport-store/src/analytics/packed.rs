//! A cell's driver sums, packed into one column of its row (`wave_account_stats.drivers`).
//!
//! A survey rates a handful of drivers, so a cell used to be one loyalty row plus one row per
//! driver in a second table: at 100,000 accounts, 1.5M driver rows a wave. Reports read every
//! row of a wave, and the cost is per row, not per byte (BENCHMARKS.md, issue 3): reading a
//! wave's driver rows alone was most of the first key driver analysis after a start, and
//! writing them (each with two foreign keys on PostgreSQL) most of a rebuild. Packed, a cell is
//! one row, read and written once.
//!
//! The format is postcard's (a stable, documented wire format): the number of drivers, then
//! per driver in key order its key (length, then UTF-8) and its six sums (n, Σx, Σx², Σxy, Σy,
//! Σy²), every number a variable-length integer, so a cell of six drivers takes about 100
//! bytes. A cell without drivers is the single byte 0, the column's default.

use std::collections::BTreeMap;

use rapport_core::stats::DriverSums;

use crate::error::StoreError;

/// The stored form of `drivers`.
pub(crate) fn pack(drivers: &BTreeMap<String, DriverSums>) -> Vec<u8> {
    let mut out = Vec::new();
    pack_sorted(drivers.len(), drivers.iter().map(|(k, d)| (k.as_str(), d)), &mut out);
    out
}

/// Appends to `out` the stored form of `count` drivers given in key order, each key once: the
/// same bytes as [`pack`] of a map holding them, without building the map (a rebuild packs
/// 1M cells).
pub(crate) fn pack_sorted<'a>(
    count: usize,
    drivers: impl Iterator<Item = (&'a str, &'a DriverSums)>,
    out: &mut Vec<u8>,
) {
    // postcard writes a map as its length, then each key and value, with nothing between.
    // Encoding into memory fails only on a value the format cannot express: none here.
    let mut bytes = postcard::to_extend(&count, std::mem::take(out)).expect("a count always encodes");
    let mut written = 0;
    for pair in drivers {
        bytes = postcard::to_extend(&pair, bytes).expect("driver sums always encode");
        written += 1;
    }
    debug_assert_eq!(written, count, "the count of drivers packed");
    *out = bytes;
}

/// Calls `each` with every driver stored in `bytes`, in key order, without collecting them:
/// for summing a wave's 257,000 cells at 100,000 accounts without a list per cell.
pub(crate) fn for_each<'a>(
    bytes: &'a [u8],
    mut each: impl FnMut(usize, &'a str, DriverSums),
) -> Result<(), StoreError> {
    let (count, mut rest) = postcard::take_from_bytes::<usize>(bytes).map_err(unreadable)?;
    for i in 0..count {
        let ((key, sums), after) = postcard::take_from_bytes::<(&str, DriverSums)>(rest).map_err(unreadable)?;
        each(i, key, sums);
        rest = after;
    }
    Ok(())
}

fn unreadable(e: postcard::Error) -> StoreError {
    StoreError::Other(anyhow::anyhow!(
        "the packed driver sums of an analytics cell cannot be read ({e}): \
         run `rapport analytics rebuild` to recompute every cell from the answers"
    ))
}

/// The driver sums stored as `bytes`, owned.
pub(crate) fn unpack_owned(bytes: &[u8]) -> Result<BTreeMap<String, DriverSums>, StoreError> {
    let mut out = BTreeMap::new();
    for_each(bytes, |_, k, d| {
        out.insert(k.to_string(), d);
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(n: u64, x: u64, y: u64) -> DriverSums {
        DriverSums { n, sum_x: n * x, sum_xx: n * x * x, sum_xy: n * x * y, sum_y: n * y, sum_yy: n * y * y }
    }

    #[test]
    fn driver_sums_come_back_as_they_were_packed_in_key_order() {
        let mut drivers = BTreeMap::new();
        drivers.insert("support".to_string(), sums(2, 4, 9));
        drivers.insert("delivery".to_string(), sums(1, 5, 10));
        // Any key a CSV header can carry, and sums far beyond one byte.
        drivers.insert("on-time, \"as promised\" ✓".to_string(), sums(1_000_000, 5, 10));
        let packed = pack(&drivers);
        assert_eq!(packed, postcard::to_allocvec(&drivers).unwrap(), "the bytes of a map, as stored before");
        let mut each = Vec::new();
        for_each(&packed, |i, k, d| each.push((i, k, d))).unwrap();
        let keys: Vec<&str> = each.iter().map(|(_, k, _)| *k).collect();
        assert_eq!(keys, ["delivery", "on-time, \"as promised\" ✓", "support"]);
        assert_eq!(unpack_owned(&packed).unwrap(), drivers);
        let expected: Vec<_> = drivers.iter().enumerate().map(|(i, (k, d))| (i, k.as_str(), *d)).collect();
        assert_eq!(each, expected, "one at a time, the same drivers in the same order");
    }

    #[test]
    fn a_cell_without_drivers_is_the_single_byte_the_column_defaults_to() {
        assert_eq!(pack(&BTreeMap::new()), [0u8]);
        assert!(unpack_owned(&[0]).unwrap().is_empty());
    }

    #[test]
    fn six_drivers_of_one_answer_take_under_a_hundred_bytes() {
        let drivers: BTreeMap<String, DriverSums> = ["brand", "delivery", "product", "quality", "sales", "support"]
            .map(|k| (k.to_string(), sums(1, 4, 9)))
            .into();
        let packed = pack(&drivers);
        assert!(packed.len() < 100, "{} bytes", packed.len());
    }

    #[test]
    fn bytes_that_are_not_packed_sums_say_so_and_how_to_recover() {
        let err = for_each(&[3, 200], |_, _, _| {}).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("cannot be read") && message.contains("rapport analytics rebuild"), "{message}");
    }
}
