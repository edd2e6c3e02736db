//! The pipeline's own SQL functions. Every session (local, tests, and any
//! cluster executor) registers exactly these through [`register`].
//!
//! - `om_sketch(duration_ns BIGINT) -> BINARY`: aggregate into a [`Sketch`].
//! - `om_sketch_merge(sketch BINARY) -> BINARY`: merge sketches (daily → weekly).
//! - `om_quantile(sketch BINARY, q DOUBLE) -> DOUBLE`: quantile in ms.
//! - `om_id(id VARCHAR) -> BINARY` and `om_bin_id(id BINARY) -> BINARY`:
//!   canonical span/trace ids (SPEC §1.1 accepts hex strings or binary):
//!   hex decodes to bytes, binary stays, empty/all-zero ids become NULL
//!   (no parent), any other string keeps its bytes behind a 0xFF marker.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, Float64Array, Int64Array,
};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    Accumulator, ColumnarValue, Volatility, create_udaf, create_udf,
};
use datafusion::prelude::SessionContext;

use crate::sketch::Sketch;

/// Accumulates durations (`om_sketch`) or sketches (`om_sketch_merge`);
/// partial states are always sketches.
#[derive(Debug, Default)]
struct SketchAcc {
    sketch: Sketch,
    input_is_sketch: bool,
}

impl Accumulator for SketchAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if self.input_is_sketch {
            return merge_binary_into(&mut self.sketch, &values[0]);
        }
        let arr: &Int64Array = values[0].as_primitive::<Int64Type>();
        for v in arr.iter().flatten() {
            self.sketch.add(v);
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.sketch.to_bytes())))
    }
    fn size(&self) -> usize {
        // A fair proxy for the buckets held without walking them.
        std::mem::size_of::<Self>() + (self.sketch.count().min(4096) as usize) * 32
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        merge_binary_into(&mut self.sketch, &states[0])
    }
}

fn merge_binary_into(sketch: &mut Sketch, arr: &ArrayRef) -> Result<()> {
    let arr = arr.as_binary::<i32>();
    for bytes in arr.iter().flatten() {
        match Sketch::from_bytes(bytes) {
            Some(s) => sketch.merge(&s),
            None => return exec_err!("malformed latency sketch"),
        }
    }
    Ok(())
}

fn quantile_fn(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let sketches = arrays[0].as_binary::<i32>();
    let qs = arrays[1].as_primitive::<Float64Type>();
    let out: Float64Array = (0..sketches.len())
        .map(|i| {
            if sketches.is_null(i) || qs.is_null(i) {
                return None;
            }
            Sketch::from_bytes(sketches.value(i)).and_then(|s| s.quantile_ms(qs.value(i)))
        })
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

/// Canonical id bytes for a textual id.
pub fn canonical_id_from_str(s: &str) -> Option<Vec<u8>> {
    let t = s.trim();
    if t.is_empty() {
        return None;
    }
    let b = t.as_bytes();
    let is_hex = b.len() % 2 == 0 && b.iter().all(|c| c.is_ascii_hexdigit());
    let bytes = if is_hex {
        (0..b.len())
            .step_by(2)
            .map(|i| (hex_val(b[i]) << 4) | hex_val(b[i + 1]))
            .collect::<Vec<u8>>()
    } else {
        let mut v = Vec::with_capacity(b.len() + 1);
        v.push(0xFF);
        v.extend_from_slice(b);
        return Some(v);
    };
    canonical_id_from_bytes(&bytes)
}

/// Canonical id bytes for a binary id: empty or all-zero means "none".
pub fn canonical_id_from_bytes(b: &[u8]) -> Option<Vec<u8>> {
    if b.iter().all(|x| *x == 0) { None } else { Some(b.to_vec()) }
}

fn hex_val(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c - b'A' + 10,
    }
}

/// Appends the canonical id of a textual id; the common case (hex of at
/// most 64 bytes) decodes on the stack without allocating.
fn append_str_id(out: &mut BinaryBuilder, s: Option<&str>) {
    let Some(s) = s else { return out.append_null() };
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 128 && b.len() % 2 == 0 && b.iter().all(|c| c.is_ascii_hexdigit()) {
        let mut buf = [0u8; 64];
        let n = b.len() / 2;
        for i in 0..n {
            buf[i] = (hex_val(b[2 * i]) << 4) | hex_val(b[2 * i + 1]);
        }
        if buf[..n].iter().all(|x| *x == 0) { out.append_null() } else { out.append_value(&buf[..n]) }
    } else {
        out.append_option(canonical_id_from_str(s));
    }
}

