//! `ownermap lint`: the catalog-only documentation checks (SPEC §2.7), one
//! line per failure (`service<TAB>check<TAB>why`); exit 1 when any fails.
//! With `--level bronze|silver|gold` it judges maturity (§2.13) instead:
//! one line per service below the level (`service<TAB>level<TAB>lacks …`),
//! leaving out the checks that need spans. Needs no spans, so it fits a
//! catalog repository's CI.

use crate::analysis::docs::lint_lines;
use crate::analysis::maturity::{self, Evidence, LEVELS, level_rank};
use crate::config::{Config, Overrides};
use crate::error::{Result, exit};
use crate::pipeline::read_org;
use crate::run_result::Summary;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Level {
    Bronze,
    Silver,
    Gold,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  ownermap lint --config ownermap.toml\n  ownermap lint --config ownermap.toml --level silver\n\n\
With --level, the checks that need spans (telemetry, slos_met, dependencies_declared) are\nnot judged; expert_on_rotation uses the survey and postmortems the incidents when configured.\n\n\
Exit status: 0 when every check passes (or every service reaches the level), 1 when any\nfails, 2 on a bad config.")]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Day the review age is counted to (default: the window's last day).
    #[arg(long)]
    pub end: Option<String>,
    /// Require every catalog service with an owner to reach this maturity level.
    #[arg(long, value_enum)]
    pub level: Option<Level>,
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end, ..Default::default() })?;
    let mut summary = Summary::default();
    let org = read_org(&cfg, &mut summary)?;
    for p in &summary.problems {
        eprintln!("ownermap: {p}");
    }
    if let Some(level) = a.level {
        return Ok(lint_level(&cfg, &org, level));
    }
    let lines = lint_lines(&org, cfg.window.end, cfg.docs.max_review_age_days);
    for l in &lines {
        println!("{l}");
    }
    eprintln!("{} catalog entries, {} failed checks", org.catalog.entries.len(), lines.len());
    Ok(if lines.is_empty() { exit::OK } else { exit::FAILURE })
}

/// `lint --level`: every service below `level`, with the checks it fails
/// up to that level (in level order).
fn lint_level(cfg: &Config, org: &crate::model::Org, level: Level) -> u8 {
    let want = level as usize + 1;
    let expertise = crate::analysis::expertise::per_team(org, &cfg.survey);
    let postmortems = crate::analysis::postmortems::per_team(org, &cfg.window, &cfg.postmortems);
    let ev = Evidence { expertise: &expertise, postmortems: &postmortems, ..Default::default() };
    let all = maturity::assess(org, cfg.window.end, cfg.docs.max_review_age_days, &ev);
    let name = LEVELS[want - 1].0;
    let mut below = 0;
    for m in &all {
        if level_rank(m.level) >= want {
            continue;
        }
        below += 1;
        let needed: Vec<&str> = LEVELS[..want].iter().flat_map(|(_, c)| c.iter().copied()).collect();
        let lacks: Vec<&str> = m.checks.iter().filter(|(c, ok)| !ok && needed.contains(c)).map(|(c, _)| *c).collect();
        println!("{}\t{}\tlacks for {name}: {}", m.service, m.level, lacks.join(", "));
    }
    eprintln!("{} services with an owner, {below} below {name}", all.len());
    if below > 0 { exit::FAILURE } else { exit::OK }
}
