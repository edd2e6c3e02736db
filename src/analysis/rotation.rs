//! Rotation verdicts and the split planner (SPEC §2.6).
//!
//! Verdicts use the figures pooled over the 4 ISO weeks ending with the
//! window's last week. The split planner partitions an overloaded team's
//! services into two groups: it minimises
//! `|pages₁ − pages₂| / pages + crossing_calls / team_calls` (both terms in
//! [0, 1], so a perfectly balanced split that cuts no call scores 0), exactly
//! over all partitions for up to 16 services and by greedy single moves
//! from a balanced start beyond that. Ties go to the partition whose first
//! group, as a sorted list, sorts first.

use std::collections::BTreeMap;

use crate::analysis::graph::{Edge, team_edges};
use crate::analysis::load::{Figures, pages_per_service, pooled};
use crate::analysis::expertise::{self, TeamExpertise};
use crate::config::{Config, LoadThresholds, RotationThresholds, SurveyConfig};
use crate::table::Table;
use crate::error::Result;
use crate::input::teams::Team;
use crate::model::Org;
use crate::table::{ColType::*, Rows, f, i, s, so};

/// How soon a verdict asks a manager to act (README "Reading the index"):
/// the index lists teams by their most urgent verdict and marks only the
/// teams that need action this week, so a mild finding does not look like
/// an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Urgency {
    /// `ok`
    None,
    /// worth knowing, no action asked: `underloaded`, `oversized`
    Note,
    /// plan a change: `understaffed`, `spread_thin`, `wide_incidents`,
    /// `expertise_gap`
    Plan,
    /// act this week: `overloaded`, `unhappy` (from at least 3 answers)
    Act,
}

impl Urgency {
    pub fn of(verdict: &str) -> Urgency {
        match verdict {
            "overloaded" | "unhappy" => Urgency::Act,
            "understaffed" | "spread_thin" | "wide_incidents" | "expertise_gap" => Urgency::Plan,
            "underloaded" | "oversized" => Urgency::Note,
            _ => Urgency::None,
        }
    }

