//! (Part of `tests/test_fuzz.rs`.) The span reader and the per-trace pass fed random span files (issue
//! #28, SPEC §4): seeded files whose ids, parents, column types and NULLs
//! are drawn at random — ids repeated, parents that loop or point nowhere,
//! integer or binary or string ids, kinds and statuses spelled wrong,
//! durations past int64, NULL services, JSON attributes that do not parse.
//! Each is run through the real binary (discovery, schema decisions, bad
//! rows, the normalising view, the per-trace pass, every analysis): it must
//! never panic or fail (exit 0, 3 or 4, or 2 naming the file when it is
//! alone and unusable), and must finish within a bound. A fixed budget of
//! cases runs in CI; `OWNERMAP_FUZZ_CASES` raises it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Rng;
use super::common::*;
use ownermap::datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, Int64Builder, RecordBatch, StringBuilder, TimestampNanosecondBuilder, UInt64Builder,
};
use ownermap::datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use ownermap::datafusion::parquet::arrow::ArrowWriter;

/// Cases per CI run (each a run of the binary, about a second).
const CASES: u64 = 16;

/// Draws on `test_fuzz`'s seeded generator in the ranges these files need.
trait Draw {
    fn below64(&mut self, n: u64) -> u64;
    fn chance(&mut self, percent: u64) -> bool;
}

impl Draw for Rng {
    fn below64(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below64(100) < percent
    }
}

/// How a case writes its id columns.
#[derive(Clone, Copy, Debug)]
enum IdForm {
    Hex,
    Binary,
    Int,
}

