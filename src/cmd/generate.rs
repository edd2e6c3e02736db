//! `ownermap generate`: a seeded realistic organisation (see [`crate::generate`]).

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, Utc};

use crate::error::{exit, Error, Result};
use crate::generate::{GenOptions, generate};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write spans/, catalog.yaml, teams.yaml, incidents.csv and ownermap.toml into.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of services.
    #[arg(long, default_value_t = 40)]
    pub services: usize,
    /// Number of days of spans (the config's window is the last 7; earlier
    /// weeks are filed by `ownermap backfill`).
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
    /// Span order in the files: `clickhouse` (as the Collector's ClickHouse
    /// table exports them: by service, span name and time, zstd, 1 M-row
    /// files) or `trace` (a trace's spans adjacent).
    #[arg(long, value_enum, default_value = "clickhouse")]
    pub layout: crate::generate::Layout,
    /// Keep only a sample of the traces, with the evidence a real pipeline
    /// writes (SPEC §2.14): `head:P` (TraceState th), `tail:P` (errors kept,
    /// the rest with probability P), `jaeger:P` (sampler tags on the root),
    /// `sample-rate:N` (the SampleRate attribute). --spans-per-day counts
    /// the spans before sampling.
    #[arg(long)]
    pub sampling: Option<crate::generate::sampling::Policy>,
    /// Batch consumers: the consumers of every other service start a trace
    /// of their own with a span link to the message's producer (SPEC §2.2
    /// "Links"), as batch-processing messaging instrumentations do.
    #[arg(long)]
    pub links: bool,
}

pub fn run(a: Args) -> Result<u8> {
    let end = match a.end {
        Some(s) => NaiveDate::parse_from_str(&s, "%Y-%m-%d")
            .map_err(|_| Error::Config(format!("--end {s:?}: expected YYYY-MM-DD")))?,
        None => Utc::now().date_naive() - Duration::days(1),
    };
    // Sizes a generated organisation can have (a larger one would run for
    // hours and fill the disk).
    for (flag, v, hi) in [("--services", a.services as u64, 10_000), ("--days", a.days as u64, 366), ("--spans-per-day", a.spans_per_day, 1_000_000_000)] {
        if v == 0 || v > hi {
            return Err(Error::Config(format!("{flag} {v}: expected 1 to {hi}")));
        }
    }
    prepare_out(&a.out)?;
    let opt = GenOptions { out: a.out, services: a.services, days: a.days, spans_per_day: a.spans_per_day, seed: a.seed, end, layout: a.layout, sampling: a.sampling, links: a.links };
    let marker = opt.out.join(GENERATED_MARKER);
    std::fs::create_dir_all(&opt.out).map_err(|e| Error::io(&opt.out, e))?;
    std::fs::write(&marker, "Written by `ownermap generate`; a later generate into this folder replaces its files.\n")
        .map_err(|e| Error::io(&marker, e))?;
    let r = generate(&opt, |day, n| tracing::info!("generated {day}: {n} spans"))?;
    tracing::info!("wrote {} spans in {} traces, {} files, under {}", r.spans, r.traces, r.files, opt.out.display());
    if r.dropped > 0 {
        tracing::info!("sampling left out {} spans", r.dropped);
    }
    Ok(exit::OK)
}

/// Written into every generated organisation: `generate` replaces only its
/// own output.
pub const GENERATED_MARKER: &str = ".ownermap-generated";

/// The files every `generate` writes (an output from before the marker
/// existed is recognised by them).
const GENERATED_FILES: [&str; 4] = ["catalog.yaml", "teams.yaml", "incidents.csv", "ownermap.toml"];

/// Makes `out` ready for a new organisation: a new or empty folder is used
/// as it is; an earlier `generate` output loses its span partitions (so two
/// organisations never mix); anything else is refused (exit 2).
fn prepare_out(out: &Path) -> Result<()> {
    let Ok(mut rd) = std::fs::read_dir(out) else {
        if out.exists() {
            return Err(Error::Refused(format!("generate --out {}: it is a file, not a folder", out.display())));
        }
        return Ok(());
    };
    if rd.next().is_none() {
        return Ok(());
    }
    let ours = out.join(GENERATED_MARKER).is_file() || GENERATED_FILES.iter().all(|f| out.join(f).is_file());
    if !ours {
        return Err(Error::Refused(format!(
            "generate --out {}: the folder is not empty and is not an earlier `ownermap generate` output; name a new folder",
            out.display()
        )));
    }
    let spans = out.join("spans");
    if spans.exists() {
        tracing::info!("replacing the organisation generated earlier in {}", out.display());
        std::fs::remove_dir_all(&spans).map_err(|e| Error::io(&spans, e))?;
    }
    Ok(())
}
