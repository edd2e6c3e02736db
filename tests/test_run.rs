//! The real binary on small inputs: outputs and their columns, exit codes,
//! bad input, atomic publication and the output lock (SPEC §3, §4).

mod common;

use std::path::Path;

use common::*;




fn header(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap().lines().next().unwrap().to_string()
}

#[test]
fn run_writes_every_table_with_the_spec_columns() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let out = dir.path().join("report");
    let o = ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let data = out.join("data");
    assert_eq!(
        header(&data.join("services.csv")),
        "service,team,requests,root_requests,errors,error_rate,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,observed_requests"
    );
    assert_eq!(
        header(&data.join("operations.csv")),
        "service,operation,team,requests,errors,error_rate,p50_ms,p90_ms,p95_ms,p99_ms,p999_ms,max_ms,observed_requests"
    );
    assert_eq!(header(&data.join("service_daily.csv")), "service,date,requests,errors,p50_ms,p99_ms");
    assert_eq!(
        header(&data.join("edges.csv")),
        "caller,callee,callee_type,kind,calls,errors,error_rate,p50_ms,p90_ms,p99_ms,server_p50_ms,server_p99_ms,caller_team,callee_team,observed_calls"
    );
    for (t, cols) in [
        ("team_graph", "caller_team,callee_team,calls,errors"),
        ("edge_diff", "caller,callee,callee_type,kind,change,calls_this_week,calls_last_week"),
        ("attribution", "signal_service,signal_operation,culprit_service,culprit_team,traces"),
        ("team_errors", "team,surfaced_elsewhere_caused,caused_elsewhere"),
        ("misrouted", "incident_id,incident_team,culprit_service,culprit_team"),
        ("slos", "service,slo,kind,objective,latency_ms,valid,good,attainment,met,error_budget,budget_used"),
        ("derived_slos", "service,driven_by,depth,quantile,threshold_ms,observed_ms,fits"),
        ("team_load", "team,week,incidents,pages,business_pages,off_hours_pages,sleep_pages,mtta_min,mtta_p90_min,mttr_min,mttr_p90_min,interruption_hours,mean_responders,rotation_size,shifts,pages_per_shift,pages_per_12h,services_owned,services_per_oncall"),
        ("rotation_verdicts", "team,verdict,figure,threshold,detail"),
        ("split_plans", "team,group,services,pages_per_12h,needed_rotation_size,crossing_calls,experts,uncovered"),
        ("docs_health", "service,team,owner_set,owner_known,description,runbook,dashboard,alerts,reviewed,telemetry,score"),
        ("ownership_gaps", "service,requests"),
        ("dependency_drift", "service,dependency,drift"),
        ("week_over_week", "subject_type,subject,metric,last_week,this_week,change,notable"),
        ("expertise", "team,services_owned,services_covered,expert_coverage,bus_factor,uncovered,respondents,happiness"),
        ("alerts", "service,team,alert,fires,pages,transient,unacknowledged,sleep_pages,median_ttr_min,noisy"),
        ("postmortems", "team,severe_incidents,with_postmortem,pending,missing,coverage,users_impacted,missing_ids"),
    ] {
        assert_eq!(header(&data.join(format!("{t}.csv"))), cols, "{t}");
    }
    for t in ["services", "operations", "edges", "service_daily", "team_graph", "team_load", "docs_health"] {
        assert!(data.join(format!("{t}.parquet")).exists());
    }
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(data.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["spans_in_window"], 3);
    assert_eq!(summary["traces"], 1);
    assert_eq!(summary["window_start"], "2026-11-20");
    assert!(summary["stages"].as_array().unwrap().len() >= 4);
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("<h2>Teams</h2>"));
    let graph = std::fs::read_to_string(out.join("graph.html")).unwrap();
    assert!(graph.contains(">a</a>") && graph.contains(">b</a>"), "edges table links both services");
    for f in ["graph.svg", "graph.dot", "graph.mmd", "rotations.html", "style.css"] {
        assert!(out.join(f).exists(), "{f}");
    }
    // No staging directory is left next to the output.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-")).collect();
    assert!(leftovers.is_empty());
}

#[test]
fn a_corrupt_file_in_the_window_is_skipped_named_and_exits_3() {
    let dir = tmp();
    one_call_spans(dir.path());
    let bad = spans_path(dir.path(), "date=2026-11-21/broken.parquet");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"PAR1 this is not a parquet file").unwrap();
    let cfg = write_config(dir.path(), "");
    let out = dir.path().join("report");
    let o = ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.parquet"));
    let summary = std::fs::read_to_string(out.join("data/summary.json")).unwrap();
    assert!(summary.contains("broken.parquet"));
}

