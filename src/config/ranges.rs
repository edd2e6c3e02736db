//! The range of every numeric key of `ownermap.toml` (§1.5, §4): checked
//! once, when the file is read, so a value that cannot mean anything (a
//! negative memory limit, zero partitions, a share above 1) is refused
//! naming its key (exit 2) instead of failing late or being believed.

use super::file::RawConfig;
use crate::error::{Error, Result};

/// The most a `[changes]` rise may ask for: +10 000 %.
const MAX_RISE: f64 = 100.0;
/// A count no organisation reaches (requests, calls, fires).
const MAX_COUNT: f64 = 1e15;

/// `key = v` must lie in lo..=hi (a finite number).
fn within(key: &str, v: f64, lo: f64, hi: f64) -> Result<()> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::Config(format!("{key} = {v}: expected a number from {lo} to {hi}")))
    }
}

/// `key = v` must be above 0 and at most hi.
fn positive(key: &str, v: f64, hi: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 && v <= hi {
        Ok(())
    } else {
        Err(Error::Config(format!("{key} = {v}: expected a number above 0 and at most {hi}")))
    }
}

/// Checks every numeric key the file sets (defaults are in range).
pub fn check(raw: &RawConfig) -> Result<()> {
    let (l, r, c) = (&raw.load, &raw.rotation, &raw.changes);
    within("load.max_pages_per_12h", l.max_pages_per_12h, 0.0, 1e4)?;
    within("load.min_pages_per_week", l.min_pages_per_week, 0.0, 1e6)?;
    within("rotation.min_single_site", r.min_single_site as f64, 1.0, 1e4)?;
    within("rotation.min_per_site", r.min_per_site as f64, 1.0, 1e4)?;
    positive("rotation.max_services_per_person", r.max_services_per_person, 1e6)?;
    within("rotation.max_size", r.max_size as f64, 1.0, 1e6)?;
    within("rotation.wide_incident_responders", r.wide_incident_responders, 0.0, 1e6)?;
    within("docs.max_review_age_days", raw.docs.max_review_age_days as f64, 0.0, 36_500.0)?;
    if let Some(s) = &raw.survey {
        if let Some(v) = s.expert_level {
            within("survey.expert_level", v as f64, 0.0, 3.0)?;
        }
        if let Some(v) = s.min_happiness {
            within("survey.min_happiness", v, 1.0, 5.0)?;
        }
    }
    let a = &raw.alerts;
    within("alerts.transient_minutes", a.transient_minutes, 0.0, 43_200.0)?;
    within("alerts.min_fires", a.min_fires as f64, 1.0, MAX_COUNT)?;
    within("alerts.max_noise_share", a.max_noise_share, 0.0, 1.0)?;
    within("postmortems.max_severity", raw.postmortems.max_severity as f64, 0.0, 1000.0)?;
    within("postmortems.due_days", raw.postmortems.due_days as f64, 0.0, 3650.0)?;
    within("critical_path.min_requests", raw.critical_path.min_requests as f64, 0.0, MAX_COUNT)?;
    within("report.min_edge_calls", raw.report.min_edge_calls as f64, 0.0, MAX_COUNT)?;
    for (key, v, hi) in [
        ("changes.pages_rise_pct", c.pages_rise_pct, MAX_RISE),
        ("changes.pages_rise_min", c.pages_rise_min, MAX_COUNT),
        ("changes.mtta_rise_pct", c.mtta_rise_pct, MAX_RISE),
        ("changes.mtta_rise_min", c.mtta_rise_min, MAX_COUNT),
        ("changes.surfaced_rise_pct", c.surfaced_rise_pct, MAX_RISE),
        ("changes.surfaced_rise_min", c.surfaced_rise_min, MAX_COUNT),
        ("changes.docs_score_drop", c.docs_score_drop, 1.0),
        ("changes.error_rate_rise", c.error_rate_rise, 1.0),
        ("changes.error_rate_factor", c.error_rate_factor, MAX_COUNT),
        ("changes.p99_rise_pct", c.p99_rise_pct, MAX_RISE),
        ("changes.p99_rise_ms", c.p99_rise_ms, MAX_COUNT),
        ("changes.p99_min_requests", c.p99_min_requests, MAX_COUNT),
    ] {
        within(key, v, 0.0, hi)?;
    }
    if let Some(m) = raw.window.trace_slack_minutes {
        // The slack follows a trace for at most a day past its first (§2).
        within("window.trace_slack_minutes", m as f64, 0.0, 1440.0)?;
    }
    if let Some(p) = raw.engine.target_partitions {
        within("engine.target_partitions", p as f64, 1.0, 1024.0)?;
    }
    if let Some(k) = raw.engine.trace_buckets {
        within("engine.trace_buckets", k as f64, 1.0, 4096.0)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(toml: &str) -> String {
        let raw: RawConfig = toml::from_str(toml).unwrap();
        check(&raw).unwrap_err().to_string()
    }

    #[test]
    fn values_that_cannot_mean_anything_are_refused_naming_the_key() {
        for (toml, key) in [
            ("[engine]\ntarget_partitions = 0\n", "engine.target_partitions = 0"),
            ("[engine]\ntrace_buckets = 0\n", "engine.trace_buckets = 0"),
            ("[engine]\ntarget_partitions = 100000\n", "engine.target_partitions"),
            ("[alerts]\nmax_noise_share = 1.5\n", "alerts.max_noise_share = 1.5"),
            ("[alerts]\nmin_fires = 0\n", "alerts.min_fires"),
            ("[rotation]\nmax_services_per_person = 0.0\n", "rotation.max_services_per_person"),
            ("[rotation]\nmin_single_site = 0\n", "rotation.min_single_site"),
            ("[load]\nmax_pages_per_12h = -1.0\n", "load.max_pages_per_12h = -1"),
            ("[load]\nmax_pages_per_12h = nan\n", "load.max_pages_per_12h = NaN"),
            ("[changes]\ndocs_score_drop = 2.0\n", "changes.docs_score_drop"),
            ("[docs]\nmax_review_age_days = -5\n", "docs.max_review_age_days"),
            ("[window]\ntrace_slack_minutes = 100000\n", "window.trace_slack_minutes"),
            ("[survey]\npath = \"s.csv\"\nmin_happiness = 9.0\n", "survey.min_happiness"),
        ] {
            let e = refused(toml);
            assert!(e.contains(key), "{toml}: {e}");
        }
    }

    #[test]
    fn the_defaults_and_the_documented_examples_are_in_range() {
        check(&RawConfig::default()).unwrap();
        let raw: RawConfig = toml::from_str("[engine]\ntarget_partitions = 2\ntrace_buckets = 4\n[window]\ntrace_slack_minutes = 10\n[alerts]\nmax_noise_share = 0.5\n").unwrap();
        check(&raw).unwrap();
    }
}
