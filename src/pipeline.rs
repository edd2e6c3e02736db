//! The `run` pipeline: inputs → window → analyses → tables. Each stage is
//! timed for `summary.json`; the caller decides where the tables go.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;
use serde::Serialize;

use crate::analysis::{alerts, attribution, critical, expertise, maturity, postmortems, changes, docs, edges, graph, history, latency, load, rotation, slo, window};
use crate::config::Config;
use crate::config::day_start_ns;
use crate::engine::{self, Table};
use crate::queries;
use crate::error::Result;
use crate::input::{catalog, incidents, spans, survey, teams};
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
    /// most buckets of hash(TraceId) a day was processed in
    pub trace_buckets: usize,
    /// days taken from the per-day cache / computed by this run
    pub days_cached: usize,
    pub days_computed: usize,
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

/// Shows a stage and tells the engine (a cluster names it when a job
/// misses its deadline).
fn stage(ctx: &SessionContext, progress: &dyn Progress, name: &str) {
    engine::note_stage(ctx, name);
    progress.stage(name);
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
    /// the stored week the edge diff compared with (the ISO week exactly
    /// one before; None when it is not stored)
    pub compared_with: Option<String>,
    pub window: crate::config::Window,
    pub max_pages_per_12h: f64,
    pub expertise: Vec<expertise::TeamExpertise>,
    pub alerts: Vec<alerts::Alert>,
    pub postmortems: Vec<postmortems::TeamPostmortems>,
    pub maturity: Vec<maturity::Maturity>,
    /// `[generate]` settings for `generated/`
    pub generate: crate::config::GenerateSettings,
    pub max_review_age_days: i64,
    /// edges with fewer calls are left out of the drawings (not the tables)
    pub min_edge_calls: i64,
    pub rotation: crate::config::RotationThresholds,
    /// the 12 ISO weeks ending with this one, oldest first, with the tables
    /// stored for each (None: not stored); this week's last
    pub trend: Vec<(String, Option<std::collections::BTreeMap<String, Table>>)>,
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
pub async fn register_owners(ctx: &SessionContext, cat: &catalog::Catalog) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("service", DataType::Utf8, false),
        Field::new("team", DataType::Utf8, true),
    ]));
    let services: StringArray = cat.entries.iter().map(|e| Some(e.name.as_str())).collect();
    let teams: StringArray = cat.entries.iter().map(|e| e.team.as_deref()).collect();
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(services), Arc::new(teams)])?;
    engine::register_batches(ctx, "owners", &(schema as _), vec![batch]).await
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

    stage(ctx, progress, "reading inputs");
    let org = read_org(cfg, &mut summary)?;
    register_owners(ctx, &org.catalog).await?;
    let files = spans::register(ctx, &cfg.spans, &cfg.window, &cfg.skip_files).await?;
    summary.files_read = files.read.len();
    summary.files_pruned = files.pruned;
    summary.bytes_read = files.bytes;
    summary.files_skipped = files.skipped.clone();
    let bad = files.bad_rows(ctx, &cfg.state_dir).await?;
    summary.rows_skipped.insert("spans".into(), bad.by_reason.values().sum());
    for (reason, n) in bad.by_reason {
        summary.rows_skipped.insert(format!("spans.{reason}"), n);
    }
    summary.problems.extend(bad.per_file);
    t.done("inputs");

    slo::prepare(ctx, &org).await?;
    let (counts, found) = partials(cfg, ctx, &files, &org, progress, &mut t).await?;
    summary.spans_read = counts.spans_read;
    summary.spans_in_window = counts.spans_in_window;
    summary.traces = counts.traces;
    summary.duplicate_span_ids = counts.duplicate_span_ids;
    summary.unresolved_calls = counts.unresolved_calls;
    summary.trace_buckets = counts.trace_buckets;
    summary.days_cached = counts.days_cached;
    summary.days_computed = counts.days_computed;
    tracing::info!("days: {} computed, {} from the cache", counts.days_computed, counts.days_cached);

    stage(ctx, progress, "weekly tables");
    let [services, operations, service_daily] = latency::weekly(ctx).await?;
    let edges = edges::weekly(ctx).await?;
    let critical_path = critical::weekly(ctx, cfg.critical_path.min_requests).await?;
    t.done("tables");

    stage(ctx, progress, "ownership analytics");
    let edge_list = graph::edges_from_table(&edges);
    let att = attribution::tables(&org, &found, &org.incidents)?;
    let slos = slo::slos(ctx, &org).await?;
    let (derived_t, derived) = slo::derived(ctx, &org, &edge_list).await?;
    t.done("ownership");
    let team_load = load::team_load(&org, &cfg.window)?;
    let expertise = expertise::per_team(&org, &cfg.survey);
    let (verdicts_t, verdicts) = rotation::verdicts(&org, cfg, &edge_list, &expertise)?;
    let alerts = alerts::alerts(&org, &cfg.window, &cfg.alerts);
    let postmortems = postmortems::per_team(&org, &cfg.window, &cfg.postmortems);
    let (plans_t, plans) = rotation::split_plans(&org, cfg, &edge_list, &verdicts)?;
    t.done("load");
    let svc_requests: Vec<(String, i64)> = {
        use crate::table::read;
        read::strs(&services, "service").into_iter().zip(read::i64s(&services, "requests"))
            .map(|(s, r)| (s.unwrap_or_default(), r.unwrap_or(0))).collect()
    };
    let docs_t = docs::docs_tables(&org, cfg.window.end, cfg.docs.max_review_age_days, &svc_requests, &edge_list)?;
    let names: Vec<String> = svc_requests.iter().map(|(n, _)| n.clone()).collect();
    let ev = maturity::evidence(&names, &edge_list, &slos, &docs_t.drift, &expertise, &postmortems);
    let maturity = maturity::assess(&org, cfg.window.end, cfg.docs.max_review_age_days, &ev);
    let week = history::run_week(&cfg.window);
    let previous_week = history::previous_week(&cfg.window);
    let last_week = history::read_week(&cfg.state_dir, &previous_week)?;
    let previous = last_week.as_ref().and_then(|w| w.get("edges")).map(graph::edges_from_table);
    let compared_with = last_week.as_ref().map(|_| previous_week.clone());
    let edge_diff = history::edge_diff(&edge_list, previous.as_deref())?;
    let team_graph = graph::team_graph(&edge_list)?;
    t.done("docs_history");

    summary.stages = t.stages;
    summary.wall_seconds = started.elapsed().as_secs_f64();
    let this_week: std::collections::BTreeMap<String, Table> = [
        ("services", &services),
        ("edges", &edges),
        ("team_load", &team_load),
        ("slos", &slos),
        ("team_errors", &att.team_errors),
        ("docs_health", &docs_t.health),
    ]
    .into_iter()
    .map(|(n, t)| (n.to_string(), t.clone()))
    .collect();
    // The stored weeks of the 12 ending with this one, oldest first, and
    // this week's figures last (the report's trends, SPEC §2.8).
    let mut trend = vec![];
    for k in (1..12).rev() {
        let label = crate::analysis::load::week_label(cfg.window.end - Duration::days(7 * k));
        let stored = if label == previous_week { last_week.clone() } else { history::read_week(&cfg.state_dir, &label)? };
        trend.push((label, stored));
    }
    trend.push((week.clone(), Some(this_week.clone())));
    let wow = changes::week_over_week(
        &changes::figures(&week, &this_week),
        last_week.as_ref().map(|w| changes::figures(&previous_week, w)).as_ref(),
        &cfg.changes,
        cfg.report.min_edge_calls,
    )?;
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
            ("week_over_week", wow),
            ("expertise", expertise::table(&expertise)?),
            ("alerts", alerts::table(&alerts)?),
            ("postmortems", postmortems::table(&postmortems)?),
            ("maturity", maturity::table(&maturity)?),
            ("critical_path", critical_path),
        ],
        summary,
        org,
        edges: edge_list,
        verdicts,
        plans,
        derived,
        docs_scores: docs_t.team_scores,
        week,
        compared_with,
        window: cfg.window,
        max_pages_per_12h: cfg.load.max_pages_per_12h,
        expertise,
        alerts,
        postmortems,
        maturity,
        generate: cfg.generate.clone(),
        max_review_age_days: cfg.docs.max_review_age_days,
        min_edge_calls: cfg.report.min_edge_calls,
        rotation: cfg.rotation.clone(),
        trend,
    })
}

