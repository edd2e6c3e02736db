//! History (SPEC §2.8): each run stores its weekly figures under
//! `state_dir/history/<ISO week of the window's end>/` (`services`, `edges`,
//! `team_load` as Parquet). Re-running a week replaces that week's folder
//! whole (written aside, then swapped in by [`crate::atomic`]), so rows are
//! never duplicated. The edge diff compares this run's edges with the ISO
//! week exactly one before this one, when it is stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analysis::graph::{Edge, edges_from_table};
use crate::analysis::load::week_label;
use crate::config::Window;
use crate::engine::Table;
use crate::error::Result;
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

/// Reads a stored table, if present.
pub fn read_table(path: &Path) -> Result<Option<Table>> {
    if !path.exists() {
        return Ok(None);
    }
    crate::engine::read_parquet(path).map(Some)
}

/// Writes this run's weekly tables aside; swapping the result in replaces
/// the week whole (SPEC §2.8: a re-run week is never duplicated).
pub fn stage(state: &Path, week: &str, tables: &[(&str, &Table)]) -> Result<crate::atomic::Staged> {
    let staged = crate::atomic::Staged::new(&history_dir(state).join(week))?;
    for (name, t) in tables {
        crate::engine::write_parquet(&staged.path().join(format!("{name}.parquet")), t.schema.clone(), &t.batches)?;
    }
    crate::atomic::fault("write-history", staged.path())?;
    Ok(staged)
}

/// Stores this run's weekly tables, replacing the week if it exists.
pub fn store(state: &Path, week: &str, tables: &[(&str, &Table)]) -> Result<()> {
    stage(state, week, tables)?.swap()?.commit();
    Ok(())
}

/// The ISO week exactly one before the window's week.
pub fn previous_week(w: &Window) -> String {
    week_label(w.end - chrono::Duration::days(7))
}

/// The edges stored for `week` (SPEC §2.8: the diff compares with the ISO
/// week exactly one before; an older stored week is not a substitute).
pub fn week_edges(state: &Path, week: &str) -> Result<Option<Vec<Edge>>> {
    let t = read_table(&history_dir(state).join(week).join("edges.parquet"))?;
    Ok(t.map(|t| edges_from_table(&t)))
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
