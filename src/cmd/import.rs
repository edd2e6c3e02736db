//! `ownermap import`: trace JSON to canonical Parquet (see [`crate::import`]).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, exit};
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

/// Whether `p` is canonical span Parquet (an earlier import's or
/// generate's output), judged by its footer's columns.
fn is_canonical_parquet(p: &Path) -> bool {
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let Ok(f) = std::fs::File::open(p) else { return false };
    let Ok(b) = ParquetRecordBatchReaderBuilder::try_new(f) else { return false };
    let names = |s: &datafusion::arrow::datatypes::Schema| s.fields().iter().map(|f| f.name().clone()).collect::<Vec<_>>();
    names(b.schema()) == names(&crate::canonical::schema())
}

/// `--out` may name a new file or an earlier import's output, never an
/// input or any other existing file (§4: no path written overlaps a path
/// read, and ownermap replaces only what it wrote).
fn check_out(out: &Path, inputs: &[PathBuf]) -> Result<()> {
    let canon = |p: &Path| p.canonicalize().ok();
    if let Some(o) = canon(out) {
        if inputs.iter().any(|i| canon(i).as_ref() == Some(&o)) {
            return Err(Error::Refused(format!("refusing to write {}: it is also an input", out.display())));
        }
        if !is_canonical_parquet(out) {
            return Err(Error::Refused(format!(
                "refusing to overwrite {}: it exists and is not span Parquet written by ownermap; remove it or choose another --out",
                out.display()
            )));
        }
    }
    Ok(())
}

pub fn run(a: Args) -> Result<u8> {
    check_out(&a.out, &a.files)?;
    let r = import(a.format, &a.files, &a.out)?;
    tracing::info!("wrote {} spans from {} files to {} ({} skipped)", r.spans, r.files, a.out.display(), r.skipped);
    if r.skipped > 0 {
        eprintln!("ownermap: skipped {} spans without a trace id, span id or timestamp", r.skipped);
        return Ok(exit::SKIPPED_INPUT);
    }
    Ok(exit::OK)
}
