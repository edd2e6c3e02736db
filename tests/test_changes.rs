//! Week over week (SPEC §2.8) on two stored weeks written by hand: every
//! notable rule exactly at its threshold and just below it, a missing
//! previous week, and a re-run week that never compares with itself.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::*;
use ownermap::analysis::changes::{figures, week_over_week};
use ownermap::analysis::history;
use ownermap::config::ChangeThresholds;
use ownermap::table::{ColType, ColType::*, Rows, Table, i, s};

fn team_load(week: &str, rows: &[(&str, i64, i64, f64)]) -> Table {
    let mut t = Rows::new(&[("team", Text), ("week", Text), ("pages", Int), ("sleep_pages", Int), ("mtta_min", Float)]);
    for (team, pages, sleep, mtta) in rows {
        t.push(vec![s(*team), s(week), i(*pages), i(*sleep), ownermap::table::f(*mtta)]);
        // Another week's row of the same team is not this week's figure.
        t.push(vec![s(*team), s("2026-W40"), i(99), i(99), ownermap::table::f(99.0)]);
    }
    t.finish().unwrap()
}

fn two_cols(names: [&str; 2], value: ColType, rows: &[(&str, f64)]) -> Table {
    let mut t = Rows::new(&[(names[0], Text), (names[1], value)]);
    for (k, v) in rows {
        t.push(vec![s(*k), if value == Int { i(*v as i64) } else { ownermap::table::f(*v) }]);
    }
    t.finish().unwrap()
}

fn services(rows: &[(&str, i64, f64, f64)]) -> Table {
    let mut t = Rows::new(&[("service", Text), ("requests", Int), ("error_rate", Float), ("p99_ms", Float)]);
    for (svc, req, er, p99) in rows {
        t.push(vec![s(*svc), i(*req), ownermap::table::f(*er), ownermap::table::f(*p99)]);
    }
    t.finish().unwrap()
}

fn slos(rows: &[(&str, &str, f64, f64)]) -> Table {
    let mut t = Rows::new(&[("service", Text), ("slo", Text), ("objective", Float), ("attainment", Float)]);
    for (svc, slo, obj, att) in rows {
        t.push(vec![s(*svc), s(*slo), ownermap::table::f(*obj), ownermap::table::f(*att)]);
    }
    t.finish().unwrap()
}

fn edges(rows: &[(&str, &str, &str, i64)]) -> Table {
    let mut t = Rows::new(&[("caller", Text), ("callee", Text), ("callee_type", Text), ("kind", Text), ("calls", Int)]);
    for (a, b, callee_type, c) in rows {
        t.push(vec![s(*a), s(*b), s(*callee_type), s("sync"), i(*c)]);
    }
    t.finish().unwrap()
}

fn docs(rows: &[(&str, &str, f64)]) -> Table {
    let mut t = Rows::new(&[("service", Text), ("team", Text), ("score", Float)]);
    for (svc, team, score) in rows {
        t.push(vec![s(*svc), s(*team), ownermap::table::f(*score)]);
    }
    t.finish().unwrap()
}

fn store(state: &Path, week: &str, tables: Vec<(&str, Table)>) {
    let refs: Vec<(&str, &Table)> = tables.iter().map(|(n, t)| (*n, t)).collect();
    history::store(state, week, &refs).unwrap();
}

fn last_week() -> Vec<(&'static str, Table)> {
    vec![
        ("team_load", team_load("2026-W46", &[("a", 6, 6, 10.0), ("b", 10, 0, 4.0)])),
        ("team_errors", two_cols(["team", "surfaced_elsewhere_caused"], Int, &[("a", 20.0), ("b", 0.0)])),
        ("docs_health", docs(&[("s1", "a", 0.9), ("s2", "b", 0.9)])),
        ("services", services(&[("s1", 100, 0.01, 100.0), ("s2", 99, 0.02, 100.0)])),
        ("slos", slos(&[("s1", "lat", 0.99, 0.995), ("s2", "avail", 0.999, 0.9995)])),
        // x calls a service v and a virtual node v: one subject, 6 + 6 calls
        ("edges", edges(&[("x", "y", "service", 10), ("x", "w", "service", 50), ("x", "v", "service", 6), ("x", "v", "external", 6)])),
    ]
}