/// The tables each unit of traces yields: they merge by concatenation.
const PARTIAL_TABLES: [&str; 8] =
    ["edge_day", "service_day", "operation_day", "span_services_day", "slo_day", "slo_requests", "cp_roots_day", "cp_nodes_day"];

/// Totals over the units of a run.
#[derive(Debug, Default)]
struct Totals {
    spans_read: i64,
    spans_in_window: i64,
    traces: i64,
    duplicate_span_ids: i64,
    unresolved_calls: i64,
    trace_buckets: usize,
    days_cached: usize,
    days_computed: usize,
}

/// One unit of days (SPEC §5, [`crate::daycache`]): `first..=last`, a body
/// or the seam after it.
#[derive(Debug, Clone, Copy)]
struct Unit {
    first: NaiveDate,
    last: NaiveDate,
    seam: bool,
    /// the seam at the window's end: reads only the slack after it
    right_edge: bool,
    /// the input has day partitions (else every unit opens every file)
    partitioned: bool,
}

impl Unit {
    fn day_start(&self) -> i64 {
        day_start_ns(self.first)
    }
    fn day_end(&self) -> i64 {
        day_start_ns(self.last + Duration::days(1))
    }
    /// The partitions whose files the result depends on: a body reads the
    /// day before (its slack) and its days; a seam is made of its body's
    /// and the next day's body's spans (or, at the window's end, of the
    /// slack after it).
    fn depends(&self, d: Option<NaiveDate>) -> bool {
        let hi = if self.seam { self.last + Duration::days(1) } else { self.last };
        !self.partitioned || d.is_some_and(|d| d >= self.first - Duration::days(1) && d <= hi)
    }
    /// The partitions whose files the unit opens (a seam opens files only
    /// at the window's end, for the slack after it).
    fn reads(&self, d: Option<NaiveDate>) -> bool {
        if self.seam {
            !self.partitioned || d.is_some_and(|d| d >= self.last && d <= self.last + Duration::days(1))
        } else {
            self.depends(d)
        }
    }
    fn name(&self, fingerprint: u64) -> (String, String) {
        let prefix = format!("{}_{}-{}-", self.first, self.last, if self.seam { "seam" } else { "body" });
        let edge = if self.seam && self.right_edge { "e" } else { "" };
        (format!("{prefix}{fingerprint:016x}{edge}"), prefix)
    }
}

