//! Critical path (SPEC §2.9): for every root entry span, the time a request
//! waits on each service or virtual node, as Jaeger's trace view computes
//! it, made exact. The walk itself lives here ([`Walker`]); the per-trace
//! pass ([`crate::analysis::trace_pass`]) feeds it each unit's traces and
//! reduces the credits to two small partial tables that merge exactly
//! across days — `cp_roots_day` (requests and summed root durations per
//! root entry point) and `cp_nodes_day` (per node: requests with a positive
//! credit, summed credits). The weekly `critical_path` table
//! ([`weekly`]) is their sum.

use std::collections::BTreeMap;

use datafusion::prelude::SessionContext;

use crate::canonical::kind;
use crate::engine;
use crate::error::Result;
use crate::table::{ColType::*, Rows, Table, f, i, read, s};

/// One span as the walk sees it. Ids are integers that compare as the
/// ids' bytes do ([`crate::analysis::trace_pass::IdKeys`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Span {
    pub span_id: u128,
    pub parent_id: Option<u128>,
    pub start: i64,
    pub end: i64,
    /// OpenTelemetry kind: 0 unspecified, 1 internal, 2 server, 3 client,
    /// 4 producer, 5 consumer
    pub kind: i64,
    /// where its credit goes (an interned name): its service, or the
    /// virtual node it called
    pub node: u32,
}

/// The walk's buffers, reused from trace to trace (a day has hundreds of
/// thousands of traces: nothing is allocated per trace once they are warm).
#[derive(Default)]
pub struct Walker {
    /// span indices with a parent, not Consumer, sorted by parent id
    by_parent: Vec<usize>,
    seen: Vec<bool>,
    /// the kept children of every open frame, frames' ranges nested
    kids: Vec<(usize, i64, i64)>,
    frames: Vec<(usize, i64, usize, usize, i64)>,
    /// per node of the current walk: summed credit
    pub credits: Vec<(u32, i64)>,
    /// the trace repeats a span id: each id's children are then taken once
    /// per walk, under the first span of that id opened (else a trace of
    /// n spans sharing an id pushes n children at each of n levels)
    dup_ids: bool,
    /// span ids opened in the current walk (only with `dup_ids`)
    opened: crate::hash::FastMap<u128, ()>,
}

impl Walker {
    /// Prepares for one trace's spans (call once per trace, then `walk`
    /// for each of its roots).
    pub fn prepare(&mut self, spans: &[Span]) {
        let mut ids: Vec<u128> = spans.iter().map(|s| s.span_id).collect();
        ids.sort_unstable();
        self.prepare_with(spans, ids.windows(2).any(|w| w[0] == w[1]));
    }

    /// [`Self::prepare`] when the caller knows whether a span id repeats.
    /// The walk is then linear in the trace's spans: every span is opened
    /// at most once (`seen`) and pushed as a child at most once (its parent
    /// id's children are taken once).
    pub fn prepare_with(&mut self, spans: &[Span], dup_ids: bool) {
        self.dup_ids = dup_ids;
        self.by_parent.clear();
        self.by_parent.extend((0..spans.len()).filter(|&k| spans[k].parent_id.is_some() && spans[k].kind != kind::CONSUMER));
        self.by_parent.sort_unstable_by(|&a, &b| spans[a].parent_id.cmp(&spans[b].parent_id));
    }

    fn credit(&mut self, node: u32, ns: i64) {
        if ns <= 0 {
            return;
        }
        match self.credits.iter_mut().find(|(n, _)| *n == node) {
            Some(c) => c.1 += ns,
            None => self.credits.push((node, ns)),
        }
    }

