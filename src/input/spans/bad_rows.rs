//! Unusable span rows (SPEC §1.1): the rows of each file read that the
//! normalising view leaves out, counted per reason and file, remembered by
//! file stamp so a nightly run scans only files it has not seen.

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};

use crate::config::SpanFormat;
use crate::error::{Error, Result};

use super::SpanFiles;
use super::schema::{BAD, BAD_ATTRIBUTES, bad_row_reason};
use super::read_schema;

/// Unusable span rows found in the files read: per reason code, and one
/// line per file for the summary's problems.
#[derive(Debug, Default)]
pub struct BadRows {
    pub by_reason: BTreeMap<String, usize>,
    /// rows left out of the view: every reason but [`BAD_ATTRIBUTES`]
    /// (those spans are kept, without attributes)
    pub skipped: usize,
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
            let attrs = select.iter().find(|(_, a)| *a == BAD_ATTRIBUTES).map(|(e, _)| e.as_str());
            for f in files {
                let (size, mtime) = stamps.get(&f.path).copied().unwrap_or_default();
                let mut h = crate::hash::Fnv::new();
                for part in [f.path.as_bytes(), &size.to_le_bytes(), &mtime.to_le_bytes(), expr.as_bytes(), attrs.unwrap_or("").as_bytes()] {
                    h.write(part);
                }
                let key = format!("{:016x}", h.finish());
                let counts = match memo.get(&key) {
                    Some(c) => c.clone(),
                    None => self.count_bad(ctx, &f.path, expr, attrs).await?,
                };
                if !counts.is_empty() {
                    let skipped: usize = counts.iter().filter(|(r, _)| *r != BAD_ATTRIBUTES).map(|(_, n)| n).sum();
                    out.skipped += skipped;
                    let what = counts.iter().map(|(r, n)| format!("{n} {}", bad_row_reason(r))).collect::<Vec<_>>().join(", ");
                    // One line per file; `run` prints the problems once.
                    out.per_file.push(format!("{}: {skipped} span rows skipped ({what})", f.path));
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
    pub(super) async fn read_source(&self, ctx: &SessionContext, paths: Vec<String>) -> Result<datafusion::dataframe::DataFrame> {
        Ok(match self.format {
            SpanFormat::Csv => {
                let (schema, _) = read_schema(Path::new(&paths[0]), self.format).map_err(|m| Error::Input { path: paths[0].clone(), msg: m })?;
                ctx.read_csv(paths, CsvReadOptions::new().has_header(true).schema(&schema)).await?
            }
            SpanFormat::Parquet if paths.len() > 1 && !paths[0].contains("://") => {
                // Files of one shape may differ in nullability (ClickHouse
                // writes non-nullable columns, Spark or pandas nullable
                // ones): read them all as nullable, so a NULL in one file is
                // a counted bad row whatever file the engine reads first.
                // (Local files: an object store's footers are not re-read.)
                let (schema, _) = read_schema(Path::new(&paths[0]), self.format).map_err(|m| Error::Input { path: paths[0].clone(), msg: m })?;
                let nullable = Schema::new(schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect::<Vec<_>>());
                ctx.read_parquet(paths, ParquetReadOptions::default().schema(&nullable)).await?
            }
            _ => ctx.read_parquet(paths, ParquetReadOptions::default()).await?,
        })
    }

    /// Rows per reason of `expr` (left out of the view) and, with JSON
    /// attribute columns, rows whose attributes do not parse (kept).
    async fn count_bad(&self, ctx: &SessionContext, path: &str, expr: &str, attrs: Option<&str>) -> Result<BTreeMap<String, usize>> {
        let df = self.read_source(ctx, vec![path.to_string()]).await?;
        ctx.deregister_table("om_validate")?;
        ctx.register_table("om_validate", df.into_view())?;
        // A row left out counts under its reason only; a kept row whose
        // JSON attributes do not parse under BAD_ATTRIBUTES.
        let reason = match attrs {
            Some(a) => format!("COALESCE({expr}, CASE WHEN {a} THEN '{BAD_ATTRIBUTES}' END)"),
            None => expr.to_string(),
        };
        let sql = format!("SELECT bad, COUNT(*) AS n FROM (SELECT {reason} AS bad FROM om_validate) WHERE bad IS NOT NULL GROUP BY bad");
        let t = crate::engine::query(ctx, &sql).await?;
        ctx.deregister_table("om_validate")?;
        let reasons = crate::table::read::strs(&t, "bad")?;
        let counts = crate::table::read::i64s(&t, "n")?;
        Ok(reasons.into_iter().zip(counts).filter_map(|(r, n)| Some((r?, n? as usize))).collect())
    }
}
