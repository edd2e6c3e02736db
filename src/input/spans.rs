//! Span input (SPEC §1.1): find the files, check each file's schema, and
//! register one normalised view `spans_all` that every query reads.
//!
//! What this stage guarantees to the next: `spans_all` has exactly the
//! columns `trace_id, span_id, parent_id` (canonical id bytes, parent NULL for
//! roots), `start_ns, duration_ns` (BIGINT ns), `service, name` (VARCHAR),
//! `kind` (OTLP enum 0–5), `is_error`, `vnode, vtype` (virtual-node name and
//! type for Client/Producer spans, §2.2), `env`. Files in Hive partitions
//! `date=YYYY-MM-DD` outside the window (plus the slack) are never opened.
//! Files whose footer cannot be read are skipped and reported; a file missing
//! a required column or holding a wrong type is a configuration error naming
//! the file and the column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};
use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};
use datafusion::parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use datafusion::arrow::datatypes::Field;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

use crate::config::{SpanFormat, SpansConfig, Window};
use crate::error::{Error, Result};

/// Canonical column names (SPEC §1.1), in table order.
pub const CANONICAL_COLUMNS: &[&str] = &[
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "Duration",
    "StatusCode",
    "SpanAttributes",
    "ResourceAttributes",
];

fn aliases(canonical: &str) -> &'static [&'static str] {
    match canonical {
        "Timestamp" => &["start_time_unix_nano", "start_time"],
        "TraceId" => &["trace_id"],
        "SpanId" => &["span_id"],
        "ParentSpanId" => &["parent_span_id"],
        "SpanName" => &["name", "operation_name"],
        "SpanKind" => &["kind"],
        "ServiceName" => &["service_name"],
        "Duration" => &["duration_nano", "duration_ns"],
        "StatusCode" => &["status_code"],
        "SpanAttributes" => &["attributes"],
        "ResourceAttributes" => &["resource_attributes"],
        _ => &[],
    }
}

/// A span file skipped, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}

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
            let cols = select.iter().filter(|(_, a)| *a != BAD).map(|(e, a)| format!("{e} AS {a}")).collect::<Vec<_>>().join(",\n  ");
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
             service, name, kind, is_error, vnode, vtype, env \
             FROM ({body}) {}",
            self.env_filter
        );
        ctx.sql(&sql).await?.collect().await?;
        Ok(())
    }
}

/// Unusable span rows found in the files read: per reason code, and one
/// line per file for the summary's problems.
#[derive(Debug, Default)]
pub struct BadRows {
    pub by_reason: BTreeMap<String, usize>,
    pub per_file: Vec<String>,
}

