//! Critical path (SPEC §2.9): for every root entry span, the time a request
//! waits on each service or virtual node, as Jaeger's trace view computes
//! it, made exact. Runs inside the per-trace stages of each unit (day or
//! seam, bucket by bucket): the unit's qualifying traces are read once
//! (`queries/critical_path_spans.sql`), walked in Rust, and reduced to two
//! small partial tables that merge exactly across days — `cp_roots_day`
//! (requests and summed root durations per root entry point) and
//! `cp_nodes_day` (per node: requests with a positive credit, summed
//! credits). The weekly `critical_path` table is their sum.
//!
//! On one machine the same pass over each trace also finds the rows the
//! other per-trace stages start from — `cross_calls`, `virtual_calls`,
//! `entry_spans`, `slo_anchored` ([`Calls::of_trace`]) — exactly as their
//! SQL (`queries/cross_calls.sql`, …) defines them, which a cluster runs.

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
        // (a NULL id reads as empty: it gets a rank too, the first; no id
        // is empty, a NULL parent is never looked up)
        let mut all: Vec<&[u8]> = arrays.iter().flat_map(|a| a.iter().flatten()).chain([&[][..]]).collect();
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
    calls: Calls,
}

/// A row of the unit's spans: (batch, row in batch), as `interleave` takes.
type Loc = (usize, usize);

/// The rows of `cross_calls`, `virtual_calls` and `entry_spans` (see
/// [`Calls::of_trace`]) found in one chunk of traces, as span locations.
#[derive(Default)]
struct Calls {
    /// (child, parent)
    cross: Vec<(Loc, Loc)>,
    virtual_calls: Vec<Loc>,
    entry: Vec<Loc>,
    /// `slo_anchored` (see `queries/slo_anchor_*.sql`): a sync call
    /// (child, parent) tied to its request, the span whose id is the
    /// request's: (that span, whether the id is its parent id)
    /// and the call's caller-side latency
    anchored: Vec<(Loc, Loc, Option<i64>, (Loc, bool))>,
}

/// [`Calls::of_trace`]'s buffers, reused from trace to trace.
#[derive(Default)]
struct Scratch {
    /// spans whose id has a child in another service
    crossed: Vec<bool>,
    /// entry spans
    entry: Vec<bool>,
    /// the anchor walk's open ids: (id, span it came from, via its parent id)
    pending: Vec<(u128, usize, bool)>,
    next: Vec<(u128, usize, bool)>,
    /// the trace's cross calls as (child, parent) indices
    pairs: Vec<(usize, usize)>,
}

/// The rounds of parent links the SQL anchor walk follows at most.
const ANCHOR_ROUNDS: usize = 64;

