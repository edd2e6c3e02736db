//! The pipeline's own SQL functions. Every session (local, tests, and any
//! cluster executor) registers exactly these through [`register`].
//!
//! - `om_sketch(duration_ns BIGINT, weight DOUBLE) -> BINARY`: aggregate
//!   into a [`Sketch`], each value counting `weight` times (SPEC §2.14).
//! - `om_weighted_median(value DOUBLE, weight DOUBLE) -> DOUBLE`: the exact
//!   median of the weighted values (SPEC §2.5 with §2.14).
//! - `om_sketch_merge(sketch BINARY) -> BINARY`: merge sketches (daily → weekly).
//! - `om_quantile(sketch BINARY, q DOUBLE) -> DOUBLE`: quantile in ms.
//! - `om_id(id VARCHAR) -> BINARY` and `om_bin_id(id BINARY) -> BINARY`:
//!   canonical span/trace ids (SPEC §1.1 accepts hex strings or binary):
//!   hex decodes to bytes, binary stays, empty/all-zero ids become NULL
//!   (no parent), any other string keeps its bytes behind a 0xFF marker.
//! - `om_kind(s VARCHAR) -> TINYINT`, `om_status(s VARCHAR) -> TINYINT`: a
//!   textual `SpanKind` (0–5) or `StatusCode` (0–2) in any spelling SPEC §1.1
//!   accepts; NULL or blank is 0; NULL means none of them (an unusable row).
//! - `om_blank(s VARCHAR) -> BOOLEAN`: NULL, empty or only whitespace.
//! - the attribute functions (`om_vnode`, `om_vtype`, `om_json_attr`,
//!   `om_json_bad`) live in [`super::attrs`], the sampling functions
//!   (`om_sample_weight`, `om_sample_rule`) in [`super::sampling`], the
//!   link functions (`om_links`, `om_link_key`) in [`super::links`]; all
//!   are registered here too.
//!
//! The span-normalising functions replace per-row string SQL (`upper`,
//! `trim`, `replace`, seven map lookups) that made up a third of the scan.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, BooleanArray, Float64Array, Int8Array, Int64Array,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    Accumulator, ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, create_udaf,
    create_udf,
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
        let weights = values[1].as_primitive::<Float64Type>();
        for (v, w) in arr.iter().zip(weights.iter()) {
            if let (Some(v), Some(w)) = (v, w) {
                self.sketch.add_weighted(v, w);
            }
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Binary(Some(self.sketch.to_bytes())))
    }
    fn size(&self) -> usize {
        // A fair proxy for the buckets held without walking them.
        std::mem::size_of::<Self>() + self.sketch.buckets() * 32
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.evaluate()?])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        merge_binary_into(&mut self.sketch, &states[0])
    }
}

/// `om_weighted_median(value DOUBLE, weight DOUBLE)`: the median of the
/// values, each standing for `weight` copies (SPEC §2.14), as
/// [`crate::sketch::weighted_quantile_cont`] computes it; exact, so it
/// keeps every pair (used per SLO edge over the requests that call it).
#[derive(Debug, Default)]
struct WeightedMedianAcc {
    pairs: Vec<(f64, f64)>,
}

impl WeightedMedianAcc {
    fn take(&mut self, values: &ArrayRef, weights: &ArrayRef) {
        let (v, w) = (values.as_primitive::<Float64Type>(), weights.as_primitive::<Float64Type>());
        // a value of no weight stands for nothing
        self.pairs.extend(v.iter().zip(w.iter()).filter_map(|(v, w)| Some((v?, w?))).filter(|&(v, w)| w > 0.0 && !v.is_nan()));
    }
}

impl Accumulator for WeightedMedianAcc {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.take(&values[0], &values[1]);
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Float64(crate::sketch::weighted_quantile_cont(&mut self.pairs, 0.5)))
    }
    fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.pairs.capacity() * 16
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        use datafusion::common::utils::SingleRowListArrayBuilder;
        let (v, w): (Vec<f64>, Vec<f64>) = self.pairs.iter().copied().unzip();
        let list = |x: Vec<f64>| SingleRowListArrayBuilder::new(Arc::new(Float64Array::from(x))).build_list_scalar();
        Ok(vec![list(v), list(w)])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let (vs, ws) = (states[0].as_list::<i32>(), states[1].as_list::<i32>());
        for k in 0..vs.len() {
            if vs.is_valid(k) && ws.is_valid(k) {
                self.take(&vs.value(k), &ws.value(k));
            }
        }
        Ok(())
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
    HEX[c as usize]
}

