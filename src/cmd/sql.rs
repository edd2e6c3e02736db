//! `ownermap sql "SELECT ..."`: ad-hoc SQL over the window's data, on the
//! session of a pipeline run (nothing is published). Tables: `spans` (the
//! window's spans, normalised: see `queries/window_spans.sql`),
//! `entry_spans`, `cross_calls`, every output table of SPEC §3 by its name
//! (`edges`, `services`, `slos`, `team_load`, …), `catalog` (service, team,
//! description, tier, last_reviewed, depends_on), `incidents`, and the
//! pipeline's daily partials (`edge_day`, `service_day`, …). It is
//! read-only (§4): statements that define, change or copy data, and `SET`,
//! are refused before anything runs (exit 2).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampNanosecondArray};
use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::execution::context::SQLOptions;
use datafusion::prelude::SessionContext;

use crate::config::{Config, Overrides};
use crate::error::{exit, Error, Result};
use crate::model::Org;

#[derive(Debug, clap::Args)]
#[command(after_help = "Tables:\n  spans              the spans read for the window (its days and the trace slack)\n  services, operations, edges, service_daily, team_graph, edge_diff, attribution,\n  team_errors, misrouted, slos, derived_slos, team_load, rotation_verdicts,\n  split_plans, docs_health, ownership_gaps, dependency_drift, week_over_week,\n  expertise, alerts, postmortems, maturity, critical_path\n                     the report's tables (docs/spec.md §3.1)\n  catalog, incidents, survey\n                     the inputs, as read\n  edge_day, service_day, operation_day, span_services_day, slo_day, slo_requests,\n  cp_roots_day, cp_nodes_day, producer_spans, link_day\n                     the per-day partials\n\nExample:\n  ownermap sql --config ownermap.toml \"SELECT caller, callee, calls FROM edges ORDER BY calls DESC LIMIT 10\"")]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// The query (DataFusion SQL; the tables are listed below).
    pub query: String,
    /// Last day of the window (UTC, YYYY-MM-DD); default: the config's window.end, else yesterday.
    #[arg(long)]
    pub end: Option<String>,
    /// Days in the window; default: the config's window.days, else 7.
    #[arg(long)]
    pub days: Option<u32>,
}

async fn register(ctx: &SessionContext, name: &str, cols: Vec<(&str, ArrayRef)>) -> Result<()> {
    let schema: datafusion::arrow::datatypes::SchemaRef =
        Arc::new(Schema::new(cols.iter().map(|(n, a)| Field::new(*n, a.data_type().clone(), true)).collect::<Vec<_>>()));
    let batch = RecordBatch::try_new(schema.clone(), cols.into_iter().map(|(_, a)| a).collect())?;
    crate::engine::register_batches(ctx, name, &schema, vec![batch]).await
}

