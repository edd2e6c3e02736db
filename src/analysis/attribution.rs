//! Error attribution, "walking through a trace" (SPEC §2.4).
//!
//! Only the window's error spans reach Rust (`queries/error_spans.sql`).
//! A signal is an error span with no parent or an absent parent; from it
//! the walk steps to the erroring child with the earliest Timestamp (ties:
//! smallest SpanId) until there is none: that span is the culprit. A Client
//! or Producer culprit with no child in another service blames the virtual
//! node it called.

use std::collections::{BTreeMap, HashMap};

use datafusion::prelude::SessionContext;

use crate::engine;
use crate::table::Table;
use crate::error::Result;
use crate::input::incidents::Incident;
use crate::model::Org;
use crate::queries;
use crate::table::{ColType::*, Rows, i, read, s};

#[derive(Debug, Clone)]
pub struct ErrSpan {
    pub span_id: Vec<u8>,
    pub parent_id: Option<Vec<u8>>,
    pub service: String,
    pub name: String,
    pub kind: i64,
    pub start_ns: i64,
    pub vnode: Option<String>,
    pub parent_present: bool,
    pub has_cross_child: bool,
}

/// One signal and where its walk ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Attributed {
    pub trace_id: Vec<u8>,
    pub signal_service: String,
    pub signal_operation: String,
    pub signal_start: i64,
    pub culprit_service: String,
    /// the trace's weight (SPEC §2.14): the signals it stands for
    pub weight: f64,
}

/// The walk for one trace's error spans; returns (signal, culprit) pairs.
pub fn walk_trace(spans: &[ErrSpan]) -> Vec<(usize, usize)> {
    let mut children: HashMap<&[u8], Vec<usize>> = HashMap::new();
    for (k, s) in spans.iter().enumerate() {
        if let Some(p) = &s.parent_id {
            children.entry(p.as_slice()).or_default().push(k);
        }
    }
    let mut out = vec![];
    for (k, s) in spans.iter().enumerate() {
        if s.parent_id.is_some() && s.parent_present {
            continue;
        }
        let mut cur = k;
        let mut steps = 0;
        while let Some(kids) = children.get(spans[cur].span_id.as_slice()) {
            let next = kids
                .iter()
                .copied()
                .filter(|&c| c != cur)
                .min_by(|&a, &b| spans[a].start_ns.cmp(&spans[b].start_ns).then(spans[a].span_id.cmp(&spans[b].span_id)));
            match next {
                Some(n) if steps < 10_000 => {
                    cur = n;
                    steps += 1;
                }
                _ => break,
            }
        }
        out.push((k, cur));
    }
    out
}

/// The culprit's service, or the virtual node a Client/Producer called.
pub fn culprit_name(s: &ErrSpan) -> String {
    match &s.vnode {
        Some(v) if (s.kind == 3 || s.kind == 4) && !s.has_cross_child && *v != s.service => v.clone(),
        _ => s.service.clone(),
    }
}

