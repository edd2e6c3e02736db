//! The SQL the pipeline runs, one file per query under `queries/`, embedded
//! in the binary. `{{name}}` placeholders are filled by [`crate::engine::render`].

macro_rules! queries {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(pub const $name: &str = include_str!(concat!("../queries/", $file));)*
        /// Every query's text: the per-day cache key hashes them, so a
        /// changed query never meets partials of the old one.
        pub const ALL: &[&str] = &[$($name),*];
    };
}

queries! {
    EMPTY_SPANS => "empty_spans.sql",
    TEMPO_SPANS => "tempo_spans.sql",
    SPANS_READ => "spans_read.sql",
    SEAM_TAIL_READ => "seam_tail_read.sql",
    SLACK_AFTER => "slack_after.sql",
    WINDOW_TRACES => "window_traces.sql",
    WINDOW_SPANS => "window_spans.sql",
    TRACE_STATS => "trace_stats.sql",
    DECIDING_SPANS => "deciding_spans.sql",
    CROSS_CALLS => "cross_calls.sql",
    ENTRY_SPANS => "entry_spans.sql",
    VIRTUAL_CALLS => "virtual_calls.sql",
    SPAN_SERVICES_DAY => "span_services_day.sql",
    SERVICE_DAY => "service_day.sql",
    OPERATION_DAY => "operation_day.sql",
    EDGE_DAY => "edge_day.sql",
    PRODUCER_SLACK => "producer_slack.sql",
    PRODUCER_SPANS => "producer_spans.sql",
    LINK_DAY => "link_day.sql",
    LINK_CALLS => "link_calls.sql",
    LINK_EDGE_DAY => "link_edge_day.sql",
    LINK_UNRESOLVED => "link_unresolved.sql",
    UNRESOLVED_CALLS => "unresolved_calls.sql",
    SERVICES => "services.sql",
    OPERATIONS => "operations.sql",
    EDGES => "edges.sql",
    SERVICE_DAILY => "service_daily.sql",
    LATENCY_COLUMNS => "latency_columns.sql",
    ERROR_SPANS => "error_spans.sql",
    CRITICAL_PATH_SPANS => "critical_path_spans.sql",
    SLO_DAY => "slo_day.sql",
    SLO_REQUESTS => "slo_requests.sql",
    SLO_ANCHOR_START => "slo_anchor_start.sql",
    SLO_ANCHOR_ROUND => "slo_anchor_round.sql",
    SLO_ANCHOR_NEXT => "slo_anchor_next.sql",
    SLO_FANOUT => "slo_fanout.sql",
    SLO_EDGE_SKETCHES => "slo_edge_sketches.sql",
}
