//! The window (SPEC §2 intro): which spans are read, which traces belong to
//! the window, and each trace's day. Materialises `window_spans` once so that
//! every later analysis reads memory, not Parquet.

use datafusion::prelude::SessionContext;

use crate::config::Window;
use crate::engine::{self, render};
use crate::error::Result;
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
pub async fn build(ctx: &SessionContext, w: &Window, bucket: Option<(usize, usize)>) -> Result<WindowCounts> {
    let mut p = params(w);
    p.push((
        "bucket_filter",
        match bucket {
            Some((b, k)) if k > 1 => format!("AND om_bucket(trace_id, {k}) = {b}"),
            _ => String::new(),
        },
    ));
    engine::view(ctx, "spans_read", &render(queries::SPANS_READ, &p)).await?;
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
