//! Critical path (SPEC §2.9): for every root entry span, the time a request
//! waits on each service or virtual node, as Jaeger's trace view computes
//! it, made exact. Runs inside the per-trace stages of each unit (day or
//! seam, bucket by bucket): the unit's qualifying traces are read once
//! (`queries/critical_path_spans.sql`), walked in Rust, and reduced to two
//! small partial tables that merge exactly across days — `cp_roots_day`
//! (requests and summed root durations per root entry point) and
//! `cp_nodes_day` (per node: requests with a positive credit, summed
//! credits). The weekly `critical_path` table is their sum.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::{cast, concat_batches};
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::prelude::SessionContext;

use crate::engine::{self, Table};
use crate::error::Result;
use crate::queries;
use crate::table::{Rows, f, i, read, s};

/// One span as the walk sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Span<'a> {
    pub span_id: &'a [u8],
    pub parent_id: Option<&'a [u8]>,
    pub start: i64,
    pub end: i64,
    /// OpenTelemetry kind: 0 unspecified, 1 internal, 2 server, 3 client,
    /// 4 producer, 5 consumer
    pub kind: i64,
    /// where its credit goes: its service, or the virtual node it called
    pub node: &'a str,
}

const CONSUMER: i64 = 5;

/// The walk from `root` (an index into `spans`): credits per node (each
/// node once, summed), adding up to the root's duration.
pub fn walk<'a>(spans: &[Span<'a>], root: usize) -> BTreeMap<&'a str, i64> {
    let mut children: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (k, s) in spans.iter().enumerate() {
        if let Some(p) = s.parent_id {
            if s.kind != CONSUMER {
                children.entry(p).or_default().push(k);
            }
        }
    }
    let mut credits: BTreeMap<&str, i64> = BTreeMap::new();
    let mut credit = |k: usize, ns: i64| {
        if ns > 0 {
            *credits.entry(spans[k].node).or_default() += ns;
        }
    };
    // A frame: the span, its interval (cut), its kept children in walk
    // order with their cut intervals, the next child to look at, and t.
    struct Frame {
        span: usize,
        start: i64,
        kids: Vec<(usize, i64, i64)>,
        next: usize,
        t: i64,
    }
    // Each span is walked once (duplicate ids could otherwise loop).
    let mut seen = vec![false; spans.len()];
    let frame = |k: usize, start: i64, end: i64, seen: &mut Vec<bool>| -> Frame {
        seen[k] = true;
        let mut kids: Vec<(usize, i64, i64)> = children
            .get(spans[k].span_id)
            .map(|v| v.as_slice())
            .unwrap_or_default()
            .iter()
            .filter(|&&c| !seen[c] && c != k)
            // wholly outside the parent: dropped with its subtree
            .filter(|&&c| spans[c].end >= start && spans[c].start <= end)
            .map(|&c| (c, spans[c].start.max(start), spans[c].end.min(end)))
            .collect();
        kids.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(spans[a.0].span_id.cmp(spans[b.0].span_id)));
        Frame { span: k, start, kids, next: 0, t: end }
    };
    let r = &spans[root];
    let mut stack = vec![frame(root, r.start, r.end, &mut seen)];
    while let Some(top) = stack.last_mut() {
        let mut descend = None;
        while top.next < top.kids.len() {
            let (c, cs, ce) = top.kids[top.next];
            top.next += 1;
            if ce <= top.t && !seen[c] {
                credit(top.span, top.t - ce);
                top.t = cs;
                descend = Some((c, cs, ce));
                break;
            }
        }
        match descend {
            Some((c, cs, ce)) => {
                let f = frame(c, cs, ce, &mut seen);
                stack.push(f);
            }
            None => {
                let done = stack.pop().unwrap();
                credit(done.span, done.t - done.start);
            }
        }
    }
    credits
}

/// Per (day, root service, root operation): requests and summed root ns.
type Roots = BTreeMap<(i64, String, String), (i64, i64)>;
/// Per (day, root service, root operation, node): on_path and summed credits.
type Nodes = BTreeMap<(i64, String, String, String), (i64, i64)>;

fn bins(b: &RecordBatch, name: &str) -> Result<Arc<dyn Array>> {
    Ok(cast(b.column_by_name(name).ok_or_else(|| crate::error::Error::Other(format!("no column {name}")))?, &DataType::Binary)?)
}

