//! `ownermap.toml` (SPEC §1.5): what the user wrote ([`RawConfig`], unknown
//! keys rejected) and the validated [`Config`] the pipeline takes (paths
//! resolved against the config file's folder, window computed, thresholds
//! defaulted). Nothing downstream re-reads flags or the file.
//!
//! - [`file`]: the file's tables as serde reads them, and the threshold
//!   sections (used as they are once defaulted);
//! - [`values`]: sizes, durations and dates as the file spells them;
//! - [`ranges`]: the range of every numeric key, checked when it is read;
//! - [`paths`]: outputs and inputs never overlap.

pub mod file;
pub mod paths;
pub mod ranges;
pub mod values;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, Utc};

use crate::error::{Error, Result};
pub use file::{AlertThresholds, ChangeThresholds, CriticalPathSettings, DocsThresholds, GenerateSettings, LoadThresholds, OneOrMany, PostmortemThresholds, RawConfig, RawEngine, RawIncidents, RawOutput, RawPath, RawPaths, RawSpans, RawSurvey, RawWindow, ReportSettings, RotationThresholds, ServiceFrom, SurveyConfig};
pub use values::{default_memory_limit, parse_size};
use values::{parse_date, parse_duration};

/// Span file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SpanFormat {
    #[default]
    Parquet,
    Tempo,
    Csv,
}

/// A time unit for integer durations/timestamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Ns,
    Us,
    Ms,
    S,
}

impl Unit {
    fn parse(s: &str, key: &str) -> Result<Unit> {
        match s {
            "ns" => Ok(Unit::Ns),
            "us" | "µs" => Ok(Unit::Us),
            "ms" => Ok(Unit::Ms),
            "s" => Ok(Unit::S),
            _ => Err(Error::Config(format!("{key} = {s:?}: expected ns, us, ms or s"))),
        }
    }
    /// Multiplier to nanoseconds.
    pub fn to_ns(self) -> i64 {
        match self {
            Unit::Ns => 1,
            Unit::Us => 1_000,
            Unit::Ms => 1_000_000,
            Unit::S => 1_000_000_000,
        }
    }
}

/// Where and how spans are read.
#[derive(Debug, Clone)]
pub struct SpansConfig {
    pub path: String,
    pub format: SpanFormat,
    pub environment: Option<String>,
    pub duration_unit: Unit,
    pub timestamp_unit: Unit,
    pub service_from: Option<ServiceFrom>,
    pub root_parent: Option<String>,
    /// canonical column name → name in the user's files.
    pub columns: BTreeMap<String, String>,
    /// SPEC §2.14: read each trace's adjusted count (`auto`) or count
    /// every trace once (`off`)
    pub sampling: Sampling,
}

/// `[spans] sampling` (SPEC §2.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sampling {
    /// the adjusted count from the trace's deciding span
    #[default]
    Auto,
    /// every trace counts once
    Off,
}

/// The report window: `days` whole UTC days ending with `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub end: NaiveDate,
    pub days: u32,
    pub slack_minutes: u32,
}

impl Window {
    pub fn start(&self) -> NaiveDate {
        self.end - Duration::days(self.days as i64 - 1)
    }
    /// First nanosecond of the window (inclusive).
    pub fn start_ns(&self) -> i64 {
        day_start_ns(self.start())
    }
    /// First nanosecond after the window (exclusive).
    pub fn end_ns(&self) -> i64 {
        day_start_ns(self.end + Duration::days(1))
    }
    pub fn slack_ns(&self) -> i64 {
        self.slack_minutes as i64 * 60_000_000_000
    }
}

pub fn day_start_ns(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_nanos_opt().unwrap_or(i64::MAX)
}

#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub url: String,
    /// on a cluster: where intermediate tables are written (a folder the
    /// client and every executor reach at the same path)
    pub work_dir: PathBuf,
    pub memory_limit: Option<usize>,
    pub target_partitions: usize,
    /// process traces in this many buckets of hash(TraceId) (default: from
    /// the memory limit)
    pub trace_buckets: Option<usize>,
    /// on a cluster: the longest one distributed query may take before the
    /// run fails (exit 1, nothing published) instead of waiting forever
    pub job_timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub enum IncidentFormat {
    Csv,
    PagerDuty,
}

