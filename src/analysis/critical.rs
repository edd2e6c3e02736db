//! Critical path (SPEC §2.9): for every root entry span, the time a request
//! waits on each service or virtual node, as Jaeger's trace view computes
//! it, made exact. Runs inside the per-trace stages of each unit (day or
//! seam, bucket by bucket): the unit's qualifying traces are read once
//! (`queries/critical_path_spans.sql`), walked in Rust, and reduced to two
//! small partial tables that merge exactly across days — `cp_roots_day`
//! (requests and summed root durations per root entry point) and
//! `cp_nodes_day` (per node: requests with a positive credit, summed
//! credits). The weekly `critical_path` table is their sum.

use std::collections::BTreeMap;

use crate::hash::FastMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BinaryArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int8Type, Int32Type, Int64Type};
use datafusion::prelude::SessionContext;

use crate::engine::{self, Table};
use crate::error::Result;
use crate::queries;
use crate::table::{Rows, f, i, read, s};

/// One span as the walk sees it. Ids are [`IdKeys`]: integers that
/// compare as the ids' bytes do.
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

const CONSUMER: i64 = 5;

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
}

impl Walker {
    /// Prepares for one trace's spans (call once per trace, then `walk`
    /// for each of its roots).
    pub fn prepare(&mut self, spans: &[Span]) {
        self.by_parent.clear();
        self.by_parent.extend((0..spans.len()).filter(|&k| spans[k].parent_id.is_some() && spans[k].kind != CONSUMER));
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

/// Names interned to small integers (services, operations, nodes).
#[derive(Default)]
struct Names<'a> {
    ids: FastMap<&'a str, u32>,
    names: Vec<&'a str>,
}

impl<'a> Names<'a> {
    fn id(&mut self, s: &'a str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.names.len() as u32;
        self.ids.insert(s, i);
        self.names.push(s);
        i
    }
}

/// Span ids as integers that compare as the ids' bytes do, so the walk
/// sorts and searches integers: an id of up to 15 bytes is packed
/// big-endian with its length in the low byte (a prefix sorts first); if
/// the unit has a longer id (long textual ids, rare), every id is its rank
/// among all the unit's ids instead.
pub struct IdKeys<'a> {
    ranks: Option<FastMap<&'a [u8], u128>>,
}

impl<'a> IdKeys<'a> {
    pub fn new(arrays: &[&'a BinaryArray]) -> Self {
        let long = arrays.iter().any(|a| a.value_offsets().windows(2).any(|w| w[1] - w[0] > 15));
        if !long {
            return IdKeys { ranks: None };
        }
        let mut all: Vec<&[u8]> = arrays.iter().flat_map(|a| a.iter().flatten()).collect();
        all.sort_unstable();
        all.dedup();
        IdKeys { ranks: Some(all.into_iter().enumerate().map(|(i, id)| (id, i as u128)).collect()) }
    }

    pub fn key(&self, id: &[u8]) -> u128 {
        match &self.ranks {
            Some(r) => r[id],
            None => {
                let mut b = [0u8; 16];
                b[..id.len()].copy_from_slice(id);
                b[15] = id.len() as u8;
                u128::from_be_bytes(b)
            }
        }
    }
}

fn col(b: &RecordBatch, name: &str, dt: &DataType) -> Result<Arc<dyn Array>> {
    let c = b.column_by_name(name).ok_or_else(|| crate::error::Error::Other(format!("no column {name}")))?;
    Ok(if c.data_type() == dt { c.clone() } else { cast(c, dt)? })
}

/// One batch's columns, typed.
struct Cols {
    trace: Arc<dyn Array>,
    span: Arc<dyn Array>,
    parent: Arc<dyn Array>,
    start: Arc<dyn Array>,
    dur: Arc<dyn Array>,
    kind: Arc<dyn Array>,
    day: Arc<dyn Array>,
    service: Arc<dyn Array>,
    name: Arc<dyn Array>,
    vnode: Arc<dyn Array>,
}

impl Cols {
    fn new(b: &RecordBatch) -> Result<Cols> {
        // The types window_spans has (a cast only if an engine gives others).
        let (bin, int, utf) = (DataType::Binary, DataType::Int64, DataType::Utf8View);
        Ok(Cols {
            trace: col(b, "trace_id", &bin)?,
            span: col(b, "span_id", &bin)?,
            parent: col(b, "parent_id", &bin)?,
            start: col(b, "start_ns", &int)?,
            dur: col(b, "duration_ns", &int)?,
            kind: col(b, "kind", &DataType::Int8)?,
            day: col(b, "day", &DataType::Int32)?,
            service: col(b, "service", &utf)?,
            name: col(b, "name", &utf)?,
            vnode: col(b, "vnode", &utf)?,
        })
    }
}

/// The sums of one chunk of traces, keyed by the chunk's own name ids.
#[derive(Default)]
struct Partial<'a> {
    names: Names<'a>,
    roots: FastMap<(i64, u32, u32), (i64, i64)>,
    nodes: FastMap<(i64, u32, u32, u32), (i64, i64)>,
}