    /// The word the pages use as a CSS class and in the README.
    pub fn word(self) -> &'static str {
        match self {
            Urgency::None => "",
            Urgency::Note => "note",
            Urgency::Plan => "plan",
            Urgency::Act => "act",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub team: String,
    pub verdict: &'static str,
    pub figure: f64,
    pub threshold: f64,
    pub detail: String,
}

/// The minimum healthy rotation size for a team with `sites` sites.
pub fn min_rotation(sites: u32, r: &RotationThresholds) -> u32 {
    if sites <= 1 { r.min_single_site } else { r.min_per_site * sites }
}

/// Verdicts for one team from its pooled figures (4 weeks).
pub fn verdicts_for(
    team: &Team,
    fig: &Figures,
    services_owned: usize,
    rotation_size: usize,
    neighbour: Option<&str>,
    load: &LoadThresholds,
    rot: &RotationThresholds,
) -> Vec<Verdict> {
    let name = team.name.clone();
    let v = |verdict, figure, threshold, detail: String| Verdict { team: name.clone(), verdict, figure, threshold, detail };
    let mut out = vec![];
    let per_12h = fig.pages as f64 / crate::analysis::load::VERDICT_HALF_DAYS;
    if per_12h > load.max_pages_per_12h {
        out.push(v("overloaded", per_12h, load.max_pages_per_12h, format!("{} pages in 4 weeks = {per_12h:.2} per 12 h on call", fig.pages)));
    }
    let min = min_rotation(team.sites, rot);
    if (rotation_size as u32) < min {
        out.push(v(
            "understaffed",
            rotation_size as f64,
            min as f64,
            format!("{rotation_size} people in the rotation across {} site(s); at least {min} needed", team.sites),
        ));
    }
    let per_person = if rotation_size > 0 { services_owned as f64 / rotation_size as f64 } else { f64::INFINITY };
    if services_owned > 0 && per_person > rot.max_services_per_person {
        out.push(v(
            "spread_thin",
            per_person,
            rot.max_services_per_person,
            format!("{services_owned} services for {rotation_size} people on call"),
        ));
    }
    let wide = rot.wide_incident_responders;
    if let Some(m) = fig.mean_responders().filter(|m| *m >= wide) {
        out.push(v("wide_incidents", m, wide, format!("{m:.2} responders per incident over {} incidents", fig.incidents)));
    }
    let per_week = fig.pages as f64 / 4.0;
    if per_week < load.min_pages_per_week {
        let with = neighbour.map(|n| format!("; could share a rotation with {n}")).unwrap_or_default();
        out.push(v("underloaded", per_week, load.min_pages_per_week, format!("{per_week:.2} pages a week{with}")));
    }
    if rotation_size as u32 > rot.max_size {
        out.push(v("oversized", rotation_size as f64, rot.max_size as f64, format!("{rotation_size} people: each is on call too rarely")));
    }
    // Too few people and too few pages at once: say what reconciles them.
    if out.iter().any(|x| x.verdict == "understaffed") {
        if let Some(u) = out.iter_mut().find(|x| x.verdict == "underloaded") {
            u.detail.push_str(match neighbour {
                Some(n) => format!(" — and the rotation is too small: one shared rotation with {n} would fix both"),
                None => " — and the rotation is too small: a rotation shared with a neighbouring team would fix both".to_string(),
            }.as_str());
        }
    }
    if out.is_empty() {
        out.push(v("ok", per_12h, load.max_pages_per_12h, format!("{} pages in 4 weeks, rotation of {rotation_size}", fig.pages)));
    }
    out
}

/// The team this team calls or is called by most (for `underloaded`).
pub fn busiest_neighbour(edges: &[Edge], team: &str) -> Option<String> {
    let mut calls: BTreeMap<String, i64> = BTreeMap::new();
    for ((a, b), (c, _)) in team_edges(edges) {
        if a == team {
            *calls.entry(b).or_default() += c;
        } else if b == team {
            *calls.entry(a).or_default() += c;
        }
    }
    calls.into_iter().max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0))).map(|(t, _)| t)
}

/// The survey's verdicts (SPEC §2.10): `expertise_gap` when an owned
/// service has no expert on the rotation, `unhappy` when the mean happiness
/// of at least 3 respondents is below `survey.min_happiness`. None without
/// a survey.
pub fn survey_verdicts(e: &TeamExpertise, cfg: &SurveyConfig) -> Vec<Verdict> {
    let mut out = vec![];
    if !e.surveyed {
        return out;
    }
    let v = |verdict, figure, threshold, detail: String| Verdict { team: e.team.clone(), verdict, figure, threshold, detail };
    if !e.uncovered.is_empty() {
        out.push(v(
            "expertise_gap",
            e.uncovered.len() as f64,
            0.0,
            format!(
                "{} of {} services have no expert on the rotation ({}); bus factor {}",
                e.uncovered.len(),
                e.owned.len(),
                e.uncovered.join(", "),
                e.bus_factor.unwrap_or(0)
            ),
        ));
    }
    if let Some(h) = e.happiness.filter(|h| e.respondents >= 3 && *h < cfg.min_happiness) {
        out.push(v("unhappy", h, cfg.min_happiness, format!("mean happiness on call {h:.1} of 5 from {} respondents", e.respondents)));
    }
    out
}

/// A team's verdicts with the survey's added (they replace `ok`).
pub fn with_survey(mut v: Vec<Verdict>, survey: Vec<Verdict>) -> Vec<Verdict> {
    if !survey.is_empty() {
        v.retain(|x| x.verdict != "ok");
        v.extend(survey);
    }
    v
}