async fn register_org(ctx: &SessionContext, org: &Org) -> Result<()> {
    let e = &org.catalog.entries;
    let s = |f: &dyn Fn(&crate::input::catalog::CatalogEntry) -> Option<String>| -> ArrayRef {
        Arc::new(StringArray::from(e.iter().map(f).collect::<Vec<_>>()))
    };
    register(
        ctx,
        "catalog",
        vec![
            ("service", s(&|x| Some(x.name.clone()))),
            ("team", s(&|x| x.team.clone())),
            ("description", s(&|x| x.description.clone())),
            ("tier", Arc::new(Int64Array::from(e.iter().map(|x| x.tier).collect::<Vec<_>>()))),
            ("last_reviewed", s(&|x| x.last_reviewed.map(|d| d.to_string()))),
            ("depends_on", s(&|x| Some(x.depends_on.join(";")))),
        ],
    ).await?;
    let i = &org.incidents;
    let ts = |f: &dyn Fn(&crate::input::incidents::Incident) -> Option<i64>| -> ArrayRef {
        Arc::new(TimestampNanosecondArray::from(i.iter().map(f).collect::<Vec<_>>()).with_timezone("UTC"))
    };
    register(
        ctx,
        "incidents",
        vec![
            ("id", Arc::new(StringArray::from(i.iter().map(|x| x.id.clone()).collect::<Vec<_>>()))),
            ("title", Arc::new(StringArray::from(i.iter().map(|x| x.title.clone()).collect::<Vec<_>>()))),
            ("service", Arc::new(StringArray::from(i.iter().map(|x| x.service.clone()).collect::<Vec<_>>()))),
            ("team", Arc::new(StringArray::from(i.iter().map(|x| org.incident_team(x)).collect::<Vec<_>>()))),
            ("page", Arc::new(BooleanArray::from(i.iter().map(|x| x.page).collect::<Vec<_>>()))),
            ("created_at", ts(&|x| x.created_at.timestamp_nanos_opt())),
            ("acknowledged_at", ts(&|x| x.acknowledged_at.and_then(|t| t.timestamp_nanos_opt()))),
            ("resolved_at", ts(&|x| x.resolved_at.and_then(|t| t.timestamp_nanos_opt()))),
            ("responders", Arc::new(Int64Array::from(i.iter().map(|x| x.responders as i64).collect::<Vec<_>>()))),
            ("trace_id", Arc::new(StringArray::from(i.iter().map(|x| x.trace_id.clone()).collect::<Vec<_>>()))),
            ("severity", Arc::new(StringArray::from(i.iter().map(|x| x.severity.clone()).collect::<Vec<_>>()))),
            ("users_impacted", Arc::new(Int64Array::from(i.iter().map(|x| x.users_impacted).collect::<Vec<_>>()))),
            ("postmortem", Arc::new(StringArray::from(i.iter().map(|x| x.postmortem.clone()).collect::<Vec<_>>()))),
        ],
    ).await?;
    // `survey`: every usable row as read (empty without a survey).
    let rows = org.survey.as_ref().map(|s| s.rows.as_slice()).unwrap_or_default();
    let col = |f: &dyn Fn(&crate::input::survey::Answer) -> String| -> ArrayRef { Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>())) };
    register(
        ctx,
        "survey",
        vec![
            ("person", col(&|a| a.person.clone())),
            ("service", col(&|a| a.service.clone())),
            ("expertise", Arc::new(Int64Array::from(rows.iter().map(|a| a.expertise).collect::<Vec<_>>()))),
            ("happiness", Arc::new(Int64Array::from(rows.iter().map(|a| a.happiness).collect::<Vec<_>>()))),
            ("answered_on", col(&|a| a.answered_on.to_string())),
        ],
    ).await?;
    Ok(())
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end, days: a.days, ..Default::default() })?;
    let rt = super::runtime()?;
    // It adds computed days to the state dir's cache: a writer, so it
    // takes the state lock like `run`.
    let _state = crate::out_dir::lock_state(&cfg.state_dir, true)?;
    rt.block_on(async {
        let ctx = crate::engine::connect(&cfg.engine, Some(&cfg.state_dir.join("spill"))).await?;
        let result = crate::pipeline::run(&cfg, &ctx, &crate::run_result::Quiet).await?;
        register_org(&ctx, &result.org).await?;
        for (name, t) in result.tables {
            crate::engine::register_batches(&ctx, name, &t.schema, t.batches).await?;
        }
        // `spans`: the spans read for the window (its days and the slack).
        let w = &cfg.window;
        let read = crate::analysis::window::read_sql(
            crate::queries::SPANS_READ,
            "spans_all",
            w.start_ns() - w.slack_ns(),
            w.end_ns() + w.slack_ns(),
        );
        crate::engine::view(&ctx, "spans", &read).await?;
        // Read-only (§4): the window's tables and nothing else — no DDL
        // (CREATE EXTERNAL TABLE would open any file), no DML or COPY (would
        // write any file), no SET.
        let read_only = SQLOptions::new().with_allow_ddl(false).with_allow_dml(false).with_allow_statements(false);
        let df = ctx.sql_with_options(&a.query, read_only).await.map_err(|e| {
            Error::Refused(format!("SQL: {e} (sql is read-only: SELECT, WITH, EXPLAIN, SHOW and DESCRIBE over the window's tables)"))
        })?;
        let batches = df.collect().await?;
        let text = pretty(&batches)?;
        super::print_stdout(&(text + "\n"));
        Ok(exit::OK)
    })
}

/// A result as a text table; floats with at most 6 significant decimals
/// (not 17-digit binary noise).
fn pretty(batches: &[RecordBatch]) -> Result<String> {
    use datafusion::arrow::array::{Array, AsArray, Float64Array};
    use datafusion::arrow::datatypes::{DataType, Float64Type};
    let rounded = batches
        .iter()
        .map(|b| {
            let cols: Vec<ArrayRef> = b
                .columns()
                .iter()
                .map(|c| match c.data_type() {
                    DataType::Float32 | DataType::Float64 => {
                        let f = datafusion::arrow::compute::cast(c, &DataType::Float64)?;
                        let f = f.as_primitive::<Float64Type>();
                        let r: Float64Array = (0..f.len()).map(|i| (!f.is_null(i)).then(|| round6(f.value(i)))).collect();
                        Ok(Arc::new(r) as ArrayRef)
                    }
                    _ => Ok(c.clone()),
                })
                .collect::<std::result::Result<_, datafusion::arrow::error::ArrowError>>()?;
            let fields: Vec<Field> = b
                .schema()
                .fields()
                .iter()
                .zip(&cols)
                .map(|(f, c)| Field::new(f.name(), c.data_type().clone(), true))
                .collect();
            RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(datafusion::arrow::util::pretty::pretty_format_batches(&rounded)?.to_string())
}

fn round6(v: f64) -> f64 {
    if !v.is_finite() || v == 0.0 {
        return v;
    }
    let digits = 6 - v.abs().log10().floor() as i32 - 1;
    let p = 10f64.powi(digits.clamp(0, 12));
    (v * p).round() / p
}

#[cfg(test)]
mod tests {
    #[test]
    fn floats_keep_six_significant_digits() {
        assert_eq!(super::round6(0.1 + 0.2), 0.3);
        assert_eq!(super::round6(123.456789), 123.457);
        assert_eq!(super::round6(2.0), 2.0);
        assert_eq!(super::round6(1234567.89), 1234568.0);
    }
}
