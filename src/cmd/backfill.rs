//! `ownermap backfill --weeks N` (SPEC §2.8): fills the history with the N
//! ISO weeks before the configured window's week, oldest first, each a
//! full Monday–Sunday week, from the span partitions still there — so a
//! team's trends and next week's comparison have data on its first day.
//! Only the history is written (no report is published); a week with no
//! spans is skipped and named.

use chrono::{Datelike, Duration};

use crate::config::{Config, Overrides, Window};
use crate::error::{exit, Error, Result};
use crate::pipeline;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ownermap backfill --config ownermap.toml --weeks 12\n\nExit 0 when every week was stored, 3 when some had no spans (named on stderr), 4 when none had.")]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// How many ISO weeks before the window's week to store.
    #[arg(long)]
    pub weeks: u32,
    /// Last day of the window whose week the backfill ends before (UTC, YYYY-MM-DD); default: the config's window.end, else yesterday.
    #[arg(long)]
    pub end: Option<String>,
}

/// The full ISO weeks (as 7-day windows ending on their Sunday) before the
/// week of `end`, oldest first.
pub fn weeks_before(end: chrono::NaiveDate, n: u32, slack_minutes: u32) -> Vec<Window> {
    let this_sunday = end + Duration::days(6 - end.weekday().num_days_from_monday() as i64);
    (1..=n as i64).rev().map(|k| Window { end: this_sunday - Duration::days(7 * k), days: 7, slack_minutes }).collect()
}

/// The most weeks one backfill stores (ten years).
const MAX_WEEKS: u32 = 520;

/// The earliest `date=` partition among the local span files, when every
/// file found lies in one (else None: no week can be ruled out unread).
fn earliest_partition(cfg: &Config, weeks: &[Window]) -> Option<chrono::NaiveDate> {
    let (first, last) = (weeks.first()?, weeks.last()?);
    if cfg.spans.path.contains("://") {
        return None;
    }
    let all = Window { end: last.end, days: (last.end - first.start()).num_days() as u32 + 1, slack_minutes: cfg.window.slack_minutes };
    let files = crate::input::spans::discover(&cfg.spans.path, cfg.spans.format, &all).ok()?;
    let dates: Option<Vec<chrono::NaiveDate>> = files.listing.iter().map(|(_, d, _, _)| *d).collect();
    dates?.into_iter().min()
}

pub fn run(a: Args) -> Result<u8> {
    if a.weeks == 0 || a.weeks > MAX_WEEKS {
        return Err(Error::Refused(format!("--weeks {}: expected 1 to {MAX_WEEKS}", a.weeks)));
    }
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end, ..Default::default() })?;
    let _state = crate::out_dir::lock_state(&cfg.state_dir, true)?;
    let rt = super::runtime()?;
    let (mut stored, mut skipped) = (vec![], vec![]);
    let mut weeks = weeks_before(cfg.window.end, a.weeks, cfg.window.slack_minutes);
    // Weeks that end before the earliest day of spans cannot have any:
    // they are skipped unread, and said so once.
    if let Some(earliest) = earliest_partition(&cfg, &weeks) {
        let before: Vec<Window> = weeks.iter().copied().filter(|w| w.end < earliest).collect();
        if let (Some(first), Some(last)) = (before.first(), before.last()) {
            let (a, b) = (crate::analysis::history::run_week(first), crate::analysis::history::run_week(last));
            let which = if before.len() == 1 { a } else { format!("{a} .. {b} ({} weeks)", before.len()) };
            eprintln!("ownermap: skipped {which}: no spans before {earliest}, the earliest day of spans");
            skipped.extend(before.iter().map(crate::analysis::history::run_week));
            weeks.retain(|w| w.end >= earliest);
        }
    }
    for window in weeks {
        let week_cfg = Config { window, ..cfg.clone() };
        let week = crate::analysis::history::run_week(&window);
        let result = rt.block_on(async {
            let ctx = crate::engine::connect(&week_cfg.engine, Some(&week_cfg.state_dir.join("spill"))).await?;
            pipeline::run(&week_cfg, &ctx, &crate::run_result::Quiet).await
        })?;
        if result.summary.spans_in_window == 0 {
            eprintln!("ownermap: skipped {week} ({} .. {}): no spans", window.start(), window.end);
            skipped.push(week);
            continue;
        }
        pipeline::store_history(&week_cfg, &result)?;
        tracing::info!("stored {week}: {} spans", result.summary.spans_in_window);
        stored.push(week);
    }
    tracing::info!("backfill: {} weeks stored, {} skipped", stored.len(), skipped.len());
    Ok(match (stored.is_empty(), skipped.is_empty()) {
        (true, _) => exit::NO_SPANS,
        (false, false) => exit::SKIPPED_INPUT,
        (false, true) => exit::OK,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_are_whole_iso_weeks_before_the_windows_week_oldest_first() {
        // 2026-11-22 is a Sunday (W47); a Wednesday in W47 gives the same.
        for end in ["2026-11-22", "2026-11-18"] {
            let end = chrono::NaiveDate::parse_from_str(end, "%Y-%m-%d").unwrap();
            let w = weeks_before(end, 2, 10);
            let ends: Vec<String> = w.iter().map(|w| w.end.to_string()).collect();
            assert_eq!(ends, vec!["2026-11-08", "2026-11-15"]);
            assert_eq!(w[0].start().to_string(), "2026-11-02");
            assert!(w.iter().all(|w| w.days == 7));
        }
    }
}
