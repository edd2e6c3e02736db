//! Maturity levels (SPEC §2.13): three cumulative levels per catalog
//! service with an owner, from the documentation checks (§2.7), the SLOs
//! (§2.5), dependency drift, expertise on the rotation (§2.10) and the
//! team's postmortems (§2.12). `lint --level` judges only the checks that
//! need no spans.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use crate::analysis::docs;
use crate::analysis::expertise::TeamExpertise;
use crate::analysis::postmortems::TeamPostmortems;
use crate::table::Table;
use crate::error::Result;
use crate::model::Org;
use crate::table::{ColType::*, Rows, s};

/// The levels and their checks, in order.
pub const LEVELS: [(&str, &[&str]); 3] = [
    ("bronze", &["owner_set", "owner_known", "description", "telemetry"]),
    ("silver", &["runbook", "dashboard", "reviewed", "slo_declared"]),
    ("gold", &["alerts", "slos_met", "dependencies_declared", "expert_on_rotation", "postmortems"]),
];

/// The checks that need spans (left out by `lint --level`).
pub const NEED_SPANS: [&str; 3] = ["telemetry", "slos_met", "dependencies_declared"];

/// Every check in level order.
pub fn all_checks() -> Vec<&'static str> {
    LEVELS.iter().flat_map(|(_, c)| c.iter().copied()).collect()
}

/// What the checks beyond the catalog look at.
#[derive(Debug, Default)]
pub struct Evidence<'a> {
    /// services and virtual nodes seen in the window (None: `lint`, no spans)
    pub observed: Option<BTreeSet<String>>,
    /// service → `met` of each of its SLOs
    pub slo_met: BTreeMap<String, Vec<bool>>,
    /// services with an `undeclared` dependency
    pub undeclared: BTreeSet<String>,
    pub expertise: &'a [TeamExpertise],
    pub postmortems: &'a [TeamPostmortems],
}

/// One service's assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct Maturity {
    pub service: String,
    pub team: String,
    /// every check (level order) and whether it passed
    pub checks: Vec<(&'static str, bool)>,
    pub level: &'static str,
    pub missing_for_next: Vec<&'static str>,
}

impl Maturity {
    /// 0 none, 1 bronze, 2 silver, 3 gold.
    pub fn rank(&self) -> usize {
        level_rank(self.level)
    }
}

pub fn level_rank(level: &str) -> usize {
    LEVELS.iter().position(|(l, _)| *l == level).map(|p| p + 1).unwrap_or(0)
}

/// Assesses every catalog service with an owner, in catalog order.
pub fn assess(org: &Org, last_day: NaiveDate, max_review_age_days: i64, ev: &Evidence) -> Vec<Maturity> {
    let mut out = vec![];
    for e in &org.catalog.entries {
        let Some(team) = e.team.clone() else { continue };
        let mut pass: BTreeMap<&'static str, bool> =
            docs::checks(e, org, last_day, max_review_age_days, ev.observed.as_ref()).into_iter().map(|(c, ok, _)| (c, ok)).collect();
        pass.insert("slo_declared", !e.slos.is_empty());
        let lint = ev.observed.is_none();
        let met = ev.slo_met.get(&e.name);
        pass.insert("slos_met", lint || met.is_none_or(|m| m.iter().all(|x| *x)));
        pass.insert("dependencies_declared", lint || !ev.undeclared.contains(&e.name));
        pass.insert("telemetry", lint || pass.get("telemetry").copied().unwrap_or(false));
        let covered = match org.survey {
            None => true,
            Some(_) => ev.expertise.iter().find(|x| x.team == team).is_some_and(|x| x.experts.get(&e.name).is_some_and(|p| !p.is_empty())),
        };
        pass.insert("expert_on_rotation", covered);
        let pm = ev.postmortems.iter().find(|p| p.team == team).and_then(|p| p.coverage());
        pass.insert("postmortems", pm.is_none_or(|c| c >= 1.0));
        let checks: Vec<(&'static str, bool)> = all_checks().into_iter().map(|c| (c, pass[c])).collect();
        let mut level = "none";
        let mut missing = vec![];
        for (name, cs) in LEVELS {
            let failing: Vec<&'static str> = cs.iter().copied().filter(|c| !pass[c]).collect();
            if failing.is_empty() {
                level = name;
            } else {
                missing = failing;
                break;
            }
        }
        out.push(Maturity { service: e.name.clone(), team, checks, level, missing_for_next: missing });
    }
    out
}

/// The evidence of a run: SLO results, drift, expertise and postmortems.
pub fn evidence<'a>(
    services: &[String],
    edges: &[crate::analysis::graph::Edge],
    slos: &Table,
    drift: &Table,
    expertise: &'a [TeamExpertise],
    postmortems: &'a [TeamPostmortems],
) -> Result<Evidence<'a>> {
    use crate::table::read;
    let mut slo_met: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for (svc, met) in read::strs(slos, "service")?.into_iter().zip(read::bools(slos, "met")?) {
        slo_met.entry(svc.unwrap_or_default()).or_default().push(met);
    }
    let undeclared = read::strs(drift, "service")?
        .into_iter()
        .zip(read::strs(drift, "drift")?)
        .filter(|(_, d)| d.as_deref() == Some("undeclared"))
        .filter_map(|(s, _)| s)
        .collect();
    Ok(Evidence { observed: Some(docs::observed_names(services, edges)), slo_met, undeclared, expertise, postmortems })
}

