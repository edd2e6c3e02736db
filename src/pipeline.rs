//! The `run` pipeline: inputs → window → analyses → tables. Each stage is
//! timed for `summary.json`; the caller decides where the tables go.

use std::sync::Arc;
use std::time::Instant;

use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemTable;
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::analysis::{attribution, docs, edges, graph, history, latency, load, rotation, slo, window};
use crate::config::Config;
use crate::engine::{self, Table};
use crate::error::Result;
use crate::input::{catalog, incidents, spans, teams};
use crate::model::Org;

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
    /// buckets of hash(TraceId) the window was processed in
    pub trace_buckets: usize,
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
    pub org: Org,
    pub edges: Vec<graph::Edge>,
    pub verdicts: Vec<rotation::Verdict>,
    pub plans: Vec<rotation::Split>,
    pub derived: std::collections::BTreeMap<String, slo::Target>,
    /// team → (checks passed, checks) over its catalog entries
    pub docs_scores: std::collections::BTreeMap<String, (usize, usize)>,
    /// the ISO week this run is filed under in the history
    pub week: String,
    pub window: crate::config::Window,
    pub max_pages_per_12h: f64,
}

impl RunResult {
    /// A result table by name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|(n, _)| *n == name).map(|(_, t)| t)
    }
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
    let org = read_org(cfg, &mut summary)?;
    register_owners(ctx, &org.catalog)?;
    let files = spans::register(ctx, &cfg.spans, &cfg.window).await?;
    summary.files_read = files.read.len();
    summary.files_pruned = files.pruned;
    summary.bytes_read = files.bytes;
    summary.files_skipped = files.skipped.clone();
    t.done("inputs");

    // Traces are processed in buckets of hash(TraceId) when the window is
    // too big for the memory limit: every per-trace stage yields partials
    // that merge by concatenation, so the tables do not depend on k.
    let k = trace_buckets(cfg, files.rows);
    summary.trace_buckets = k;
    slo::prepare(ctx, &org)?;
    let mut counts = window::WindowCounts::default();
    let mut found = vec![];
    let mut partials = Partials::default();
    let shuffle_dir = cfg.state_dir.join("spill").join(format!("buckets-{}", std::process::id()));
    let buckets = if k > 1 {
        progress.stage(&format!("splitting spans into {k} buckets"));
        let b = window::shuffle(ctx, &cfg.window, k, &shuffle_dir).await?;
        t.done("shuffle");
        b
    } else {
        vec![]
    };
    for b in 0..k {
        progress.stage(&if k > 1 { format!("scanning spans (bucket {} of {k})", b + 1) } else { "scanning spans".into() });
        counts += window::build(ctx, &cfg.window, buckets.get(b).map(|p| p.as_path())).await?;
        t.done("scan");
        progress.stage("dependency edges");
        summary.unresolved_calls += edges::daily(ctx).await?;
        t.done("edges");
        progress.stage("latency percentiles");
        latency::daily(ctx).await?;
        t.done("latency");
        progress.stage("error attribution");
        found.extend(attribution::attribute(ctx).await?);
        t.done("attribution");
        progress.stage("SLOs");
        slo::daily(ctx).await?;
        t.done("slos");
        if k > 1 {
            partials.take(ctx).await?;
        }
    }
    if k > 1 {
        partials.register(ctx)?;
        let _ = std::fs::remove_dir_all(&shuffle_dir);
    }
    summary.spans_read = counts.spans_read;
    summary.spans_in_window = counts.spans_in_window;
    summary.traces = counts.traces;
    summary.duplicate_span_ids = counts.duplicate_span_ids;

    progress.stage("weekly tables");
    let [services, operations, service_daily] = latency::weekly(ctx).await?;
    let edges = edges::weekly(ctx).await?;
    t.done("tables");

    progress.stage("ownership analytics");
    let edge_list = graph::edges_from_table(&edges);
    let att = attribution::tables(&org, &found, &org.incidents)?;
    let slos = slo::slos(ctx, &org).await?;
    let (derived_t, derived) = slo::derived(ctx, &org, &edge_list).await?;
    t.done("ownership");
    let team_load = load::team_load(&org, &cfg.window)?;
    let (verdicts_t, verdicts) = rotation::verdicts(&org, cfg, &edge_list)?;
    let (plans_t, plans) = rotation::split_plans(&org, cfg, &edge_list, &verdicts)?;
    t.done("load");
    let svc_requests: Vec<(String, i64)> = {
        use crate::table::read;
        read::strs(&services, "service").into_iter().zip(read::i64s(&services, "requests"))
            .map(|(s, r)| (s.unwrap_or_default(), r.unwrap_or(0))).collect()
    };
    let docs_t = docs::docs_tables(&org, cfg.window.end, cfg.docs.max_review_age_days, &svc_requests, &edge_list)?;
    let week = history::run_week(&cfg.window);
    let previous = history::previous_edges(&cfg.state_dir, &week)?;
    let edge_diff = history::edge_diff(&edge_list, previous.as_ref().map(|(_, e)| e.as_slice()))?;
    let team_graph = graph::team_graph(&edge_list)?;
    t.done("docs_history");

    summary.stages = t.stages;
    summary.wall_seconds = started.elapsed().as_secs_f64();
    Ok(RunResult {
        tables: vec![
            ("services", services),
            ("operations", operations),
            ("edges", edges),
            ("service_daily", service_daily),
            ("team_graph", team_graph),
            ("edge_diff", edge_diff),
            ("attribution", att.attribution),
            ("team_errors", att.team_errors),
            ("misrouted", att.misrouted),
            ("slos", slos),
            ("derived_slos", derived_t),
            ("team_load", team_load),
            ("rotation_verdicts", verdicts_t),
            ("split_plans", plans_t),
            ("docs_health", docs_t.health),
            ("ownership_gaps", docs_t.gaps),
            ("dependency_drift", docs_t.drift),
        ],
        summary,
        org,
        edges: edge_list,
        verdicts,
        plans,
        derived,
        docs_scores: docs_t.team_scores,
        week,
        window: cfg.window,
        max_pages_per_12h: cfg.load.max_pages_per_12h,
    })
}

