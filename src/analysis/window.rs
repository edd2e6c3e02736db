//! The window (SPEC §2 intro): which spans are read, which traces belong to
//! the window, and each trace's day. Materialises `window_spans` once so that
//! every later analysis reads memory, not Parquet.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::{Array, AsArray, BooleanArray, Float64Array, RecordBatch};
use datafusion::arrow::compute::{cast, filter_record_batch};
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::engine::{self, render};
use crate::error::{Error, Result};
use crate::queries;

/// One unit of per-day work (see [`crate::daycache`]): which spans it reads
/// and which traces it takes.
#[derive(Debug, Clone)]
pub struct Scope {
    /// SQL for the spans read (the `spans_all` columns)
    pub read_sql: String,
    /// traces whose earliest span read lies in [day_start, day_end)
    pub day_start_ns: i64,
    pub day_end_ns: i64,
    /// traces with a span at or after this are left to the seam unit
    pub seam_start_ns: i64,
}

impl Scope {
    fn params(&self) -> Vec<(&'static str, String)> {
        vec![
            ("day_start_ns", self.day_start_ns.to_string()),
            ("day_end_ns", self.day_end_ns.to_string()),
            ("seam_start_ns", self.seam_start_ns.to_string()),
        ]
    }
}

/// The spans of `source` in [start, end), as SQL.
pub fn read_sql(template: &str, source: &str, start_ns: i64, end_ns: i64) -> String {
    render(
        template,
        &[("source", source.to_string()), ("read_start_ns", start_ns.to_string()), ("read_end_ns", end_ns.to_string())],
    )
}

/// Writes the spans read, normalised (binary ids, no attribute maps), into
/// one Parquet folder per bucket of hash(TraceId) under `dir`
/// (`dir/bucket=B/`), in a single pass over the inputs, so that each bucket
/// later reads only its own small files. Returns the folder of each bucket.
pub async fn shuffle(ctx: &SessionContext, read: &str, k: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let target = dir.to_string_lossy().replace('\'', "''");
    let sql = format!(
        "COPY (SELECT *, om_bucket(trace_id, {k}) AS bucket FROM ({read})) TO '{target}/' STORED AS PARQUET PARTITIONED BY (bucket) \
         OPTIONS ('format.max_row_group_size' '16384', 'format.compression' 'lz4_raw', \
         'format.statistics_enabled' 'none', {})",
        ["trace_id", "span_id", "parent_id", "start_ns", "duration_ns"].map(|c| format!("'format.dictionary_enabled::{c}' 'false'")).join(", ")
    );
    crate::engine::deadline(ctx, async { Ok(ctx.sql(&sql).await?.collect().await?) }).await?;
    Ok((0..k).map(|b| dir.join(format!("bucket={b}"))).collect())
}

/// Counts from [`build`]: rows read (all, and from the scope's first day
/// on) and their duplicate rows, the traces taken and their spans.
#[derive(Debug, Default, Clone, Copy)]
pub struct ScopeCounts {
    pub spans: i64,
    pub spans_day: i64,
    pub dups: i64,
    pub dups_day: i64,
    pub traces: i64,
    pub spans_in_window: i64,
    pub sampling: SamplingCounts,
}

/// SPEC §2.14: the traces taken, by the rule that decided their weight
/// (`summary.json` `sampling`).
#[derive(Debug, Default, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SamplingCounts {
    pub tracestate: i64,
    pub sample_rate: i64,
    pub jaeger: i64,
    /// a present but unusable value (weight 1)
    pub invalid: i64,
    /// traces with weight > 1
    pub weighted_traces: i64,
    /// the sum of the traces' weights
    pub estimated_traces: f64,
}

impl std::ops::AddAssign for SamplingCounts {
    fn add_assign(&mut self, o: Self) {
        self.tracestate += o.tracestate;
        self.sample_rate += o.sample_rate;
        self.jaeger += o.jaeger;
        self.invalid += o.invalid;
        self.weighted_traces += o.weighted_traces;
        self.estimated_traces += o.estimated_traces;
    }
}

