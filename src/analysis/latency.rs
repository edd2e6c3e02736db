//! Requests and latency percentiles (SPEC §2.1, §2.3): entry spans, daily
//! partials per service and operation (counts + mergeable sketches), and the
//! weekly `services`, `operations` and `service_daily` tables merged from
//! them.
//!
//! Where p50…p99.9 are computed: each day's entry-span durations go into one
//! sketch per service and per operation (`om_sketch` in
//! `queries/service_day.sql` and `operation_day.sql`); the week merges them
//! (`om_sketch_merge`) and reads each quantile off the merged sketch
//! (`om_quantile`) in `queries/services.sql`, `operations.sql` and
//! `service_daily.sql`. The sketch is [`crate::sketch`]; the SQL functions
//! over it are registered in [`crate::engine::udf`]. Edge latencies go the
//! same way through `queries/edge_day.sql` and `edges.sql`.

use datafusion::prelude::SessionContext;

use crate::engine;
use crate::table::Table;
use crate::error::Result;
use crate::queries;

/// Materialises `entry_spans` and the daily partials `service_day`,
/// `operation_day` and `span_services_day`.
pub async fn daily(ctx: &SessionContext, have_entry_spans: bool) -> Result<()> {
    if !have_entry_spans {
        engine::materialize(ctx, "entry_spans", queries::ENTRY_SPANS).await?;
    }
    engine::materialize(ctx, "service_day", queries::SERVICE_DAY).await?;
    engine::materialize(ctx, "operation_day", queries::OPERATION_DAY).await?;
    engine::materialize(ctx, "span_services_day", queries::SPAN_SERVICES_DAY).await?;
    Ok(())
}

/// The weekly latency tables: `services`, `operations`, `service_daily`.
pub async fn weekly(ctx: &SessionContext) -> Result<[Table; 3]> {
    // The latency column list is one file, without its comment lines.
    let cols: String = queries::LATENCY_COLUMNS.lines().filter(|l| !l.starts_with("--")).collect::<Vec<_>>().join("\n");
    let p = [("latency_columns", cols)];
    Ok([
        engine::query(ctx, &engine::render(queries::SERVICES, &p)).await?,
        engine::query(ctx, &engine::render(queries::OPERATIONS, &p)).await?,
        engine::query(ctx, queries::SERVICE_DAILY).await?,
    ])
}
