//! Expertise and happiness on each rotation (SPEC §2.10), from the survey
//! (§1.7): which owned services have an expert on the rotation, the bus
//! factor, and how happy the people on call say they are.
//!
//! A team's rotation is its `rotation.members`, or all its members when it
//! lists none (as for the rotation size, §2.6); a team in teams.yaml with
//! nobody on it has no row.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::SurveyConfig;
use crate::table::Table;
use crate::error::Result;
use crate::model::Org;
use crate::table::{ColType::*, Rows, fo, i, io, s, so};

/// One team's figures. Without a survey only `owned` is known.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamExpertise {
    pub team: String,
    /// the catalog services it owns, in catalog order
    pub owned: Vec<String>,
    /// service → rotation members who are experts on it (sorted)
    pub experts: BTreeMap<String, Vec<String>>,
    /// rotation members (in rotation order) → expertise per owned service
    /// they answered (the answer that counts)
    pub levels: BTreeMap<String, BTreeMap<String, i64>>,
    /// owned services with no expert on the rotation, sorted
    pub uncovered: Vec<String>,
    pub bus_factor: Option<usize>,
    pub respondents: usize,
    pub happiness: Option<f64>,
    /// whether there was a survey at all
    pub surveyed: bool,
}

impl TeamExpertise {
    pub fn covered(&self) -> usize {
        self.owned.len() - self.uncovered.len()
    }
    pub fn coverage(&self) -> Option<f64> {
        (self.surveyed && !self.owned.is_empty()).then(|| self.covered() as f64 / self.owned.len() as f64)
    }
    /// The rotation members who are experts on any of `services`, sorted.
    pub fn experts_on(&self, services: &[String]) -> Vec<String> {
        let set: BTreeSet<&String> = services.iter().flat_map(|s| self.experts.get(s).into_iter().flatten()).collect();
        set.into_iter().cloned().collect()
    }
    /// `services` with no expert on the rotation, in their order.
    pub fn uncovered_of(&self, services: &[String]) -> Vec<String> {
        services.iter().filter(|s| self.experts.get(*s).is_none_or(|e| e.is_empty())).cloned().collect()
    }
}

/// Figures per team in teams.yaml with someone on its rotation, in file order.
pub fn per_team(org: &Org, cfg: &SurveyConfig) -> Vec<TeamExpertise> {
    let latest = org.survey.as_ref().map(|s| s.latest());
    let happiness = org.survey.as_ref().map(|s| s.happiness()).unwrap_or_default();
    let mut out = vec![];
    for t in &org.teams.teams {
        let rotation = t.rotation();
        if rotation.is_empty() {
            continue;
        }
        let owned = org.services_owned(&t.name);
        let mut e = TeamExpertise { team: t.name.clone(), owned: owned.clone(), surveyed: latest.is_some(), ..Default::default() };
        let Some(latest) = &latest else {
            out.push(e);
            continue;
        };
        for svc in &owned {
            let mut who: Vec<String> = rotation
                .iter()
                .filter(|p| latest.get(&((*p).clone(), svc.clone())).is_some_and(|a| a.expertise >= cfg.expert_level))
                .cloned()
                .collect();
            who.sort();
            who.dedup();
            e.experts.insert(svc.clone(), who);
        }
        for p in rotation {
            let mine: BTreeMap<String, i64> = owned
                .iter()
                .filter_map(|svc| latest.get(&(p.clone(), svc.clone())).map(|a| (svc.clone(), a.expertise)))
                .collect();
            e.levels.insert(p.clone(), mine);
        }
        let mut unc: Vec<String> = e.experts.iter().filter(|(_, w)| w.is_empty()).map(|(s, _)| s.clone()).collect();
        unc.sort();
        e.uncovered = unc;
        e.bus_factor = e.experts.values().map(Vec::len).min();
        let people: BTreeSet<&String> = rotation.iter().collect();
        let h: Vec<f64> = people.iter().filter_map(|p| happiness.get(*p)).map(|h| *h as f64).collect();
        e.respondents = h.len();
        e.happiness = crate::analysis::load::mean(&h);
        out.push(e);
    }
    out
}

