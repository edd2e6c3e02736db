//! Generated organisation at scale, checked against the independent
//! reference implementation: exact counts, quantiles within the contract
//! (SPEC §2.3), including weekly figures merged from daily sketches.

mod common;

#[path = "sampling/copies.rs"]
mod sampling_copies;

use chrono::NaiveDate;
use common::reference::{self, meets_contract};
use common::*;
use ownermap::generate::{GenOptions, Layout, generate};

#[test]
fn generated_week_matches_the_reference_counts_and_quantile_contract() {
    let dir = tmp();
    let end = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    // ClickHouse export order: a trace's spans scattered through each day.
    let opt = GenOptions { out: dir.path().to_path_buf(), services: 24, days: 3, spans_per_day: 40_000, seed: 11, end, layout: Layout::Clickhouse, sampling: None, links: false };
    let rep = generate(&opt, |_, _| {}).unwrap();
    assert!(rep.spans >= 120_000);
    let cfg = ownermap::config::Config::load(&dir.path().join("ownermap.toml"), &Default::default()).unwrap();
    let r = run(&cfg);

    let spans = reference::read_dir(&dir.path().join("spans"));
    let w = cfg.window;
    let want = reference::compute(&spans, w.start_ns(), w.end_ns(), w.slack_ns());
    assert_eq!(r.summary.traces as usize, want.traces);
    assert_eq!(r.summary.unresolved_calls as u64, want.unresolved);

    // SPEC §2.9: the critical path agrees with the reference walk (counts
    // exact, ms and shares within 1e-6 relative), roots with ≥ 20 requests.
    let cp = rows(table(&r, "critical_path"));
    let mut want_rows = 0;
    for ((svc, op), (requests, root_ns, nodes)) in &want.critical {
        if *requests < 20 {
            assert!(!cp.iter().any(|x| x["root_service"] == *svc && x["root_operation"] == *op), "{svc} {op} has {requests} requests");
            continue;
        }
        for (node, (on_path, credit)) in nodes {
            want_rows += 1;
            let row = cp.iter().find(|x| x["root_service"] == *svc && x["root_operation"] == *op && x["node"] == *node);
            let row = row.unwrap_or_else(|| panic!("no critical_path row for {svc} {op} {node}"));
            assert_eq!((row["requests"].clone(), row["on_path"].clone()), (requests.to_string(), on_path.to_string()), "{svc} {op} {node}");
            let close = |got: f64, want: f64| (got - want).abs() <= 1e-6 * want.abs().max(1e-12);
            assert!(close(f(row, "mean_ms"), *credit as f64 / *requests as f64 / 1e6), "{row:?}");
            assert!(close(f(row, "share"), *credit as f64 / *root_ns as f64), "{row:?}");
        }
    }
    assert_eq!(cp.len(), want_rows);
    assert!(want_rows > 20, "the generated week has root entry points with ≥ 20 requests");

    let services = rows(table(&r, "services"));
    assert_eq!(services.len(), want.services.len());
    for row in &services {
        let mut exp = want.services[&row["service"]].clone();
        assert_eq!(row["requests"], exp.requests.to_string(), "requests of {}", row["service"]);
        assert_eq!(row["root_requests"], exp.roots.to_string());
        assert_eq!(row["errors"], exp.errors.to_string());
        if exp.requests > 0 {
            for (col, q) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p95_ms", 0.95), ("p99_ms", 0.99), ("p999_ms", 0.999)] {
                assert!(meets_contract(&mut exp.durations, q, f(row, col)), "{} {col} = {}", row["service"], row[col]);
            }
            let max = *exp.durations.iter().max().unwrap() as f64 / 1e6;
            assert!((f(row, "max_ms") - max).abs() < 1e-6);
        }
    }

    let ops = rows(table(&r, "operations"));
    assert_eq!(ops.len(), want.operations.len());
    for row in &ops {
        let mut exp = want.operations[&(row["service"].clone(), row["operation"].clone())].clone();
        assert_eq!(row["requests"], exp.requests.to_string());
        assert!(meets_contract(&mut exp.durations, 0.99, f(row, "p99_ms")));
    }

    let edges = rows(table(&r, "edges"));
    assert_eq!(edges.len(), want.edges.len(), "edge count");
    let mut kinds = std::collections::BTreeSet::new();
    for row in &edges {
        let key = (row["caller"].clone(), row["callee"].clone(), row["callee_type"].clone(), row["kind"].clone());
        let mut exp = want.edges.get(&key).unwrap_or_else(|| panic!("unexpected edge {key:?}")).clone();
        kinds.insert((row["callee_type"].clone(), row["kind"].clone()));
        assert_eq!(row["calls"], exp.calls.to_string(), "calls of {key:?}");
        assert_eq!(row["errors"], exp.errors.to_string(), "errors of {key:?}");
        for (col, q) in [("p50_ms", 0.5), ("p90_ms", 0.9), ("p99_ms", 0.99)] {
            assert!(meets_contract(&mut exp.latencies, q, f(row, col)), "{key:?} {col}");
        }
        if !exp.server.is_empty() {
            assert!(meets_contract(&mut exp.server, 0.99, f(row, "server_p99_ms")));
        }
    }
    // The generator exercises every edge shape.
    for k in [("service", "sync"), ("service", "async"), ("database", "sync"), ("external", "sync")] {
        assert!(kinds.contains(&(k.0.to_string(), k.1.to_string())), "no {k:?} edge generated");
    }
}