/// The cache key: everything besides the span files a partial depends on.
fn cache_key(cfg: &Config, org: &Org, per_day: bool) -> u64 {
    let mut h = crate::hash::Fnv::new();
    // The build covers the package version, the Rust code computing the
    // partials and the queries (build.rs hashes src/ and queries/).
    h.write(crate::daycache::build_id().as_bytes());
    for q in crate::queries::ALL {
        h.write(q.as_bytes());
    }
    h.write(format!("{:?}", cfg.spans).as_bytes());
    h.write(&cfg.window.slack_minutes.to_le_bytes());
    h.write(&[per_day as u8]);
    for e in &org.catalog.entries {
        h.write(format!("{:?}{:?}", e.name, e.slos).as_bytes());
    }
    h.finish()
}

/// Computes (or takes from the per-day cache) the partials of every unit of
/// the window and registers their union under [`PARTIAL_TABLES`]; returns
/// the totals and the attribution rows.
async fn partials(
    cfg: &Config,
    ctx: &SessionContext,
    files: &spans::SpanFiles,
    org: &Org,
    progress: &dyn Progress,
    t: &mut Timer,
) -> Result<(Totals, Vec<attribution::Attributed>)> {
    let w = &cfg.window;
    // Day partitions make per-day units; files outside any partition are
    // read by every unit, so without partitions the window is one unit.
    let per_day = !files.listing.is_empty() && files.listing.iter().all(|(_, d, _, _)| d.is_some());
    let days: Vec<(NaiveDate, NaiveDate)> = if per_day {
        (0..w.days as i64).map(|i| w.start() + Duration::days(i)).map(|d| (d, d)).collect()
    } else {
        vec![(w.start(), w.end)]
    };
    let cache = crate::daycache::DayCache::open(&cfg.state_dir, cache_key(cfg, org, per_day), !cfg.full, cfg.evict_cache)?;
    let mut totals = Totals::default();
    let mut found = vec![];
    let mut merged: std::collections::BTreeMap<String, Table> = Default::default();
    for seam in [false, true] {
        for (n, &(first, last)) in days.iter().enumerate() {
            let unit = Unit { first, last, seam, right_edge: last == w.end, partitioned: per_day };
            let fp = files.fingerprint(&|d| unit.depends(d));
            let (name, prefix) = unit.name(fp);
            let label = if per_day { first.to_string() } else { format!("{first}..{last}") };
            let entry = match cache.get(&name)? {
                Some(e) => {
                    if !seam {
                        totals.days_cached += 1;
                    }
                    e
                }
                None => {
                    stage(ctx, progress, &format!("{} {label}", if seam { "traces across midnight after" } else { "spans of" }));
                    if !seam {
                        totals.days_computed += 1;
                    }
                    let e = if seam {
                        let next = last + Duration::days(1);
                        let get = |k: String| merged.get(&k).cloned().ok_or_else(|| crate::error::Error::Other(format!("no {k}")));
                        let from_body = [get(format!("seam_ids/{first}"))?, get(format!("seam_spans/{first}"))?];
                        let tail = if unit.right_edge { None } else { Some(get(format!("carry_spans/{next}"))?) };
                        compute_seam(cfg, ctx, files, &unit, from_body, tail, t).await?
                    } else {
                        compute_body(cfg, ctx, files, &unit, t, &mut totals).await?
                    };
                    cache.put(&name, &prefix, &e)?;
                    e
                }
            };
            let c = entry.counts;
            totals.traces += c.traces;
            totals.spans_in_window += c.spans_in_window;
            totals.unresolved_calls += c.unresolved_calls;
            totals.spans_read += c.spans_day;
            totals.duplicate_span_ids += c.dups_day;
            if !seam && n == 0 {
                totals.spans_read += c.spans_before;
                totals.duplicate_span_ids += c.dups_before;
            }
            if seam && unit.right_edge {
                totals.spans_read += c.spans_after;
                totals.duplicate_span_ids += c.dups_after;
            }
            found.extend(entry.attributed);
            for (tname, table) in entry.tables {
                // What a body keeps for the seams is kept per day.
                let key = if PARTIAL_TABLES.contains(&tname.as_str()) { tname } else { format!("{tname}/{first}") };
                let m = merged.entry(key).or_insert_with(|| Table { schema: table.schema.clone(), batches: vec![] });
                m.batches.extend(table.batches);
            }
        }
    }
    if cfg.evict_cache {
        cache.retain_days(&days.iter().map(|(f, l)| format!("{f}_{l}-")).collect::<Vec<_>>());
    }
    for name in PARTIAL_TABLES {
        let table = merged.remove(name).unwrap_or_else(|| Table { schema: Arc::new(Schema::empty()), batches: vec![] });
        engine::register_batches(ctx, name, &table.schema, table.batches).await?;
    }
    Ok((totals, found))
}

