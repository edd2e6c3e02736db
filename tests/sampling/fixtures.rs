//! SPEC §2.14 on a hand-made day: one trace per rule (and per way a rule
//! can fail), each in its own service so that the service's requests are
//! that trace's weight; the answers are worked out in the comments.

use super::common::*;

fn t(n: u8) -> &'static str {
    Box::leak(format!("bb0000000000000000000000000000{n:02x}").into_boxed_str())
}

fn id(n: u32) -> &'static str {
    Box::leak(format!("{n:016x}").into_boxed_str())
}

/// The rule fixtures, all on 2026-11-20 (one crosses into the 21st).
fn sampled_spans() -> Vec<S> {
    vec![
        // T1: th:c on the root → w = 4; its client's call to db counts 4.
        span(t(1), id(0x101), "", "api", "Server", 0, 100).state("vnd=x,ot=th:c;rv:9b8233f7e3a151"),
        span(t(1), id(0x102), id(0x101), "api", "Client", 10, 50),
        span(t(1), id(0x103), id(0x102), "db", "Server", 15, 40),
        // T2: SampleRate 10 on an erroring root → 10 requests, 10 errors.
        span(t(2), id(0x201), "", "pay", "Server", 0, 20).attr("SampleRate", "10").err(),
        // T3: Jaeger's probabilistic sampler at 0.5 → w = 2.
        span(t(3), id(0x301), "", "jgr", "Server", 0, 20).attr("sampler.type", "probabilistic").attr("sampler.param", "0.5"),
        // T4: no root (both parents absent): the earliest span decides,
        // th:8 → w = 2 (the later span's th:f is not read); 2 entry spans
        // of weight 2 → 4 requests.
        span(t(4), id(0x401), id(0xfff1), "batch", "Server", 100, 5).state("ot=th:8"),
        span(t(4), id(0x402), id(0xfff2), "batch", "Server", 200, 5).state("ot=th:f"),
        // T5: two roots: the earliest decides, and it has no key → w = 1
        // (the later root's th:c is not read) → 2 requests.
        span(t(5), id(0x501), "", "two", "Server", 100, 5),
        span(t(5), id(0x502), "", "two", "Server", 150, 5).state("ot=th:c"),
        // T6: an unusable th decides: w = 1, invalid; SampleRate is not tried.
        span(t(6), id(0x601), "", "bad", "Server", 0, 5).state("ot=th:xyz").attr("SampleRate", "10"),
        // T7: no key at all → w = 1.
        span(t(7), id(0x701), "", "plain", "Server", 0, 5),
        // T8: th:0 → w = 1, from the tracestate rule.
        span(t(8), id(0x801), "", "zero", "Server", 0, 5).state("ot=th:0"),
        // T9: p = 0.4 → w = 2.5: one request, written 3 (halves away from zero).
        span(t(9), id(0x901), "", "half", "Server", 0, 5).attr("sampler.type", "probabilistic").attr("sampler.param", "0.4"),
        // T10, T11: a weighted quantile: 10 ms of weight 1 and 100 ms of
        // weight 4 are 10, 100, 100, 100, 100: the median is 100 ms (it
        // would be 10 ms counted as kept).
        span(t(10), id(0xa01), "", "lat", "Server", 0, 10),
        span(t(11), id(0xb01), "", "lat", "Server", 0, 100).state("ot=th:c"),
        // T12: crosses midnight (a seam trace): the span after midnight
        // takes the trace's weight, th:e → 8.
        span(t(12), id(0xc01), "", "night", "Server", 86_399_000, 2_000).state("ot=th:e"),
        span(t(12), id(0xc02), id(0xc01), "nightdb", "Server", 86_400_500, 100),
    ]
}

fn run_sampled(spans_keys: &str) -> ownermap::run_result::RunResult {
    let dir = tmp();
    write_spans(&spans_path(dir.path(), "date=2026-11-20/part-0.parquet"), &sampled_spans(), Ids::Hex);
    run(&config_with(dir.path(), spans_keys, ""))
}

