//! Alert hygiene (SPEC §2.11): which alerts page people for nothing. An
//! alert is a (service, title key) pair over the incidents created in the 4
//! verdict weeks; it is noisy when it fired often and mostly went away by
//! itself or was never acknowledged.

use std::collections::BTreeMap;

use crate::analysis::load::{Band, band, in_verdict_weeks};
use crate::config::{AlertThresholds, Window};
use crate::table::Table;
use crate::error::Result;
use crate::model::Org;
use crate::sketch::quantile_cont;
use crate::table::{ColType::*, Rows, b, fo, i, s};

/// The title key: lower case, every run of ASCII digits → `#`, runs of
/// whitespace → one space, trimmed.
pub fn title_key(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    let mut digits = false;
    for c in title.to_lowercase().chars() {
        if c.is_ascii_digit() {
            if !digits {
                out.push('#');
            }
            digits = true;
            continue;
        }
        digits = false;
        if c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out.trim().to_string()
}

/// One alert's figures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Alert {
    pub service: String,
    pub team: String,
    pub alert: String,
    pub fires: usize,
    pub pages: usize,
    pub transient: usize,
    pub unacknowledged: usize,
    pub sleep_pages: usize,
    pub median_ttr_min: Option<f64>,
    pub noisy: bool,
    /// incidents that were transient or unacknowledged (each once)
    pub noise: usize,
}

/// Every alert with a fire in the verdict weeks, by fires descending (ties:
/// service, then alert).
pub fn alerts(org: &Org, w: &Window, th: &AlertThresholds) -> Vec<Alert> {
    let mut by: BTreeMap<(String, String), (Alert, BTreeMap<String, usize>, Vec<f64>)> = BTreeMap::new();
    for (team, inc) in in_verdict_weeks(org, w) {
        let key = title_key(&inc.title);
        let e = by.entry((inc.service.clone(), key.clone())).or_insert_with(|| {
            (Alert { service: inc.service.clone(), alert: key, ..Default::default() }, BTreeMap::new(), vec![])
        });
        let (a, teams, ttr) = e;
        a.fires += 1;
        *teams.entry(team.clone()).or_default() += 1;
        let ttr_min = inc.resolved_at.map(|r| (r - inc.created_at).num_milliseconds() as f64 / 60_000.0);
        let transient = ttr_min.is_some_and(|m| m <= th.transient_minutes);
        let unacked = inc.acknowledged_at.is_none();
        a.transient += transient as usize;
        a.unacknowledged += unacked as usize;
        a.noise += (transient || unacked) as usize;
        if inc.page {
            a.pages += 1;
            if band(&org.team(&team), inc.created_at) == Band::Sleep {
                a.sleep_pages += 1;
            }
        }
        ttr.extend(ttr_min);
    }
    let mut out: Vec<Alert> = by
        .into_values()
        .map(|(mut a, teams, mut ttr)| {
            // The most frequent team; ties by name (the map is sorted, and
            // `max_by` keeps the last of equals, so compare names reversed).
            a.team = teams.into_iter().max_by(|x, y| x.1.cmp(&y.1).then(y.0.cmp(&x.0))).map(|(t, _)| t).unwrap_or_default();
            a.median_ttr_min = quantile_cont(&mut ttr, 0.5);
            a.noisy = a.fires as i64 >= th.min_fires && a.noise as f64 >= th.max_noise_share * a.fires as f64;
            a
        })
        .collect();
    out.sort_by(|x, y| y.fires.cmp(&x.fires).then_with(|| x.service.cmp(&y.service)).then_with(|| x.alert.cmp(&y.alert)));
    out
}

