//! The per-day cache of partial results (SPEC §5 "Incremental").
//!
//! A run is computed as units of days ([`crate::pipeline`]): per day a
//! *body* (the traces that start that day and end before the last
//! `trace_slack_minutes` of it) and a *seam* (the traces that start that
//! day and reach into its last minutes, read on into the next day). Each
//! unit yields the partial tables of the per-trace stages plus its
//! attribution rows and counts; those merge by concatenation, so a week is
//! the union of its units whether they were computed now or cached.
//!
//! An entry lives in `state_dir/cache/<key>/<day>-<kind>-<fingerprint>/`:
//! `<key>` hashes everything besides the span files that a partial depends
//! on (the build — a hash of ownermap's sources, queries and dependencies —
//! and the cache format, the spans settings, the slack, the catalog's SLO
//! definitions); `<fingerprint>` hashes path, size and mtime
//! of every span file in the partitions the unit reads, so a changed,
//! added or removed file recomputes the days that read it. An entry is
//! written into a hidden staging folder and swapped into place when
//! complete ([`crate::atomic`]): a killed run leaves only a staging folder,
//! which is never read and is removed by the next run.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::analysis::attribution::Attributed;
use crate::table::Table;
use crate::error::{Error, Result};

/// Counts of one unit, for `summary.json`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct UnitCounts {
    /// span rows with a Timestamp on the unit's days (bodies only)
    pub spans_day: i64,
    /// span rows in the slack before the unit's first day (bodies only)
    pub spans_before: i64,
    /// span rows in the slack after the window (right-edge seams only)
    pub spans_after: i64,
    pub dups_day: i64,
    pub dups_before: i64,
    pub dups_after: i64,
    pub traces: i64,
    pub spans_in_window: i64,
    pub unresolved_calls: i64,
    /// §2.5 anchor walks cut at their depth bound
    #[serde(default)]
    pub anchor_walks_cut: i64,
    /// traces whose parent references loop (per-trace pass only)
    #[serde(default)]
    pub traces_with_cycles: i64,
    /// §2.14: the unit's traces by the rule that decided their weight
    #[serde(default)]
    pub sampling: crate::analysis::window::SamplingCounts,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    counts: UnitCounts,
    /// (hex trace id, signal service, signal operation, signal start,
    /// culprit, the trace's weight)
    attributed: Vec<(String, String, String, i64, String, f64)>,
    tables: Vec<String>,
}

/// One unit's partial results.
#[derive(Debug, Clone, Default)]
pub struct Entry {
    pub counts: UnitCounts,
    pub tables: Vec<(String, Table)>,
    pub attributed: Vec<Attributed>,
}

