//! An independent, deliberately naive implementation of SPEC §2.1–2.3 over
//! spans read straight from Parquet with the arrow reader (no SQL), used to
//! check the pipeline's counts exactly and its quantiles against the
//! accuracy contract.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use ownermap::datafusion::arrow::array::{Array, AsArray, MapArray};
use ownermap::datafusion::arrow::datatypes::{Int64Type, TimestampNanosecondType};
use ownermap::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

#[derive(Debug, Clone)]
pub struct RSpan {
    pub trace: String,
    pub id: String,
    pub parent: String,
    pub start: i64,
    pub dur: i64,
    pub service: String,
    pub name: String,
    pub kind: String,
    pub error: bool,
    pub attrs: HashMap<String, String>,
}

pub fn read_dir(dir: &Path) -> Vec<RSpan> {
    let mut out = vec![];
    for p in super::files_under(dir).iter().filter(|p| p.extension().is_some_and(|x| x == "parquet")) {
        read_file(p, &mut out);
    }
    out
}

fn read_file(p: &Path, out: &mut Vec<RSpan>) {
    let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p).unwrap()).unwrap().build().unwrap();
    for b in r {
        let b = b.unwrap();
        let s = |n: &str| b.column_by_name(n).unwrap().as_string::<i32>().clone();
        let (tid, sid, pid, name, kind, svc, st) =
            (s("TraceId"), s("SpanId"), s("ParentSpanId"), s("SpanName"), s("SpanKind"), s("ServiceName"), s("StatusCode"));
        let ts = b.column_by_name("Timestamp").unwrap().as_primitive::<TimestampNanosecondType>().clone();
        let dur = b.column_by_name("Duration").unwrap().as_primitive::<Int64Type>().clone();
        let attrs: &MapArray = b.column_by_name("SpanAttributes").unwrap().as_map();
        for i in 0..b.num_rows() {
            let m = attrs.value(i);
            let keys = m.column(0).as_string::<i32>();
            let vals = m.column(1).as_string::<i32>();
            let a = (0..m.len()).map(|k| (keys.value(k).to_string(), vals.value(k).to_string())).collect();
            out.push(RSpan {
                trace: tid.value(i).to_string(),
                id: sid.value(i).to_string(),
                parent: pid.value(i).to_string(),
                start: ts.value(i),
                dur: dur.value(i),
                service: svc.value(i).to_string(),
                name: name.value(i).to_string(),
                kind: kind.value(i).to_string(),
                error: st.value(i) == "Error",
                attrs: a,
            });
        }
    }
}

#[derive(Debug, Default, Clone)]
pub struct RService {
    pub requests: u64,
    pub roots: u64,
    pub errors: u64,
    pub durations: Vec<i64>,
}

#[derive(Debug, Default, Clone)]
pub struct REdge {
    pub calls: u64,
    pub errors: u64,
    pub latencies: Vec<i64>,
    pub server: Vec<i64>,
}

#[derive(Debug, Default)]
pub struct Reference {
    pub services: BTreeMap<String, RService>,
    pub operations: BTreeMap<(String, String), RService>,
    /// (caller, callee, callee_type, kind)
    pub edges: BTreeMap<(String, String, String, String), REdge>,
    pub unresolved: u64,
    pub traces: usize,
    /// SPEC §2.9 per (root service, root operation): requests, summed root
    /// durations, and per node (on_path, summed credits)
    pub critical: BTreeMap<(String, String), (u64, i64, BTreeMap<String, (u64, i64)>)>,
}

/// SPEC §2.9's walk, written recursively: credits per node for the subtree
/// of `p` cut to [ps, pe].
fn cp_walk<'a>(
    p: &'a RSpan,
    ps: i64,
    pe: i64,
    kids: &HashMap<(&'a str, &'a str), Vec<&'a RSpan>>,
    node: &dyn Fn(&RSpan) -> String,
    credits: &mut BTreeMap<String, i64>,
    depth: usize,
) {
    let add = |credits: &mut BTreeMap<String, i64>, who: &RSpan, ns: i64| {
        if ns > 0 {
            *credits.entry(node(who)).or_insert(0) += ns;
        }
    };
    let mut cut: Vec<(i64, i64, &RSpan)> = kids
        .get(&(p.trace.as_str(), p.id.as_str()))
        .into_iter()
        .flatten()
        .filter(|c| !(c.start + c.dur < ps || c.start > pe))
        .map(|c| (c.start.max(ps), (c.start + c.dur).min(pe), *c))
        .collect();
    cut.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)).then(a.2.id.cmp(&b.2.id)));
    let mut t = pe;
    for (cs, ce, c) in cut {
        if ce > t || depth > 500 {
            continue;
        }
        add(credits, p, t - ce);
        cp_walk(c, cs, ce, kids, node, credits, depth + 1);
        t = cs;
    }
    add(credits, p, t - ps);
}