/// The partial tables of each bucket of traces, kept while the next bucket
/// replaces the per-bucket tables, then registered as their union.
#[derive(Default)]
struct Partials {
    tables: std::collections::BTreeMap<&'static str, (datafusion::arrow::datatypes::SchemaRef, Vec<RecordBatch>)>,
}

const PARTIAL_TABLES: [&str; 6] = ["edge_day", "service_day", "operation_day", "span_services_day", "slo_day", "slo_requests"];

impl Partials {
    async fn take(&mut self, ctx: &SessionContext) -> Result<()> {
        for name in PARTIAL_TABLES {
            let t = engine::query(ctx, &format!("SELECT * FROM {name}")).await?;
            let e = self.tables.entry(name).or_insert_with(|| (t.schema.clone(), vec![]));
            e.1.extend(t.batches);
        }
        Ok(())
    }

    fn register(self, ctx: &SessionContext) -> Result<()> {
        for (name, (schema, batches)) in self.tables {
            let schema = batches.first().map(|b| b.schema()).unwrap_or(schema);
            ctx.deregister_table(name)?;
            ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
        }
        Ok(())
    }
}

/// How many buckets of traces a run uses: `engine.trace_buckets` when set;
/// else, under a memory limit, enough that one bucket's spans (~400 bytes a
/// span in memory) take at most a third of the limit (the rest is for the
/// joins and the shuffle's writers); else 1.
pub fn trace_buckets(cfg: &Config, rows: u64) -> usize {
    if let Some(k) = cfg.engine.trace_buckets {
        return k.max(1);
    }
    match cfg.engine.memory_limit {
        Some(limit) if limit > 0 => {
            let need = rows.saturating_mul(400) as f64;
            ((need / (limit as f64 / 3.0)).ceil() as usize).clamp(1, 64)
        }
        _ => 1,
    }
}