/// Writes one random span file of `rows` rows; returns how its ids were
/// written.
fn random_file(path: &std::path::Path, rng: &mut Rng, rows: usize) -> IdForm {
    let form = match rng.below64(10) {
        0 => IdForm::Int,
        1..=3 => IdForm::Binary,
        _ => IdForm::Hex,
    };
    let nullable = rng.chance(50);
    let json_attrs = rng.chance(40);
    let uint_duration = rng.chance(40);
    let traces = 1 + rng.below64(rows as u64 / 3 + 1);
    let ids_per_trace = 1 + rng.below64(12);
    let day0 = DAY0; // the window's first day
    let id_type = match form {
        IdForm::Hex => DataType::Utf8,
        IdForm::Binary => DataType::Binary,
        IdForm::Int => DataType::Int64,
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Timestamp", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), nullable),
        Field::new("TraceId", id_type.clone(), nullable),
        Field::new("SpanId", id_type.clone(), nullable),
        Field::new("ParentSpanId", id_type, true),
        Field::new("SpanName", DataType::Utf8, nullable),
        Field::new("SpanKind", DataType::Utf8, nullable),
        Field::new("ServiceName", DataType::Utf8, nullable),
        Field::new("Duration", if uint_duration { DataType::UInt64 } else { DataType::Int64 }, nullable),
        Field::new("StatusCode", DataType::Utf8, nullable),
        Field::new("SpanAttributes", DataType::Utf8, true),
    ]));
    const KINDS: [&str; 9] = ["Server", "Client", "Producer", "Consumer", "Internal", "", "SPAN_KIND_CLIENT", "9", "Bogus"];
    const STATUS: [&str; 5] = ["Unset", "Error", "Ok", "STATUS_CODE_ERROR", "7"];
    const SERVICES: [&str; 6] = ["a", "b", "c", "db", "<script>", "../x"];
    let mut ts = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut name = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut svc = StringBuilder::new();
    let mut status = StringBuilder::new();
    let mut attrs = StringBuilder::new();
    let mut dur_i = Int64Builder::new();
    let mut dur_u = UInt64Builder::new();
    let mut ids: Vec<[Option<u64>; 3]> = Vec::with_capacity(rows);
    for _ in 0..rows {
        let trace = 1 + rng.below64(traces);
        let span = 1 + rng.below64(ids_per_trace);
        // a parent among the trace's ids (loops, self-parents and repeats
        // follow), none (a root), or an id that is not there
        let parent = match rng.below64(10) {
            0..=1 => None,
            2 => Some(1_000 + rng.below64(5)),
            _ => Some(1 + rng.below64(ids_per_trace)),
        };
        let null_id = nullable && rng.chance(3);
        ids.push([(!null_id).then_some(trace), Some(trace * 100 + span), parent.map(|p| trace * 100 + p)]);
        if nullable && rng.chance(2) { ts.append_null() } else { ts.append_value(day0 + rng.below64(3 * 86_400_000_000_000) as i64) }
        name.append_value(["op", "GET /", ""][rng.below64(3) as usize]);
        kind.append_value(KINDS[rng.below64(KINDS.len() as u64) as usize]);
        if nullable && rng.chance(3) { svc.append_null() } else { svc.append_value(SERVICES[rng.below64(SERVICES.len() as u64) as usize]) }
        status.append_value(STATUS[rng.below64(STATUS.len() as u64) as usize]);
        let d = rng.below64(2_000_000_000);
        if uint_duration {
            dur_u.append_value(if rng.chance(2) { u64::MAX - d } else { d });
        } else {
            dur_i.append_value(if rng.chance(2) { -(d as i64) } else { d as i64 });
        }
        match (json_attrs, rng.below64(4)) {
            (false, _) | (true, 0) => attrs.append_null(),
            (true, 1) => attrs.append_value(r#"{"db":{"system":{"name":"postgresql"}}}"#),
            (true, 2) => attrs.append_value(r#"{"server.address":"api.example.com","http":{"status_code":500}}"#),
            _ => attrs.append_value(r#"{"peer":{"service":"#),
        }
    }
    let id_col = |k: usize| -> ArrayRef {
        match form {
            IdForm::Hex => Arc::new(ids.iter().map(|r| r[k].map(|v| format!("{v:032x}"))).collect::<ownermap::datafusion::arrow::array::StringArray>()),
            IdForm::Binary => {
                let mut b = BinaryBuilder::new();
                for r in &ids {
                    b.append_option(r[k].map(|v| v.to_be_bytes()));
                }
                Arc::new(b.finish())
            }
            IdForm::Int => Arc::new(ids.iter().map(|r| r[k].map(|v| v as i64)).collect::<ownermap::datafusion::arrow::array::Int64Array>()),
        }
    };
    let dur: ArrayRef = if uint_duration { Arc::new(dur_u.finish()) } else { Arc::new(dur_i.finish()) };
    let cols: Vec<ArrayRef> = vec![
        Arc::new(ts.finish()), id_col(0), id_col(1), id_col(2), Arc::new(name.finish()), Arc::new(kind.finish()),
        Arc::new(svc.finish()), dur, Arc::new(status.finish()), Arc::new(attrs.finish()),
    ];
    // Non-nullable fields cannot hold the NULLs drawn: such a file is
    // written nullable-free by construction (nullable is false, none drawn).
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    form
}

#[test]
fn random_span_files_never_panic_never_fail_and_finish() {
    let cases: u64 = std::env::var("OWNERMAP_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES);
    // Runs that read spans into the window, so the cases reach the
    // per-trace pass and the analyses, not only the schema checks.
    let mut analysed = 0;
    for case in 0..cases {
        let mut rng = Rng(0xdead_beef_cafe_f00d ^ (case + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let dir = tmp();
        // One to three files, so files of different forms meet.
        let files = 1 + rng.below64(3);
        let mut forms = vec![];
        for f in 0..files {
            let rows = 1 + rng.below64(3000) as usize;
            forms.push(random_file(&spans_path(dir.path(), &format!("date=2026-11-2{}/f{f}.parquet", rng.below64(3))), &mut rng, rows));
        }
        let cfg = write_config(dir.path(), "");
        let started = Instant::now();
        let o = ownermap(&["run", "--config", &cfg]);
        let err = stderr(&o);
        let took = started.elapsed();
        assert!(!err.contains("panicked"), "case {case} ({forms:?}) panicked:\n{err}");
        assert!(took < Duration::from_secs(120), "case {case} ({forms:?}) took {took:?}");
        match o.status.code() {
            Some(0 | 3) => {
                let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap();
                if summary["spans_in_window"].as_i64().unwrap_or(0) > 0 {
                    analysed += 1;
                }
            }
            Some(4) => {}
            // Only when no file is usable (integer ids everywhere): named.
            Some(2) => {
                assert!(forms.iter().all(|f| matches!(f, IdForm::Int)), "case {case} ({forms:?}): exit 2 with usable files:\n{err}");
                assert!(err.contains(".parquet"), "case {case}: exit 2 names no file:\n{err}");
            }
            other => panic!("case {case} ({forms:?}): exit {other:?}\n{err}"),
        }
    }
    assert!(analysed * 2 >= cases, "only {analysed} of {cases} cases read spans into the window: the fuzzer is not reaching the pass");
}