/// The cache of one configuration (one `<key>` folder).
pub struct DayCache {
    dir: PathBuf,
    /// `--full`: compute every unit, then refresh the entries
    read: bool,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).filter_map(|i| u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

impl DayCache {
    /// Opens (creating) `state_dir/cache/<key>`, and removes what killed
    /// runs left behind and the folders of other keys. `evict`: only the
    /// nightly `run` removes other keys' folders (`sql`, `graph` and
    /// `plan` leave the cache as they found it).
    pub fn open(state_dir: &Path, key: u64, read: bool, evict: bool) -> Result<DayCache> {
        let root = state_dir.join("cache");
        let name = format!("{key:016x}");
        let dir = root.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let build = build_id();
        let build_file = dir.join(".build");
        if !build_file.exists() {
            let text = format!("{build}\n");
            std::fs::write(&build_file, text).map_err(|e| Error::io(&build_file, e))?;
        }
        if evict {
            // Another configuration's (or build's) entries can never be
            // used again by this one; one configuration per state dir
            // keeps the cache small.
            let mut other_build_days = 0;
            if let Ok(rd) = std::fs::read_dir(&root) {
                for e in rd.flatten() {
                    if e.file_name().to_string_lossy() == name.as_str() {
                        continue;
                    }
                    let theirs = std::fs::read_to_string(e.path().join(".build")).unwrap_or_default();
                    if theirs.trim() != build {
                        other_build_days += count_bodies(&e.path());
                    }
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
            if other_build_days > 0 {
                tracing::warn!("cache from another build of ownermap: recomputing {other_build_days} days");
            }
        }
        crate::atomic::clean_dead_in(&dir);
        Ok(DayCache { dir, read })
    }

    /// The entry `name`, if a complete one exists (and `--full` is off).
    pub fn get(&self, name: &str) -> Result<Option<Entry>> {
        if !self.read {
            return Ok(None);
        }
        let dir = self.dir.join(name);
        let meta_path = dir.join("meta.json");
        let Ok(text) = std::fs::read_to_string(&meta_path) else { return Ok(None) };
        let meta: Meta = match serde_json::from_str(&text) {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!("ignoring cache entry {}: {e}", dir.display());
                return Ok(None);
            }
        };
        let mut tables = vec![];
        for t in &meta.tables {
            let path = dir.join(format!("{t}.parquet"));
            match crate::engine::read_parquet(&path) {
                Ok(table) => tables.push((t.clone(), table)),
                Err(e) => {
                    tracing::warn!("ignoring cache entry {}: {e}", dir.display());
                    return Ok(None);
                }
            }
        }
        let attributed = meta
            .attributed
            .into_iter()
            .map(|(t, s, o, st, c, weight)| Attributed { trace_id: unhex(&t), signal_service: s, signal_operation: o, signal_start: st, culprit_service: c, weight })
            .collect();
        Ok(Some(Entry { counts: meta.counts, tables, attributed }))
    }

    /// Stores `entry` as `name`, replacing older entries with the same
    /// `prefix` (the same day and kind, other fingerprints).
    pub fn put(&self, name: &str, prefix: &str, entry: &Entry) -> Result<()> {
        let staged = crate::atomic::Staged::new(&self.dir.join(name))?;
        let tmp = staged.path();
        for (t, table) in &entry.tables {
            let schema = table.batches.first().map(|b| b.schema()).unwrap_or_else(|| table.schema.clone());
            crate::engine::write_parquet(&tmp.join(format!("{t}.parquet")), schema, &table.batches)?;
        }
        let meta = Meta {
            counts: entry.counts,
            attributed: entry
                .attributed
                .iter()
                .map(|a| (hex(&a.trace_id), a.signal_service.clone(), a.signal_operation.clone(), a.signal_start, a.culprit_service.clone(), a.weight))
                .collect(),
            tables: entry.tables.iter().map(|(t, _)| t.clone()).collect(),
        };
        let text = serde_json::to_string(&meta).map_err(|e| Error::Other(e.to_string()))?;
        let meta_path = tmp.join("meta.json");
        std::fs::write(&meta_path, text).map_err(|e| Error::io(&meta_path, e))?;
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if n.starts_with(prefix) && n != name {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        staged.swap()?.commit();
        Ok(())
    }

    /// Removes entries of days outside `keep_days` (names start with the day).
    pub fn retain_days(&self, keep_days: &[String]) {
        if let Ok(rd) = std::fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if !n.starts_with('.') && !keep_days.iter().any(|d| n.starts_with(d.as_str())) {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
    }
}

/// Body entries (one per day) in a cache key folder.
fn count_bodies(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|rd| rd.flatten().filter(|e| e.file_name().to_string_lossy().contains("-body-")).count()).unwrap_or(0)
}

/// The format of a cache entry; raise it when [`Meta`] or the partial
/// tables change shape.
pub const CACHE_FORMAT: u32 = 2;

/// The build that computes partials: a hash of the crate's sources,
/// queries and locked dependencies made by `build.rs`, and the cache
/// format. Part of the cache key, so an upgraded binary never merges days
/// an older one computed. `OWNERMAP_TEST_BUILD_ID` stands in for another
/// build in the tests.
pub fn build_id() -> String {
    match std::env::var("OWNERMAP_TEST_BUILD_ID") {
        Ok(id) if !id.is_empty() => id,
        _ => format!("{}-f{CACHE_FORMAT}", env!("OWNERMAP_BUILD_ID")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let b = vec![0u8, 1, 0xab, 0xff];
        assert_eq!(unhex(&hex(&b)), b);
    }
}
