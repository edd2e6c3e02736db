//! The nightly job's guarantees (SPEC §4, issue #11), each pinned by the
//! real binary: ownermap deletes only what it created, publishes whole or
//! not at all, never lets a killed run block the next, reads each span file
//! once however it is linked, stops with exit 4 on an empty window, and
//! names every bad input instead of crashing. Also the per-day cache's
//! build identity (issue #18).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

/// A pid above Linux's largest `pid_max` (2^22): never a running process,
/// so names carrying it are a dead run's leftovers.
const DEAD_PID: u32 = 4_194_399;





/// One trace a → b on 2026-11-20 (and, with `second`, another on the 21st).
fn spans_of(dir: &Path, second: bool) {
    one_call_spans(dir);
    if second {
        let t2 = "aa000000000000000000000000000002";
        write_spans(
            &spans_path(dir, "date=2026-11-21/a.parquet"),
            &[span(t2, "0000000000000201", "", "a", "Server", 0, 10).at_ns(DAY0 + DAY + 1000 * MS)],
            Ids::Hex,
        );
    }
}

/// A fresh folder with spans (see [`spans_of`]), its config and the report
/// path `report` beside them.
fn night(second: bool) -> (tempfile::TempDir, String, PathBuf) {
    let dir = tmp();
    spans_of(dir.path(), second);
    let cfg = write_config(dir.path(), "");
    let out = dir.path().join("report");
    (dir, cfg, out)
}

fn run_out(cfg: &str, out: &Path) -> Output {
    ownermap(&["run", "--config", cfg, "--out", out.to_str().unwrap()])
}

/// Every file under `dir` with its bytes (for "left exactly as it was").
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(&p).unwrap_or_default()));
            }
        }
    }
    out.sort();
    out
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

// ---- 1. ownermap deletes only what it created ----

#[test]
fn out_naming_the_span_input_is_refused_with_exit_2_and_nothing_deleted() {
    let dir = tmp();
    spans_of(dir.path(), false);
    let cfg = write_config(dir.path(), "");
    let before = snapshot(&dir.path().join("spans"));
    let o = run_out(&cfg, &dir.path().join("spans"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out") && stderr(&o).contains("spans.path") && stderr(&o).contains("overlap"), "{}", stderr(&o));
    assert_eq!(snapshot(&dir.path().join("spans")), before);
    // The same through output.dir in the config.
    let cfg = write_config(dir.path(), "[output]\ndir = \"spans\"\n");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(snapshot(&dir.path().join("spans")), before);
}

#[test]
fn a_report_folder_is_marked_and_replaced_but_a_foreign_folder_never() {
    let (dir, cfg, out) = night(false);
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    assert!(out.join(".ownermap-report").is_file());
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0), "its own report is replaced");
    let mine = dir.path().join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("thesis.tex"), "years of work").unwrap();
    assert_eq!(run_out(&cfg, &mine).status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(mine.join("thesis.tex")).unwrap(), "years of work");
}

#[test]
fn out_naming_an_existing_file_is_refused_and_the_file_kept_in_place() {
    let dir = tmp();
    spans_of(dir.path(), false);
    let cfg = write_config(dir.path(), "");
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "keep me").unwrap();
    let o = run_out(&cfg, &notes);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("notes.txt"));
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "keep me");
    assert!(!dir.path().join(".notes.txt.old").exists());
    // And again: a refused run leaves nothing that changes the next answer.
    assert_eq!(run_out(&cfg, &notes).status.code(), Some(2));
}

// ---- 2. atomic publication; leftovers of killed runs ----

#[test]
fn leftovers_of_killed_runs_are_removed_and_never_block_the_next_run() {
    let (dir, cfg, out) = night(false);
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    // What a run killed at each point leaves: a staging folder, the old
    // report being deleted (non-empty), a bucket shuffle, a history week
    // being written, a cache entry being written.
    let left = [
        dir.path().join(format!(".report.tmp-{DEAD_PID}/data")),
        dir.path().join(format!(".report.old-{DEAD_PID}/data")),
        dir.path().join(format!("state/spill/buckets-{DEAD_PID}-2026-11-20/bucket=0")),
        dir.path().join(format!("state/history/.2026-W47.tmp-{DEAD_PID}")),
    ];
    for l in &left {
        std::fs::create_dir_all(l).unwrap();
        std::fs::write(l.join("x"), "partial").unwrap();
    }
    let o = run_out(&cfg, &out);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for l in &left {
        assert!(!l.exists(), "{} should be gone", l.display());
    }
    assert_eq!(names(dir.path()), vec![".report.lock", ".state.lock", "ownermap.toml", "report", "spans", "state"]);
}

