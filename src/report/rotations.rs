//! `rotations.html`: every team's load against its rotation size, the
//! verdicts and the split plans.


use serde_json::Value;

use super::{Page, charts, render};
use crate::error::Result;
use crate::analysis::load::week_label;

/// Writes `rotations.html`.
pub(super) fn write(page: &Page) -> Result<()> {
    let Page { dir, tera, site } = *page;
    let r = site.r;
    let mut c = site.base("", "On-call rotations");
    let weeks = crate::analysis::load::verdict_weeks(&r.window);
    let points: Vec<(String, f64, f64, f64)> = r
        .org
        .teams
        .teams
        .iter()
        .map(|t| {
            let pages: i64 = site
                .t("team_load")
                .iter()
                .filter(|x| x.get("team").and_then(Value::as_str) == Some(&t.name))
                .filter(|x| x.get("week").and_then(Value::as_str).is_some_and(|w| weeks.iter().any(|m| week_label(*m) == w)))
                .filter_map(|x| x.get("pages").and_then(Value::as_i64))
                .sum();
            (t.name.clone(), t.rotation_size() as f64, pages as f64 / crate::analysis::load::VERDICT_HALF_DAYS, crate::analysis::rotation::min_rotation(t.sites, &r.rotation) as f64)
        })
        .collect();
    let two_sites = r.org.teams.teams.iter().filter(|t| t.sites > 1).map(|t| crate::analysis::rotation::min_rotation(t.sites, &r.rotation) as f64).fold(None, |a: Option<f64>, x| Some(a.map_or(x, |a| a.max(x))));
    c.insert("load_chart", &charts::load_vs_rotation(&points, r.max_pages_per_12h, r.rotation.min_single_site as f64, two_sites));
    // Most urgent first, as the index lists the teams (stable: a team's
    // verdicts of one urgency keep the table's order).
    let mut verdicts = site.t("rotation_verdicts").to_vec();
    let urgency = |v: &serde_json::Map<String, Value>| crate::analysis::rotation::Urgency::of(v.get("verdict").and_then(Value::as_str).unwrap_or_default());
    verdicts.sort_by_key(|v| std::cmp::Reverse(urgency(v)));
    c.insert("verdicts", &verdicts);
    c.insert("plans", site.t("split_plans"));
    c.insert("load", site.t("team_load"));
    super::write(&dir.join("rotations.html"), &render(tera, "rotations.html", &c)?)?;
    Ok(())
}
