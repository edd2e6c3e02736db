//! The `run` pipeline (SPEC §2, §5): inputs → day units (per-trace stages,
//! cached per day) → the weekly merges and the analyses over them → a
//! [`RunResult`]. Each step is timed for `summary.json`; [`publish`] decides
//! where the outputs go.
//!
//! - [`units`]: the window cut into day units and their seams, each
//!   computed or taken from the per-day cache, merged into the partial
//!   tables;
//! - [`stages`]: the declared per-trace stages of one unit, with the tables
//!   each reads and writes, checked before the first unit runs;
//! - [`publish`]: writing and atomically publishing the outputs and the
//!   week's history.

pub mod publish;
pub mod stages;
pub mod units;

use std::sync::Arc;
use std::time::Instant;

use chrono::Duration;
use datafusion::arrow::array::{RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::SessionContext;

use crate::analysis::{alerts, attribution, changes, critical, docs, edges, expertise, graph, history, latency, load, maturity, postmortems, rotation, slo};
use crate::config::Config;
use crate::engine;
use crate::error::Result;
use crate::input::{catalog, incidents, spans, survey, teams};
use crate::model::Org;
use crate::run_result::{Progress, Quiet, RunResult, Stage, Summary};
use crate::table::Table;
pub use publish::{clean_state_leftovers, export_inputs, publish, store_history, write_outputs};
pub use units::trace_buckets;

/// Shows a stage and tells the engine (a cluster names it when a job
/// misses its deadline).
pub(crate) fn stage(ctx: &SessionContext, progress: &dyn Progress, name: &str) {
    engine::note_stage(ctx, name);
    progress.stage(name);
}


/// The stages' times, in order, for `summary.json`.
pub(crate) struct Timer {
    stages: Vec<Stage>,
    last: Instant,
}

impl Timer {
    pub(crate) fn new() -> Self {
        Timer { stages: vec![], last: Instant::now() }
    }
    pub(crate) fn done(&mut self, name: &str) {
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
    stages::check(&stages::LOCAL)?;
    stages::check(&stages::CLUSTER)?;
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
    // `spans` counts the rows left out; `spans.bad_attributes` rows are
    // kept (without attributes) and so not in it.
    summary.rows_skipped.insert("spans".into(), bad.skipped);
    for (reason, n) in bad.by_reason {
        summary.rows_skipped.insert(format!("spans.{reason}"), n);
    }
    summary.problems.extend(bad.per_file);
    t.done("inputs");

    slo::prepare(ctx, &org).await?;
    let (counts, found) = units::partials(cfg, ctx, &files, &org, progress, &mut t).await?;
    summary.spans_read = counts.spans_read;
    summary.spans_in_window = counts.spans_in_window;
    summary.traces = counts.traces;
    summary.duplicate_span_ids = counts.duplicate_span_ids;
    summary.unresolved_calls = counts.unresolved_calls;
    summary.unresolved_links = counts.unresolved_links;
    summary.anchor_walks_cut = counts.anchor_walks_cut;
    // The SQL plan of a cluster does not look for loops: null there.
    summary.traces_with_cycles = (!crate::engine::on_cluster(ctx)).then_some(counts.traces_with_cycles);
    summary.sampling = crate::run_result::SamplingSummary::of(&counts.sampling);
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
    let edge_list = graph::edges_from_table(&edges)?;
    let att = attribution::tables(&org, &found, &org.incidents)?;
    let hurting = attribution::hurting_others(&org, &att)?;
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
        read::strs(&services, "service")?.into_iter().zip(read::i64s(&services, "requests")?)
            .map(|(s, r)| (s.unwrap_or_default(), r.unwrap_or(0))).collect()
    };
    let docs_t = docs::docs_tables(&org, cfg.window.end, cfg.docs.max_review_age_days, &svc_requests, &edge_list)?;
    let names: Vec<String> = svc_requests.iter().map(|(n, _)| n.clone()).collect();
    let ev = maturity::evidence(&names, &edge_list, &slos, &docs_t.drift, &expertise, &postmortems)?;
    let maturity = maturity::assess(&org, cfg.window.end, cfg.docs.max_review_age_days, &ev);
    let week = history::run_week(&cfg.window);
    let previous_week = history::previous_week(&cfg.window);
    let last_week = history::read_week(&cfg.state_dir, &previous_week)?;
    let previous = last_week.as_ref().and_then(|w| w.get("edges")).map(graph::edges_from_stored);
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
    // The stored weeks of the TREND_WEEKS ending with this one, oldest first, and
    // this week's figures last (the report's trends, SPEC §2.8).
    let mut trend = vec![];
    for k in (1..history::TREND_WEEKS).rev() {
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
        hurting,
        postmortems,
        maturity,
        generate: cfg.generate.clone(),
        max_review_age_days: cfg.docs.max_review_age_days,
        min_edge_calls: cfg.report.min_edge_calls,
        rotation: cfg.rotation.clone(),
        trend,
    })
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
        Some((p, f)) => {
            let mut read = incidents::read(p, f)?;
            let max = chrono::Duration::from_std(cfg.incident_max_duration).unwrap_or(chrono::Duration::MAX);
            read.flag_implausible(max, &p.display().to_string());
            read
        }
        None => incidents::Incidents::default(),
    };
    summary.rows_skipped.insert("incidents".into(), incidents.skipped);
    summary.rows_skipped.insert("incident_fields".into(), incidents.fields_skipped);
    summary.rows_skipped.insert("incidents.implausible_duration".into(), incidents.implausible);
    summary.problems.extend(incidents.problems.iter().cloned());
    let survey = match &cfg.survey.path {
        Some(p) => {
            let s = survey::read(p)?;
            summary.rows_skipped.insert("survey".into(), s.skipped);
            summary.problems.extend(s.problems.iter().cloned());
            if s.rows.is_empty() {
                // No valid answer: no survey figures or verdicts (§4), as
                // without a survey — not "nobody knows anything".
                let line = format!("{}: no valid row; the survey is not used", p.display());
                tracing::warn!("{line}");
                summary.problems.push(line);
                None
            } else {
                Some(s)
            }
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


/// Only what `graph` and `plan` need: the organisation and the edges.
pub async fn org_and_edges(cfg: &Config, ctx: &SessionContext) -> Result<(Org, Vec<graph::Edge>)> {
    let mut summary = Summary::default();
    let org = read_org(cfg, &mut summary)?;
    register_owners(ctx, &org.catalog).await?;
    let files = spans::register(ctx, &cfg.spans, &cfg.window, &cfg.skip_files).await?;
    slo::prepare(ctx, &org).await?;
    units::partials(cfg, ctx, &files, &org, &Quiet, &mut Timer::new()).await?;
    let t = edges::weekly(ctx).await?;
    Ok((org, graph::edges_from_table(&t)?))
}

/// Convenience for tests and tools: a session from the config, then [`run`].
pub async fn run_config(cfg: &Config) -> Result<RunResult> {
    let ctx = engine::connect(&cfg.engine, Some(&cfg.state_dir.join("spill"))).await?;
    run(cfg, &ctx, &Quiet).await
}

