//! `ownermap import`: trace JSON to canonical Parquet (see [`crate::import`]).

use std::path::PathBuf;

use crate::error::{Result, exit};
use crate::import::{Format, import};

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ownermap import --format zipkin-json traces/*.json --out spans/date=2026-11-20/zipkin.parquet\n\nSpans without a trace or span id (and Zipkin spans without any timestamp) are skipped and counted; exit 3 when any were.")]
pub struct Args {
    /// The input's format: OTLP JSON (one request per file or per line), Jaeger JSON, or Zipkin v2 JSON.
    #[arg(long, value_enum)]
    pub format: Format,
    /// Input files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The Parquet file to write (written aside, then renamed into place).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: Args) -> Result<u8> {
    let r = import(a.format, &a.files, &a.out)?;
    tracing::info!("wrote {} spans from {} files to {} ({} skipped)", r.spans, r.files, a.out.display(), r.skipped);
    if r.skipped > 0 {
        eprintln!("ownermap: skipped {} spans without a trace id, span id or timestamp", r.skipped);
        return Ok(exit::SKIPPED_INPUT);
    }
    Ok(exit::OK)
}