fn id_fn(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let a = &arrays[0];
    let mut out = BinaryBuilder::with_capacity(a.len(), a.len() * 16);
    match a.data_type() {
        DataType::Utf8View => {
            for v in a.as_string_view().iter() {
                append_str_id(&mut out, v);
            }
        }
        DataType::Utf8 => {
            for v in a.as_string::<i32>().iter() {
                append_str_id(&mut out, v);
            }
        }
        DataType::LargeUtf8 => {
            for v in a.as_string::<i64>().iter() {
                append_str_id(&mut out, v);
            }
        }
        DataType::Binary => {
            for v in a.as_binary::<i32>().iter() {
                out.append_option(v.and_then(canonical_id_from_bytes));
            }
        }
        other => return exec_err!("om_id: unsupported id type {other}"),
    }
    let arr: BinaryArray = out.finish();
    Ok(ColumnarValue::Array(Arc::new(arr)))
}

/// `om_bucket(id BINARY, k BIGINT) -> BIGINT`: a stable bucket in 0..k for a
/// trace id (FNV-1a), so a trace's spans always land in the same bucket.
fn bucket_fn(args: &[ColumnarValue]) -> Result<ColumnarValue> {
    let arrays = ColumnarValue::values_to_arrays(args)?;
    let ids = arrays[0].as_binary::<i32>();
    let ks = arrays[1].as_primitive::<Int64Type>();
    let out: Int64Array = (0..ids.len())
        .map(|i| {
            let k = if ks.is_null(i) { 1 } else { ks.value(i).max(1) } as u64;
            let h = if ids.is_null(i) {
                0
            } else {
                crate::hash::fnv1a(ids.value(i))
            };
            Some((h % k) as i64)
        })
        .collect();
    Ok(ColumnarValue::Array(Arc::new(out)))
}

/// Registers the pipeline's functions on a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udaf(create_udaf(
        "om_sketch",
        vec![DataType::Int64],
        Arc::new(DataType::Binary),
        Volatility::Immutable,
        Arc::new(|_| Ok(Box::new(SketchAcc::default()))),
        Arc::new(vec![DataType::Binary]),
    ));
    ctx.register_udaf(create_udaf(
        "om_sketch_merge",
        vec![DataType::Binary],
        Arc::new(DataType::Binary),
        Volatility::Immutable,
        Arc::new(|_| Ok(Box::new(SketchAcc { input_is_sketch: true, ..Default::default() }))),
        Arc::new(vec![DataType::Binary]),
    ));
    ctx.register_udf(create_udf(
        "om_quantile",
        vec![DataType::Binary, DataType::Float64],
        DataType::Float64,
        Volatility::Immutable,
        Arc::new(quantile_fn),
    ));
    ctx.register_udf(create_udf(
        "om_bucket",
        vec![DataType::Binary, DataType::Int64],
        DataType::Int64,
        Volatility::Immutable,
        Arc::new(bucket_fn),
    ));
    ctx.register_udf(create_udf(
        "om_id",
        vec![DataType::Utf8View],
        DataType::Binary,
        Volatility::Immutable,
        Arc::new(id_fn),
    ));
    ctx.register_udf(create_udf(
        "om_bin_id",
        vec![DataType::Binary],
        DataType::Binary,
        Volatility::Immutable,
        Arc::new(id_fn),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_hex_binary_and_text_agree() {
        assert_eq!(canonical_id_from_str("0A0b"), Some(vec![0x0a, 0x0b]));
        assert_eq!(canonical_id_from_bytes(&[0x0a, 0x0b]), Some(vec![0x0a, 0x0b]));
        assert_eq!(canonical_id_from_str(""), None);
        assert_eq!(canonical_id_from_str("0000000000000000"), None);
        assert_eq!(canonical_id_from_str("root"), Some(b"\xffroot".to_vec()));
    }
}
