//! Finding the span files of a window (SPEC §1.1, §5): a file, a folder or
//! a glob, local or `s3://`; Hive `date=` partitions outside the window and
//! its slack are never opened; links are followed, each file read once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use datafusion::prelude::SessionContext;

use crate::canonical::SkippedFile;
use crate::config::{SpanFormat, SpansConfig, Window};
use crate::error::{Error, Result};

use super::SpanFiles;

/// The `date=YYYY-MM-DD` Hive partition a path lies in, if any.
pub fn partition_date(path: &Path) -> Option<NaiveDate> {
    path.components().find_map(|c| {
        let s = c.as_os_str().to_str()?;
        let v = s.strip_prefix("date=")?;
        NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
    })
}

/// Whether a partition date can hold spans of traces in the window.
fn date_in_read_range(d: NaiveDate, w: &Window) -> bool {
    let slack = if w.slack_minutes > 0 { Duration::days(1) } else { Duration::zero() };
    d >= w.start() - slack && d <= w.end + slack
}

fn is_data_file(p: &Path, format: SpanFormat) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let ext = if format == SpanFormat::Csv { "csv" } else { "parquet" };
    !name.starts_with('.') && !name.starts_with('_') && p.extension().is_some_and(|e| e == ext)
}

/// What a walk of the input found: data files by their canonical path
/// (each read once, however many links lead to it), and names it skipped.
#[derive(Default)]
struct Walk {
    /// canonical path → the path shown to the user
    files: BTreeMap<PathBuf, PathBuf>,
    /// canonical folders already walked (a symlink loop ends here)
    dirs: std::collections::BTreeSet<PathBuf>,
    skipped: Vec<SkippedFile>,
}

impl Walk {
    fn skip(&mut self, p: &Path, reason: &str) {
        tracing::warn!("skipping span file {}: {reason}", p.display());
        self.skipped.push(SkippedFile { path: p.to_string_lossy().into_owned(), reason: reason.to_string() });
    }

    fn add_file(&mut self, p: PathBuf) {
        if p.to_str().is_none() {
            return self.skip(&p, "the file name is not UTF-8; rename it to read it");
        }
        // Only regular files (through links): a FIFO or a device would
        // block the reader forever, holding the state lock.
        if !std::fs::metadata(&p).is_ok_and(|m| m.is_file()) {
            return self.skip(&p, "not a regular file");
        }
        let canon = p.canonicalize().unwrap_or_else(|_| p.clone());
        match self.files.get(&canon) {
            // Prefer the path that names a date partition (a `latest ->
            // date=…` link must not hide the partition's date).
            Some(seen) if partition_date(seen).is_some() || partition_date(&p).is_none() => {}
            _ => {
                self.files.insert(canon, p);
            }
        }
    }

    fn dir(&mut self, dir: &Path, format: SpanFormat) -> Result<()> {
        let canon = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        if !self.dirs.insert(canon) {
            return Ok(());
        }
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                let name = p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
                if !name.starts_with('.') {
                    self.dir(&p, format)?;
                }
            } else if is_data_file(&p, format) {
                self.add_file(p);
            }
        }
        Ok(())
    }
}

/// Lists the span files under `path` (file, directory or glob) that can
/// hold spans of the window, pruning Hive date partitions. Symbolic links
/// are followed, but each folder is walked once and each file read once,
/// by canonical path.
pub fn discover(path: &str, format: SpanFormat, window: &Window) -> Result<SpanFiles> {
    if path.contains("://") {
        return Err(Error::Config(format!(
            "spans.path = {path:?}: of object-store URLs only s3:// is supported"
        )));
    }
    let mut walk = Walk::default();
    let p = Path::new(path);
    if p.is_dir() {
        walk.dir(p, format)?;
    } else if p.is_file() {
        walk.add_file(p.to_path_buf());
    } else if path.contains(['*', '?', '[']) {
        let paths = glob::glob(path).map_err(|e| Error::Config(format!("spans.path: {e}")))?;
        for entry in paths.flatten() {
            if entry.is_file() {
                walk.add_file(entry);
            } else if entry.is_dir() {
                walk.dir(&entry, format)?;
            }
        }
    } else {
        return Err(Error::Config(format!("spans.path {path}: no such file or directory")));
    }
    let mut all: Vec<PathBuf> = walk.files.into_values().collect();
    all.sort();
    let mut files = SpanFiles { format, skipped: walk.skipped, ..Default::default() };
    for f in all {
        let meta = std::fs::metadata(&f).ok();
        let size = meta.as_ref().map(|m| m.len()).unwrap_or(0);
        let mtime = meta
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_nanos() as i64)
            .unwrap_or(0);
        files.listing.push((f.clone(), partition_date(&f), size, mtime));
        match partition_date(&f) {
            Some(d) if !date_in_read_range(d, window) => files.pruned += 1,
            _ => files.read.push(f),
        }
    }
    Ok(files)
}