/// The per-trace stages on `window_spans`, then the partial tables (and
/// `extra` tables) collected into `tables`.
async fn stages(ctx: &SessionContext, t: &mut Timer, entry: &mut crate::daycache::Entry, tables: &mut std::collections::BTreeMap<&'static str, Table>, extra: &[&'static str]) -> Result<()> {
    // On one machine the critical-path walk, which takes the unit's spans
    // trace by trace, also finds the rows of cross_calls, virtual_calls,
    // entry_spans and slo_anchored; on a cluster their SQL runs on the
    // executors.
    let fused = !engine::on_cluster(ctx) && critical::daily(ctx, true).await?;
    if fused {
        t.done("critical_path+calls");
    }
    entry.counts.unresolved_calls += edges::daily(ctx, fused).await?;
    t.done("edges");
    latency::daily(ctx, fused).await?;
    t.done("latency");
    entry.attributed.extend(attribution::attribute(ctx).await?);
    t.done("attribution");
    if !fused {
        critical::daily(ctx, false).await?;
        t.done("critical_path");
    }
    slo::daily(ctx, fused).await?;
    t.done("slos");
    for &name in PARTIAL_TABLES.iter().chain(extra) {
        let part = engine::query(ctx, &format!("SELECT * FROM {name}")).await?;
        let e = tables.entry(name).or_insert_with(|| Table { schema: part.schema.clone(), batches: vec![] });
        e.batches.extend(part.batches);
    }
    Ok(())
}