#[test]
fn a_missing_column_is_a_configuration_error_naming_file_and_column() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "[spans.columns]\nDuration = \"elapsed\"\n");
    let out = dir.path().join("report");
    let o = ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a.parquet") && err.contains("elapsed"), "{err}");
    assert!(!out.exists(), "no partial output");
}

#[test]
fn a_wrong_column_type_is_a_configuration_error() {
    let dir = tmp();
    one_call_spans(dir.path());
    // Map the duration onto a string column.
    let cfg = write_config(dir.path(), "[spans.columns]\nDuration = \"ServiceName\"\n");
    let out = dir.path().join("report");
    let o = ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("a.parquet") && err.contains("ServiceName") && err.contains("type"), "{err}");
}

#[test]
fn unknown_config_keys_and_bad_flags_exit_2() {
    let dir = tmp();
    let cfg = write_config(dir.path(), "[output]\ndirr = \"x\"\n");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("dirr"));
    assert_eq!(ownermap(&["run", "--nope"]).status.code(), Some(2));
    assert_eq!(ownermap(&["run", "--help"]).status.code(), Some(0));
}

#[test]
fn a_failed_run_leaves_the_previous_report_whole() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let out = dir.path().join("report");
    assert!(ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]).status.success());
    let before = std::fs::read_to_string(out.join("data/services.csv")).unwrap();
    let bad_cfg = write_config(dir.path(), "[spans.columns]\nDuration = \"elapsed\"\n");
    assert_eq!(ownermap(&["run", "--config", &bad_cfg, "--out", out.to_str().unwrap()]).status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(out.join("data/services.csv")).unwrap(), before);
}

#[test]
fn a_second_run_on_the_same_output_is_refused_while_the_lock_is_held() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let out = dir.path().join("report");
    let lock = std::fs::File::create(dir.path().join(".report.lock")).unwrap();
    lock.try_lock().unwrap();
    let o = ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("lock"));
    drop(lock);
    assert!(ownermap(&["run", "--config", &cfg, "--out", out.to_str().unwrap()]).status.success());
}

#[test]
fn the_committed_sample_data_runs_out_of_the_box() {
    let dir = tmp();
    let out = dir.path().join("out");
    let cfg = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/ownermap.toml");
    let o = ownermap(&["run", "--config", cfg, "--out", out.to_str().unwrap()]);
    assert!(matches!(o.status.code(), Some(0) | Some(3)), "{}", String::from_utf8_lossy(&o.stderr));
    let services = std::fs::read_to_string(out.join("data/services.csv")).unwrap();
    assert!(services.lines().count() > 10);
}

#[test]
fn lint_prints_one_line_per_failure_and_exits_1() {
    let dir = tmp();
    std::fs::write(dir.path().join("catalog.yaml"), "- name: a\n  team: t\n  description: d\n  links: { runbook: r, dashboard: d, alerts: a }\n  last_reviewed: 2026-11-01\n- name: b\n").unwrap();
    std::fs::write(dir.path().join("teams.yaml"), "- name: t\n  timezone: UTC\n").unwrap();
    let cfg = write_config(dir.path(), "[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n");
    let o = ownermap(&["lint", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let checks: Vec<&str> = out.lines().map(|l| l.split('\t').nth(1).unwrap()).collect();
    // b fails all seven catalog-only checks; a passes them all.
    assert_eq!(checks, vec!["owner_set", "owner_known", "description", "runbook", "dashboard", "alerts", "reviewed"]);
    assert!(out.lines().all(|l| l.starts_with("b\t")));
    std::fs::write(dir.path().join("catalog.yaml"), "- name: a\n  team: t\n  description: d\n  links: { runbook: r, dashboard: d, alerts: a }\n  last_reviewed: 2026-11-01\n").unwrap();
    assert_eq!(ownermap(&["lint", "--config", &cfg]).status.code(), Some(0));
}

/// The figures of a run's `summary.json` with what differs from run to run
/// (stage times, wall time, bytes of temporary paths) replaced.
fn stable_summary(text: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
    v["wall_seconds"] = serde_json::json!("[seconds]");
    for stage in v["stages"].as_array_mut().unwrap() {
        stage["seconds"] = serde_json::json!("[seconds]");
    }
    serde_json::to_string_pretty(&v).unwrap()
}

#[test]
fn a_small_runs_summary_json_is_as_recorded() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let summary = std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap();
    insta::assert_snapshot!(stable_summary(&summary));
}

#[test]
fn the_help_texts_are_as_recorded() {
    for args in [&["--help"][..], &["run", "--help"], &["sql", "--help"], &["plan", "--help"]] {
        let o = ownermap(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        let name = args.iter().map(|a| a.trim_start_matches('-')).collect::<Vec<_>>().join("_");
        insta::assert_snapshot!(name, String::from_utf8_lossy(&o.stdout));
    }
}
