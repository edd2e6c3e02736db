//! Week over week (SPEC §2.8): the run's weekly figures against those
//! stored for the ISO week exactly one before. Both weeks' figures are
//! read from the same tables (this run's, or the history's), so a week
//! stored by an older build compares like with like; a metric missing in
//! one week gives a row with an empty change, never a guess.

use std::collections::BTreeMap;

use crate::config::ChangeThresholds;
use crate::table::Table;
use crate::error::Result;
use crate::table::{ColType::*, Rows, b, fo, s};

/// One figure of one week.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub value: Option<f64>,
    /// an SLO's objective (attainment rows)
    pub objective: Option<f64>,
    /// the service's requests that week (p99 rows)
    pub requests: Option<f64>,
}

/// (subject_type, subject, metric) → figure.
pub type Figures = BTreeMap<(String, String, String), Figure>;

/// The tables a week's figures come from (this run's, or a stored week's).
pub trait WeekTables {
    fn get(&self, name: &str) -> Option<&Table>;
}

impl WeekTables for BTreeMap<String, Table> {
    fn get(&self, name: &str) -> Option<&Table> {
        BTreeMap::get(self, name)
    }
}

fn put(f: &mut Figures, kind: &str, subject: &str, metric: &str, value: Option<f64>) {
    f.insert((kind.into(), subject.into(), metric.into()), Figure { value, objective: None, requests: None });
}

/// The figures §2.8 compares, for ISO week `week`.
pub fn figures(week: &str, t: &dyn WeekTables) -> Figures {
    use crate::table::read::stored::{f64s, strs};
    let mut out = Figures::new();
    if let Some(load) = t.get("team_load") {
        let teams = strs(load, "team");
        let weeks = strs(load, "week");
        let cols = ["pages", "sleep_pages", "mtta_min"].map(|c| f64s(load, c));
        for r in 0..teams.len() {
            if weeks[r].as_deref() != Some(week) {
                continue;
            }
            let team = teams[r].clone().unwrap_or_default();
            for (metric, col) in ["pages", "sleep_pages", "mtta_min"].iter().zip(&cols) {
                put(&mut out, "team", &team, metric, col[r]);
            }
        }
    }
    if let Some(te) = t.get("team_errors") {
        for (team, v) in strs(te, "team").into_iter().zip(f64s(te, "surfaced_elsewhere_caused")) {
            put(&mut out, "team", &team.unwrap_or_default(), "surfaced_elsewhere_caused", v);
        }
    }
    if let Some(dh) = t.get("docs_health") {
        // A team's score pools its services' checks (each has the same
        // number), so it is the mean of their scores.
        let mut pooled: BTreeMap<String, (f64, usize)> = BTreeMap::new();
        for (team, score) in strs(dh, "team").into_iter().zip(f64s(dh, "score")) {
            if let Some(score) = score {
                let e = pooled.entry(team.unwrap_or_else(|| crate::model::UNOWNED.to_string())).or_default();
                e.0 += score;
                e.1 += 1;
            }
        }
        for (team, (sum, n)) in pooled {
            put(&mut out, "team", &team, "docs_score", Some(sum / n as f64));
        }
    }
    if let Some(sv) = t.get("services") {
        let names = strs(sv, "service");
        let requests = f64s(sv, "requests");
        for (metric, col) in [("requests", f64s(sv, "requests")), ("error_rate", f64s(sv, "error_rate")), ("p99_ms", f64s(sv, "p99_ms"))] {
            for r in 0..names.len() {
                let key = ("service".to_string(), names[r].clone().unwrap_or_default(), metric.to_string());
                out.insert(key, Figure { value: col[r], objective: None, requests: requests[r] });
            }
        }
    }
    if let Some(sl) = t.get("slos") {
        let (svc, slo) = (strs(sl, "service"), strs(sl, "slo"));
        let (att, obj) = (f64s(sl, "attainment"), f64s(sl, "objective"));
        for r in 0..svc.len() {
            let subject = format!("{}/{}", svc[r].clone().unwrap_or_default(), slo[r].clone().unwrap_or_default());
            out.insert(("slo".into(), subject, "attainment".into()), Figure { value: att[r], objective: obj[r], requests: None });
        }
    }
    if let Some(ed) = t.get("edges") {
        // One subject per caller, callee and kind: the calls of every
        // callee type summed (a service and a virtual node of one name).
        let (a, c, k) = (strs(ed, "caller"), strs(ed, "callee"), strs(ed, "kind"));
        let calls = f64s(ed, "calls");
        let mut summed: BTreeMap<String, Option<f64>> = BTreeMap::new();
        for r in 0..a.len() {
            let subject = format!(
                "{} -> {} ({})",
                a[r].clone().unwrap_or_default(),
                c[r].clone().unwrap_or_default(),
                k[r].clone().unwrap_or_default()
            );
            let e = summed.entry(subject).or_default();
            if let Some(v) = calls[r] {
                *e = Some(e.unwrap_or(0.0) + v);
            }
        }
        for (subject, v) in summed {
            put(&mut out, "edge", &subject, "calls", v);
        }
    }
    out
}

