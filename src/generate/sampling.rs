//! Sampled organisations (`generate --sampling`, SPEC §2.14): which
//! generated traces are kept, and the evidence of their sampling
//! probability each kept trace carries, as the four conventions write it.
//!
//! - `head:P` — keep a trace with probability P; every span carries
//!   `TraceState` `ot=th:…` (OpenTelemetry's threshold for P);
//! - `tail:P` — keep every trace with an error span (`th:0`, weight 1) and
//!   the others with probability P, as a Collector tail-sampling policy
//!   that keeps errors does;
//! - `jaeger:P` — keep with probability P; the root span carries Jaeger's
//!   `sampler.type` = `probabilistic` and `sampler.param` = P;
//! - `sample-rate:N` — keep one trace in N; every span carries the
//!   `SampleRate` attribute N (Honeycomb/Refinery).
//!
//! Probabilities are rounded to OpenTelemetry's 56-bit thresholds, so P =
//! 1/2, 1/4, 1/8 … give whole weights (the tests compare those runs with
//! the kept traces copied w times).

use super::rng::Rng;
use super::traces::GenSpan;

/// A sampling policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Policy {
    Head(f64),
    Tail(f64),
    Jaeger(f64),
    SampleRate(u32),
}

impl std::str::FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Policy, String> {
        let (name, value) = s.split_once(':').ok_or_else(|| format!("{s:?}: expected head:P, tail:P, jaeger:P or sample-rate:N"))?;
        let p = || match value.parse::<f64>() {
            Ok(p) if p > 0.0 && p <= 1.0 => Ok(p),
            _ => Err(format!("{s:?}: the probability must be in (0, 1]")),
        };
        match name {
            "head" => Ok(Policy::Head(p()?)),
            "tail" => Ok(Policy::Tail(p()?)),
            "jaeger" => Ok(Policy::Jaeger(p()?)),
            "sample-rate" => match value.parse::<u32>() {
                Ok(n) if n >= 1 => Ok(Policy::SampleRate(n)),
                _ => Err(format!("{s:?}: the rate must be an integer >= 1")),
            },
            _ => Err(format!("{s:?}: expected head:P, tail:P, jaeger:P or sample-rate:N")),
        }
    }
}

/// OpenTelemetry's `th` for keeping with probability `p`: the rejection
/// threshold (1 − p)·2^56 in 14 hex digits, trailing zeros dropped (`0`
/// for p = 1).
pub fn threshold(p: f64) -> String {
    let t = ((1.0 - p) * (1u64 << 56) as f64).round() as u64;
    let t = t.min((1u64 << 56) - 1);
    let hex = format!("{t:014x}");
    let trimmed = hex.trim_end_matches('0');
    if trimmed.is_empty() { "0".to_string() } else { trimmed.to_string() }
}

impl Policy {
    /// Decides whether the trace `spans` is kept and, if so, writes its
    /// sampling evidence into its spans. Returns whether it is kept.
    pub fn apply(&self, spans: &mut [GenSpan], rng: &mut Rng) -> bool {
        let draw = rng.f64();
        match *self {
            Policy::Head(p) => {
                let state = format!("ot=th:{}", threshold(p));
                (draw < p).then(|| spans.iter_mut().for_each(|s| s.trace_state = state.clone())).is_some()
            }
            Policy::Tail(p) => {
                let errors = spans.iter().any(|s| s.status == 2);
                let state = format!("ot=th:{}", if errors { "0".to_string() } else { threshold(p) });
                (errors || draw < p).then(|| spans.iter_mut().for_each(|s| s.trace_state = state.clone())).is_some()
            }
            Policy::Jaeger(p) => (draw < p)
                .then(|| {
                    for s in spans.iter_mut().filter(|s| s.parent_id == 0) {
                        s.attrs.push(("sampler.type", "probabilistic".to_string()));
                        s.attrs.push(("sampler.param", p.to_string()));
                    }
                })
                .is_some(),
            Policy::SampleRate(n) => (draw < 1.0 / n as f64)
                .then(|| spans.iter_mut().for_each(|s| s.attrs.push(("SampleRate", n.to_string()))))
                .is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sampling::th_weight;

    #[test]
    fn thresholds_round_trip_to_the_weights() {
        for (p, th, w) in [(1.0, "0", 1.0), (0.5, "8", 2.0), (0.25, "c", 4.0), (0.125, "e", 8.0), (0.0625, "f", 16.0)] {
            assert_eq!(threshold(p), th);
            assert_eq!(th_weight(th), Some(w));
        }
        let w = th_weight(&threshold(0.1)).unwrap();
        assert!((w - 10.0).abs() < 1e-9, "{w}");
    }

    #[test]
    fn policies_parse_and_refuse_nonsense() {
        assert_eq!("head:0.25".parse::<Policy>(), Ok(Policy::Head(0.25)));
        assert_eq!("sample-rate:4".parse::<Policy>(), Ok(Policy::SampleRate(4)));
        for bad in ["head", "head:0", "tail:1.5", "sample-rate:0", "sample-rate:2.5", "reservoir:3"] {
            assert!(bad.parse::<Policy>().is_err(), "{bad}");
        }
    }
}