/// The validated configuration the pipeline runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub base_dir: PathBuf,
    pub spans: SpansConfig,
    pub catalog: Vec<PathBuf>,
    pub teams: Option<PathBuf>,
    pub incidents: Option<(PathBuf, IncidentFormat)>,
    /// an incident open longer than this is implausible (§4)
    pub incident_max_duration: std::time::Duration,
    pub window: Window,
    pub out_dir: PathBuf,
    pub state_dir: PathBuf,
    pub engine: EngineConfig,
    pub load: LoadThresholds,
    pub rotation: RotationThresholds,
    pub docs: DocsThresholds,
    pub changes: ChangeThresholds,
    pub report: ReportSettings,
    pub survey: SurveyConfig,
    pub alerts: AlertThresholds,
    pub postmortems: PostmortemThresholds,
    pub critical_path: CriticalPathSettings,
    pub generate: GenerateSettings,
    /// `run --full`: ignore the per-day cache (and refresh it)
    pub full: bool,
    /// Only the nightly `run` evicts cached days of other windows or
    /// configurations; `sql`, `graph` and `plan` add to the cache only.
    pub evict_cache: bool,
    /// Span files to leave out, with why: set by `run` after a query failed
    /// on damaged data inside a file ([`crate::input::spans::undecodable`]).
    pub skip_files: Vec<crate::canonical::SkippedFile>,
}

/// Command-line values that override the file (SPEC §1.5).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub end: Option<String>,
    pub days: Option<u32>,
    pub out: Option<PathBuf>,
    pub engine: Option<String>,
}


