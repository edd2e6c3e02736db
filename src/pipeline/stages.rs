//! The per-trace stages of one unit, declared: each names the session
//! tables it reads and writes, and both plans are checked before the first
//! unit runs ([`check`]), so a stage that reads a table nobody wrote is an
//! error at start, not a missing table at the end.
//!
//! Two plans compute the same tables. On one machine the per-trace pass
//! ([`trace_pass`]) finds the critical path and the rows of `cross_calls`,
//! `virtual_calls`, `entry_spans` and `slo_anchored` in one walk over each
//! trace ([`LOCAL`]); on a cluster those come from their SQL on the
//! executors ([`CLUSTER`]). `tests/test_cluster.rs` compares the two table
//! by table.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::prelude::SessionContext;

use super::Timer;
use crate::analysis::{attribution, edges, latency, slo, trace_pass};
use crate::daycache::Entry;
use crate::engine;
use crate::error::{Error, Result};
use crate::table::Table;

/// The tables each unit of traces yields: they merge by concatenation.
pub const PARTIAL_TABLES: [&str; 10] = [
    "edge_day",
    "producer_spans",
    "link_day",
    "service_day",
    "operation_day",
    "span_services_day",
    "slo_day",
    "slo_requests",
    "cp_roots_day",
    "cp_nodes_day",
];

/// What every unit's stages start from: its spans and the Producer spans
/// of the slack before it (registered by [`crate::analysis::window`]) and
/// the run's SLO definitions.
pub const GIVEN: [&str; 3] = ["window_spans", "producer_slack", "slo_defs"];

/// What a stage runs. `sql`: the stage also computes, with SQL, the rows
/// the per-trace pass finds on one machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// the walk over each trace; `calls`: also the per-trace call rows
    TracePass { calls: bool },
    Edges { sql: bool },
    Latency { sql: bool },
    Attribution,
    Slos { sql: bool },
}

/// One stage: its name in `summary.json`, what it runs, and the session
/// tables it reads and writes.
#[derive(Debug, Clone, Copy)]
pub struct Stage {
    pub name: &'static str,
    pub step: Step,
    pub reads: &'static [&'static str],
    pub writes: &'static [&'static str],
}

/// The rows the per-trace pass finds besides the critical path.
const CALL_ROWS: [&str; 4] = ["cross_calls", "virtual_calls", "entry_spans", "slo_anchored"];

/// One machine: the per-trace pass first, the SQL merges over its rows.
pub const LOCAL: [Stage; 5] = [
    Stage {
        name: "critical_path+calls",
        step: Step::TracePass { calls: true },
        reads: &["window_spans"],
        writes: &["cp_roots_day", "cp_nodes_day", CALL_ROWS[0], CALL_ROWS[1], CALL_ROWS[2], CALL_ROWS[3]],
    },
    Stage {
        name: "edges",
        step: Step::Edges { sql: false },
        reads: &["cross_calls", "virtual_calls", "window_spans", "producer_slack"],
        writes: &["edge_day", "producer_spans", "link_day"],
    },
    Stage {
        name: "latency",
        step: Step::Latency { sql: false },
        reads: &["entry_spans", "window_spans"],
        writes: &["service_day", "operation_day", "span_services_day"],
    },
    Stage { name: "attribution", step: Step::Attribution, reads: &["window_spans", "cross_calls"], writes: &[] },
    Stage { name: "slos", step: Step::Slos { sql: false }, reads: &["entry_spans", "slo_defs", "slo_anchored"], writes: &["slo_day", "slo_requests"] },
];

/// A cluster (and a unit with no spans, whose SQL makes the empty tables
/// with their columns): every stage in SQL, the walk for the critical path.
pub const CLUSTER: [Stage; 5] = [
    Stage {
        name: "edges",
        step: Step::Edges { sql: true },
        reads: &["window_spans", "producer_slack"],
        writes: &["cross_calls", "virtual_calls", "edge_day", "producer_spans", "link_day"],
    },
    Stage {
        name: "latency",
        step: Step::Latency { sql: true },
        reads: &["window_spans"],
        writes: &["entry_spans", "service_day", "operation_day", "span_services_day"],
    },
    Stage { name: "attribution", step: Step::Attribution, reads: &["window_spans", "cross_calls"], writes: &[] },
    Stage { name: "critical_path", step: Step::TracePass { calls: false }, reads: &["window_spans"], writes: &["cp_roots_day", "cp_nodes_day"] },
    Stage {
        name: "slos",
        step: Step::Slos { sql: true },
        reads: &["entry_spans", "slo_defs", "cross_calls", "window_spans"],
        writes: &["slo_anchored", "slo_day", "slo_requests"],
    },
];

