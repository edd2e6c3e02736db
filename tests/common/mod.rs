//! Shared test helpers: the one runner of the built binary, hand-made span
//! fixtures written as Parquet, a config around them, the committed
//! fixtures, and easy access to result tables.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use ownermap::config::{Config, Overrides, RawConfig};
use ownermap::datafusion::arrow::array::{Array, 
    ArrayRef, BinaryBuilder, Int64Builder, MapBuilder, RecordBatch, StringBuilder, TimestampNanosecondBuilder,
};
use ownermap::datafusion::arrow::datatypes::{DataType, Field, Schema};
use ownermap::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use ownermap::datafusion::parquet::arrow::ArrowWriter;
use ownermap::table::Table;
use ownermap::run_result::RunResult;

/// 2026-11-20T00:00:00Z in ns: the fixtures' window is 2026-11-20..22.
pub const DAY0: i64 = 1_795_132_800_000_000_000;
pub const MS: i64 = 1_000_000;
pub const DAY: i64 = 86_400_000_000_000;

#[derive(Clone, Debug)]
pub struct S {
    pub trace: &'static str,
    pub id: &'static str,
    pub parent: &'static str,
    pub service: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub status: &'static str,
    pub start: i64,
    pub dur_ms: i64,
    pub attrs: Vec<(&'static str, &'static str)>,
    /// W3C tracestate; the column is written only when a span has one
    pub trace_state: &'static str,
    /// span links (trace id, span id); columns written only when a span has one
    pub links: Vec<(&'static str, &'static str)>,
}

/// How [`write_spans_links`] writes span links (SPEC §1.1).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum LinkForm {
    /// ClickHouse's `Nested` columns: parallel lists `Links.TraceId`, `Links.SpanId`
    Nested,
    /// one `Links` column: a list of structs {TraceId, SpanId}
    Structs,
    /// one `Links` column of OTLP JSON text, as `ownermap import` writes it
    Json,
}

/// A span starting `start_ms` after 2026-11-20T00:00Z.
pub fn span(trace: &'static str, id: &'static str, parent: &'static str, service: &'static str, kind: &'static str, start_ms: i64, dur_ms: i64) -> S {
    S { trace, id, parent, service, name: "op", kind, status: "Unset", start: DAY0 + start_ms * MS, dur_ms, attrs: vec![], trace_state: "", links: vec![] }
}

impl S {
    pub fn err(mut self) -> S {
        self.status = "Error";
        self
    }
    pub fn name(mut self, n: &'static str) -> S {
        self.name = n;
        self
    }
    pub fn attr(mut self, k: &'static str, v: &'static str) -> S {
        self.attrs.push((k, v));
        self
    }
    pub fn state(mut self, trace_state: &'static str) -> S {
        self.trace_state = trace_state;
        self
    }
    pub fn link(mut self, trace: &'static str, span: &'static str) -> S {
        self.links.push((trace, span));
        self
    }
    pub fn at_ns(mut self, ns: i64) -> S {
        self.start = ns;
        self
    }
}