impl Config {
    /// Reads and validates a config file.
    pub fn load(path: &Path, ov: &Overrides) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::Config(format!("cannot read config {}: {e}", path.display()))
        })?;
        let raw: RawConfig = toml::from_str(&text)
            .map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let base = if base.as_os_str().is_empty() { PathBuf::from(".") } else { base };
        // Every problem found in the file names the file.
        Config::from_raw(raw, &base, ov).map_err(|e| match e {
            Error::Config(m) => Error::Config(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Validates a parsed config; relative paths resolve against `base`.
    pub fn from_raw(raw: RawConfig, base: &Path, ov: &Overrides) -> Result<Config> {
        ranges::check(&raw)?;
        let resolve = |p: &str| -> PathBuf {
            let pb = PathBuf::from(p);
            if pb.is_absolute() { pb } else { base.join(pb) }
        };
        let spans_path = raw.spans.path.clone().unwrap_or_else(|| "spans/".into());
        let spans_path = if spans_path.contains("://") {
            spans_path
        } else {
            resolve(&spans_path).to_string_lossy().into_owned()
        };
        let format = match raw.spans.format.as_deref().unwrap_or("parquet") {
            "parquet" => SpanFormat::Parquet,
            "tempo" => SpanFormat::Tempo,
            "csv" => SpanFormat::Csv,
            f => return Err(Error::Config(format!("spans.format = {f:?}: expected parquet, tempo or csv"))),
        };
        if let Some(sf) = &raw.spans.service_from {
            regex::Regex::new(&sf.regex)
                .map_err(|e| Error::Config(format!("spans.service_from.regex: {e}")))?;
        }
        for k in raw.spans.columns.keys() {
            if !crate::canonical::CANONICAL_COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(k)) {
                return Err(Error::Config(format!(
                    "spans.columns.{k}: not a canonical column (expected one of {})",
                    crate::canonical::CANONICAL_COLUMNS.join(", ")
                )));
            }
        }
        let spans = SpansConfig {
            path: spans_path,
            format,
            environment: raw.spans.environment.clone().filter(|s| !s.is_empty()),
            duration_unit: Unit::parse(raw.spans.duration_unit.as_deref().unwrap_or("ns"), "spans.duration_unit")?,
            timestamp_unit: Unit::parse(raw.spans.timestamp_unit.as_deref().unwrap_or("ns"), "spans.timestamp_unit")?,
            service_from: raw.spans.service_from.clone(),
            root_parent: raw.spans.root_parent.clone(),
            columns: raw.spans.columns.clone(),
            sampling: match raw.spans.sampling.as_deref().unwrap_or("auto") {
                "auto" => Sampling::Auto,
                "off" => Sampling::Off,
                other => return Err(Error::Config(format!("spans.sampling = {other:?}: expected auto or off"))),
            },
        };
        let catalog = match raw.catalog {
            None => vec![],
            Some(RawPaths { path: OneOrMany::One(p) }) => vec![resolve(&p)],
            Some(RawPaths { path: OneOrMany::Many(ps) }) => ps.iter().map(|p| resolve(p)).collect(),
        };
        let incidents = match &raw.incidents {
            None => None,
            Some(i) => {
                let f = match i.format.as_deref().unwrap_or("csv") {
                    "csv" => IncidentFormat::Csv,
                    "pagerduty" => IncidentFormat::PagerDuty,
                    f => return Err(Error::Config(format!("incidents.format = {f:?}: expected csv or pagerduty"))),
                };
                Some((resolve(&i.path), f))
            }
        };
        let incident_max_duration = match raw.incidents.as_ref().and_then(|i| i.max_duration.as_deref()) {
            Some(d) => parse_duration(d, "incidents.max_duration")?,
            None => std::time::Duration::from_secs(30 * 86_400),
        };
        let end = match ov.end.as_deref().or(raw.window.end.as_deref()) {
            Some(s) => parse_date(s, "window.end")?,
            None => Utc::now().date_naive() - Duration::days(1),
        };
        let days = ov.days.or(raw.window.days).unwrap_or(7);
        if days == 0 || days > 366 {
            return Err(Error::Config(format!("window.days = {days}: expected 1..=366")));
        }
        let window = Window { end, days, slack_minutes: raw.window.trace_slack_minutes.unwrap_or(10) };
        let out_dir = match &ov.out {
            Some(p) => p.clone(),
            None => resolve(raw.output.dir.as_deref().unwrap_or("out")),
        };
        let state_dir = resolve(raw.output.state_dir.as_deref().unwrap_or("state"));
        let url = ov.engine.clone().or(raw.engine.url.clone()).unwrap_or_else(|| "local".into());
        if url != "local" && !url.starts_with("ballista://") {
            return Err(Error::Config(format!("engine.url = {url:?}: expected \"local\" or \"ballista://host:port\"")));
        }
        if url.starts_with("ballista://") && !cfg!(feature = "ballista") {
            return Err(Error::Config(format!(
                "engine.url = {url:?}: this build has no Ballista support (build with --features ballista); only \"local\" runs here"
            )));
        }
        let memory_limit = match raw.engine.memory_limit.as_deref() {
            Some(s) if s.trim().eq_ignore_ascii_case("none") => None,
            Some(s) => Some(parse_size(s)?),
            // On a cluster the executors' own limits govern.
            None if url == "local" => Some(default_memory_limit()),
            None => None,
        };
        let survey = match &raw.survey {
            None => SurveyConfig::default(),
            Some(sv) => SurveyConfig {
                path: Some(resolve(&sv.path)),
                expert_level: sv.expert_level.unwrap_or(2),
                min_happiness: sv.min_happiness.unwrap_or(3.0),
            },
        };
        if !(0..=3).contains(&survey.expert_level) {
            return Err(Error::Config(format!("survey.expert_level = {}: expected 0..=3", survey.expert_level)));
        }
        let email = raw.generate.email_domain.trim();
        if email.is_empty() || email.contains(['@', ' ', '"', '\\', '/']) {
            return Err(Error::Config(format!("generate.email_domain = {email:?}: expected a domain like example.com")));
        }
        let engine = EngineConfig {
            url,
            work_dir: raw.engine.work_dir.as_deref().map(&resolve).unwrap_or_else(|| state_dir.join("cluster-work")),
            memory_limit,
            trace_buckets: raw.engine.trace_buckets,
            job_timeout: match raw.engine.job_timeout.as_deref() {
                Some(t) => parse_duration(t, "engine.job_timeout")?,
                None => std::time::Duration::from_secs(600),
            },
            target_partitions: raw.engine.target_partitions.unwrap_or_else(|| {
                std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)
            }),
        };
        let teams = raw.teams.map(|t| resolve(&t.path));
        let span_root = paths::span_root(&spans.path);
        let mut reads: Vec<(&str, &Path)> = catalog.iter().map(|p| ("catalog.path", p.as_path())).collect();
        reads.extend(span_root.as_deref().map(|p| ("spans.path", p)));
        reads.extend(teams.as_deref().map(|p| ("teams.path", p)));
        reads.extend(incidents.as_ref().map(|(p, _)| ("incidents.path", p.as_path())));
        reads.extend(survey.path.as_deref().map(|p| ("survey.path", p)));
        let out_key = if ov.out.is_some() { "--out" } else { "output.dir" };
        paths::check(&[(out_key, &out_dir), ("output.state_dir", &state_dir)], &reads)?;
        Ok(Config {
            base_dir: base.to_path_buf(),
            spans,
            catalog,
            teams,
            incidents,
            incident_max_duration,
            window,
            out_dir,
            state_dir,
            engine,
            load: raw.load,
            rotation: raw.rotation,
            docs: raw.docs,
            changes: raw.changes,
            report: raw.report,
            survey,
            alerts: raw.alerts,
            postmortems: raw.postmortems,
            critical_path: raw.critical_path,
            generate: raw.generate,
            full: false,
            evict_cache: false,
            skip_files: vec![],
        })
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_timeout_takes_seconds_minutes_hours_and_defaults_to_ten_minutes() {
        use std::time::Duration;
        assert_eq!(parse_duration("90s", "k").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("10m", "k").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("1.5h", "k").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("45", "k").unwrap(), Duration::from_secs(45));
        assert_eq!(parse_duration("30d", "k").unwrap(), Duration::from_secs(30 * 86_400));
        for bad in ["", "0s", "-1m", "ten minutes", "5w", "1e300h"] {
            let e = parse_duration(bad, "engine.job_timeout").unwrap_err().to_string();
            assert!(e.contains("engine.job_timeout"), "{bad}: {e}");
        }
        let raw: RawConfig = toml::from_str("[spans]\npath = \"s\"\n").unwrap();
        let c = Config::from_raw(raw, Path::new("/x"), &Overrides::default()).unwrap();
        assert_eq!(c.engine.job_timeout, Duration::from_secs(600));
    }

    #[test]
    fn a_local_run_without_a_memory_limit_gets_one_from_the_machine() {
        let cfg = |toml_text: &str, engine: Option<&str>| {
            let raw: RawConfig = toml::from_str(&format!("[spans]\npath = \"s\"\n{toml_text}")).unwrap();
            let ov = Overrides { engine: engine.map(String::from), ..Default::default() };
            Config::from_raw(raw, Path::new("/x"), &ov).map(|c| c.engine.memory_limit)
        };
        let d = default_memory_limit();
        assert!((256 << 20..=1 << 30).contains(&d), "{d}");
        assert_eq!(cfg("", None).unwrap(), Some(d));
        assert_eq!(cfg("[engine]\nmemory_limit = \"3g\"\n", None).unwrap(), Some(3 << 30));
        assert_eq!(cfg("[engine]\nmemory_limit = \"none\"\n", None).unwrap(), None);
        assert_eq!(cfg("[engine]\nmemory_limit = \" None \"\n", None).unwrap(), None);
        let e = cfg("[engine]\nmemory_limit = \"lots\"\n", None).unwrap_err().to_string();
        assert!(e.contains("engine.memory_limit") && e.contains("none"), "{e}");
        if cfg!(feature = "ballista") {
            // On a cluster the executors' limits govern.
            assert_eq!(cfg("", Some("ballista://h:50050")).unwrap(), None);
        }
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let err = toml::from_str::<RawConfig>("[window]\ndayz = 3\n").unwrap_err();
        assert!(err.to_string().contains("dayz"), "{err}");
    }

    #[test]
    fn window_bounds_and_overrides() {
        let raw: RawConfig = toml::from_str("[window]\ndays = 7\nend = \"2026-11-22\"\n").unwrap();
        let ov = Overrides { days: Some(2), ..Default::default() };
        let c = Config::from_raw(raw, Path::new("/x"), &ov).unwrap();
        assert_eq!(c.window.start(), NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(c.window.end_ns() - c.window.start_ns(), 2 * 86_400 * 1_000_000_000);
        assert_eq!(c.out_dir, PathBuf::from("/x/out"));
        assert_eq!(c.spans.path, "/x/spans/");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4g").unwrap(), 4 << 30);
        assert_eq!(parse_size("512M").unwrap(), 512 << 20);
        assert!(parse_size("lots").is_err());
        for bad in ["-1g", "0", "99999999g", "nan", "inf"] {
            let e = parse_size(bad).unwrap_err().to_string();
            assert!(e.contains("engine.memory_limit"), "{bad}: {e}");
        }
    }
}

