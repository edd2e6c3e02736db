//! The canonical span table (SPEC §1.1, the Collector's `otel_traces`
//! columns) as Rust values, and a streaming Parquet writer for it. The
//! generator and every importer write through [`SpanWriter`], so there is one
//! definition of the canonical file.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Builder, MapBuilder, RecordBatch, StringBuilder, TimestampNanosecondBuilder};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

use crate::error::{Error, Result};

/// One span in canonical form. Ids are lowercase hex ("" = no parent);
/// `kind` is `Server`/`Client`/…; `status` is `Unset`/`Ok`/`Error`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CanonSpan {
    pub start_ns: i64,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub trace_state: String,
    pub name: String,
    pub kind: &'static str,
    pub service: String,
    pub resource_attrs: BTreeMap<String, String>,
    pub scope_name: String,
    pub scope_version: String,
    pub span_attrs: BTreeMap<String, String>,
    pub duration_ns: i64,
    pub status: &'static str,
    pub status_message: String,
    /// events and links as JSON text (links are read, SPEC §2.2)
    pub events: String,
    pub links: String,
}

/// Canonical column names (SPEC §1.1), in table order.
pub const CANONICAL_COLUMNS: &[&str] = &[
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "Duration",
    "StatusCode",
    "SpanAttributes",
    "ResourceAttributes",
];

/// The other names a canonical column is found under (case-insensitive),
/// as OTLP-derived and hand-written exports spell them.
pub fn column_aliases(canonical: &str) -> &'static [&'static str] {
    match canonical {
        "Timestamp" => &["start_time_unix_nano", "start_time"],
        "TraceId" => &["trace_id"],
        "SpanId" => &["span_id"],
        "ParentSpanId" => &["parent_span_id"],
        "SpanName" => &["name", "operation_name"],
        "SpanKind" => &["kind"],
        "ServiceName" => &["service_name"],
        "Duration" => &["duration_nano", "duration_ns"],
        "StatusCode" => &["status_code"],
        "SpanAttributes" => &["attributes"],
        "ResourceAttributes" => &["resource_attributes"],
        _ => &[],
    }
}

/// A span file skipped, and why.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedFile {
    pub path: String,
    pub reason: String,
}


/// OpenTelemetry span kinds as the normalised `kind` column holds them
/// (the OTLP enum, §1.1).
pub mod kind {
    pub const UNSPECIFIED: i64 = 0;
    pub const INTERNAL: i64 = 1;
    pub const SERVER: i64 = 2;
    pub const CLIENT: i64 = 3;
    pub const PRODUCER: i64 = 4;
    pub const CONSUMER: i64 = 5;
}

pub const KINDS: [&str; 6] = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"];
pub const STATUSES: [&str; 3] = ["Unset", "Ok", "Error"];

/// A kind name from an OTLP enum value or any spelling (`SPAN_KIND_SERVER`,
/// `server`); unknown → `Unspecified`.
pub fn kind_name(s: &str) -> &'static str {
    let u = s.trim().to_ascii_uppercase();
    let u = u.trim_start_matches("SPAN_KIND_");
    match u {
        "1" | "INTERNAL" => KINDS[1],
        "2" | "SERVER" => KINDS[2],
        "3" | "CLIENT" => KINDS[3],
        "4" | "PRODUCER" => KINDS[4],
        "5" | "CONSUMER" => KINDS[5],
        _ => KINDS[0],
    }
}

fn map_field(name: &str) -> Field {
    let entries = Field::new(
        "entries",
        DataType::Struct(vec![Field::new("keys", DataType::Utf8, false), Field::new("values", DataType::Utf8, true)].into()),
        false,
    );
    Field::new(name, DataType::Map(Arc::new(entries), false), true)
}

/// The canonical Parquet schema.
pub fn schema() -> SchemaRef {
    let s = |n: &str| Field::new(n, DataType::Utf8, false);
    Arc::new(Schema::new(vec![
        Field::new("Timestamp", DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())), false),
        s("TraceId"),
        s("SpanId"),
        s("ParentSpanId"),
        s("TraceState"),
        s("SpanName"),
        s("SpanKind"),
        s("ServiceName"),
        map_field("ResourceAttributes"),
        s("ScopeName"),
        s("ScopeVersion"),
        map_field("SpanAttributes"),
        Field::new("Duration", DataType::Int64, false),
        s("StatusCode"),
        s("StatusMessage"),
        s("Events"),
        s("Links"),
    ]))
}

