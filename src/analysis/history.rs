//! History (SPEC §2.8): each run stores its weekly figures under
//! `state_dir/history/<ISO week of the window's end>/` (`services`, `edges`,
//! `team_load` as Parquet). Re-running a week replaces that week's folder
//! whole (written aside, then renamed), so rows are never duplicated. The
//! edge diff compares this run's edges with the latest stored week before
//! this one.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::analysis::graph::{Edge, edges_from_table};
use crate::analysis::load::week_label;
use crate::config::Window;
use crate::engine::Table;
use crate::error::{Error, Result};
use crate::table::{Rows, i, s};

pub fn history_dir(state: &Path) -> PathBuf {
    state.join("history")
}

/// The week a run is filed under.
pub fn run_week(w: &Window) -> String {
    week_label(w.end)
}

/// Stored weeks, oldest first.
pub fn stored_weeks(state: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(history_dir(state))
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str().map(str::to_string)).filter(|n| n.contains("-W") && !n.starts_with('.')).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn write_parquet(path: &Path, t: &Table) -> Result<()> {
    let f = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(f, t.schema.clone(), None)?;
    for b in &t.batches {
        w.write(b)?;
    }
    w.close()?;
    Ok(())
}

/// Reads a stored table, if present.
pub fn read_table(path: &Path) -> Result<Option<Table>> {
    if !path.exists() {
        return Ok(None);
    }
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let r = ParquetRecordBatchReaderBuilder::try_new(f)?;
    let schema = r.schema().clone();
    let batches = r.build()?.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Some(Table { schema, batches }))
}

/// Stores this run's weekly tables, replacing the week if it exists.
pub fn store(state: &Path, week: &str, tables: &[(&str, &Table)]) -> Result<()> {
    let dir = history_dir(state);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let tmp = dir.join(format!(".{week}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
    for (name, t) in tables {
        write_parquet(&tmp.join(format!("{name}.parquet")), t)?;
    }
    let target = dir.join(week);
    let old = dir.join(format!(".{week}.old-{}", std::process::id()));
    if target.exists() {
        std::fs::rename(&target, &old).map_err(|e| Error::io(&target, e))?;
    }
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// The previous stored week's edges (the latest week before `week`).
pub fn previous_edges(state: &Path, week: &str) -> Result<Option<(String, Vec<Edge>)>> {
    let Some(prev) = stored_weeks(state).into_iter().filter(|w| w.as_str() < week).next_back() else { return Ok(None) };
    let t = read_table(&history_dir(state).join(&prev).join("edges.parquet"))?;
    Ok(t.map(|t| (prev, edges_from_table(&t))))
}

/// The `edge_diff` table: new and vanished edges against the previous week.
pub fn edge_diff(this: &[Edge], last: Option<&[Edge]>) -> Result<Table> {
    let mut rows = Rows::new(&["caller", "callee", "callee_type", "kind", "change", "calls_this_week", "calls_last_week"], "sssssii");
    if let Some(last) = last {
        let key = |e: &Edge| (e.caller.clone(), e.callee.clone(), e.callee_type.clone(), e.kind.clone());
        let now: BTreeMap<_, i64> = this.iter().map(|e| (key(e), e.calls)).collect();
        let before: BTreeMap<_, i64> = last.iter().map(|e| (key(e), e.calls)).collect();
        for (k, c) in &now {
            if !before.contains_key(k) {
                rows.push(vec![s(k.0.as_str()), s(k.1.as_str()), s(k.2.as_str()), s(k.3.as_str()), s("new"), i(*c), i(0)]);
            }
        }
        for (k, c) in &before {
            if !now.contains_key(k) {
                rows.push(vec![s(k.0.as_str()), s(k.1.as_str()), s(k.2.as_str()), s(k.3.as_str()), s("vanished"), i(0), i(*c)]);
            }
        }
    }
    rows.finish()
}