    /// Opens a frame for span `k` cut to [start, end]: its kept children,
    /// latest end first (ties: later start, then smaller SpanId).
    fn open(&mut self, spans: &[Span], k: usize, start: i64, end: i64) {
        self.seen[k] = true;
        let lo = self.kids.len();
        if self.dup_ids {
            if self.opened.insert(spans[k].span_id, ()).is_some() {
                self.frames.push((k, start, lo, lo, end));
                return;
            }
        }
        let id = Some(spans[k].span_id);
        let from = self.by_parent.partition_point(|&c| spans[c].parent_id < id);
        let to = from + self.by_parent[from..].partition_point(|&c| spans[c].parent_id <= id);
        for i in from..to {
            let c = self.by_parent[i];
            // a child wholly outside the parent is dropped with its subtree
            if !self.seen[c] && c != k && spans[c].end >= start && spans[c].start <= end {
                self.kids.push((c, spans[c].start.max(start), spans[c].end.min(end)));
            }
        }
        self.kids[lo..].sort_unstable_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(spans[a.0].span_id.cmp(&spans[b.0].span_id)));
        self.frames.push((k, start, lo, lo, end));
    }

    /// The walk from `root`; the credits are left in `self.credits` (each
    /// node once), adding up to the root's duration.
    pub fn walk(&mut self, spans: &[Span], root: usize) {
        self.credits.clear();
        self.seen.clear();
        self.seen.resize(spans.len(), false);
        self.kids.clear();
        self.frames.clear();
        self.opened.clear();
        self.open(spans, root, spans[root].start, spans[root].end);
        while let Some(&(k, start, lo, next, t)) = self.frames.last() {
            let hi = self.kids.len();
            let mut i = next;
            let mut descend = None;
            // Kids of deeper frames sit above this frame's range only while
            // those frames are open; here they are closed, so `hi` is ours.
            while i < hi {
                let (c, cs, ce) = self.kids[i];
                i += 1;
                if ce <= t && !self.seen[c] {
                    descend = Some((c, cs, ce));
                    break;
                }
            }
            let top = self.frames.len() - 1;
            match descend {
                Some((c, cs, ce)) => {
                    self.credit(spans[k].node, t - ce);
                    self.frames[top] = (k, start, lo, i, cs);
                    self.open(spans, c, cs, ce);
                }
                None => {
                    self.frames.pop();
                    self.kids.truncate(lo);
                    self.credit(spans[k].node, t - start);
                }
            }
        }
    }
}

/// The walk from `root` (an index into `spans`): credits per node, adding
/// up to the root's duration.
pub fn walk(spans: &[Span], root: usize) -> BTreeMap<u32, i64> {
    let mut w = Walker::default();
    w.prepare(spans);
    w.walk(spans, root);
    w.credits.iter().copied().collect()
}

/// The `critical_path` table (SPEC §3) from the merged partials: root entry
/// points with at least `min_requests` requests; per root, nodes by share
/// descending.
pub async fn weekly(ctx: &SessionContext, min_requests: i64) -> Result<Table> {
    let roots = engine::query(ctx, "SELECT root_service, root_operation, SUM(requests) AS requests, SUM(root_ns) AS root_ns FROM cp_roots_day GROUP BY root_service, root_operation").await?;
    let nodes = engine::query(ctx, "SELECT root_service, root_operation, node, SUM(on_path) AS on_path, SUM(credit_ns) AS credit_ns FROM cp_nodes_day GROUP BY root_service, root_operation, node").await?;
    // Weighted sums (SPEC §2.14): counts written rounded, figures from
    // the exact sums, the threshold compared with the weighted requests.
    let mut per_root: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let (rs, ro, rq, rn) = (read::strs(&roots, "root_service")?, read::strs(&roots, "root_operation")?, read::f64s(&roots, "requests")?, read::f64s(&roots, "root_ns")?);
    for k in 0..rs.len() {
        per_root.insert((rs[k].clone().unwrap_or_default(), ro[k].clone().unwrap_or_default()), (rq[k].unwrap_or(0.0), rn[k].unwrap_or(0.0)));
    }
    let (ns_, no, nn, np, nc) = (
        read::strs(&nodes, "root_service")?,
        read::strs(&nodes, "root_operation")?,
        read::strs(&nodes, "node")?,
        read::f64s(&nodes, "on_path")?,
        read::f64s(&nodes, "credit_ns")?,
    );
    let mut rows: Vec<(String, String, String, f64, f64, f64, f64)> = vec![];
    for k in 0..ns_.len() {
        let key = (ns_[k].clone().unwrap_or_default(), no[k].clone().unwrap_or_default());
        let Some(&(requests, root_ns)) = per_root.get(&key) else { continue };
        if requests < min_requests as f64 {
            continue;
        }
        rows.push((key.0, key.1, nn[k].clone().unwrap_or_default(), requests, np[k].unwrap_or(0.0), nc[k].unwrap_or(0.0), root_ns));
    }
    rows.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)).then(b.5.total_cmp(&a.5)).then(a.2.cmp(&b.2)));
    let mut out = Rows::new(&[("root_service", Text), ("root_operation", Text), ("node", Text), ("requests", Int), ("on_path", Int), ("mean_ms", Float), ("share", Float)]);
    for (svc, op, node, requests, on_path, credit, root_ns) in rows {
        out.push(vec![
            s(svc),
            s(op),
            s(node),
            i(requests.round() as i64),
            i(on_path.round() as i64),
            f(credit / requests / 1e6),
            f(if root_ns > 0.0 { credit / root_ns } else { 0.0 }),
        ]);
    }
    out.finish()
}


