//! The per-trace pass (SPEC §2.2, §2.5, §2.9): each unit's spans (a day,
//! a seam, or one bucket of either) grouped by trace in memory, and every
//! trace walked once. One pass finds the critical path's credits
//! ([`crate::analysis::critical`]) and, on one machine, the rows the other
//! per-trace stages start from — `cross_calls`, `virtual_calls`,
//! `entry_spans`, `slo_anchored` ([`calls`]) — which a cluster computes with
//! their SQL instead (the two are compared table by table in tests).
//!
//! Why in Rust: a trace's rows lie scattered through an export sorted by
//! service and time; the self-joins that find parents cost more than
//! grouping the unit's rows by trace once and walking each trace from
//! contiguous memory.

mod calls;
mod cycles;
mod id_groups;
mod ids;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, BinaryArray, RecordBatch};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, Int8Type, Int32Type, Int64Type};
use datafusion::prelude::SessionContext;

use crate::analysis::critical::{Span, Walker};
use crate::canonical::kind;
use crate::engine;
use crate::error::Result;
use crate::hash::FastMap;
use crate::queries;
use crate::table::{ColType::*, Rows, f, i, s};
use calls::{Calls, Scratch, calls_tables};
pub use ids::IdKeys;

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

fn col(b: &RecordBatch, name: &str, dt: &DataType) -> Result<Arc<dyn Array>> {
    let c = b.column_by_name(name).ok_or_else(|| crate::error::Error::Other(format!("no column {name}")))?;
    Ok(if c.data_type() == dt { c.clone() } else { cast(c, dt)? })
}

/// One batch's columns, typed.
pub(super) struct Cols {
    pub(super) trace: Arc<dyn Array>,
    pub(super) span: Arc<dyn Array>,
    pub(super) parent: Arc<dyn Array>,
    pub(super) start: Arc<dyn Array>,
    pub(super) dur: Arc<dyn Array>,
    pub(super) kind: Arc<dyn Array>,
    pub(super) day: Arc<dyn Array>,
    pub(super) service: Arc<dyn Array>,
    pub(super) name: Arc<dyn Array>,
    pub(super) vnode: Arc<dyn Array>,
    /// the trace's weight (SPEC §2.14)
    pub(super) weight: Arc<dyn Array>,
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
            weight: col(b, "weight", &DataType::Float64)?,
        })
    }
}

/// Weighted sums (SPEC §2.14): a root's (requests, summed duration ns) or
/// a node's (requests with a credit, summed credit ns), each request
/// counting its trace's weight. Whole weights sum exactly (below 2^53).
type Sums = (f64, f64);

/// The sums of one chunk of traces, keyed by the chunk's own name ids.
#[derive(Default)]
struct Partial<'a> {
    names: Names<'a>,
    roots: FastMap<(i64, u32, u32), Sums>,
    nodes: FastMap<(i64, u32, u32, u32), Sums>,
    calls: Calls,
    /// traces whose parent references loop (SPEC §4)
    cycles: i64,
}