fn batch(spans: &[CanonSpan]) -> Result<RecordBatch> {
    let n = spans.len();
    let mut ts = TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC");
    let mut strs: Vec<StringBuilder> = (0..13).map(|_| StringBuilder::new()).collect();
    let mut res = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut dur = Int64Builder::with_capacity(n);
    for s in spans {
        ts.append_value(s.start_ns);
        for (b, v) in strs.iter_mut().zip([
            &s.trace_id,
            &s.span_id,
            &s.parent_span_id,
            &s.trace_state,
            &s.name,
            s.kind,
            &s.service,
            &s.scope_name,
            &s.scope_version,
            s.status,
            &s.status_message,
            &s.events,
            &s.links,
        ] as [&str; 13])
        {
            b.append_value(v);
        }
        for (m, kv) in [(&mut res, &s.resource_attrs), (&mut attrs, &s.span_attrs)] {
            for (k, v) in kv {
                m.keys().append_value(k);
                m.values().append_value(v);
            }
            m.append(true)?;
        }
        dur.append_value(s.duration_ns);
    }
    let mut st: Vec<ArrayRef> = strs.into_iter().map(|mut b| Arc::new(b.finish()) as ArrayRef).collect();
    let mut next = || st.remove(0);
    let cols: Vec<ArrayRef> = vec![
        Arc::new(ts.finish()),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        Arc::new(res.finish()),
        next(),
        next(),
        Arc::new(attrs.finish()),
        Arc::new(dur.finish()),
        next(),
        next(),
        next(),
        next(),
    ];
    // The map builders name their entry fields differently; retype by position.
    let schema = schema();
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

const BATCH_ROWS: usize = 65_536;

/// Streams canonical spans into a Parquet file, written aside and renamed
/// into place on [`SpanWriter::finish`] (nothing half-written is left).
pub struct SpanWriter {
    writer: ArrowWriter<File>,
    buf: Vec<CanonSpan>,
    tmp: PathBuf,
    target: PathBuf,
    pub written: u64,
}

impl SpanWriter {
    pub fn create(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("spans.parquet");
        let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
        let f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(256 * 1024))
            .build();
        let writer = ArrowWriter::try_new(f, schema(), Some(props))?;
        Ok(SpanWriter { writer, buf: Vec::with_capacity(BATCH_ROWS), tmp, target: path.to_path_buf(), written: 0 })
    }

    pub fn push(&mut self, s: CanonSpan) -> Result<()> {
        self.buf.push(s);
        if self.buf.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.writer.write(&batch(&self.buf)?)?;
            self.written += self.buf.len() as u64;
            self.buf.clear();
        }
        Ok(())
    }

    /// Closes the file and moves it into place; returns spans written.
    pub fn finish(mut self) -> Result<u64> {
        self.flush()?;
        self.writer.finish()?;
        std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        Ok(self.written)
    }
}

/// Reads a canonical Parquet file back (round-trip checks, tools).
pub fn read_parquet(path: &Path) -> Result<Vec<CanonSpan>> {
    use datafusion::arrow::array::{Array, AsArray, MapArray};
    use datafusion::arrow::datatypes::{Int64Type, TimestampNanosecondType};
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let reader = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f)?.build()?;
    let intern = |v: &str, names: &[&'static str]| names.iter().copied().find(|n| *n == v).unwrap_or(names[0]);
    let mut out = vec![];
    for b in reader {
        let b = b?;
        let s = |n: &str| b.column_by_name(n).expect("canonical column").as_string::<i32>().clone();
        let map = |m: &MapArray, i: usize| -> BTreeMap<String, String> {
            let e = m.value(i);
            let (k, v) = (e.column(0).as_string::<i32>(), e.column(1).as_string::<i32>());
            (0..e.len()).map(|j| (k.value(j).to_string(), v.value(j).to_string())).collect()
        };
        let ts = b.column_by_name("Timestamp").expect("Timestamp").as_primitive::<TimestampNanosecondType>().clone();
        let dur = b.column_by_name("Duration").expect("Duration").as_primitive::<Int64Type>().clone();
        let (ra, sa) = (b.column_by_name("ResourceAttributes").expect("map").as_map().clone(), b.column_by_name("SpanAttributes").expect("map").as_map().clone());
        let cols = ["TraceId", "SpanId", "ParentSpanId", "TraceState", "SpanName", "SpanKind", "ServiceName", "ScopeName", "ScopeVersion", "StatusCode", "StatusMessage", "Events", "Links"].map(s);
        for i in 0..b.num_rows() {
            let v = |k: usize| cols[k].value(i).to_string();
            out.push(CanonSpan {
                start_ns: ts.value(i),
                trace_id: v(0),
                span_id: v(1),
                parent_span_id: v(2),
                trace_state: v(3),
                name: v(4),
                kind: intern(cols[5].value(i), &KINDS),
                service: v(6),
                resource_attrs: map(&ra, i),
                scope_name: v(7),
                scope_version: v(8),
                span_attrs: map(&sa, i),
                duration_ns: dur.value(i),
                status: intern(cols[9].value(i), &STATUSES),
                status_message: v(10),
                events: v(11),
                links: v(12),
            });
        }
    }
    Ok(out)
}

impl Drop for SpanWriter {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}