/// Runs the walk over the window's error traces.
pub async fn attribute(ctx: &SessionContext) -> Result<Vec<Attributed>> {
    let t = engine::query(ctx, queries::ERROR_SPANS).await?;
    let trace = read::bins(&t, "trace_id")?;
    let span = read::bins(&t, "span_id")?;
    let parent = read::bins(&t, "parent_id")?;
    let service = read::strs(&t, "service")?;
    let name = read::strs(&t, "name")?;
    let kind = read::i64s(&t, "kind")?;
    let start = read::i64s(&t, "start_ns")?;
    let vnode = read::strs(&t, "vnode")?;
    let present = read::bools(&t, "parent_present")?;
    let cross = read::bools(&t, "has_cross_child")?;
    let weight = read::f64s(&t, "weight")?;
    // each trace's error spans and its weight (every span of a trace has it)
    let mut by_trace: BTreeMap<Vec<u8>, (f64, Vec<ErrSpan>)> = BTreeMap::new();
    for r in 0..trace.len() {
        let (_, spans) = by_trace.entry(trace[r].clone().unwrap_or_default()).or_insert_with(|| (weight[r].unwrap_or(1.0), vec![]));
        spans.push(ErrSpan {
            span_id: span[r].clone().unwrap_or_default(),
            parent_id: parent[r].clone(),
            service: service[r].clone().unwrap_or_default(),
            name: name[r].clone().unwrap_or_default(),
            kind: kind[r].unwrap_or(0),
            start_ns: start[r].unwrap_or(0),
            vnode: vnode[r].clone(),
            parent_present: present[r],
            has_cross_child: cross[r],
        });
    }
    let mut out = vec![];
    for (tid, (weight, spans)) in by_trace {
        for (sig, cul) in walk_trace(&spans) {
            out.push(Attributed {
                weight,
                trace_id: tid.clone(),
                signal_service: spans[sig].service.clone(),
                signal_operation: spans[sig].name.clone(),
                signal_start: spans[sig].start_ns,
                culprit_service: culprit_name(&spans[cul]),
            });
        }
    }
    Ok(out)
}

pub struct AttributionTables {
    pub attribution: Table,
    pub team_errors: Table,
    pub misrouted: Table,
}

fn culprit_team(org: &Org, name: &str) -> String {
    org.service_team(name)
}

