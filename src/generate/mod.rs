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
pub mod traces;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use datafusion::arrow::array::{ArrayRef, Int64Builder, MapBuilder, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

use crate::config::day_start_ns;
use crate::error::{Error, Result};
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
}

/// What was generated.
#[derive(Debug, Default)]
pub struct GenReport {
    pub spans: u64,
    pub traces: u64,
    pub files: usize,
}

const BATCH_ROWS: usize = 65_536;

fn map_field(name: &str) -> Field {
    let entries = Field::new(
        "entries",
        DataType::Struct(
            vec![Field::new("keys", DataType::Utf8, false), Field::new("values", DataType::Utf8, true)].into(),
        ),
        false,
    );
    Field::new(name, DataType::Map(Arc::new(entries), false), true)
}

/// The `otel_traces` columns this generator writes.
pub fn otel_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("Timestamp", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), false),
        Field::new("TraceId", DataType::Utf8, false),
        Field::new("SpanId", DataType::Utf8, false),
        Field::new("ParentSpanId", DataType::Utf8, false),
        Field::new("TraceState", DataType::Utf8, false),
        Field::new("SpanName", DataType::Utf8, false),
        Field::new("SpanKind", DataType::Utf8, false),
        Field::new("ServiceName", DataType::Utf8, false),
        map_field("ResourceAttributes"),
        Field::new("ScopeName", DataType::Utf8, false),
        Field::new("ScopeVersion", DataType::Utf8, false),
        map_field("SpanAttributes"),
        Field::new("Duration", DataType::Int64, false),
        Field::new("StatusCode", DataType::Utf8, false),
        Field::new("StatusMessage", DataType::Utf8, false),
    ]))
}

/// Buffers spans and writes them as `otel_traces` record batches.
struct SpanWriter<'a> {
    org: &'a Org,
    writer: ArrowWriter<File>,
    buf: Vec<GenSpan>,
}

impl<'a> SpanWriter<'a> {
    fn create(org: &'a Org, path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let f = File::create(path).map_err(|e| Error::io(path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(256 * 1024))
            .build();
        let writer = ArrowWriter::try_new(f, otel_schema(), Some(props))?;
        Ok(SpanWriter { org, writer, buf: Vec::with_capacity(BATCH_ROWS) })
    }

    fn push(&mut self, s: GenSpan) -> Result<()> {
        self.buf.push(s);
        if self.buf.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let batch = spans_to_batch(self.org, &self.buf)?;
        self.writer.write(&batch)?;
        self.buf.clear();
        Ok(())
    }

    fn close(mut self) -> Result<()> {
        self.flush()?;
        self.writer.close()?;
        Ok(())
    }
}

fn spans_to_batch(org: &Org, spans: &[GenSpan]) -> Result<RecordBatch> {
    let n = spans.len();
    let mut ts = TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut tid = StringBuilder::with_capacity(n, n * 32);
    let mut sid = StringBuilder::with_capacity(n, n * 16);
    let mut pid = StringBuilder::with_capacity(n, n * 16);
    let mut state = StringBuilder::new();
    let mut name = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut svc = StringBuilder::new();
    let mut res = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut scope = StringBuilder::new();
    let mut scope_v = StringBuilder::new();
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut dur = Int64Builder::with_capacity(n);
    let mut status = StringBuilder::new();
    let mut msg = StringBuilder::new();
    for s in spans {
        ts.append_value(s.start_ns);
        tid.append_value(format!("{:032x}", s.trace_id));
        sid.append_value(format!("{:016x}", s.span_id));
        if s.parent_id == 0 { pid.append_value("") } else { pid.append_value(format!("{:016x}", s.parent_id)) }
        state.append_value("");
        name.append_value(&s.name);
        kind.append_value(KIND_NAMES[s.kind as usize]);
        svc.append_value(&org.services[s.service as usize].name);
        res.keys().append_value("service.name");
        res.values().append_value(&org.services[s.service as usize].name);
        res.keys().append_value("deployment.environment.name");
        res.values().append_value("production");
        res.append(true)?;
        scope.append_value("ownermap-generator");
        scope_v.append_value("1");
        for (k, v) in &s.attrs {
            attrs.keys().append_value(k);
            attrs.values().append_value(v);
        }
        attrs.append(true)?;
        dur.append_value(s.duration_ns);
        status.append_value(STATUS_NAMES[s.status as usize]);
        msg.append_value(if s.status == 2 { "request failed" } else { "" });
    }
    let cols: Vec<ArrayRef> = vec![
        Arc::new(ts.finish()),
        Arc::new(tid.finish()),
        Arc::new(sid.finish()),
        Arc::new(pid.finish()),
        Arc::new(state.finish()),
        Arc::new(name.finish()),
        Arc::new(kind.finish()),
        Arc::new(svc.finish()),
        Arc::new(res.finish()),
        Arc::new(scope.finish()),
        Arc::new(scope_v.finish()),
        Arc::new(attrs.finish()),
        Arc::new(dur.finish()),
        Arc::new(status.finish()),
        Arc::new(msg.finish()),
    ];
    // The map builders name their fields differently; cast by position.
    let schema = otel_schema();
    let cols = cols
        .into_iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c)
            } else {
                let data = c.to_data().into_builder().data_type(f.data_type().clone()).build()?;
                Ok(datafusion::arrow::array::make_array(data))
            }
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(RecordBatch::try_new(schema, cols)?)
}

fn day_path(out: &Path, d: NaiveDate, part: usize) -> PathBuf {
    out.join("spans").join(format!("date={d}")).join(format!("part-{part:05}.parquet"))
}

/// Generates the organisation and writes every input file.
pub fn generate(opt: &GenOptions, mut progress: impl FnMut(NaiveDate, u64)) -> Result<GenReport> {
    let mut rng = Rng::new(opt.seed);
    let org = Org::new(opt.services, &mut rng);
    let mut tg = TraceGen::new(&org, opt.seed.wrapping_add(1));
    let mut report = GenReport::default();
    let start = opt.end - Duration::days(opt.days as i64 - 1);
    let mut carry: Vec<GenSpan> = Vec::new();
    let mut error_traces: Vec<(u128, i64)> = Vec::new();
    let mut buf = Vec::new();
    for di in 0..=opt.days as i64 {
        let day = start + Duration::days(di);
        let day0 = day_start_ns(day);
        let next0 = day_start_ns(day + Duration::days(1));
        let mut w = SpanWriter::create(&org, &day_path(&opt.out, day, 0))?;
        report.files += 1;
        let mut next_carry = Vec::new();
        for s in carry.drain(..) {
            if s.start_ns >= next0 { next_carry.push(s) } else { w.push(s)? }
        }
        // The day after the window only receives spans that crossed midnight.
        let target = if di == opt.days as i64 { 0 } else { opt.spans_per_day };
        let mut written = 0u64;
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
            report.traces += 1;
            if buf.iter().any(|s| s.status == 2 && s.parent_id == 0) && error_traces.len() < 200 && tg.rng.chance(0.2) {
                error_traces.push((buf[0].trace_id, t0));
            }
            for s in buf.drain(..) {
                written += 1;
                if s.start_ns >= next0 { next_carry.push(s) } else { w.push(s)? }
            }
        }
        w.close()?;
        report.spans += written;
        carry = next_carry;
        if target > 0 {
            progress(day, written);
        }
    }
    files::write_all(&opt.out, &org, opt, &error_traces, &mut rng)?;
    Ok(report)
}
