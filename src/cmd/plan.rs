//! `ownermap plan --team T [--rotation-size N]`: the split planner's what-if
//! for any team (SPEC §2.6), as a readable table: the team's pooled figures
//! over the 4 verdict weeks, its verdicts at the given rotation size, and the
//! best two-way split of its services.

use std::fmt::Write as _;

use crate::analysis::load::pooled;
use crate::analysis::rotation::{busiest_neighbour, plan_for, survey_verdicts, verdicts_for, with_survey};
use crate::config::{Config, Overrides};
use crate::error::{Result, exit};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ownermap plan --config ownermap.toml --team storefront --rotation-size 10")]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// The team to plan for.
    #[arg(long)]
    pub team: String,
    /// Try this rotation size instead of the team's current one.
    #[arg(long)]
    pub rotation_size: Option<usize>,
    /// Last day of the window (UTC, YYYY-MM-DD); the 4 verdict weeks end
    /// with its ISO week. Default: the config's window.end, else yesterday.
    #[arg(long)]
    pub end: Option<String>,
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end.clone(), ..Default::default() })?;
    let (org, edges) = super::org_and_edges(&cfg)?;
    let name = org.resolve_team(&a.team)?;
    let a = Args { team: name, ..a };
    let team = org.team(&a.team);
    let fig = pooled(&org, &cfg.window).remove(&a.team).unwrap_or_default();
    let size = a.rotation_size.unwrap_or_else(|| team.rotation_size());
    let owned = org.services_owned(&a.team).len();
    let neighbour = busiest_neighbour(&edges, &a.team);
    let verdicts = verdicts_for(&team, &fig, owned, size, neighbour.as_deref(), &cfg.load, &cfg.rotation);
    let expertise = crate::analysis::expertise::per_team(&org, &cfg.survey).into_iter().find(|e| e.team == a.team);
    let survey = expertise.as_ref().map(|e| survey_verdicts(e, &cfg.survey)).unwrap_or_default();
    let verdicts = with_survey(verdicts, survey);
    let mut out = String::new();
    let weeks = crate::analysis::load::verdict_weeks(&cfg.window);
    let _ = writeln!(
        out,
        "Team {} — 4 weeks {} to {} — rotation of {size}{}",
        a.team,
        crate::analysis::load::week_label(weeks[0]),
        crate::analysis::load::week_label(weeks[3]),
        if a.rotation_size.is_some() { " (what-if)" } else { "" }
    );
    let _ = writeln!(out, "  pages {}  incidents {}  pages/12h {:.2}  services {owned}  services/person {:.2}\n",
        fig.pages, fig.incidents, fig.pages as f64 / crate::analysis::load::VERDICT_HALF_DAYS, if size > 0 { owned as f64 / size as f64 } else { f64::INFINITY });
    let _ = writeln!(out, "{:<15} {:>10} {:>10}  detail", "verdict", "figure", "threshold");
    for v in &verdicts {
        let _ = writeln!(out, "{:<15} {:>10.2} {:>10.2}  {}", v.verdict, v.figure, v.threshold, v.detail);
    }
    match plan_for(&org, &cfg, &edges, &a.team) {
        None => {
            let _ = writeln!(out, "\nNo split: the team owns fewer than two services.");
        }
        Some(p) => {
            let _ = writeln!(out, "\nSplit ({} calls cross between the groups):", p.crossing_calls);
            let _ = writeln!(out, "{:<6} {:>7} {:>10} {:>14}  services", "group", "pages", "pages/12h", "rotation need");
            for (k, g) in p.groups.iter().enumerate() {
                let _ = writeln!(out, "{:<6} {:>7} {:>10.2} {:>14}  {}", k + 1, g.pages, g.pages_per_12h, g.needed_rotation_size, g.services.join(", "));
            }
            for (k, g) in p.groups.iter().enumerate() {
                if let (Some(experts), Some(uncovered)) = (&g.experts, &g.uncovered) {
                    let list = |v: &[String]| if v.is_empty() { "none".to_string() } else { v.join(", ") };
                    let _ = writeln!(out, "group {}: experts on the rotation: {}; no expert: {}", k + 1, list(experts), list(uncovered));
                }
            }
            if p.groups.iter().all(|g| g.experts.is_none()) {
                let _ = writeln!(out, "(no survey configured: experts per group unknown)");
            }
        }
    }
    super::print_stdout(&out);
    Ok(exit::OK)
}