/// Computes a body: reads its partitions, takes its traces (in buckets of
/// hash(TraceId) when the day is too big for the memory limit) and runs the
/// per-trace stages; keeps what the seams need (`seam_ids`, `seam_spans`,
/// `carry_spans`).
async fn compute_body(
    cfg: &Config,
    ctx: &SessionContext,
    files: &spans::SpanFiles,
    unit: &Unit,
    t: &mut Timer,
    totals: &mut Totals,
) -> Result<crate::daycache::Entry> {
    let slack = cfg.window.slack_ns();
    let keep = |d: Option<NaiveDate>| unit.reads(d);
    files.register_view(ctx, "unit_spans", &keep).await?;
    let scope = window::Scope {
        read_sql: window::read_sql(queries::SPANS_READ, "unit_spans", unit.day_start() - slack, unit.day_end()),
        day_start_ns: unit.day_start(),
        day_end_ns: unit.day_end(),
        seam_start_ns: unit.day_end() - slack,
    };
    let k = trace_buckets(cfg, files.rows_where(&keep));
    totals.trace_buckets = totals.trace_buckets.max(k);
    // A folder per unit: the engine caches listings by path.
    let shuffle_dir = cfg.state_dir.join("spill").join(format!("buckets-{}-{}", std::process::id(), unit.first));
    let buckets = if k > 1 {
        let b = window::shuffle(ctx, &scope.read_sql, k, &shuffle_dir).await?;
        t.done("shuffle");
        b
    } else {
        vec![]
    };
    let mut counts = window::ScopeCounts::default();
    let mut entry = crate::daycache::Entry::default();
    let mut tables = Default::default();
    for b in 0..k {
        counts += window::build(ctx, &scope, buckets.get(b).map(|p| p.as_path())).await?;
        t.done("scan");
        stages(ctx, t, &mut entry, &mut tables, &["seam_ids", "seam_spans", "carry_spans"]).await?;
    }
    if k > 1 {
        let _ = std::fs::remove_dir_all(&shuffle_dir);
    }
    entry.tables = tables.into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    let c = &mut entry.counts;
    c.traces = counts.traces;
    c.spans_in_window = counts.spans_in_window;
    c.spans_day = counts.spans_day;
    c.spans_before = counts.spans - counts.spans_day;
    c.dups_day = counts.dups_day;
    c.dups_before = counts.dups - counts.dups_day;
    Ok(entry)
}

