//! The static report (SPEC §3): `index.html`, `teams/<team>.html`,
//! `services/<service>.html`, `graph.html` (+ `graph.svg`, `graph.dot`,
//! `graph.mmd`) and `rotations.html`, rendered with Tera from `reports/`.
//! Pages are views over the result tables, not new computations.
//!
//! Safety: Tera autoescapes every `.html` template, SVG labels are escaped
//! in [`graph_svg`] and by plotters, file names come from [`slug`] (ASCII
//! letters, digits and `-`, plus a hash of the original so distinct names
//! never collide), and catalog links are links only when they are http(s).

pub mod charts;
pub mod critical_svg;
pub mod graph_svg;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use serde_json::{Map, Value, json};
use tera::{Context, Tera};

use crate::analysis::graph::{Edge, filter_team, team_edges, to_dot, to_mermaid};
use crate::analysis::load::{report_weeks, week_label};
use crate::engine::Table;
use crate::error::{Error, Result};
use crate::model::UNOWNED;
use crate::pipeline::RunResult;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../reports/layout.html")),
    ("macros.html", include_str!("../../reports/macros.html")),
    ("index.html", include_str!("../../reports/index.html")),
    ("team.html", include_str!("../../reports/team.html")),
    ("service.html", include_str!("../../reports/service.html")),
    ("graph.html", include_str!("../../reports/graph.html")),
    ("rotations.html", include_str!("../../reports/rotations.html")),
    ("maturity.html", include_str!("../../reports/maturity.html")),
];
const CSS: &str = include_str!("../../reports/style.css");

/// A file-name-safe, collision-free slug for an untrusted name.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
        if s.len() >= 48 {
            break;
        }
    }
    let s = s.trim_matches('-');
    let h = crate::hash::fnv1a(name.as_bytes());
    format!("{}-{:08x}", if s.is_empty() { "x" } else { s }, h as u32)
}

/// Shortens a label for charts and graph boxes (full name in tooltips).
pub fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).collect::<String>() + "…" }
}

/// A table's rows as JSON objects (numbers, strings, booleans, nulls).
pub fn json_rows(t: &Table) -> Vec<Map<String, Value>> {
    let mut out = vec![];
    for b in &t.batches {
        for r in 0..b.num_rows() {
            let mut m = Map::new();
            for (f, c) in t.schema.fields().iter().zip(b.columns()) {
                let v = if c.is_null(r) {
                    Value::Null
                } else {
                    match c.data_type() {
                        DataType::Boolean => json!(c.as_boolean().value(r)),
                        DataType::Int64 => json!(c.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(r)),
                        DataType::Float64 => json!(c.as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(r)),
                        _ => {
                            let s = datafusion::arrow::util::display::array_value_to_string(c, r).unwrap_or_default();
                            json!(s)
                        }
                    }
                };
                m.insert(f.name().clone(), v);
            }
            out.push(m);
        }
    }
    out
}

fn rows_where(rows: &[Map<String, Value>], col: &str, val: &str) -> Vec<Map<String, Value>> {
    rows.iter().filter(|r| r.get(col).and_then(Value::as_str) == Some(val)).cloned().collect()
}