#[test]
fn a_run_killed_between_the_fallback_renames_gets_the_report_back_then_replaced() {
    let (dir, cfg, out) = night(false);
    // Filesystems without RENAME_EXCHANGE use two renames.
    let env = [("OWNERMAP_TEST_NO_EXCHANGE", "1")];
    assert_eq!(ownermap_env(&["run", "--config", &cfg, "--out", out.to_str().unwrap()], &env).status.code(), Some(0));
    // Killed after the first rename: the report sits under the old name.
    std::fs::rename(&out, dir.path().join(format!(".report.old-{DEAD_PID}"))).unwrap();
    spans_of(dir.path(), true);
    assert_eq!(ownermap_env(&["run", "--config", &cfg, "--out", out.to_str().unwrap()], &env).status.code(), Some(0));
    assert!(std::fs::read_to_string(out.join("summary.json")).unwrap().contains("\"spans_in_window\": 4"), "the new report");
    assert_eq!(names(dir.path()).iter().filter(|n| n.starts_with(".report.") && !n.ends_with(".lock")).count(), 0);
}

/// Runs a second, different night with a fault injected at `point`; the
/// first night's report and history must be exactly as they were.
fn failure_at_leaves_everything_whole(point: &str) {
    let (dir, cfg, out) = night(false);
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    let report = snapshot(&out);
    let history = snapshot(&dir.path().join("state/history"));
    spans_of(dir.path(), true);
    let o = ownermap_env(&["run", "--config", &cfg, "--out", out.to_str().unwrap()], &[("OWNERMAP_TEST_FAULT", point)]);
    assert_eq!(o.status.code(), Some(1), "{point}: {}", stderr(&o));
    assert!(stderr(&o).contains("injected fault"), "{}", stderr(&o));
    assert!(snapshot(&out) == report, "{point}: the previous report changed");
    assert!(snapshot(&dir.path().join("state/history")) == history, "{point}: the history changed");
    let stray: Vec<_> = names(dir.path()).into_iter().filter(|n| n.starts_with(".report.") && !n.ends_with(".lock")).collect();
    assert!(stray.is_empty(), "{point}: left {stray:?}");
    let stray: Vec<_> = names(&dir.path().join("state/history")).into_iter().filter(|n| n.starts_with('.')).collect();
    assert!(stray.is_empty(), "{point}: left {stray:?} in the history");
    // The next night publishes normally.
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    assert!(snapshot(&out) != report);
}

#[test]
fn a_full_disk_while_writing_the_report_publishes_nothing() {
    failure_at_leaves_everything_whole("write-report");
}

#[test]
fn a_full_disk_while_writing_the_history_publishes_nothing() {
    failure_at_leaves_everything_whole("write-history");
}

#[test]
fn a_failure_after_the_report_swap_puts_the_previous_report_back() {
    failure_at_leaves_everything_whole("history-swap");
}

// ---- 3. span files behind symlinks ----

#[cfg(unix)]
#[test]
fn a_symlink_loop_ends_and_a_link_to_a_partition_is_read_once() {
    let dir = tmp();
    spans_of(dir.path(), true);
    let cfg = write_config(dir.path(), "");
    let plain = run(&config(dir.path(), ""));
    std::os::unix::fs::symlink("..", dir.path().join("spans/date=2026-11-21/loop")).unwrap();
    std::os::unix::fs::symlink("date=2026-11-20", dir.path().join("spans/latest")).unwrap();
    let linked = run(&config(dir.path(), ""));
    assert_eq!(linked.summary.spans_in_window, plain.summary.spans_in_window);
    assert_eq!(linked.summary.files_read, 2);
    assert_eq!(rows(table(&linked, "services")), rows(table(&plain, "services")));
    // And the binary finishes (no unbounded walk).
    assert_eq!(run_out(&cfg, &dir.path().join("report")).status.code(), Some(0));
}

// ---- 4. an empty window ----

