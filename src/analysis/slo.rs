//! SLO attainment and derived internal SLOs (SPEC §2.5).
//!
//! Attainment is SQL over the entry spans (`queries/slo_day.sql`). Derived
//! targets: for a service A with a latency target (q, T) and a service B it
//! calls synchronously, n = mean A→B calls per valid A request that calls B,
//! q_B = 1 − (1 − q)/n, share = median over those requests of (sum of the
//! request's caller-side latencies to B ÷ the request's duration, capped at
//! 1), T_B = T·share, observed = the q_B `quantile_cont` of all A→B calls'
//! caller-side latency. Targets propagate along simple chains; each service
//! keeps its strictest (smallest T; then larger q, smaller depth,
//! `driven_by`, chain text).
//!
//! The heavy part runs in SQL (`queries/slo_anchor_*.sql`,
//! `slo_requests.sql`, `slo_fanout.sql`): each call is tied to its request
//! by following parent links round by round (only the calls not yet tied go
//! on); the observed quantile comes from the edge's latency sketch (the
//! SPEC §2.3 accuracy contract). Only the per-edge figures reach Rust.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

use crate::analysis::graph::Edge;
use crate::engine;
use crate::table::Table;
use crate::error::Result;
use crate::model::Org;
use crate::queries;
use crate::sketch::Sketch;
use crate::table::{ColType::*, Rows, bo, f, fo, i, read, s};

/// Registers `slo_defs` (one row per catalog SLO).
async fn register_defs(ctx: &SessionContext, org: &Org) -> Result<()> {
    let defs: Vec<_> = org.catalog.entries.iter().flat_map(|e| e.slos.iter().map(move |s| (e, s))).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("service", DataType::Utf8, false),
        Field::new("slo", DataType::Utf8, false),
        Field::new("operation", DataType::Utf8, true),
        Field::new("latency_ms", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(defs.iter().map(|(e, _)| e.name.as_str()))),
            Arc::new(StringArray::from_iter_values(defs.iter().map(|(_, s)| s.name.as_str()))),
            Arc::new(StringArray::from_iter(defs.iter().map(|(_, s)| s.operation.as_deref()))),
            Arc::new(Float64Array::from_iter(defs.iter().map(|(_, s)| s.latency_ms))),
        ],
    )?;
    engine::register_batches(ctx, "slo_defs", &(schema as _), vec![batch]).await
}

/// Registers the catalog's SLO definitions (`slo_defs`) for [`daily`].
pub async fn prepare(ctx: &SessionContext, org: &Org) -> Result<()> {
    register_defs(ctx, org).await
}

/// The per-window-spans partials: `slo_day` (valid/good per SLO and day)
/// and `slo_requests` (per caller → callee and request). Both merge by
/// concatenation across buckets of traces.
/// Returns the anchor walks cut (see [`ANCHOR_ROUNDS`]) when it ties the
/// calls itself.
pub async fn daily(ctx: &SessionContext, have_anchored: bool) -> Result<i64> {
    engine::materialize(ctx, "slo_day", queries::SLO_DAY).await?;
    let cut = if have_anchored { 0 } else { anchor_calls(ctx).await? };
    engine::materialize(ctx, "slo_requests", queries::SLO_REQUESTS).await?;
    Ok(cut)
}

/// The `slos` table from `slo_day`.
pub async fn slos(ctx: &SessionContext, org: &Org) -> Result<Table> {
    let t = engine::query(ctx, "SELECT service, slo, SUM(valid) AS valid, SUM(good) AS good FROM slo_day GROUP BY service, slo").await?;
    // Weighted sums (SPEC §2.14): written rounded; the figures from the
    // exact sums.
    let (svc, slo, valid, good) = (read::strs(&t, "service")?, read::strs(&t, "slo")?, read::f64s(&t, "valid")?, read::f64s(&t, "good")?);
    let counts: HashMap<(String, String), (f64, f64)> = (0..svc.len())
        .map(|r| ((svc[r].clone().unwrap_or_default(), slo[r].clone().unwrap_or_default()), (valid[r].unwrap_or(0.0), good[r].unwrap_or(0.0))))
        .collect();
    let mut rows = Rows::new(&[("service", Text), ("slo", Text), ("kind", Text), ("objective", Float), ("latency_ms", Float), ("valid", Int), ("good", Int), ("attainment", Float), ("met", Bool), ("error_budget", Float), ("budget_used", Float)]);
    for e in &org.catalog.entries {
        for sl in &e.slos {
            let (valid, good) = counts.get(&(e.name.clone(), sl.name.clone())).copied().unwrap_or((0.0, 0.0));
            let attainment = (valid > 0.0).then(|| good / valid);
            let budget = (1.0 - sl.objective) * valid;
            let used = (valid > 0.0 && budget > 0.0).then(|| (valid - good) / budget);
            rows.push(vec![
                s(e.name.as_str()),
                s(sl.name.as_str()),
                s(if sl.latency_ms.is_some() { "latency" } else { "availability" }),
                f(sl.objective),
                fo(sl.latency_ms),
                i(valid.round() as i64),
                i(good.round() as i64),
                fo(attainment),
                bo(attainment.map(|a| a >= sl.objective)),
                f(budget),
                fo(used),
            ]);
        }
    }
    rows.finish()
}