fn this_week() -> Vec<(&'static str, Table)> {
    vec![
        ("team_load", team_load("2026-W47", &[("a", 9, 8, 15.0), ("b", 14, 0, 8.9)])),
        ("team_errors", two_cols(["team", "surfaced_elsewhere_caused"], Int, &[("a", 30.0), ("b", 9.0)])),
        ("docs_health", docs(&[("s1", "a", 0.8), ("s2", "b", 0.81)])),
        ("services", services(&[("s1", 100, 0.02, 120.0), ("s2", 99, 0.035, 120.0)])),
        ("slos", slos(&[("s1", "lat", 0.99, 0.985), ("s2", "avail", 0.999, 0.9991)])),
        ("edges", edges(&[("x", "z", "service", 9), ("x", "w", "service", 60), ("x", "v", "service", 12)])),
    ]
}

#[test]
fn each_notable_rule_fires_at_its_threshold_and_not_below() {
    let dir = tmp();
    let state = dir.path().join("state");
    store(&state, "2026-W46", last_week());
    store(&state, "2026-W47", this_week());
    let read = |w: &str| history::read_week(&state, w).unwrap().unwrap();
    let (last, this) = (figures("2026-W46", &read("2026-W46")), figures("2026-W47", &read("2026-W47")));
    let t = week_over_week(&this, Some(&last), &ChangeThresholds::default(), 10).unwrap();
    let got: BTreeMap<(String, String, String), (String, String, String, String)> = rows(&t)
        .into_iter()
        .map(|r| {
            ((r["subject_type"].clone(), r["subject"].clone(), r["metric"].clone()), (r["last_week"].clone(), r["this_week"].clone(), r["change"].clone(), r["notable"].clone()))
        })
        .collect();
    let notable = |k: (&str, &str, &str)| got.get(&(k.0.into(), k.1.into(), k.2.into())).unwrap_or_else(|| panic!("no row {k:?}: {got:#?}")).3 == "true";
    // Team a: each at its threshold.
    assert!(notable(("team", "a", "pages")), "6 → 9: +3 and +50 %");
    assert!(!notable(("team", "a", "sleep_pages")), "6 → 8: +2");
    assert!(notable(("team", "a", "mtta_min")), "10 → 15: +5 and +50 %");
    assert!(notable(("team", "a", "surfaced_elsewhere_caused")), "20 → 30: +10 and +50 %");
    assert!(notable(("team", "a", "docs_score")), "0.9 → 0.8: −0.1");
    // Team b: just below each.
    assert!(!notable(("team", "b", "pages")), "10 → 14: +40 %");
    assert!(!notable(("team", "b", "mtta_min")), "4 → 8.9: +4.9");
    assert!(!notable(("team", "b", "surfaced_elsewhere_caused")), "0 → 9: +9");
    assert!(!notable(("team", "b", "docs_score")), "0.9 → 0.81");
    assert!(notable(("service", "s1", "error_rate")), "0.01 → 0.02: +1 point and 2×");
    assert!(notable(("service", "s1", "p99_ms")), "100 → 120 ms: +20 % and +20 ms at 100 requests");
    assert!(!notable(("service", "s2", "error_rate")), "0.02 → 0.035: under 2×");
    assert!(!notable(("service", "s2", "p99_ms")), "99 requests");
    assert!(!notable(("service", "s1", "requests")));
    assert!(notable(("slo", "s1/lat", "attainment")), "met → missed");
    assert!(!notable(("slo", "s2/avail", "attainment")), "met both weeks");
    assert!(notable(("edge", "x -> y (sync)", "calls")), "vanished with 10 calls");
    assert!(!notable(("edge", "x -> z (sync)", "calls")), "appeared with 9 calls");
    assert!(!notable(("edge", "x -> w (sync)", "calls")));
    // SPEC §2.8: the callee types of one caller, callee and kind summed
    let v = &got[&("edge".into(), "x -> v (sync)".into(), "calls".into())];
    assert_eq!((v.0.as_str(), v.1.as_str(), v.2.as_str()), ("12.0", "12.0", "0.0"));
    // Values, change, and an empty change where a week lacks the metric.
    assert_eq!(got[&("team".into(), "a".into(), "pages".into())], ("6.0".into(), "9.0".into(), "3.0".into(), "true".into()));
    assert_eq!(got[&("edge".into(), "x -> y (sync)".into(), "calls".into())], ("10.0".into(), "".into(), "".into(), "true".into()));
    // Notable rows come first: the worse ones, by how much they matter,
    // then the vanished edge (neither worse nor better). Sizes: error rate
    // 0.01 / max(0.01, 0.01) = 1 and attainment 0.01 / (1 − 0.99) = 1 (one
    // error budget); mtta 5 / max(10, 5), pages 3 / max(6, 3) and surfaced
    // 10 / max(20, 10) all 0.5 (then by key); p99 20 / max(100, 5) = 0.2;
    // docs score 0.1 / 0.9.
    let order: Vec<String> = rows(&t).iter().take_while(|r| r["notable"] == "true").map(|r| format!("{}/{}", r["subject"], r["metric"])).collect();
    let mut top: Vec<&str> = order[..2].iter().map(String::as_str).collect();
    top.sort();
    assert_eq!(top, vec!["s1/error_rate", "s1/lat/attainment"], "{order:?}");
    assert_eq!(
        order[2..],
        ["a/mtta_min", "a/pages", "a/surfaced_elsewhere_caused", "s1/p99_ms", "a/docs_score", "x -> y (sync)/calls"],
        "{order:?}"
    );
    // Without a stored previous week there is no comparison.
    assert_eq!(week_over_week(&this, None, &ChangeThresholds::default(), 10).unwrap().num_rows(), 0);
}