#[test]
fn no_spans_in_the_window_exits_4_publishes_nothing_and_keeps_the_history() {
    let (dir, cfg, out) = night(false);
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    let report = snapshot(&out);
    let history = snapshot(&dir.path().join("state/history"));
    // --end far in the future, and a glob that matches nothing.
    let o = ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap(), "--end", "2030-01-06"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("no spans in the window"), "{}", stderr(&o));
    let glob_cfg = dir.path().join("glob.toml");
    std::fs::write(&glob_cfg, "[spans]\npath = \"spans/*/none-*.parquet\"\n[window]\nend = \"2026-11-22\"\ndays = 3\n").unwrap();
    assert_eq!(run_out(glob_cfg.to_str().unwrap(), &out).status.code(), Some(4));
    assert!(snapshot(&out) == report);
    assert!(snapshot(&dir.path().join("state/history")) == history);
}

// ---- 6. a symlinked output ----

#[cfg(unix)]
#[test]
fn a_symlinked_out_is_published_at_its_target_and_locked_there() {
    let dir = tmp();
    spans_of(dir.path(), false);
    let cfg = write_config(dir.path(), "");
    let real = dir.path().join("www/report");
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    let link = dir.path().join("current");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    assert_eq!(run_out(&cfg, &link).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link stays a link");
    assert!(real.join("index.html").is_file());
    assert_eq!(run_out(&cfg, &link).status.code(), Some(0));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    // A run through the real path and one through the link exclude each other.
    let lock = std::fs::File::create(dir.path().join("www/.report.lock")).unwrap();
    lock.try_lock().unwrap();
    let o = run_out(&cfg, &link);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("lock"));
}

// ---- 7, 8. incidents that used to panic or pass silently ----

fn with_incidents(file: &str, text: &str, format: &str) -> (tempfile::TempDir, Output) {
    let dir = tmp();
    spans_of(dir.path(), false);
    std::fs::write(dir.path().join(file), text).unwrap();
    let cfg = write_config(dir.path(), &format!("[incidents]\npath = \"{file}\"\nformat = \"{format}\"\n"));
    let o = run_out(&cfg, &dir.path().join("report"));
    (dir, o)
}

#[test]
fn pagerduty_durations_out_of_range_are_skipped_by_record_not_a_panic() {
    let text = r#"[
      {"id": "P1", "created_at": "2026-11-20T10:00:00Z", "service_name": "a", "seconds_to_first_ack": 1e18},
      {"id": "P2", "created_at": "2026-11-20T10:00:00Z", "service_name": "a", "seconds_to_resolve": -1e18},
      {"id": "P3", "created_at": "2026-11-20T10:00:00Z", "service_name": "a", "seconds_to_resolve": "inf"},
      {"id": "P4", "created_at": "2026-11-20T10:00:00Z", "seconds_to_resolve": 60},
      {"id": "P5", "created_at": "2026-11-20T10:00:00Z", "service_name": "a", "seconds_to_first_ack": 60}
    ]"#;
    let (dir, o) = with_incidents("pd.json", text, "pagerduty");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    for (rec, what) in [("record 1", "seconds_to_first_ack"), ("record 2", "seconds_to_resolve"), ("record 3", "seconds_to_resolve"), ("record 4", "service_name")] {
        assert!(e.lines().any(|l| l.contains("pd.json") && l.contains(rec) && l.contains(what)), "{rec} {what}: {e}");
    }
    let summary = std::fs::read_to_string(dir.path().join("report/summary.json")).unwrap();
    assert!(summary.contains("\"incidents\": 4"), "{summary}");
}

#[test]
fn a_resolution_before_creation_is_ignored_with_a_warning_never_negative() {
    let text = "id,title,service,team,severity,urgency,created_at,acknowledged_at,resolved_at,responders,users_impacted,trace_id,postmortem\n\
                I1,t,a,,SEV1,,2026-11-20T10:00:00Z,2026-11-20T09:00:00Z,2026-11-19T10:00:00Z,x,,,\n\
                I2,t,a,,SEV1,,2026-11-20T10:00:00Z,2026-11-20T10:10:00Z,2026-11-20T11:00:00Z,x,,,\n";
    let (dir, o) = with_incidents("incidents.csv", text, "csv");
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("line 2: resolved_at is before created_at") && e.contains("line 2: acknowledged_at is before created_at"), "{e}");
    let load = std::fs::read_to_string(dir.path().join("report/data/team_load.csv")).unwrap();
    assert!(!load.contains(",-"), "no negative figure: {load}");
}