impl SpanFiles {
    /// Counts the rows of every file read that cannot be used (they are
    /// left out of every view, see [`bad_row_expr`]), one problem line per
    /// file. Counts are remembered in `state_dir/validated.json` by file
    /// (path, size, mtime) and check, so a nightly run scans only files it
    /// has not seen.
    pub async fn bad_rows(&self, ctx: &SessionContext, state_dir: &Path) -> Result<BadRows> {
        let memo_path = state_dir.join("validated.json");
        let memo: BTreeMap<String, BTreeMap<String, usize>> =
            std::fs::read_to_string(&memo_path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
        let stamps: BTreeMap<String, (u64, i64)> = self.listing.iter().map(|(p, _, size, mtime)| (p.display().to_string(), (*size, *mtime))).collect();
        let mut kept = BTreeMap::new();
        let mut out = BadRows::default();
        for (select, files) in &self.groups {
            let Some((expr, _)) = select.iter().find(|(_, a)| *a == BAD) else { continue };
            for f in files {
                let (size, mtime) = stamps.get(&f.path).copied().unwrap_or_default();
                let mut h = crate::hash::Fnv::new();
                for part in [f.path.as_bytes(), &size.to_le_bytes(), &mtime.to_le_bytes(), expr.as_bytes()] {
                    h.write(part);
                }
                let key = format!("{:016x}", h.finish());
                let counts = match memo.get(&key) {
                    Some(c) => c.clone(),
                    None => self.count_bad(ctx, &f.path, expr).await?,
                };
                if !counts.is_empty() {
                    let total: usize = counts.values().sum();
                    let what = counts.iter().map(|(r, n)| format!("{n} {}", bad_row_reason(r))).collect::<Vec<_>>().join(", ");
                    // One line per file; `run` prints the problems once.
                    out.per_file.push(format!("{}: {total} span rows skipped ({what})", f.path));
                    for (r, n) in &counts {
                        *out.by_reason.entry(r.clone()).or_default() += n;
                    }
                }
                kept.insert(key, counts);
            }
        }
        if kept != memo {
            // Best effort: a memo that cannot be written is recomputed.
            let tmp = state_dir.join(format!(".validated.json.tmp-{}", std::process::id()));
            if std::fs::create_dir_all(state_dir).is_ok()
                && std::fs::write(&tmp, serde_json::to_string(&kept).unwrap_or_default()).is_ok()
            {
                let _ = std::fs::rename(&tmp, &memo_path);
            }
        }
        Ok(out)
    }

    /// The raw rows of span files of this input's format (CSV: every
    /// column as text, see [`read_schema`]).
    async fn read_source(&self, ctx: &SessionContext, paths: Vec<String>) -> Result<datafusion::dataframe::DataFrame> {
        Ok(match self.format {
            SpanFormat::Csv => {
                let (schema, _) = read_schema(Path::new(&paths[0]), self.format).map_err(|m| Error::Input { path: paths[0].clone(), msg: m })?;
                ctx.read_csv(paths, CsvReadOptions::new().has_header(true).schema(&schema)).await?
            }
            _ => ctx.read_parquet(paths, ParquetReadOptions::default()).await?,
        })
    }

    async fn count_bad(&self, ctx: &SessionContext, path: &str, expr: &str) -> Result<BTreeMap<String, usize>> {
        let df = self.read_source(ctx, vec![path.to_string()]).await?;
        ctx.deregister_table("om_validate")?;
        ctx.register_table("om_validate", df.into_view())?;
        let sql = format!("SELECT bad, COUNT(*) AS n FROM (SELECT {expr} AS bad FROM om_validate) WHERE bad IS NOT NULL GROUP BY bad");
        let t = crate::engine::query(ctx, &sql).await?;
        ctx.deregister_table("om_validate")?;
        let reasons = crate::table::read::strs(&t, "bad");
        let counts = crate::table::read::i64s(&t, "n");
        Ok(reasons.into_iter().zip(counts).filter_map(|(r, n)| Some((r?, n? as usize))).collect())
    }
}

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
    fn add_file(&mut self, p: PathBuf) {
        if p.to_str().is_none() {
            let reason = "the file name is not UTF-8; rename it to read it".to_string();
            tracing::warn!("skipping span file {}: {reason}", p.display());
            self.skipped.push(SkippedFile { path: p.to_string_lossy().into_owned(), reason });
            return;
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

/// How a file's columns map onto the canonical ones.
#[derive(Debug, Clone, PartialEq)]
struct Resolved {
    /// canonical name → (actual column name, type)
    cols: BTreeMap<&'static str, (String, DataType)>,
}

fn resolve_columns(schema: &Schema, cfg: &SpansConfig, file: &str) -> Result<Resolved> {
    let find = |name: &str| {
        schema
            .fields()
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .map(|f| (f.name().clone(), f.data_type().clone()))
    };
    let mut cols = BTreeMap::new();
    for &canon in CANONICAL_COLUMNS {
        let mapped = cfg.columns.iter().find(|(k, _)| k.eq_ignore_ascii_case(canon)).map(|(_, v)| v);
        let found = match mapped {
            Some(user) => find(user),
            None => std::iter::once(canon).chain(aliases(canon).iter().copied()).find_map(find),
        };
        match found {
            Some(f) => {
                cols.insert(canon, f);
            }
            None if matches!(canon, "SpanAttributes" | "ResourceAttributes") => {}
            None if canon == "ServiceName" && cfg.service_from.is_some() => {}
            // Flat CSV dumps often carry no kind or status (SPEC §1.5, Nezha).
            None if matches!(canon, "SpanKind" | "StatusCode") && cfg.format == SpanFormat::Csv => {}
            None => {
                let want = mapped.cloned().unwrap_or_else(|| canon.to_string());
                return Err(Error::Schema {
                    path: file.to_string(),
                    msg: format!("missing required span column {want} (SPEC §1.1)"),
                });
            }
        }
    }
    if let Some(sf) = &cfg.service_from {
        let f = find(&sf.column).ok_or_else(|| Error::Schema {
            path: file.to_string(),
            msg: format!("missing column {} named by spans.service_from", sf.column),
        })?;
        cols.insert("ServiceFrom", f);
    }
    Ok(Resolved { cols })
}

fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_)
    )
}