#[test]
fn a_run_compares_with_the_week_before_and_a_rerun_never_with_itself() {
    let dir = tmp();
    let t1 = "ee000000000000000000000000000031";
    let t2 = "ee000000000000000000000000000032";
    write_spans(
        &spans_path(dir.path(), "date=2026-11-14/s.parquet"),
        &[span(t1, "0000000000000001", "", "x", "Server", 0, 10).at_ns(DAY0 - 5 * DAY)],
        Ids::Hex,
    );
    write_spans(&spans_path(dir.path(), "date=2026-11-20/s.parquet"), &[span(t2, "0000000000000001", "", "x", "Server", 0, 30)], Ids::Hex);
    let week = |end: &str| week_config(dir.path(), end);
    let first = run(&week("2026-11-22"));
    assert_eq!(table(&first, "week_over_week").num_rows(), 0, "nothing stored: no comparison");
    let w46 = week("2026-11-15");
    ownermap::pipeline::publish(&w46, &w46.out_dir, &run(&w46)).unwrap();
    for _ in 0..2 {
        // Run and re-run week 47: both compare with week 46.
        let cfg = week("2026-11-22");
        let r = run(&cfg);
        assert_eq!(r.compared_with.as_deref(), Some("2026-W46"));
        let p99 = one(&r, "week_over_week", &[("subject", "x"), ("metric", "p99_ms")]);
        assert_eq!((f(&p99, "last_week").round(), f(&p99, "this_week").round()), (10.0, 30.0), "{p99:?}");
        ownermap::pipeline::publish(&cfg, &cfg.out_dir, &r).unwrap();
    }
}

/// `backfill --weeks 3` on a generated organisation with two earlier weeks
/// of spans: both stored (history only), the week without spans skipped and
/// named, and the next nightly run compares with the week before it.
#[test]
fn backfill_fills_the_history_so_the_first_run_has_a_comparison() {
    let dir = generated(8, 21, 400, 5);
    let cfg = dir.path().join("ownermap.toml");
    let o = ownermap(&["backfill", "--config", cfg.to_str().unwrap(), "--weeks", "3"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("skipped 2026-W44"), "{err}");
    assert_eq!(history::stored_weeks(&dir.path().join("state")), vec!["2026-W45", "2026-W46"]);
    assert!(!dir.path().join("out").exists(), "backfill publishes no report");
    let o = ownermap(&["run", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let wow = std::fs::read_to_string(dir.path().join("out/data/week_over_week.csv")).unwrap();
    assert!(wow.lines().count() > 10, "{wow}");
    let index = std::fs::read_to_string(dir.path().join("out/index.html")).unwrap();
    assert!(!index.contains("no comparison yet"), "the index compares with 2026-W46");
}