/// The `rotation_verdicts` table.
pub fn verdicts(org: &Org, cfg: &Config, edges: &[Edge], expertise: &[TeamExpertise]) -> Result<(Table, Vec<Verdict>)> {
    let pooled = pooled(org, &cfg.window);
    let mut all = vec![];
    for t in &org.teams.teams {
        let fig = pooled.get(&t.name).cloned().unwrap_or_default();
        let n = busiest_neighbour(edges, &t.name);
        let v = verdicts_for(t, &fig, org.services_owned(&t.name).len(), t.rotation_size(), n.as_deref(), &cfg.load, &cfg.rotation);
        let sv = expertise.iter().find(|e| e.team == t.name).map(|e| survey_verdicts(e, &cfg.survey)).unwrap_or_default();
        all.extend(with_survey(v, sv));
    }
    let mut rows = Rows::new(&[("team", Text), ("verdict", Text), ("figure", Float), ("threshold", Float), ("detail", Text)]);
    for v in &all {
        rows.push(vec![s(v.team.as_str()), s(v.verdict), f(v.figure), f(v.threshold), s(v.detail.as_str())]);
    }
    Ok((rows.finish()?, all))
}

#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub services: Vec<String>,
    pub pages: usize,
    pub pages_per_12h: f64,
    pub needed_rotation_size: u32,
    /// rotation members who are experts on a service of the group, and the
    /// group's services with none (None without a survey, SPEC §2.10)
    pub experts: Option<Vec<String>>,
    pub uncovered: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub team: String,
    pub groups: [Group; 2],
    pub crossing_calls: i64,
}

/// Splits `services` (with pages) in two; `calls` are undirected weights.
pub fn best_split(services: &[String], pages: &BTreeMap<String, usize>, calls: &BTreeMap<(String, String), i64>) -> Option<(Vec<bool>, i64)> {
    let n = services.len();
    if n < 2 {
        return None;
    }
    let p: Vec<f64> = services.iter().map(|s| *pages.get(s).unwrap_or(&0) as f64).collect();
    let total_p: f64 = p.iter().sum();
    let idx: BTreeMap<&String, usize> = services.iter().enumerate().map(|(i, s)| (s, i)).collect();
    let mut w = vec![vec![0i64; n]; n];
    for ((a, b), c) in calls {
        if let (Some(&x), Some(&y)) = (idx.get(a), idx.get(b)) {
            if x != y {
                w[x][y] += c;
                w[y][x] += c;
            }
        }
    }
    let total_c: i64 = (0..n).flat_map(|x| (x + 1..n).map(move |y| (x, y))).map(|(x, y)| w[x][y]).sum();
    let score = |side: &[bool]| -> (f64, i64) {
        let p1: f64 = (0..n).filter(|&k| side[k]).map(|k| p[k]).sum();
        let imbalance = if total_p > 0.0 { (2.0 * p1 - total_p).abs() / total_p } else { 0.0 };
        let mut cross = 0;
        for x in 0..n {
            for y in x + 1..n {
                if side[x] != side[y] {
                    cross += w[x][y];
                }
            }
        }
        let c = if total_c > 0 { cross as f64 / total_c as f64 } else { 0.0 };
        (imbalance + c, cross)
    };
    let mut best: Option<(f64, Vec<bool>, i64)> = None;
    let mut consider = |side: Vec<bool>| {
        if side.iter().all(|x| *x) || side.iter().all(|x| !*x) {
            return;
        }
        let (sc, cross) = score(&side);
        let better = match &best {
            None => true,
            Some((b, bs, _)) => sc < b - 1e-12 || ((sc - b).abs() <= 1e-12 && side < *bs),
        };
        if better {
            best = Some((sc, side, cross));
        }
    };
    if n <= 16 {
        // Service 0 always in group 1: each partition once.
        for mask in 0u32..(1 << (n - 1)) {
            let side: Vec<bool> = (0..n).map(|k| k == 0 || (mask >> (k - 1)) & 1 == 0).collect();
            consider(side);
        }
    } else {
        let mut side: Vec<bool> = (0..n).map(|k| k % 2 == 0).collect();
        loop {
            let (cur, _) = score(&side);
            let mut improved = false;
            for k in 0..n {
                side[k] = !side[k];
                let ok = side.iter().any(|x| *x) && side.iter().any(|x| !*x);
                if ok && score(&side).0 < cur - 1e-12 {
                    improved = true;
                    break;
                }
                side[k] = !side[k];
            }
            if !improved {
                break;
            }
        }
        consider(side);
    }
    best.map(|(_, side, cross)| (side, cross))
}

