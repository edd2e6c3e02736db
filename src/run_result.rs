//! What a run produced, as the report, the exports and `summary.json` take
//! it: the result tables, the organisation, the analyses' Rust values and
//! the run's figures ([`Summary`]). The pipeline fills it; everything that
//! writes outputs only reads it, so none of them depends on the pipeline.

use serde::Serialize;

use crate::analysis::{alerts, attribution, expertise, graph, maturity, postmortems, rotation, slo};
use crate::model::Org;
use crate::table::Table;

/// One timed stage.
#[derive(Debug, Clone, Serialize)]
pub struct Stage {
    pub stage: String,
    pub seconds: f64,
}

/// The run's figures (SPEC §3 `summary.json`).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Summary {
    pub window_start: String,
    pub window_end: String,
    pub window_days: u32,
    pub spans_read: i64,
    pub spans_in_window: i64,
    pub traces: i64,
    pub files_read: usize,
    pub files_pruned: usize,
    pub files_skipped: Vec<crate::canonical::SkippedFile>,
    pub bytes_read: u64,
    pub unresolved_calls: i64,
    /// §2.2: links that found no Producer span of another service
    pub unresolved_links: i64,
    /// §2.5: calls not tied to a request within
    /// [`ANCHOR_ROUNDS`](crate::analysis::slo::ANCHOR_ROUNDS) parent links
    /// (a parent cycle or a deeper chain); they count in no derived SLO
    pub anchor_walks_cut: i64,
    pub duplicate_span_ids: i64,
    /// SPEC §4: traces whose parent references loop, cut where they loop
    /// (found by the per-trace pass; `None` on a cluster, which runs SQL)
    pub traces_with_cycles: Option<i64>,
    /// §2.14: how the window's traces were weighted
    pub sampling: SamplingSummary,
    /// most buckets of hash(TraceId) a day was processed in
    pub trace_buckets: usize,
    /// days taken from the per-day cache / computed by this run
    pub days_cached: usize,
    pub days_computed: usize,
    pub rows_skipped: std::collections::BTreeMap<String, usize>,
    pub problems: Vec<String>,
    pub stages: Vec<Stage>,
    pub wall_seconds: f64,
}

/// SPEC §2.14 `summary.json` `sampling`.
#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct SamplingSummary {
    /// traces whose weight came from each rule (w = 1 from `th:0` too)
    pub by_source: SamplingSources,
    /// traces whose deciding span held an unusable value (weight 1)
    pub invalid: i64,
    /// traces with weight > 1
    pub weighted_traces: i64,
    /// the traces the window's traces stand for (rounded sum of weights)
    pub estimated_traces: i64,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct SamplingSources {
    pub tracestate: i64,
    pub sample_rate: i64,
    pub jaeger: i64,
}

impl SamplingSummary {
    pub fn of(c: &crate::analysis::window::SamplingCounts) -> SamplingSummary {
        SamplingSummary {
            by_source: SamplingSources { tracestate: c.tracestate, sample_rate: c.sample_rate, jaeger: c.jaeger },
            invalid: c.invalid,
            weighted_traces: c.weighted_traces,
            estimated_traces: c.estimated_traces.round() as i64,
        }
    }
}

impl Summary {
    /// Whether any input was skipped (exit code 3).
    pub fn skipped_input(&self) -> bool {
        !self.files_skipped.is_empty() || self.rows_skipped.values().any(|n| *n > 0)
    }
}

/// Reports stage progress (a terminal bar or log lines).
pub trait Progress {
    fn stage(&self, name: &str);
}

/// No progress output.
pub struct Quiet;
impl Progress for Quiet {
    fn stage(&self, _name: &str) {}
}

/// Everything a run produced.
pub struct RunResult {
    pub tables: Vec<(&'static str, Table)>,
    pub summary: Summary,
    pub org: Org,
    pub edges: Vec<graph::Edge>,
    pub verdicts: Vec<rotation::Verdict>,
    pub plans: Vec<rotation::Split>,
    pub derived: std::collections::BTreeMap<String, slo::Target>,
    /// team → (checks passed, checks) over its catalog entries
    pub docs_scores: std::collections::BTreeMap<String, (usize, usize)>,
    /// the ISO week this run is filed under in the history
    pub week: String,
    /// the stored week the edge diff compared with (the ISO week exactly
    /// one before; None when it is not stored)
    pub compared_with: Option<String>,
    pub window: crate::config::Window,
    pub max_pages_per_12h: f64,
    pub expertise: Vec<expertise::TeamExpertise>,
    pub alerts: Vec<alerts::Alert>,
    /// services whose failures reach other teams (the index's card)
    pub hurting: Vec<attribution::Hurting>,
    pub postmortems: Vec<postmortems::TeamPostmortems>,
    pub maturity: Vec<maturity::Maturity>,
    /// `[generate]` settings for `generated/`
    pub generate: crate::config::GenerateSettings,
    pub max_review_age_days: i64,
    /// edges with fewer calls are left out of the drawings (not the tables)
    pub min_edge_calls: i64,
    pub rotation: crate::config::RotationThresholds,
    /// the 12 ISO weeks ending with this one, oldest first, with the tables
    /// stored for each (None: not stored); this week's last
    pub trend: Vec<(String, Option<std::collections::BTreeMap<String, Table>>)>,
}

impl RunResult {
    /// A result table by name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|(n, _)| *n == name).map(|(_, t)| t)
    }
}