/// SPEC §5: under `engine.memory_limit` the operators (hash aggregates,
/// joins, sorts) draw from a FairSpillPool; a 300 k-span day (~100 MB in
/// memory) runs under 64 MB with the same tables as without a limit, and a
/// limit far too small is a clear error rather than an OOM kill.
#[test]
fn a_memory_limit_smaller_than_the_data_gives_the_same_tables_or_a_clear_error() {
    let dir = generated(30, 1, 300_000, 3);
    let load = |limit: Option<&str>| {
        let mut cfg = ownermap::config::Config::load(&dir.path().join("ownermap.toml"), &Default::default()).unwrap();
        cfg.engine.memory_limit = limit.map(|l| ownermap::config::parse_size(l).unwrap());
        cfg.full = true; // each run computes (none reads the other's cache)
        cfg
    };
    let free = run(&load(None));
    let tight = run(&load(Some("64m")));
    for (name, t) in &free.tables {
        assert_eq!(rows(t), rows(table(&tight, name)), "table {name} under 64m");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let err = rt.block_on(ownermap::pipeline::run_config(&load(Some("2m")))).err().expect("2m is too small");
    assert!(err.to_string().contains("engine.memory_limit"), "{err}");
}

/// Processing the window in buckets of hash(TraceId) gives exactly the
/// tables of a single pass (every partial merges by concatenation), across
/// days and for traces crossing midnight, with batch consumers linked to
/// producers in other traces (other buckets).
#[test]
fn trace_buckets_give_identical_tables() {
    let dir = generated_with(20, 2, 40_000, 5, true);
    let with = |k: usize| {
        let mut cfg = ownermap::config::Config::load(&dir.path().join("ownermap.toml"), &Default::default()).unwrap();
        cfg.engine.trace_buckets = Some(k);
        cfg.full = true; // compute every day, not the previous run's cache
        run(&cfg)
    };
    let one_pass = with(1);
    let bucketed = with(4);
    assert_eq!(bucketed.summary.trace_buckets, 4);
    for (name, t) in &one_pass.tables {
        assert_eq!(rows(t), rows(table(&bucketed, name)), "table {name}");
    }
    assert_eq!(one_pass.summary.traces, bucketed.summary.traces);
    assert_eq!(one_pass.summary.unresolved_calls, bucketed.summary.unresolved_calls);
    assert_eq!((one_pass.summary.unresolved_links, bucketed.summary.unresolved_links), (0, 0));
}

/// The same organisation in ClickHouse export order (sorted by service,
/// span name and time; zstd; 1 M-row files) and in trace order gives the
/// same tables, byte for byte.
#[test]
fn clickhouse_order_and_trace_order_give_identical_tables() {
    let end = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let run_layout = |layout: Layout| {
        let dir = tmp();
        let opt = GenOptions { out: dir.path().to_path_buf(), services: 16, days: 2, spans_per_day: 30_000, seed: 21, end, layout, sampling: None, links: false };
        generate(&opt, |_, _| {}).unwrap();
        let cfg = ownermap::config::Config::load(&dir.path().join("ownermap.toml"), &Default::default()).unwrap();
        (run(&cfg), dir)
    };
    let (ch, ch_dir) = run_layout(Layout::Clickhouse);
    let (tr, _tr_dir) = run_layout(Layout::Trace);
    // The ClickHouse files really are in export order.
    let day = ch_dir.path().join("spans/date=2026-11-21");
    let spans = ownermap::canonical::read_parquet(&std::fs::read_dir(&day).unwrap().flatten().next().unwrap().path()).unwrap();
    assert!(spans.windows(2).all(|w| (&w[0].service, &w[0].name, w[0].start_ns) <= (&w[1].service, &w[1].name, w[1].start_ns)));
    assert!(spans.windows(2).any(|w| w[0].trace_id != w[1].trace_id && spans.iter().filter(|s| s.trace_id == w[0].trace_id).count() > 1));
    assert_eq!(ch.summary.spans_in_window, tr.summary.spans_in_window);
    for (name, t) in &tr.tables {
        assert_eq!(rows(table(&ch, name)), rows(t), "table {name}");
    }
}

/// SPEC §2.2 "Links": the same organisation with every other service's
/// consumers receiving by link (a trace of their own, no parent, a link to
/// the producer) gives the edges of the organisation whose consumers are
/// the producers' children, byte for byte; each consumer is still a
/// request, and every linked one is now a root request.
#[test]
fn batch_consumers_with_links_give_the_propagated_edges() {
    let end = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let run_links = |links: bool| {
        let dir = tmp();
        let opt = GenOptions { out: dir.path().to_path_buf(), services: 16, days: 2, spans_per_day: 30_000, seed: 21, end, layout: Layout::Clickhouse, sampling: None, links };
        generate(&opt, |_, _| {}).unwrap();
        let cfg = ownermap::config::Config::load(&dir.path().join("ownermap.toml"), &Default::default()).unwrap();
        run(&cfg)
    };
    let (propagated, linked) = (run_links(false), run_links(true));
    assert_eq!(rows(table(&linked, "edges")), rows(table(&propagated, "edges")));
    assert_eq!(linked.summary.unresolved_links, 0);
    assert_eq!(linked.summary.unresolved_calls, propagated.summary.unresolved_calls);
    assert_eq!(linked.summary.spans_in_window, propagated.summary.spans_in_window);
    // More traces (each linked consumer starts one) and more root requests,
    // the same requests.
    assert!(linked.summary.traces > propagated.summary.traces + 100, "{} vs {}", linked.summary.traces, propagated.summary.traces);
    let sum = |r: &ownermap::run_result::RunResult, col: &str| rows(table(r, "services")).iter().map(|s| f(s, col)).sum::<f64>();
    assert_eq!(sum(&linked, "requests"), sum(&propagated, "requests"));
    assert!(sum(&linked, "root_requests") > sum(&propagated, "root_requests"));
    // Async service edges exist, and some of their calls came by link.
    let async_edges = rows(table(&linked, "edges")).into_iter().filter(|e| e["kind"] == "async" && e["callee_type"] == "service").count();
    assert!(async_edges >= 2, "{async_edges}");
}
