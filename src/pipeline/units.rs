//! The window as units of days (SPEC §5, [`crate::daycache`]): per day a
//! body (the traces that start that day) and a seam (the traces still open
//! at its midnight), each computed by the per-trace [`stages`](super::stages)
//! or taken from the per-day cache, then merged by concatenation into the
//! partial tables the weekly queries read.

use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::SessionContext;

use super::stages::{PARTIAL_TABLES, run_stages};
use super::{Timer, stage};
use crate::analysis::{attribution, window};
use crate::config::{Config, day_start_ns};
use crate::engine;
use crate::error::Result;
use crate::input::spans;
use crate::model::Org;
use crate::queries;
use crate::run_result::Progress;
use crate::table::Table;

/// Totals over the units of a run.
#[derive(Debug, Default)]
pub(super) struct Totals {
    pub(super) spans_read: i64,
    pub(super) spans_in_window: i64,
    pub(super) traces: i64,
    pub(super) duplicate_span_ids: i64,
    pub(super) unresolved_calls: i64,
    pub(super) unresolved_links: i64,
    pub(super) anchor_walks_cut: i64,
    pub(super) traces_with_cycles: i64,
    pub(super) sampling: window::SamplingCounts,
    pub(super) trace_buckets: usize,
    pub(super) days_cached: usize,
    pub(super) days_computed: usize,
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
pub(super) async fn partials(
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
            totals.anchor_walks_cut += c.anchor_walks_cut;
            totals.traces_with_cycles += c.traces_with_cycles;
            totals.sampling += c.sampling;
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
    // §2.2: links may cross units; resolved once all are in.
    let links = crate::analysis::edges::resolve_links(ctx).await?;
    totals.unresolved_links = links.unresolved_links;
    totals.unresolved_calls += links.unresolved_producer_calls;
    Ok((totals, found))
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
    let shuffle_dir = cfg.state_dir.join("spill").join(format!("buckets-{}-{}", crate::atomic::run_id(), unit.first));
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
        run_stages(ctx, t, &mut entry, &mut tables, &["seam_ids", "seam_spans", "carry_spans"]).await?;
    }
    if k > 1 {
        let _ = std::fs::remove_dir_all(&shuffle_dir);
    }
    entry.tables = tables.into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    let c = &mut entry.counts;
    c.traces = counts.traces;
    c.spans_in_window = counts.spans_in_window;
    c.sampling = counts.sampling;
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
            entry.counts.spans_after = crate::table::read::first_i64(&after, "spans")?;
            entry.counts.dups_after = crate::table::read::first_i64(&after, "dups")?;
            engine::query(ctx, "SELECT * FROM seam_tail").await?
        }
    };
    let counts = window::seam(ctx, &ids, head, tail).await?;
    t.done("scan");
    let mut tables = Default::default();
    run_stages(ctx, t, &mut entry, &mut tables, &[]).await?;
    entry.tables = tables.into_iter().map(|(n, t)| (n.to_string(), t)).collect();
    entry.counts.traces = counts.traces;
    entry.counts.spans_in_window = counts.spans_in_window;
    entry.counts.sampling = counts.sampling;
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

