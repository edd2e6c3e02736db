//! SPEC §2.14's definition at scale: a sampled organisation's figures are
//! those of the organisation in which each kept trace is copied w times.
//! `generate --sampling` writes each policy's evidence (TraceState th,
//! SampleRate, Jaeger's sampler tags); the copies are made here from the
//! policy's own definition (not from the evidence the run reads) and run
//! with sampling off.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::common::*;
use ownermap::config::{Config, Sampling};
use ownermap::datafusion::arrow::array::{AsArray, BooleanArray, RecordBatch, StringArray};
use ownermap::datafusion::arrow::compute::filter_record_batch;
use ownermap::datafusion::parquet::arrow::ArrowWriter;
use ownermap::datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use ownermap::generate::sampling::Policy;
use ownermap::generate::{GenOptions, Layout, generate};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if src.is_dir() { copy_dir(&src, &dst) } else { std::fs::copy(&src, &dst).map(|_| ()).unwrap() }
    }
}

fn read(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap().map(|b| b.unwrap()).collect()
}

fn strings(b: &RecordBatch, col: &str) -> Vec<String> {
    let c = ownermap::datafusion::arrow::compute::cast(b.column_by_name(col).unwrap(), &ownermap::datafusion::arrow::datatypes::DataType::Utf8).unwrap();
    c.as_string::<i32>().iter().map(|v| v.unwrap_or_default().to_string()).collect()
}

/// Each kept trace's weight by the policy's definition: 1/p (or N); under
/// tail sampling 1 for a trace with an error span.
fn weights(policy: Policy, files: &[PathBuf]) -> HashMap<String, u32> {
    let mut errors = std::collections::HashSet::new();
    let mut all = std::collections::HashSet::new();
    for f in files {
        for b in read(f) {
            for (t, s) in strings(&b, "TraceId").into_iter().zip(strings(&b, "StatusCode")) {
                if s == "Error" {
                    errors.insert(t.clone());
                }
                all.insert(t);
            }
        }
    }
    all.into_iter()
        .map(|t| {
            let w = match policy {
                Policy::Head(p) | Policy::Jaeger(p) => (1.0 / p).round() as u32,
                Policy::Tail(_) if errors.contains(&t) => 1,
                Policy::Tail(p) => (1.0 / p).round() as u32,
                Policy::SampleRate(n) => n,
            };
            (t, w)
        })
        .collect()
}

/// `from`'s organisation with each trace copied w times (copy k's trace id
/// has 16·k added to its first byte).
fn copies(from: &Path, to: &Path, policy: Policy) {
    copy_dir(from, to);
    let files: Vec<PathBuf> = files_under(&to.join("spans")).into_iter().filter(|p| p.extension().is_some_and(|x| x == "parquet")).collect();
    let w = weights(policy, &files);
    for f in &files {
        let batches = read(f);
        let Some(schema) = batches.first().map(|b| b.schema()) else { continue };
        let mut out = ArrowWriter::try_new(std::fs::File::create(f).unwrap(), schema.clone(), None).unwrap();
        for b in &batches {
            let ids = strings(b, "TraceId");
            for k in 0..16u32 {
                let keep: BooleanArray = ids.iter().map(|t| Some(w[t] > k)).collect();
                let kept = filter_record_batch(b, &keep).unwrap();
                if kept.num_rows() == 0 {
                    continue;
                }
                let at = schema.index_of("TraceId").unwrap();
                let renamed: StringArray = strings(&kept, "TraceId")
                    .iter()
                    .map(|t| Some(format!("{:02x}{}", (u32::from_str_radix(&t[..2], 16).unwrap() + 16 * k) % 256, &t[2..])))
                    .collect();
                let mut cols = kept.columns().to_vec();
                cols[at] = ownermap::datafusion::arrow::compute::cast(&renamed, schema.field(at).data_type()).unwrap();
                out.write(&RecordBatch::try_new(schema.clone(), cols).unwrap()).unwrap();
            }
        }
        out.close().unwrap();
    }
}

/// Every table's rows without the `observed_*` columns.
fn estimated(r: &ownermap::run_result::RunResult) -> Vec<(String, Vec<std::collections::BTreeMap<String, String>>)> {
    r.tables
        .iter()
        .map(|(name, t)| {
            let mut rs = rows(t);
            rs.iter_mut().for_each(|row| row.retain(|k, _| !k.starts_with("observed_")));
            (name.to_string(), rs)
        })
        .collect()
}

fn load(dir: &Path, sampling: Sampling) -> Config {
    let mut cfg = Config::load(&dir.join("ownermap.toml"), &Default::default()).unwrap();
    cfg.spans.sampling = sampling;
    cfg
}

#[test]
fn a_sampled_organisation_has_the_figures_of_its_kept_traces_copied_w_times() {
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    for (policy, seed) in [("head:0.25", 31), ("tail:0.25", 32), ("jaeger:0.125", 33), ("sample-rate:4", 34)] {
        let policy: Policy = policy.parse().unwrap();
        let (dir, copied) = (tmp(), tmp());
        let opt = GenOptions { out: dir.path().to_path_buf(), services: 16, days: 2, spans_per_day: 20_000, seed, end, layout: Layout::Clickhouse, sampling: Some(policy), links: false };
        generate(&opt, |_, _| {}).unwrap();
        copies(dir.path(), copied.path(), policy);
        let sampled = run(&load(dir.path(), Sampling::Auto));
        let want = run(&load(copied.path(), Sampling::Off));
        for ((name, got), (_, want)) in estimated(&sampled).iter().zip(estimated(&want).iter()) {
            assert_eq!(got, want, "{policy:?}: table {name}");
        }
        let s = &sampled.summary.sampling;
        assert_eq!(s.estimated_traces, want.summary.traces, "{policy:?}");
        assert!(s.weighted_traces > 0 && s.invalid == 0, "{policy:?}: {s:?}");
        let sources = s.by_source.tracestate + s.by_source.sample_rate + s.by_source.jaeger;
        assert_eq!(sources, sampled.summary.traces, "{policy:?}: every kept trace carries its evidence");
        // observed_* are the counts of the kept spans: the run with
        // sampling off counts them.
        let kept = run(&load(dir.path(), Sampling::Off));
        let observed = |r: &ownermap::run_result::RunResult, t: &str, col: &str| -> Vec<String> { rows(table(r, t)).iter().map(|x| x[col].clone()).collect() };
        assert_eq!(observed(&sampled, "services", "observed_requests"), observed(&kept, "services", "requests"), "{policy:?}");
        assert_eq!(observed(&sampled, "operations", "observed_requests"), observed(&kept, "operations", "requests"), "{policy:?}");
        assert_eq!(observed(&sampled, "edges", "observed_calls"), observed(&kept, "edges", "calls"), "{policy:?}");
    }
}
