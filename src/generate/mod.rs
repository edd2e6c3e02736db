//! `ownermap generate`: a seeded organisation written as the inputs a user
//! would have: spans as `otel_traces` Parquet in a Hive layout
//! (`spans/date=YYYY-MM-DD/part-NNNNN.parquet`), `catalog.yaml`,
//! `teams.yaml`, `incidents.csv` and an `ownermap.toml` pointing at them.
//!
//! Spans stream: a day is produced trace by trace and flushed in batches,
//! so 10 M spans a day never sit in memory at once. A span lands in the
//! partition of its own UTC date, as an exporter would write it, so traces
//! that cross midnight are split across partitions.

pub mod files;
pub mod org;
pub mod rng;
pub mod links;
pub mod sampling;
pub mod traces;

use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate};

use crate::canonical::{CanonSpan, SpanWriter};
use crate::config::day_start_ns;
use crate::error::Result;
use org::Org;
use rng::Rng;
use traces::{GenSpan, KIND_NAMES, STATUS_NAMES, TraceGen};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub out: PathBuf,
    pub services: usize,
    pub days: u32,
    pub spans_per_day: u64,
    pub seed: u64,
    pub end: NaiveDate,
    /// how spans are ordered in the files
    pub layout: Layout,
    /// which traces are kept, and the sampling evidence they carry
    /// (SPEC §2.14); `None`: every trace, unsampled
    pub sampling: Option<sampling::Policy>,
    /// batch consumers of every other service receive by span link, in a
    /// trace of their own (SPEC §2.2, [`links`])
    pub links: bool,
}

/// The order of spans in the generated files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Layout {
    /// As the OpenTelemetry Collector's ClickHouse table exports them:
    /// `ORDER BY ServiceName, SpanName, Timestamp` (a trace's spans
    /// scattered through the day), zstd, files of 1 M rows in row groups
    /// of 256 k.
    #[default]
    Clickhouse,
    /// A trace's spans adjacent, Snappy, one file a day.
    Trace,
}

/// What was generated.
#[derive(Debug, Default)]
pub struct GenReport {
    pub spans: u64,
    /// spans of traces a sampling policy dropped (not written)
    pub dropped: u64,
    pub traces: u64,
    pub files: usize,
}

