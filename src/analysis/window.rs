//! The window (SPEC §2 intro): which spans are read, which traces belong to
//! the window, and each trace's day. Materialises `window_spans` once so that
//! every later analysis reads memory, not Parquet.

use std::path::{Path, PathBuf};

use datafusion::prelude::{ParquetReadOptions, SessionContext};

use crate::config::Window;
use crate::engine::{self, render};
use crate::error::{Error, Result};
use crate::queries;

/// Counts from the window stage, for `summary.json`.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct WindowCounts {
    pub spans_read: i64,
    pub spans_in_window: i64,
    pub traces: i64,
    pub duplicate_span_ids: i64,
}

impl std::ops::AddAssign for WindowCounts {
    fn add_assign(&mut self, o: Self) {
        self.spans_read += o.spans_read;
        self.spans_in_window += o.spans_in_window;
        self.traces += o.traces;
        self.duplicate_span_ids += o.duplicate_span_ids;
    }
}

/// Writes the spans read, normalised (binary ids, no attribute maps), into
/// one Parquet folder per bucket of hash(TraceId) under `dir`
/// (`dir/bucket=B/`), in a single pass over the inputs, so that each bucket
/// later reads only its own small files. Returns the folder of each bucket.
pub async fn shuffle(ctx: &SessionContext, w: &Window, k: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    let p = params(w);
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let read = render(queries::SPANS_READ, &p);
    let target = dir.to_string_lossy().replace('\'', "''");
    let sql = format!(
        "COPY (SELECT *, om_bucket(trace_id, {k}) AS bucket FROM ({read})) TO '{target}/' STORED AS PARQUET PARTITIONED BY (bucket) \
         OPTIONS ('format.max_row_group_size' '16384', 'format.compression' 'lz4_raw')"
    );
    ctx.sql(&sql).await?.collect().await?;
    Ok((0..k).map(|b| dir.join(format!("bucket={b}"))).collect())
}

/// Query parameters shared by the window queries.
pub fn params(w: &Window) -> Vec<(&'static str, String)> {
    vec![
        ("start_ns", w.start_ns().to_string()),
        ("end_ns", w.end_ns().to_string()),
        ("read_start_ns", (w.start_ns() - w.slack_ns()).to_string()),
        ("read_end_ns", (w.end_ns() + w.slack_ns()).to_string()),
    ]
}

/// Registers the `spans_read` view, materialises the per-trace statistics,
/// `window_traces` and `window_spans`. The spans are read twice (once for
/// the per-trace statistics, once for the window's spans) so that only the
/// window's spans are ever held in memory.
/// `shuffled`: the folder of one bucket written by [`shuffle`] (the spans
/// read come from there); `None`: from the inputs.
pub async fn build(ctx: &SessionContext, w: &Window, shuffled: Option<&Path>) -> Result<WindowCounts> {
    let p = params(w);
    match shuffled {
        None => engine::view(ctx, "spans_read", &render(queries::SPANS_READ, &p)).await?,
        Some(dir) if dir.exists() => {
            let df = ctx.read_parquet(dir.to_string_lossy().as_ref(), ParquetReadOptions::default()).await?;
            ctx.deregister_table("spans_read")?;
            ctx.register_table("spans_read", df.into_view())?;
        }
        // A bucket no trace hashed into.
        Some(_) => engine::view(ctx, "spans_read", queries::EMPTY_SPANS).await?,
    }
    engine::materialize(ctx, "trace_stats", queries::TRACE_STATS).await?;
    let spans_read = engine::scalar_i64(ctx, "SELECT CAST(COALESCE(SUM(spans), 0) AS BIGINT) FROM trace_stats").await?;
    let duplicate_span_ids =
        engine::scalar_i64(ctx, "SELECT CAST(COALESCE(SUM(duplicate_rows), 0) AS BIGINT) FROM trace_stats").await?;
    let traces = engine::materialize(ctx, "window_traces", &render(queries::WINDOW_TRACES, &p)).await?;
    ctx.deregister_table("trace_stats")?;
    let spans_in_window = engine::materialize(ctx, "window_spans", queries::WINDOW_SPANS).await?;
    Ok(WindowCounts {
        spans_read,
        spans_in_window: spans_in_window as i64,
        traces: traces as i64,
        duplicate_span_ids,
    })
}