/// `attribution`, `team_errors` and `misrouted` (SPEC §3). Signals count
/// their trace's weight (SPEC §2.14), written rounded; incidents are not
/// sampled and count once.
pub fn tables(org: &Org, found: &[Attributed], incidents: &[Incident]) -> Result<AttributionTables> {
    let mut groups: BTreeMap<(String, String, String, String), f64> = BTreeMap::new();
    let mut surfaced: BTreeMap<String, f64> = BTreeMap::new();
    let mut caused: BTreeMap<String, f64> = BTreeMap::new();
    for a in found {
        let ct = culprit_team(org, &a.culprit_service);
        let st = org.service_team(&a.signal_service);
        *groups
            .entry((a.signal_service.clone(), a.signal_operation.clone(), a.culprit_service.clone(), ct.clone()))
            .or_default() += a.weight;
        if st != ct {
            *surfaced.entry(st).or_default() += a.weight;
            *caused.entry(ct).or_default() += a.weight;
        }
    }
    let count = |w: f64| i(w.round() as i64);
    let mut attribution = Rows::new(&[("signal_service", Text), ("signal_operation", Text), ("culprit_service", Text), ("culprit_team", Text), ("traces", Int)]);
    for ((ss, so, cs, ct), n) in groups {
        attribution.push(vec![s(ss), s(so), s(cs), s(ct), count(n)]);
    }
    let mut teams = org.known_teams();
    for t in surfaced.keys().chain(caused.keys()) {
        if !teams.contains(t) {
            teams.push(t.clone());
        }
    }
    let mut team_errors = Rows::new(&[("team", Text), ("surfaced_elsewhere_caused", Int), ("caused_elsewhere", Int)]);
    for t in teams {
        team_errors.push(vec![
            s(t.as_str()),
            count(surfaced.get(&t).copied().unwrap_or(0.0)),
            count(caused.get(&t).copied().unwrap_or(0.0)),
        ]);
    }
    // The earliest signal of each trace decides an incident's culprit.
    let mut first: HashMap<&[u8], &Attributed> = HashMap::new();
    for a in found {
        let e = first.entry(a.trace_id.as_slice()).or_insert(a);
        if a.signal_start < e.signal_start {
            *e = a;
        }
    }
    let mut misrouted = Rows::new(&[("incident_id", Text), ("incident_team", Text), ("culprit_service", Text), ("culprit_team", Text)]);
    for inc in incidents {
        let Some(tid) = inc.trace_id.as_deref().and_then(crate::engine::udf::canonical_id_from_str) else { continue };
        let Some(a) = first.get(tid.as_slice()) else { continue };
        let it = org.incident_team(inc);
        let ct = culprit_team(org, &a.culprit_service);
        if it != ct {
            misrouted.push(vec![s(inc.id.as_str()), s(it), s(a.culprit_service.as_str()), s(ct)]);
        }
    }
    Ok(AttributionTables { attribution: attribution.finish()?, team_errors: team_errors.finish()?, misrouted: misrouted.finish()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(id: u8, parent: Option<u8>, svc: &str, kind: i64, start: i64) -> ErrSpan {
        ErrSpan {
            span_id: vec![id],
            parent_id: parent.map(|p| vec![p]),
            service: svc.into(),
            name: format!("op{id}"),
            kind,
            start_ns: start,
            vnode: None,
            parent_present: parent.is_some(),
            has_cross_child: true,
        }
    }

    #[test]
    fn walk_takes_the_earliest_erroring_child_then_smallest_id() {
        // 1 (root) has erroring children 2 (t=20) and 3 (t=10): 3 wins.
        // 3 has erroring children 5 and 4 at the same time: 4 (smaller id) wins.
        let spans = vec![
            e(1, None, "gw", 2, 0),
            e(2, Some(1), "a", 2, 20),
            e(3, Some(1), "b", 2, 10),
            e(5, Some(3), "c", 2, 15),
            e(4, Some(3), "d", 2, 15),
        ];
        let w = walk_trace(&spans);
        assert_eq!(w, vec![(0, 4)]);
        assert_eq!(spans[4].service, "d");
    }

    #[test]
    fn a_signal_can_be_its_own_culprit_and_orphans_are_signals() {
        let mut orphan = e(9, Some(7), "x", 2, 0);
        orphan.parent_present = false;
        let spans = vec![e(1, None, "gw", 2, 0), orphan];
        assert_eq!(walk_trace(&spans), vec![(0, 0), (1, 1)]);
    }

    #[test]
    fn a_client_culprit_without_a_server_child_blames_the_virtual_node() {
        let mut c = e(2, Some(1), "api", 3, 5);
        c.has_cross_child = false;
        c.vnode = Some("postgresql".into());
        assert_eq!(culprit_name(&c), "postgresql");
        c.has_cross_child = true;
        assert_eq!(culprit_name(&c), "api");
    }
}

/// A service whose failures reach other teams: errors it caused that
/// surfaced in another team's service (signals, §2.4), and pages it caused
/// on another team (misrouted incidents).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Hurting {
    pub service: String,
    pub team: String,
    pub errors: i64,
    pub pages: i64,
}

/// The services hurting other teams, the most harm first: error traces
/// caused in other teams' services plus pages routed to another team (a
/// misrouted page counts as one harmed request), then the most pages, then
/// by name.
pub fn hurting_others(org: &Org, t: &AttributionTables) -> Result<Vec<Hurting>> {
    let mut by_service: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    let a = &t.attribution;
    let (signal, culprit, team, traces) = (read::strs(a, "signal_service")?, read::strs(a, "culprit_service")?, read::strs(a, "culprit_team")?, read::i64s(a, "traces")?);
    for k in 0..signal.len() {
        let (Some(sig), Some(cul)) = (&signal[k], &culprit[k]) else { continue };
        if org.service_team(sig) != team[k].as_deref().unwrap_or_default() {
            by_service.entry(cul.clone()).or_default().0 += traces[k].unwrap_or(0);
        }
    }
    for cul in read::strs(&t.misrouted, "culprit_service")?.into_iter().flatten() {
        by_service.entry(cul).or_default().1 += 1;
    }
    let mut out: Vec<Hurting> = by_service
        .into_iter()
        .filter(|(_, (e, p))| *e > 0 || *p > 0)
        .map(|(service, (errors, pages))| Hurting { team: org.service_team(&service), service, errors, pages })
        .collect();
    out.sort_by(|a, b| (b.errors + b.pages, b.pages).cmp(&(a.errors + a.pages, a.pages)).then(a.service.cmp(&b.service)));
    Ok(out)
}