fn requests(r: &ownermap::run_result::RunResult, svc: &str) -> (String, String) {
    let row = one(r, "services", &[("service", svc)]);
    (row["requests"].clone(), row["observed_requests"].clone())
}

#[test]
fn each_rule_decides_the_weight_of_its_trace() {
    let r = run_sampled("");
    for (svc, want, observed) in [
        ("api", "4", "1"),
        ("db", "4", "1"),
        ("pay", "10", "1"),
        ("jgr", "2", "1"),
        ("batch", "4", "2"),
        ("two", "2", "2"),
        ("bad", "1", "1"),
        ("plain", "1", "1"),
        ("zero", "1", "1"),
        ("half", "3", "1"),
        ("lat", "5", "2"),
        ("night", "8", "1"),
        ("nightdb", "8", "1"),
    ] {
        assert_eq!(requests(&r, svc), (want.to_string(), observed.to_string()), "{svc}");
    }
    let pay = one(&r, "services", &[("service", "pay")]);
    assert_eq!((pay["errors"].as_str(), f(&pay, "error_rate")), ("10", 1.0));
    let edge = one(&r, "edges", &[("caller", "api"), ("callee", "db")]);
    assert_eq!((edge["calls"].as_str(), edge["observed_calls"].as_str()), ("4", "1"));
    // the weighted median, within the §2.3 contract of 100 ms
    let lat = one(&r, "services", &[("service", "lat")]);
    assert!((99.0..=101.0).contains(&f(&lat, "p50_ms")), "{lat:?}");
    assert_eq!(one(&r, "attribution", &[("signal_service", "pay")])["traces"], "10");
    // T1, T4, T8, T11, T12 by tracestate; T2; T3 and T9 by Jaeger; T6
    // invalid. Weighted: T1 T2 T3 T4 T9 T11 T12. Estimated: 4 + 10 + 2 + 2
    // + 1 + 1 + 1 + 1 + 2.5 + 1 + 4 + 8 = 37.5 → 38.
    let s = &r.summary.sampling;
    assert_eq!((s.by_source.tracestate, s.by_source.sample_rate, s.by_source.jaeger), (5, 1, 2));
    assert_eq!((s.invalid, s.weighted_traces, s.estimated_traces), (1, 7, 38));
    assert_eq!(r.summary.traces, 12);
}

#[test]
fn sampling_off_counts_every_trace_once() {
    let r = run_sampled("sampling = \"off\"");
    for svc in ["api", "pay", "batch", "half", "night", "nightdb"] {
        let (req, obs) = requests(&r, svc);
        assert_eq!(req, obs, "{svc}");
    }
    let s = &r.summary.sampling;
    assert_eq!((s.by_source.tracestate, s.invalid, s.weighted_traces, s.estimated_traces), (0, 0, 0, 12));
    let lat = one(&r, "services", &[("service", "lat")]);
    assert!((9.9..=10.1).contains(&f(&lat, "p50_ms")), "{lat:?}");
}

#[test]
fn a_day_of_sampled_and_unsampled_traces_merges_from_the_cache_unchanged() {
    // The same window twice on one state folder: the second run takes
    // every day from the per-day cache (weights, sketches of weights and
    // the sampling counts included) and gives the same tables.
    let dir = tmp();
    write_spans(&spans_path(dir.path(), "date=2026-11-20/part-0.parquet"), &sampled_spans(), Ids::Hex);
    let cfg = config(dir.path(), "");
    let first = run(&cfg);
    let again = run(&cfg);
    assert_eq!((first.summary.days_cached, again.summary.days_computed), (0, 0));
    assert!(again.summary.days_cached >= 2, "{}", again.summary.days_cached);
    assert_eq!(first.summary.sampling, again.summary.sampling);
    for ((name, a), (_, b)) in first.tables.iter().zip(again.tables.iter()) {
        assert_eq!(rows(a), rows(b), "table {name} from the cache");
    }
}
