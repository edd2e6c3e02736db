//! Hostile inputs and damaged state (§4 "What that means for inputs that
//! are wrong"): each case reproduces a way a run used to hang, write where
//! it must not, believe a value that cannot mean anything, or fail late
//! without naming the key — and pins the named error or counted skip it
//! gets now.

mod common;

use std::path::Path;

use common::*;
use ownermap::datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray, UInt64Array};
use ownermap::datafusion::arrow::compute::cast;
use ownermap::datafusion::arrow::datatypes::{DataType, Field, Schema};
use ownermap::datafusion::parquet::arrow::ArrowWriter;
use ownermap::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Rewrites one column of a span file: its new type and nullability, and
/// its values made from the old ones.
fn rewrite_column(path: &Path, column: &str, to: DataType, nullable: bool, values: &dyn Fn(&ArrayRef) -> ArrayRef) {
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap().build().unwrap().map(Result::unwrap).collect();
    let k = batches[0].schema().index_of(column).unwrap();
    let fields: Vec<Field> = batches[0].schema().fields().iter().enumerate().map(|(i, f)| if i == k { Field::new(column, to.clone(), nullable) } else { f.as_ref().clone() }).collect();
    let schema = std::sync::Arc::new(Schema::new(fields));
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema.clone(), None).unwrap();
    for b in &batches {
        let mut cols: Vec<ArrayRef> = b.columns().to_vec();
        cols[k] = values(&cols[k]);
        w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
    }
    w.close().unwrap();
}

#[test]
fn an_out_inside_the_span_tree_or_a_state_dir_equal_to_out_is_refused_before_any_work() {
    let dir = tmp();
    one_call_spans(dir.path());
    // Inside the spans tree: accepted before (the next run read its own
    // output as input).
    let cfg = write_config(dir.path(), "");
    let inside = dir.path().join("spans/date=2026-11-20/report");
    let o = ownermap(&["run", "--config", &cfg, "--out", inside.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--out") && stderr(&o).contains("spans.path"), "{}", stderr(&o));
    assert!(!inside.exists());
    // state_dir equal to out: failed late with exit 1 before.
    let cfg = write_config(dir.path(), "[output]\ndir = \"both\"\nstate_dir = \"both\"\n");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("output.state_dir"), "{}", stderr(&o));
    assert!(!dir.path().join("both").exists(), "nothing written");
}

#[test]
fn a_fifo_in_the_span_tree_is_skipped_by_name_instead_of_hanging_the_run() {
    let dir = tmp();
    one_call_spans(dir.path());
    let fifo = dir.path().join("spans/date=2026-11-21/stuck.parquet");
    std::fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let cfg = write_config(dir.path(), "");
    // Before, the run blocked forever reading the FIFO: a bounded wait.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ownermap"))
        .args(["run", "--config", &cfg])
        .env("OWNERMAP_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut child = child;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the run hangs on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(3), "{err}");
    assert!(err.contains("stuck.parquet") && err.contains("not a regular file"), "{err}");
    let summary = std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap();
    assert!(summary.contains("not a regular file"), "{summary}");
}

#[test]
fn an_empty_catalog_or_teams_file_is_an_error_naming_it() {
    let dir = tmp();
    one_call_spans(dir.path());
    std::fs::write(dir.path().join("catalog.yaml"), "").unwrap();
    let cfg = write_config(dir.path(), "[catalog]\npath = \"catalog.yaml\"\n");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("catalog.yaml") && stderr(&o).contains("no service"), "{}", stderr(&o));
    std::fs::write(dir.path().join("catalog.yaml"), "- name: a\n  team: t\n").unwrap();
    std::fs::write(dir.path().join("teams.yaml"), "  \n").unwrap();
    let cfg = write_config(dir.path(), "[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("teams.yaml") && stderr(&o).contains("empty"), "{}", stderr(&o));
}

#[test]
fn config_values_out_of_range_are_refused_naming_the_key() {
    let dir = tmp();
    one_call_spans(dir.path());
    for (extra, key) in [
        ("[engine]\nmemory_limit = \"-1g\"\n", "engine.memory_limit"),
        ("[engine]\nmemory_limit = \"99999999g\"\n", "engine.memory_limit"),
        ("[engine]\ntarget_partitions = 0\n", "engine.target_partitions"),
        ("[alerts]\nmax_noise_share = 7.0\n", "alerts.max_noise_share"),
    ] {
        let cfg = write_config(dir.path(), extra);
        let o = ownermap(&["run", "--config", &cfg]);
        assert_eq!(o.status.code(), Some(2), "{extra}: {}", stderr(&o));
        assert!(stderr(&o).contains(key), "{extra}: {}", stderr(&o));
    }
    let out = dir.path().join("gen");
    let o = ownermap(&["generate", "--out", out.to_str().unwrap(), "--services", "100000000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--services"), "{}", stderr(&o));
    assert!(!out.exists(), "refused before writing");
}

#[test]
fn backfill_refuses_centuries_and_stops_at_the_earliest_day_of_spans() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["backfill", "--config", &cfg, "--weeks", "1000"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--weeks 1000"), "{}", stderr(&o));
    // The only spans are on 2026-11-20 (W47, the window's week): the 400
    // weeks before it end before the earliest day and are not run.
    let started = std::time::Instant::now();
    let o = ownermap(&["backfill", "--config", &cfg, "--weeks", "400"]);
    assert_eq!(o.status.code(), Some(4), "{}", stderr(&o));
    assert!(stderr(&o).contains("(400 weeks): no spans before 2026-11-20"), "{}", stderr(&o));
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "ran the empty weeks");
}

#[test]
fn a_file_with_an_integer_trace_id_is_skipped_by_name_and_the_others_are_read() {
    let dir = tmp();
    one_call_spans(dir.path());
    // A second day whose TraceId is int64 (read before as the hex spelling
    // of its decimal digits: some other id, joining spans of different
    // traces; then a whole-run exit 2). Now that file alone is skipped.
    let bad = dir.path().join("spans/date=2026-11-21/ints.parquet");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::copy(dir.path().join("spans/date=2026-11-20/a.parquet"), &bad).unwrap();
    rewrite_column(&bad, "TraceId", DataType::Int64, false, &|d| {
        std::sync::Arc::new(ownermap::datafusion::arrow::array::Int64Array::from_iter_values((0..d.len() as i64).map(|i| 1000 + i)))
    });
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("ints.parquet") && err.contains("TraceId") && err.contains("hex string or binary id"), "{err}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["spans_in_window"], 3, "a.parquet's spans, none of ints.parquet's: {summary}");
    assert!(summary.to_string().contains("ints.parquet"), "{summary}");
    // The same file alone: nothing sensible can be computed, and the
    // configuration (or the export) is what is wrong: exit 2 naming it.
    std::fs::remove_file(dir.path().join("spans/date=2026-11-20/a.parquet")).unwrap();
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("ints.parquet") && stderr(&o).contains("TraceId"), "{}", stderr(&o));
}

