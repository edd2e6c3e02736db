//! Span input (SPEC §1.1): find the files, check each file's schema, and
//! register one normalised view `spans_all` that every query reads.
//!
//! What this stage guarantees to the next: `spans_all` has exactly the
//! columns `trace_id, span_id, parent_id` (canonical id bytes, parent NULL for
//! roots), `start_ns, duration_ns` (BIGINT ns), `service, name` (VARCHAR),
//! `kind` (OTLP enum 0–5), `is_error`, `vnode, vtype` (virtual-node name and
//! type for Client/Producer spans, §2.2), `env`, `sample_weight,
//! sample_rule` (the span's sampling evidence, §2.14), `links` (its link
//! keys, §2.2, `engine::links`). Files in Hive partitions
//! `date=YYYY-MM-DD` outside the window (plus the slack) are never opened.
//! Files whose footer cannot be read, that miss a required column or hold
//! one of the wrong type are skipped and reported by name (exit 3); when no
//! file is usable, the first such problem is a configuration error naming
//! the file and the column (exit 2).
//!
//! - [`discover`]: finding the files (local and `s3://`), pruning date
//!   partitions, reading footers;
//! - [`schema`]: mapping each file's columns onto the canonical ones and
//!   the normalising SELECT built for it;
//! - [`bad_rows`]: counting the rows that cannot be used, per file.

pub mod bad_rows;
pub mod discover;
pub mod schema;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::SessionContext;

use crate::canonical::SkippedFile;
use crate::config::{SpanFormat, SpansConfig, Window};
use crate::error::{Error, Result};

pub use bad_rows::BadRows;
pub use discover::{discover, partition_date, undecodable};
use discover::{discover_remote, read_remote_schema, read_schema};
use schema::{BAD, is_pseudo, resolve_columns, select_list, sql_str};

