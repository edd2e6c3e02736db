//! Writing a run's outputs and publishing them (SPEC §3, §4): the report,
//! the tables and the generated configuration are written aside and swapped
//! in atomically together with the week's history; nothing half-written is
//! ever published.

use crate::analysis::history;
use crate::config::Config;
use crate::error::Result;
use crate::run_result::RunResult;
use crate::table::Table;

/// Writes every output into `dir` (tables, summary, pages, the marker).
pub fn write_outputs(dir: &std::path::Path, result: &RunResult) -> Result<()> {
    use crate::error::Error;
    crate::out_dir::write_marker(dir)?;
    let data = dir.join("data");
    for (name, table) in &result.tables {
        crate::out_dir::write_table(&data, name, table)?;
    }
    crate::report::write_site(dir, result)?;
    let generated = crate::configgen::write(&dir.join("generated"), &export_inputs(result))?;
    for p in &generated {
        tracing::warn!("{p}");
    }
    let mut summary = result.summary.clone();
    summary.problems.extend(generated);
    let summary = serde_json::to_string_pretty(&summary).map_err(|e| Error::Other(e.to_string()))?;
    for path in [data.join("summary.json"), dir.join("summary.json")] {
        std::fs::write(&path, &summary).map_err(|e| Error::io(&path, e))?;
    }
    crate::atomic::fault("write-report", dir)
}

/// What the generated configuration is made of (SPEC §3).
pub fn export_inputs(result: &RunResult) -> crate::configgen::Inputs<'_> {
    crate::configgen::Inputs { org: &result.org, edges: &result.edges, email_domain: &result.generate.email_domain }
}

/// Publishes a run into `out` (resolved by [`crate::out_dir::resolve_out`]):
/// the report and the week's history are both written aside first (a full
/// disk fails here, with nothing changed), then the report is swapped in,
/// then the history week; if the second swap fails the first is undone. So
/// an error always means nothing was published.
pub fn publish(cfg: &Config, out: &std::path::Path, result: &RunResult) -> Result<()> {
    crate::out_dir::check_target(out)?;
    let report = crate::atomic::Staged::new(out)?;
    write_outputs(report.path(), result)?;
    let week = history::stage(&cfg.state_dir, &result.week, &history_tables(result))?;
    let report = report.swap()?;
    let week = crate::atomic::fault("history-swap", out).and_then(|()| week.swap());
    match week {
        Ok(week) => {
            week.commit();
            report.commit();
            Ok(())
        }
        Err(e) => {
            report.undo()?;
            Err(e)
        }
    }
}

/// The tables a run stores in the history (see [`history::STORED_TABLES`]).
fn history_tables(result: &RunResult) -> Vec<(&str, &Table)> {
    result.tables.iter().filter(|(n, _)| history::STORED_TABLES.contains(n)).map(|(n, t)| (*n, t)).collect()
}

/// Stores the week's figures in the history only (`backfill`).
pub fn store_history(cfg: &Config, result: &RunResult) -> Result<()> {
    history::store(&cfg.state_dir, &result.week, &history_tables(result))
}

/// Removes what killed runs left in the state dir: their bucket shuffles
/// under `spill/` (`buckets-<run id>-<day>`; the caller holds the state
/// lock, so another run id is a dead run's). Cache and history leftovers
/// are removed where those are opened.
pub fn clean_state_leftovers(state_dir: &std::path::Path) {
    let Ok(rd) = std::fs::read_dir(state_dir.join("spill")) else { return };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let id = n.strip_prefix("buckets-").and_then(|r| r.split('-').next());
        if id.is_some_and(crate::atomic::is_other_run) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