fn num_filter(v: &Value, args: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    let digits = args.get("d").and_then(Value::as_u64).unwrap_or(2) as usize;
    Ok(match v {
        Value::Null => json!("—"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!(n.to_string()),
        Value::Number(n) => json!(format!("{:.*}", digits, n.as_f64().unwrap_or(0.0))),
        Value::Bool(b) => json!(if *b { "yes" } else { "no" }),
        other => other.clone(),
    })
}

fn pct_filter(v: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    Ok(match v.as_f64() {
        Some(x) => json!(format!("{:.2}%", x * 100.0)),
        None => json!("—"),
    })
}

/// A verdict in words a manager reads (the tables keep the SPEC's names).
pub fn verdict_label(v: &str) -> &str {
    match v {
        "overloaded" => "overloaded",
        "understaffed" => "rotation too small",
        "spread_thin" => "too many services per person",
        "wide_incidents" => "many people per incident",
        "underloaded" => "few pages",
        "oversized" => "rotation too large",
        "expertise_gap" => "service without an expert on call",
        "unhappy" => "unhappy on call",
        "ok" => "ok",
        other => other,
    }
}

fn label_filter(v: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    Ok(match v.as_str() {
        Some(s) => json!(verdict_label(s)),
        None => v.clone(),
    })
}

fn tera() -> Result<Tera> {
    let mut t = Tera::default();
    t.add_raw_templates(TEMPLATES.to_vec()).map_err(|e| Error::Other(format!("report templates: {e:?}")))?;
    t.autoescape_on(vec![".html"]);
    t.register_filter("num", num_filter);
    t.register_filter("pct", pct_filter);
    t.register_filter("label", label_filter);
    Ok(t)
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn render(t: &Tera, name: &str, ctx: &Context) -> Result<String> {
    t.render(name, ctx).map_err(|e| {
        let mut msg = format!("rendering {name}: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg += &format!(": {s}");
            src = s.source();
        }
        Error::Other(msg)
    })
}

/// Everything the pages share, computed once.
struct Site<'a> {
    r: &'a RunResult,
    tables: BTreeMap<&'static str, Vec<Map<String, Value>>>,
    services: BTreeSet<String>,
    teams: Vec<String>,
    /// when the pages were written (UTC), shown in every footer
    generated_at: String,
    /// per trend week (oldest first): the stored `team_load` and `services`
    /// rows by team / service
    trend: Vec<(String, BTreeMap<String, Map<String, Value>>, BTreeMap<String, Map<String, Value>>)>,
    /// callees that are databases, brokers or external APIs
    virtual_nodes: BTreeSet<String>,
}

impl<'a> Site<'a> {
    fn new(r: &'a RunResult) -> Site<'a> {
        let tables: BTreeMap<&'static str, Vec<Map<String, Value>>> =
            r.tables.iter().map(|(n, t)| (*n, json_rows(t))).collect();
        let mut services: BTreeSet<String> = r.org.catalog.entries.iter().map(|e| e.name.clone()).collect();
        for row in &tables["services"] {
            if let Some(s) = row.get("service").and_then(Value::as_str) {
                services.insert(s.to_string());
            }
        }
        let mut teams = r.org.known_teams();
        for t in r.org.all_team_names() {
            if !teams.contains(&t) {
                teams.push(t);
            }
        }
        let unowned_has = tables["services"].iter().any(|s| s.get("team").and_then(Value::as_str) == Some(UNOWNED));
        if unowned_has && !teams.iter().any(|t| t == UNOWNED) {
            teams.push(UNOWNED.to_string());
        }
        let generated_at = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string();
        let trend = r
            .trend
            .iter()
            .map(|(week, stored)| {
                let get = |name: &str| stored.as_ref().and_then(|t| t.get(name)).map(json_rows).unwrap_or_default();
                // A week's own team_load row (the table holds 4 weeks).
                let teams = get("team_load")
                    .into_iter()
                    .filter(|r| r.get("week").and_then(Value::as_str) == Some(week))
                    .filter_map(|r| Some((r.get("team")?.as_str()?.to_string(), r)))
                    .collect();
                let services = get("services").into_iter().filter_map(|r| Some((r.get("service")?.as_str()?.to_string(), r))).collect();
                (week.clone(), teams, services)
            })
            .collect();
        let virtual_nodes = r.edges.iter().filter(|e| e.callee_type != "service").map(|e| e.callee.clone()).collect();
        Site { r, tables, services, teams, generated_at, trend, virtual_nodes }
    }

    fn t(&self, name: &str) -> &[Map<String, Value>] {
        self.tables.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    fn team_of(&self, service: &str) -> String {
        self.r.org.service_team(service)
    }

    fn base(&self, root: &str, title: &str) -> Context {
        let mut c = Context::new();
        c.insert("root", root);
        c.insert("title", title);
        c.insert("summary", &self.r.summary);
        c.insert("generated_at", &self.generated_at);
        c.insert("version", env!("CARGO_PKG_VERSION"));
        c.insert("catalog_entries", &self.r.org.catalog.entries.len());
        c.insert("incident_count", &self.r.org.incidents.len());
        c
    }

    /// Weeks of the trend that have anything stored (the first shown is
    /// the oldest stored), as labels.
    fn trend_weeks(&self) -> Vec<String> {
        let first = self.trend.iter().position(|(_, t, s)| !t.is_empty() || !s.is_empty()).unwrap_or(self.trend.len());
        self.trend[first..].iter().map(|(w, _, _)| w.clone()).collect()
    }

    /// A team's figure per trend week (None where not stored).
    fn team_trend(&self, team: &str, col: &str) -> Vec<Option<f64>> {
        let skip = self.trend.len() - self.trend_weeks().len();
        self.trend[skip..].iter().map(|(_, t, _)| t.get(team).and_then(|r| r.get(col)).and_then(Value::as_f64)).collect()
    }

    /// A service's figure per trend week (None where not stored).
    fn service_trend(&self, svc: &str, col: &str) -> Vec<Option<f64>> {
        let skip = self.trend.len() - self.trend_weeks().len();
        self.trend[skip..].iter().map(|(_, _, s)| s.get(svc).and_then(|r| r.get(col)).and_then(Value::as_f64)).collect()
    }

    fn verdicts_of(&self, team: &str) -> Vec<Map<String, Value>> {
        rows_where(self.t("rotation_verdicts"), "team", team)
    }

    fn team_summary(&self, team: &str) -> Value {
        let owned: Vec<String> = self.services.iter().filter(|s| self.team_of(s) == team).cloned().collect();
        let slos: Vec<_> = self.t("slos").iter().filter(|r| r.get("service").and_then(Value::as_str).is_some_and(|s| owned.iter().any(|o| o == s))).collect();
        let met = slos.iter().filter(|r| r.get("met") == Some(&json!(true))).count();
        let pages: i64 = self
            .t("team_load")
            .iter()
            .filter(|r| r.get("team").and_then(Value::as_str) == Some(team))
            .filter_map(|r| r.get("pages").and_then(Value::as_i64))
            .sum();
        let docs = self.r.docs_scores.get(team).map(|(p, n)| if *n > 0 { *p as f64 / *n as f64 } else { 0.0 });
        let verdicts: Vec<String> = self.verdicts_of(team).iter().filter_map(|v| v.get("verdict").and_then(Value::as_str).map(str::to_string)).collect();
        let spark = self.team_trend(team, "pages");
        let spark = if spark.iter().flatten().count() >= 2 { charts::sparkline(&spark) } else { String::new() };
        json!({
            "name": team, "services": owned.len(), "pages": pages, "slos": slos.len(), "slos_met": met, "spark": spark,
            "docs_score": docs, "verdicts": verdicts,
            "bad": verdicts.iter().any(|v| v != "ok"),
        })
    }
}

fn alert_json(a: &crate::analysis::alerts::Alert) -> Value {
    json!({
        "service": a.service, "team": a.team, "alert": a.alert, "fires": a.fires, "pages": a.pages,
        "transient": a.transient, "unacknowledged": a.unacknowledged, "sleep_pages": a.sleep_pages,
        "median_ttr_min": a.median_ttr_min, "noisy": a.noisy,
    })
}

fn postmortem_json(p: &crate::analysis::postmortems::TeamPostmortems) -> Value {
    json!({
        "team": p.team, "severe": p.severe, "with": p.with, "pending": p.pending, "missing": p.missing,
        "coverage": p.coverage(), "users_impacted": p.users_impacted, "missing_ids": p.missing_ids,
    })
}

/// The team page's "Experts on the rotation": owned services × rotation
/// members with each answer that counts (None: the team has no rotation;
/// `surveyed` false: no survey configured).
fn expertise_view(r: &RunResult, team: &str) -> Option<Value> {
    let e = r.expertise.iter().find(|e| e.team == team)?;
    let people: Vec<&String> = r.org.teams.get(team).map(|t| t.rotation().iter().collect()).unwrap_or_default();
    let rows: Vec<Value> = e
        .owned
        .iter()
        .map(|svc| {
            let experts = e.experts.get(svc).map(Vec::len).unwrap_or(0);
            let cells: Vec<Value> = people
                .iter()
                .map(|p| {
                    let level = e.levels.get(*p).and_then(|l| l.get(svc)).copied();
                    json!({"level": level, "expert": e.experts.get(svc).is_some_and(|x| x.contains(*p))})
                })
                .collect();
            json!({"service": svc, "cells": cells, "experts": experts, "uncovered": e.uncovered.contains(svc)})
        })
        .collect();
    Some(json!({
        "surveyed": e.surveyed, "people": people, "rows": rows, "uncovered": e.uncovered,
        "bus_factor": e.bus_factor, "respondents": e.respondents, "happiness": e.happiness,
        "coverage": e.coverage(), "rotation": people.len(),
    }))
}

/// A node's team: a service's owner, a virtual node's catalog owner (empty
/// when the catalog does not list it).
fn node_team(site: &Site, node: &str, virt: bool) -> String {
    if virt && site.r.org.catalog.get(node).is_none() { String::new() } else { site.team_of(node) }
}

fn is_virtual(site: &Site, node: &str) -> bool {
    site.virtual_nodes.contains(node)
}

/// The service page's "Where a request's time goes": per root operation of
/// the service, the bar and the rows (largest share first).
fn critical_view(site: &Site, svc: &str) -> Vec<Value> {
    let rows = rows_where(site.t("critical_path"), "root_service", svc);
    let mut ops: Vec<String> = rows.iter().filter_map(|r| r.get("root_operation").and_then(Value::as_str).map(str::to_string)).collect();
    ops.dedup();
    ops.into_iter()
        .map(|op| {
            let mine: Vec<&Map<String, Value>> = rows.iter().filter(|r| r.get("root_operation").and_then(Value::as_str) == Some(&op)).collect();
            let segs: Vec<critical_svg::Segment> = mine
                .iter()
                .map(|r| {
                    let node = r.get("node").and_then(Value::as_str).unwrap_or_default().to_string();
                    let virt = is_virtual(site, &node);
                    critical_svg::Segment { team: node_team(site, &node, virt), share: r.get("share").and_then(Value::as_f64).unwrap_or(0.0), virt, node }
                })
                .collect();
            let table: Vec<Value> = mine
                .iter()
                .zip(&segs)
                .map(|(r, seg)| json!({"node": seg.node, "team": seg.team, "virtual": seg.virt, "on_path": r.get("on_path"), "mean_ms": r.get("mean_ms"), "share": r.get("share")}))
                .collect();
            let requests = mine.first().and_then(|r| r.get("requests")).cloned();
            json!({"operation": op, "requests": requests, "svg": critical_svg::bar(&segs, &site.teams), "rows": table})
        })
        .collect()
}

/// The team page's entry points of other teams where the team's services
/// take the largest share of the critical path (top 10).
fn on_others_paths(site: &Site, team: &str) -> Vec<Value> {
    let mut out: Vec<(f64, Value)> = site
        .t("critical_path")
        .iter()
        .filter_map(|r| {
            let root = r.get("root_service")?.as_str()?;
            let node = r.get("node")?.as_str()?;
            let virt = is_virtual(site, node);
            (node_team(site, node, virt) == team && site.team_of(root) != team).then(|| {
                let share = r.get("share").and_then(Value::as_f64).unwrap_or(0.0);
                (share, json!({"root_service": root, "root_team": site.team_of(root), "root_operation": r.get("root_operation"), "node": node, "share": share, "mean_ms": r.get("mean_ms")}))
            })
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.into_iter().take(10).map(|(_, v)| v).collect()
}

/// Writes every page of the report into `dir`.
/// How many entries an index card shows; the rest are one click away.
const CARD_TOP: usize = 8;

/// Puts a card's first [`CARD_TOP`] `items` under `name` and how many more
/// there are under `name_more`.
fn top<T: serde::Serialize>(c: &mut tera::Context, name: &str, items: &[T]) {
    c.insert(name, &items[..items.len().min(CARD_TOP)]);
    c.insert(format!("{name}_more"), &items.len().saturating_sub(CARD_TOP));
}

pub fn write_site<'a>(dir: &Path, r: &'a RunResult) -> Result<()> {
    let mut tera = tera()?;
    let site = Site::new(r);
    // Links are looked up by functions, not by indexing a map with an
    // untrusted name (which Tera would parse as a path).
    for (func, dir_name, names) in [("service_href", "services", &site.services), ("team_href", "teams", &site.teams.iter().cloned().collect())] {
        let names: BTreeSet<String> = names.clone();
        tera.register_function(func, move |args: &std::collections::HashMap<String, Value>| {
            Ok(match args.get("name").and_then(Value::as_str) {
                Some(n) if names.contains(n) => json!(format!("{dir_name}/{}.html", slug(n))),
                _ => Value::Null,
            })
        });
    }
    write(&dir.join("style.css"), CSS)?;

    // graph files
    let all: Vec<&Edge> = r.edges.iter().collect();
    // Drawings leave out edges below report.min_edge_calls (the tables and
    // the .dot/.mmd files keep them).
    let drawn = |edges: &[&'a Edge]| -> Vec<&'a Edge> { edges.iter().copied().filter(|e| e.calls >= r.min_edge_calls).collect() };
    let svg = graph_svg::draw(&drawn(&all), &|s| Some(format!("services/{}.html", slug(s))), &site.teams);
    write(&dir.join("graph.svg"), &svg)?;
    write(&dir.join("graph.dot"), &to_dot(&all))?;
    write(&dir.join("graph.mmd"), &to_mermaid(&all))?;

    // index
    let mut c = site.base("", "Service ownership");
    let teams: Vec<Value> = site.teams.iter().map(|t| site.team_summary(t)).collect();
    c.insert("teams", &teams);
    let team_edge_list: Vec<Edge> = team_edges(&r.edges)
        .into_iter()
        .map(|((a, b), (calls, errors))| Edge {
            caller: a.clone(),
            callee: b.clone(),
            callee_type: "service".into(),
            kind: "sync".into(),
            calls,
            errors,
            caller_team: Some(a),
            callee_team: Some(b),
        })
        .collect();
    let tg: Vec<&Edge> = team_edge_list.iter().collect();
    c.insert("team_graph_svg", &graph_svg::draw(&tg, &|t| Some(format!("teams/{}.html", slug(t))), &site.teams));
    c.insert("gaps", site.t("ownership_gaps"));
    // New and vanished edges with at least report.min_edge_calls calls,
    // the largest first (the table keeps them all).
    let calls = |e: &Map<String, Value>| {
        let col = if e.get("change") == Some(&json!("new")) { "calls_this_week" } else { "calls_last_week" };
        e.get(col).and_then(Value::as_i64).unwrap_or(0)
    };
    let mut diff: Vec<&Map<String, Value>> = site.t("edge_diff").iter().filter(|e| calls(e) >= r.min_edge_calls).collect();
    diff.sort_by_key(|e| std::cmp::Reverse(calls(e)));
    c.insert("edge_diff_small", &(site.t("edge_diff").len() - diff.len()));
    top(&mut c, "edge_diff", &diff);
    c.insert("min_edge_calls", &r.min_edge_calls);
    c.insert("compared_with", &r.compared_with);
    let notable: Vec<_> = site.t("week_over_week").iter().filter(|w| w.get("notable") == Some(&json!(true))).cloned().collect();
    c.insert("notable_changes", &notable.iter().take(10).collect::<Vec<_>>());
    c.insert("notable_more", &notable.len().saturating_sub(10));
    c.insert("previous_week", &crate::analysis::history::previous_week(&r.window));
    // SLOs missed, the most budget burnt first.
    let mut missed: Vec<Map<String, Value>> = site.t("slos").iter().filter(|s| s.get("met") == Some(&json!(false))).cloned().collect();
    let burnt = |s: &Map<String, Value>| s.get("budget_used").and_then(Value::as_f64).unwrap_or(f64::INFINITY);
    missed.sort_by(|a, b| burnt(b).total_cmp(&burnt(a)));
    top(&mut c, "slos_missed", &missed);
    c.insert("overloaded", &site.t("rotation_verdicts").iter().filter(|s| s.get("verdict") == Some(&json!("overloaded"))).cloned().collect::<Vec<_>>());
    let gaps: Vec<Value> = r
        .expertise
        .iter()
        .filter(|e| !e.uncovered.is_empty())
        .map(|e| json!({"team": e.team, "uncovered": e.uncovered, "owned": e.owned.len(), "bus_factor": e.bus_factor}))
        .collect();
    c.insert("expertise_gaps", &gaps);
    c.insert("surveyed", &r.org.survey.is_some());
    top(&mut c, "noisy_alerts", &r.alerts.iter().filter(|a| a.noisy).map(alert_json).collect::<Vec<_>>());
    // Postmortem coverage: the worst first (most missing, then lowest
    // coverage).
    let mut pms: Vec<&crate::analysis::postmortems::TeamPostmortems> = r.postmortems.iter().filter(|p| p.severe > 0).collect();
    pms.sort_by(|a, b| b.missing.cmp(&a.missing).then(a.coverage().unwrap_or(1.0).total_cmp(&b.coverage().unwrap_or(1.0))).then(a.team.cmp(&b.team)));
    top(&mut c, "postmortems", &pms.iter().map(|p| postmortem_json(p)).collect::<Vec<_>>());
    let mut below: Vec<&crate::analysis::maturity::Maturity> = r.maturity.iter().filter(|m| m.rank() < 2).collect();
    below.sort_by_key(|m| m.rank());
    top(&mut c, "below_silver", &below.iter().map(|m| json!({"service": m.service, "level": m.level, "missing": m.missing_for_next})).collect::<Vec<_>>());
    // Stalest documentation: the lowest docs scores first, then the oldest
    // review (never reviewed first); each with the checks it fails.
    let score = |d: &Map<String, Value>| d.get("score").and_then(Value::as_f64).unwrap_or(0.0);
    let reviewed = |d: &Map<String, Value>| {
        let svc = d.get("service").and_then(Value::as_str).unwrap_or_default();
        r.org.catalog.get(svc).and_then(|e| e.last_reviewed)
    };
    let mut stale: Vec<&Map<String, Value>> = site.t("docs_health").iter().filter(|d| score(d) < 1.0).collect();
    stale.sort_by(|a, b| score(a).total_cmp(&score(b)).then(reviewed(a).cmp(&reviewed(b))));
    let stale: Vec<Value> = stale
        .iter()
        .map(|d| {
            let failing: Vec<&str> = crate::analysis::docs::CHECKS.iter().copied().filter(|k| d.get(*k) == Some(&json!(false))).collect();
            json!({"service": d.get("service"), "team": d.get("team"), "score": score(d), "failing": failing,
                   "reviewed": reviewed(d).map(|x| x.to_string())})
        })
        .collect();
    top(&mut c, "stale_docs", &stale);
    // Services hurting other teams: errors they caused that surfaced in
    // another team's service, and pages they caused on another team.
    let mut hurting: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for a in site.t("attribution") {
        let (Some(sig), Some(cul)) = (a.get("signal_service").and_then(Value::as_str), a.get("culprit_service").and_then(Value::as_str)) else { continue };
        let culprit_team = a.get("culprit_team").and_then(Value::as_str).unwrap_or_default();
        if site.team_of(sig) != culprit_team {
            hurting.entry(cul.to_string()).or_default().0 += a.get("traces").and_then(Value::as_i64).unwrap_or(0);
        }
    }
    for m in site.t("misrouted") {
        if let Some(cul) = m.get("culprit_service").and_then(Value::as_str) {
            hurting.entry(cul.to_string()).or_default().1 += 1;
        }
    }
    let mut hurting: Vec<(String, (i64, i64))> = hurting.into_iter().filter(|(_, (e, p))| *e > 0 || *p > 0).collect();
    hurting.sort_by(|a, b| (b.1 .1, b.1 .0).cmp(&(a.1 .1, a.1 .0)).then(a.0.cmp(&b.0)));
    top(&mut c, "hurting", &hurting.iter().map(|(s, (e, p))| json!({"service": s, "team": site.team_of(s), "errors": e, "pages": p})).collect::<Vec<_>>());
    // Rotations to split: what the split would take in people.
    let splits: Vec<Value> = r
        .plans
        .iter()
        .map(|p| {
            let now = r.org.teams.get(&p.team).map(|t| t.rotation_size()).unwrap_or(0);
            let need: u32 = p.groups.iter().map(|g| g.needed_rotation_size).sum();
            json!({"team": p.team, "now": now, "sizes": p.groups.iter().map(|g| g.needed_rotation_size).collect::<Vec<_>>(), "need": need,
                   "more": (need as i64 - now as i64).max(0), "per12h": p.groups.iter().map(|g| g.pages_per_12h).collect::<Vec<_>>()})
        })
        .collect();
    c.insert("splits", &splits);
    c.insert("derived_misfit", &site.t("derived_slos").iter().filter(|s| s.get("fits") == Some(&json!(false))).cloned().collect::<Vec<_>>());
    write(&dir.join("index.html"), &render(&tera, "index.html", &c)?)?;

    // graph page
    let mut c = site.base("", "Dependency graph");
    c.insert("graph_svg", &svg);
    c.insert("min_edge_calls", &r.min_edge_calls);
    c.insert("edges", site.t("edges"));
    write(&dir.join("graph.html"), &render(&tera, "graph.html", &c)?)?;

    // rotations
    let mut c = site.base("", "On-call rotations");
    let weeks = crate::analysis::load::verdict_weeks(&r.window);
    let points: Vec<(String, f64, f64, f64)> = r
        .org
        .teams
        .teams
        .iter()
        .map(|t| {
            let pages: i64 = site
                .t("team_load")
                .iter()
                .filter(|x| x.get("team").and_then(Value::as_str) == Some(&t.name))
                .filter(|x| x.get("week").and_then(Value::as_str).is_some_and(|w| weeks.iter().any(|m| week_label(*m) == w)))
                .filter_map(|x| x.get("pages").and_then(Value::as_i64))
                .sum();
            (t.name.clone(), t.rotation_size() as f64, pages as f64 / 56.0, crate::analysis::rotation::min_rotation(t.sites, &r.rotation) as f64)
        })
        .collect();
    let two_sites = r.org.teams.teams.iter().filter(|t| t.sites > 1).map(|t| crate::analysis::rotation::min_rotation(t.sites, &r.rotation) as f64).fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
    c.insert("load_chart", &charts::load_vs_rotation(&points, r.max_pages_per_12h, r.rotation.min_single_site as f64, two_sites));
    c.insert("verdicts", site.t("rotation_verdicts"));
    c.insert("plans", site.t("split_plans"));
    c.insert("load", site.t("team_load"));
    write(&dir.join("rotations.html"), &render(&tera, "rotations.html", &c)?)?;

    // maturity
    let mut c = site.base("", "Service maturity");
    let teams: Vec<Value> = crate::analysis::maturity::by_team(&r.maturity)
        .into_iter()
        .map(|(team, counts)| {
            let mut services: Vec<&crate::analysis::maturity::Maturity> = r.maturity.iter().filter(|m| m.team == team).collect();
            services.sort_by_key(|m| m.rank());
            let services: Vec<Value> = services
                .iter()
                .map(|m| json!({"service": m.service, "level": m.level, "checks": m.checks.iter().map(|(_, ok)| *ok).collect::<Vec<_>>()}))
                .collect();
            json!({"team": team, "counts": counts, "services": services})
        })
        .collect();
    let mut counts = [0usize; 4];
    for m in &r.maturity {
        counts[m.rank()] += 1;
    }
    c.insert("teams", &teams);
    c.insert("counts", &counts);
    c.insert("checks", &crate::analysis::maturity::all_checks());
    c.insert("max_review_age_days", &r.max_review_age_days);
    write(&dir.join("maturity.html"), &render(&tera, "maturity.html", &c)?)?;

    // team pages
    for team in &site.teams {
        let mut c = site.base("../", &format!("Team {team}"));
        c.insert("team", &site.team_summary(team));
        let settings = r.org.teams.get(team);
        c.insert("timezone", &settings.map(|t| t.timezone.name().to_string()));
        c.insert("rotation_size", &settings.map(|t| t.rotation_size()));
        let owned: BTreeSet<String> = site.services.iter().filter(|s| site.team_of(s) == *team).cloned().collect();
        let keep = |table: &str, col: &str| -> Vec<Map<String, Value>> {
            site.t(table).iter().filter(|r| r.get(col).and_then(Value::as_str).is_some_and(|s| owned.contains(s))).cloned().collect()
        };
        c.insert("services", &keep("services", "service"));
        c.insert("slos", &keep("slos", "service"));
        c.insert("derived", &keep("derived_slos", "service"));
        c.insert("docs", &keep("docs_health", "service"));
        c.insert("drift", &keep("dependency_drift", "service"));
        let load = rows_where(site.t("team_load"), "team", team);
        c.insert("load", &load);
        let wk: Vec<String> = report_weeks(&r.window).iter().map(|m| week_label(*m)).collect();
        let pages: Vec<f64> = wk
            .iter()
            .map(|w| load.iter().find(|l| l.get("week").and_then(Value::as_str) == Some(w)).and_then(|l| l.get("pages")).and_then(Value::as_f64).unwrap_or(0.0))
            .collect();
        c.insert("pages_chart", &charts::pages_per_week(&wk, &pages, r.max_pages_per_12h * 14.0));
        let bands = load.iter().fold([0i64; 3], |mut a, l| {
            for (k, col) in ["business_pages", "off_hours_pages", "sleep_pages"].iter().enumerate() {
                a[k] += l.get(*col).and_then(Value::as_i64).unwrap_or(0);
            }
            a
        });
        c.insert("bands", &bands);
        let band_items: Vec<(String, f64)> = ["business hours", "evenings and weekends", "sleep hours"]
            .iter()
            .zip(bands)
            .map(|(n, v)| (n.to_string(), v as f64))
            .collect();
        c.insert("bands_chart", &charts::bars("Pages by local time of arrival", &band_items, None, true));
        let budget: Vec<(String, f64)> = keep("slos", "service")
            .iter()
            .filter_map(|s| Some((format!("{} / {}", s.get("service")?.as_str()?, s.get("slo")?.as_str()?), 100.0 * s.get("budget_used")?.as_f64()?)))
            .collect();
        c.insert("budget_chart", &if budget.is_empty() { String::new() } else { charts::bars("Error budget used (%; past the line = exhausted)", &budget, Some(100.0), true) });
        c.insert("verdicts", &site.verdicts_of(team));
        c.insert("plans", &rows_where(site.t("split_plans"), "team", team));
        c.insert("caused_elsewhere", &rows_where(site.t("attribution"), "culprit_team", team).into_iter().filter(|a| a.get("signal_service").and_then(Value::as_str).is_some_and(|s| site.team_of(s) != *team)).collect::<Vec<_>>());
        c.insert("misrouted", &rows_where(site.t("misrouted"), "incident_team", team));
        let touching: Vec<&Edge> = filter_team(&r.edges, Some(team));
        c.insert("callers", &touching.iter().filter(|e| e.callee_team.as_deref() == Some(team) && e.caller_team.as_deref() != Some(team)).collect::<Vec<_>>());
        c.insert("callees", &touching.iter().filter(|e| e.caller_team.as_deref() == Some(team) && e.callee_team.as_deref() != Some(team)).collect::<Vec<_>>());
        c.insert("graph_svg", &graph_svg::draw(&drawn(&touching), &|s| Some(format!("../services/{}.html", slug(s))), &site.teams));
        let weeks = site.trend_weeks();
        let stored = weeks.len();
        c.insert("trend_weeks", &stored);
        if stored >= 2 {
            let pages = [charts::Series { label: "pages", values: site.team_trend(team, "pages") }, charts::Series { label: "sleep pages (22:00–08:00)", values: site.team_trend(team, "sleep_pages") }];
            c.insert("pages_trend", &charts::weekly_trend("Pages per week", "pages", &weeks, &pages, Some((r.max_pages_per_12h * 14.0, format!("guideline: {:.0} pages a week", r.max_pages_per_12h * 14.0))), true));
            let mtta = [charts::Series { label: "mean time to acknowledge", values: site.team_trend(team, "mtta_min") }];
            c.insert("mtta_trend", &charts::weekly_trend("Time to acknowledge per week", "minutes", &weeks, &mtta, None, false));
        }
        c.insert("expertise", &expertise_view(r, team));
        c.insert("on_others_paths", &on_others_paths(&site, team));
        let mut alerts: Vec<&crate::analysis::alerts::Alert> = r.alerts.iter().filter(|a| a.team == *team).collect();
        // Noisy alerts first, then by fires (the table's order).
        alerts.sort_by_key(|a| !a.noisy);
        c.insert("alerts", &alerts.iter().map(|a| alert_json(a)).collect::<Vec<_>>());
        c.insert("postmortems", &r.postmortems.iter().find(|p| p.team == *team).map(postmortem_json));
        write(&dir.join("teams").join(format!("{}.html", slug(team))), &render(&tera, "team.html", &c)?)?;
    }

    // service pages
    for svc in &site.services {
        let mut c = site.base("../", &format!("Service {svc}"));
        c.insert("service", svc);
        c.insert("team", &site.team_of(svc));
        let daily = rows_where(site.t("service_daily"), "service", svc);
        let days: Vec<String> = daily.iter().filter_map(|d| d.get("date").and_then(Value::as_str).map(str::to_string)).collect();
        let p = |col: &str| daily.iter().map(|d| d.get(col).and_then(Value::as_f64).unwrap_or(0.0)).collect::<Vec<_>>();
        c.insert("trend_chart", &if days.is_empty() { String::new() } else { charts::latency_trend(&days, &p("p50_ms"), &p("p99_ms")) });
        c.insert("summary_row", &rows_where(site.t("services"), "service", svc).into_iter().next());
        c.insert("operations", &rows_where(site.t("operations"), "service", svc));
        c.insert("callers", &rows_where(site.t("edges"), "callee", svc));
        c.insert("callees", &rows_where(site.t("edges"), "caller", svc));
        c.insert("slos", &rows_where(site.t("slos"), "service", svc));
        c.insert("derived", &rows_where(site.t("derived_slos"), "service", svc));
        c.insert("docs", &rows_where(site.t("docs_health"), "service", svc).into_iter().next());
        let entry = r.org.catalog.get(svc);
        c.insert("description", &entry.and_then(|e| e.description.clone()));
        let links: Vec<Value> = entry
            .map(|e| e.links.iter().map(|(k, v)| json!({"kind": k, "url": v, "safe": v.starts_with("https://") || v.starts_with("http://")})).collect())
            .unwrap_or_default();
        c.insert("links", &links);
        // The 4 verdict weeks, newest first.
        let mut incidents: Vec<&crate::input::incidents::Incident> =
            crate::analysis::load::in_verdict_weeks(&r.org, &r.window).map(|(_, i)| i).filter(|i| i.service == *svc).collect();
        incidents.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        let incidents: Vec<Value> = incidents
            .iter()
            .map(|i| {
                let ttr = i.resolved_at.map(|t| (t - i.created_at).num_minutes());
                json!({"id": i.id, "title": i.title, "created_at": i.created_at.format("%a %Y-%m-%d %H:%M").to_string(), "page": i.page, "severity": i.severity, "ttr_min": ttr})
            })
            .collect();
        c.insert("incidents", &incidents);
        c.insert("attribution", &rows_where(site.t("attribution"), "signal_service", svc));
        let weeks = site.trend_weeks();
        c.insert("trend_weeks", &weeks.len());
        if weeks.len() >= 2 {
            let entry = r.org.catalog.get(svc);
            let latency = entry.and_then(|e| e.slos.iter().find_map(|x| x.latency_ms.map(|ms| (ms, x.name.clone()))));
            let avail = entry.and_then(|e| e.slos.iter().find(|x| x.latency_ms.is_none()).map(|x| (1.0 - x.objective, x.name.clone())));
            let p99 = [charts::Series { label: "p99", values: site.service_trend(svc, "p99_ms") }];
            c.insert("p99_trend", &charts::weekly_trend("p99 latency per week", "ms", &weeks, &p99, latency.map(|(ms, n)| (ms, format!("SLO {n}: {ms} ms"))), false));
            let err = [charts::Series { label: "error rate", values: site.service_trend(svc, "error_rate") }];
            c.insert("err_trend", &charts::weekly_trend("Error rate per week", "share of requests", &weeks, &err, avail.map(|(b, n)| (b, format!("SLO {n}: at most {:.2} %", b * 100.0))), false));
            let req = [charts::Series { label: "requests", values: site.service_trend(svc, "requests") }];
            c.insert("req_trend", &charts::weekly_trend("Requests per week", "requests", &weeks, &req, None, true));
        }
        c.insert("critical", &critical_view(&site, svc));
        // Its two-hop neighbourhood: edges within two calls of it, either way.
        let near: BTreeSet<&str> = r
            .edges
            .iter()
            .filter(|e| e.caller == *svc || e.callee == *svc)
            .flat_map(|e| [e.caller.as_str(), e.callee.as_str()])
            .collect();
        let hood: Vec<&Edge> = r.edges.iter().filter(|e| near.contains(e.caller.as_str()) || near.contains(e.callee.as_str())).collect();
        let hood = drawn(&hood);
        c.insert("hood_svg", &if hood.is_empty() { String::new() } else { graph_svg::draw(&hood, &|s| Some(format!("{}.html", slug(s))), &site.teams) });
        c.insert("maturity", &r.maturity.iter().find(|m| m.service == *svc).map(|m| json!({"level": m.level, "missing": m.missing_for_next})));
        write(&dir.join("services").join(format!("{}.html", slug(svc))), &render(&tera, "service.html", &c)?)?;
    }
    Ok(())
}