impl Calls {
    /// One trace's rows of the three tables, exactly as the SQL of
    /// `queries/cross_calls.sql`, `virtual_calls.sql` and `entry_spans.sql`
    /// defines them (duplicate rows pair up; a NULL service equals
    /// nothing). `by_id`: the trace's span indices sorted by span id;
    /// `scratch`: buffers.
    fn of_trace(&mut self, cols: &[Cols], trace: &[Row], by_id: &[usize], scratch: &mut Scratch) {
        let Scratch { crossed, entry, pending, next, pairs } = scratch;
        pairs.clear();
        let loc = |r: &Row| (r.batch as usize, r.row as usize);
        let same_id = |pid: u128| {
            let lo = by_id.partition_point(|&p| trace[p].span.span_id < pid);
            lo..lo + by_id[lo..].partition_point(|&p| trace[p].span.span_id <= pid)
        };
        crossed.clear();
        crossed.resize(trace.len(), false);
        for (ck, c) in trace.iter().enumerate() {
            let Some(pid) = c.span.parent_id else { continue };
            let ps = &by_id[same_id(pid)];
            let before = self.cross.len();
            for &pk in ps {
                let p = &trace[pk];
                if !c.svc_null && !p.svc_null && p.span.node != c.span.node {
                    self.cross.push((loc(c), loc(p)));
                    pairs.push((ck, pk));
                }
            }
            if self.cross.len() > before {
                ps.iter().for_each(|&p| crossed[p] = true);
            }
        }
        entry.clear();
        entry.resize(trace.len(), false);
        for (k, s) in trace.iter().enumerate() {
            match s.span.kind {
                // a Client/Producer with no child in another service, whose
                // callee (if named) is not its own service
                3 | 4 if !crossed[k] => {
                    let vn = cols[s.batch as usize].vnode.as_string_view();
                    let (r, svc) = (s.row as usize, cols[s.batch as usize].service.as_string_view());
                    if vn.is_null(r) || (!s.svc_null && vn.value(r) != svc.value(r)) {
                        self.virtual_calls.push(loc(s));
                    }
                }
                2 | 5 => entry[k] = true,
                // Internal/Unspecified with no parent of its own service
                0 | 1 => {
                    let own_parent = s.span.parent_id.is_some_and(|pid| {
                        !s.svc_null && by_id[same_id(pid)].iter().any(|&p| !trace[p].svc_null && trace[p].span.node == s.span.node)
                    });
                    entry[k] = !own_parent;
                }
                _ => {}
            }
        }
        self.entry.extend(trace.iter().zip(entry.iter()).filter(|(_, e)| **e).map(|(s, _)| loc(s)));
        // Each sync call goes up from its calling span by parent links until
        // an id that is an entry span of the caller's (the request); a
        // duplicated span id branches, as the SQL join does.
        for &(ck, pk) in pairs.iter() {
            if trace[pk].span.kind == 4 || trace[ck].span.kind == 5 {
                continue;
            }
            let (c, p) = (loc(&trace[ck]), loc(&trace[pk]));
            // caller-side latency: the parent's duration for a Client
            // parent, else the child's (§2.2)
            let (b, r) = if trace[pk].span.kind == 3 { p } else { c };
            let d = cols[b].dur.as_primitive::<Int64Type>();
            let latency = (!d.is_null(r)).then(|| d.value(r));
            pending.clear();
            pending.push((trace[pk].span.span_id, pk, false));
            for _round in 0..ANCHOR_ROUNDS {
                next.clear();
                for &(cur, at, from_parent) in pending.iter() {
                    let same = &by_id[same_id(cur)];
                    if same.iter().any(|&e| entry[e] && !trace[e].svc_null && trace[e].span.node == trace[pk].span.node) {
                        self.anchored.push((c, p, latency, (loc(&trace[at]), from_parent)));
                        continue;
                    }
                    for &s in same {
                        if let Some(up) = trace[s].span.parent_id {
                            next.push((up, s, true));
                        }
                    }
                }
                std::mem::swap(pending, next);
                if pending.is_empty() {
                    break;
                }
            }
        }
    }
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
    /// the span's service is NULL (equal to nothing, as in SQL)
    svc_null: bool,
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
fn walk_chunk<'a>(cols: &'a [Cols], keys: &IdKeys, grouped: &Grouped, gs: std::ops::Range<usize>, calls: bool) -> Partial<'a> {
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
            svc_null: c.service.is_null(r),
        };
        *slot += 1;
    }
    let mut walker = Walker::default();
    let mut spans: Vec<Span> = vec![];
    let mut by_id: Vec<usize> = vec![];
    let mut cross: Vec<bool> = vec![];
    let mut scratch = Scratch::default();
    for g in gs {
        let trace = &rows[offset[g] - base..offset[g + 1] - base];
        spans.clear();
        spans.extend(trace.iter().map(|r| r.span));
        // §2.2: a Client/Producer span with no child in another service
        // that names a virtual node (not its own service) credits it.
        by_id.clear();
        by_id.extend(0..spans.len());
        by_id.sort_unstable_by_key(|&a| spans[a].span_id);
        if calls {
            out.calls.of_trace(cols, trace, &by_id, &mut scratch);
        }
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
/// the partials `cp_roots_day` and `cp_nodes_day`; with `calls`, in the same
/// pass over the traces, also `cross_calls`, `virtual_calls` and
/// `entry_spans` (which the SQL of those names computes with self-joins of
/// the unit's spans otherwise).
pub async fn daily(ctx: &SessionContext, calls: bool) -> Result<bool> {
    let t0 = std::time::Instant::now();
    let t = engine::query(ctx, queries::CRITICAL_PATH_SPANS).await?;
    // (no spans: the SQL makes the three empty tables with their columns)
    let calls = calls && !t.batches.is_empty();
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
        grouped.chunks.par_iter().map(|gs| walk_chunk(&cols, &keys, &grouped, gs.clone(), calls)).collect()
    };
    if calls {
        let found: Vec<&Calls> = parts.iter().map(|p| &p.calls).collect();
        for (name, batches) in calls_tables(&t.batches, &found)? {
            engine::register_spread(ctx, name, batches)?;
        }
        tracing::debug!("critical path: calls tables at {:?}", t0.elapsed());
    }
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
    Ok(calls)
}