fn ints(b: &RecordBatch, name: &str) -> Result<Arc<dyn Array>> {
    Ok(cast(b.column_by_name(name).ok_or_else(|| crate::error::Error::Other(format!("no column {name}")))?, &DataType::Int64)?)
}

fn strs(b: &RecordBatch, name: &str) -> Result<Arc<dyn Array>> {
    Ok(cast(b.column_by_name(name).ok_or_else(|| crate::error::Error::Other(format!("no column {name}")))?, &DataType::Utf8)?)
}

/// Walks every qualifying trace of the unit's `window_spans` and registers
/// the partials `cp_roots_day` and `cp_nodes_day`.
pub async fn daily(ctx: &SessionContext) -> Result<()> {
    let t = engine::query(ctx, queries::CRITICAL_PATH_SPANS).await?;
    let (mut roots, mut nodes) = (Roots::new(), Nodes::new());
    if !t.batches.is_empty() {
        let b = concat_batches(&t.schema, &t.batches)?;
        let (trace, span, parent) = (bins(&b, "trace_id")?, bins(&b, "span_id")?, bins(&b, "parent_id")?);
        let (trace, span, parent) = (trace.as_binary::<i32>(), span.as_binary::<i32>(), parent.as_binary::<i32>());
        let (start, dur, kind, day) = (ints(&b, "start_ns")?, ints(&b, "duration_ns")?, ints(&b, "kind")?, ints(&b, "day")?);
        let (start, dur, kind, day) =
            (start.as_primitive::<Int64Type>(), dur.as_primitive::<Int64Type>(), kind.as_primitive::<Int64Type>(), day.as_primitive::<Int64Type>());
        let (service, name, vnode) = (strs(&b, "service")?, strs(&b, "name")?, strs(&b, "vnode")?);
        let (service, name, vnode) = (service.as_string::<i32>(), name.as_string::<i32>(), vnode.as_string::<i32>());
        let mut by_trace: HashMap<&[u8], Vec<usize>> = HashMap::new();
        for r in 0..b.num_rows() {
            by_trace.entry(trace.value(r)).or_default().push(r);
        }
        for rows in by_trace.values() {
            let spans: Vec<Span> = rows
                .iter()
                .map(|&r| Span {
                    span_id: span.value(r),
                    parent_id: (!parent.is_null(r)).then(|| parent.value(r)),
                    start: start.value(r),
                    end: start.value(r).saturating_add(dur.value(r).max(0)),
                    kind: kind.value(r),
                    node: if vnode.is_null(r) { service.value(r) } else { vnode.value(r) },
                })
                .collect();
            for (k, &r) in rows.iter().enumerate() {
                if !parent.is_null(r) || !matches!(kind.value(r), 0..=2) || dur.value(r) <= 0 {
                    continue;
                }
                let key = (day.value(r), service.value(r).to_string(), name.value(r).to_string());
                let e = roots.entry(key.clone()).or_default();
                e.0 += 1;
                e.1 += dur.value(r);
                for (node, ns) in walk(&spans, k) {
                    let e = nodes.entry((key.0, key.1.clone(), key.2.clone(), node.to_string())).or_default();
                    e.0 += 1;
                    e.1 += ns;
                }
            }
        }
    }
    let mut r = Rows::new(&["day", "root_service", "root_operation", "requests", "root_ns"], "issii");
    for ((d, svc, op), (n, ns)) in roots {
        r.push(vec![i(d), s(svc), s(op), i(n), i(ns)]);
    }
    let mut n = Rows::new(&["day", "root_service", "root_operation", "node", "on_path", "credit_ns"], "isssii");
    for ((d, svc, op, node), (k, ns)) in nodes {
        n.push(vec![i(d), s(svc), s(op), s(node), i(k), i(ns)]);
    }
    for (name, t) in [("cp_roots_day", r.finish()?), ("cp_nodes_day", n.finish()?)] {
        let _ = ctx.deregister_table(name);
        engine::register_batches(ctx, name, &t.schema, t.batches).await?;
    }
    Ok(())
}

