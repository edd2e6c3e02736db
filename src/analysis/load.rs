//! Incident load per team and ISO week (SPEC §2.6), with PagerDuty's
//! interruption bands in each team's own time zone (DST-correct through
//! chrono-tz): `sleep` 22:00–08:00 local every day (wins), `business` the
//! team's business hours Mon–Fri, `off_hours` everything else.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc, Weekday};

use crate::config::Window;
use crate::table::Table;
use crate::error::Result;
use crate::input::incidents::Incident;
use crate::input::teams::Team;
use crate::model::Org;
use crate::sketch::quantile_cont;
use crate::table::{ColType::*, Rows, f, fo, i, io, s};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    Business,
    OffHours,
    Sleep,
}

/// The interruption band of a page arriving at `t` for `team`.
pub fn band(team: &Team, t: DateTime<Utc>) -> Band {
    let local = t.with_timezone(&team.timezone);
    let time = local.time();
    let (eight, ten) = (NaiveTime::from_hms_opt(8, 0, 0).unwrap(), NaiveTime::from_hms_opt(22, 0, 0).unwrap());
    if time >= ten || time < eight {
        return Band::Sleep;
    }
    let weekday = !matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
    if weekday && time >= team.business_start && time < team.business_end { Band::Business } else { Band::OffHours }
}

/// Twelve-hour on-call periods in a week: pages per 12 h (SPEC §2.6) are
/// pages over these.
pub const HALF_DAYS_PER_WEEK: f64 = 14.0;

/// The ISO weeks a rotation verdict is drawn from (SPEC §2.6).
pub const VERDICT_WEEKS: i64 = 4;

/// Twelve-hour periods in the verdict weeks.
pub const VERDICT_HALF_DAYS: f64 = VERDICT_WEEKS as f64 * HALF_DAYS_PER_WEEK;