/// SPEC §2.1–2.3 for the window [start, end) with `slack` ns either side.
pub fn compute(spans: &[RSpan], start: i64, end: i64, slack: i64) -> Reference {
    let read: Vec<&RSpan> = spans.iter().filter(|s| s.start >= start - slack && s.start < end + slack).collect();
    let mut first: HashMap<&str, i64> = HashMap::new();
    for s in &read {
        let e = first.entry(&s.trace).or_insert(i64::MAX);
        *e = (*e).min(s.start);
    }
    let in_window: HashSet<&str> = first.iter().filter(|(_, t)| **t >= start && **t < end).map(|(k, _)| *k).collect();
    let w: Vec<&RSpan> = read.into_iter().filter(|s| in_window.contains(s.trace.as_str())).collect();
    let mut by_id: HashMap<(&str, &str), Vec<&RSpan>> = HashMap::new();
    for s in &w {
        by_id.entry((&s.trace, &s.id)).or_default().push(s);
    }
    let mut r = Reference { traces: in_window.len(), ..Default::default() };
    let mut has_cross_child: HashSet<(&str, &str)> = HashSet::new();
    for c in &w {
        if c.parent.is_empty() {
            continue;
        }
        for p in by_id.get(&(c.trace.as_str(), c.parent.as_str())).into_iter().flatten() {
            if p.service == c.service {
                continue;
            }
            has_cross_child.insert((&p.trace, &p.id));
            let kind = if p.kind == "Producer" || c.kind == "Consumer" { "async" } else { "sync" };
            let e = r.edges.entry((p.service.clone(), c.service.clone(), "service".into(), kind.into())).or_default();
            e.calls += 1;
            if c.error || ((p.kind == "Client" || p.kind == "Producer") && p.error) {
                e.errors += 1;
            }
            e.latencies.push(if p.kind == "Client" { p.dur } else { c.dur });
            e.server.push(c.dur);
        }
    }
    // §2.9: the critical path of every root entry span.
    let vnode = |s: &RSpan| -> Option<String> {
        if !(s.kind == "Client" || s.kind == "Producer") || has_cross_child.contains(&(s.trace.as_str(), s.id.as_str())) {
            return None;
        }
        let keys = ["peer.service", "db.system.name", "db.system", "messaging.system", "rpc.service", "server.address", "net.peer.name"];
        keys.iter().find_map(|k| s.attrs.get(*k).filter(|v| !v.is_empty())).filter(|n| **n != s.service).cloned()
    };
    let node = |s: &RSpan| vnode(s).unwrap_or_else(|| s.service.clone());
    let mut kids: HashMap<(&str, &str), Vec<&RSpan>> = HashMap::new();
    for s in &w {
        if !s.parent.is_empty() && s.kind != "Consumer" {
            kids.entry((&s.trace, &s.parent)).or_default().push(s);
        }
    }
    for s in &w {
        if s.parent.is_empty() && matches!(s.kind.as_str(), "Server" | "Internal" | "Unspecified") && s.dur > 0 {
            let mut credits = BTreeMap::new();
            cp_walk(s, s.start, s.start + s.dur, &kids, &node, &mut credits, 0);
            let e = r.critical.entry((s.service.clone(), s.name.clone())).or_default();
            e.0 += 1;
            e.1 += s.dur;
            for (n, ns) in credits {
                let x = e.2.entry(n).or_default();
                x.0 += 1;
                x.1 += ns;
            }
        }
    }
    for s in &w {
        if (s.kind == "Client" || s.kind == "Producer") && !has_cross_child.contains(&(s.trace.as_str(), s.id.as_str())) {
            let keys = ["peer.service", "db.system.name", "db.system", "messaging.system", "rpc.service", "server.address", "net.peer.name"];
            let name = keys.iter().find_map(|k| s.attrs.get(*k).filter(|v| !v.is_empty()));
            match name {
                None => r.unresolved += 1,
                Some(n) if *n == s.service => {}
                Some(n) => {
                    let nonempty = |k: &str| s.attrs.get(k).is_some_and(|v| !v.is_empty());
                    let t = if nonempty("db.system.name") || nonempty("db.system") {
                        "database"
                    } else if nonempty("messaging.system") {
                        "messaging"
                    } else {
                        "external"
                    };
                    let kind = if s.kind == "Producer" { "async" } else { "sync" };
                    let e = r.edges.entry((s.service.clone(), n.clone(), t.into(), kind.into())).or_default();
                    e.calls += 1;
                    e.errors += s.error as u64;
                    e.latencies.push(s.dur);
                }
            }
        }
        let entry = match s.kind.as_str() {
            "Server" | "Consumer" => true,
            "Internal" | "Unspecified" => {
                s.parent.is_empty()
                    || !by_id
                        .get(&(s.trace.as_str(), s.parent.as_str()))
                        .is_some_and(|ps| ps.iter().any(|p| p.service == s.service))
            }
            _ => false,
        };
        r.services.entry(s.service.clone()).or_default();
        if entry {
            for acc in [
                r.services.get_mut(&s.service).unwrap(),
                r.operations.entry((s.service.clone(), s.name.clone())).or_default(),
            ] {
                acc.requests += 1;
                acc.roots += s.parent.is_empty() as u64;
                acc.errors += s.error as u64;
                acc.durations.push(s.dur);
            }
        }
    }
    r
}

/// Whether `v_ms` meets the SPEC §2.3 contract for the q-quantile of `ns`.
pub fn meets_contract(ns: &mut [i64], q: f64, v_ms: f64) -> bool {
    ns.sort_unstable();
    let pos = q * (ns.len() - 1) as f64;
    let lo = ns[pos.floor() as usize] as f64 / 1e6;
    let hi = ns[pos.ceil() as usize] as f64 / 1e6;
    0.99 * lo - 1e-9 <= v_ms && v_ms <= 1.01 * hi + 1e-9
}