/// `cross_calls`, `virtual_calls` and `entry_spans` from the rows the walk
/// found: each column is the spans' own column (or the parent's), taken by
/// location, so types and values are exactly those of `window_spans`.
fn calls_tables(batches: &[RecordBatch], found: &[&Calls]) -> Result<[(&'static str, Vec<RecordBatch>); 4]> {
    use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array};
    use datafusion::arrow::compute::interleave;
    use datafusion::arrow::datatypes::{Field, Schema};
    let column = |name: &str| -> Result<Vec<&dyn Array>> {
        batches
            .iter()
            .map(|b| b.column_by_name(name).map(|c| c.as_ref()).ok_or_else(|| crate::error::Error::Other(format!("no column {name}"))))
            .collect()
    };
    // (output name, source column, locations), then computed columns
    let batch = |cols: &[(&str, &str, &[Loc])], computed: Vec<(&str, ArrayRef)>| -> Result<RecordBatch> {
        let mut fields = vec![];
        let mut arrays: Vec<ArrayRef> = vec![];
        for &(out, src, at) in cols {
            arrays.push(interleave(&column(src)?, at)?);
            fields.push(out);
        }
        for (out, a) in computed {
            arrays.push(a);
            fields.push(out);
        }
        let fields: Vec<Field> = fields.iter().zip(&arrays).map(|(f, a)| Field::new(*f, a.data_type().clone(), true)).collect();
        Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
    };
    let parents = column("parent_id")?;
    // span ids, then parent ids (one type: both come from window_spans)
    let ids: Vec<&dyn Array> = column("span_id")?.into_iter().chain(parents.iter().copied()).collect();
    // A batch per chunk of traces, made in parallel (the engine reads them
    // in parallel too).
    let per_chunk = |c: &&Calls| -> Result<[RecordBatch; 4]> {
        let (child, parent): (Vec<Loc>, Vec<Loc>) = c.cross.iter().copied().unzip();
        let cross = batch(
            &[
                ("day", "day", &child),
                ("trace_id", "trace_id", &parent),
                ("parent_span_id", "span_id", &parent),
                ("caller", "service", &parent),
                ("callee", "service", &child),
                ("parent_kind", "kind", &parent),
                ("child_kind", "kind", &child),
                ("parent_error", "is_error", &parent),
                ("child_error", "is_error", &child),
                ("parent_ns", "duration_ns", &parent),
                ("child_ns", "duration_ns", &child),
            ],
            vec![],
        )?;
        let v = &c.virtual_calls;
        let virtual_calls = batch(
            &[
                ("day", "day", v),
                ("caller", "service", v),
                ("callee", "vnode", v),
                ("callee_type", "vtype", v),
                ("kind", "kind", v),
                ("is_error", "is_error", v),
                ("duration_ns", "duration_ns", v),
            ],
            vec![],
        )?;
        let e = &c.entry;
        let is_root: BooleanArray = e.iter().map(|&(b, r)| Some(parents[b].is_null(r))).collect();
        let entry = batch(
            &[
                ("day", "day", e),
                ("trace_id", "trace_id", e),
                ("span_id", "span_id", e),
                ("service", "service", e),
                ("name", "name", e),
                ("is_error", "is_error", e),
                ("duration_ns", "duration_ns", e),
            ],
            vec![("is_root", Arc::new(is_root))],
        )?;
        let a = &c.anchored;
        let (child, parent): (Vec<Loc>, Vec<Loc>) = a.iter().map(|x| (x.0, x.1)).unzip();
        let latency: Int64Array = a.iter().map(|x| x.2).collect();
        // the request's id: a span's own id or its parent id
        let at: Vec<Loc> = a.iter().map(|&(_, _, _, ((b, r), up))| (if up { batches.len() + b } else { b }, r)).collect();
        let anchored = batch(
            &[("trace_id", "trace_id", &parent), ("caller", "service", &parent), ("callee", "service", &child)],
            vec![("latency_ns", Arc::new(latency)), ("request_id", interleave(&ids, &at)?)],
        )?;
        Ok([cross, virtual_calls, anchored, entry])
    };
    use rayon::prelude::*;
    let made: Vec<[RecordBatch; 4]> = found.par_iter().map(per_chunk).collect::<Result<_>>()?;
    let mut tables = [("cross_calls", vec![]), ("virtual_calls", vec![]), ("slo_anchored", vec![]), ("entry_spans", vec![])];
    for bs in made {
        for (t, b) in tables.iter_mut().zip(bs) {
            t.1.push(b);
        }
    }
    Ok(tables)
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

    /// One span row of `window_spans` for the pass's tests.
    struct Fx {
        trace: Vec<u8>,
        span: Option<Vec<u8>>,
        parent: Option<Vec<u8>>,
        dur: Option<i64>,
        service: Option<&'static str>,
        kind: i8,
        error: bool,
        vnode: Option<&'static str>,
    }

    /// Registers the rows as `window_spans` in batches of `per_batch`.
    async fn register(ctx: &SessionContext, rows: &[Fx], per_batch: usize) {
        use datafusion::arrow::array::{BinaryArray, BooleanArray, Int8Array, Int32Array, Int64Array, StringArray};
        use datafusion::arrow::datatypes::{Field, Schema};
        let schema = Arc::new(Schema::new(vec![
            Field::new("trace_id", DataType::Binary, true),
            Field::new("span_id", DataType::Binary, true),
            Field::new("parent_id", DataType::Binary, true),
            Field::new("start_ns", DataType::Int64, true),
            Field::new("duration_ns", DataType::Int64, true),
            Field::new("service", DataType::Utf8, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("kind", DataType::Int8, true),
            Field::new("is_error", DataType::Boolean, true),
            Field::new("vnode", DataType::Utf8, true),
            Field::new("vtype", DataType::Utf8, true),
            Field::new("day", DataType::Int32, true),
        ]));
        let batches = rows
            .chunks(per_batch)
            .map(|rs| {
                RecordBatch::try_new(
                    schema.clone(),
                    vec![
                        Arc::new(BinaryArray::from_iter(rs.iter().map(|r| Some(r.trace.clone())))),
                        Arc::new(BinaryArray::from_iter(rs.iter().map(|r| r.span.clone()))),
                        Arc::new(BinaryArray::from_iter(rs.iter().map(|r| r.parent.clone()))),
                        Arc::new(Int64Array::from_iter_values(rs.iter().enumerate().map(|(k, _)| 1_000 * k as i64))),
                        Arc::new(Int64Array::from_iter(rs.iter().map(|r| r.dur))),
                        Arc::new(StringArray::from_iter(rs.iter().map(|r| r.service))),
                        Arc::new(StringArray::from_iter_values(rs.iter().map(|r| format!("op{}", r.kind)))),
                        Arc::new(Int8Array::from_iter_values(rs.iter().map(|r| r.kind))),
                        Arc::new(BooleanArray::from_iter(rs.iter().map(|r| Some(r.error)))),
                        Arc::new(StringArray::from_iter(rs.iter().map(|r| r.vnode))),
                        Arc::new(StringArray::from_iter(rs.iter().map(|r| r.vnode.map(|_| "database")))),
                        Arc::new(Int32Array::from_iter_values(rs.iter().map(|r| 20_000 + r.kind as i32 % 2))),
                    ],
                )
                .unwrap()
            })
            .collect();
        engine::register_batches(ctx, "window_spans", &(schema as _), batches).await.unwrap();
    }

    /// A table's rows as sorted text (a multiset).
    async fn rows_of(ctx: &SessionContext, table: &str) -> Vec<String> {
        use datafusion::arrow::util::display::array_value_to_string;
        let t = engine::query(ctx, &format!("SELECT * FROM {table}")).await.unwrap();
        let mut out = vec![];
        for b in &t.batches {
            for r in 0..b.num_rows() {
                let cells: Vec<String> = b.columns().iter().map(|c| if c.is_null(r) { "∅".into() } else { array_value_to_string(c, r).unwrap() }).collect();
                out.push(cells.join("|"));
            }
        }
        out.sort();
        out
    }

    const PASS_TABLES: [&str; 4] = ["cross_calls", "virtual_calls", "entry_spans", "slo_anchored"];

    /// The pass's tables, then the SQL's (`queries/cross_calls.sql`, …,
    /// the SQL anchor walk) on the same spans.
    fn both(rows: &[Fx], per_batch: usize) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let engine = crate::config::EngineConfig {
                url: "local".into(),
                work_dir: std::env::temp_dir(),
                memory_limit: None,
                target_partitions: 2,
                trace_buckets: None,
                job_timeout: std::time::Duration::from_secs(600),
            };
            let ctx = engine::connect(&engine, None).await.unwrap();
            register(&ctx, rows, per_batch).await;
            assert!(daily(&ctx, true).await.unwrap());
            let mut pass = vec![];
            for t in PASS_TABLES {
                pass.push(rows_of(&ctx, t).await);
            }
            engine::materialize(&ctx, "cross_calls", queries::CROSS_CALLS).await.unwrap();
            engine::materialize(&ctx, "virtual_calls", queries::VIRTUAL_CALLS).await.unwrap();
            engine::materialize(&ctx, "entry_spans", queries::ENTRY_SPANS).await.unwrap();
            crate::analysis::slo::anchor_calls(&ctx).await.unwrap();
            let mut sql = vec![];
            for t in PASS_TABLES {
                sql.push(rows_of(&ctx, t).await);
            }
            (pass, sql)
        })
    }

    fn fx(trace: &[u8], span: &str, parent: &str, dur: i64, service: &'static str, kind: i8, vnode: Option<&'static str>) -> Fx {
        let id = |s: &str| (!s.is_empty()).then(|| s.as_bytes().to_vec());
        Fx { trace: trace.to_vec(), span: id(span), parent: id(parent), dur: Some(dur), service: Some(service), kind, error: false, vnode }
    }

    #[test]
    fn the_pass_finds_calls_entries_and_anchors_worked_out_by_hand() {
        // a (server root) → a's client c1 → b's server s1; s1 → b's client
        // c2 to the virtual node db; s1 → b's internal i1 (not an entry:
        // its parent is b's) and c's internal i2 (an entry: parent in b).
        let t = b"trace-one-000001";
        let rows = vec![
            fx(t, "r", "", 100, "a", 2, None),
            fx(t, "c1", "r", 80, "a", 3, None),
            fx(t, "s1", "c1", 70, "b", 2, None),
            fx(t, "c2", "s1", 20, "b", 3, Some("db")),
            fx(t, "i1", "s1", 5, "b", 1, None),
            fx(t, "i2", "s1", 6, "c", 1, None),
        ];
        let (pass, sql) = both(&rows, 4);
        let [cross, virt, entry, anchored] = [&pass[0], &pass[1], &pass[2], &pass[3]];
        // (child s1, parent c1) and (child i2, parent s1)
        assert_eq!(cross.len(), 2);
        assert!(cross.iter().any(|r| r.contains("|a|b|3|2|false|false|80|70")), "{cross:?}");
        assert!(cross.iter().any(|r| r.contains("|b|c|2|1|false|false|70|6")), "{cross:?}");
        assert_eq!(virt.len(), 1);
        assert!(virt[0].ends_with("|b|db|database|3|false|20"), "{virt:?}");
        // r, s1, i2
        assert_eq!(entry.len(), 3);
        assert_eq!(entry.iter().filter(|r| r.ends_with("|true")).count(), 1);
        // a→b tied to r (c1's parent; a Client parent's duration, 80);
        // b→c tied to s1 itself (a Server parent: the child's, 6)
        let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(anchored.len(), 2);
        assert!(anchored.iter().any(|r| r.ends_with(&format!("|a|b|80|{}", hex("r")))), "{anchored:?}");
        assert!(anchored.iter().any(|r| r.ends_with(&format!("|b|c|6|{}", hex("s1")))), "{anchored:?}");
        assert_eq!(pass, sql);
    }

    #[test]
    fn the_pass_agrees_with_the_sql_on_awkward_traces() {
        // Two kinds of trace: trees whose ids repeat (duplicate rows; a
        // parent is an earlier span or missing), and traces of distinct
        // ids with parents at random (cycles, self-parents, missing
        // parents) — not both at once, where the anchor walk branches at
        // every round (in SQL as in the pass). NULL services and span ids,
        // NULL durations, virtual nodes named like their own service; rows
        // shuffled so a trace's spans are scattered over batches; once with
        // short ids and once with a 20-byte id among them (rank keys).
        let services = [Some("a"), Some("b"), Some("c"), None];
        let vnodes = [None, None, Some("db"), Some("a"), Some("b")];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        for long in [false, true] {
            let mut rows = vec![];
            for t in 0..400u32 {
                let trace = format!("trace-{t:010}").into_bytes();
                let n = 1 + next(12);
                let tree = t % 2 == 0;
                let id = |v: u64| if long && v == 7 { "a-twenty-byte-id-007".to_string() } else { format!("s{v}") };
                let mut made: Vec<(Option<String>, Option<String>)> = vec![];
                for k in 0..n {
                    let (span, parent) = if tree && k > 0 && next(4) == 0 {
                        // a duplicate of an earlier row's ids
                        made[next(k) as usize].clone()
                    } else {
                        let span = (next(25) != 0).then(|| id(k));
                        let parent = match next(5) {
                            0 => None,
                            _ if tree && k > 0 => Some(id(next(k) + if next(6) == 0 { n } else { 0 })),
                            _ if tree => None,
                            _ => Some(id(next(n + 2))),
                        };
                        (span, parent)
                    };
                    made.push((span.clone(), parent.clone()));
                    rows.push(Fx {
                        trace: trace.clone(),
                        span: span.map(String::into_bytes),
                        parent: parent.map(String::into_bytes),
                        dur: (next(15) != 0).then(|| next(1000) as i64),
                        service: services[next(4) as usize],
                        kind: next(6) as i8,
                        error: next(5) == 0,
                        vnode: vnodes[next(5) as usize],
                    });
                }
            }
            for k in (1..rows.len()).rev() {
                rows.swap(k, next(k as u64 + 1) as usize);
            }
            let (pass, sql) = both(&rows, 97);
            for (k, t) in PASS_TABLES.iter().enumerate() {
                assert!(!pass[k].is_empty(), "{t}: no rows, the case tests nothing");
                assert_eq!(pass[k], sql[k], "{t} (long ids: {long})");
            }
        }
    }
}
