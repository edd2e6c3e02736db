//! (Part of `tests/test_real_data.rs`.) Exports written by ClickHouse itself (SPEC §1.1): a generated
//! organisation loaded into a real ClickHouse (chdb, in process) with the
//! OpenTelemetry Collector exporter's own column types, exported per day
//! with `SELECT … INTO OUTFILE … FORMAT Parquet` in map mode and in JSON
//! mode (`tests/clickhouse/export.py`). Every table of both runs must equal
//! the run on the generated files: LowCardinality strings, DateTime64(9),
//! UInt64 Duration, non-nullable columns, one large row group, the
//! `Events.*`/`Links.*` list columns and JSON attributes with dotted keys
//! split into nested objects are all read as they come.
//!
//! CI installs chdb (`.ci/run`); elsewhere, without it, the test says so
//! and passes only when `CI` is unset.

use std::path::Path;
use std::process::Command;

use super::common::*;

/// Whether python3 can import chdb; under CI its absence is a failure.
fn have_chdb() -> bool {
    let ok = Command::new("python3").args(["-c", "import chdb"]).status().is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "CI must install chdb (pip install chdb): .ci/run does");
        eprintln!("skipping: python3 cannot import chdb (pip install chdb)");
    }
    ok
}

/// Exports the organisation's spans through ClickHouse into `to` (`map`
/// or `json` mode).
fn clickhouse_export(org: &Path, to: &Path, mode: &str) {
    let glob = org.join("spans/*/*.parquet");
    let o = Command::new("python3")
        .arg(repo_file("tests/clickhouse/export.py"))
        .args([glob.to_str().unwrap(), to.to_str().unwrap(), mode])
        .output()
        .unwrap();
    assert!(o.status.success(), "export.py {mode}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Runs the organisation's config with another span folder and output,
/// expecting exit `code`, and returns the output folder.
fn run_on(org: &Path, spans: &Path, name: &str) -> std::path::PathBuf {
    run_expecting(org, spans, name, 0)
}

fn run_expecting(org: &Path, spans: &Path, name: &str, code: i32) -> std::path::PathBuf {
    let toml = std::fs::read_to_string(org.join("ownermap.toml")).unwrap();
    let toml = toml.replace("path = \"spans/\"", &format!("path = {:?}", spans.to_str().unwrap()));
    let toml = toml.replace("dir = \"out\"", &format!("dir = \"out-{name}\"")).replace("state_dir = \"state\"", &format!("state_dir = \"state-{name}\""));
    let cfg = org.join(format!("{name}.toml"));
    std::fs::write(&cfg, toml).unwrap();
    let o = ownermap(&["run", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(code), "{name}: {}", stderr(&o));
    org.join(format!("out-{name}"))
}

/// Every table's CSV of `a` equals `b`'s (names listed in a failure).
fn same_tables(a: &Path, b: &Path, what: &str) {
    let mut differ = vec![];
    let mut n = 0;
    for e in std::fs::read_dir(a.join("data")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            n += 1;
            let other = b.join("data").join(p.file_name().unwrap());
            if std::fs::read(&p).unwrap() != std::fs::read(&other).unwrap_or_default() {
                differ.push(p.file_name().unwrap().to_string_lossy().to_string());
            }
        }
    }
    assert!(n > 20, "only {n} tables");
    assert!(differ.is_empty(), "{what}: tables differ from the generated files' run: {differ:?}");
}

#[test]
fn map_and_json_mode_clickhouse_exports_give_the_generated_files_tables() {
    if !have_chdb() {
        return;
    }
    // With batch consumers linked to their producers (SPEC §2.2 "Links"):
    // the generated files keep links as OTLP JSON text, ClickHouse writes
    // them as the `Links.TraceId`/`Links.SpanId` lists.
    let dir = generated_with(24, 3, 4000, 11, true);
    let org = dir.path();
    let base = run_on(org, &org.join("spans"), "generated");
    let edges = csv_rows(&base.join("data/edges.csv"));
    let virtual_edges = edges.iter().filter(|e| e["callee_type"] != "service").count();
    assert!(virtual_edges > 3, "the organisation calls databases, brokers and external APIs: {virtual_edges}");

    for mode in ["map", "json"] {
        let spans = org.join(format!("spans-{mode}"));
        clickhouse_export(org, &spans, mode);
        let out = run_on(org, &spans, mode);
        same_tables(&base, &out, mode);
        let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["rows_skipped"]["spans"], 0, "{mode}: {summary}");
        assert_eq!(summary["unresolved_links"], 0, "{mode}: {summary}");
        assert!(links_written(&spans) > 50, "{mode}: ClickHouse wrote the links");
    }
}

#[test]
fn a_json_attribute_value_that_does_not_parse_is_counted_and_its_span_kept() {
    if !have_chdb() {
        return;
    }
    let dir = generated(8, 1, 600, 5);
    let org = dir.path();
    let spans = org.join("spans-json");
    clickhouse_export(org, &spans, "json");
    // Break one client span's attributes (a writer that cut the text).
    let day = std::fs::read_dir(&spans).unwrap().next().unwrap().unwrap().path().join("otel_traces.parquet");
    let broken = break_one_client_attribute(&day);
    // Counted, so the run says some input was not used whole: exit 3.
    let out = run_expecting(org, &spans, "broken", 3);
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows_skipped"]["spans.bad_attributes"], 1, "{summary}");
    assert_eq!(summary["rows_skipped"]["spans"], 0, "the span is kept: {summary}");
    let base = run_on(org, &org.join("spans"), "generated");
    let spans_in = |o: &Path| -> serde_json::Value {
        serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(o.join("summary.json")).unwrap()).unwrap()["spans_in_window"].clone()
    };
    assert_eq!(spans_in(&out), spans_in(&base));
    assert!(summary["problems"].to_string().contains("attributes that are not JSON"), "{summary} ({broken})");
}