#[cfg(test)]
mod tests {
    use super::*;

    /// A test id as an integer that sorts as its bytes do (ids here are
    /// short words).
    fn key(id: &str) -> u128 {
        let mut b = [0u8; 16];
        b[..id.len()].copy_from_slice(id.as_bytes());
        u128::from_be_bytes(b)
    }


    /// Node names as ids: the test's names are single words, interned by
    /// a fixed list.
    const NODES: [&str; 14] = ["web", "a", "b", "c", "d", "e", "x", "y", "api", "postgresql", "worker", "mysql", "redis", "wk"];

    fn sp(id: &str, parent: &str, start: i64, end: i64, kind: i64, node: &str) -> Span {
        let node = NODES.iter().position(|n| *n == node).unwrap() as u32;
        Span { span_id: key(id), parent_id: (!parent.is_empty()).then(|| key(parent)), start, end, kind, node }
    }

    fn credits(spans: &[Span]) -> Vec<(&'static str, i64)> {
        let root = spans.iter().position(|s| s.parent_id.is_none()).unwrap();
        let c = walk(spans, root);
        let total: i64 = c.values().sum();
        assert_eq!(total, spans[root].end - spans[root].start, "credits add up to the root's duration");
        let mut v: Vec<(&str, i64)> = c.into_iter().map(|(n, ns)| (NODES[n as usize], ns)).collect();
        v.sort();
        v
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
        let s = [sp("r", "", 0, 100, 2, "web"), sp("p", "r", 10, 20, 4, "web"), sp("k", "p", 30, 90, 5, "wk")];
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
    fn a_trace_of_ten_thousand_spans_sharing_one_id_walks_in_linear_time() {
        // One root and 9 999 spans of the same id, each naming that id as
        // its parent (a buggy SDK): each opened span used to push all 9 999
        // again, 10⁸ children at the deepest point.
        let n = 10_000;
        let mut s = vec![sp("x", "", 0, 1_000_000, 2, "web")];
        s.extend((1..n).map(|k| sp("x", "x", k as i64, k as i64 + 50, 2, if k % 2 == 0 { "a" } else { "b" })));
        let mut w = Walker::default();
        w.prepare(&s);
        w.walk(&s, 0);
        assert_eq!(w.credits.iter().map(|c| c.1).sum::<i64>(), 1_000_000, "credits add up to the root's duration");
        assert!(w.kids.capacity() <= 2 * n, "children pushed at most once each: {}", w.kids.capacity());
        // The same spans with distinct ids are unaffected by the bound.
        let mut d = vec![sp("r", "", 0, 100, 2, "web")];
        d.extend([sp("a", "r", 10, 40, 2, "a"), sp("b", "r", 40, 90, 2, "b")]);
        assert_eq!(credits(&d), [("a", 30), ("b", 50), ("web", 20)]);
    }

    #[test]
    fn a_span_whose_id_repeats_an_ancestor_does_not_loop() {
        let s = [sp("r", "", 0, 100, 2, "web"), sp("a", "r", 10, 90, 2, "a"), sp("r", "a", 20, 80, 2, "b")];
        let c = walk(&s, 0);
        assert_eq!(c.values().sum::<i64>(), 100);
    }

}