/// The `critical_path` table (SPEC §3) from the merged partials: root entry
/// points with at least `min_requests` requests; per root, nodes by share
/// descending.
pub async fn weekly(ctx: &SessionContext, min_requests: i64) -> Result<Table> {
    let roots = engine::query(ctx, "SELECT root_service, root_operation, SUM(requests) AS requests, SUM(root_ns) AS root_ns FROM cp_roots_day GROUP BY root_service, root_operation").await?;
    let nodes = engine::query(ctx, "SELECT root_service, root_operation, node, SUM(on_path) AS on_path, SUM(credit_ns) AS credit_ns FROM cp_nodes_day GROUP BY root_service, root_operation, node").await?;
    let mut per_root: BTreeMap<(String, String), (i64, i64)> = BTreeMap::new();
    let (rs, ro, rq, rn) = (read::strs(&roots, "root_service"), read::strs(&roots, "root_operation"), read::i64s(&roots, "requests"), read::i64s(&roots, "root_ns"));
    for k in 0..rs.len() {
        per_root.insert((rs[k].clone().unwrap_or_default(), ro[k].clone().unwrap_or_default()), (rq[k].unwrap_or(0), rn[k].unwrap_or(0)));
    }
    let (ns_, no, nn, np, nc) = (
        read::strs(&nodes, "root_service"),
        read::strs(&nodes, "root_operation"),
        read::strs(&nodes, "node"),
        read::i64s(&nodes, "on_path"),
        read::i64s(&nodes, "credit_ns"),
    );
    let mut rows: Vec<(String, String, String, i64, i64, i64, i64)> = vec![];
    for k in 0..ns_.len() {
        let key = (ns_[k].clone().unwrap_or_default(), no[k].clone().unwrap_or_default());
        let Some(&(requests, root_ns)) = per_root.get(&key) else { continue };
        if requests < min_requests {
            continue;
        }
        rows.push((key.0, key.1, nn[k].clone().unwrap_or_default(), requests, np[k].unwrap_or(0), nc[k].unwrap_or(0), root_ns));
    }
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)).then(b.5.cmp(&a.5)).then(a.2.cmp(&b.2)));
    let mut out = Rows::new(&["root_service", "root_operation", "node", "requests", "on_path", "mean_ms", "share"], "sssiiff");
    for (svc, op, node, requests, on_path, credit, root_ns) in rows {
        out.push(vec![
            s(svc),
            s(op),
            s(node),
            i(requests),
            i(on_path),
            f(credit as f64 / requests as f64 / 1e6),
            f(if root_ns > 0 { credit as f64 / root_ns as f64 } else { 0.0 }),
        ]);
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp<'a>(id: &'a str, parent: &'a str, start: i64, end: i64, kind: i64, node: &'a str) -> Span<'a> {
        Span { span_id: id.as_bytes(), parent_id: (!parent.is_empty()).then(|| parent.as_bytes()), start, end, kind, node }
    }

    fn credits<'a>(spans: &[Span<'a>]) -> Vec<(&'a str, i64)> {
        let root = spans.iter().position(|s| s.parent_id.is_none()).unwrap();
        let c = walk(spans, root);
        let total: i64 = c.values().sum();
        assert_eq!(total, spans[root].end - spans[root].start, "credits add up to the root's duration");
        c.into_iter().collect()
    }

    #[test]
    fn a_single_span_is_all_its_own() {
        assert_eq!(credits(&[sp("r", "", 0, 100, 2, "web")]), [("web", 100)]);
    }

    #[test]
    fn sequential_children_that_touch_are_both_on_the_path() {
        // web [0,100]: a [10,40], b [40,90] (b starts when a ends).
        let s = [sp("r", "", 0, 100, 2, "web"), sp("a", "r", 10, 40, 2, "a"), sp("b", "r", 40, 90, 2, "b")];
        // web: 100-90 + 40-40 + 10-0 = 20; b 50; a 30.
        assert_eq!(credits(&s), [("a", 30), ("b", 50), ("web", 20)]);
    }

    #[test]
    fn parallel_children_only_the_last_finishing_and_what_precedes_it() {
        // a [10,60] and b [20,80] overlap: b ends last; then t = 20; a ends
        // at 60 > 20, so a is not on the path.
        let s = [sp("r", "", 0, 100, 2, "web"), sp("a", "r", 10, 60, 2, "a"), sp("b", "r", 20, 80, 2, "b")];
        assert_eq!(credits(&s), [("b", 60), ("web", 40)]);
    }

    #[test]
    fn a_child_overrunning_its_parent_is_cut_and_one_outside_is_dropped() {
        // a [50,150] cut to [50,100]; its child c [120,140] lies wholly
        // outside a's cut interval: dropped. d [200,300] wholly outside r.
        let s = [
            sp("r", "", 0, 100, 2, "web"),
            sp("a", "r", 50, 150, 2, "a"),
            sp("c", "a", 120, 140, 2, "c"),
            sp("d", "r", 200, 300, 2, "d"),
            sp("e", "d", 210, 220, 2, "e"),
        ];
        assert_eq!(credits(&s), [("a", 50), ("web", 50)]);
    }

    #[test]
    fn an_async_consumer_does_not_hold_up_its_parent() {
        // producer p [10,20] (its own credit), consumer k [30,90] excluded.
        let s = [sp("r", "", 0, 100, 2, "web"), sp("p", "r", 10, 20, 4, "web"), sp("k", "p", 30, 90, 5, "worker")];
        assert_eq!(credits(&s), [("web", 100)]);
    }

    #[test]
    fn a_client_waiting_for_a_database_credits_the_virtual_node() {
        // client span c [20,70] calls postgresql (no child in another service).
        let s = [sp("r", "", 0, 100, 2, "api"), sp("c", "r", 20, 70, 3, "postgresql")];
        assert_eq!(credits(&s), [("api", 50), ("postgresql", 50)]);
    }

    #[test]
    fn equal_end_times_go_to_the_later_start_then_the_smaller_id() {
        // a [10,80] and b [30,80]: same end; b starts later, visited first;
        // then t = 30 and a (end 80) is off the path.
        let s = [sp("r", "", 0, 100, 2, "web"), sp("a", "r", 10, 80, 2, "a"), sp("b", "r", 30, 80, 2, "b")];
        assert_eq!(credits(&s), [("b", 50), ("web", 50)]);
        // Same start and end: the smaller SpanId ("x" < "y") wins.
        let s = [sp("r", "", 0, 100, 2, "web"), sp("y", "r", 30, 80, 2, "y"), sp("x", "r", 30, 80, 2, "x")];
        assert_eq!(credits(&s), [("web", 50), ("x", 50)]);
    }

    #[test]
    fn a_deep_trace_adds_up_to_the_root_duration() {
        // r [0,1000] → gw client [10,990] → api server [20,980] →
        // {db client [30,130] (mysql), cache client [120,200] (redis),
        //  svc client [300,900] → worker server [310,890] → db client [400,800] (mysql)}
        let s = [
            sp("r", "", 0, 1000, 2, "web"),
            sp("c1", "r", 10, 990, 3, "web"),
            sp("s1", "c1", 20, 980, 2, "api"),
            sp("d1", "s1", 30, 130, 3, "mysql"),
            sp("d2", "s1", 120, 200, 3, "redis"),
            sp("c2", "s1", 300, 900, 3, "api"),
            sp("s2", "c2", 310, 890, 2, "worker"),
            sp("d3", "s2", 400, 800, 3, "mysql"),
        ];
        // web: r 10+10, c1 10+10 = 40. api: s1 (980-900)+(300-200)+(120-20)... walk:
        // s1 t=980: c2 end 900 → +80, t=300; d2 end 200 → +100, t=120;
        // d1 end 130 > 120 skip; end: +100 (120-20) → api 280; c2: 900-890 + 310-300 = 20 → api 300.
        // redis 80; worker: 890-800 + 400-310 = 180; mysql 400 (d3); d1 not on path.
        assert_eq!(credits(&s), [("api", 300), ("mysql", 400), ("redis", 80), ("web", 40), ("worker", 180)]);
    }

    #[test]
    fn a_span_whose_id_repeats_an_ancestor_does_not_loop() {
        let s = [sp("r", "", 0, 100, 2, "web"), sp("a", "r", 10, 90, 2, "a"), sp("r", "a", 20, 80, 2, "b")];
        let c = walk(&s, 0);
        assert_eq!(c.values().sum::<i64>(), 100);
    }
}
