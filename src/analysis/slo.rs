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
//! The tie of a call to its request walks parent links through the spans of
//! the caller only: a call whose path to an entry span of the caller leaves
//! the caller's spans belongs to no request (such paths do not occur in
//! instrumented code, where a Client span sits under its own service's span).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use datafusion::arrow::array::{Float64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;

use crate::analysis::graph::Edge;
use crate::engine::{self, Table};
use crate::error::Result;
use crate::model::Org;
use crate::queries;
use crate::sketch::quantile_cont;
use crate::table::{Rows, bo, f, fo, i, read, s};

/// Registers `slo_defs` (one row per catalog SLO).
fn register_defs(ctx: &SessionContext, org: &Org) -> Result<()> {
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
    ctx.deregister_table("slo_defs")?;
    ctx.register_table("slo_defs", Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))?;
    Ok(())
}

/// The `slos` table.
pub async fn slos(ctx: &SessionContext, org: &Org) -> Result<Table> {
    register_defs(ctx, org)?;
    let t = engine::query(ctx, &format!("SELECT service, slo, SUM(valid) AS valid, SUM(good) AS good FROM ({}) GROUP BY service, slo", queries::SLO_DAY)).await?;
    let (svc, slo, valid, good) = (read::strs(&t, "service"), read::strs(&t, "slo"), read::i64s(&t, "valid"), read::i64s(&t, "good"));
    let counts: HashMap<(String, String), (i64, i64)> = (0..svc.len())
        .map(|r| ((svc[r].clone().unwrap_or_default(), slo[r].clone().unwrap_or_default()), (valid[r].unwrap_or(0), good[r].unwrap_or(0))))
        .collect();
    let mut rows = Rows::new(
        &["service", "slo", "kind", "objective", "latency_ms", "valid", "good", "attainment", "met", "error_budget", "budget_used"],
        "sssffiifbff",
    );
    for e in &org.catalog.entries {
        for sl in &e.slos {
            let (valid, good) = counts.get(&(e.name.clone(), sl.name.clone())).copied().unwrap_or((0, 0));
            let attainment = (valid > 0).then(|| good as f64 / valid as f64);
            let budget = (1.0 - sl.objective) * valid as f64;
            let used = (valid > 0 && budget > 0.0).then(|| (valid - good) as f64 / budget);
            rows.push(vec![
                s(e.name.as_str()),
                s(sl.name.as_str()),
                s(if sl.latency_ms.is_some() { "latency" } else { "availability" }),
                f(sl.objective),
                fo(sl.latency_ms),
                i(valid),
                i(good),
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

/// Per (A, B, operation filter): n and share; per (A, B): all latencies.
#[derive(Debug, Default, Clone)]
pub struct CallStats {
    /// (A, B, op) → (n, share); op None = every valid request.
    pub fanout: HashMap<(String, String, Option<String>), (f64, f64)>,
    /// (A, B) → caller-side latencies (ms) of every A→B sync call.
    pub latencies: HashMap<(String, String), Vec<f64>>,
}

/// A request of A that made calls: (operation, duration ms, is_error) and
/// per callee the summed caller-side latency and call count.
#[derive(Debug, Default, Clone)]
pub struct Request {
    pub operation: String,
    pub duration_ms: f64,
    pub is_error: bool,
    pub calls: BTreeMap<String, (usize, f64)>,
}

/// Computes n and share for A→B over the requests of A.
pub fn fanout(requests: &[Request], callee: &str, operation: Option<&str>) -> Option<(f64, f64)> {
    let mut counts = vec![];
    let mut shares = vec![];
    for r in requests {
        if r.is_error || operation.is_some_and(|o| o != r.operation) {
            continue;
        }
        let Some((n, lat)) = r.calls.get(callee) else { continue };
        counts.push(*n as f64);
        shares.push(if r.duration_ms <= 0.0 { 1.0 } else { (lat / r.duration_ms).min(1.0) });
    }
    if counts.is_empty() {
        return None;
    }
    let n = counts.iter().sum::<f64>() / counts.len() as f64;
    Some((n, quantile_cont(&mut shares, 0.5)?))
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

/// Collects the requests of target services and their sync calls.
async fn requests(ctx: &SessionContext, services: &BTreeSet<String>) -> Result<(HashMap<String, Vec<Request>>, HashMap<(String, String), Vec<f64>>)> {
    let schema = Arc::new(Schema::new(vec![Field::new("service", DataType::Utf8, false)]));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(StringArray::from_iter_values(services.iter()))])?;
    ctx.deregister_table("slo_services")?;
    ctx.register_table("slo_services", Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))?;

    let sp = engine::query(ctx, queries::SLO_SPANS).await?;
    let (tid, sid, pid) = (read::bins(&sp, "trace_id"), read::bins(&sp, "span_id"), read::bins(&sp, "parent_id"));
    let (svc, name, err) = (read::strs(&sp, "service"), read::strs(&sp, "name"), read::bools(&sp, "is_error"));
    let (dur, entry) = (read::i64s(&sp, "duration_ns"), read::bools(&sp, "is_entry"));
    // (trace, span) → row
    let mut index: HashMap<(&[u8], &[u8]), usize> = HashMap::with_capacity(tid.len());
    for r in 0..tid.len() {
        if let (Some(t), Some(s)) = (&tid[r], &sid[r]) {
            index.entry((t.as_slice(), s.as_slice())).or_insert(r);
        }
    }
    let calls = engine::query(ctx, queries::SLO_CALLS).await?;
    let (ctid, cpid) = (read::bins(&calls, "trace_id"), read::bins(&calls, "parent_span_id"));
    let (caller, callee, lat) = (read::strs(&calls, "caller"), read::strs(&calls, "callee"), read::i64s(&calls, "latency_ns"));
    let mut latencies: HashMap<(String, String), Vec<f64>> = HashMap::new();
    let mut by_request: HashMap<usize, Request> = HashMap::new();
    for r in 0..ctid.len() {
        let (Some(t), Some(p), Some(a), Some(bn)) = (&ctid[r], &cpid[r], &caller[r], &callee[r]) else { continue };
        let l = lat[r].unwrap_or(0) as f64 / 1e6;
        latencies.entry((a.clone(), bn.clone())).or_default().push(l);
        // Nearest entry-span ancestor in A, the calling span included.
        let mut cur = index.get(&(t.as_slice(), p.as_slice())).copied();
        let mut steps = 0;
        while let Some(c) = cur {
            if entry[c] && svc[c].as_deref() == Some(a.as_str()) {
                break;
            }
            steps += 1;
            cur = match (&pid[c], steps < 256) {
                (Some(pp), true) => index.get(&(t.as_slice(), pp.as_slice())).copied(),
                _ => None,
            };
        }
        let Some(req) = cur else { continue };
        let rq = by_request.entry(req).or_insert_with(|| Request {
            operation: name[req].clone().unwrap_or_default(),
            duration_ms: dur[req].unwrap_or(0) as f64 / 1e6,
            is_error: err[req],
            calls: BTreeMap::new(),
        });
        let c = rq.calls.entry(bn.clone()).or_insert((0, 0.0));
        c.0 += 1;
        c.1 += l;
    }
    let mut per_service: HashMap<String, Vec<Request>> = HashMap::new();
    for (r, rq) in by_request {
        per_service.entry(svc[r].clone().unwrap_or_default()).or_default().push(rq);
    }
    Ok((per_service, latencies))
}

/// Propagates declared latency SLOs down sync edges; strictest per service.
pub fn propagate(
    org: &Org,
    edges: &[Edge],
    requests: &HashMap<String, Vec<Request>>,
    latencies: &HashMap<(String, String), Vec<f64>>,
) -> BTreeMap<String, Target> {
    let mut callees: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in edges.iter().filter(|e| e.callee_type == "service" && e.kind == "sync" && e.caller != e.callee) {
        callees.entry(e.caller.as_str()).or_default().push(e.callee.as_str());
    }
    let empty = vec![];
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
                let reqs = requests.get(&fr.service).unwrap_or(&empty);
                for &callee in callees.get(fr.service.as_str()).unwrap_or(&vec![]) {
                    if fr.path.iter().any(|p| p == callee) || budget == 0 {
                        continue;
                    }
                    budget -= 1;
                    let Some((n, share)) = fanout(reqs, callee, fr.op.as_deref()) else { continue };
                    let q_b = 1.0 - (1.0 - fr.q) / n;
                    let t_b = fr.t * share;
                    let observed = latencies
                        .get(&(fr.service.clone(), callee.to_string()))
                        .and_then(|v| quantile_cont(&mut v.clone(), q_b));
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
    let services = target_services(org, edges);
    let (reqs, lats) = if services.is_empty() { Default::default() } else { requests(ctx, &services).await? };
    let best = propagate(org, edges, &reqs, &lats);
    let mut rows = Rows::new(&["service", "driven_by", "depth", "quantile", "threshold_ms", "observed_ms", "fits"], "ssifffb");
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