impl SamplingCounts {
    /// The counts of the traces of `table` (columns `weight`, `rule`).
    fn of(table: &crate::table::Table) -> Result<SamplingCounts> {
        use crate::engine::sampling::rule;
        let (ws, rs) = (crate::table::read::f64s(table, "weight")?, crate::table::read::i64s(table, "rule")?);
        let mut c = SamplingCounts::default();
        for (w, r) in ws.into_iter().zip(rs) {
            let w = w.unwrap_or(1.0);
            match r.map(|r| r as i8) {
                Some(rule::TRACESTATE) => c.tracestate += 1,
                Some(rule::SAMPLE_RATE) => c.sample_rate += 1,
                Some(rule::JAEGER) => c.jaeger += 1,
                Some(rule::INVALID) => c.invalid += 1,
                _ => {}
            }
            c.weighted_traces += (w > 1.0) as i64;
            c.estimated_traces += w;
        }
        Ok(c)
    }
}

impl std::ops::AddAssign for ScopeCounts {
    fn add_assign(&mut self, o: Self) {
        self.spans += o.spans;
        self.spans_day += o.spans_day;
        self.dups += o.dups;
        self.dups_day += o.dups_day;
        self.traces += o.traces;
        self.spans_in_window += o.spans_in_window;
        self.sampling += o.sampling;
    }
}

/// The columns of `window_spans` but its `weight` (which [`build`] adds).
const SPAN_COLUMNS: &str = "trace_id, span_id, parent_id, start_ns, duration_ns, service, name, kind, is_error, vnode, vtype, links, day";

/// A body unit: registers the `spans_read` view, materialises the per-trace
/// statistics and `window_traces`, then every span read with its trace's
/// class, and from that `window_spans` (the body traces the stages
/// analyse), `seam_spans` and `seam_ids` (this unit's seam traces) and
/// `carry_spans` (the previous day's seam traces from this unit's first day
/// on), and `producer_slack` (the Producer spans read before its first
/// day, for links, §2.2). The spans are read twice (once for the per-trace statistics, once
/// for their spans) so that only one pass's per-trace table and the spans
/// are held in memory.
/// `shuffled`: the folder of one bucket written by [`shuffle`] (the spans
/// read come from there); `None`: from `scope.read_sql`.
pub async fn build(ctx: &SessionContext, scope: &Scope, shuffled: Option<&Path>) -> Result<ScopeCounts> {
    let p = scope.params();
    match shuffled {
        None => engine::view(ctx, "spans_read", &scope.read_sql).await?,
        Some(dir) if dir.exists() => {
            let df = ctx.read_parquet(dir.to_string_lossy().as_ref(), ParquetReadOptions::default()).await?;
            ctx.deregister_table("spans_read")?;
            ctx.register_table("spans_read", df.into_view())?;
        }
        // A bucket no trace hashed into.
        Some(_) => engine::view(ctx, "spans_read", queries::EMPTY_SPANS).await?,
    }
    engine::materialize(ctx, "trace_stats", &render(queries::TRACE_STATS, &p)).await?;
    // One query for the four sums (on a cluster every query is a job).
    let cols = ["spans", "spans_day", "duplicate_rows", "duplicate_rows_day"];
    let sums = cols.map(|c| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT) AS {c}")).join(", ");
    let t = engine::query(ctx, &format!("SELECT {sums} FROM trace_stats")).await?;
    let sum = |c: &str| crate::table::read::first_i64(&t, c);
    let (spans, spans_day, dups, dups_day) = (sum(cols[0])?, sum(cols[1])?, sum(cols[2])?, sum(cols[3])?);
    let mut counts = ScopeCounts { spans, spans_day, dups, dups_day, ..Default::default() };
    engine::materialize(ctx, "window_traces", &render(queries::WINDOW_TRACES, &p)).await?;
    ctx.deregister_table("trace_stats")?;
    // §2.14: traces decided by their earliest span (rare: no root or
    // several) cost one more look at their spans, only when there are any.
    if engine::scalar_i64(ctx, "SELECT COUNT(*) FROM window_traces WHERE pending").await? > 0 {
        engine::materialize(ctx, "window_traces_decided", queries::DECIDING_SPANS).await?;
        engine::materialize(ctx, "window_traces", "SELECT * FROM window_traces_decided").await?;
        ctx.deregister_table("window_traces_decided")?;
    }
    let weighted = engine::scalar_i64(ctx, "SELECT COUNT(*) FROM window_traces WHERE weight <> 1.0").await? > 0;
    let taken = engine::query(ctx, "SELECT weight, rule FROM window_traces WHERE class = 0").await?;
    counts.traces = taken.num_rows() as i64;
    counts.sampling = SamplingCounts::of(&taken)?;
    engine::materialize(ctx, "seam_ids", "SELECT trace_id, weight, rule FROM window_traces WHERE class = 1").await?;
    // §2.14: the weight rides on every span only when some trace of the
    // unit is weighted; else the views below give the constant 1.
    let (carried, weight) = if weighted { (", t.weight", "weight") } else { ("", "CAST(1.0 AS DOUBLE) AS weight") };
    engine::materialize(ctx, "window_spans_all", &render(queries::WINDOW_SPANS, &[("weight", carried.to_string())])).await?;
    engine::view(ctx, "window_spans", &format!("SELECT {SPAN_COLUMNS}, {weight} FROM window_spans_all WHERE class = 0")).await?;
    engine::materialize(ctx, "seam_spans", &format!("SELECT {SPAN_COLUMNS}, {weight} FROM window_spans_all WHERE class = 1")).await?;
    engine::materialize(
        ctx,
        "carry_spans",
        &format!("SELECT {SPAN_COLUMNS}, {weight} FROM window_spans_all WHERE class = 2 AND start_ns >= {}", scope.day_start_ns),
    )
    .await?;
    engine::materialize(ctx, "producer_slack", &render(queries::PRODUCER_SLACK, &p)).await?;
    counts.spans_in_window = engine::scalar_i64(ctx, "SELECT COUNT(*) FROM window_spans").await?;
    Ok(counts)
}

