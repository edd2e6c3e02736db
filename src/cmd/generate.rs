//! `ownermap generate`: a seeded realistic organisation (see [`crate::generate`]).

use std::path::PathBuf;

use chrono::{Duration, NaiveDate, Utc};

use crate::error::{Error, Result};
use crate::generate::{GenOptions, generate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write spans/, catalog.yaml, teams.yaml, incidents.csv and ownermap.toml into.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of services.
    #[arg(long, default_value_t = 40)]
    pub services: usize,
    /// Number of days of spans.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Spans per day (approximately: whole traces are kept).
    #[arg(long, default_value_t = 100_000)]
    pub spans_per_day: u64,
    /// Random seed: the same seed gives the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Last day (UTC, YYYY-MM-DD); default yesterday.
    #[arg(long)]
    pub end: Option<String>,
}

pub fn run(a: Args) -> Result<u8> {
    let end = match a.end {
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| Error::Config(format!("--end {s:?}: expected YYYY-MM-DD")))?,
        None => Utc::now().date_naive() - Duration::days(1),
    };
    if a.days == 0 {
        return Err(Error::Config("--days must be at least 1".into()));
    }
    let opt = GenOptions { out: a.out, services: a.services, days: a.days, spans_per_day: a.spans_per_day, seed: a.seed, end };
    let r = generate(&opt, |day, n| tracing::info!("generated {day}: {n} spans"))?;
    tracing::info!("wrote {} spans in {} traces, {} files, under {}", r.spans, r.traces, r.files, opt.out.display());
    Ok(0)
}