/// Each byte's hex value; 0xFF for a byte that is not a hex digit.
static HEX: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// Appends the canonical id of a textual id. The common case (hex of at
/// most 64 bytes) decodes on the stack through a table, without a branch
/// per digit (a branch on digit-or-letter mispredicts on random ids: that
/// made this 8 × slower); anything else goes to [`canonical_id_from_str`].
fn append_str_id(out: &mut BinaryBuilder, s: Option<&str>) {
    let Some(s) = s else { return out.append_null() };
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 128 && b.len() % 2 == 0 {
        let mut buf = [0u8; 64];
        let n = b.len() / 2;
        let (mut bad, mut any) = (0u8, 0u8);
        for i in 0..n {
            let (h, l) = (HEX[b[2 * i] as usize], HEX[b[2 * i + 1] as usize]);
            bad |= h | l;
            buf[i] = (h << 4) | (l & 0x0F);
            any |= buf[i];
        }
        if bad & 0xF0 == 0 {
            return if any == 0 { out.append_null() } else { out.append_value(&buf[..n]) };
        }
    }
    out.append_option(canonical_id_from_str(s));
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

/// Strings of any of Arrow's string types, read by index.
pub(super) enum Strs<'a> {
    Utf8(&'a datafusion::arrow::array::StringArray),
    Large(&'a datafusion::arrow::array::LargeStringArray),
    View(&'a datafusion::arrow::array::StringViewArray),
}

impl<'a> Strs<'a> {
    pub(super) fn of(a: &'a dyn Array, what: &str) -> Result<Self> {
        Ok(match a.data_type() {
            DataType::Utf8 => Strs::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Strs::Large(a.as_string::<i64>()),
            DataType::Utf8View => Strs::View(a.as_string_view()),
            other => return exec_err!("{what}: expected strings, got {other}"),
        })
    }
    pub(super) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Utf8(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::Large(a) => (!a.is_null(i)).then(|| a.value(i)),
            Strs::View(a) => (!a.is_null(i)).then(|| a.value(i)),
        }
    }
}

/// A textual enum value as SPEC §1.1 spells it: trimmed, any case, with
/// or without `prefix`; returns the code of the word at `words[code]` or of
/// a digit up to `words.len() - 1`; `Some(0)` for blank, `None` for
/// anything else.
fn spelled(s: &str, prefix: &str, words: &[&str]) -> Option<i8> {
    let t = s.trim();
    if t.is_empty() {
        return Some(0);
    }
    let t = match t.get(..prefix.len()) {
        Some(p) if p.eq_ignore_ascii_case(prefix) => &t[prefix.len()..],
        _ => t,
    };
    if t.len() == 1 && t.as_bytes()[0].is_ascii_digit() {
        let d = (t.as_bytes()[0] - b'0') as usize;
        return (d < words.len()).then_some(d as i8);
    }
    words.iter().position(|w| w.eq_ignore_ascii_case(t)).map(|p| p as i8)
}

const KINDS: [&str; 6] = ["UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"];
const STATUSES: [&str; 3] = ["UNSET", "OK", "ERROR"];

fn spelled_fn(args: &[ArrayRef], prefix: &str, words: &[&str], what: &str) -> Result<ArrayRef> {
    let a = Strs::of(args[0].as_ref(), what)?;
    // Exports sorted by service and operation repeat a value row after
    // row: the last answer is kept.
    let mut last: Option<(&str, Option<i8>)> = None;
    let out: Int8Array = (0..args[0].len())
        .map(|i| match (a.get(i), last) {
            (None, _) => Some(0),
            (Some(s), Some((l, v))) if l == s => v,
            (Some(s), _) => {
                let v = spelled(s, prefix, words);
                last = Some((s, v));
                v
            }
        })
        .collect();
    Ok(Arc::new(out))
}

fn blank_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let a = Strs::of(args[0].as_ref(), "om_blank")?;
    let out: BooleanArray = (0..args[0].len()).map(|i| Some(a.get(i).is_none_or(|s| s.trim().is_empty()))).collect();
    Ok(Arc::new(out))
}

/// A scalar function over arrays with a fixed return type and any argument
/// types (each function checks its own). Its name identifies it.
#[derive(Debug)]
struct ArrayFn {
    name: &'static str,
    signature: Signature,
    ret: DataType,
    f: fn(&[ArrayRef]) -> Result<ArrayRef>,
}

impl PartialEq for ArrayFn {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name
    }
}
impl Eq for ArrayFn {}
impl std::hash::Hash for ArrayFn {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.name.hash(h)
    }
}

impl ScalarUDFImpl for ArrayFn {
    fn name(&self) -> &str {
        self.name
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(self.ret.clone())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        Ok(ColumnarValue::Array((self.f)(&arrays)?))
    }
}

pub(super) fn array_fn(name: &'static str, args: usize, ret: DataType, f: fn(&[ArrayRef]) -> Result<ArrayRef>) -> ScalarUDF {
    ScalarUDF::new_from_impl(ArrayFn { name, signature: Signature::any(args, Volatility::Immutable), ret, f })
}

/// [`array_fn`] taking one or more arguments of any types.
pub(super) fn variadic_array_fn(name: &'static str, ret: DataType, f: fn(&[ArrayRef]) -> Result<ArrayRef>) -> ScalarUDF {
    ScalarUDF::new_from_impl(ArrayFn { name, signature: Signature::variadic_any(Volatility::Immutable), ret, f })
}

