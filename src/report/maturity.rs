//! `maturity.html`: each team's services by maturity level and the checks
//! each passes (SPEC §2.13).


use serde_json::{Value, json};

use super::{Page, render};
use crate::error::Result;

/// Writes `maturity.html`.
pub(super) fn write(page: &Page) -> Result<()> {
    let Page { dir, tera, site } = *page;
    let r = site.r;
    let mut c = site.base("", "Service maturity");
    let teams: Vec<Value> = crate::analysis::maturity::by_team(&r.maturity)
        .into_iter()
        .map(|(team, counts)| {
            let mut services: Vec<&crate::analysis::maturity::Maturity> = r.maturity.iter().filter(|m| m.team == team).collect();
            services.sort_by_key(|m| m.rank());
            let services: Vec<Value> = services
                .iter()
                .map(|m| json!({"service": m.service, "level": m.level, "checks": m.checks.iter().map(|(_, ok)| *ok).collect::<Vec<_>>()}))
                .collect();
            json!({"team": team, "counts": counts, "services": services})
        })
        .collect();
    let mut counts = [0usize; 4];
    for m in &r.maturity {
        counts[m.rank()] += 1;
    }
    c.insert("teams", &teams);
    c.insert("counts", &counts);
    c.insert("checks", &crate::analysis::maturity::all_checks());
    c.insert("max_review_age_days", &r.max_review_age_days);
    super::write(&dir.join("maturity.html"), &render(tera, "maturity.html", &c)?)?;
    Ok(())
}