// ---- 12. missing input files ----

#[test]
fn a_missing_catalog_teams_or_incidents_file_exits_2_naming_the_key() {
    for (section, key) in [("catalog", "catalog.path"), ("teams", "teams.path"), ("incidents", "incidents.path")] {
        let dir = tmp();
        spans_of(dir.path(), false);
        let cfg = write_config(dir.path(), &format!("[{section}]\npath = \"nowhere.yaml\"\n"));
        let o = run_out(&cfg, &dir.path().join("report"));
        assert_eq!(o.status.code(), Some(2), "{section}: {}", stderr(&o));
        assert!(stderr(&o).contains(key) && stderr(&o).contains("nowhere.yaml"), "{}", stderr(&o));
    }
}

// ---- 13. generate into an existing folder ----

#[test]
fn generate_refuses_a_foreign_folder_and_replaces_its_own_output_whole() {
    let dir = tmp();
    std::fs::write(dir.path().join("notes.md"), "mine").unwrap();
    let generate = |days: &str| ownermap(&["generate", "--out", dir.path().to_str().unwrap(), "--services", "6", "--days", days, "--spans-per-day", "300", "--end", "2026-11-22"]);
    assert_eq!(generate("3").status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.md")).unwrap(), "mine");
    std::fs::remove_file(dir.path().join("notes.md")).unwrap();
    assert_eq!(generate("3").status.code(), Some(0));
    // Three days, and the spans of traces running past the last midnight.
    assert_eq!(names(&dir.path().join("spans")), vec!["date=2026-11-20", "date=2026-11-21", "date=2026-11-22", "date=2026-11-23"]);
    assert_eq!(generate("1").status.code(), Some(0));
    assert_eq!(names(&dir.path().join("spans")), vec!["date=2026-11-22", "date=2026-11-23"], "no partition of the earlier organisation is left");
}

// ---- 14. only `run` evicts the cache ----

#[test]
fn sql_with_another_window_keeps_the_nightly_runs_cached_days() {
    let dir = tmp();
    spans_of(dir.path(), true);
    let cfg = write_config(dir.path(), "");
    assert_eq!(run_out(&cfg, &dir.path().join("report")).status.code(), Some(0));
    let cache = || snapshot(&dir.path().join("state/cache")).into_iter().map(|(p, _)| p).filter(|p| p.to_string_lossy().contains("body")).collect::<Vec<_>>();
    let before = cache();
    assert!(!before.is_empty());
    let o = ownermap(&["sql", "--config", &cfg, "--end", "2026-11-21", "--days", "1", "SELECT count(*) AS n FROM spans"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let after = cache();
    assert!(before.iter().all(|p| after.contains(p)), "sql evicted cached days: {before:?} -> {after:?}");
    // The next nightly run takes every day from the cache.
    let o = run_out(&cfg, &dir.path().join("report"));
    let summary = std::fs::read_to_string(dir.path().join("report/summary.json")).unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(summary.contains("\"days_computed\": 0"), "{summary}");
}

// ---- issue #18: the cache never mixes builds ----

#[test]
fn a_cache_written_by_another_build_is_recomputed_and_said_so_once() {
    let (_dir, cfg, out) = night(true);
    let args = ["run", "--config", cfg.as_str(), "--out", out.to_str().unwrap()];
    let old = [("OWNERMAP_TEST_BUILD_ID", "ownermap-0.1.0-oldbuild")];
    assert_eq!(ownermap_env(&args, &old).status.code(), Some(0));
    let summary = || std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert_eq!(ownermap_env(&args, &old).status.code(), Some(0));
    assert!(summary().contains("\"days_cached\": 3"), "the same build reuses its days: {}", summary());
    let tables_old = std::fs::read_to_string(out.join("data/services.csv")).unwrap();
    // The upgraded binary (this build): every day recomputed, said once.
    let o = ownermap_env(&args, &[("OWNERMAP_LOG", "warn")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(summary().contains("\"days_cached\": 0") && summary().contains("\"days_computed\": 3"), "{}", summary());
    let said: Vec<_> = stderr(&o).lines().filter(|l| l.contains("cache from another build")).map(str::to_string).collect();
    assert_eq!(said.len(), 1, "{}", stderr(&o));
    assert!(said[0].contains("recomputing 3 days"), "{said:?}");
    // --full and the upgraded build agree.
    let upgraded = std::fs::read_to_string(out.join("data/services.csv")).unwrap();
    assert_eq!(ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap(), "--full"]).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(out.join("data/services.csv")).unwrap(), upgraded);
    assert_eq!(upgraded, tables_old);
}

// ---- 10. damaged data inside a file, a non-UTF-8 file name ----

#[test]
fn damaged_pages_behind_an_intact_footer_skip_that_file_by_name_with_exit_3() {
    let dir = tmp();
    spans_of(dir.path(), true);
    let cfg = write_config(dir.path(), "");
    let bad = dir.path().join("spans/date=2026-11-21/a.parquet");
    let mut bytes = std::fs::read(&bad).unwrap();
    // Garbage over the page headers and data; the footer (its length is
    // the 4 bytes before the closing magic) stays intact.
    let n = bytes.len();
    let footer = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let end = n - 8 - footer;
    for (i, b) in bytes[4..end].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(37) ^ 0xa5;
    }
    std::fs::write(&bad, &bytes).unwrap();
    let out = dir.path().join("report");
    let o = run_out(&cfg, &out);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("date=2026-11-21/a.parquet") && stderr(&o).contains("damaged"), "{}", stderr(&o));
    let summary = std::fs::read_to_string(out.join("summary.json")).unwrap();
    assert!(summary.contains("\"spans_in_window\": 3") && summary.contains("damaged Parquet data"), "{summary}");
}

#[cfg(unix)]
#[test]
fn a_span_file_whose_name_is_not_utf8_is_skipped_with_a_warning() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tmp();
    spans_of(dir.path(), false);
    let cfg = write_config(dir.path(), "");
    let odd = dir.path().join("spans/date=2026-11-20").join(std::ffi::OsStr::from_bytes(b"b\xff.parquet"));
    std::fs::copy(dir.path().join("spans/date=2026-11-20/a.parquet"), &odd).unwrap();
    let out = dir.path().join("report");
    let o = run_out(&cfg, &out);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("not UTF-8"), "{}", stderr(&o));
    assert!(std::fs::read_to_string(out.join("summary.json")).unwrap().contains("\"spans_in_window\": 3"));
}