/// Registers the pipeline's functions on a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(array_fn("om_kind", 1, DataType::Int8, |a| spelled_fn(a, "SPAN_KIND_", &KINDS, "om_kind")));
    ctx.register_udf(array_fn("om_status", 1, DataType::Int8, |a| spelled_fn(a, "STATUS_CODE_", &STATUSES, "om_status")));
    ctx.register_udf(array_fn("om_blank", 1, DataType::Boolean, blank_fn));
    super::attrs::register(ctx);
    super::sampling::register(ctx);
    super::links::register(ctx);
    ctx.register_udaf(create_udaf(
        "om_weighted_median",
        vec![DataType::Float64, DataType::Float64],
        Arc::new(DataType::Float64),
        Volatility::Immutable,
        Arc::new(|_| Ok(Box::new(WeightedMedianAcc::default()))),
        Arc::new(vec![
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
        ]),
    ));
    ctx.register_udaf(create_udaf(
        "om_sketch",
        vec![DataType::Int64, DataType::Float64],
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
    use datafusion::arrow::datatypes::Int8Type;

    #[test]
    fn ids_hex_binary_and_text_agree() {
        assert_eq!(canonical_id_from_str("0A0b"), Some(vec![0x0a, 0x0b]));
        assert_eq!(canonical_id_from_bytes(&[0x0a, 0x0b]), Some(vec![0x0a, 0x0b]));
        assert_eq!(canonical_id_from_str(""), None);
        assert_eq!(canonical_id_from_str("0000000000000000"), None);
        assert_eq!(canonical_id_from_str("root"), Some(b"\xffroot".to_vec()));
    }

    #[test]
    fn the_table_decoder_agrees_with_the_reference_on_every_shape_of_id() {
        // Every shape the fast path sees or must hand on: mixed case, all
        // zero, odd length, a non-hex byte in either half of a pair, bytes
        // above ASCII, whitespace, 128 and 130 hex digits, NULL.
        let mut ids: Vec<Option<String>> = [
            "0A0b", "ffFF", "0000", "00000000000000000000000000000001", "abc", "0g", "g0", "zz", "é1", "1é",
            " 0a0b", "0a0b ", "", "  ", "root", "0x1f", "-1",
        ]
        .iter()
        .map(|s| Some(s.to_string()))
        .collect();
        ids.push(Some("a".repeat(128)));
        ids.push(Some("a".repeat(130)));
        ids.push(Some("0".repeat(128)));
        ids.push(None);
        // and pseudo-random hex ids of 16 and 32 digits, some with a
        // letter past `f` put in
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut s = format!("{x:016x}{:016x}", x.rotate_left(29));
            if i % 2 == 0 {
                s.truncate(16);
            }
            if i % 7 == 0 {
                s.replace_range(3..4, "G");
            }
            if i % 5 == 0 {
                s = s.to_uppercase();
            }
            ids.push(Some(s));
        }
        let input = datafusion::arrow::array::StringViewArray::from(ids.iter().map(|s| s.as_deref()).collect::<Vec<_>>());
        let ColumnarValue::Array(out) = id_fn(&[ColumnarValue::Array(Arc::new(input))]).unwrap() else { panic!() };
        let out = out.as_binary::<i32>();
        for (i, id) in ids.iter().enumerate() {
            let want = id.as_deref().and_then(canonical_id_from_str);
            assert_eq!(out.is_valid(i).then(|| out.value(i).to_vec()), want, "{id:?}");
        }
        assert_eq!(canonical_id_from_str("ffFF"), Some(vec![0xff, 0xff]));
        assert_eq!(canonical_id_from_str("0g"), Some(b"\xff0g".to_vec()));
    }

    #[test]
    fn a_column_of_kinds_with_runs_nulls_and_bad_values() {
        let a: ArrayRef = Arc::new(datafusion::arrow::array::StringArray::from(vec![
            Some("SPAN_KIND_SERVER"), Some("SPAN_KIND_SERVER"), None, Some("client"), Some("client"), Some("bogus"),
            Some("bogus"), Some(""), Some("SPAN_KIND_SERVER"), None,
        ]));
        let out = spelled_fn(&[a], "SPAN_KIND_", &KINDS, "om_kind").unwrap();
        let out: Vec<Option<i8>> = out.as_primitive::<Int8Type>().iter().collect();
        assert_eq!(out, [Some(2), Some(2), Some(0), Some(3), Some(3), None, None, Some(0), Some(2), Some(0)]);
    }

    #[test]
    fn kinds_and_statuses_in_every_accepted_spelling() {
        let k = |s: &str| spelled(s, "SPAN_KIND_", &KINDS);
        assert_eq!([k("Server"), k(" span_kind_client "), k("SPAN_KIND_PRODUCER"), k("5"), k(""), k("  ")], [
            Some(2),
            Some(3),
            Some(4),
            Some(5),
            Some(0),
            Some(0)
        ]);
        assert_eq!([k("6"), k("serverx"), k("SPAN_KIND_"), k("-1")], [None; 4]);
        let st = |s: &str| spelled(s, "STATUS_CODE_", &STATUSES);
        assert_eq!([st("Error"), st("STATUS_CODE_OK"), st("unset"), st("2"), st("3"), st("fail")], [
            Some(2),
            Some(1),
            Some(0),
            Some(2),
            None,
            None
        ]);
    }
}
