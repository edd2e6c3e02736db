//! Hand-made fixtures, one per rule of SPEC §2.1–2.3, with answers worked
//! out by hand in the comments.

mod common;

#[path = "sampling/fixtures.rs"]
mod sampling_fixtures;

#[path = "links/fixtures.rs"]
mod links_fixtures;

use common::*;

const T1: &str = "aa000000000000000000000000000001";
const T2: &str = "aa000000000000000000000000000002";
const T3: &str = "aa000000000000000000000000000003";
const T4: &str = "aa000000000000000000000000000004";
const T5: &str = "aa000000000000000000000000000005";
const T6: &str = "aa000000000000000000000000000006";
const T7: &str = "aa000000000000000000000000000007";
const T8: &str = "aa000000000000000000000000000008";

/// One trace per rule, all on 2026-11-20.
fn rule_spans() -> Vec<S> {
    vec![
        // client→server pair: edge a→b, latency = client 50 ms, server 40 ms.
        span(T1, "0000000000000101", "", "a", "Server", 0, 100),
        span(T1, "0000000000000102", "0000000000000101", "a", "Client", 10, 50),
        span(T1, "0000000000000103", "0000000000000102", "b", "Server", 15, 40),
        // server directly under a server of another service: c→d, latency = child's 30 ms.
        span(T2, "0000000000000201", "", "c", "Server", 0, 80),
        span(T2, "0000000000000202", "0000000000000201", "d", "Server", 5, 30),
        // uninstrumented database, a broker, and an unresolved client.
        span(T3, "0000000000000301", "", "e", "Server", 0, 20),
        span(T3, "0000000000000302", "0000000000000301", "e", "Client", 1, 5)
            .attr("db.system", "postgresql")
            .attr("server.address", "pg.internal"),
        span(T3, "0000000000000303", "0000000000000301", "e", "Client", 7, 3),
        span(T3, "0000000000000304", "0000000000000301", "e", "Producer", 11, 2).attr("messaging.system", "kafka"),
        // producer→consumer: f→g async, latency = consumer's 7 ms.
        span(T4, "0000000000000401", "", "f", "Server", 0, 10),
        span(T4, "0000000000000402", "0000000000000401", "f", "Producer", 1, 2),
        span(T4, "0000000000000403", "0000000000000402", "g", "Consumer", 30, 7),
        // orphans: a server and an internal span whose parents are absent.
        span(T5, "0000000000000501", "ffffffffffff0501", "h", "Server", 0, 12),
        span(T5, "0000000000000502", "ffffffffffff0502", "h", "Internal", 1, 4),
        // error only on the client (i→j).
        span(T6, "0000000000000601", "", "i", "Server", 0, 30),
        span(T6, "0000000000000602", "0000000000000601", "i", "Client", 1, 20).err(),
        span(T6, "0000000000000603", "0000000000000602", "j", "Server", 2, 15),
        // error only on the server (k→l).
        span(T7, "0000000000000701", "", "k", "Server", 0, 30),
        span(T7, "0000000000000702", "0000000000000701", "k", "Client", 1, 20),
        span(T7, "0000000000000703", "0000000000000702", "l", "Server", 2, 15).err(),
        // a service calling itself, directly and through a virtual node of its own name.
        span(T8, "0000000000000801", "", "m", "Server", 0, 30),
        span(T8, "0000000000000802", "0000000000000801", "m", "Client", 1, 20),
        span(T8, "0000000000000803", "0000000000000802", "m", "Server", 2, 15),
        span(T8, "0000000000000804", "0000000000000801", "m", "Client", 25, 2).attr("peer.service", "m"),
    ]
}

fn run_rules(ids: Ids) -> ownermap::run_result::RunResult {
    let dir = tmp();
    write_spans(&spans_path(dir.path(), "date=2026-11-20/part-0.parquet"), &rule_spans(), ids);
    run(&config(dir.path(), ""))
}

#[test]
fn client_server_pair_makes_one_sync_edge_with_both_latencies() {
    let r = run_rules(Ids::Hex);
    let e = one(&r, "edges", &[("caller", "a"), ("callee", "b")]);
    assert_eq!(e["callee_type"], "service");
    assert_eq!(e["kind"], "sync");
    assert_eq!(e["calls"], "1");
    assert_eq!(e["errors"], "0");
    assert!((f(&e, "p50_ms") - 50.0).abs() < 0.5, "{e:?}");
    assert!((f(&e, "server_p50_ms") - 40.0).abs() < 0.4, "{e:?}");
    let a = one(&r, "services", &[("service", "a")]);
    assert_eq!((a["requests"].as_str(), a["root_requests"].as_str()), ("1", "1"));
    let b = one(&r, "services", &[("service", "b")]);
    assert_eq!((b["requests"].as_str(), b["root_requests"].as_str()), ("1", "0"));
    assert!((f(&b, "max_ms") - 40.0).abs() < 1e-9);
}

