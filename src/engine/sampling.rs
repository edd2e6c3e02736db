//! The sampling evidence of one span (SPEC §2.14): how many traces the
//! span's trace stands for, when this span is the one that decides it.
//!
//! A span carries at most one deciding key, looked for in this order:
//! the `th` sub-key of TraceState's `ot` entry (OpenTelemetry), the
//! `SampleRate` attribute (Honeycomb/Refinery), the `sampler.type` =
//! `probabilistic` attribute with `sampler.param` (Jaeger SDKs). The first
//! key present decides; a present but unusable value gives weight 1 and
//! the rule [`rule::INVALID`], and the later keys are not tried.
//!
//! Two SQL functions read it while the spans are normalised, both
//! `(trace_state VARCHAR, attributes map-or-JSON)`:
//! - `om_sample_weight -> DOUBLE`: the weight, NULL when no key is present;
//! - `om_sample_rule -> TINYINT`: which rule decided ([`rule`]), NULL when
//!   none did.
//!
//! Which span of a trace decides (its one root, else its earliest span) is
//! chosen per trace in `queries/trace_stats.sql`. Each function reads the
//! attributes once per span; JSON text is parsed only when it mentions a
//! sampling key, so unsampled spans cost a substring search.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Float64Builder, Int8Builder};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::Result;
use datafusion::prelude::SessionContext;

use super::attrs::lookup_rows;
use super::udf::{Strs, array_fn};

/// The rules of SPEC §2.14, as `om_sample_rule` writes them.
pub mod rule {
    /// a key was present but its value is unusable (weight 1)
    pub const INVALID: i8 = 0;
    /// TraceState `ot=th:…`
    pub const TRACESTATE: i8 = 1;
    /// the `SampleRate` attribute
    pub const SAMPLE_RATE: i8 = 2;
    /// Jaeger's `sampler.type` = `probabilistic` and `sampler.param`
    pub const JAEGER: i8 = 3;
}

/// The attribute keys the rules read, in rule order.
const KEYS: [&str; 3] = ["SampleRate", "sampler.type", "sampler.param"];

/// The place of `k` in [`KEYS`]. Every span's attributes pass through
/// here, so a key is told apart by its length before it is compared.
fn key_index(k: &str) -> Option<usize> {
    let p = match k.len() {
        10 => 0,
        12 => 1,
        13 => 2,
        _ => return None,
    };
    (k == KEYS[p]).then_some(p)
}

/// 2^56: the range of OpenTelemetry's rejection threshold.
const TH_RANGE: f64 = 72_057_594_037_927_936.0;

/// The `th` sub-key of TraceState's `ot` entry, if present.
fn th_value(trace_state: &str) -> Option<&str> {
    let ot = trace_state.split(',').find_map(|e| e.trim().strip_prefix("ot="))?;
    ot.split(';').find_map(|kv| kv.strip_prefix("th:"))
}

/// The weight of a `th` value: 1–14 hex digits, right-padded with `0` to
/// the 56-bit threshold T; w = 2^56 / (2^56 − T).
pub fn th_weight(th: &str) -> Option<f64> {
    if th.is_empty() || th.len() > 14 || !th.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let t = u64::from_str_radix(th, 16).ok()? << (4 * (14 - th.len()));
    Some(TH_RANGE / ((1u64 << 56) - t) as f64)
}

/// The deciding rule and weight of one span, or `None` when it carries no
/// sampling key. `attr` looks an attribute up (NULL and empty are absent).
pub fn decide<'a>(trace_state: Option<&str>, attr: impl Fn(&str) -> Option<&'a str>) -> Option<(i8, f64)> {
    if let Some(th) = trace_state.and_then(th_value) {
        return Some(match th_weight(th) {
            Some(w) => (rule::TRACESTATE, w),
            None => (rule::INVALID, 1.0),
        });
    }
    if let Some(rate) = attr(KEYS[0]) {
        return Some(match rate.trim().parse::<i64>() {
            Ok(n) if n >= 1 => (rule::SAMPLE_RATE, n as f64),
            _ => (rule::INVALID, 1.0),
        });
    }
    if attr(KEYS[1]).is_some_and(|t| t.trim() == "probabilistic") {
        let p = attr(KEYS[2]).and_then(|p| p.trim().parse::<f64>().ok());
        return Some(match p {
            Some(p) if p > 0.0 && p <= 1.0 => (rule::JAEGER, 1.0 / p),
            _ => (rule::INVALID, 1.0),
        });
    }
    None
}

/// Calls `each` with every row's decision: `args` = (TraceState text,
/// attributes as a map or JSON text; either may be all NULL).
fn decisions(args: &[ArrayRef], what: &str, mut each: impl FnMut(Option<(i8, f64)>)) -> Result<()> {
    let states = Strs::of(args[0].as_ref(), what).ok();
    let state = |i: usize| states.as_ref().and_then(|s| s.get(i)).filter(|s| !s.is_empty());
    // JSON text is parsed only when it can hold a key.
    let may_hold = |t: &str| t.contains("SampleRate") || t.contains("sampler");
    lookup_rows(&args[1], what, &KEYS, key_index, |_| true, may_hold, |i, found| {
        each(decide(state(i), |k| key_index(k).and_then(|p| found?[p])))
    })
}

fn weight_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Float64Builder::with_capacity(args[0].len());
    decisions(args, "om_sample_weight", |d| out.append_option(d.map(|(_, w)| w)))?;
    Ok(Arc::new(out.finish()))
}