fn is_int(t: &DataType) -> bool {
    t.is_integer()
}

fn wrong_type(file: &str, col: &str, t: &DataType, want: &str) -> Error {
    Error::Schema { path: file.to_string(), msg: format!("column {col} has type {t}, expected {want}") }
}

/// SQL expressions producing the canonical normalised columns of one source.
fn select_list(r: &Resolved, cfg: &SpansConfig, file: &str) -> Result<Vec<(String, &'static str)>> {
    let col = |c: &str| r.cols.get(c).cloned();
    let mut out = Vec::new();

    let (name, t) = col("Timestamp").unwrap();
    let ts = match &t {
        DataType::Timestamp(unit, _) => {
            let f = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            format!("arrow_cast({}, 'Int64') * {f}", q(&name))
        }
        t if is_int(t) => format!("CAST({} AS BIGINT) * {}", q(&name), cfg.timestamp_unit.to_ns()),
        t if is_string(t) && cfg.format == SpanFormat::Csv => {
            format!("TRY_CAST({} AS BIGINT) * {}", q(&name), cfg.timestamp_unit.to_ns())
        }
        _ => return Err(wrong_type(file, &name, &t, "a timestamp or int64 nanoseconds")),
    };
    out.push((ts, "start_ns"));

    for (canon, alias) in [("TraceId", "trace_id"), ("SpanId", "span_id"), ("ParentSpanId", "parent_id")] {
        let (name, t) = col(canon).unwrap();
        let base = if is_string(&t) {
            format!("om_id(CAST({} AS VARCHAR))", q(&name))
        } else if is_binary(&t) {
            format!("om_bin_id(arrow_cast({}, 'Binary'))", q(&name))
        } else if is_int(&t) {
            format!("om_id(CAST(CAST({} AS BIGINT) AS VARCHAR))", q(&name))
        } else {
            return Err(wrong_type(file, &name, &t, "a hex string or binary id"));
        };
        let expr = match (&cfg.root_parent, canon) {
            (Some(root), "ParentSpanId") if is_string(&t) => format!(
                "CASE WHEN CAST({} AS VARCHAR) = {} THEN NULL ELSE {base} END",
                q(&name),
                sql_str(root)
            ),
            _ => base,
        };
        out.push((expr, alias));
    }

    let (name, t) = col("Duration").unwrap();
    let f = cfg.duration_unit.to_ns();
    let dur = if is_int(&t) {
        format!("CAST({} AS BIGINT) * {f}", q(&name))
    } else if matches!(t, DataType::Float32 | DataType::Float64) || (is_string(&t) && cfg.format == SpanFormat::Csv) {
        format!("CAST(round(TRY_CAST({} AS DOUBLE) * {f}) AS BIGINT)", q(&name))
    } else {
        return Err(wrong_type(file, &name, &t, "int64 nanoseconds"));
    };
    out.push((dur, "duration_ns"));

    let service = match (&cfg.service_from, col("ServiceFrom")) {
        (Some(sf), Some((name, _))) => format!(
            "COALESCE(regexp_match(CAST({c} AS VARCHAR), {re})[1], CAST({c} AS VARCHAR))",
            c = q(&name),
            re = sql_str(&sf.regex)
        ),
        _ => {
            let (name, t) = col("ServiceName").unwrap();
            if !is_string(&t) {
                return Err(wrong_type(file, &name, &t, "a string"));
            }
            format!("CAST({} AS VARCHAR)", q(&name))
        }
    };
    out.push((service, "service"));

    let (name, t) = col("SpanName").unwrap();
    if !is_string(&t) {
        return Err(wrong_type(file, &name, &t, "a string"));
    }
    out.push((format!("CAST({} AS VARCHAR)", q(&name)), "name"));

    let kind = match col("SpanKind") {
        None => "CAST(0 AS TINYINT)".to_string(),
        Some((name, t)) => kind_expr(&name, &t, file)?,
    };
    out.push((kind, "kind"));

    let err = match col("StatusCode") {
        None => "false".to_string(),
        Some((name, t)) => error_expr(&name, &t, file)?,
    };
    out.push((err, "is_error"));
    let kind = out.iter().find(|(_, a)| *a == "kind").map(|(e, _)| e.clone()).unwrap_or_default();
    attributes(&r.cols, &kind, cfg.environment.is_some(), &mut out);
    out.push((bad_row_expr(r), BAD));
    Ok(out)
}

