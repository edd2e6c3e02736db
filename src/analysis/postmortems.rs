//! Postmortem follow-through (SPEC §2.12): of the severe incidents of the 4
//! verdict weeks, which have a postmortem, which are still within
//! `due_days` (pending) and which are overdue (missing).

use std::collections::BTreeMap;

use chrono::Duration;

use crate::analysis::load::in_verdict_weeks;
use crate::config::{PostmortemThresholds, Window, day_start_ns};
use crate::table::Table;
use crate::error::Result;
use crate::model::Org;
use crate::table::{ColType::*, Rows, fo, i, s};

/// The severity rank: the first integer in the text (`SEV1` → 1, `P2` → 2).
pub fn severity_rank(severity: &str) -> Option<i64> {
    let start = severity.find(|c: char| c.is_ascii_digit())?;
    let digits: String = severity[start..].chars().take_while(|c| c.is_ascii_digit()).collect();
    // A rank too long for an integer is no rank.
    digits.parse().ok()
}

/// One team's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamPostmortems {
    pub team: String,
    pub severe: usize,
    pub with: usize,
    pub pending: usize,
    pub missing: usize,
    pub users_impacted: i64,
    pub missing_ids: Vec<String>,
}

impl TeamPostmortems {
    /// with ÷ (with + missing); None when both are 0.
    pub fn coverage(&self) -> Option<f64> {
        let d = self.with + self.missing;
        (d > 0).then(|| self.with as f64 / d as f64)
    }
}

/// A row for every team in teams.yaml (file order), then every other team
/// with a severe incident (sorted).
pub fn per_team(org: &Org, w: &Window, th: &PostmortemThresholds) -> Vec<TeamPostmortems> {
    let end = day_start_ns(w.end + Duration::days(1));
    let due = th.due_days.saturating_mul(86_400_000_000_000);
    let mut by: BTreeMap<String, TeamPostmortems> = BTreeMap::new();
    for (team, inc) in in_verdict_weeks(org, w) {
        if !severity_rank(&inc.severity).is_some_and(|r| r <= th.max_severity) {
            continue;
        }
        let t = by.entry(team.clone()).or_insert_with(|| TeamPostmortems { team, ..Default::default() });
        t.severe += 1;
        t.users_impacted += inc.users_impacted;
        if inc.postmortem.is_some() {
            t.with += 1;
            continue;
        }
        let resolved = inc.resolved_at.and_then(|r| r.timestamp_nanos_opt());
        match resolved {
            Some(r) if end.saturating_sub(r) >= due => {
                t.missing += 1;
                t.missing_ids.push(inc.id.clone());
            }
            _ => t.pending += 1,
        }
    }
    let mut out = vec![];
    for t in org.known_teams() {
        out.push(by.remove(&t).unwrap_or_else(|| TeamPostmortems { team: t, ..Default::default() }));
    }
    out.extend(by.into_values());
    for t in &mut out {
        t.missing_ids.sort();
    }
    out
}

/// The `postmortems` table (SPEC §3).
pub fn table(teams: &[TeamPostmortems]) -> Result<Table> {
    let mut rows = Rows::new(&[("team", Text), ("severe_incidents", Int), ("with_postmortem", Int), ("pending", Int), ("missing", Int), ("coverage", Float), ("users_impacted", Int), ("missing_ids", Text)]);
    for t in teams {
        rows.push(vec![
            s(t.team.as_str()),
            i(t.severe as i64),
            i(t.with as i64),
            i(t.pending as i64),
            i(t.missing as i64),
            fo(t.coverage()),
            i(t.users_impacted),
            s(t.missing_ids.join(";")),
        ]);
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::incidents::Incident;
    use chrono::{NaiveDate, TimeZone, Utc};

    #[test]
    fn severity_ranks() {
        assert_eq!(severity_rank("SEV1"), Some(1));
        assert_eq!(severity_rank("P2"), Some(2));
        assert_eq!(severity_rank("1"), Some(1));
        assert_eq!(severity_rank("sev-12 (major)"), Some(12));
        assert_eq!(severity_rank("high"), None);
        assert_eq!(severity_rank(""), None);
        assert_eq!(severity_rank("P99999999999999999999999"), None);
    }

    #[test]
    fn pending_and_missing_at_exactly_due_days() {
        // Window ends 2026-11-22: its end is 2026-11-23T00:00Z; 7 days
        // before is 2026-11-16T00:00Z.
        let w = Window { end: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), days: 7, slack_minutes: 10 };
        let mk = |id: &str, sev: &str, resolved: Option<(u32, u32)>, pm: bool, users: i64| {
            let created = Utc.with_ymd_and_hms(2026, 11, 15, 12, 0, 0).unwrap();
            let mut i = Incident::page(id, "db", created);
            i.team = Some("data".into());
            i.severity = sev.into();
            i.resolved_at = resolved.map(|(d, h)| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap());
            i.postmortem = pm.then(|| "https://wiki/pm".to_string());
            i.users_impacted = users;
            i
        };
        let org = Org {
            teams: crate::input::teams::read_str("- name: web\n- name: data\n", "teams.yaml").unwrap(),
            incidents: vec![
                mk("I-9", "SEV1", Some((16, 0)), false, 10), // exactly 7 days before the end: missing
                mk("I-3", "P2", Some((16, 1)), false, 5),    // 6 d 23 h: pending
                mk("I-4", "1", None, false, 1),              // unresolved: pending
                mk("I-5", "SEV2", Some((15, 13)), true, 7),  // has one
                mk("I-1", "sev1", Some((15, 13)), false, 2), // missing
                mk("I-6", "SEV3", Some((15, 13)), false, 100), // not severe
                mk("I-7", "high", Some((15, 13)), false, 100), // unranked
            ],
            ..Default::default()
        };
        let t = per_team(&org, &w, &PostmortemThresholds::default());
        assert_eq!(t.iter().map(|x| x.team.as_str()).collect::<Vec<_>>(), ["web", "data"]);
        assert_eq!(t[0], TeamPostmortems { team: "web".into(), ..Default::default() });
        assert_eq!(t[0].coverage(), None);
        let d = &t[1];
        assert_eq!((d.severe, d.with, d.pending, d.missing, d.users_impacted), (5, 1, 2, 2, 25));
        assert_eq!(d.missing_ids, ["I-1", "I-9"]);
        assert_eq!(d.coverage(), Some(1.0 / 3.0));
    }
}