#[derive(Clone, Copy, PartialEq)]
pub enum Ids {
    Hex,
    Binary,
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn map_type() -> DataType {
    let entries = Field::new(
        "entries",
        DataType::Struct(vec![Field::new("keys", DataType::Utf8, false), Field::new("values", DataType::Utf8, true)].into()),
        false,
    );
    DataType::Map(Arc::new(entries), false)
}

/// Writes spans as an otel_traces-shaped Parquet file (kind/status strings).
pub fn write_spans(path: &Path, spans: &[S], ids: Ids) {
    write_spans_styled(path, spans, ids, false)
}

fn kind_int(k: &str) -> i32 {
    match k.to_ascii_uppercase().trim_start_matches("SPAN_KIND_") {
        "INTERNAL" => 1, "SERVER" => 2, "CLIENT" => 3, "PRODUCER" => 4, "CONSUMER" => 5, _ => 0,
    }
}

fn status_int(k: &str) -> i32 {
    match k.to_ascii_uppercase().trim_start_matches("STATUS_CODE_") {
        "OK" => 1, "ERROR" => 2, _ => 0,
    }
}

/// Like [`write_spans`]; with `int_enums` SpanKind/StatusCode are OTLP ints.
pub fn write_spans_styled(path: &Path, spans: &[S], ids: Ids, int_enums: bool) {
    write_spans_full(path, spans, ids, int_enums, LinkForm::Nested)
}

/// [`write_spans`] with span links in the given form.
pub fn write_spans_links(path: &Path, spans: &[S], form: LinkForm) {
    write_spans_full(path, spans, Ids::Hex, false, form)
}

/// The link columns of `spans` in `form`.
fn link_columns(spans: &[S], form: LinkForm) -> Vec<(Field, ArrayRef)> {
    use ownermap::datafusion::arrow::array::{ListBuilder, StructBuilder};
    let list = |f: fn(&(&'static str, &'static str)) -> &'static str| -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for s in spans {
            for l in &s.links {
                b.values().append_value(f(l));
            }
            b.append(true);
        }
        Arc::new(b.finish())
    };
    match form {
        LinkForm::Nested => {
            let t = list(|l| l.0);
            let s = list(|l| l.1);
            vec![
                (Field::new("Links.TraceId", t.data_type().clone(), false), t),
                (Field::new("Links.SpanId", s.data_type().clone(), false), s),
            ]
        }
        LinkForm::Structs => {
            let fields = vec![Field::new("TraceId", DataType::Utf8, true), Field::new("SpanId", DataType::Utf8, true)];
            let mut b = ListBuilder::new(StructBuilder::from_fields(fields, 0));
            for s in spans {
                for (t, sp) in &s.links {
                    let st = b.values();
                    st.field_builder::<StringBuilder>(0).unwrap().append_value(t);
                    st.field_builder::<StringBuilder>(1).unwrap().append_value(sp);
                    st.append(true);
                }
                b.append(true);
            }
            let a: ArrayRef = Arc::new(b.finish());
            vec![(Field::new("Links", a.data_type().clone(), true), a)]
        }
        LinkForm::Json => {
            let a: ArrayRef = Arc::new(ownermap::datafusion::arrow::array::StringArray::from_iter_values(spans.iter().map(|s| {
                let items: Vec<String> =
                    s.links.iter().map(|(t, sp)| format!(r#"{{"traceId":"{t}","spanId":"{sp}","attributes":[]}}"#)).collect();
                format!("[{}]", items.join(","))
            })));
            vec![(Field::new("Links", DataType::Utf8, false), a)]
        }
    }
}

fn write_spans_full(path: &Path, spans: &[S], ids: Ids, int_enums: bool, links: LinkForm) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let id_type = if ids == Ids::Hex { DataType::Utf8 } else { DataType::Binary };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Timestamp", DataType::Timestamp(ownermap::datafusion::arrow::datatypes::TimeUnit::Nanosecond, Some("UTC".into())), false),
        Field::new("TraceId", id_type.clone(), false),
        Field::new("SpanId", id_type.clone(), false),
        Field::new("ParentSpanId", id_type, true),
        Field::new("SpanName", DataType::Utf8, false),
        Field::new("SpanKind", if int_enums { DataType::Int32 } else { DataType::Utf8 }, false),
        Field::new("ServiceName", DataType::Utf8, false),
        Field::new("Duration", DataType::Int64, false),
        Field::new("StatusCode", if int_enums { DataType::Int32 } else { DataType::Utf8 }, false),
        Field::new("SpanAttributes", map_type(), true),
    ]));
    let mut ts = TimestampNanosecondBuilder::new().with_timezone("UTC");
    let mut name = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut kind_i = ownermap::datafusion::arrow::array::Int32Builder::new();
    let mut status_i = ownermap::datafusion::arrow::array::Int32Builder::new();
    let mut svc = StringBuilder::new();
    let mut dur = Int64Builder::new();
    let mut status = StringBuilder::new();
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let id_col = |f: &dyn Fn(&S) -> &str| -> ArrayRef {
        match ids {
            Ids::Hex => {
                let mut b = StringBuilder::new();
                for s in spans {
                    b.append_value(f(s));
                }
                Arc::new(b.finish())
            }
            Ids::Binary => {
                let mut b = BinaryBuilder::new();
                for s in spans {
                    b.append_value(hex_bytes(f(s)));
                }
                Arc::new(b.finish())
            }
        }
    };
    let tid = id_col(&|s| s.trace);
    let sid = id_col(&|s| s.id);
    let pid = id_col(&|s| s.parent);
    for s in spans {
        ts.append_value(s.start);
        name.append_value(s.name);
        kind.append_value(s.kind);
        kind_i.append_value(kind_int(s.kind));
        status_i.append_value(status_int(s.status));
        svc.append_value(s.service);
        dur.append_value(s.dur_ms * MS);
        status.append_value(s.status);
        for (k, v) in &s.attrs {
            attrs.keys().append_value(k);
            attrs.values().append_value(v);
        }
        attrs.append(true).unwrap();
    }
    let attrs = attrs.finish();
    let attrs = ownermap::datafusion::arrow::array::make_array(attrs.to_data().into_builder().data_type(map_type()).build().unwrap());
    let cols: Vec<ArrayRef> = vec![
        Arc::new(ts.finish()), tid, sid, pid, Arc::new(name.finish()),
        if int_enums { Arc::new(kind_i.finish()) } else { Arc::new(kind.finish()) },
        Arc::new(svc.finish()),
        Arc::new(dur.finish()),
        if int_enums { Arc::new(status_i.finish()) } else { Arc::new(status.finish()) },
        attrs,
    ];
    let (schema, cols) = if spans.iter().any(|s| !s.trace_state.is_empty()) {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields.push(Field::new("TraceState", DataType::Utf8, false));
        let states: ArrayRef = Arc::new(ownermap::datafusion::arrow::array::StringArray::from_iter_values(spans.iter().map(|s| s.trace_state)));
        (Arc::new(Schema::new(fields)), cols.into_iter().chain([states]).collect())
    } else {
        (schema, cols)
    };
    let (schema, cols) = if spans.iter().any(|s| !s.links.is_empty()) {
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        let mut cols = cols;
        for (f, c) in link_columns(spans, links) {
            fields.push(f);
            cols.push(c);
        }
        (Arc::new(Schema::new(fields)), cols)
    } else {
        (schema, cols)
    };
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A config for `dir` with spans under `dir/spans`, window 2026-11-20..22.
pub fn config(dir: &Path, extra: &str) -> Config {
    config_with(dir, "", extra)
}

