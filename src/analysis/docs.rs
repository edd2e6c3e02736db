//! Documentation health (SPEC §2.7): eight pass/fail checks per catalog
//! entry and a score, ownership gaps (services with spans but no entry),
//! and declared-vs-observed dependency drift. `lint` runs the catalog-only
//! checks (all but `telemetry`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::analysis::graph::Edge;
use crate::table::Table;
use crate::error::Result;
use crate::input::catalog::CatalogEntry;
use crate::model::{Org, UNOWNED};
use crate::table::{ColType::*, Rows, b, f, i, s};

pub const CHECKS: [&str; 8] =
    ["owner_set", "owner_known", "description", "runbook", "dashboard", "alerts", "reviewed", "telemetry"];

/// One entry's checks, in [`CHECKS`] order, each with why it failed.
pub fn checks(
    e: &CatalogEntry,
    org: &Org,
    last_day: NaiveDate,
    max_age_days: i64,
    observed: Option<&BTreeSet<String>>,
) -> Vec<(&'static str, bool, String)> {
    let link = |k: &str| e.links.get(k).is_some_and(|v| !v.trim().is_empty());
    let owner_known = e.team.as_deref().is_some_and(|t| org.teams.get(t).is_some());
    let reviewed = match e.last_reviewed {
        None => (false, "last_reviewed is missing".to_string()),
        Some(d) => {
            let age = (last_day - d).num_days();
            (age <= max_age_days, format!("last reviewed {d}, {age} days before {last_day} (limit {max_age_days})"))
        }
    };
    let mut out = vec![
        ("owner_set", e.team.is_some(), "no team is set".to_string()),
        ("owner_known", owner_known, format!("team {:?} is not in teams.yaml", e.team.as_deref().unwrap_or(""))),
        ("description", e.description.is_some(), "no description".to_string()),
        ("runbook", link("runbook"), "no runbook link".to_string()),
        ("dashboard", link("dashboard"), "no dashboard link".to_string()),
        ("alerts", link("alerts"), "no alerts link".to_string()),
        ("reviewed", reviewed.0, reviewed.1),
    ];
    if let Some(obs) = observed {
        out.push(("telemetry", obs.contains(&e.name), "no spans and no calls to it in the window".to_string()));
    }
    out
}

/// Names seen in the window: services with spans and virtual nodes.
pub fn observed_names(services: &[String], edges: &[Edge]) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = services.iter().cloned().collect();
    s.extend(edges.iter().map(|e| e.callee.clone()));
    s
}

pub struct DocsTables {
    pub health: Table,
    pub gaps: Table,
    pub drift: Table,
    /// team → (passed, checks)
    pub team_scores: BTreeMap<String, (usize, usize)>,
}

/// `docs_health`, `ownership_gaps` and `dependency_drift`.
pub fn docs_tables(
    org: &Org,
    last_day: NaiveDate,
    max_age_days: i64,
    services: &[(String, i64)],
    edges: &[Edge],
) -> Result<DocsTables> {
    let names: Vec<String> = services.iter().map(|(n, _)| n.clone()).collect();
    let observed = observed_names(&names, edges);
    let mut health = Rows::new(&[("service", Text), ("team", Text), ("owner_set", Bool), ("owner_known", Bool), ("description", Bool), ("runbook", Bool), ("dashboard", Bool), ("alerts", Bool), ("reviewed", Bool), ("telemetry", Bool), ("score", Float)]);
    let mut team_scores: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for e in &org.catalog.entries {
        let c = checks(e, org, last_day, max_age_days, Some(&observed));
        let passed = c.iter().filter(|x| x.1).count();
        let team = e.team.clone().unwrap_or_else(|| UNOWNED.to_string());
        let ts = team_scores.entry(team.clone()).or_default();
        ts.0 += passed;
        ts.1 += c.len();
        let mut row = vec![s(e.name.as_str()), s(team)];
        row.extend(c.iter().map(|x| b(x.1)));
        row.push(f(passed as f64 / c.len() as f64));
        health.push(row);
    }
    let mut gaps = Rows::new(&[("service", Text), ("requests", Int)]);
    for (name, requests) in services {
        if org.catalog.get(name).is_none() {
            gaps.push(vec![s(name.as_str()), i(*requests)]);
        }
    }
    let mut drift = Rows::new(&[("service", Text), ("dependency", Text), ("drift", Text)]);
    for e in &org.catalog.entries {
        let callees: BTreeSet<&str> = edges.iter().filter(|x| x.caller == e.name).map(|x| x.callee.as_str()).collect();
        let declared: BTreeSet<&str> = e.depends_on.iter().map(String::as_str).collect();
        for c in callees.difference(&declared) {
            drift.push(vec![s(e.name.as_str()), s(*c), s("undeclared")]);
        }
        for d in declared.difference(&callees) {
            drift.push(vec![s(e.name.as_str()), s(*d), s("unobserved")]);
        }
    }
    Ok(DocsTables { health: health.finish()?, gaps: gaps.finish()?, drift: drift.finish()?, team_scores })
}

/// `lint`: one line per failed catalog-only check: `service<TAB>check<TAB>why`.
pub fn lint_lines(org: &Org, last_day: NaiveDate, max_age_days: i64) -> Vec<String> {
    let mut out = vec![];
    for e in &org.catalog.entries {
        for (check, ok, why) in checks(e, org, last_day, max_age_days, None) {
            if !ok {
                out.push(format!("{}\t{check}\t{why}", e.name));
            }
        }
    }
    out
}