/// Computes a seam from its body's `seam_ids` and `seam_spans` and the
/// spans after midnight: the next body's `carry_spans`, or at the window's
/// end the slack after it, read from the files.
async fn compute_seam(
    cfg: &Config,
    ctx: &SessionContext,
    files: &spans::SpanFiles,
    unit: &Unit,
    [ids, head]: [Table; 2],
    tail: Option<Table>,
    t: &mut Timer,
) -> Result<crate::daycache::Entry> {
    let slack = cfg.window.slack_ns();
    let mut entry = crate::daycache::Entry::default();
    let tail = match tail {
        Some(tail) => tail,
        None => {
            files.register_view(ctx, "unit_spans", &|d| unit.reads(d)).await?;
            let day = unit.last.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days();
            let end = unit.day_end();
            engine::materialize(ctx, "seam_tail", &window::tail_sql(day, end, end + slack)).await?;
            // The slack after the window: read, though no trace of the
            // window starts there.
            let after = engine::query(ctx, queries::SLACK_AFTER).await?;
            entry.counts.spans_after = crate::table::read::first_i64(&after, "spans");
            entry.counts.dups_after = crate::table::read::first_i64(&after, "dups");
            engine::query(ctx, "SELECT * FROM seam_tail").await?
        }
    };
    let counts = window::seam(ctx, &ids, head, tail).await?;
    t.done("scan");
    let mut tables = Default::default();
    stages(ctx, t, &mut entry, &mut tables, &[]).await?;
    entry.tables = tables.into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    entry.counts.traces = counts.traces;
    entry.counts.spans_in_window = counts.spans_in_window;
    Ok(entry)
}

/// How many buckets of traces a run uses: `engine.trace_buckets` when set;
/// else, under a memory limit, one when the day's spans (~300 bytes a span
/// in memory, measured) take at most half the limit, and otherwise enough
/// that one bucket's spans take at most a quarter of it (the rest is for
/// the joins and the shuffle's writers); else 1.
pub fn trace_buckets(cfg: &Config, rows: u64) -> usize {
    if let Some(k) = cfg.engine.trace_buckets {
        return k.max(1);
    }
    match cfg.engine.memory_limit {
        Some(limit) if limit > 0 => {
            let need = rows.saturating_mul(300) as f64;
            if need <= limit as f64 / 2.0 { 1 } else { ((need / (limit as f64 / 4.0)).ceil() as usize).clamp(2, 64) }
        }
        _ => 1,
    }
}

/// Reads catalog, teams and incidents; skipped rows go to the summary.
pub fn read_org(cfg: &Config, summary: &mut Summary) -> Result<Org> {
    let catalog = catalog::read(&cfg.catalog)?;
    summary.rows_skipped.insert("catalog".into(), catalog.skipped);
    summary.problems.extend(catalog.problems.iter().cloned());
    // Only teams.yaml declares teams (SPEC §2.6, §2.7): a Backstage Group
    // it does not list owns services but gets no verdicts or rotation.
    let teams = match &cfg.teams {
        Some(p) => teams::read(p)?,
        None => teams::Teams::default(),
    };
    summary.rows_skipped.insert("teams".into(), teams.skipped);
    summary.problems.extend(teams.problems.iter().cloned());
    let incidents = match &cfg.incidents {
        Some((p, f)) => incidents::read(p, f)?,
        None => incidents::Incidents::default(),
    };
    summary.rows_skipped.insert("incidents".into(), incidents.skipped);
    summary.rows_skipped.insert("incident_fields".into(), incidents.fields_skipped);
    summary.problems.extend(incidents.problems.iter().cloned());
    let survey = match &cfg.survey.path {
        Some(p) => {
            let s = survey::read(p)?;
            summary.rows_skipped.insert("survey".into(), s.skipped);
            summary.problems.extend(s.problems.iter().cloned());
            Some(s)
        }
        None => None,
    };
    let mut org = Org { catalog, teams, incidents: incidents.incidents, survey };
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

/// Writes every output into `dir` (tables, summary, pages, the marker).
pub fn write_outputs(dir: &std::path::Path, result: &RunResult) -> Result<()> {
    use crate::error::Error;
    crate::output::write_marker(dir)?;
    let data = dir.join("data");
    for (name, table) in &result.tables {
        crate::output::write_table(&data, name, table)?;
    }
    crate::report::write_site(dir, result)?;
    let generated = crate::export::write(&dir.join("generated"), &export_inputs(result))?;
    for p in &generated {
        tracing::warn!("{p}");
    }
    let mut summary = result.summary.clone();
    summary.problems.extend(generated);
    let summary = serde_json::to_string_pretty(&summary).map_err(|e| Error::Other(e.to_string()))?;
    for path in [data.join("summary.json"), dir.join("summary.json")] {
        std::fs::write(&path, &summary).map_err(|e| Error::io(&path, e))?;
    }
    crate::atomic::fault("write-report", dir)
}

/// What the generated configuration is made of (SPEC §3).
pub fn export_inputs(result: &RunResult) -> crate::export::Inputs<'_> {
    crate::export::Inputs { org: &result.org, edges: &result.edges, email_domain: &result.generate.email_domain }
}

