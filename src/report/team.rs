//! `teams/<team>.html`: what a team owns, its load and trends, its SLOs,
//! who it hurts and who hurts it, its experts and alerts.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::site::{Site, rows_where};
use super::{Page, charts, graph_svg, render};
use crate::analysis::graph::Edge;
use crate::error::Result;
use crate::names::slug;
use super::index::{alert_json, postmortem_json};
use super::service::{is_virtual, node_team};
use crate::analysis::graph::filter_team;
use crate::analysis::load::{report_weeks, week_label};
use crate::run_result::RunResult;

/// Writes one team's page.
pub(super) fn write(page: &Page, team: &String) -> Result<()> {
    let Page { dir, tera, site } = *page;
    let r = site.r;
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
    c.insert("pages_chart", &charts::pages_per_week(&wk, &pages, r.max_pages_per_12h * crate::analysis::load::HALF_DAYS_PER_WEEK));
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
    c.insert("misrouted", &misrouted_by_culprit(&rows_where(site.t("misrouted"), "incident_team", team)));
    let touching: Vec<&Edge> = filter_team(&r.edges, Some(team));
    c.insert("callers", &touching.iter().filter(|e| e.callee_team.as_deref() == Some(team) && e.caller_team.as_deref() != Some(team)).collect::<Vec<_>>());
    c.insert("callees", &touching.iter().filter(|e| e.caller_team.as_deref() == Some(team) && e.callee_team.as_deref() != Some(team)).collect::<Vec<_>>());
    c.insert("graph_svg", &graph_svg::draw(&page.drawn(&touching), &|s| Some(format!("../services/{}.html", slug(s))), &site.teams));
    let weeks = site.trend_weeks();
    let stored = weeks.len();
    c.insert("trend_weeks", &stored);
    if stored >= 2 {
        let pages = [charts::Series { label: "pages", values: site.team_trend(team, "pages") }, charts::Series { label: "sleep pages (22:00–08:00)", values: site.team_trend(team, "sleep_pages") }];
        c.insert("pages_trend", &charts::weekly_trend("Pages per week", "pages", &weeks, &pages, Some((r.max_pages_per_12h * crate::analysis::load::HALF_DAYS_PER_WEEK, format!("guideline: {:.0} pages a week", r.max_pages_per_12h * crate::analysis::load::HALF_DAYS_PER_WEEK))), true));
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
    super::write(&dir.join("teams").join(format!("{}.html", slug(team))), &render(tera, "team.html", &c)?)?;
    Ok(())
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


/// Incident ids listed per culprit on a team page; the rest are counted.
const MISROUTED_IDS_SHOWN: usize = 5;

/// Pages routed to a team that another team caused, one row per culprit
/// service (most pages first) with the count and the first incident ids,
/// so sixty misrouted pages are a handful of rows, not sixty.
fn misrouted_by_culprit(rows: &[Map<String, Value>]) -> Vec<Value> {
    let mut by: std::collections::BTreeMap<(String, String), Vec<String>> = std::collections::BTreeMap::new();
    for r in rows {
        let get = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        by.entry((get("culprit_service"), get("culprit_team"))).or_default().push(get("incident_id"));
    }
    let mut out: Vec<_> = by.into_iter().collect();
    out.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    out.into_iter()
        .map(|((service, team), ids)| {
            json!({"culprit_service": service, "culprit_team": team, "pages": ids.len(),
                   "incident_ids": ids[..ids.len().min(MISROUTED_IDS_SHOWN)], "more": ids.len().saturating_sub(MISROUTED_IDS_SHOWN)})
        })
        .collect()
}
