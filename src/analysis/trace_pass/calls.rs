//! The rows of `cross_calls`, `virtual_calls`, `entry_spans` and
//! `slo_anchored` found trace by trace ([`Calls::of_trace`]), exactly as
//! their SQL (`queries/cross_calls.sql`, `virtual_calls.sql`,
//! `entry_spans.sql`, `slo_anchor_*.sql`) defines them, and the tables made
//! from them ([`calls_tables`]) with the spans' own column types.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::Int64Type;

use super::id_groups::IdGroups;
use super::{Cols, Row};
use crate::analysis::slo::ANCHOR_ROUNDS;

/// The most open branches one anchor walk keeps: a span id repeated n
/// times branches the walk n ways a round (as the SQL join does), so a
/// trace of thousands of rows sharing an id would grow without bound. Past
/// this the walk stops and its open branches count in `anchor_walks_cut`.
const ANCHOR_MAX_BRANCHES: usize = 1 << 12;
use crate::canonical::kind;
use crate::error::Result;

/// A row of the unit's spans: (batch, row in batch), as `interleave` takes.
pub(super) type Loc = (usize, usize);

/// The rows of `cross_calls`, `virtual_calls` and `entry_spans` (see
/// [`Calls::of_trace`]) found in one chunk of traces, as span locations.
#[derive(Default)]
pub(super) struct Calls {
    /// (child, parent)
    cross: Vec<(Loc, Loc)>,
    virtual_calls: Vec<Loc>,
    entry: Vec<Loc>,
    /// `slo_anchored` (see `queries/slo_anchor_*.sql`): a sync call
    /// (child, parent) tied to its request, the span whose id is the
    /// request's: (that span, whether the id is its parent id)
    /// and the call's caller-side latency
    anchored: Vec<(Loc, Loc, Option<i64>, (Loc, bool))>,
    /// anchor walks still open after [`ANCHOR_ROUNDS`] parent links
    pub(super) walks_cut: i64,
}

/// [`Calls::of_trace`]'s buffers, reused from trace to trace.
#[derive(Default)]
pub(super) struct Scratch {
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


impl Calls {
    /// One trace's rows of the three tables, exactly as the SQL of
    /// `queries/cross_calls.sql`, `virtual_calls.sql` and `entry_spans.sql`
    /// defines them (duplicate rows pair up; a NULL service equals
    /// nothing). `by_id`: the trace's span indices sorted by span id;
    /// `groups`: the rows of each id in it; `scratch`: buffers.
    pub(super) fn of_trace(&mut self, cols: &[Cols], trace: &[Row], by_id: &[usize], groups: &IdGroups, scratch: &mut Scratch) {
        let Scratch { crossed, entry, pending, next, pairs } = scratch;
        pairs.clear();
        let loc = |r: &Row| (r.batch as usize, r.row as usize);
        let same_id = |pid: u128| &by_id[groups.rows_of(pid)];
        crossed.clear();
        crossed.resize(trace.len(), false);
        for (ck, c) in trace.iter().enumerate() {
            let Some(g) = c.span.parent_id.and_then(|pid| groups.find(pid)) else { continue };
            // Rows of one id all in the child's own service pair with
            // nothing: skipped without visiting them (10 000 rows sharing
            // an id would otherwise cost 10 000 visits per child).
            if c.svc_null || groups.all_in(g, c.span.node) {
                continue;
            }
            let ps = &by_id[groups.rows(g)];
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
                kind::CLIENT | kind::PRODUCER if !crossed[k] => {
                    let vn = cols[s.batch as usize].vnode.as_string_view();
                    let (r, svc) = (s.row as usize, cols[s.batch as usize].service.as_string_view());
                    if vn.is_null(r) || (!s.svc_null && vn.value(r) != svc.value(r)) {
                        self.virtual_calls.push(loc(s));
                    }
                }
                kind::SERVER | kind::CONSUMER => entry[k] = true,
                // Internal/Unspecified with no parent of its own service
                kind::UNSPECIFIED | kind::INTERNAL => {
                    let own_parent = s.span.parent_id.is_some_and(|pid| {
                        !s.svc_null && same_id(pid).iter().any(|&p| !trace[p].svc_null && trace[p].span.node == s.span.node)
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
            if trace[pk].span.kind == kind::PRODUCER || trace[ck].span.kind == kind::CONSUMER {
                continue;
            }
            let (c, p) = (loc(&trace[ck]), loc(&trace[pk]));
            // caller-side latency: the parent's duration for a Client
            // parent, else the child's (§2.2)
            let (b, r) = if trace[pk].span.kind == kind::CLIENT { p } else { c };
            let d = cols[b].dur.as_primitive::<Int64Type>();
            let latency = (!d.is_null(r)).then(|| d.value(r));
            pending.clear();
            pending.push((trace[pk].span.span_id, pk, false));
            for _round in 0..ANCHOR_ROUNDS {
                next.clear();
                for &(cur, at, from_parent) in pending.iter() {
                    let same = same_id(cur);
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
                if pending.is_empty() || pending.len() > ANCHOR_MAX_BRANCHES {
                    break;
                }
            }
            self.walks_cut += pending.len() as i64;
        }
    }
}


/// `cross_calls`, `virtual_calls` and `entry_spans` from the rows the walk
/// found: each column is the spans' own column (or the parent's), taken by
/// location, so types and values are exactly those of `window_spans`.
pub(super) fn calls_tables(batches: &[RecordBatch], found: &[&Calls]) -> Result<[(&'static str, Vec<RecordBatch>); 4]> {
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
                ("weight", "weight", &child),
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
                ("weight", "weight", v),
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
            vec![("is_root", Arc::new(is_root)), ("weight", interleave(&column("weight")?, e)?)],
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