/// A span copied out of the columns into its trace's place: the walk then
/// reads one trace's spans from contiguous memory (the rows of a trace lie
/// scattered through the unit, and reading each column at random was most
/// of the stage's time).
#[derive(Clone, Copy, Default)]
struct Row {
    span: Span,
    batch: u32,
    row: u32,
}

/// The unit's rows grouped by trace, cut into chunks of whole traces.
struct Grouped {
    /// each row's trace (group) id, rows in batch order
    row_group: Vec<u32>,
    /// group g's rows are positions offset[g]..offset[g + 1] in trace order
    offset: Vec<usize>,
    /// each batch's first row
    starts: Vec<usize>,
    /// chunks of consecutive groups, about [`CHUNK_ROWS`] rows each
    chunks: Vec<std::ops::Range<usize>>,
    /// the rows of each chunk, ascending, chunk after chunk (chunk c's at
    /// offset[c.start]..offset[c.end])
    by_chunk: Vec<u32>,
}

impl Grouped {
    fn new(cols: &[Cols]) -> Grouped {
        let (row_group, groups) = group_rows(cols);
        let mut offset = vec![0usize; groups + 1];
        for &g in &row_group {
            offset[g as usize + 1] += 1;
        }
        for g in 0..groups {
            offset[g + 1] += offset[g];
        }
        let mut chunks = vec![];
        let mut chunk_of = vec![0u32; groups];
        let mut from = 0;
        for g in 0..groups {
            if offset[g + 1] - offset[from] > CHUNK_ROWS && g > from {
                chunks.push(from..g);
                from = g;
            }
            chunk_of[g] = chunks.len() as u32;
        }
        chunks.push(from..groups);
        // A counting sort of the rows by chunk keeps each chunk's ascending.
        let mut chunk_at: Vec<usize> = chunks.iter().map(|c| offset[c.start]).collect();
        let mut by_chunk = vec![0u32; row_group.len()];
        for (k, &g) in row_group.iter().enumerate() {
            let at = &mut chunk_at[chunk_of[g as usize] as usize];
            by_chunk[*at] = k as u32;
            *at += 1;
        }
        let mut starts = vec![0usize];
        for c in cols {
            starts.push(starts.last().unwrap() + c.trace.len());
        }
        Grouped { row_group, offset, starts, chunks, by_chunk }
    }
}

/// Rows per chunk of traces: a chunk's rows are copied (≈ 100 bytes each)
/// before its traces are walked; small chunks stay in the caches.
const CHUNK_ROWS: usize = 1 << 18;