#[test]
fn a_survey_with_no_valid_row_gives_no_survey_verdicts() {
    let dir = generated(8, 1, 500, 3);
    let d = dir.path();
    // Every answer out of range: before, every team got `expertise_gap`
    // ("nobody on the rotation knows anything").
    std::fs::write(d.join("survey.csv"), "person,service,expertise,happiness,answered_on\nana,checkout,9,1,2026-11-20\nben,search,-1,7,2026-11-20\n").unwrap();
    let o = ownermap(&["run", "--config", d.join("ownermap.toml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("no valid row"), "{}", stderr(&o));
    let verdicts = std::fs::read_to_string(d.join("out/data/rotation_verdicts.csv")).unwrap();
    assert!(!verdicts.contains("expertise_gap") && !verdicts.contains("unhappy"), "{verdicts}");
    let expertise = std::fs::read_to_string(d.join("out/data/expertise.csv")).unwrap();
    let covered: Vec<&str> = expertise.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert!(!covered.is_empty() && covered.iter().all(|c| c.is_empty()), "{expertise}");
}

#[test]
fn an_incident_open_for_a_century_is_a_page_but_not_a_resolution_time() {
    let dir = tmp();
    one_call_spans(dir.path());
    let d = dir.path();
    std::fs::write(d.join("catalog.yaml"), "- name: a\n  team: t\n").unwrap();
    std::fs::write(d.join("teams.yaml"), "- name: t\n  timezone: UTC\n  members: [ana, ben]\n").unwrap();
    std::fs::write(
        d.join("incidents.csv"),
        "id,title,service,created_at,acknowledged_at,resolved_at\n\
         i1,slow,a,2026-11-20T10:00:00Z,2026-11-20T10:10:00Z,2026-11-20T11:00:00Z\n\
         i2,stuck,a,2026-11-20T12:00:00Z,2026-11-20T12:20:00Z,2126-11-20T12:00:00Z\n",
    )
    .unwrap();
    let cfg = write_config(d, "[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n[incidents]\npath = \"incidents.csv\"\n");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("incident i2") && stderr(&o).contains("max_duration"), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows_skipped"]["incidents.implausible_duration"], 1);
    // W47: both pages count; MTTA, MTTR and interruption hours are i1's alone.
    let load = csv_rows(&d.join("out/data/team_load.csv"));
    let w47 = load.iter().find(|r| r["team"] == "t" && r["week"] == "2026-W47").unwrap();
    assert_eq!((w47["pages"].as_str(), w47["mtta_min"].as_str(), w47["mttr_min"].as_str(), w47["interruption_hours"].as_str()), ("2", "10.0", "60.0", "1.0"));
}

#[test]
fn a_damaged_history_week_is_moved_aside_by_name_instead_of_failing_every_run() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    // Last week's edges, truncated (a full disk): every later run exited
    // 1 with "Corrupt footer" and named no file.
    let week = dir.path().join("state/history/2026-W46");
    std::fs::create_dir_all(&week).unwrap();
    std::fs::write(week.join("edges.parquet"), b"PAR1 truncated").unwrap();
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("2026-W46") && stderr(&o).contains("edges.parquet") && stderr(&o).contains("backfill"), "{}", stderr(&o));
    assert!(!week.exists() && dir.path().join("state/history/.2026-W46.damaged/edges.parquet").is_file());
    assert_eq!(ownermap(&["run", "--config", &cfg]).status.code(), Some(0), "the next run is clean");
}

#[test]
fn a_uint64_duration_beyond_int64_is_a_counted_bad_row_not_a_failed_run() {
    let dir = tmp();
    one_call_spans(dir.path());
    // Rewrite the file as ClickHouse writes it: Duration UInt64, and b's
    // span with a duration past i64::MAX (exit 1 naming no file, before).
    let path = dir.path().join("spans/date=2026-11-20/a.parquet");
    rewrite_column(&path, "Duration", DataType::UInt64, false, &|d| {
        let d = cast(d, &DataType::UInt64).unwrap();
        let d = d.as_any().downcast_ref::<UInt64Array>().unwrap();
        let last = d.len() - 1;
        std::sync::Arc::new(UInt64Array::from_iter_values((0..d.len()).map(|i| if i == last { u64::MAX - 5 } else { d.value(i) })))
    });
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("a.parquet") && stderr(&o).contains("Duration beyond int64"), "{}", stderr(&o));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows_skipped"]["spans.duration_too_large"], 1, "{summary}");
    assert_eq!(summary["spans_in_window"], 2);
}