/// Whether a change of `change` in `metric` is for the worse or the
/// better, for a reader of §2.8's rows: more pages, slower acknowledgement,
/// more errors caused elsewhere, a higher error rate or p99 are worse; a
/// lower docs score or SLO attainment is worse. Requests and calls are
/// traffic, neither; an appearing or vanishing subject (no change) neither.
pub fn direction(metric: &str, change: Option<f64>) -> Option<&'static str> {
    let higher_is_worse = match metric {
        "pages" | "sleep_pages" | "mtta_min" | "surfaced_elsewhere_caused" | "error_rate" | "p99_ms" => true,
        "docs_score" | "attainment" => false,
        _ => return None,
    };
    let c = change.filter(|c| *c != 0.0)?;
    Some(if (c > 0.0) == higher_is_worse { "worse" } else { "better" })
}

/// Comparisons at a threshold are exact up to float noise (0.9 − 0.8 is
/// 0.0999…98 in binary).
const EPS: f64 = 1e-9;

/// Rose by at least `pct` (of last week) and by at least `min`; from 0
/// any rise counts as an unbounded percentage.
fn rose(last: f64, this: f64, pct: f64, min: f64) -> bool {
    let d = this - last;
    d >= min - EPS && (last <= 0.0 && d > 0.0 || last > 0.0 && d / last >= pct - EPS)
}

/// Whether a row is notable (SPEC §2.8).
fn notable(key: &(String, String, String), last: Option<&Figure>, this: Option<&Figure>, th: &ChangeThresholds, min_edge_calls: i64) -> bool {
    let (kind, _, metric) = key;
    if kind == "edge" {
        // Appeared or vanished, with enough calls where it exists.
        return match (last.and_then(|f| f.value), this.and_then(|f| f.value)) {
            (None, Some(c)) | (Some(c), None) => c >= min_edge_calls as f64,
            _ => false,
        };
    }
    let (Some(l), Some(t)) = (last.and_then(|f| f.value), this.and_then(|f| f.value)) else { return false };
    match metric.as_str() {
        "pages" | "sleep_pages" => rose(l, t, th.pages_rise_pct, th.pages_rise_min),
        "mtta_min" => rose(l, t, th.mtta_rise_pct, th.mtta_rise_min),
        "surfaced_elsewhere_caused" => rose(l, t, th.surfaced_rise_pct, th.surfaced_rise_min),
        "docs_score" => l - t >= th.docs_score_drop - EPS,
        "error_rate" => t - l >= th.error_rate_rise - EPS && t >= th.error_rate_factor * l - EPS,
        "p99_ms" => {
            let requests = this.and_then(|f| f.requests).unwrap_or(0.0);
            requests >= th.p99_min_requests && rose(l, t, th.p99_rise_pct, th.p99_rise_ms)
        }
        "attainment" => {
            let objective = this.and_then(|f| f.objective).or(last.and_then(|f| f.objective));
            objective.is_some_and(|o| (l >= o) != (t >= o))
        }
        _ => false,
    }
}

/// How much a change matters, to order the notable rows: the change
/// relative to last week's value, that value taken as at least the
/// smallest notable amount of its metric (a rise of pages from 1 to 6 is
/// 5 / 3, not 5 / 1: small counts do not outrank a p99 five times slower);
/// an SLO's change in error budgets (1 − objective); a subject that appeared
/// or vanished is a change of the whole (1).
fn size(metric: &str, last: Option<&Figure>, this: Option<&Figure>, th: &ChangeThresholds) -> f64 {
    let (Some(a), Some(b)) = (last.and_then(|f| f.value), this.and_then(|f| f.value)) else { return 1.0 };
    let floor = match metric {
        "pages" | "sleep_pages" => th.pages_rise_min,
        "mtta_min" => th.mtta_rise_min,
        "surfaced_elsewhere_caused" => th.surfaced_rise_min,
        "p99_ms" => th.p99_rise_ms,
        "error_rate" => th.error_rate_rise,
        "docs_score" => th.docs_score_drop,
        "attainment" => {
            let objective = this.and_then(|f| f.objective).or(last.and_then(|f| f.objective)).unwrap_or(0.99);
            return (b - a).abs() / (1.0 - objective).max(EPS);
        }
        _ => 0.0,
    };
    let base = a.abs().max(floor);
    if base > 0.0 { (b - a).abs() / base } else { (b - a).abs() }
}

