//! History (SPEC §2.8): each run stores its weekly figures under
//! `state_dir/history/<ISO week of the window's end>/` (`services`, `edges`,
//! `team_load` as Parquet). Re-running a week replaces that week's folder
//! whole (written aside, then swapped in by [`crate::atomic`]), so rows are
//! never duplicated. The edge diff compares this run's edges with the ISO
//! week exactly one before this one, when it is stored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analysis::graph::Edge;
use crate::analysis::load::week_label;
use crate::config::Window;
use crate::table::Table;
use crate::error::Result;
use crate::table::{ColType::*, Rows, i, s};

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
    let format = staged.path().join("format");
    std::fs::write(&format, format!("{HISTORY_FORMAT}\n")).map_err(|e| crate::error::Error::io(&format, e))?;
    crate::atomic::fault("write-history", staged.path())?;
    Ok(staged)
}

/// Stores this run's weekly tables, replacing the week if it exists.
pub fn store(state: &Path, week: &str, tables: &[(&str, &Table)]) -> Result<()> {
    stage(state, week, tables)?.swap()?.commit();
    Ok(())
}

/// The tables a week stores (SPEC §2.8): what trends and the week-over-week
/// comparison read back.
pub const STORED_TABLES: [&str; 6] = ["services", "edges", "team_load", "slos", "team_errors", "docs_health"];

/// The tables stored for `week` (those present), or None when the week is
/// not stored or was stored by a newer format.
pub fn read_week(state: &Path, week: &str) -> Result<Option<BTreeMap<String, Table>>> {
    let dir = history_dir(state).join(week);
    if !dir.is_dir() {
        return Ok(None);
    }
    if week_format(&dir) > HISTORY_FORMAT {
        tracing::warn!("history week {week} was stored by a newer ownermap (format {}); not compared", week_format(&dir));
        return Ok(None);
    }
    let mut out = BTreeMap::new();
    for name in STORED_TABLES {
        let file = dir.join(format!("{name}.parquet"));
        match read_table(&file) {
            Ok(Some(t)) => {
                out.insert(name.to_string(), t);
            }
            Ok(None) => {}
            Err(e) => {
                // A week truncated by a full disk must not stop every later
                // run: it is moved aside by name and treated as not stored.
                let aside = damaged_name(&dir);
                let moved = std::fs::rename(&dir, &aside).map(|()| format!("moved aside to {}", aside.display()));
                tracing::warn!(
                    "history week {week}: {} cannot be read ({e}); {}; run `ownermap backfill` to store that week again",
                    file.display(),
                    moved.unwrap_or_else(|m| format!("could not be moved aside ({m})"))
                );
                return Ok(None);
            }
        }
    }
    Ok(Some(out))
}

/// A free name beside a damaged week's folder: `.<week>.damaged[-N]` (a
/// dot name, so it is never read as a week).
fn damaged_name(dir: &Path) -> PathBuf {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    (0..)
        .map(|k| dir.with_file_name(if k == 0 { format!(".{name}.damaged") } else { format!(".{name}.damaged-{k}") }))
        .find(|p| !p.exists())
        .unwrap_or_default()
}

/// The ISO week exactly one before the window's week.
pub fn previous_week(w: &Window) -> String {
    week_label(w.end - chrono::Duration::days(7))
}

/// The shape of a stored week: raise it when a stored table loses or
/// renames a column. Weeks of older formats (or with no `format` file,
/// from before it existed) are read by column name, missing columns as
/// empty; a week of a newer format is ignored with a warning.
pub const HISTORY_FORMAT: u32 = 1;

/// The ISO weeks a trend shows, ending with the run's week (§2.8).
pub const TREND_WEEKS: i64 = 12;

/// The format a stored week declares (0 when it has no `format` file).
fn week_format(dir: &Path) -> u32 {
    std::fs::read_to_string(dir.join("format")).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

/// The `edge_diff` table: new and vanished edges against the previous week.
pub fn edge_diff(this: &[Edge], last: Option<&[Edge]>) -> Result<Table> {
    let mut rows = Rows::new(&[("caller", Text), ("callee", Text), ("callee_type", Text), ("kind", Text), ("change", Text), ("calls_this_week", Int), ("calls_last_week", Int)]);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::graph::edges_from_stored;
    use crate::table::{Rows, i, s};

    fn store_edges(state: &Path, week: &str, t: &Table, format: Option<&str>) {
        let dir = history_dir(state).join(week);
        std::fs::create_dir_all(&dir).unwrap();
        crate::engine::write_parquet(&dir.join("edges.parquet"), t.schema.clone(), &t.batches).unwrap();
        if let Some(f) = format {
            std::fs::write(dir.join("format"), f).unwrap();
        }
    }

    #[test]
    fn a_week_stored_by_an_older_format_is_still_read_and_a_newer_one_ignored() {
        let d = tempfile::tempdir().unwrap();
        // Format 0: no `format` file, and no callee_type/kind/team columns.
        let mut old = Rows::new(&[("caller", Text), ("callee", Text), ("calls", Int)]);
        old.push(vec![s("x"), s("y"), i(5)]);
        store_edges(d.path(), "2026-W46", &old.finish().unwrap(), None);
        let e = edges_from_stored(&read_week(d.path(), "2026-W46").unwrap().unwrap()["edges"]);
        assert_eq!((e[0].caller.as_str(), e[0].callee.as_str(), e[0].calls, e[0].kind.as_str()), ("x", "y", 5, ""));
        let mut new = Rows::new(&[("caller", Text), ("callee", Text), ("calls", Int)]);
        new.push(vec![s("x"), s("z"), i(1)]);
        store_edges(d.path(), "2026-W45", &new.finish().unwrap(), Some("99\n"));
        assert!(read_week(d.path(), "2026-W45").unwrap().is_none());
        assert!(read_week(d.path(), "2026-W44").unwrap().is_none(), "a week not stored");
    }
}