#[test]
fn a_null_trace_id_in_a_nullable_file_beside_non_nullable_files_is_a_counted_row_in_either_order() {
    for null_first in [true, false] {
        let dir = tmp();
        one_call_spans(dir.path());
        // A second file of the same day, nullable TraceId with one NULL,
        // sorting before or after the non-nullable one (exit 1, before).
        let other = dir.path().join(format!("spans/date=2026-11-20/{}.parquet", if null_first { "0" } else { "z" }));
        std::fs::copy(dir.path().join("spans/date=2026-11-20/a.parquet"), &other).unwrap();
        rewrite_column(&other, "TraceId", DataType::Utf8, true, &|t| {
            let t = t.as_any().downcast_ref::<StringArray>().unwrap();
            std::sync::Arc::new(StringArray::from_iter((0..t.len()).map(|i| (i != 0).then(|| "bb000000000000000000000000000002"))))
        });
        let cfg = write_config(dir.path(), "");
        let o = ownermap(&["run", "--config", &cfg]);
        assert_eq!(o.status.code(), Some(3), "null first: {null_first}: {}", stderr(&o));
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap();
        assert_eq!(summary["rows_skipped"]["spans.empty_trace_id"], 1, "{summary}");
        assert_eq!(summary["spans_in_window"], 5, "{summary}");
    }
}

/// Bytes of every page and drawing of a report (not its tables).
fn report_bytes(out: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![out.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "data" && n != "generated") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "html" || x == "svg") {
                total += std::fs::metadata(&p).unwrap().len();
            }
        }
    }
    total
}