/// The pseudo-column of a select list that holds why a row cannot be
/// used (NULL when it can): filtered on, never selected.
const BAD: &str = "bad";

/// Why a span row cannot be used (SPEC §1.1 lists what each column
/// accepts), as a reason code, or NULL: an empty or NULL `TraceId`, a NULL
/// `Timestamp`, a negative `Duration`, a `SpanKind` or `StatusCode` that is
/// none of the spellings the SPEC accepts. A NULL or empty kind or status
/// means Unspecified / Unset and is fine.
fn bad_row_expr(r: &Resolved) -> String {
    let col = |c: &str| r.cols.get(c).cloned();
    let mut checks: Vec<(String, &str)> = vec![];
    if let Some((name, t)) = col("TraceId") {
        let c = q(&name);
        let empty = if is_string(&t) {
            format!("om_blank(CAST({c} AS VARCHAR))")
        } else if is_binary(&t) {
            format!("{c} IS NULL OR arrow_cast({c}, 'Binary') = X''")
        } else {
            format!("{c} IS NULL")
        };
        checks.push((empty, "empty_trace_id"));
    }
    if let Some((name, t)) = col("Timestamp") {
        let c = q(&name);
        let null = if is_string(&t) { format!("TRY_CAST({c} AS BIGINT) IS NULL") } else { format!("{c} IS NULL") };
        checks.push((null, "null_timestamp"));
    }
    if let Some((name, t)) = col("Duration") {
        let c = q(&name);
        let neg = if is_int(&t) { format!("{c} < 0") } else { format!("TRY_CAST({c} AS DOUBLE) < 0") };
        checks.push((neg, "negative_duration"));
    }
    // A string spelling none of the accepted words: the functions give NULL.
    let spelled = |name: &str, t: &DataType, f: &str, max: i32| -> String {
        let c = q(name);
        if is_int(t) { format!("{c} < 0 OR {c} > {max}") } else { format!("{f}(CAST({c} AS VARCHAR)) IS NULL") }
    };
    if let Some((name, t)) = col("SpanKind") {
        checks.push((spelled(&name, &t, "om_kind", 5), "unknown_span_kind"));
    }
    if let Some((name, t)) = col("StatusCode") {
        checks.push((spelled(&name, &t, "om_status", 2), "unknown_status_code"));
    }
    let whens: Vec<String> = checks.iter().map(|(cond, code)| format!("WHEN {cond} THEN '{code}'")).collect();
    format!("CASE {} END", whens.join(" "))
}

/// What a reason code of [`bad_row_expr`] means, for messages.
pub fn bad_row_reason(code: &str) -> &str {
    match code {
        "empty_trace_id" => "empty TraceId",
        "null_timestamp" => "no Timestamp",
        "negative_duration" => "negative Duration",
        "unknown_span_kind" => "unknown SpanKind",
        "unknown_status_code" => "unknown StatusCode",
        other => other,
    }
}

fn kind_expr(name: &str, t: &DataType, file: &str) -> Result<String> {
    let kind = if is_string(t) {
        format!("COALESCE(om_kind(CAST({} AS VARCHAR)), 0)", q(name))
    } else if is_int(t) {
        format!("CAST(CASE WHEN {c} BETWEEN 0 AND 5 THEN {c} ELSE 0 END AS TINYINT)", c = q(name))
    } else {
        return Err(wrong_type(file, name, t, "a span kind string or int 0-5"));
    };
    Ok(kind)
}