/// A span copied out of the columns into its trace's place: the walk then
/// reads one trace's spans from contiguous memory (the rows of a trace lie
/// scattered through the unit, and reading each column at random was most
/// of the stage's time).
#[derive(Clone, Copy, Default)]
pub(super) struct Row {
    pub(super) span: Span,
    pub(super) batch: u32,
    pub(super) row: u32,
    /// the span's service is NULL (equal to nothing, as in SQL)
    pub(super) svc_null: bool,
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
    let mut groups = id_groups::IdGroups::default();
    let mut marked: Vec<bool> = vec![];
    let mut scratch = Scratch::default();
    let mut cycle_scratch = cycles::Scratch::default();
    for g in gs {
        let trace = &rows[offset[g] - base..offset[g + 1] - base];
        spans.clear();
        spans.extend(trace.iter().map(|r| r.span));
        by_id.clear();
        by_id.extend(0..spans.len());
        by_id.sort_unstable_by_key(|&a| spans[a].span_id);
        groups.build(&spans, &by_id);
        if calls {
            out.calls.of_trace(cols, trace, &by_id, &groups, &mut scratch);
        }
        // A span has a child in another service when some child of its id
        // runs in a service other than one of the id's spans; an id's rows
        // are marked once, not once per child (10 000 rows may share it).
        cross.clear();
        cross.resize(spans.len(), false);
        marked.clear();
        marked.resize(groups.len(), false);
        for c in 0..spans.len() {
            let Some(g) = spans[c].parent_id.and_then(|pid| groups.find(pid)) else { continue };
            if !marked[g] && !groups.all_in(g, spans[c].node) {
                for &p in &by_id[groups.rows(g)] {
                    cross[p] = true;
                }
                marked[g] = true;
            }
        }
        // §2.2: a Client/Producer span with no child in another service
        // that names a virtual node (not its own service) credits it.
        for (k, row) in trace.iter().enumerate() {
            if !matches!(spans[k].kind, kind::CLIENT | kind::PRODUCER) || cross[k] {
                continue;
            }
            let vn = cols[row.batch as usize].vnode.as_string_view();
            let r = row.row as usize;
            if !vn.is_null(r) && vn.value(r) != names.names[row.span.node as usize] {
                spans[k].node = names.id(vn.value(r));
            }
        }
        let dup_ids = groups.len() < spans.len();
        if cycles::has_cycle(&spans, &by_id, &groups, &mut cycle_scratch) {
            out.cycles += 1;
        }
        walker.prepare_with(&spans, dup_ids);
        for (k, row) in trace.iter().enumerate() {
            let s = &spans[k];
            if s.parent_id.is_some() || !matches!(s.kind, kind::UNSPECIFIED..=kind::SERVER) || s.end <= s.start {
                continue;
            }
            let (c, r) = (&cols[row.batch as usize], row.row as usize);
            let (svc, day) = (row.span.node, c.day.as_primitive::<Int32Type>().value(r) as i64);
            let weight = c.weight.as_primitive::<Float64Type>();
            let w = if weight.is_null(r) { 1.0 } else { weight.value(r) };
            let op = names.id(c.name.as_string_view().value(r));
            let e = out.roots.entry((day, svc, op)).or_default();
            e.0 += w;
            e.1 += (s.end - s.start) as f64 * w;
            walker.walk(&spans, k);
            for &(node, ns) in &walker.credits {
                let e = out.nodes.entry((day, svc, op, node)).or_default();
                e.0 += w;
                e.1 += ns as f64 * w;
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

/// What a pass found besides its tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct Outcome {
    /// the call rows were found (false: not asked for, or no spans — the
    /// SQL then makes the empty tables with their columns)
    pub found_calls: bool,
    /// §2.5 anchor walks still open after
    /// [`ANCHOR_ROUNDS`](crate::analysis::slo::ANCHOR_ROUNDS) parent links
    pub anchor_walks_cut: i64,
    /// traces whose parent references loop (cut where they loop: no span
    /// of the loop is under a root, so no walk enters it)
    pub traces_with_cycles: i64,
}

/// Walks every qualifying trace of the unit's `window_spans` and registers
/// the partials `cp_roots_day` and `cp_nodes_day`; with `calls`, in the same
/// pass over the traces, also `cross_calls`, `virtual_calls` and
/// `entry_spans` (which the SQL of those names computes with self-joins of
/// the unit's spans otherwise).
pub async fn daily(ctx: &SessionContext, calls: bool) -> Result<Outcome> {
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
    let parts_cut: i64 = parts.iter().map(|p| p.calls.walks_cut).sum();
    let traces_with_cycles: i64 = parts.iter().map(|p| p.cycles).sum();
    let mut names = Names::default();
    let mut roots: FastMap<(i64, u32, u32), Sums> = FastMap::default();
    let mut nodes: FastMap<(i64, u32, u32, u32), Sums> = FastMap::default();
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
    let mut r = Rows::new(&[("day", Int), ("root_service", Text), ("root_operation", Text), ("requests", Float), ("root_ns", Float)]);
    let mut roots: Vec<_> = roots.into_iter().collect();
    roots.sort_unstable_by_key(|x| x.0);
    for ((d, svc, op), (n, ns)) in roots {
        r.push(vec![i(d), s(name(svc)), s(name(op)), f(n), f(ns)]);
    }
    let mut n = Rows::new(&[("day", Int), ("root_service", Text), ("root_operation", Text), ("node", Text), ("on_path", Float), ("credit_ns", Float)]);
    let mut nodes: Vec<_> = nodes.into_iter().collect();
    nodes.sort_unstable_by_key(|x| x.0);
    for ((d, svc, op, node), (k, ns)) in nodes {
        n.push(vec![i(d), s(name(svc)), s(name(op)), s(name(node)), f(k), f(ns)]);
    }
    for (tname, t) in [("cp_roots_day", r.finish()?), ("cp_nodes_day", n.finish()?)] {
        let _ = ctx.deregister_table(tname);
        engine::register_batches(ctx, tname, &t.schema, t.batches).await?;
    }
    Ok(Outcome { found_calls: calls, anchor_walks_cut: parts_cut, traces_with_cycles })
}