// ---- 9. span rows that cannot be used ----

/// One raw span row: (Timestamp ns, TraceId, SpanId, SpanKind, Duration ns, StatusCode).
type Raw = (Option<i64>, Option<&'static str>, &'static str, &'static str, i64, &'static str);

/// Writes raw rows with nullable columns; `ints`: kind and status as int32.
fn write_raw(path: &Path, rows: &[Raw], ints: bool) {
    use ownermap::datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
    use ownermap::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    use std::sync::Arc;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let enum_type = if ints { DataType::Int32 } else { DataType::Utf8 };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Timestamp", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), true),
        Field::new("TraceId", DataType::Utf8, true),
        Field::new("SpanId", DataType::Utf8, false),
        Field::new("ParentSpanId", DataType::Utf8, true),
        Field::new("SpanName", DataType::Utf8, false),
        Field::new("SpanKind", enum_type.clone(), true),
        Field::new("ServiceName", DataType::Utf8, false),
        Field::new("Duration", DataType::Int64, false),
        Field::new("StatusCode", enum_type, true),
    ]));
    let enum_col = |f: &dyn Fn(&Raw) -> &str| -> ArrayRef {
        if ints {
            Arc::new(rows.iter().map(|r| f(r).parse::<i32>().ok()).collect::<Int32Array>())
        } else {
            Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
        }
    };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(rows.iter().map(|r| r.0).collect::<TimestampNanosecondArray>().with_timezone("UTC")),
        Arc::new(rows.iter().map(|r| r.1).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.2)).collect::<StringArray>()),
        Arc::new(rows.iter().map(|_| None::<&str>).collect::<StringArray>()),
        Arc::new(rows.iter().map(|_| Some("op")).collect::<StringArray>()),
        enum_col(&|r| r.3),
        Arc::new(rows.iter().map(|_| Some("svc")).collect::<StringArray>()),
        Arc::new(rows.iter().map(|r| Some(r.4)).collect::<Int64Array>()),
        enum_col(&|r| r.5),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut w = ownermap::datafusion::parquet::arrow::ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn unusable_span_rows_are_skipped_counted_by_reason_and_exit_3() {
    // The good spans of spans_of (non-nullable TraceId) sit beside files
    // whose TraceId is nullable and holds NULLs: that mix must not abort.
    let (dir, cfg, out) = night(false);
    let t = DAY0 + 3_600_000 * MS;
    write_raw(
        &dir.path().join("spans/date=2026-11-20/strings.parquet"),
        &[
            (Some(t), Some("bb000000000000000000000000000001"), "0000000000000001", "Server", 5 * MS, "Unset"),
            (Some(t), Some(""), "0000000000000002", "Server", 5 * MS, "Unset"),
            (Some(t), None, "0000000000000003", "Server", 5 * MS, "Ok"),
            (None, Some("bb000000000000000000000000000004"), "0000000000000004", "Server", 5 * MS, "Unset"),
            (Some(t), Some("bb000000000000000000000000000005"), "0000000000000005", "Bogus", 5 * MS, "Unset"),
            (Some(t), Some("bb000000000000000000000000000006"), "0000000000000006", "SPAN_KIND_SERVER", -5 * MS, "Unset"),
            (Some(t), Some("bb000000000000000000000000000007"), "0000000000000007", "Server", 5 * MS, "Broken"),
        ],
        false,
    );
    write_raw(
        &dir.path().join("spans/date=2026-11-20/ints.parquet"),
        &[
            (Some(t), Some("cc000000000000000000000000000001"), "0000000000000001", "2", 5 * MS, "2"),
            (Some(t), Some("cc000000000000000000000000000002"), "0000000000000002", "9", 5 * MS, "0"),
            (Some(t), Some("cc000000000000000000000000000003"), "0000000000000003", "2", 5 * MS, "7"),
        ],
        true,
    );
    let o = run_out(&cfg, &out);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let skipped = &summary["rows_skipped"];
    assert_eq!(skipped["spans"], 8, "{skipped}");
    assert_eq!(skipped["spans.empty_trace_id"], 2);
    assert_eq!(skipped["spans.null_timestamp"], 1);
    assert_eq!(skipped["spans.unknown_span_kind"], 2);
    assert_eq!(skipped["spans.negative_duration"], 1);
    assert_eq!(skipped["spans.unknown_status_code"], 2);
    // 3 spans of spans_of + 2 good rows.
    assert_eq!(summary["spans_in_window"], 5);
    let e = stderr(&o);
    assert_eq!(e.lines().filter(|l| l.contains("strings.parquet") && l.contains("rows skipped")).count(), 1, "once per file: {e}");
    assert!(e.lines().any(|l| l.contains("ints.parquet") && l.contains("unknown SpanKind")), "{e}");
    // The good error row of ints.parquet (status 2) is an error.
    let services = std::fs::read_to_string(out.join("data/services.csv")).unwrap();
    assert!(services.lines().any(|l| l.starts_with("svc,")), "{services}");
}

/// In a container every run may be pid 1: leftovers of a killed run whose
/// pid is alive again (here pid 1, which always runs) were never recovered.
#[test]
fn leftovers_of_a_killed_run_whose_pid_runs_again_are_recovered_by_the_next_run() {
    let (dir, cfg, out) = night(false);
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    // Killed between the fallback swap's two renames, as pid 1.
    std::fs::rename(&out, dir.path().join(".report.old-1")).unwrap();
    let stale = [dir.path().join(".report.tmp-1/data"), dir.path().join("state/spill/buckets-1-2026-11-20/bucket=0")];
    for p in &stale {
        std::fs::create_dir_all(p).unwrap();
    }
    assert_eq!(run_out(&cfg, &out).status.code(), Some(0));
    assert!(out.join("index.html").is_file());
    for p in &stale {
        assert!(!p.exists(), "{} was left", p.display());
    }
    assert!(!dir.path().join(".report.old-1").exists());
    let lock = std::fs::read_to_string(dir.path().join(".report.lock")).unwrap();
    assert!(lock.starts_with('r') && lock.contains('x'), "the lock holds the run id: {lock:?}");
}
