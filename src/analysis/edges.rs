//! Dependency edges (SPEC §2.2): cross-service calls, virtual nodes for
//! uninstrumented callees, span links, daily partials and the weekly
//! `edges` table.
//!
//! Links are why part of an edge waits for the week: a batch consumer's
//! link may point at a Producer span in another trace, on another day, so
//! a unit cannot tell alone whether its Producer spans call their broker
//! or a linked consumer. Each unit therefore keeps its links (`link_day`)
//! and a small index of its Producer spans by link key (`producer_spans`)
//! as partials, and [`weekly`] resolves them over every unit before the
//! edges merge: units stay exact and cacheable, and no day is read twice.

use datafusion::prelude::SessionContext;

use crate::engine;
use crate::error::Result;
use crate::queries;
use crate::table::Table;

/// Materialises `cross_calls`, registers `virtual_calls`, computes the
/// daily `edge_day` partials and the link partials (`producer_spans`,
/// `link_day`). Returns the number of unresolved Client calls.
pub async fn daily(ctx: &SessionContext, have_calls: bool) -> Result<i64> {
    if !have_calls {
        engine::materialize(ctx, "cross_calls", queries::CROSS_CALLS).await?;
        engine::materialize(ctx, "virtual_calls", queries::VIRTUAL_CALLS).await?;
    }
    engine::materialize(ctx, "edge_day", queries::EDGE_DAY).await?;
    engine::materialize(ctx, "producer_spans", queries::PRODUCER_SPANS).await?;
    engine::materialize(ctx, "link_day", queries::LINK_DAY).await?;
    engine::scalar_i64(ctx, queries::UNRESOLVED_CALLS).await
}

/// What only the whole run can count (SPEC §2.2, `summary.json`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkCounts {
    /// links that found no Producer span of another service
    pub unresolved_links: i64,
    /// Producer spans with no child in another service, no link to them and
    /// no attribute naming their broker
    pub unresolved_producer_calls: i64,
}

/// Resolves the run's links over the merged partials and adds the edge
/// rows that needed them to `edge_day` (link calls, and Producer spans'
/// calls to their brokers). Run once, after every unit's partials are
/// registered and before [`weekly`].
pub async fn resolve_links(ctx: &SessionContext) -> Result<LinkCounts> {
    engine::materialize(ctx, "link_calls", queries::LINK_CALLS).await?;
    engine::materialize(ctx, "edge_day_links", queries::LINK_EDGE_DAY).await?;
    engine::materialize(ctx, "edge_day_all", "SELECT * FROM edge_day UNION ALL SELECT * FROM edge_day_links").await?;
    engine::materialize(ctx, "edge_day", "SELECT * FROM edge_day_all").await?;
    let t = engine::query(ctx, queries::LINK_UNRESOLVED).await?;
    for name in ["edge_day_all", "edge_day_links", "link_calls"] {
        ctx.deregister_table(name)?;
    }
    Ok(LinkCounts {
        unresolved_links: crate::table::read::first_i64(&t, "unresolved_links")?,
        unresolved_producer_calls: crate::table::read::first_i64(&t, "unresolved_calls")?,
    })
}

/// The weekly `edges` table from `edge_day` (SPEC §3).
pub async fn weekly(ctx: &SessionContext) -> Result<Table> {
    engine::query(ctx, queries::EDGES).await
}