#[test]
fn a_megabyte_service_name_is_shortened_in_the_report_and_whole_in_the_tables() {
    let dir = tmp();
    // Before: a 1 MB name made a 143 MB report (every link, label and
    // tooltip repeated it).
    let huge: &'static str = Box::leak(format!("svc-{}", "x".repeat(1 << 20)).into_boxed_str());
    let t1 = "aa000000000000000000000000000001";
    write_spans(
        &spans_path(dir.path(), "date=2026-11-20/a.parquet"),
        &[
            span(t1, "0000000000000101", "", huge, "Server", 0, 100),
            span(t1, "0000000000000102", "0000000000000101", huge, "Client", 10, 50),
            span(t1, "0000000000000103", "0000000000000102", "b", "Server", 15, 40),
        ],
        Ids::Hex,
    );
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = dir.path().join("out");
    let bytes = report_bytes(&out);
    assert!(bytes < 1 << 20, "pages and drawings hold {bytes} bytes: the name was repeated");
    let services = std::fs::read_to_string(out.join("data/services.csv")).unwrap();
    assert!(services.contains(huge), "the table keeps the whole name");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains(&format!("{}…", &huge[..ownermap::names::MAX_SHOWN_BYTES])), "shown cut with an ellipsis");
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

#[test]
fn traces_whose_parents_loop_are_counted_and_leave_every_other_figure_alone() {
    // A generated day of normal traces (an organisation of 8 services).
    let dir = generated(8, 1, 1500, 3);
    let d = dir.path();
    let cfg = d.join("ownermap.toml");
    let cfg = cfg.to_str().unwrap();
    let o = ownermap(&["run", "--config", cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let tables = |out: &Path| -> Vec<(String, String)> {
        let mut t: Vec<(String, String)> = std::fs::read_dir(out.join("data"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .map(|p| {
                // The loops' own service is left out of the comparison.
                let text = std::fs::read_to_string(&p).unwrap();
                let kept: Vec<&str> = text.lines().filter(|l| !l.contains("loop")).collect();
                (p.file_name().unwrap().to_string_lossy().to_string(), kept.join("\n"))
            })
            .collect();
        t.sort();
        t
    };
    let clean = tables(&d.join("out"));
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["traces_with_cycles"], 0);

    // The same day with 100 looping traces beside the normal ones: its own
    // parent, two ids, a loop of 1 000, and 10 000 rows of one id each its
    // own parent (the shape that once grew memory until the process
    // aborted).
    let mut bad = vec![];
    let id = |t: usize, k: usize| leak(format!("{:016x}", (t << 20) + k + 1));
    let day = 1_795_305_600_000_000_000i64; // 2026-11-22T00:00Z, the generated day
    for t in 0..100 {
        let trace = leak(format!("cc{t:030x}"));
        let (n, same) = match t % 4 {
            0 => (1, false),
            1 => (2, false),
            2 => (1000, false),
            _ => (10_000, true),
        };
        for k in 0..n {
            let (me, parent) = if same { (id(t, 0), id(t, 0)) } else { (id(t, k), id(t, (k + 1) % n)) };
            bad.push(span(trace, me, parent, "loop", "Server", 0, 5).at_ns(day + 3_600_000_000_000 + k as i64 * 1_000_000));
        }
    }
    write_spans(&d.join("spans/date=2026-11-22/loops.parquet"), &bad, Ids::Hex);
    let started = std::time::Instant::now();
    let o = ownermap(&["run", "--config", cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // 0.7 s here; the pass took 15 s on this day before it marked each
    // id's rows once (10 000 rows of one id, each visited per child).
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "took {:?}", started.elapsed());
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["traces_with_cycles"], 100, "{summary}");
    let after = tables(&d.join("out"));
    assert_eq!(after.len(), clean.len());
    for ((name, a), (_, b)) in clean.iter().zip(&after) {
        assert_eq!(a, b, "{name}: the normal traces' figures changed");
    }
}

#[test]
fn a_damaged_cache_entry_is_named_and_recomputed_with_the_same_tables() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let edges = std::fs::read_to_string(dir.path().join("out/data/edges.csv")).unwrap();
    // One cached day's table truncated (a full disk, a killed copy).
    let mut cached = vec![];
    let mut stack = vec![dir.path().join("state/cache")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else if p.extension().is_some_and(|x| x == "parquet") { cached.push(p) }
        }
    }
    cached.sort();
    let damaged = cached.iter().find(|p| p.to_string_lossy().contains("2026-11-20")).expect("a cached table of the day with spans");
    std::fs::write(damaged, b"PAR1 truncated").unwrap();
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let entry = damaged.parent().unwrap().file_name().unwrap().to_string_lossy().to_string();
    assert!(stderr(&o).contains("ignoring cache entry") && stderr(&o).contains(&entry), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(dir.path().join("out/data/edges.csv")).unwrap(), edges, "recomputed, not lost");
    let o = ownermap(&["run", "--config", &cfg]);
    assert!(!stderr(&o).contains("ignoring cache entry"), "the entry was written anew: {}", stderr(&o));
}
