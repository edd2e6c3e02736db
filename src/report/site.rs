//! What every page shares, computed once per report ([`Site`]): the result
//! tables as JSON rows, the services and teams to write pages for, the
//! stored trend weeks, and the virtual nodes.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use serde_json::{Map, Value, json};
use tera::Context;

use super::charts;
use crate::analysis::rotation::Urgency;
use crate::model::UNOWNED;
use crate::run_result::RunResult;
use crate::table::Table;

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

pub(super) fn rows_where(rows: &[Map<String, Value>], col: &str, val: &str) -> Vec<Map<String, Value>> {
    rows.iter().filter(|r| r.get(col).and_then(Value::as_str) == Some(val)).cloned().collect()
}


/// Everything the pages share, computed once.
pub(super) struct Site<'a> {
    pub(super) r: &'a RunResult,
    pub(super) tables: BTreeMap<&'static str, Vec<Map<String, Value>>>,
    pub(super) services: BTreeSet<String>,
    pub(super) teams: Vec<String>,
    /// when the pages were written (UTC), shown in every footer
    pub(super) generated_at: String,
    /// per trend week (oldest first): the stored `team_load` and `services`
    /// rows by team / service
    pub(super) trend: Vec<(String, BTreeMap<String, Map<String, Value>>, BTreeMap<String, Map<String, Value>>)>,
    /// callees that are databases, brokers or external APIs
    pub(super) virtual_nodes: BTreeSet<String>,
}

impl<'a> Site<'a> {
    pub(super) fn new(r: &'a RunResult) -> Site<'a> {
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

    pub(super) fn t(&self, name: &str) -> &[Map<String, Value>] {
        self.tables.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    pub(super) fn team_of(&self, service: &str) -> String {
        self.r.org.service_team(service)
    }

    pub(super) fn base(&self, root: &str, title: &str) -> Context {
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
    pub(super) fn trend_weeks(&self) -> Vec<String> {
        let first = self.trend.iter().position(|(_, t, s)| !t.is_empty() || !s.is_empty()).unwrap_or(self.trend.len());
        self.trend[first..].iter().map(|(w, _, _)| w.clone()).collect()
    }

    /// A team's figure per trend week (None where not stored).
    pub(super) fn team_trend(&self, team: &str, col: &str) -> Vec<Option<f64>> {
        let skip = self.trend.len() - self.trend_weeks().len();
        self.trend[skip..].iter().map(|(_, t, _)| t.get(team).and_then(|r| r.get(col)).and_then(Value::as_f64)).collect()
    }

    /// A service's figure per trend week (None where not stored).
    pub(super) fn service_trend(&self, svc: &str, col: &str) -> Vec<Option<f64>> {
        let skip = self.trend.len() - self.trend_weeks().len();
        self.trend[skip..].iter().map(|(_, _, s)| s.get(svc).and_then(|r| r.get(col)).and_then(Value::as_f64)).collect()
    }

    pub(super) fn verdicts_of(&self, team: &str) -> Vec<Map<String, Value>> {
        rows_where(self.t("rotation_verdicts"), "team", team)
    }

    pub(super) fn team_summary(&self, team: &str) -> Value {
        let owned: Vec<String> = self.services.iter().filter(|s| self.team_of(s) == team).cloned().collect();
        let slos: Vec<_> = self.t("slos").iter().filter(|r| r.get("service").and_then(Value::as_str).is_some_and(|s| owned.iter().any(|o| o == s))).collect();
        let met = slos.iter().filter(|r| r.get("met") == Some(&json!(true))).count();
        // The verdict's weeks (SPEC §2.6), so the Teams table, the verdict
        // and the Overloaded card show one number: team_load also holds
        // the week before them when the window spans two ISO weeks.
        let weeks: Vec<String> = crate::analysis::load::verdict_weeks(&self.r.window).into_iter().map(crate::analysis::load::week_label).collect();
        let pages: i64 = self
            .t("team_load")
            .iter()
            .filter(|r| r.get("team").and_then(Value::as_str) == Some(team))
            .filter(|r| r.get("week").and_then(Value::as_str).is_some_and(|w| weeks.iter().any(|v| v == w)))
            .filter_map(|r| r.get("pages").and_then(Value::as_i64))
            .sum();
        let docs = self.r.docs_scores.get(team).map(|(p, n)| if *n > 0 { *p as f64 / *n as f64 } else { 0.0 });
        let verdicts: Vec<String> = self.verdicts_of(team).iter().filter_map(|v| v.get("verdict").and_then(Value::as_str).map(str::to_string)).collect();
        let spark = self.team_trend(team, "pages");
        let spark = if spark.iter().flatten().count() >= 2 { charts::sparkline(&spark) } else { String::new() };
        let urgency = verdicts.iter().map(|v| Urgency::of(v)).max().unwrap_or(Urgency::None);
        // The verdicts most urgent first.
        let mut verdicts = verdicts;
        verdicts.sort_by_key(|v| std::cmp::Reverse(Urgency::of(v)));
        let act: Vec<&String> = verdicts.iter().filter(|v| Urgency::of(v) == Urgency::Act).collect();
        json!({
            "name": team, "services": owned.len(), "pages": pages, "slos": slos.len(), "slos_met": met, "spark": spark,
            "docs_score": docs, "verdicts": verdicts, "act_verdicts": act,
            "urgency": urgency.word(), "urgency_rank": urgency as i64,
        })
    }
}