/// The split plan for a team (any team; `rotation_size` overrides).
pub fn plan_for(org: &Org, cfg: &Config, edges: &[Edge], team: &str) -> Option<Split> {
    let mut services = org.services_owned(team);
    services.sort();
    let pages = pages_per_service(org, &cfg.window, team);
    // Services that paged but are not in the catalog under this team still count.
    for s in pages.keys() {
        if !services.contains(s) {
            services.push(s.clone());
        }
    }
    let mut calls = BTreeMap::new();
    for e in edges {
        *calls.entry((e.caller.clone(), e.callee.clone())).or_insert(0) += e.calls;
    }
    let (side, crossing) = best_split(&services, &pages, &calls)?;
    let t = org.team(team);
    let exp = expertise::per_team(org, &cfg.survey).into_iter().find(|e| e.team == team && e.surveyed);
    let group = |want: bool| {
        let names: Vec<String> = services.iter().zip(&side).filter(|(_, s)| **s == want).map(|(n, _)| n.clone()).collect();
        let p: usize = names.iter().map(|n| pages.get(n).copied().unwrap_or(0)).sum();
        let by_services = (names.len() as f64 / cfg.rotation.max_services_per_person).ceil() as u32;
        Group {
            pages: p,
            pages_per_12h: p as f64 / crate::analysis::load::VERDICT_HALF_DAYS,
            needed_rotation_size: min_rotation(t.sites, &cfg.rotation).max(by_services),
            experts: exp.as_ref().map(|e| e.experts_on(&names)),
            uncovered: exp.as_ref().map(|e| e.uncovered_of(&names)),
            services: names,
        }
    };
    Some(Split { team: team.to_string(), groups: [group(true), group(false)], crossing_calls: crossing })
}