fn rule_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = Int8Builder::with_capacity(args[0].len());
    decisions(args, "om_sample_rule", |d| out.append_option(d.map(|(r, _)| r)))?;
    Ok(Arc::new(out.finish()))
}

/// Registers the sampling functions on a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(array_fn("om_sample_weight", 2, DataType::Float64, weight_fn));
    ctx.register_udf(array_fn("om_sample_rule", 2, DataType::Int8, rule_fn));
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, MapBuilder, StringArray, StringBuilder};

    #[test]
    fn th_thresholds_give_the_specs_weights() {
        // SPEC §2.14's examples, padding, case, and the bounds.
        for (th, w) in [("0", 1.0), ("8", 2.0), ("c", 4.0), ("C", 4.0), ("e", 8.0), ("f", 16.0), ("80000000000000", 2.0), ("fc", 64.0)] {
            assert_eq!(th_weight(th), Some(w), "th:{th}");
        }
        for bad in ["", "g", "123456789abcdef", "-1", "0x8", " 8"] {
            assert_eq!(th_weight(bad), None, "th:{bad:?}");
        }
    }

    fn none(_: &str) -> Option<&'static str> {
        None
    }

    #[test]
    fn the_first_present_key_decides_and_a_bad_value_stops_the_search() {
        let attrs = |pairs: &'static [(&'static str, &'static str)]| move |k: &str| pairs.iter().find(|(a, _)| *a == k).map(|(_, v)| *v);
        assert_eq!(decide(Some("vnd=a1,ot=th:c;rv:9b8233f7e3a151"), none), Some((rule::TRACESTATE, 4.0)));
        assert_eq!(decide(Some("ot=rv:9b;th:8 , x=y"), none), Some((rule::TRACESTATE, 2.0)));
        // an `ot` entry without th is no key: the attributes decide
        assert_eq!(decide(Some("ot=rv:12"), attrs(&[("SampleRate", "10")])), Some((rule::SAMPLE_RATE, 10.0)));
        // a bad th decides (invalid) even when SampleRate is good
        assert_eq!(decide(Some("ot=th:zz"), attrs(&[("SampleRate", "10")])), Some((rule::INVALID, 1.0)));
        for bad in ["0", "-3", "2.5", "ten"] {
            let a: &'static [(&str, &str)] = Box::leak(Box::new([("SampleRate", bad), ("sampler.type", "probabilistic"), ("sampler.param", "0.5")]));
            assert_eq!(decide(None, attrs(a)), Some((rule::INVALID, 1.0)), "SampleRate {bad}");
        }
        assert_eq!(decide(None, attrs(&[("sampler.type", "probabilistic"), ("sampler.param", "0.25")])), Some((rule::JAEGER, 4.0)));
        assert_eq!(decide(None, attrs(&[("sampler.type", "probabilistic"), ("sampler.param", "1")])), Some((rule::JAEGER, 1.0)));
        for bad in ["0", "1.5", "x", "-0.1"] {
            let a: &'static [(&str, &str)] = Box::leak(Box::new([("sampler.type", "probabilistic"), ("sampler.param", bad)]));
            assert_eq!(decide(None, attrs(a)), Some((rule::INVALID, 1.0)), "sampler.param {bad}");
        }
        assert_eq!(decide(None, attrs(&[("sampler.type", "probabilistic")])), Some((rule::INVALID, 1.0)));
        // const and ratelimiting samplers keep every trace they keep
        assert_eq!(decide(None, attrs(&[("sampler.type", "const"), ("sampler.param", "1")])), None);
        assert_eq!(decide(None, attrs(&[("sampler.type", "ratelimiting"), ("sampler.param", "2")])), None);
        assert_eq!(decide(Some(""), none), None);
    }

    #[test]
    fn maps_and_json_text_are_read_alike() {
        let mut m = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        let rows: [&[(&str, &str)]; 4] =
            [&[("http.method", "GET"), ("SampleRate", "20")], &[("sampler.type", "probabilistic"), ("sampler.param", "0.1")], &[], &[("SampleRate", "")]];
        for r in rows {
            for (k, v) in r {
                m.keys().append_value(k);
                m.values().append_value(v);
            }
            m.append(true).unwrap();
        }
        let states: ArrayRef = Arc::new(StringArray::from(vec![None, None, Some("ot=th:e"), None]));
        let map: ArrayRef = Arc::new(m.finish());
        let w = weight_fn(&[states.clone(), map.clone()]).unwrap();
        let r = rule_fn(&[states.clone(), map]).unwrap();
        let ws: Vec<Option<f64>> = w.as_primitive::<datafusion::arrow::datatypes::Float64Type>().iter().collect();
        let rs: Vec<Option<i8>> = r.as_primitive::<datafusion::arrow::datatypes::Int8Type>().iter().collect();
        assert_eq!(ws, vec![Some(20.0), Some(10.0), Some(8.0), None]);
        assert_eq!(rs, vec![Some(rule::SAMPLE_RATE), Some(rule::JAEGER), Some(rule::TRACESTATE), None]);
        let json: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"{"SampleRate":20}"#),
            Some(r#"{"sampler":{"type":"probabilistic","param":0.1}}"#),
            Some(r#"{"http":{"method":"GET"}}"#),
            Some("{not json, sampler"),
        ]));
        let w = weight_fn(&[states, json]).unwrap();
        let ws: Vec<Option<f64>> = w.as_primitive::<datafusion::arrow::datatypes::Float64Type>().iter().collect();
        assert_eq!(ws, vec![Some(20.0), Some(10.0), Some(8.0), None]);
    }
}
