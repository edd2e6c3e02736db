//! The `run` pipeline: inputs → window → analyses → tables. Each stage is
//! timed for `summary.json`; the caller decides where the tables go.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::analysis::{edges, latency, window};
use crate::config::Config;
use crate::engine::{self, Table};
use crate::error::Result;
use crate::input::{catalog, spans};

/// One timed stage.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub stage: String,
    pub seconds: f64,
}

/// The run's figures (SPEC §3 `summary.json`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub window_start: String,
    pub window_end: String,
    pub window_days: u32,
    pub spans_read: i64,
    pub spans_in_window: i64,
    pub traces: i64,
    pub files_read: usize,
    pub files_pruned: usize,
    pub files_skipped: Vec<spans::SkippedFile>,
    pub bytes_read: u64,
    pub unresolved_calls: i64,
    pub duplicate_span_ids: i64,
    pub rows_skipped: std::collections::BTreeMap<String, usize>,
    pub problems: Vec<String>,
    pub stages: Vec<Stage>,
    pub wall_seconds: f64,
}

impl Summary {
    /// Whether any input was skipped (exit code 3).
    pub fn skipped_input(&self) -> bool {
        !self.files_skipped.is_empty() || self.rows_skipped.values().any(|n| *n > 0)
    }
}

/// Reports stage progress (a terminal bar or log lines).
pub trait Progress {
    fn stage(&self, name: &str);
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {
    fn stage(&self, _name: &str) {}
}

/// Everything a run produced.
pub struct RunResult {
    pub tables: Vec<(&'static str, Table)>,
    pub summary: Summary,
    pub catalog: catalog::Catalog,
}

struct Timer {
    stages: Vec<Stage>,
    last: Instant,
}

impl Timer {
    fn new() -> Self {
        Timer { stages: vec![], last: Instant::now() }
    }
    fn done(&mut self, name: &str) {
        let now = Instant::now();
        self.stages.push(Stage { stage: name.into(), seconds: (now - self.last).as_secs_f64() });
        self.last = now;
    }
}

/// Registers the `owners` table (service → team; team NULL when the entry
/// names none) from the catalog.
pub fn register_owners(ctx: &SessionContext, cat: &catalog::Catalog) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("service", DataType::Utf8, false),
        Field::new("team", DataType::Utf8, true),
    ]));
    let services: StringArray = cat.entries.iter().map(|e| Some(e.name.as_str())).collect();
    let teams: StringArray = cat.entries.iter().map(|e| e.team.as_deref()).collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(services), Arc::new(teams)])?;
    ctx.deregister_table("owners")?;
    ctx.register_table("owners", Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))?;
    Ok(())
}

/// Runs the analyses for a config on a session.
pub async fn run(cfg: &Config, ctx: &SessionContext, progress: &dyn Progress) -> Result<RunResult> {
    let started = Instant::now();
    let mut t = Timer::new();
    let mut summary = Summary {
        window_start: cfg.window.start().to_string(),
        window_end: cfg.window.end.to_string(),
        window_days: cfg.window.days,
        ..Default::default()
    };

    progress.stage("reading inputs");
    let cat = catalog::read(&cfg.catalog)?;
    summary.rows_skipped.insert("catalog".into(), cat.skipped);
    summary.problems.extend(cat.problems.iter().cloned());
    register_owners(ctx, &cat)?;
    let reg = spans::register(ctx, &cfg.spans, &cfg.window).await?;
    summary.files_read = reg.files.read.len();
    summary.files_pruned = reg.files.pruned;
    summary.bytes_read = reg.files.bytes;
    summary.files_skipped = reg.files.skipped.clone();
    t.done("inputs");

    progress.stage("scanning spans");
    let counts = window::build(ctx, &cfg.window).await?;
    summary.spans_read = counts.spans_read;
    summary.spans_in_window = counts.spans_in_window;
    summary.traces = counts.traces;
    summary.duplicate_span_ids = counts.duplicate_span_ids;
    t.done("scan");

    progress.stage("dependency edges");
    summary.unresolved_calls = edges::daily(ctx).await?;
    t.done("edges");

    progress.stage("latency percentiles");
    latency::daily(ctx).await?;
    t.done("latency");

    progress.stage("weekly tables");
    let [services, operations, service_daily] = latency::weekly(ctx).await?;
    let edges = edges::weekly(ctx).await?;
    t.done("tables");

    summary.stages = t.stages;
    summary.wall_seconds = started.elapsed().as_secs_f64();
    Ok(RunResult {
        tables: vec![
            ("services", services),
            ("operations", operations),
            ("edges", edges),
            ("service_daily", service_daily),
        ],
        summary,
        catalog: cat,
    })
}

/// Convenience for tests and tools: a session from the config, then [`run`].
pub async fn run_config(cfg: &Config) -> Result<RunResult> {
    let ctx = engine::session(&cfg.engine, Some(&cfg.state_dir.join("spill")))?;
    run(cfg, &ctx, &Quiet).await
}