/// The `split_plans` table: a plan for every overloaded team with ≥ 2 services.
pub fn split_plans(org: &Org, cfg: &Config, edges: &[Edge], verdicts: &[Verdict]) -> Result<(Table, Vec<Split>)> {
    let mut rows = Rows::new(&[("team", Text), ("group", Int), ("services", Text), ("pages_per_12h", Float), ("needed_rotation_size", Int), ("crossing_calls", Int), ("experts", Text), ("uncovered", Text)]);
    let mut plans = vec![];
    for v in verdicts.iter().filter(|v| v.verdict == "overloaded") {
        if let Some(p) = plan_for(org, cfg, edges, &v.team) {
            for (k, g) in p.groups.iter().enumerate() {
                rows.push(vec![
                    s(p.team.as_str()),
                    i(k as i64 + 1),
                    s(g.services.join(";")),
                    f(g.pages_per_12h),
                    i(g.needed_rotation_size as i64),
                    i(p.crossing_calls),
                    so(g.experts.as_ref().map(|e| e.join(";"))),
                    so(g.uncovered.as_ref().map(|e| e.join(";"))),
                ]);
            }
            plans.push(p);
        }
    }
    Ok((rows.finish()?, plans))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn split_finds_the_two_clusters() {
        // a-b and c-d talk a lot; b-c a little; pages a=5 b=5 c=4 d=6.
        let services = names(&["a", "b", "c", "d"]);
        let pages: BTreeMap<String, usize> = [("a", 5), ("b", 5), ("c", 4), ("d", 6)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let calls: BTreeMap<(String, String), i64> = [(("a", "b"), 100), (("c", "d"), 80), (("b", "c"), 5)]
            .iter()
            .map(|((a, b), c)| ((a.to_string(), b.to_string()), *c))
            .collect();
        let (side, cross) = best_split(&services, &pages, &calls).unwrap();
        assert_eq!(side, vec![true, true, false, false]);
        assert_eq!(cross, 5);
    }

    #[test]
    fn split_balances_pages_when_nothing_talks() {
        let services = names(&["a", "b", "c"]);
        let pages: BTreeMap<String, usize> = [("a", 10), ("b", 6), ("c", 4)].iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let (side, cross) = best_split(&services, &pages, &BTreeMap::new()).unwrap();
        assert_eq!(side, vec![true, false, false]);
        assert_eq!(cross, 0);
    }

    fn fig(pages: usize, responders: &[f64]) -> Figures {
        Figures { pages, incidents: responders.len().max(pages), responders: responders.to_vec(), ..Default::default() }
    }

    fn kinds(v: &[Verdict]) -> Vec<&str> {
        v.iter().map(|v| v.verdict).collect()
    }

    #[test]
    fn each_verdict_at_its_threshold() {
        let load = LoadThresholds::default();
        let rot = RotationThresholds::default();
        let mut t = Team::default_named("t");
        // 112 pages / 56 twelve-hour periods = exactly 2: not overloaded; 113 is.
        assert_eq!(kinds(&verdicts_for(&t, &fig(112, &[]), 3, 8, None, &load, &rot)), vec!["ok"]);
        assert_eq!(kinds(&verdicts_for(&t, &fig(113, &[]), 3, 8, None, &load, &rot)), vec!["overloaded"]);
        // Rotation of 8 on one site is enough, 7 is not; two sites need 12.
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 3, 7, None, &load, &rot)), vec!["understaffed"]);
        t.sites = 2;
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 3, 11, None, &load, &rot)), vec!["understaffed"]);
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 3, 12, None, &load, &rot)), vec!["ok"]);
        t.sites = 1;
        // 24 services / 8 people = 3: fine; 25 is spread thin.
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 24, 8, None, &load, &rot)), vec!["ok"]);
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 25, 8, None, &load, &rot)), vec!["spread_thin"]);
        // Mean responders 3 is wide; 2.99 is not.
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[3.0, 3.0, 3.0, 3.0]), 3, 8, None, &load, &rot)), vec!["wide_incidents"]);
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[3.0, 3.0, 2.96, 3.0]), 3, 8, None, &load, &rot)), vec!["ok"]);
        // ... unless rotation.wide_incident_responders says otherwise.
        let lower = RotationThresholds { wide_incident_responders: 2.5, ..rot.clone() };
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[3.0, 3.0, 2.96, 3.0]), 3, 8, None, &load, &lower)), vec!["wide_incidents"]);
        // 4 pages in 4 weeks = 1 a week: fine; 3 is underloaded, naming the neighbour.
        let u = verdicts_for(&t, &fig(3, &[]), 3, 8, Some("payments"), &load, &rot);
        assert_eq!(kinds(&u), vec!["underloaded"]);
        assert!(u[0].detail.contains("payments"));
        // 12 people is the maximum; 13 is oversized.
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 3, 12, None, &load, &rot)), vec!["ok"]);
        assert_eq!(kinds(&verdicts_for(&t, &fig(4, &[]), 3, 13, None, &load, &rot)), vec!["oversized"]);
    }

    fn surveyed(uncovered: &[&str], respondents: usize, happiness: Option<f64>) -> TeamExpertise {
        TeamExpertise {
            team: "t".into(),
            owned: vec!["a".into(), "b".into(), "c".into()],
            uncovered: names(uncovered),
            bus_factor: Some(if uncovered.is_empty() { 1 } else { 0 }),
            respondents,
            happiness,
            surveyed: true,
            ..Default::default()
        }
    }

    #[test]
    fn survey_verdicts_at_their_thresholds() {
        let cfg = SurveyConfig::default();
        let k = |e: &TeamExpertise| survey_verdicts(e, &cfg).into_iter().map(|v| v.verdict).collect::<Vec<_>>();
        // 3 respondents at exactly 3.0 is not unhappy; 2.99 is; 2 respondents never.
        assert!(k(&surveyed(&[], 3, Some(3.0))).is_empty());
        assert_eq!(k(&surveyed(&[], 3, Some(2.99))), ["unhappy"]);
        assert!(k(&surveyed(&[], 2, Some(1.0))).is_empty());
        let gap = survey_verdicts(&surveyed(&["b", "c"], 0, None), &cfg);
        assert_eq!((gap[0].verdict, gap[0].figure), ("expertise_gap", 2.0));
        assert_eq!(gap[0].detail, "2 of 3 services have no expert on the rotation (b, c); bus factor 0");
        // No survey: no verdicts; the survey's verdicts replace `ok`.
        assert!(k(&TeamExpertise { surveyed: false, uncovered: names(&["a"]), ..Default::default() }).is_empty());
        let ok = verdicts_for(&Team::default_named("t"), &fig(4, &[]), 3, 8, None, &LoadThresholds::default(), &RotationThresholds::default());
        assert_eq!(kinds(&with_survey(ok.clone(), gap)), ["expertise_gap"]);
        assert_eq!(kinds(&with_survey(ok, vec![])), ["ok"]);
    }

    #[test]
    fn a_split_plan_names_each_groups_experts_and_uncovered_services() {
        use chrono::{TimeZone, Utc};
        let mut catalog = crate::input::catalog::Catalog::default();
        crate::input::catalog::read_str("- { name: a, team: t }\n- { name: b, team: t }\n- { name: c, team: t }\n- { name: d, team: t }\n", "c.yaml", &mut catalog).unwrap();
        let survey = "person,service,expertise,happiness,answered_on\n\
            p1,a,3,,2026-11-01\np2,b,2,,2026-11-01\np2,a,2,,2026-11-01\nout,c,3,,2026-11-01\np1,d,1,,2026-11-01\n";
        let mut org = Org {
            catalog,
            teams: crate::input::teams::read_str("- name: t\n  rotation: { members: [p1, p2] }\n", "teams.yaml").unwrap(),
            survey: Some(crate::input::survey::parse(survey, "s.csv").unwrap()),
            ..Default::default()
        };
        // Pages a=5 b=5 c=4 d=6 in the verdict weeks; a-b and c-d talk.
        for (svc, n) in [("a", 5), ("b", 5), ("c", 4), ("d", 6)] {
            for k in 0..n {
                org.incidents.push(crate::input::incidents::Incident::page(&format!("{svc}{k}"), svc, Utc.with_ymd_and_hms(2026, 11, 17, 12, k, 0).unwrap()));
            }
        }
        let mut raw: crate::config::RawConfig = toml::from_str("[window]\nend = \"2026-11-22\"\n").unwrap();
        raw.survey = Some(crate::config::RawSurvey { path: "s.csv".into(), expert_level: None, min_happiness: None });
        let cfg = Config::from_raw(raw, std::path::Path::new("/x"), &Default::default()).unwrap();
        let edge = |a: &str, b: &str, calls| Edge {
            caller: a.into(), callee: b.into(), callee_type: "service".into(), kind: "sync".into(), calls, errors: 0,
            caller_team: Some("t".into()), callee_team: Some("t".into()),
        };
        let p = plan_for(&org, &cfg, &[edge("a", "b", 100), edge("c", "d", 80)], "t").unwrap();
        assert_eq!(p.groups[0].services, names(&["a", "b"]));
        assert_eq!(p.groups[0].experts, Some(names(&["p1", "p2"])));
        assert_eq!(p.groups[0].uncovered, Some(vec![]));
        // c's expert is not on the rotation, d's answer is below the level.
        assert_eq!(p.groups[1].experts, Some(vec![]));
        assert_eq!(p.groups[1].uncovered, Some(names(&["c", "d"])));
        // Without a survey both are unknown.
        org.survey = None;
        let p = plan_for(&org, &cfg, &[], "t").unwrap();
        assert_eq!((p.groups[0].experts.clone(), p.groups[0].uncovered.clone()), (None, None));
    }
}