/// What discovery found.
#[derive(Debug, Default)]
pub struct SpanFiles {
    pub read: Vec<PathBuf>,
    pub skipped: Vec<SkippedFile>,
    pub pruned: usize,
    pub bytes: u64,
    /// span rows in the files read (from Parquet footers; CSV estimated)
    pub rows: u64,
    /// the files read, grouped by their normalising SELECT (one listing
    /// scan per group), each with its partition date and footer rows
    groups: Vec<(Vec<(String, &'static str)>, Vec<ReadFile>)>,
    /// every file found under the input (read, pruned or skipped) with its
    /// partition date, size and mtime: the per-day cache's fingerprint
    pub listing: Vec<(PathBuf, Option<NaiveDate>, u64, i64)>,
    format: SpanFormat,
    env_filter: String,
}

#[derive(Debug, Clone)]
struct ReadFile {
    path: String,
    date: Option<NaiveDate>,
    rows: u64,
}

impl SpanFiles {
    /// Span rows (footer counts) in the files whose partition passes `keep`.
    pub fn rows_where(&self, keep: &dyn Fn(Option<NaiveDate>) -> bool) -> u64 {
        self.groups.iter().flat_map(|(_, f)| f).filter(|f| keep(f.date)).map(|f| f.rows).sum()
    }

    /// A stable fingerprint (FNV-1a over path, size and mtime) of the files
    /// found in the partitions passing `keep` (unpartitioned files always
    /// count): a changed, added or removed file changes it.
    pub fn fingerprint(&self, keep: &dyn Fn(Option<NaiveDate>) -> bool) -> u64 {
        let mut h = crate::hash::Fnv::new();
        for (p, d, size, mtime) in &self.listing {
            if d.is_none() || keep(*d) {
                h.write(p.to_string_lossy().as_bytes());
                h.write(&size.to_le_bytes());
                h.write(&mtime.to_le_bytes());
            }
        }
        h.finish()
    }

    /// Registers `name` as the normalised spans (the `spans_all` columns)
    /// of the files whose partition passes `keep` (unpartitioned files are
    /// always included). Only those files are ever opened by its scans.
    pub async fn register_view(&self, ctx: &SessionContext, name: &str, keep: &dyn Fn(Option<NaiveDate>) -> bool) -> Result<()> {
        let mut parts = Vec::new();
        for (i, (select, files)) in self.groups.iter().enumerate() {
            let paths: Vec<String> = files.iter().filter(|f| f.date.is_none() || keep(f.date)).map(|f| f.path.clone()).collect();
            if paths.is_empty() {
                continue;
            }
            let src = format!("{name}_src_{i}");
            let df = self.read_source(ctx, paths).await?;
            ctx.deregister_table(src.as_str())?;
            ctx.register_table(src.as_str(), df.into_view())?;
            if self.format == SpanFormat::Tempo {
                let q = crate::engine::render(crate::queries::TEMPO_SPANS, &[("source", src.clone())]);
                parts.push(format!("SELECT * FROM ({q})"));
                continue;
            }
            let cols = select.iter().filter(|(_, a)| !is_pseudo(a)).map(|(e, a)| format!("{e} AS {a}")).collect::<Vec<_>>().join(",\n  ");
            let usable = select.iter().find(|(_, a)| *a == BAD).map(|(e, _)| format!("\nWHERE ({e}) IS NULL")).unwrap_or_default();
            parts.push(format!("SELECT\n  {cols}\nFROM {src}{usable}"));
        }
        let body = if parts.is_empty() {
            crate::queries::EMPTY_SPANS.to_string()
        } else {
            parts.join("\nUNION ALL\n")
        };
        let sql = format!(
            "CREATE OR REPLACE VIEW {name} AS SELECT trace_id, span_id, parent_id, start_ns, duration_ns, \
             service, name, kind, is_error, vnode, vtype, env, sample_weight, sample_rule, links \
             FROM ({body}) {}",
            self.env_filter
        );
        ctx.sql(&sql).await?.collect().await?;
        Ok(())
    }
}


/// Finds and checks the window's span files and registers `spans_all`
/// over all of them.
pub async fn register(ctx: &SessionContext, cfg: &SpansConfig, window: &Window, skip: &[SkippedFile]) -> Result<SpanFiles> {
    let remote = cfg.path.starts_with("s3://");
    let mut files = if remote { discover_remote(ctx, cfg, window).await? } else { discover(&cfg.path, cfg.format, window)? };
    if !skip.is_empty() {
        // Left out of the listing too, so the days that read a damaged
        // file are cached under another fingerprint than the mended file's.
        let skipped = |p: &PathBuf| skip.iter().any(|s| s.path == p.display().to_string());
        files.read.retain(|p| !skipped(p));
        files.listing.retain(|(p, ..)| !skipped(p));
        files.skipped.extend(skip.iter().cloned());
    }
    let sizes: BTreeMap<PathBuf, u64> = files.listing.iter().map(|(p, _, s, _)| (p.clone(), *s)).collect();
    let mut kept = Vec::new();
    // The first file's column problem: the run's error if no file is usable.
    let mut first_schema_error = None;
    for f in std::mem::take(&mut files.read) {
        let fname = f.display().to_string();
        let schema = if remote { read_remote_schema(ctx, &fname, cfg.format).await } else { read_schema(&f, cfg.format) };
        let (schema, rows) = match schema {
            Ok(s) => s,
            Err(reason) => {
                tracing::warn!("skipping span file {fname}: {reason}");
                files.skipped.push(SkippedFile { path: fname, reason });
                continue;
            }
        };
        let size = sizes.get(&f).copied().unwrap_or(0);
        files.bytes += size;
        // Parquet footers give span rows; Tempo nests spans and CSV has no
        // footer, so their size stands in.
        let rows = rows.filter(|_| cfg.format == SpanFormat::Parquet).unwrap_or(size / 100);
        let rows = if remote { size / 40 } else { rows };
        files.rows += rows;
        // A file whose columns are missing or of the wrong type is skipped
        // by name (SPEC §4); only when no file is usable is it the run's
        // error (then it is the configuration that is wrong).
        let select = match file_select(&schema, cfg, &fname) {
            Ok(select) => select,
            Err(Error::Schema { path, msg }) => {
                tracing::warn!("skipping span file {path}: {msg}");
                files.skipped.push(SkippedFile { path: path.clone(), reason: msg.clone() });
                first_schema_error.get_or_insert(Error::Schema { path, msg });
                continue;
            }
            Err(e) => return Err(e),
        };
        let rf = ReadFile { path: fname, date: partition_date(&f), rows };
        match files.groups.iter_mut().find(|(s, _)| *s == select) {
            Some((_, v)) => v.push(rf),
            None => files.groups.push((select, vec![rf])),
        }
        kept.push(f);
    }
    if let (true, Some(e)) = (kept.is_empty(), first_schema_error) {
        return Err(e);
    }
    files.read = kept;
    files.env_filter = match &cfg.environment {
        Some(e) => format!("WHERE env IS NULL OR env = {}", sql_str(e)),
        None => String::new(),
    };
    files.register_view(ctx, "spans_all", &|_| true).await?;
    Ok(files)
}


/// The normalising select list of one file (empty for a Tempo block).
fn file_select(schema: &Schema, cfg: &SpansConfig, fname: &str) -> Result<Vec<(String, &'static str)>> {
    if cfg.format == SpanFormat::Tempo {
        check_tempo(schema, fname)?;
        return Ok(vec![]);
    }
    let resolved = resolve_columns(schema, cfg, fname)?;
    select_list(&resolved, cfg, fname)
}

/// A Tempo block has the nested trace → rs → ss → Spans layout.
fn check_tempo(schema: &Schema, file: &str) -> Result<()> {
    for c in ["TraceID", "rs"] {
        if schema.field_with_name(c).is_err() {
            return Err(Error::Schema { path: file.into(), msg: format!("not a Tempo vParquet block: no column {c}") });
        }
    }
    Ok(())
}