/// A latency target (q, T ms) acting on a service.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub quantile: f64,
    pub threshold_ms: f64,
    pub driven_by: String,
    pub depth: usize,
    pub path: Vec<String>,
    pub observed_ms: Option<f64>,
}

impl Target {
    /// Ordering: stricter first (SPEC §2.5 tie-break).
    fn stricter_than(&self, o: &Target) -> bool {
        let key = |t: &Target| (t.threshold_ms, -t.quantile, t.depth, t.driven_by.clone(), t.path.join(">"));
        let (a, b) = (key(self), key(o));
        a.partial_cmp(&b) == Some(std::cmp::Ordering::Less)
    }
}

/// What the derivation needs per synchronous service edge.
#[derive(Debug, Default)]
pub struct EdgeStats {
    /// (A, B, operation) → (n, share); operation None = every valid request.
    pub fanout: HashMap<(String, String, Option<String>), (f64, f64)>,
    /// (A, B) → sketch of every A→B call's caller-side latency.
    pub latency: HashMap<(String, String), Sketch>,
}

/// Services reachable along sync service edges from declared latency SLOs.
fn target_services(org: &Org, edges: &[Edge]) -> BTreeSet<String> {
    let mut seen: BTreeSet<String> = org
        .catalog
        .entries
        .iter()
        .filter(|e| e.slos.iter().any(|s| s.latency_ms.is_some()))
        .map(|e| e.name.clone())
        .collect();
    let mut stack: Vec<String> = seen.iter().cloned().collect();
    while let Some(a) = stack.pop() {
        for e in edges.iter().filter(|e| e.caller == a && e.callee_type == "service" && e.kind == "sync") {
            if seen.insert(e.callee.clone()) {
                stack.push(e.callee.clone());
            }
        }
    }
    seen
}

/// Collects n, share (from `slo_requests`) and the latency sketches (from
/// `edge_day`) of the synchronous service edges.
async fn edge_stats(ctx: &SessionContext) -> Result<EdgeStats> {
    let t = engine::query(ctx, queries::SLO_FANOUT).await?;
    let (a, b, op) = (read::strs(&t, "caller")?, read::strs(&t, "callee")?, read::strs(&t, "operation")?);
    let (n, share) = (read::f64s(&t, "n")?, read::f64s(&t, "share")?);
    let mut stats = EdgeStats::default();
    for r in 0..a.len() {
        if let (Some(a), Some(b), Some(n), Some(sh)) = (&a[r], &b[r], n[r], share[r]) {
            stats.fanout.insert((a.clone(), b.clone(), op[r].clone()), (n, sh));
        }
    }
    let t = engine::query(ctx, queries::SLO_EDGE_SKETCHES).await?;
    let (a, b, sk) = (read::strs(&t, "caller")?, read::strs(&t, "callee")?, read::bins(&t, "sketch")?);
    for r in 0..a.len() {
        if let (Some(a), Some(b), Some(s)) = (&a[r], &b[r], sk[r].as_deref().and_then(Sketch::from_bytes)) {
            stats.latency.insert((a.clone(), b.clone()), s);
        }
    }
    Ok(stats)
}

/// The parent links a §2.5 anchor walk follows at most, in SQL and in the
/// per-trace pass: a walk still open then (a parent cycle, or a chain
/// deeper than this) ties its call to no request, and is counted in
/// `summary.json` `anchor_walks_cut`.
pub const ANCHOR_ROUNDS: usize = 64;