/// ISO week label like `2026-W47`.
pub fn week_label(d: NaiveDate) -> String {
    let w = d.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

fn monday(d: NaiveDate) -> NaiveDate {
    d - Duration::days(d.weekday().num_days_from_monday() as i64)
}

/// The ISO weeks (Mondays) overlapping the window or the 3 weeks before it.
pub fn report_weeks(w: &Window) -> Vec<NaiveDate> {
    let first = monday(w.start() - Duration::days(21));
    let last = monday(w.end);
    let mut out = vec![];
    let mut m = first;
    while m <= last {
        out.push(m);
        m += Duration::days(7);
    }
    out
}

/// The 4 ISO weeks ending with the window's last week (the verdict period).
pub fn verdict_weeks(w: &Window) -> Vec<NaiveDate> {
    let last = monday(w.end);
    (0..VERDICT_WEEKS).rev().map(|k| last - Duration::days(7 * k)).collect()
}

/// Figures for one team over a set of incidents (one week, or pooled).
#[derive(Debug, Clone, Default)]
pub struct Figures {
    pub incidents: usize,
    pub pages: usize,
    pub business: usize,
    pub off_hours: usize,
    pub sleep: usize,
    pub mtta: Vec<f64>,
    pub mttr: Vec<f64>,
    pub interruption_hours: f64,
    pub responders: Vec<f64>,
}

impl Figures {
    pub fn add(&mut self, team: &Team, inc: &Incident) {
        self.incidents += 1;
        if inc.page {
            self.pages += 1;
            match band(team, inc.created_at) {
                Band::Business => self.business += 1,
                Band::OffHours => self.off_hours += 1,
                Band::Sleep => self.sleep += 1,
            }
        }
        let minutes = |t: DateTime<Utc>| (t - inc.created_at).num_milliseconds() as f64 / 60_000.0;
        self.responders.push(inc.responders as f64);
        if inc.implausible {
            return;
        }
        if let Some(a) = inc.acknowledged_at {
            self.mtta.push(minutes(a));
        }
        if let Some(r) = inc.resolved_at {
            self.mttr.push(minutes(r));
            self.interruption_hours += minutes(r) / 60.0;
        }
    }

    pub fn mean_responders(&self) -> Option<f64> {
        mean(&self.responders)
    }
}

pub fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn p90(v: &[f64]) -> Option<f64> {
    quantile_cont(&mut v.to_vec(), 0.9)
}

/// Incidents counted for the window: created before the window's end.
pub fn counted<'a>(org: &'a Org, w: &Window) -> impl Iterator<Item = (String, &'a Incident)> + 'a {
    let end = crate::config::day_start_ns(w.end + Duration::days(1));
    org.incidents
        .iter()
        .filter(move |i| i.created_at.timestamp_nanos_opt().unwrap_or(i64::MAX) < end)
        .map(|i| (org.incident_team(i), i))
}

/// Figures per (team, week Monday).
pub fn weekly_figures(org: &Org, w: &Window) -> BTreeMap<(String, NaiveDate), Figures> {
    let weeks: BTreeSet<NaiveDate> = report_weeks(w).into_iter().collect();
    let mut out: BTreeMap<(String, NaiveDate), Figures> = BTreeMap::new();
    for (team, inc) in counted(org, w) {
        let m = monday(inc.created_at.date_naive());
        if !weeks.contains(&m) {
            continue;
        }
        let t = org.team(&team);
        out.entry((team, m)).or_default().add(&t, inc);
    }
    out
}

/// The `team_load` table (SPEC §3).
pub fn team_load(org: &Org, w: &Window) -> Result<Table> {
    let figs = weekly_figures(org, w);
    let mut rows = Rows::new(&[("team", Text), ("week", Text), ("incidents", Int), ("pages", Int), ("business_pages", Int), ("off_hours_pages", Int), ("sleep_pages", Int), ("mtta_min", Float), ("mtta_p90_min", Float), ("mttr_min", Float), ("mttr_p90_min", Float), ("interruption_hours", Float), ("mean_responders", Float), ("rotation_size", Int), ("shifts", Float), ("pages_per_shift", Float), ("pages_per_12h", Float), ("services_owned", Int), ("services_per_oncall", Float)]);
    let known = org.known_teams();
    let mut teams: Vec<String> = known.clone();
    let others: BTreeSet<String> = figs.keys().map(|(t, _)| t.clone()).filter(|t| !known.contains(t)).collect();
    teams.extend(others);
    let empty = Figures::default();
    for team in &teams {
        let in_yaml = org.teams.get(team);
        for m in report_weeks(w) {
            let fig = figs.get(&(team.clone(), m));
            // Teams outside teams.yaml (and `(unowned)`) only in weeks with incidents.
            if in_yaml.is_none() && fig.is_none() {
                continue;
            }
            let fig = fig.unwrap_or(&empty);
            let owned = org.services_owned(team).len();
            let (rot, shifts) = match in_yaml {
                Some(t) => (Some(t.rotation_size() as i64), Some(168.0 / t.shift_hours)),
                None => (None, None),
            };
            rows.push(vec![
                s(team.as_str()),
                s(week_label(m)),
                i(fig.incidents as i64),
                i(fig.pages as i64),
                i(fig.business as i64),
                i(fig.off_hours as i64),
                i(fig.sleep as i64),
                fo(mean(&fig.mtta)),
                fo(p90(&fig.mtta)),
                fo(mean(&fig.mttr)),
                fo(p90(&fig.mttr)),
                f(fig.interruption_hours),
                fo(fig.mean_responders()),
                io(rot),
                fo(shifts),
                fo(shifts.map(|sh| fig.pages as f64 / sh)),
                f(fig.pages as f64 / HALF_DAYS_PER_WEEK),
                i(owned as i64),
                fo(rot.filter(|r| *r > 0).map(|r| owned as f64 / r as f64)),
            ]);
        }
    }
    rows.finish()
}

/// The counted incidents created in the 4 verdict weeks, with their team.
pub fn in_verdict_weeks<'a>(org: &'a Org, w: &Window) -> impl Iterator<Item = (String, &'a Incident)> + 'a {
    let weeks: BTreeSet<NaiveDate> = verdict_weeks(w).into_iter().collect();
    counted(org, w).filter(move |(_, i)| weeks.contains(&monday(i.created_at.date_naive())))
}

/// Figures pooled over the verdict weeks, per team.
pub fn pooled(org: &Org, w: &Window) -> BTreeMap<String, Figures> {
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();
    for (team, inc) in in_verdict_weeks(org, w) {
        let t = org.team(&team);
        out.entry(team).or_default().add(&t, inc);
    }
    out
}

/// Pages per service over the verdict weeks (for the split planner).
pub fn pages_per_service(org: &Org, w: &Window, team: &str) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (t, inc) in in_verdict_weeks(org, w) {
        if t == team && inc.page {
            *out.entry(inc.service.clone()).or_insert(0) += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn berlin() -> Team {
        let mut t = Team::default_named("t");
        t.timezone = chrono_tz::Europe::Berlin;
        t
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    #[test]
    fn bands_at_their_edges_in_local_time() {
        let t = berlin();
        // Friday 2026-11-20; Berlin is UTC+1 in November.
        assert_eq!(band(&t, at(2026, 11, 20, 6, 59)), Band::Sleep); // 07:59 local
        assert_eq!(band(&t, at(2026, 11, 20, 7, 0)), Band::Business); // 08:00
        assert_eq!(band(&t, at(2026, 11, 20, 16, 59)), Band::Business); // 17:59
        assert_eq!(band(&t, at(2026, 11, 20, 17, 0)), Band::OffHours); // 18:00
        assert_eq!(band(&t, at(2026, 11, 20, 20, 59)), Band::OffHours); // 21:59
        assert_eq!(band(&t, at(2026, 11, 20, 21, 0)), Band::Sleep); // 22:00
        // Saturday noon is off hours; Saturday 23:00 is sleep.
        assert_eq!(band(&t, at(2026, 11, 21, 11, 0)), Band::OffHours);
        assert_eq!(band(&t, at(2026, 11, 21, 22, 0)), Band::Sleep);
    }

    #[test]
    fn bands_follow_daylight_saving() {
        let t = berlin();
        // 2026-03-27 (Fri, UTC+1) vs 2026-03-30 (Mon, UTC+2 after the change on 29 March).
        assert_eq!(band(&t, at(2026, 3, 27, 6, 30)), Band::Sleep); // 07:30 CET
        assert_eq!(band(&t, at(2026, 3, 30, 6, 30)), Band::Business); // 08:30 CEST
        assert_eq!(band(&t, at(2026, 3, 30, 15, 59)), Band::Business); // 17:59 CEST
        assert_eq!(band(&t, at(2026, 3, 30, 16, 0)), Band::OffHours); // 18:00 CEST
    }

    #[test]
    fn weeks() {
        let w = Window { end: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), days: 7, slack_minutes: 10 };
        assert_eq!(week_label(w.end), "2026-W47");
        let r = report_weeks(&w);
        assert_eq!(r.len(), 4);
        assert_eq!(week_label(r[0]), "2026-W44");
        assert_eq!(verdict_weeks(&w), r);
    }
}
