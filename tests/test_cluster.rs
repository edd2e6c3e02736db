//! SPEC §5 "Many machines" (cargo feature `ballista`): the whole pipeline on
//! an in-process (standalone) Ballista cluster gives the local run's tables.
#![cfg(feature = "ballista")]

mod common;

use common::*;

/// The committed sample's 7-day window, with traces crossing every
/// midnight (so every day's seam runs): this hung at the first seam before
/// the adaptive planner was turned off (#17). A job over 2 minutes fails
/// the test instead of hanging it.
#[test]
fn the_pipeline_on_a_standalone_ballista_cluster_equals_the_local_run() {
    let dir = tmp();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/ownermap.toml");
    let load = |url: &str, state: &str| {
        let ov = ownermap::config::Overrides { engine: Some(url.into()), ..Default::default() };
        let mut cfg = ownermap::config::Config::load(&sample, &ov).unwrap();
        cfg.state_dir = dir.path().join(state);
        cfg.engine.work_dir = dir.path().join(state).join("cluster-work");
        cfg.engine.job_timeout = std::time::Duration::from_secs(120);
        cfg
    };
    let local = run(&load("local", "state-local"));
    let cluster_cfg = load("ballista://standalone", "state-cluster");
    let cluster = run(&cluster_cfg);
    assert!(local.summary.traces > 500);
    assert_eq!(local.summary.window_days, 7);
    for (name, t) in &local.tables {
        assert_eq!(rows(t), rows(table(&cluster, name)), "table {name} on Ballista");
    }
    let (a, b) = (&local.summary, &cluster.summary);
    assert_eq!(
        (a.traces, a.spans_read, a.spans_in_window, a.unresolved_calls, a.anchor_walks_cut),
        (b.traces, b.spans_read, b.spans_in_window, b.unresolved_calls, b.anchor_walks_cut)
    );
    // The SQL plan of a cluster does not look for parent loops (§4.1).
    assert_eq!((a.traces_with_cycles, b.traces_with_cycles), (Some(0), None));
    // The intermediate tables written for the executors are removed.
    let work = cluster_cfg.engine.work_dir;
    assert!(std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0) == 0, "{} is not empty", work.display());
}

/// SPEC §2.14 on a cluster: a tail-sampled organisation (errors kept with
/// weight 1, the rest with weight 4) gives the local run's weighted tables.
#[test]
fn weighted_tables_on_a_ballista_cluster_equal_the_local_run() {
    let (dir, state) = (tmp(), tmp());
    let end = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let policy = "tail:0.25".parse().unwrap();
    let opt = ownermap::generate::GenOptions { out: dir.path().to_path_buf(), services: 12, days: 2, spans_per_day: 10_000, seed: 41, end, layout: Default::default(), sampling: Some(policy), links: false };
    ownermap::generate::generate(&opt, |_, _| {}).unwrap();
    let load = |url: &str, name: &str| {
        let ov = ownermap::config::Overrides { engine: Some(url.into()), ..Default::default() };
        let mut cfg = ownermap::config::Config::load(&dir.path().join("ownermap.toml"), &ov).unwrap();
        cfg.state_dir = state.path().join(name);
        cfg.out_dir = state.path().join(name).join("out");
        cfg.engine.work_dir = state.path().join(name).join("cluster-work");
        cfg.engine.job_timeout = std::time::Duration::from_secs(120);
        cfg
    };
    let local = run(&load("local", "local"));
    let cluster = run(&load("ballista://standalone", "cluster"));
    assert!(local.summary.sampling.weighted_traces > 0);
    assert_eq!(local.summary.sampling, cluster.summary.sampling);
    for (name, t) in &local.tables {
        assert_eq!(rows(t), rows(table(&cluster, name)), "table {name} on Ballista");
    }
}