/// Copies the rows of the traces `gs` (one chunk) into trace order, reading
/// the columns front to back, and walks them.
fn walk_chunk<'a>(cols: &'a [Cols], keys: &IdKeys, grouped: &Grouped, gs: std::ops::Range<usize>) -> Partial<'a> {
    let Grouped { row_group, offset, starts, by_chunk, .. } = grouped;
    let mut out = Partial::default();
    let names = &mut out.names;
    let base = offset[gs.start];
    let mut rows = vec![Row::default(); offset[gs.end] - base];
    let mut fill: Vec<usize> = offset[gs.start..gs.end].iter().map(|o| o - base).collect();
    let mut last_svc: (&str, u32) = ("", u32::MAX);
    let mut b = 0usize;
    for &k in &by_chunk[base..offset[gs.end]] {
        let k = k as usize;
        while k >= starts[b + 1] {
            b += 1;
        }
        let (c, r) = (&cols[b], k - starts[b]);
        let (sp, pa) = (c.span.as_binary::<i32>(), c.parent.as_binary::<i32>());
        let (st, du, ki) = (c.start.as_primitive::<Int64Type>(), c.dur.as_primitive::<Int64Type>(), c.kind.as_primitive::<Int8Type>());
        let name = c.service.as_string_view().value(r);
        if last_svc.1 == u32::MAX || last_svc.0 != name {
            last_svc = (name, names.id(name));
        }
        let slot = &mut fill[row_group[k] as usize - gs.start];
        rows[*slot] = Row {
            span: Span {
                span_id: keys.key(sp.value(r)),
                parent_id: (!pa.is_null(r)).then(|| keys.key(pa.value(r))),
                start: st.value(r),
                end: st.value(r).saturating_add(du.value(r).max(0)),
                kind: ki.value(r) as i64,
                node: last_svc.1,
            },
            batch: b as u32,
            row: r as u32,
        };
        *slot += 1;
    }
    let mut walker = Walker::default();
    let mut spans: Vec<Span> = vec![];
    let mut by_id: Vec<usize> = vec![];
    let mut cross: Vec<bool> = vec![];
    for g in gs {
        let trace = &rows[offset[g] - base..offset[g + 1] - base];
        spans.clear();
        spans.extend(trace.iter().map(|r| r.span));
        // §2.2: a Client/Producer span with no child in another service
        // that names a virtual node (not its own service) credits it.
        by_id.clear();
        by_id.extend(0..spans.len());
        by_id.sort_unstable_by_key(|&a| spans[a].span_id);
        cross.clear();
        cross.resize(spans.len(), false);
        for c in 0..spans.len() {
            let Some(pid) = spans[c].parent_id else { continue };
            let lo = by_id.partition_point(|&p| spans[p].span_id < pid);
            let hi = lo + by_id[lo..].partition_point(|&p| spans[p].span_id <= pid);
            if by_id[lo..hi].iter().any(|&p| spans[p].node != spans[c].node) {
                for &p in &by_id[lo..hi] {
                    cross[p] = true;
                }
            }
        }
        for (k, row) in trace.iter().enumerate() {
            if !matches!(spans[k].kind, 3 | 4) || cross[k] {
                continue;
            }
            let vn = cols[row.batch as usize].vnode.as_string_view();
            let r = row.row as usize;
            if !vn.is_null(r) && vn.value(r) != names.names[row.span.node as usize] {
                spans[k].node = names.id(vn.value(r));
            }
        }
        walker.prepare(&spans);
        for (k, row) in trace.iter().enumerate() {
            let s = &spans[k];
            if s.parent_id.is_some() || !matches!(s.kind, 0..=2) || s.end <= s.start {
                continue;
            }
            let (c, r) = (&cols[row.batch as usize], row.row as usize);
            let (svc, day) = (row.span.node, c.day.as_primitive::<Int32Type>().value(r) as i64);
            let op = names.id(c.name.as_string_view().value(r));
            let e = out.roots.entry((day, svc, op)).or_default();
            e.0 += 1;
            e.1 += s.end - s.start;
            walker.walk(&spans, k);
            for &(node, ns) in &walker.credits {
                let e = out.nodes.entry((day, svc, op, node)).or_default();
                e.0 += 1;
                e.1 += ns;
            }
        }
    }
    out
}

/// A group (trace) id per row, in row order, and the number of groups.
/// Trace ids of 16 bytes (all of OpenTelemetry's) are hashed as integers.
fn group_rows(cols: &[Cols]) -> (Vec<u32>, usize) {
    let rows: usize = cols.iter().map(|c| c.trace.len()).sum();
    let mut ids16: FastMap<u128, u32> = FastMap::default();
    ids16.reserve(rows / 16);
    let mut other: FastMap<&[u8], u32> = FastMap::default();
    let mut n = 0u32;
    let mut row_group: Vec<u32> = Vec::with_capacity(rows);
    for c in cols {
        let tr = c.trace.as_binary::<i32>();
        for r in 0..tr.len() {
            let id = tr.value(r);
            let g = match <[u8; 16]>::try_from(id) {
                Ok(b) => *ids16.entry(u128::from_ne_bytes(b)).or_insert(n),
                Err(_) => *other.entry(id).or_insert(n),
            };
            if g == n {
                n += 1;
            }
            row_group.push(g);
        }
    }
    (row_group, n as usize)
}