/// Publishes a run into `out` (resolved by [`crate::output::resolve_out`]):
/// the report and the week's history are both written aside first (a full
/// disk fails here, with nothing changed), then the report is swapped in,
/// then the history week; if the second swap fails the first is undone. So
/// an error always means nothing was published.
pub fn publish(cfg: &Config, out: &std::path::Path, result: &RunResult) -> Result<()> {
    crate::output::check_target(out)?;
    let report = crate::atomic::Staged::new(out)?;
    write_outputs(report.path(), result)?;
    let week = history::stage(&cfg.state_dir, &result.week, &history_tables(result))?;
    let report = report.swap()?;
    let week = crate::atomic::fault("history-swap", out).and_then(|()| week.swap());
    match week {
        Ok(week) => {
            week.commit();
            report.commit();
            Ok(())
        }
        Err(e) => {
            report.undo()?;
            Err(e)
        }
    }
}

/// The tables a run stores in the history (see [`history::STORED_TABLES`]).
fn history_tables(result: &RunResult) -> Vec<(&str, &Table)> {
    result.tables.iter().filter(|(n, _)| history::STORED_TABLES.contains(n)).map(|(n, t)| (*n, t)).collect()
}

/// Stores the week's figures in the history only (`backfill`).
pub fn store_history(cfg: &Config, result: &RunResult) -> Result<()> {
    history::store(&cfg.state_dir, &result.week, &history_tables(result))
}

/// Removes what killed runs left in the state dir: their bucket shuffles
/// under `spill/` (`buckets-<pid>-<day>`). Cache and history leftovers are
/// removed where those are opened.
pub fn clean_state_leftovers(state_dir: &std::path::Path) {
    let Ok(rd) = std::fs::read_dir(state_dir.join("spill")) else { return };
    for e in rd.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let pid = n.strip_prefix("buckets-").and_then(|r| r.split('-').next()).and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(|p| !crate::atomic::pid_alive(p)) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Only what `graph` and `plan` need: the organisation and the edges.
pub async fn org_and_edges(cfg: &Config, ctx: &SessionContext) -> Result<(Org, Vec<graph::Edge>)> {
    let mut summary = Summary::default();
    let org = read_org(cfg, &mut summary)?;
    register_owners(ctx, &org.catalog).await?;
    let files = spans::register(ctx, &cfg.spans, &cfg.window, &cfg.skip_files).await?;
    slo::prepare(ctx, &org).await?;
    partials(cfg, ctx, &files, &org, &Quiet, &mut Timer::new()).await?;
    let t = edges::weekly(ctx).await?;
    Ok((org, graph::edges_from_table(&t)))
}

/// Convenience for tests and tools: a session from the config, then [`run`].
pub async fn run_config(cfg: &Config) -> Result<RunResult> {
    let ctx = engine::connect(&cfg.engine, Some(&cfg.state_dir.join("spill"))).await?;
    run(cfg, &ctx, &Quiet).await
}
