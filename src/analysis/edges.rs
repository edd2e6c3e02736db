//! Dependency edges (SPEC §2.2): cross-service calls, virtual nodes for
//! uninstrumented callees, daily partials and the weekly `edges` table.

use datafusion::prelude::SessionContext;

use crate::engine;
use crate::table::Table;
use crate::error::Result;
use crate::queries;

/// Materialises `cross_calls`, registers `virtual_calls` and computes the
/// daily `edge_day` partials. Returns the number of unresolved calls.
pub async fn daily(ctx: &SessionContext, have_calls: bool) -> Result<i64> {
    if !have_calls {
        engine::materialize(ctx, "cross_calls", queries::CROSS_CALLS).await?;
        engine::materialize(ctx, "virtual_calls", queries::VIRTUAL_CALLS).await?;
    }
    engine::materialize(ctx, "edge_day", queries::EDGE_DAY).await?;
    engine::scalar_i64(ctx, queries::UNRESOLVED_CALLS).await
}

/// The weekly `edges` table from `edge_day` (SPEC §3).
pub async fn weekly(ctx: &SessionContext) -> Result<Table> {
    engine::query(ctx, queries::EDGES).await
}
