//! SPEC §2.2 "Links" on a hand-made window (2026-11-20..22): batch
//! consumers linked to their producers, links that resolve to nothing, a
//! pair linked both by propagation and by a link, a link into the previous
//! day and into the slack before the window. The answers are worked out in
//! the comments.

use super::common::*;

fn t(n: u8) -> &'static str {
    Box::leak(format!("cc0000000000000000000000000000{n:02x}").into_boxed_str())
}

fn id(n: u32) -> &'static str {
    Box::leak(format!("{n:016x}").into_boxed_str())
}

const KAFKA: (&str, &str) = ("messaging.system", "kafka");

fn producer(trace: u8, server: u32, span: u32, service: &'static str, start_ms: i64) -> [S; 2] {
    [
        span_(trace, server, 0, service, "Server", start_ms, 100),
        span_(trace, span, server, service, "Producer", start_ms + 10, 2).attr(KAFKA.0, KAFKA.1),
    ]
}

fn span_(trace: u8, span_id: u32, parent: u32, service: &'static str, kind: &'static str, start_ms: i64, dur_ms: i64) -> S {
    span(t(trace), id(span_id), if parent == 0 { "" } else { id(parent) }, service, kind, start_ms, dur_ms)
}

fn linked_spans() -> Vec<S> {
    let mut v = vec![];
    // L1: shop's producer p1 (T1); mailer's batch consumer (T2, its own
    // root) links to it: one async call shop → mailer of 30 ms; p1 does
    // not call kafka.
    v.extend(producer(1, 0x11, 0x12, "shop", 0));
    v.push(span_(2, 0x21, 0, "mailer", "Consumer", 1_000, 30).link(t(1), id(0x12)));
    // L2: a batch of three: orders' producers in T3..T5 (T4's is an
    // error), one billing consumer in T6 linking all three: 3 calls, 1
    // error, none to kafka.
    v.extend(producer(3, 0x31, 0x32, "orders", 2_000));
    v.extend(producer(4, 0x41, 0x42, "orders", 2_100));
    let last = v.len() - 1;
    v[last].status = "Error";
    v.extend(producer(5, 0x51, 0x52, "orders", 2_200));
    v.push(span_(6, 0x61, 0, "billing", "Consumer", 5_000, 50).link(t(3), id(0x32)).link(t(4), id(0x42)).link(t(5), id(0x52)));
    // L3, L4, L5: unresolved links: to an absent span, to a span that is
    // not a Producer (shop's Server span), to a Producer of the consumer's
    // own service (shop's p1, from a shop consumer). 3 unresolved.
    v.push(span_(7, 0x71, 0, "audit", "Consumer", 6_000, 5).link(t(99), id(0xdead)));
    v.push(span_(8, 0x81, 0, "audit", "Consumer", 6_100, 5).link(t(1), id(0x11)));
    v.push(span_(9, 0x91, 0, "shop", "Consumer", 6_200, 5).link(t(1), id(0x12)));
    // L10: a link on a span that is not a Consumer is not read: not a
    // call, not unresolved.
    v.push(span_(10, 0xa1, 0, "audit", "Server", 6_300, 5).link(t(1), id(0x12)));
    // L7: the same pair also by propagation: shop's p11 with mailer's
    // consumer as its child (10 ms) — one edge row with the links.
    v.extend(producer(11, 0xb1, 0xb2, "shop", 7_000));
    v.push(span_(11, 0xb3, 0xb2, "mailer", "Consumer", 7_100, 10));
    // L9: an erroring consumer linked to shop's p14: an error call.
    v.extend(producer(14, 0xe1, 0xe2, "shop", 8_000));
    v.push(span_(15, 0xf1, 0, "mailer", "Consumer", 8_500, 20).link(t(14), id(0xe2)).err());
    // L8: shop's producers nobody links to: p12 names kafka (1 call shop
    // → kafka), p13 names nothing (1 unresolved call).
    v.push(span_(16, 0x101, 0, "shop", "Server", 9_000, 10));
    v.push(span_(16, 0x102, 0x101, "shop", "Producer", 9_001, 1).attr(KAFKA.0, KAFKA.1));
    v.push(span_(16, 0x103, 0x101, "shop", "Producer", 9_002, 1));
    // L6: into the previous day: events' producer at 23:50 on the 20th,
    // archive's consumer at 01:00 on the 21st.
    v.extend(producer(17, 0x111, 0x112, "events", 85_800_000));
    v.push(span_(18, 0x121, 0, "archive", "Consumer", 86_400_000 + 3_600_000, 40).link(t(17), id(0x112)));
    // L11: into the slack before the window: ledger's producer at 23:55
    // on the 19th (a trace of no day of the window), report's consumer at
    // 00:05 on the 20th.
    v.extend(producer(19, 0x131, 0x132, "ledger", -300_000));
    v.push(span_(20, 0x141, 0, "report", "Consumer", 300_000, 15).link(t(19), id(0x132)));
    v
}