/// How many spans of the export under `dir` carry links in the
/// `Links.SpanId` list column ClickHouse writes.
fn links_written(dir: &Path) -> usize {
    use ownermap::datafusion::arrow::array::{Array, AsArray};
    use ownermap::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    files_under(dir)
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
        .flat_map(|p| ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p).unwrap()).unwrap().build().unwrap().map(Result::unwrap))
        .map(|b| {
            let l = b.column_by_name("Links.SpanId").expect("a Links.SpanId column");
            let l = l.as_list::<i32>();
            (0..l.len()).filter(|&i| !l.is_null(i) && !l.value(i).is_empty()).count()
        })
        .sum()
}

/// Replaces the SpanAttributes text of the first Client span with a value
/// that does not parse; returns the old text.
fn break_one_client_attribute(path: &Path) -> String {
    use ownermap::datafusion::arrow::array::{Array, ArrayRef, AsArray, RecordBatch, StringArray};
    use ownermap::datafusion::arrow::compute::cast;
    use ownermap::datafusion::arrow::datatypes::{DataType, Field, Schema};
    use ownermap::datafusion::parquet::arrow::ArrowWriter;
    use ownermap::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).unwrap()).unwrap().build().unwrap().map(Result::unwrap).collect();
    let schema = batches[0].schema();
    let (ka, kk) = (schema.index_of("SpanAttributes").unwrap(), schema.index_of("SpanKind").unwrap());
    // The text column as plain strings (it arrives as JSON text).
    let fields: Vec<Field> = schema.fields().iter().enumerate().map(|(i, f)| if i == ka { Field::new(f.name(), DataType::Utf8, false) } else { f.as_ref().clone() }).collect();
    let out_schema = std::sync::Arc::new(Schema::new(fields));
    let mut old = None;
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), out_schema.clone(), None).unwrap();
    for b in &batches {
        let attrs = cast(b.column(ka), &DataType::Utf8).unwrap();
        let kinds = cast(b.column(kk), &DataType::Utf8).unwrap();
        let (attrs, kinds) = (attrs.as_string::<i32>(), kinds.as_string::<i32>());
        let vals: Vec<String> = (0..b.num_rows())
            .map(|i| {
                if old.is_none() && kinds.value(i) == "Client" && attrs.value(i).len() > 2 {
                    old = Some(attrs.value(i).to_string());
                    return format!("{}", &attrs.value(i)[..attrs.value(i).len() - 1]);
                }
                attrs.value(i).to_string()
            })
            .collect();
        let mut cols: Vec<ArrayRef> = b.columns().to_vec();
        cols[ka] = std::sync::Arc::new(StringArray::from(vals));
        assert_eq!(cols[ka].len(), b.num_rows());
        w.write(&RecordBatch::try_new(out_schema.clone(), cols).unwrap()).unwrap();
    }
    w.close().unwrap();
    old.expect("a Client span with attributes")
}
