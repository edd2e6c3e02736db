//! SPEC §5 incremental runs: the per-day cache gives exactly the tables of
//! a full recompute — after the window moves on by a day, after a day's
//! files change, and after a run was killed while writing an entry.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use ownermap::config::Config;
use ownermap::datafusion::parquet::arrow::ArrowWriter;
use ownermap::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ownermap::run_result::RunResult;

/// The nightly run's config (it evicts days that left the window).
fn load(dir: &Path, end: &str, days: u32) -> Config {
    let ov = ownermap::config::Overrides { end: Some(end.into()), days: Some(days), ..Default::default() };
    let mut cfg = Config::load(&dir.join("ownermap.toml"), &ov).unwrap();
    cfg.evict_cache = true;
    cfg
}

/// Every table and the summary's counts are the same.
fn assert_same(a: &RunResult, b: &RunResult, what: &str) {
    for (name, t) in &a.tables {
        assert_eq!(rows(t), rows(table(b, name)), "table {name} ({what})");
    }
    let (x, y) = (&a.summary, &b.summary);
    assert_eq!(
        (x.traces, x.spans_read, x.spans_in_window, x.duplicate_span_ids, x.unresolved_calls),
        (y.traces, y.spans_read, y.spans_in_window, y.duplicate_span_ids, y.unresolved_calls),
        "summary counts ({what})"
    );
}

fn full(cfg: &Config) -> RunResult {
    let mut c = cfg.clone();
    c.full = true;
    run(&c)
}

/// The cache folder's entries (one configuration per state dir).
fn entries(state: &Path) -> Vec<PathBuf> {
    let key = std::fs::read_dir(state.join("cache")).unwrap().next().unwrap().unwrap().path();
    let mut v: Vec<PathBuf> = std::fs::read_dir(key).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(parquet_files(&p));
        } else if p.extension().is_some_and(|x| x == "parquet") {
            v.push(p);
        }
    }
    v.sort();
    v
}

#[test]
fn the_nightly_run_reuses_cached_days_and_equals_a_full_recompute() {
    let dir = generated(20, 4, 30_000, 9);

    // Last night: the window 19..21.
    let last_night = run(&load(dir.path(), "2026-11-21", 3));
    assert_eq!((last_night.summary.days_cached, last_night.summary.days_computed), (0, 3));

    // Tonight: 20..22; two days come from the cache, one is new.
    let tonight_cfg = load(dir.path(), "2026-11-22", 3);
    let tonight = run(&tonight_cfg);
    assert_eq!((tonight.summary.days_cached, tonight.summary.days_computed), (2, 1));
    let recomputed = full(&tonight_cfg);
    assert_eq!(recomputed.summary.days_computed, 3);
    assert_same(&tonight, &recomputed, "incremental vs --full");
    // ... and --full equals a run that never saw a cache.
    let mut fresh_cfg = tonight_cfg.clone();
    fresh_cfg.state_dir = dir.path().join("fresh-state");
    assert_same(&run(&fresh_cfg), &recomputed, "fresh state vs --full");
    // The day that left the window is dropped from the cache.
    assert!(entries(&tonight_cfg.state_dir).iter().all(|p| !p.to_string_lossy().contains("2026-11-19")));

    // A day's files change (a late re-export drops half of a file): that
    // day and the next (whose slack reads it) are recomputed.
    let changed = parquet_files(&dir.path().join("spans/date=2026-11-21"))[0].clone();
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&changed).unwrap()).unwrap();
    let schema = reader.schema().clone();
    let batches: Vec<_> = reader.build().unwrap().map(|b| b.unwrap()).collect();
    let total: usize = batches.iter().map(|b| b.num_rows()).sum();
    let mut w = ArrowWriter::try_new(std::fs::File::create(&changed).unwrap(), schema, None).unwrap();
    let mut kept = 0;
    for b in &batches {
        let n = b.num_rows().min(total / 2 - kept.min(total / 2));
        if n > 0 {
            w.write(&b.slice(0, n)).unwrap();
        }
        kept += n;
    }
    w.close().unwrap();
    let after_change = run(&tonight_cfg);
    assert_eq!((after_change.summary.days_cached, after_change.summary.days_computed), (1, 2));
    assert!(after_change.summary.spans_read < tonight.summary.spans_read);
    assert_same(&after_change, &full(&tonight_cfg), "after a changed day");
}

