//! `ownermap.toml` as written (SPEC §1.5): one struct per table, unknown
//! keys rejected, and the threshold sections with their documented
//! defaults. [`super::Config`] is made from these.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub spans: RawSpans,
    pub catalog: Option<RawPaths>,
    pub teams: Option<RawPath>,
    pub incidents: Option<RawIncidents>,
    #[serde(default)]
    pub window: RawWindow,
    #[serde(default)]
    pub output: RawOutput,
    #[serde(default)]
    pub engine: RawEngine,
    #[serde(default)]
    pub load: LoadThresholds,
    #[serde(default)]
    pub rotation: RotationThresholds,
    #[serde(default)]
    pub docs: DocsThresholds,
    #[serde(default)]
    pub changes: ChangeThresholds,
    #[serde(default)]
    pub report: ReportSettings,
    pub survey: Option<RawSurvey>,
    #[serde(default)]
    pub alerts: AlertThresholds,
    #[serde(default)]
    pub postmortems: PostmortemThresholds,
    #[serde(default)]
    pub critical_path: CriticalPathSettings,
    #[serde(default)]
    pub generate: GenerateSettings,
}

/// `[survey]` (SPEC §1.7, §2.10): the file and its thresholds.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawSurvey {
    pub path: String,
    pub expert_level: Option<i64>,
    pub min_happiness: Option<f64>,
}

/// The survey settings after validation.
#[derive(Debug, Clone)]
pub struct SurveyConfig {
    /// None: no survey configured (the expertise columns stay empty)
    pub path: Option<PathBuf>,
    pub expert_level: i64,
    pub min_happiness: f64,
}
impl Default for SurveyConfig {
    fn default() -> Self {
        Self { path: None, expert_level: 2, min_happiness: 3.0 }
    }
}

/// `[alerts]` (SPEC §2.11).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct AlertThresholds {
    pub transient_minutes: f64,
    pub min_fires: i64,
    pub max_noise_share: f64,
}
impl Default for AlertThresholds {
    fn default() -> Self {
        Self { transient_minutes: 5.0, min_fires: 4, max_noise_share: 0.5 }
    }
}

/// `[postmortems]` (SPEC §2.12).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct PostmortemThresholds {
    pub max_severity: i64,
    pub due_days: i64,
}
impl Default for PostmortemThresholds {
    fn default() -> Self {
        Self { max_severity: 2, due_days: 7 }
    }
}

/// `[critical_path]` (SPEC §2.9).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct CriticalPathSettings {
    pub min_requests: i64,
}
impl Default for CriticalPathSettings {
    fn default() -> Self {
        Self { min_requests: 20 }
    }
}

/// `[generate]`: settings of the generated configuration (SPEC §3).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct GenerateSettings {
    pub email_domain: String,
}
impl Default for GenerateSettings {
    fn default() -> Self {
        Self { email_domain: "example.com".into() }
    }
}

/// `[changes]`: when a week-over-week row is notable (SPEC §2.8). A rise
/// "by ≥ pct and by ≥ min" needs both.
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ChangeThresholds {
    pub pages_rise_pct: f64,
    pub pages_rise_min: f64,
    pub mtta_rise_pct: f64,
    pub mtta_rise_min: f64,
    pub surfaced_rise_pct: f64,
    pub surfaced_rise_min: f64,
    pub docs_score_drop: f64,
    pub error_rate_rise: f64,
    pub error_rate_factor: f64,
    pub p99_rise_pct: f64,
    pub p99_rise_ms: f64,
    pub p99_min_requests: f64,
}
impl Default for ChangeThresholds {
    fn default() -> Self {
        Self {
            pages_rise_pct: 0.5,
            pages_rise_min: 3.0,
            mtta_rise_pct: 0.5,
            mtta_rise_min: 5.0,
            surfaced_rise_pct: 0.5,
            surfaced_rise_min: 10.0,
            docs_score_drop: 0.1,
            error_rate_rise: 0.01,
            error_rate_factor: 2.0,
            p99_rise_pct: 0.2,
            p99_rise_ms: 5.0,
            p99_min_requests: 100.0,
        }
    }
}

/// `[report]` settings (SPEC §3).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// edges with fewer calls are left out of drawings (kept in tables),
    /// and appear or vanish without being notable
    pub min_edge_calls: i64,
}
impl Default for ReportSettings {
    fn default() -> Self {
        Self { min_edge_calls: 10 }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawSpans {
    pub path: Option<String>,
    pub format: Option<String>,
    pub environment: Option<String>,
    pub duration_unit: Option<String>,
    pub timestamp_unit: Option<String>,
    pub service_from: Option<ServiceFrom>,
    pub root_parent: Option<String>,
    pub sampling: Option<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

/// Derive the service from another column with a regex (first group).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct ServiceFrom {
    pub column: String,
    pub regex: String,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPaths {
    pub path: OneOrMany,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPath {
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncidents {
    pub path: String,
    pub format: Option<String>,
    /// an incident open longer than this is implausible (default "30d")
    pub max_duration: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub days: Option<u32>,
    pub end: Option<String>,
    pub trace_slack_minutes: Option<u32>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawOutput {
    pub dir: Option<String>,
    pub state_dir: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawEngine {
    pub url: Option<String>,
    pub work_dir: Option<String>,
    pub memory_limit: Option<String>,
    pub target_partitions: Option<usize>,
    pub trace_buckets: Option<usize>,
    pub job_timeout: Option<String>,
}

/// `[load]` thresholds (SPEC §2.6).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct LoadThresholds {
    pub max_pages_per_12h: f64,
    pub min_pages_per_week: f64,
}
impl Default for LoadThresholds {
    fn default() -> Self {
        Self { max_pages_per_12h: 2.0, min_pages_per_week: 1.0 }
    }
}

/// `[rotation]` thresholds (SPEC §2.6).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct RotationThresholds {
    pub min_single_site: u32,
    pub min_per_site: u32,
    pub max_services_per_person: f64,
    pub max_size: u32,
    /// `wide_incidents`: mean responders per incident at or above this
    pub wide_incident_responders: f64,
}
impl Default for RotationThresholds {
    fn default() -> Self {
        Self { min_single_site: 8, min_per_site: 6, max_services_per_person: 3.0, max_size: 12, wide_incident_responders: 3.0 }
    }
}

/// `[docs]` thresholds (SPEC §2.7).
#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields, default)]
pub struct DocsThresholds {
    pub max_review_age_days: i64,
}
impl Default for DocsThresholds {
    fn default() -> Self {
        Self { max_review_age_days: 90 }
    }
}