/// [`config`] with more `[spans]` keys (`spans_keys`, TOML lines).
pub fn config_with(dir: &Path, spans_keys: &str, extra: &str) -> Config {
    let text = format!("[spans]\npath = \"spans\"\n{spans_keys}\n[window]\nend = \"2026-11-22\"\ndays = 3\n{extra}");
    let raw: RawConfig = toml::from_str(&text).unwrap();
    Config::from_raw(raw, dir, &Overrides::default()).unwrap()
}

/// A 7-day window ending `end` over `dir/spans`.
pub fn week_config(dir: &Path, end: &str) -> Config {
    let text = format!("[spans]\npath = \"spans\"\n[window]\nend = \"{end}\"\ndays = 7\n");
    let raw: RawConfig = toml::from_str(&text).unwrap();
    Config::from_raw(raw, dir, &Overrides::default()).unwrap()
}

pub fn run(cfg: &Config) -> RunResult {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(ownermap::pipeline::run_config(cfg)).unwrap()
}

/// A table's rows as column → display string (full precision, NULL = "").
pub fn rows(t: &Table) -> Vec<BTreeMap<String, String>> {
    let opts = FormatOptions::default().with_null("");
    let mut out = Vec::new();
    for b in &t.batches {
        let fmts: Vec<_> = b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).unwrap()).collect();
        for i in 0..b.num_rows() {
            let mut m = BTreeMap::new();
            for (f, field) in fmts.iter().zip(t.schema.fields()) {
                m.insert(field.name().clone(), f.value(i).to_string());
            }
            out.push(m);
        }
    }
    out
}

pub fn table<'a>(r: &'a RunResult, name: &str) -> &'a Table {
    &r.tables.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no table {name}")).1
}