/// The `maturity` table (SPEC §3).
pub fn table(m: &[Maturity]) -> Result<Table> {
    let mut rows = Rows::new(&[("service", Text), ("team", Text), ("level", Text), ("missing_for_next", Text)]);
    for x in m {
        rows.push(vec![s(x.service.as_str()), s(x.team.as_str()), s(x.level), s(x.missing_for_next.join(";"))]);
    }
    rows.finish()
}

/// Per team: the count of its services at each level (none..gold), teams
/// ordered worst first (the lowest mean level, then the most at `none`,
/// then by name).
pub fn by_team(m: &[Maturity]) -> Vec<(String, [usize; 4])> {
    let mut per: BTreeMap<String, [usize; 4]> = BTreeMap::new();
    for x in m {
        per.entry(x.team.clone()).or_default()[x.rank()] += 1;
    }
    let mut v: Vec<(String, [usize; 4])> = per.into_iter().collect();
    let mean = |c: &[usize; 4]| {
        let n: usize = c.iter().sum();
        c.iter().enumerate().map(|(k, x)| k * x).sum::<usize>() as f64 / n.max(1) as f64
    };
    v.sort_by(|a, b| mean(&a.1).total_cmp(&mean(&b.1)).then(b.1[0].cmp(&a.1[0])).then(a.0.cmp(&b.0)));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::catalog::Catalog;

    fn org(catalog: &str, survey: Option<&str>) -> Org {
        let mut c = Catalog::default();
        crate::input::catalog::read_str(catalog, "catalog.yaml", &mut c).unwrap();
        Org {
            catalog: c,
            teams: crate::input::teams::read_str("- name: t\n  rotation: { members: [ana] }\n- name: u\n  members: [bo]\n", "teams.yaml").unwrap(),
            survey: survey.map(|s| crate::input::survey::parse(s, "survey.csv").unwrap()),
            ..Default::default()
        }
    }

    /// A gold entry; each test entry below breaks one check of it.
    const GOLD: &str = "description: d\n  links: { runbook: r, dashboard: d, alerts: a }\n  last_reviewed: 2026-11-01\n  slos: [{ name: s1, objective: 0.99 }]";

    #[test]
    fn each_check_failing_once_gives_the_level_worked_out_by_hand() {
        let entries = [
            ("gold", "t", GOLD.to_string()),
            ("unknown-team", "nobody", GOLD.to_string()),
            ("no-description", "t", GOLD.replace("description: d\n  ", "")),
            ("no-telemetry", "t", GOLD.to_string()),
            ("no-runbook", "t", GOLD.replace("runbook: r, ", "")),
            ("no-dashboard", "t", GOLD.replace("dashboard: d, ", "")),
            ("stale", "t", GOLD.replace("2026-11-01", "2026-01-01")),
            ("no-slo", "t", GOLD.replace("  slos: [{ name: s1, objective: 0.99 }]", "").trim_end().to_string()),
            ("no-alerts", "t", GOLD.replace(", alerts: a", "")),
            ("slo-missed", "t", GOLD.to_string()),
            ("drifted", "t", GOLD.to_string()),
            ("no-expert", "t", GOLD.to_string()),
            ("pm-team", "u", GOLD.to_string()),
            ("two-silver", "t", GOLD.replace("runbook: r, ", "").replace(", alerts: a", "")),
        ];
        let mut text = String::new();
        for (name, team, body) in &entries {
            text.push_str(&format!("- name: {name}\n  team: {team}\n  {body}\n"));
        }
        text.push_str("- name: ownerless\n  description: d\n");
        let survey = "person,service,expertise,happiness,answered_on\n".to_string()
            + &entries.iter().filter(|(n, _, _)| *n != "no-expert").map(|(n, _, _)| format!("ana,{n},3,,2026-11-01\nbo,{n},3,,2026-11-01\n")).collect::<String>();
        let o = org(&text, Some(&survey));
        let exp = crate::analysis::expertise::per_team(&o, &Default::default());
        let pms = vec![
            TeamPostmortems { team: "t".into(), severe: 2, with: 2, ..Default::default() },
            TeamPostmortems { team: "u".into(), severe: 2, with: 1, missing: 1, missing_ids: vec!["I-1".into()], ..Default::default() },
        ];
        let mut observed: BTreeSet<String> = entries.iter().map(|(n, _, _)| n.to_string()).collect();
        observed.remove("no-telemetry");
        let ev = Evidence {
            observed: Some(observed),
            slo_met: [("slo-missed".to_string(), vec![true, false]), ("gold".to_string(), vec![true])].into_iter().collect(),
            undeclared: ["drifted".to_string()].into_iter().collect(),
            expertise: &exp,
            postmortems: &pms,
        };
        let end = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let m = assess(&o, end, 90, &ev);
        let got: BTreeMap<&str, (&str, String)> = m.iter().map(|x| (x.service.as_str(), (x.level, x.missing_for_next.join(";")))).collect();
        let want: BTreeMap<&str, (&str, &str)> = [
            ("gold", ("gold", "")),
            ("unknown-team", ("none", "owner_known")),
            ("no-description", ("none", "description")),
            ("no-telemetry", ("none", "telemetry")),
            ("no-runbook", ("bronze", "runbook")),
            ("no-dashboard", ("bronze", "dashboard")),
            ("stale", ("bronze", "reviewed")),
            ("no-slo", ("bronze", "slo_declared")),
            ("no-alerts", ("silver", "alerts")),
            ("slo-missed", ("silver", "slos_met")),
            ("drifted", ("silver", "dependencies_declared")),
            ("no-expert", ("silver", "expert_on_rotation")),
            ("pm-team", ("silver", "postmortems")),
            // the next level's failures only: alerts is gold's
            ("two-silver", ("bronze", "runbook")),
        ]
        .into_iter()
        .collect();
        assert_eq!(got.len(), want.len(), "the ownerless entry has no row");
        for (svc, (level, missing)) in want {
            assert_eq!((got[svc].0, got[svc].1.as_str()), (level, missing), "{svc}");
        }
        let team_counts = by_team(&m);
        // nobody: one at none (mean 0); t: the rest; u: one silver (mean 2).
        let names: Vec<&str> = team_counts.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(names, ["nobody", "t", "u"]);
        assert_eq!(team_counts[1].1, [2, 5, 4, 1]);
        assert_eq!(team_counts[2].1, [0, 0, 1, 0]);
    }

    #[test]
    fn no_survey_and_no_severe_incidents_pass() {
        let o = org(&format!("- name: g\n  team: t\n  {GOLD}\n"), None);
        let ev = Evidence { observed: Some(["g".to_string()].into_iter().collect()), ..Default::default() };
        let m = assess(&o, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), 90, &ev);
        assert_eq!((m[0].level, m[0].missing_for_next.len()), ("gold", 0));
        // lint: the checks that need spans are not judged.
        let m = assess(&o, NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), 90, &Evidence::default());
        assert_eq!(m[0].level, "gold");
    }
}
