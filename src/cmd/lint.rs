//! `ownermap lint`: the catalog-only documentation checks (SPEC §2.7), one
//! line per failure (`service<TAB>check<TAB>why`); exit 1 when any fails.
//! Needs no spans, so it fits a catalog repository's CI.

use crate::analysis::docs::lint_lines;
use crate::config::{Config, Overrides};
use crate::error::Result;
use crate::pipeline::{Summary, read_org};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ownermap lint --config ownermap.toml\n\nExit status: 0 when every check passes, 1 when any fails, 2 on a bad config.")]
pub struct Args {
    #[command(flatten)]
    pub config: crate::cli::ConfigArg,
    /// Day the review age is counted to (default: the window's last day).
    #[arg(long)]
    pub end: Option<String>,
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end, ..Default::default() })?;
    let mut summary = Summary::default();
    let org = read_org(&cfg, &mut summary)?;
    for p in &summary.problems {
        eprintln!("ownermap: {p}");
    }
    let lines = lint_lines(&org, cfg.window.end, cfg.docs.max_review_age_days);
    for l in &lines {
        println!("{l}");
    }
    eprintln!("{} catalog entries, {} failed checks", org.catalog.entries.len(), lines.len());
    Ok(if lines.is_empty() { 0 } else { 1 })
}