fn run_linked(form: LinkForm) -> ownermap::run_result::RunResult {
    let dir = tmp();
    let (day0, day1): (Vec<S>, Vec<S>) = linked_spans().into_iter().partition(|s| s.start < DAY0 + DAY);
    write_spans_links(&spans_path(dir.path(), "date=2026-11-20/part-0.parquet"), &day0, form);
    write_spans_links(&spans_path(dir.path(), "date=2026-11-21/part-0.parquet"), &day1, form);
    run(&config(dir.path(), ""))
}

/// (callee_type, kind, calls, errors) of the edge caller → callee.
fn edge(r: &ownermap::run_result::RunResult, caller: &str, callee: &str) -> (String, String, String, String) {
    let e = one(r, "edges", &[("caller", caller), ("callee", callee)]);
    (e["callee_type"].clone(), e["kind"].clone(), e["calls"].clone(), e["errors"].clone())
}

fn s(x: &str) -> String {
    x.to_string()
}

fn check(r: &ownermap::run_result::RunResult) {
    // shop → mailer: the links from T2 and T15 and the propagated T11 pair.
    assert_eq!(edge(r, "shop", "mailer"), (s("service"), s("async"), s("3"), s("1")));
    let sm = one(r, "edges", &[("caller", "shop"), ("callee", "mailer")]);
    // latencies 30 (link), 10 (propagated), 20 (link): the median 20 ms
    assert!((19.8..=20.2).contains(&f(&sm, "p50_ms")), "{sm:?}");
    assert!((19.8..=20.2).contains(&f(&sm, "server_p50_ms")), "{sm:?}");
    assert_eq!(edge(r, "orders", "billing"), (s("service"), s("async"), s("3"), s("1")));
    assert_eq!(edge(r, "events", "archive"), (s("service"), s("async"), s("1"), s("0")));
    assert_eq!(edge(r, "ledger", "report"), (s("service"), s("async"), s("1"), s("0")));
    // only p12 calls the broker
    assert_eq!(edge(r, "shop", "kafka"), (s("messaging"), s("async"), s("1"), s("0")));
    let edges = rows(table(r, "edges"));
    assert_eq!(edges.len(), 5, "{edges:#?}");
    assert_eq!(r.summary.unresolved_links, 3);
    assert_eq!(r.summary.unresolved_calls, 1);
    // Links change no parentage: every consumer is an entry span, and a
    // linked one a root request.
    let mailer = one(r, "services", &[("service", "mailer")]);
    assert_eq!((mailer["requests"].as_str(), mailer["root_requests"].as_str()), ("3", "2"));
    assert_eq!(one(r, "services", &[("service", "billing")])["requests"], "1");
}

#[test]
fn links_are_async_calls_from_their_producers() {
    check(&run_linked(LinkForm::Nested));
}

#[test]
fn links_read_the_same_as_structs_and_as_json_text() {
    let nested = run_linked(LinkForm::Nested);
    for form in [LinkForm::Structs, LinkForm::Json] {
        let r = run_linked(form);
        check(&r);
        assert_eq!(rows(table(&r, "edges")), rows(table(&nested, "edges")), "{form:?}");
    }
}

#[test]
fn links_resolve_the_same_from_the_per_day_cache() {
    // The producer index and the links of each day are partials: a second
    // run takes every day from the cache and resolves the same links.
    let dir = tmp();
    let (day0, day1): (Vec<S>, Vec<S>) = linked_spans().into_iter().partition(|s| s.start < DAY0 + DAY);
    write_spans_links(&spans_path(dir.path(), "date=2026-11-20/part-0.parquet"), &day0, LinkForm::Nested);
    write_spans_links(&spans_path(dir.path(), "date=2026-11-21/part-0.parquet"), &day1, LinkForm::Nested);
    let cfg = config(dir.path(), "");
    let first = run(&cfg);
    let again = run(&cfg);
    assert_eq!(again.summary.days_computed, 0);
    check(&again);
    assert_eq!(rows(table(&first, "edges")), rows(table(&again, "edges")));
}