#[test]
fn server_under_server_uses_the_childs_duration() {
    let r = run_rules(Ids::Hex);
    let e = one(&r, "edges", &[("caller", "c"), ("callee", "d")]);
    assert_eq!(e["kind"], "sync");
    assert!((f(&e, "p50_ms") - 30.0).abs() < 0.3);
    assert!((f(&e, "server_p99_ms") - 30.0).abs() < 0.3);
}

#[test]
fn uninstrumented_callees_become_virtual_nodes_or_unresolved_calls() {
    let r = run_rules(Ids::Hex);
    let db = one(&r, "edges", &[("caller", "e"), ("callee", "postgresql")]);
    assert_eq!((db["callee_type"].as_str(), db["kind"].as_str()), ("database", "sync"));
    assert!((f(&db, "p50_ms") - 5.0).abs() < 0.05);
    assert_eq!(db["server_p50_ms"], "", "no server side for a virtual node");
    assert_eq!(db["callee_team"], "", "virtual node not in the catalog has no team");
    let mq = one(&r, "edges", &[("caller", "e"), ("callee", "kafka")]);
    assert_eq!((mq["callee_type"].as_str(), mq["kind"].as_str()), ("messaging", "async"));
    // e's bare client, and m's client whose only child is m's own server
    // span (no child in *another* service, no name attribute).
    assert_eq!(r.summary.unresolved_calls, 2);
    assert!(find(&r, "services", &[("service", "postgresql")]).is_empty(), "virtual nodes are not services");
}

#[test]
fn producer_consumer_is_one_direct_async_edge() {
    let r = run_rules(Ids::Hex);
    let e = one(&r, "edges", &[("caller", "f"), ("callee", "g")]);
    assert_eq!((e["callee_type"].as_str(), e["kind"].as_str()), ("service", "async"));
    assert!((f(&e, "p50_ms") - 7.0).abs() < 0.07);
    assert!(find(&r, "edges", &[("caller", "f"), ("callee", "kafka")]).is_empty());
    let g = one(&r, "services", &[("service", "g")]);
    assert_eq!(g["requests"], "1");
}

#[test]
fn orphan_spans_are_entry_spans_but_not_roots() {
    let r = run_rules(Ids::Hex);
    let h = one(&r, "services", &[("service", "h")]);
    assert_eq!((h["requests"].as_str(), h["root_requests"].as_str()), ("2", "0"));
    assert!(find(&r, "edges", &[("callee", "h")]).is_empty());
}

#[test]
fn client_or_server_error_makes_the_call_an_error() {
    let r = run_rules(Ids::Hex);
    let ij = one(&r, "edges", &[("caller", "i"), ("callee", "j")]);
    assert_eq!((ij["errors"].as_str(), ij["error_rate"].as_str()), ("1", "1.0"));
    let kl = one(&r, "edges", &[("caller", "k"), ("callee", "l")]);
    assert_eq!(kl["errors"], "1");
    // The erroring server span is an erroring request of l; i's own server span is fine.
    assert_eq!(one(&r, "services", &[("service", "l")])["errors"], "1");
    assert_eq!(one(&r, "services", &[("service", "i")])["errors"], "0");
}

#[test]
fn a_service_calling_itself_makes_no_edge() {
    let r = run_rules(Ids::Hex);
    assert!(find(&r, "edges", &[("caller", "m")]).is_empty());
    let m = one(&r, "services", &[("service", "m")]);
    assert_eq!((m["requests"].as_str(), m["root_requests"].as_str()), ("2", "1"));
    let ops = find(&r, "operations", &[("service", "m")]);
    assert_eq!(ops.len(), 1);
    assert_eq!(ops[0]["requests"], "2");
}

#[test]
fn binary_and_hex_ids_give_identical_tables() {
    let hex = run_rules(Ids::Hex);
    let bin = run_rules(Ids::Binary);
    for name in ["services", "operations", "edges", "service_daily"] {
        assert_eq!(rows(table(&hex, name)), rows(table(&bin, name)), "table {name}");
    }
    assert_eq!(hex.summary.unresolved_calls, bin.summary.unresolved_calls);
}

