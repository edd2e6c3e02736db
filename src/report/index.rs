//! `index.html`: the five Monday questions on one page — who owns what,
//! what changed, what is failing, who is overloaded, what is stale — each
//! card its top entries and a link to the table with the rest.


use serde_json::{Map, Value, json};

use super::{Page, graph_svg, render, top};
use crate::analysis::graph::Edge;
use crate::error::Result;
use crate::names::slug;
use crate::analysis::graph::team_edges;

/// Writes `index.html`.
pub(super) fn write(page: &Page) -> Result<()> {
    let Page { dir, tera, site } = *page;
    let r = site.r;
    let mut c = site.base("", "Service ownership");
    // Most urgent first (README "Reading the index"), then most pages.
    let mut teams: Vec<Value> = site.teams.iter().map(|t| site.team_summary(t)).collect();
    let key = |t: &Value| (t["urgency_rank"].as_i64().unwrap_or(0), t["pages"].as_i64().unwrap_or(0));
    teams.sort_by(|a, b| key(b).cmp(&key(a)));
    let act: Vec<&Value> = teams.iter().filter(|t| t["urgency"] == "act").collect();
    c.insert("teams_to_act", &act);
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
    // Notable rows, each marked worse or better for the reader.
    let notable: Vec<_> = site
        .t("week_over_week")
        .iter()
        .filter(|w| w.get("notable") == Some(&json!(true)))
        .map(|w| {
            let mut w = w.clone();
            let metric = w.get("metric").and_then(Value::as_str).unwrap_or_default();
            let dir = crate::analysis::changes::direction(metric, w.get("change").and_then(Value::as_f64));
            w.insert("direction".into(), json!(dir));
            w
        })
        .collect();
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
    top(&mut c, "hurting", &r.hurting);
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
    let misfit: Vec<Value> = site.t("derived_slos").iter().filter(|s| s.get("fits") == Some(&json!(false))).map(|m| Value::Object(m.clone())).collect();
    top(&mut c, "derived_misfit", &misfit);
    super::write(&dir.join("index.html"), &render(tera, "index.html", &c)?)?;
    Ok(())
}

pub(super) fn alert_json(a: &crate::analysis::alerts::Alert) -> Value {
    json!({
        "service": a.service, "team": a.team, "alert": a.alert, "fires": a.fires, "pages": a.pages,
        "transient": a.transient, "unacknowledged": a.unacknowledged, "sleep_pages": a.sleep_pages,
        "median_ttr_min": a.median_ttr_min, "noisy": a.noisy,
    })
}

pub(super) fn postmortem_json(p: &crate::analysis::postmortems::TeamPostmortems) -> Value {
    json!({
        "team": p.team, "severe": p.severe, "with": p.with, "pending": p.pending, "missing": p.missing,
        "coverage": p.coverage(), "users_impacted": p.users_impacted, "missing_ids": p.missing_ids,
    })
}