fn error_expr(name: &str, t: &DataType, file: &str) -> Result<String> {
    let err = if is_string(t) {
        format!("COALESCE(om_status(CAST({} AS VARCHAR)) = 2, false)", q(name))
    } else if is_int(t) {
        format!("COALESCE({} = 2, false)", q(name))
    } else {
        return Err(wrong_type(file, name, t, "a status string or int 0-2"));
    };
    Ok(err)
}

/// Virtual-node name and type, and the environment, from the attribute maps.
/// The callee attributes are found in one pass over each Client/Producer
/// span's map (`om_vnode`, `om_vtype`); the environment is looked up only
/// when a run filters on it.
fn attributes(cols: &BTreeMap<&'static str, (String, DataType)>, kind: &str, need_env: bool, out: &mut Vec<(String, &'static str)>) {
    let attr = |canon: &str, key: &str| -> String {
        match cols.get(canon).cloned() {
            Some((name, DataType::Map(_, _))) => {
                format!("NULLIF(CAST({}[{}] AS VARCHAR), '')", q(&name), sql_str(key))
            }
            _ => "CAST(NULL AS VARCHAR)".to_string(),
        }
    };
    match cols.get("SpanAttributes") {
        Some((name, DataType::Map(_, _))) => {
            let kind = format!("CAST({kind} AS TINYINT)");
            out.push((format!("om_vnode({}, {kind})", q(name)), "vnode"));
            out.push((format!("om_vtype({}, {kind})", q(name)), "vtype"));
        }
        _ => {
            out.push(("CAST(NULL AS VARCHAR)".to_string(), "vnode"));
            out.push(("'external'".to_string(), "vtype"));
        }
    }
    let env = if need_env {
        format!(
            "COALESCE({}, {})",
            attr("ResourceAttributes", "deployment.environment.name"),
            attr("ResourceAttributes", "deployment.environment")
        )
    } else {
        "CAST(NULL AS VARCHAR)".to_string()
    };
    out.push((env, "env"));
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
        let select = if cfg.format == SpanFormat::Tempo {
            check_tempo(&schema, &fname)?;
            vec![]
        } else {
            let resolved = resolve_columns(&schema, cfg, &fname)?;
            select_list(&resolved, cfg, &fname)?
        };
        let rf = ReadFile { path: fname, date: partition_date(&f), rows };
        match files.groups.iter_mut().find(|(s, _)| *s == select) {
            Some((_, v)) => v.push(rf),
            None => files.groups.push((select, vec![rf])),
        }
        kept.push(f);
    }
    files.read = kept;
    files.env_filter = match &cfg.environment {
        Some(e) => format!("WHERE env IS NULL OR env = {}", sql_str(e)),
        None => String::new(),
    };
    files.register_view(ctx, "spans_all", &|_| true).await?;
    Ok(files)
}

/// Lists `s3://bucket/prefix/` and prunes its `date=` partitions.
#[cfg(feature = "s3")]
async fn discover_remote(ctx: &SessionContext, cfg: &SpansConfig, window: &Window) -> Result<SpanFiles> {
    let mut files = SpanFiles { format: cfg.format, ..Default::default() };
    for o in super::objstore::list(ctx, &cfg.path).await? {
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
async fn discover_remote(_: &SessionContext, cfg: &SpansConfig, _: &Window) -> Result<SpanFiles> {
    Err(Error::Config(format!("spans.path = {:?}: this build has no S3 support (build with --features s3)", cfg.path)))
}

/// A span object's schema; rows are estimated from its size (the footer's
/// count is not fetched).
async fn read_remote_schema(ctx: &SessionContext, url: &str, format: SpanFormat) -> std::result::Result<(Schema, Option<u64>), String> {
    if format != SpanFormat::Parquet {
        return Err("only Parquet span files are read from object storage".into());
    }
    #[cfg(feature = "s3")]
    return super::objstore::read_schema(ctx, url).await.map(|s| (s, None));
    #[cfg(not(feature = "s3"))]
    {
        let _ = (ctx, url);
        Err("this build has no S3 support".into())
    }
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

/// A file's schema and, for Parquet, its row count (one footer read).
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

fn read_schema(path: &Path, format: SpanFormat) -> std::result::Result<(Schema, Option<u64>), String> {
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