/// Walks every qualifying trace of the unit's `window_spans` and registers
/// the partials `cp_roots_day` and `cp_nodes_day`.
pub async fn daily(ctx: &SessionContext) -> Result<()> {
    let t0 = std::time::Instant::now();
    let t = engine::query(ctx, queries::CRITICAL_PATH_SPANS).await?;
    let cols: Vec<Cols> = t.batches.iter().map(Cols::new).collect::<Result<_>>()?;
    tracing::debug!("critical path: {} rows read in {:?}", t.batches.iter().map(|b| b.num_rows()).sum::<usize>(), t0.elapsed());
    let ids: Vec<&BinaryArray> = cols.iter().flat_map(|c| [c.span.as_binary::<i32>(), c.parent.as_binary::<i32>()]).collect();
    let keys = IdKeys::new(&ids);
    let grouped = Grouped::new(&cols);
    tracing::debug!("critical path: grouped by trace at {:?}", t0.elapsed());
    // Chunks of whole traces, walked in parallel, each with its own names
    // and sums, merged by name afterwards (the sums are exact in any order).
    let parts: Vec<Partial> = {
        use rayon::prelude::*;
        grouped.chunks.par_iter().map(|gs| walk_chunk(&cols, &keys, &grouped, gs.clone())).collect()
    };
    let mut names = Names::default();
    let mut roots: FastMap<(i64, u32, u32), (i64, i64)> = FastMap::default();
    let mut nodes: FastMap<(i64, u32, u32, u32), (i64, i64)> = FastMap::default();
    for p in parts {
        let ids: Vec<u32> = p.names.names.iter().map(|n| names.id(n)).collect();
        for ((d, svc, op), v) in p.roots {
            let e = roots.entry((d, ids[svc as usize], ids[op as usize])).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
        for ((d, svc, op, node), v) in p.nodes {
            let e = nodes.entry((d, ids[svc as usize], ids[op as usize], ids[node as usize])).or_default();
            e.0 += v.0;
            e.1 += v.1;
        }
    }
    tracing::debug!("critical path: walked at {:?}", t0.elapsed());
    let name = |i: u32| names.names[i as usize].to_string();
    let mut r = Rows::new(&["day", "root_service", "root_operation", "requests", "root_ns"], "issii");
    let mut roots: Vec<_> = roots.into_iter().collect();
    roots.sort_unstable();
    for ((d, svc, op), (n, ns)) in roots {
        r.push(vec![i(d), s(name(svc)), s(name(op)), i(n), i(ns)]);
    }
    let mut n = Rows::new(&["day", "root_service", "root_operation", "node", "on_path", "credit_ns"], "isssii");
    let mut nodes: Vec<_> = nodes.into_iter().collect();
    nodes.sort_unstable();
    for ((d, svc, op, node), (k, ns)) in nodes {
        n.push(vec![i(d), s(name(svc)), s(name(op)), s(name(node)), i(k), i(ns)]);
    }
    for (tname, t) in [("cp_roots_day", r.finish()?), ("cp_nodes_day", n.finish()?)] {
        let _ = ctx.deregister_table(tname);
        engine::register_batches(ctx, tname, &t.schema, t.batches).await?;
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

    /// Node names as ids: the test's names are single words, interned by
    /// a fixed list.
    const NODES: [&str; 14] = ["web", "a", "b", "c", "d", "e", "x", "y", "api", "postgresql", "worker", "mysql", "redis", "wk"];

    fn sp(id: &str, parent: &str, start: i64, end: i64, kind: i64, node: &str) -> Span {
        let node = NODES.iter().position(|n| *n == node).unwrap() as u32;
        let keys = IdKeys { ranks: None };
        Span { span_id: keys.key(id.as_bytes()), parent_id: (!parent.is_empty()).then(|| keys.key(parent.as_bytes())), start, end, kind, node }
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
    fn id_keys_compare_as_the_ids_bytes_do() {
        let ids: [&[u8]; 8] = [b"", b"\x00", b"a", b"a\x00", b"ab", b"b", &[0xff; 15], b"\x01\x02\x03\x04\x05\x06\x07\x08"];
        let long: &[u8] = b"a-very-long-textual-span-id";
        let bins: Vec<BinaryArray> = vec![ids.iter().copied().map(Some).collect(), vec![Some(long)].into_iter().collect()];
        let packed = IdKeys { ranks: None };
        let ranked = IdKeys::new(&bins.iter().collect::<Vec<_>>());
        assert!(ranked.ranks.is_some(), "an id over 15 bytes switches to ranks");
        assert!(IdKeys::new(&[&bins[0]]).ranks.is_none());
        let mut all = ids.to_vec();
        all.push(long);
        for a in &all {
            for b in &all {
                assert_eq!(ranked.key(a).cmp(&ranked.key(b)), a.cmp(b), "{a:?} {b:?}");
                if a.len() <= 15 && b.len() <= 15 {
                    assert_eq!(packed.key(a).cmp(&packed.key(b)), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
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
    fn a_span_whose_id_repeats_an_ancestor_does_not_loop() {
        let s = [sp("r", "", 0, 100, 2, "web"), sp("a", "r", 10, 90, 2, "a"), sp("r", "a", 20, 80, 2, "b")];
        let c = walk(&s, 0);
        assert_eq!(c.values().sum::<i64>(), 100);
    }
}