/// A generated span in canonical form.
fn canon(org: &Org, s: GenSpan) -> CanonSpan {
    let service = org.services[s.service as usize].name.clone();
    CanonSpan {
        start_ns: s.start_ns,
        trace_id: format!("{:032x}", s.trace_id),
        span_id: format!("{:016x}", s.span_id),
        parent_span_id: if s.parent_id == 0 { String::new() } else { format!("{:016x}", s.parent_id) },
        name: s.name,
        kind: KIND_NAMES[s.kind as usize],
        resource_attrs: [("service.name".to_string(), service.clone()), ("deployment.environment.name".to_string(), "production".to_string())]
            .into_iter()
            .collect(),
        service,
        scope_name: "ownermap-generator".into(),
        scope_version: "1".into(),
        trace_state: s.trace_state,
        span_attrs: s.attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        duration_ns: s.duration_ns,
        status: STATUS_NAMES[s.status as usize],
        status_message: if s.status == 2 { "request failed".into() } else { String::new() },
        // as OTLP JSON writes them (and `ownermap import` keeps them)
        links: if s.links.is_empty() {
            String::new()
        } else {
            let items: Vec<String> =
                s.links.iter().map(|(t, sp)| format!(r#"{{"traceId":"{t:032x}","spanId":"{sp:016x}"}}"#)).collect();
            format!("[{}]", items.join(","))
        },
        ..Default::default()
    }
}

fn day_path(out: &Path, d: NaiveDate, part: usize) -> PathBuf {
    out.join("spans").join(format!("date={d}")).join(format!("part-{part:05}.parquet"))
}

/// Generates the organisation and writes every input file.
pub fn generate(opt: &GenOptions, mut progress: impl FnMut(NaiveDate, u64)) -> Result<GenReport> {
    let mut rng = Rng::new(opt.seed);
    let org = Org::new(opt.services, &mut rng);
    let mut tg = TraceGen::new(&org, opt.seed.wrapping_add(1));
    // Sampling draws from its own stream: a sampled organisation keeps a
    // subset of the unsampled one's traces.
    let mut sampler = Rng::new(opt.seed.wrapping_add(2));
    let mut report = GenReport::default();
    let start = opt.end - Duration::days(opt.days as i64 - 1);
    let mut carry: Vec<GenSpan> = Vec::new();
    let mut error_traces: Vec<(u128, i64)> = Vec::new();
    let mut buf = Vec::new();
    for di in 0..=opt.days as i64 {
        let day = start + Duration::days(di);
        let day0 = day_start_ns(day);
        let next0 = day_start_ns(day + Duration::days(1));
        let mut w = SpanWriter::create(&day_path(&opt.out, day, 0))?;
        report.files += 1;
        let mut next_carry = Vec::new();
        for s in carry.drain(..) {
            if s.start_ns >= next0 { next_carry.push(s) } else { w.push(canon(&org, s))? }
        }
        // The day after the window only receives spans that crossed midnight.
        let target = if di == opt.days as i64 { 0 } else { opt.spans_per_day };
        let (mut written, mut dropped) = (0u64, 0u64);
        while written < target {
            // Traffic follows the day: busier in the afternoon (UTC).
            let frac = loop {
                let f = tg.rng.f64();
                let weight = 0.6 + 0.4 * (std::f64::consts::PI * f).sin();
                if tg.rng.f64() < weight {
                    break f;
                }
            };
            let t0 = day0 + (frac * 86_400e9) as i64;
            buf.clear();
            tg.trace(t0, &mut buf);
            if buf.iter().any(|s| s.status == 2 && s.parent_id == 0) && error_traces.len() < 200 && tg.rng.chance(0.2) {
                error_traces.push((buf[0].trace_id, t0));
            }
            // After every draw the trace makes: the same organisation with
            // or without links.
            let linked = if opt.links { links::deliver_by_link(&mut buf) } else { 0 };
            if let Some(policy) = &opt.sampling {
                // The day's population counts toward the target, kept or not.
                if !policy.apply(&mut buf, &mut sampler) {
                    written += buf.len() as u64;
                    dropped += buf.len() as u64;
                    buf.clear();
                    continue;
                }
            }
            report.traces += 1 + linked;
            for s in buf.drain(..) {
                written += 1;
                if s.start_ns >= next0 { next_carry.push(s) } else { w.push(canon(&org, s))? }
            }
        }
        w.finish()?;
        if opt.layout == Layout::Clickhouse {
            report.files += clickhouse_order(&opt.out, day)? - 1;
        }
        report.spans += written - dropped;
        report.dropped += dropped;
        carry = next_carry;
        if target > 0 {
            progress(day, written);
        }
    }
    files::write_all(&opt.out, &org, opt, &error_traces, &mut rng)?;
    Ok(report)
}

/// Spans per file and per row group in the ClickHouse layout.
const CH_FILE_ROWS: usize = 1_000_000;
const CH_GROUP_ROWS: usize = 256 * 1024;

/// Rewrites a day's trace-ordered file in ClickHouse export order (sorted
/// with DataFusion, spilling under a 1 GB limit so a 10 M-span day fits);
/// returns the number of files the day now has.
fn clickhouse_order(out: &Path, day: NaiveDate) -> Result<usize> {
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::parquet::basic::{Compression, ZstdLevel};
    use datafusion::parquet::file::properties::WriterProperties;
    use futures::StreamExt;
    let src = day_path(out, day, 0);
    let sorted = src.with_file_name(".sorting.parquet");
    std::fs::rename(&src, &sorted).map_err(|e| crate::error::Error::io(&src, e))?;
    let spill = out.join(".generate-spill");
    let engine = crate::config::EngineConfig {
        url: "local".into(),
        work_dir: spill.clone(),
        memory_limit: Some(1 << 30),
        target_partitions: 2,
        trace_buckets: None,
        job_timeout: std::time::Duration::from_secs(3600),
    };
    let ctx = crate::engine::session(&engine, Some(&spill))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| crate::error::Error::Other(format!("cannot start the async runtime: {e}")))?;
    let files = rt.block_on(async {
        let df = ctx
            .read_parquet(sorted.to_string_lossy().as_ref(), datafusion::prelude::ParquetReadOptions::default())
            .await?;
        ctx.register_table("day", df.into_view())?;
        let df = ctx.sql("SELECT * FROM day ORDER BY \"ServiceName\", \"SpanName\", \"Timestamp\"").await?;
        let mut stream = df.execute_stream().await?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(CH_GROUP_ROWS))
            .build();
        let (mut part, mut rows) = (0usize, 0usize);
        let mut writer: Option<ArrowWriter<std::fs::File>> = None;
        // The canonical types (the engine reads strings as views).
        let schema = crate::canonical::schema();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            let cols = batch
                .columns()
                .iter()
                .zip(schema.fields())
                .map(|(c, f)| datafusion::arrow::compute::cast(c, f.data_type()))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let mut batch = datafusion::arrow::array::RecordBatch::try_new(schema.clone(), cols)?;
            while batch.num_rows() > 0 {
                if writer.is_none() {
                    let path = day_path(out, day, part);
                    let f = std::fs::File::create(&path).map_err(|e| crate::error::Error::io(&path, e))?;
                    writer = Some(ArrowWriter::try_new(f, batch.schema(), Some(props.clone()))?);
                }
                let take = batch.num_rows().min(CH_FILE_ROWS - rows);
                writer.as_mut().expect("opened above").write(&batch.slice(0, take))?;
                rows += take;
                batch = batch.slice(take, batch.num_rows() - take);
                if rows == CH_FILE_ROWS {
                    writer.take().expect("opened above").close()?;
                    part += 1;
                    rows = 0;
                }
            }
        }
        if let Some(w) = writer.take() {
            w.close()?;
            part += 1;
        }
        Ok::<usize, crate::error::Error>(part)
    })?;
    let _ = std::fs::remove_file(&sorted);
    let _ = std::fs::remove_dir_all(&spill);
    if files == 0 {
        // An empty day keeps an empty file, as the trace layout does.
        SpanWriter::create(&day_path(out, day, 0))?.finish()?;
        return Ok(1);
    }
    Ok(files)
}