/// Reads catalog, teams and incidents; skipped rows go to the summary.
pub fn read_org(cfg: &Config, summary: &mut Summary) -> Result<Org> {
    let catalog = catalog::read(&cfg.catalog)?;
    summary.rows_skipped.insert("catalog".into(), catalog.skipped);
    summary.problems.extend(catalog.problems.iter().cloned());
    let mut teams = match &cfg.teams {
        Some(p) => teams::read(p)?,
        None => teams::Teams::default(),
    };
    // Backstage Groups are teams too when teams.yaml does not list them.
    for g in &catalog.groups {
        if teams.get(&g.name).is_none() {
            let mut t = teams::Team::default_named(&g.name);
            t.members = g.members.clone();
            teams.teams.push(t);
        }
    }
    summary.rows_skipped.insert("teams".into(), teams.skipped);
    summary.problems.extend(teams.problems.iter().cloned());
    let incidents = match &cfg.incidents {
        Some((p, f)) => incidents::read(p, f)?,
        None => incidents::Incidents::default(),
    };
    summary.rows_skipped.insert("incidents".into(), incidents.skipped);
    summary.problems.extend(incidents.problems.iter().cloned());
    let mut org = Org { catalog, teams, incidents: incidents.incidents };
    // A PagerDuty team name is used only when it names a known team.
    if matches!(cfg.incidents, Some((_, crate::config::IncidentFormat::PagerDuty))) {
        let known = org.known_teams();
        for i in &mut org.incidents {
            if i.team.as_ref().is_some_and(|t| !known.contains(t)) {
                i.team = None;
            }
        }
    }
    Ok(org)
}

/// Writes every output into `dir` (tables, summary, pages).
pub fn write_outputs(dir: &std::path::Path, result: &RunResult) -> Result<()> {
    use crate::error::Error;
    let data = dir.join("data");
    for (name, table) in &result.tables {
        crate::output::write_table(&data, name, table)?;
    }
    crate::report::write_site(dir, result)?;
    let summary = serde_json::to_string_pretty(&result.summary).map_err(|e| Error::Other(e.to_string()))?;
    for path in [data.join("summary.json"), dir.join("summary.json")] {
        std::fs::write(&path, &summary).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

/// Publishes a run: outputs built aside and swapped in, then the week's
/// figures stored in the history.
pub fn publish(cfg: &Config, result: &RunResult) -> Result<()> {
    let staging = crate::output::Staging::new(&cfg.out_dir)?;
    write_outputs(&staging.tmp, result)?;
    staging.publish()?;
    let keep: Vec<(&str, &Table)> = result
        .tables
        .iter()
        .filter(|(n, _)| matches!(*n, "services" | "edges" | "team_load" | "slos"))
        .map(|(n, t)| (*n, t))
        .collect();
    history::store(&cfg.state_dir, &result.week, &keep)
}

/// Only what `graph` and `plan` need: the organisation and the edges.
pub async fn org_and_edges(cfg: &Config, ctx: &SessionContext) -> Result<(Org, Vec<graph::Edge>)> {
    let mut summary = Summary::default();
    let org = read_org(cfg, &mut summary)?;
    register_owners(ctx, &org.catalog)?;
    spans::register(ctx, &cfg.spans, &cfg.window).await?;
    window::build(ctx, &cfg.window, None).await?;
    edges::daily(ctx).await?;
    let t = edges::weekly(ctx).await?;
    Ok((org, graph::edges_from_table(&t)))
}

/// Convenience for tests and tools: a session from the config, then [`run`].
pub async fn run_config(cfg: &Config) -> Result<RunResult> {
    let ctx = engine::session(&cfg.engine, Some(&cfg.state_dir.join("spill")))?;
    run(cfg, &ctx, &Quiet).await
}