/// The `expertise` table (SPEC §3).
pub fn table(teams: &[TeamExpertise]) -> Result<Table> {
    let mut rows = Rows::new(&[("team", Text), ("services_owned", Int), ("services_covered", Int), ("expert_coverage", Float), ("bus_factor", Int), ("uncovered", Text), ("respondents", Int), ("happiness", Float)]);
    for e in teams {
        let surveyed = e.surveyed;
        rows.push(vec![
            s(e.team.as_str()),
            i(e.owned.len() as i64),
            io(surveyed.then_some(e.covered() as i64)),
            fo(e.coverage()),
            io(e.bus_factor.map(|b| b as i64)),
            so(surveyed.then(|| e.uncovered.join(";"))),
            io(surveyed.then_some(e.respondents as i64)),
            fo(e.happiness),
        ]);
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::catalog::Catalog;

    fn org(catalog: &str, teams: &str, survey: Option<&str>) -> Org {
        Org {
            catalog: {
                let mut c = Catalog::default();
                crate::input::catalog::read_str(catalog, "catalog.yaml", &mut c).unwrap();
                c
            },
            teams: crate::input::teams::read_str(teams, "teams.yaml").unwrap(),
            incidents: vec![],
            survey: survey.map(|s| crate::input::survey::parse(s, "survey.csv").unwrap()),
        }
    }

    const TEAMS: &str = "- name: zero\n  rotation: { members: [ana, ben] }\n\
                         - name: one\n  members: [cy, dee, eve]\n\
                         - name: two\n  rotation: { members: [fay, gus, hal] }\n\
                         - name: nobody\n";
    const CATALOG: &str = "- { name: a1, team: zero }\n- { name: a2, team: zero }\n\
                           - { name: b1, team: one }\n- { name: b2, team: one }\n\
                           - { name: c1, team: two }\n- { name: c2, team: two }\n";

    #[test]
    fn coverage_and_bus_factor_worked_by_hand() {
        let survey = "person,service,expertise,happiness,answered_on\n\
            ana,a1,3,2,2026-11-01\n\
            ben,a1,2,2,2026-11-01\n\
            ben,a2,1,,2026-11-01\n\
            cy,b1,2,4,2026-11-01\n\
            dee,b2,3,5,2026-11-01\n\
            dee,b1,1,,2026-11-01\n\
            fay,c1,2,1,2026-11-01\n\
            gus,c1,3,2,2026-11-01\n\
            gus,c2,2,,2026-11-01\n\
            hal,c2,2,2,2026-11-01\n\
            hal,c1,3,,2026-10-01\n\
            hal,c1,1,,2026-11-02\n\
            zed,a2,3,1,2026-11-01\n";
        let o = org(CATALOG, TEAMS, Some(survey));
        let t = per_team(&o, &SurveyConfig::default());
        let names: Vec<&str> = t.iter().map(|e| e.team.as_str()).collect();
        // `nobody` has nobody on call: no row.
        assert_eq!(names, ["zero", "one", "two"]);
        // zero: a1 has ana and ben, a2 nobody (ben is 1, zed is not on the rotation).
        assert_eq!((t[0].covered(), t[0].uncovered.clone(), t[0].bus_factor), (1, vec!["a2".to_string()], Some(0)));
        assert_eq!((t[0].respondents, t[0].happiness), (2, Some(2.0)));
        // one (rotation = members): b1 cy, b2 dee → bus factor 1.
        assert_eq!((t[1].covered(), t[1].bus_factor), (2, Some(1)));
        assert_eq!(t[1].happiness, Some(4.5));
        // two: c1 fay+gus (hal's latest answer is 1), c2 gus+hal → 2.
        assert_eq!((t[2].covered(), t[2].bus_factor), (2, Some(2)));
        assert_eq!(t[2].experts["c1"], vec!["fay".to_string(), "gus".to_string()]);
        assert_eq!((t[2].respondents, t[2].happiness), (3, Some(5.0 / 3.0)));
        assert_eq!(t[0].experts_on(&["a1".into(), "a2".into()]), vec!["ana".to_string(), "ben".to_string()]);
        assert_eq!(t[0].uncovered_of(&["a2".into(), "a1".into()]), vec!["a2".to_string()]);
        let tab = table(&t).unwrap();
        use crate::table::read;
        assert_eq!(read::f64s(&tab, "expert_coverage").unwrap()[0], Some(0.5));
        assert_eq!(read::strs(&tab, "uncovered").unwrap()[0].as_deref(), Some("a2"));
        assert_eq!(read::strs(&tab, "uncovered").unwrap()[2].as_deref(), Some(""));
    }

    #[test]
    fn without_a_survey_only_the_owned_count_is_given() {
        let o = org(CATALOG, TEAMS, None);
        let t = per_team(&o, &SurveyConfig::default());
        let tab = table(&t).unwrap();
        use crate::table::read;
        assert_eq!(read::i64s(&tab, "services_owned").unwrap()[0], Some(2));
        assert_eq!(read::i64s(&tab, "services_covered").unwrap()[0], None);
        assert_eq!(read::strs(&tab, "uncovered").unwrap()[0], None);
        assert_eq!(read::f64s(&tab, "happiness").unwrap()[0], None);
    }

    #[test]
    fn a_team_owning_nothing_has_empty_coverage_and_bus_factor() {
        let o = org("- { name: a1, team: zero }\n", "- name: idle\n  members: [x]\n", Some("person,service,expertise,happiness,answered_on\n"));
        let t = per_team(&o, &SurveyConfig::default());
        assert_eq!((t[0].coverage(), t[0].bus_factor, t[0].happiness), (None, None, None));
    }
}