#[test]
fn a_half_written_or_damaged_cache_entry_is_never_used() {
    let dir = generated(12, 2, 10_000, 4);
    let cfg = load(dir.path(), "2026-11-22", 2);
    let first = run(&cfg);
    let cached = entries(&cfg.state_dir);
    let body = cached.iter().find(|p| p.to_string_lossy().contains("2026-11-21_2026-11-21-body-")).unwrap().clone();
    let other = cached.iter().find(|p| p.to_string_lossy().contains("2026-11-22_2026-11-22-body-")).unwrap().clone();

    // A run killed while writing day 21: its entry exists only as a
    // staging folder (with a truncated table) under a dead process id
    // (above Linux's largest pid_max).
    let name = body.file_name().unwrap().to_string_lossy().to_string();
    let tmp_entry = body.with_file_name(format!(".{name}.tmp-4194399"));
    std::fs::rename(&body, &tmp_entry).unwrap();
    let t = tmp_entry.join("edge_day.parquet");
    let bytes = std::fs::read(&t).unwrap();
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();
    // And day 22's finished entry is damaged on disk (a truncated table).
    let t = other.join("service_day.parquet");
    let bytes = std::fs::read(&t).unwrap();
    std::fs::write(&t, &bytes[..bytes.len() / 2]).unwrap();

    let second = run(&cfg);
    assert_eq!((second.summary.days_cached, second.summary.days_computed), (0, 2));
    assert_same(&first, &second, "after a killed run");
    assert!(!tmp_entry.exists(), "the killed run's temporary entry is removed");
    let third = run(&cfg);
    assert_eq!((third.summary.days_cached, third.summary.days_computed), (2, 0));
    assert_same(&first, &third, "from the rewritten cache");
}

/// A trace crossing midnight within the slack is one trace on its first
/// day, whether its days come from the cache or not; one whose spans on
/// either side of midnight are further apart than the slack is two traces
/// (the rule the window's edges follow, applied at every midnight).
#[test]
fn a_trace_crossing_midnight_is_counted_once() {
    let dir = tmp();
    let before = DAY0 + DAY - 2 * 60_000 * MS; // 23:58 on the 20th
    let t1 = "cc000000000000000000000000000001";
    let t2 = "cc000000000000000000000000000002";
    write_spans(
        &spans_path(dir.path(), "date=2026-11-20/a.parquet"),
        &[
            span(t1, "0000000000000001", "", "front", "Server", 0, 6 * 60_000).at_ns(before),
            span(t1, "0000000000000002", "0000000000000001", "front", "Client", 0, 5 * 60_000).at_ns(before + 60_000 * MS),
            span(t2, "0000000000000011", "", "batch", "Server", 0, 60 * 60_000).at_ns(DAY0 + DAY - 30 * 60_000 * MS),
        ],
        Ids::Hex,
    );
    write_spans(
        &spans_path(dir.path(), "date=2026-11-21/a.parquet"),
        &[
            span(t1, "0000000000000003", "0000000000000002", "back", "Server", 0, 4 * 60_000).at_ns(DAY0 + DAY + 3 * 60_000 * MS),
            span(t2, "0000000000000012", "0000000000000011", "store", "Server", 0, 1_000).at_ns(DAY0 + DAY + 20 * 60_000 * MS),
        ],
        Ids::Hex,
    );
    let cfg = config(dir.path(), "");
    let cold = run(&cfg);
    let warm = run(&cfg);
    assert_eq!(warm.summary.days_cached, 3);
    assert_same(&cold, &warm, "cached days");
    assert_eq!(cold.summary.traces, 3, "t1 once; t2 split at midnight");
    let e = one(&cold, "edges", &[("caller", "front"), ("callee", "back")]);
    assert_eq!(e["calls"], "1");
    let day20 = one(&cold, "service_daily", &[("service", "back")]);
    assert_eq!(day20["date"], "2026-11-20", "t1 is on the day of its earliest span");
    assert!(find(&cold, "edges", &[("caller", "batch"), ("callee", "store")]).is_empty());
}