/// Checks a plan: every table a stage reads is given or written by an
/// earlier stage, and every partial table is written.
pub fn check(plan: &[Stage]) -> Result<()> {
    let mut have: BTreeSet<&str> = GIVEN.into_iter().collect();
    for s in plan {
        if let Some(missing) = s.reads.iter().find(|t| !have.contains(**t)) {
            return Err(Error::Other(format!("pipeline: stage {} reads {missing}, which no earlier stage writes", s.name)));
        }
        have.extend(s.writes.iter().copied());
    }
    match PARTIAL_TABLES.iter().find(|t| !have.contains(**t)) {
        Some(t) => Err(Error::Other(format!("pipeline: no stage writes the partial table {t}"))),
        None => Ok(()),
    }
}

/// Runs one stage; returns false when a per-trace pass asked for the call
/// rows found no spans (the SQL plan then makes the empty tables).
async fn run_step(ctx: &SessionContext, step: Step, entry: &mut Entry) -> Result<bool> {
    match step {
        Step::TracePass { calls } => {
            let found = trace_pass::daily(ctx, calls).await?;
            entry.counts.anchor_walks_cut += found.anchor_walks_cut;
            entry.counts.traces_with_cycles += found.traces_with_cycles;
            return Ok(found.found_calls || !calls);
        }
        Step::Edges { sql } => entry.counts.unresolved_calls += edges::daily(ctx, !sql).await?,
        Step::Latency { sql } => latency::daily(ctx, !sql).await?,
        Step::Attribution => entry.attributed.extend(attribution::attribute(ctx).await?),
        Step::Slos { sql } => entry.counts.anchor_walks_cut += slo::daily(ctx, !sql).await?,
    }
    Ok(true)
}

/// The per-trace stages on `window_spans` ([`LOCAL`] on one machine,
/// [`CLUSTER`] on a cluster), then the partial tables (and `extra` tables)
/// collected into `tables`.
pub(super) async fn run_stages(ctx: &SessionContext, t: &mut Timer, entry: &mut Entry, tables: &mut BTreeMap<&'static str, Table>, extra: &[&'static str]) -> Result<()> {
    let mut plan: &[Stage] = if engine::on_cluster(ctx) { &CLUSTER } else { &LOCAL };
    let mut k = 0;
    while k < plan.len() {
        let stage = plan[k];
        k += 1;
        if !run_step(ctx, stage.step, entry).await? {
            // No spans: the SQL plan from its start.
            (plan, k) = (&CLUSTER, 0);
            continue;
        }
        t.done(stage.name);
    }
    for &name in PARTIAL_TABLES.iter().chain(extra) {
        let part = engine::query(ctx, &format!("SELECT * FROM {name}")).await?;
        let e = tables.entry(name).or_insert_with(|| Table { schema: part.schema.clone(), batches: vec![] });
        e.batches.extend(part.batches);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_plans_read_only_what_was_written_and_write_every_partial() {
        check(&LOCAL).unwrap();
        check(&CLUSTER).unwrap();
    }

    #[test]
    fn a_stage_reading_a_table_nobody_wrote_is_refused_naming_both() {
        // edges before the pass that writes its calls
        let broken = [LOCAL[1], LOCAL[0], LOCAL[2], LOCAL[3], LOCAL[4]];
        let e = check(&broken).unwrap_err().to_string();
        assert!(e.contains("stage edges reads cross_calls"), "{e}");
        let e = check(&LOCAL[..4]).unwrap_err().to_string();
        assert!(e.contains("slo_day"), "{e}");
    }
}