/// Ties each call to its request: round k tests the k-th ancestor of the
/// calling span; only the calls not yet tied go on, so after the first
/// round (where most calls sit directly under their request) the rounds are
/// small. Registers `slo_anchored(trace_id, caller, callee, latency_ns,
/// request_id)`; returns the walks still open after [`ANCHOR_ROUNDS`].
pub(crate) async fn anchor_calls(ctx: &SessionContext) -> Result<i64> {
    let mut pending = engine::materialize(ctx, "slo_pending", queries::SLO_ANCHOR_START).await?;
    let mut hits = vec![];
    let mut schema = None;
    let mut rounds = 0;
    while pending > 0 && rounds < ANCHOR_ROUNDS {
        engine::materialize(ctx, "slo_round", queries::SLO_ANCHOR_ROUND).await?;
        let t = engine::query(
            ctx,
            "SELECT trace_id, caller, callee, latency_ns, cur AS request_id FROM slo_round WHERE hit",
        )
        .await?;
        schema.get_or_insert(t.schema.clone());
        hits.extend(t.batches);
        pending = engine::materialize(ctx, "slo_pending", queries::SLO_ANCHOR_NEXT).await?;
        rounds += 1;
    }
    let schema = match (schema, hits.first()) {
        (_, Some(b)) => b.schema(),
        (Some(s), None) => s,
        (None, None) => {
            // No calls at all: an empty table of the right shape.
            let t = engine::query(ctx, "SELECT trace_id, caller, callee, latency_ns, cur AS request_id FROM slo_pending").await?;
            t.schema
        }
    };
    engine::register_batches(ctx, "slo_anchored", &schema, hits).await?;
    for t in ["slo_pending", "slo_round"] {
        ctx.deregister_table(t)?;
    }
    Ok(pending as i64)
}

/// Propagates declared latency SLOs down sync edges; strictest per service.
pub fn propagate(org: &Org, edges: &[Edge], stats: &EdgeStats) -> BTreeMap<String, Target> {
    let mut callees: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in edges.iter().filter(|e| e.callee_type == "service" && e.kind == "sync" && e.caller != e.callee) {
        callees.entry(e.caller.as_str()).or_default().push(e.callee.as_str());
    }
    let mut best: BTreeMap<String, Target> = BTreeMap::new();
    let mut budget = 200_000usize; // bound on chains explored in pathological graphs
    struct Frame {
        service: String,
        q: f64,
        t: f64,
        op: Option<String>,
        path: Vec<String>,
    }
    for e in &org.catalog.entries {
        for sl in e.slos.iter().filter(|s| s.latency_ms.is_some()) {
            let driven_by = format!("{}/{}", e.name, sl.name);
            let mut stack = vec![Frame {
                service: e.name.clone(),
                q: sl.objective,
                t: sl.latency_ms.unwrap(),
                op: sl.operation.clone(),
                path: vec![e.name.clone()],
            }];
            while let Some(fr) = stack.pop() {
                for &callee in callees.get(fr.service.as_str()).unwrap_or(&vec![]) {
                    if fr.path.iter().any(|p| p == callee) || budget == 0 {
                        continue;
                    }
                    budget -= 1;
                    let key = (fr.service.clone(), callee.to_string(), fr.op.clone());
                    let Some(&(n, share)) = stats.fanout.get(&key) else { continue };
                    let q_b = 1.0 - (1.0 - fr.q) / n;
                    let t_b = fr.t * share;
                    let observed =
                        stats.latency.get(&(fr.service.clone(), callee.to_string())).and_then(|s| s.quantile_ms(q_b));
                    let mut path = fr.path.clone();
                    path.push(callee.to_string());
                    let cand = Target {
                        quantile: q_b,
                        threshold_ms: t_b,
                        driven_by: driven_by.clone(),
                        depth: path.len() - 1,
                        path: path.clone(),
                        observed_ms: observed,
                    };
                    if best.get(callee).is_none_or(|cur| cand.stricter_than(cur)) {
                        best.insert(callee.to_string(), cand);
                    }
                    stack.push(Frame { service: callee.to_string(), q: q_b, t: t_b, op: None, path });
                }
            }
        }
    }
    best
}

/// The `derived_slos` table.
pub async fn derived(ctx: &SessionContext, org: &Org, edges: &[Edge]) -> Result<(Table, BTreeMap<String, Target>)> {
    let stats = if target_services(org, edges).is_empty() { EdgeStats::default() } else { edge_stats(ctx).await? };
    let best = propagate(org, edges, &stats);
    let mut rows = Rows::new(&[("service", Text), ("driven_by", Text), ("depth", Int), ("quantile", Float), ("threshold_ms", Float), ("observed_ms", Float), ("fits", Bool)]);
    for (svc, t) in &best {
        rows.push(vec![
            s(svc.as_str()),
            s(t.driven_by.as_str()),
            i(t.depth as i64),
            f(t.quantile),
            f(t.threshold_ms),
            fo(t.observed_ms),
            bo(t.observed_ms.map(|o| o <= t.threshold_ms)),
        ]);
    }
    Ok((rows.finish()?, best))
}