/// The `week_over_week` table: one row per subject and metric present in
/// either week; notable rows first, those for the worse before the others
/// and the better last, each by how much it matters ([`size`]); then by
/// subject type, subject and metric. Without a stored previous week it is
/// empty: there is no comparison.
pub fn week_over_week(this: &Figures, last: Option<&Figures>, th: &ChangeThresholds, min_edge_calls: i64) -> Result<Table> {
    let mut rows = Rows::new(&[("subject_type", Text), ("subject", Text), ("metric", Text), ("last_week", Float), ("this_week", Float), ("change", Float), ("notable", Bool)]);
    let Some(last) = last else { return rows.finish() };
    let mut keys: Vec<&(String, String, String)> = this.keys().chain(last.keys()).collect();
    keys.sort();
    keys.dedup();
    // (notable, direction rank: worse 0, neither 1, better 2, size, key, last, this)
    type Row<'k> = (bool, u8, f64, &'k (String, String, String), Option<f64>, Option<f64>);
    let mut out: Vec<Row> = keys
        .into_iter()
        .map(|k| {
            let (l, t) = (last.get(k), this.get(k));
            let (lv, tv) = (l.and_then(|f| f.value), t.and_then(|f| f.value));
            let rank = match direction(&k.2, lv.zip(tv).map(|(a, b)| b - a)) {
                Some("worse") => 0,
                Some(_) => 2,
                None => 1,
            };
            (notable(k, l, t, th, min_edge_calls), rank, size(&k.2, l, t, th), k, lv, tv)
        })
        .collect();
    out.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then(if a.0 { a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)) } else { std::cmp::Ordering::Equal })
            .then(a.3.cmp(b.3))
    });
    for (is_notable, _, _, (kind, subject, metric), lv, tv) in out {
        let change = lv.zip(tv).map(|(a, b)| b - a);
        rows.push(vec![s(kind.as_str()), s(subject.as_str()), s(metric.as_str()), fo(lv), fo(tv), fo(change), b(is_notable)]);
    }
    rows.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(v: f64) -> Figure {
        Figure { value: Some(v), objective: None, requests: None }
    }

    #[test]
    fn changes_read_as_worse_or_better_by_metric() {
        assert_eq!(direction("pages", Some(3.0)), Some("worse"));
        assert_eq!(direction("p99_ms", Some(-40.0)), Some("better"));
        assert_eq!(direction("attainment", Some(-0.01)), Some("worse"));
        assert_eq!(direction("docs_score", Some(0.2)), Some("better"));
        assert_eq!(direction("requests", Some(500.0)), None);
        assert_eq!(direction("calls", None), None);
        assert_eq!(direction("pages", Some(0.0)), None);
    }

    #[test]
    fn rises_need_both_the_share_and_the_amount() {
        assert!(rose(6.0, 9.0, 0.5, 3.0), "+50 % and +3 exactly");
        assert!(!rose(6.0, 8.9, 0.5, 3.0));
        assert!(!rose(10.0, 14.0, 0.5, 3.0), "+4 but only +40 %");
        assert!(rose(0.0, 3.0, 0.5, 3.0), "from zero any share");
        assert!(!rose(0.0, 2.0, 0.5, 3.0));
    }

    #[test]
    fn a_docs_score_drop_of_exactly_the_threshold_is_notable_despite_float_noise() {
        let th = ChangeThresholds::default();
        let k = ("team".to_string(), "t".to_string(), "docs_score".to_string());
        assert!(notable(&k, Some(&fig(0.9)), Some(&fig(0.8)), &th, 10));
        assert!(!notable(&k, Some(&fig(0.9)), Some(&fig(0.81)), &th, 10));
    }

    #[test]
    fn notable_rows_come_worse_first_and_by_how_much_they_matter() {
        // The 150-service organisation's case: pages 1 -> 6 (500 % of a
        // tiny count) came before a p99 of 198 -> 1 075 ms; a drop in pages
        // (better) comes after both, however large.
        let th = ChangeThresholds::default();
        let key = |t: &str, s: &str, m: &str| (t.to_string(), s.to_string(), m.to_string());
        let p99 = |v: f64| Figure { value: Some(v), objective: None, requests: Some(5000.0) };
        let mut last = Figures::new();
        let mut this = Figures::new();
        for (k, l, t) in [
            (key("team", "infra", "pages"), fig(1.0), fig(6.0)),
            (key("service", "orders", "p99_ms"), p99(198.0), p99(1075.0)),
            (key("team", "quiet", "pages"), fig(40.0), fig(4.0)),
        ] {
            last.insert(k.clone(), l);
            this.insert(k, t);
        }
        let t = week_over_week(&this, Some(&last), &th, 10).unwrap();
        let subjects = crate::table::read::strs(&t, "subject").unwrap();
        assert_eq!(subjects, vec![Some("orders".to_string()), Some("infra".to_string()), Some("quiet".to_string())]);
        // 877 / 198 against 5 / max(1, 3)
        assert!(size("p99_ms", Some(&p99(198.0)), Some(&p99(1075.0)), &th) > size("pages", Some(&fig(1.0)), Some(&fig(6.0)), &th));
    }
}