#[test]
fn every_kind_and_status_spelling_is_understood() {
    // The same client→server error trace in three spellings.
    let base = |kind_s: &'static str, kind_c: &'static str, err: &'static str| {
        let mut v = vec![
            span(T1, "0000000000000101", "", "a", kind_s, 0, 100),
            span(T1, "0000000000000102", "0000000000000101", "a", kind_c, 10, 50),
            span(T1, "0000000000000103", "0000000000000102", "b", kind_s, 15, 40),
        ];
        v[2].status = err;
        v
    };
    let mut results = vec![];
    for (ks, kc, e, ints) in [
        ("Server", "Client", "Error", false),
        ("SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "STATUS_CODE_ERROR", false),
        ("server", "client", "error", false),
        ("Server", "Client", "Error", true),
    ] {
        let dir = tmp();
        write_spans_styled(&spans_path(dir.path(), "x.parquet"), &base(ks, kc, e), Ids::Hex, ints);
        let r = run(&config(dir.path(), ""));
        let edge = one(&r, "edges", &[("caller", "a"), ("callee", "b")]);
        assert_eq!((edge["kind"].as_str(), edge["errors"].as_str()), ("sync", "1"), "spelling {ks}/{e} ints={ints}");
        assert!((f(&edge, "p50_ms") - 50.0).abs() < 0.5, "client latency for spelling {ks}");
        results.push(rows(table(&r, "edges")));
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn traces_belong_to_the_window_by_their_earliest_span() {
    let dir = tmp();
    let end_of_window = DAY0 + 3 * DAY;
    // n starts 100 ms before midnight on the window's last day; o runs after it.
    write_spans(
        &spans_path(dir.path(), "date=2026-11-22/p.parquet"),
        &[span(T1, "0000000000000101", "", "n", "Server", 0, 300).at_ns(end_of_window - 100 * MS)],
        Ids::Hex,
    );
    write_spans(
        &spans_path(dir.path(), "date=2026-11-23/p.parquet"),
        &[span(T1, "0000000000000102", "0000000000000101", "o", "Server", 0, 50).at_ns(end_of_window + 100 * MS)],
        Ids::Hex,
    );
    // p starts 5 minutes before the window: its trace is not in the window,
    // even though q, its child, runs inside it.
    write_spans(
        &spans_path(dir.path(), "date=2026-11-19/p.parquet"),
        &[span(T2, "0000000000000201", "", "p", "Server", 0, 400_000).at_ns(DAY0 - 300_000 * MS)],
        Ids::Hex,
    );
    write_spans(
        &spans_path(dir.path(), "date=2026-11-20/p.parquet"),
        &[
            span(T2, "0000000000000202", "0000000000000201", "q", "Server", 1_000, 50),
            span(T3, "0000000000000301", "", "r", "Server", 2_000, 10),
        ],
        Ids::Hex,
    );
    // A corrupt file in a partition far outside the window is never opened.
    let far = spans_path(dir.path(), "date=2026-11-01/p.parquet");
    std::fs::create_dir_all(far.parent().unwrap()).unwrap();
    std::fs::write(&far, b"not parquet").unwrap();

    let r = run(&config(dir.path(), ""));
    let services: Vec<String> = rows(table(&r, "services")).into_iter().map(|m| m["service"].clone()).collect();
    assert_eq!(services, vec!["n", "o", "r"]);
    let daily = rows(table(&r, "service_daily"));
    let n_o: Vec<(String, String)> =
        daily.iter().filter(|d| d["service"] != "r").map(|d| (d["service"].clone(), d["date"].clone())).collect();
    assert_eq!(n_o, vec![("n".into(), "2026-11-22".into()), ("o".into(), "2026-11-22".into())]);
    assert_eq!(one(&r, "edges", &[("caller", "n")])["callee"], "o");
    assert_eq!(r.summary.traces, 2);
    assert_eq!(r.summary.files_pruned, 1);
    assert!(r.summary.files_skipped.is_empty());
}

#[test]
fn duplicate_span_rows_are_counted_and_each_pair_counts() {
    let dir = tmp();
    let mut v = rule_spans()[..3].to_vec();
    v.push(v[2].clone()); // b's server span exported twice
    write_spans(&spans_path(dir.path(), "x.parquet"), &v, Ids::Hex);
    let r = run(&config(dir.path(), ""));
    assert_eq!(r.summary.duplicate_span_ids, 2);
    assert_eq!(one(&r, "edges", &[("caller", "a"), ("callee", "b")])["calls"], "2");
    assert_eq!(one(&r, "services", &[("service", "b")])["requests"], "2");
}