/// The rows of `name` whose columns equal the given values.
pub fn find(r: &RunResult, name: &str, key: &[(&str, &str)]) -> Vec<BTreeMap<String, String>> {
    rows(table(r, name)).into_iter().filter(|row| key.iter().all(|(k, v)| row.get(*k).map(String::as_str) == Some(*v))).collect()
}

pub fn one(r: &RunResult, name: &str, key: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut v = find(r, name, key);
    assert_eq!(v.len(), 1, "expected one row of {name} for {key:?}, got {v:?}");
    v.remove(0)
}

pub fn f(row: &BTreeMap<String, String>, col: &str) -> f64 {
    row[col].parse().unwrap_or_else(|_| panic!("{col} = {:?} is not a number", row[col]))
}

/// A seeded generated organisation (`ownermap generate`) ending 2026-11-22.
#[allow(dead_code)]
pub fn generated(services: usize, days: u32, spans_per_day: u64, seed: u64) -> tempfile::TempDir {
    generated_with(services, days, spans_per_day, seed, false)
}

/// [`generated`]; `links`: batch consumers receive by span link (`generate --links`).
#[allow(dead_code)]
pub fn generated_with(services: usize, days: u32, spans_per_day: u64, seed: u64, links: bool) -> tempfile::TempDir {
    let dir = tmp();
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let opt = ownermap::generate::GenOptions { out: dir.path().to_path_buf(), services, days, spans_per_day, seed, end, layout: Default::default(), sampling: None, links };
    ownermap::generate::generate(&opt, |_, _| {}).unwrap();
    dir
}

/// Every file under `dir`, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

pub fn spans_path(dir: &Path, name: &str) -> PathBuf {
    dir.join("spans").join(name)
}

pub mod reference;

/// Runs the built `ownermap` binary with `args` and extra environment
/// variables (logging at warn), and waits for it.
pub fn ownermap_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ownermap"));
    c.args(args).env("OWNERMAP_LOG", "warn");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// Runs the built `ownermap` binary with `args` and waits for it.
pub fn ownermap(args: &[&str]) -> Output {
    ownermap_env(args, &[])
}

/// What a run of the binary wrote on stderr.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `dir/ownermap.toml` reading spans from `dir/spans`, the window
/// the three days ending 2026-11-22, then `extra`; returns its path.
pub fn write_config(dir: &Path, extra: &str) -> String {
    let p = dir.join("ownermap.toml");
    std::fs::write(&p, format!("[spans]\npath = \"spans\"\n[window]\nend = \"2026-11-22\"\ndays = 3\n{extra}")).unwrap();
    p.display().to_string()
}

/// A committed file of the repository (`tests/fixtures/…`, `sample-data/…`).
pub fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// A committed fixture under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    repo_file("tests/fixtures").join(name)
}

/// One trace on 2026-11-20 under `dir/spans`: a's Server root (100 ms)
/// calls b through a's Client span (a → b, one call, 40 ms on b).
pub fn one_call_spans(dir: &Path) {
    let t1 = "aa000000000000000000000000000001";
    write_spans(
        &spans_path(dir, "date=2026-11-20/a.parquet"),
        &[
            span(t1, "0000000000000101", "", "a", "Server", 0, 100),
            span(t1, "0000000000000102", "0000000000000101", "a", "Client", 10, 50),
            span(t1, "0000000000000103", "0000000000000102", "b", "Server", 15, 40),
        ],
        Ids::Hex,
    );
}

/// [`one_call_spans`] with a catalog giving `a` to team `front` and `b` to
/// team `back`; returns the config's path.
pub fn front_back_org(dir: &Path) -> String {
    one_call_spans(dir);
    std::fs::write(dir.join("catalog.yaml"), "- name: a\n  team: front\n- name: b\n  team: back\n").unwrap();
    write_config(dir, "[catalog]\npath = \"catalog.yaml\"\n")
}

/// A CSV file's rows as column → value (the outputs under `data/`).
pub fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records().map(|rec| h.iter().cloned().zip(rec.unwrap().iter().map(str::to_string)).collect()).collect()
}