/// The `alerts` table (SPEC §3).
pub fn table(alerts: &[Alert]) -> Result<Table> {
    let mut rows = Rows::new(&[("service", Text), ("team", Text), ("alert", Text), ("fires", Int), ("pages", Int), ("transient", Int), ("unacknowledged", Int), ("sleep_pages", Int), ("median_ttr_min", Float), ("noisy", Bool)]);
    for a in alerts {
        rows.push(vec![
            s(a.service.as_str()),
            s(a.team.as_str()),
            s(a.alert.as_str()),
            i(a.fires as i64),
            i(a.pages as i64),
            i(a.transient as i64),
            i(a.unacknowledged as i64),
            i(a.sleep_pages as i64),
            fo(a.median_ttr_min),
            b(a.noisy),
        ]);
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::incidents::Incident;
    use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

    #[test]
    fn title_keys() {
        assert_eq!(title_key("  Disk 93%   full on  host-12 "), "disk #% full on host-#");
        assert_eq!(title_key("CPU\t>\n90"), "cpu > #");
        assert_eq!(title_key("Lag 1234567 ms"), title_key("lag 7 MS"));
        assert_eq!(title_key(""), "");
        // Non-ASCII digits are not digits here; case folds beyond ASCII.
        assert_eq!(title_key("Ärger ٣"), "ärger ٣");
    }

    fn at(d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
    }

    fn window() -> Window {
        Window { end: NaiveDate::from_ymd_opt(2026, 11, 22).unwrap(), days: 7, slack_minutes: 10 }
    }

    fn inc(id: &str, title: &str, created: DateTime<Utc>, ttr_s: Option<i64>, ack: bool) -> Incident {
        let mut i = Incident::page(id, "db", created);
        i.title = title.into();
        i.resolved_at = ttr_s.map(|s| created + Duration::seconds(s));
        i.acknowledged_at = ack.then(|| created + Duration::seconds(30));
        i.team = Some("data".into());
        i
    }

    #[test]
    fn transient_at_five_minutes_and_noisy_at_exactly_the_share() {
        let org = Org {
            incidents: vec![
                // 4 fires of one alert (titles differ only in digits/case):
                // #1 resolved at exactly 5 min (transient), #2 at 5 min 1 s,
                // #3 never acknowledged, #4 both transient and unacked (once).
                inc("1", "Lag 10 s", at(16, 12), Some(300), true),
                inc("2", "lag 20 s", at(17, 12), Some(301), true),
                inc("3", "LAG  3 s", at(18, 3), Some(3600), false),
                inc("4", "lag 4 s", at(19, 12), Some(60), false),
                // another alert, 4 fires, 1 noisy incident: not noisy.
                inc("5", "disk full", at(16, 12), Some(600), true),
                inc("6", "disk full", at(17, 12), Some(600), true),
                inc("7", "disk full", at(18, 12), None, true),
                inc("8", "disk full", at(19, 12), Some(100), true),
                // after the window: not counted
                inc("9", "disk full", at(23, 12), Some(100), true),
            ],
            ..Default::default()
        };
        let a = alerts(&org, &window(), &AlertThresholds::default());
        assert_eq!(a.len(), 2);
        let lag = a.iter().find(|x| x.alert == "lag # s").unwrap();
        assert_eq!((lag.fires, lag.pages, lag.transient, lag.unacknowledged, lag.noise), (4, 4, 2, 2, 3));
        assert!(lag.noisy);
        // 03:00 UTC on the 18th is in the sleep band (UTC team).
        assert_eq!(lag.sleep_pages, 1);
        // median of 5, 5.0167, 60, 1 minutes = (1 + ... ) → (5 + 5.0167) / 2
        assert!((lag.median_ttr_min.unwrap() - (5.0 + 301.0 / 60.0) / 2.0).abs() < 1e-9);
        let disk = a.iter().find(|x| x.alert == "disk full").unwrap();
        assert_eq!((disk.fires, disk.transient, disk.noise, disk.noisy), (4, 1, 1, false));
        assert_eq!(disk.median_ttr_min, Some(10.0));
        // Exactly half noisy is noisy: make one more disk fire unacked.
        let mut org2 = org;
        org2.incidents[5].acknowledged_at = None;
        let a = alerts(&org2, &window(), &AlertThresholds::default());
        assert!(a.iter().find(|x| x.alert == "disk full").unwrap().noisy);
        // ... but not under min_fires.
        let th = AlertThresholds { min_fires: 5, ..Default::default() };
        assert!(alerts(&org2, &window(), &th).iter().all(|x| !x.noisy));
    }

    #[test]
    fn an_alert_belongs_to_its_most_frequent_team_ties_by_name() {
        let mk = |id: &str, team: &str| {
            let mut i = inc(id, "x", at(17, 12), Some(600), true);
            i.team = Some(team.into());
            i
        };
        let org = Org { incidents: vec![mk("1", "zeta"), mk("2", "alpha"), mk("3", "zeta"), mk("4", "alpha")], ..Default::default() };
        assert_eq!(alerts(&org, &window(), &AlertThresholds::default())[0].team, "alpha");
        let org = Org { incidents: vec![mk("1", "zeta"), mk("2", "alpha"), mk("3", "zeta")], ..Default::default() };
        assert_eq!(alerts(&org, &window(), &AlertThresholds::default())[0].team, "zeta");
    }
}