/// A seam unit: `window_spans` from `seam_head`, `seam_tail` and
/// `seam_ids` (registered by the caller); counts its traces and spans.
pub async fn seam(ctx: &SessionContext, ids: &crate::table::Table, head: crate::table::Table, tail: crate::table::Table) -> Result<ScopeCounts> {
    // Assembled on the client, not as a join on the engine: the seam's
    // tables are small (only traces crossing midnight), and on a Ballista
    // cluster the UNION of a scan with a semi join made a stage whose task
    // metrics the scheduler rejected, so the job never finished (#17).
    // The spans after midnight take their trace's weight, decided among
    // its spans up to midnight (SPEC §2.14; the deciding span is nearly
    // always there: a root or the earliest span).
    let weights: std::collections::HashMap<Vec<u8>, f64> = crate::table::read::bins(ids, "trace_id")?
        .into_iter()
        .zip(crate::table::read::f64s(ids, "weight")?)
        .filter_map(|(id, w)| Some((id?, w.unwrap_or(1.0))))
        .collect();
    let mut batches = head.batches;
    for b in tail.batches {
        let Some(col) = b.column_by_name("trace_id") else { continue };
        let ids = cast(col, &DataType::Binary)?;
        let ids = ids.as_binary::<i32>();
        let mask: BooleanArray = (0..ids.len()).map(|i| Some(!ids.is_null(i) && weights.contains_key(ids.value(i)))).collect();
        let kept = filter_record_batch(&b, &mask)?;
        let kept_ids = cast(kept.column_by_name("trace_id").expect("filtered from a batch with it"), &DataType::Binary)?;
        let w: Float64Array = kept_ids.as_binary::<i32>().iter().map(|id| id.and_then(|id| weights.get(id).copied())).collect();
        let mut cols = kept.columns().to_vec();
        let at = kept.schema().index_of("weight")?;
        cols[at] = cast(&w, kept.schema().field(at).data_type())?;
        batches.push(RecordBatch::try_new(kept.schema(), cols)?);
    }
    let spans = batches.iter().map(|b| b.num_rows()).sum::<usize>() as i64;
    engine::register_batches(ctx, "window_spans", &head.schema, batches).await?;
    // A seam reads no slack before its day (its body did).
    engine::view(ctx, "producer_slack", NO_PRODUCER_SLACK).await?;
    let sampling = SamplingCounts::of(ids)?;
    Ok(ScopeCounts { traces: ids.num_rows() as i64, spans_in_window: spans, sampling, ..Default::default() })
}

/// `producer_slack` (queries/producer_slack.sql) with no rows.
const NO_PRODUCER_SLACK: &str = "SELECT CAST(NULL AS INT) AS day, CAST(NULL AS BYTEA) AS key, CAST(NULL AS VARCHAR) AS service, \
     CAST(NULL AS BOOLEAN) AS is_error, CAST(NULL AS BIGINT) AS duration_ns WHERE false";

/// The SQL of the slack after the window for the last day's seam.
pub fn tail_sql(day: i64, start_ns: i64, end_ns: i64) -> String {
    render(
        queries::SEAM_TAIL_READ,
        &[("day", day.to_string()), ("read_start_ns", start_ns.to_string()), ("read_end_ns", end_ns.to_string())],
    )
}