/// Lists `s3://bucket/prefix/` and prunes its `date=` partitions.
#[cfg(feature = "s3")]
pub(super) async fn discover_remote(ctx: &SessionContext, cfg: &SpansConfig, window: &Window) -> Result<SpanFiles> {
    let mut files = SpanFiles { format: cfg.format, ..Default::default() };
    for o in crate::input::objstore::list(ctx, &cfg.path).await? {
        let p = PathBuf::from(&o.url);
        if !is_data_file(&p, cfg.format) {
            continue;
        }
        let date = partition_date(&p);
        files.listing.push((p.clone(), date, o.size, o.mtime_ns));
        match date {
            Some(d) if !date_in_read_range(d, window) => files.pruned += 1,
            _ => files.read.push(p),
        }
    }
    if files.listing.is_empty() {
        return Err(Error::Config(format!("spans.path = {:?}: no span files under this prefix", cfg.path)));
    }
    Ok(files)
}

#[cfg(not(feature = "s3"))]
pub(super) async fn discover_remote(_: &SessionContext, cfg: &SpansConfig, _: &Window) -> Result<SpanFiles> {
    Err(Error::Config(format!("spans.path = {:?}: this build has no S3 support (build with --features s3)", cfg.path)))
}

/// A span object's schema; rows are estimated from its size (the footer's
/// count is not fetched).
pub(super) async fn read_remote_schema(ctx: &SessionContext, url: &str, format: SpanFormat) -> std::result::Result<(Schema, Option<u64>), String> {
    if format != SpanFormat::Parquet {
        return Err("only Parquet span files are read from object storage".into());
    }
    #[cfg(feature = "s3")]
    return crate::input::objstore::read_schema(ctx, url).await.map(|s| (s, None));
    #[cfg(not(feature = "s3"))]
    {
        let _ = (ctx, url);
        Err("this build has no S3 support".into())
    }
}


/// The window's local Parquet span files whose data pages cannot be
/// decoded (a footer intact over damaged pages), each with the decoder's
/// reason. `run` calls it after a query failed, to name and skip them.
pub fn undecodable(cfg: &SpansConfig, window: &Window) -> Vec<SkippedFile> {
    if cfg.format != SpanFormat::Parquet || cfg.path.contains("://") {
        return vec![];
    }
    let Ok(files) = discover(&cfg.path, cfg.format, window) else { return vec![] };
    let decode = |p: &Path| -> std::result::Result<(), String> {
        let f = std::fs::File::open(p).map_err(|e| e.to_string())?;
        let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)
            .and_then(|b| b.build())
            .map_err(|e| e.to_string())?;
        for batch in reader {
            batch.map_err(|e| e.to_string())?;
        }
        Ok(())
    };
    files
        .read
        .iter()
        .filter_map(|p| {
            decode(p).err().map(|e| SkippedFile { path: p.display().to_string(), reason: format!("damaged Parquet data ({e})") })
        })
        .collect()
}


/// A file's schema and, for Parquet, its row count (one footer read).
pub(super) fn read_schema(path: &Path, format: SpanFormat) -> std::result::Result<(Schema, Option<u64>), String> {
    if format == SpanFormat::Csv {
        // Every CSV column is read as text; select_list casts what it needs,
        // so ids keep their leading zeros and odd rows do not break inference.
        let mut r = csv::Reader::from_path(path).map_err(|e| e.to_string())?;
        let header = r.headers().map_err(|e| format!("no CSV header ({e})"))?;
        return Ok((Schema::new(header.iter().map(|h| Field::new(h.trim(), DataType::Utf8, true)).collect::<Vec<_>>()), None));
    }
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::default())
        .map_err(|e| format!("not a readable Parquet file ({e})"))?;
    Ok((meta.schema().as_ref().clone(), Some(meta.metadata().file_metadata().num_rows() as u64)))
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_dates_are_found() {
        let p = Path::new("/data/spans/date=2026-11-20/hour=03/part-0.parquet");
        assert_eq!(partition_date(p), NaiveDate::from_ymd_opt(2026, 11, 20));
        assert_eq!(partition_date(Path::new("/data/x.parquet")), None);
    }

    #[test]
    fn read_range_includes_neighbours_only_with_slack() {
        let end = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let w = Window { end, days: 2, slack_minutes: 10 };
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(date_in_read_range(d("2026-11-20"), &w));
        assert!(date_in_read_range(d("2026-11-23"), &w));
        assert!(!date_in_read_range(d("2026-11-19"), &w));
        let w0 = Window { slack_minutes: 0, ..w };
        assert!(!date_in_read_range(d("2026-11-20"), &w0));
    }
}

