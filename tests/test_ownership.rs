//! Worked fixtures for the ownership analytics (SPEC §2.4–2.8): derived SLOs
//! (the seed example, and propagation through a cycle), SLO attainment,
//! attribution with a misrouted incident, docs checks with every failure
//! kind, the Backstage reader, idempotent history and the edge diff.

mod common;

use std::path::Path;

use common::*;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

const FILES: &str = "[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n[incidents]\npath = \"incidents.csv\"\n";

/// The seed example. Each of 4 A requests (1000 ms) calls B twice (250 ms
/// each) and C once (100 ms); each B request calls D once (50 ms); D also
/// calls B in traces of its own (a cycle B→D→B).
///
/// A: p99 < 5000 ms.
/// - B: n = 2 calls per A request → q = 1 − 0.01/2 = 0.995; share = median
///   of (250+250)/1000 = 0.5 → T = 2500 ms; observed p99.5 of A→B = 250.
/// - C: n = 1 → q = 0.99; share = 100/1000 = 0.1 → T = 500 ms; observed 100.
/// - D (depth 2, via B): B requests that call D: 8, each once → n = 1,
///   q = 1 − 0.005/1 = 0.995; share = 50/250 = 0.2 → T = 2500·0.2 = 500 ms.
/// - The chain A→B→D→B repeats B and is not followed.
fn seed_spans() -> Vec<S> {
    let mut v = vec![];
    const T: [&str; 4] = [
        "bb000000000000000000000000000001",
        "bb000000000000000000000000000002",
        "bb000000000000000000000000000003",
        "bb000000000000000000000000000004",
    ];
    const IDS: [[&str; 10]; 4] = [
        ["0000000000001001", "0000000000001002", "0000000000001003", "0000000000001004", "0000000000001005", "0000000000001006", "0000000000001007", "0000000000001008", "0000000000001009", "000000000000100a"],
        ["0000000000002001", "0000000000002002", "0000000000002003", "0000000000002004", "0000000000002005", "0000000000002006", "0000000000002007", "0000000000002008", "0000000000002009", "000000000000200a"],
        ["0000000000003001", "0000000000003002", "0000000000003003", "0000000000003004", "0000000000003005", "0000000000003006", "0000000000003007", "0000000000003008", "0000000000003009", "000000000000300a"],
        ["0000000000004001", "0000000000004002", "0000000000004003", "0000000000004004", "0000000000004005", "0000000000004006", "0000000000004007", "0000000000004008", "0000000000004009", "000000000000400a"],
    ];
    for k in 0..4 {
        let (t, id) = (T[k], IDS[k]);
        let base = k as i64 * 10_000;
        v.push(span(t, id[0], "", "a", "Server", base, 1000).name("GET /a"));
        // two calls to b, each with a call to d
        for (c, srv, dc, ds, at) in [(1, 2, 3, 4, 0), (5, 6, 7, 8, 300)] {
            v.push(span(t, id[c], id[0], "a", "Client", base + at, 250));
            v.push(span(t, id[srv], id[c], "b", "Server", base + at, 250));
            v.push(span(t, id[dc], id[srv], "b", "Client", base + at + 10, 50));
            v.push(span(t, id[ds], id[dc], "d", "Server", base + at + 10, 50));
        }
        v.push(span(t, id[9], id[0], "a", "Client", base + 600, 100));
        v.push(span(t, "00000000000000c1", id[9], "c", "Server", base + 600, 100));
    }
    // d calling b: the cycle
    v.push(span("bb0000000000000000000000000000d1", "000000000000d001", "", "d", "Server", 50_000, 100));
    v.push(span("bb0000000000000000000000000000d1", "000000000000d002", "000000000000d001", "d", "Client", 50_010, 40));
    v.push(span("bb0000000000000000000000000000d1", "000000000000d003", "000000000000d002", "b", "Server", 50_010, 40));
    v
}

#[test]
fn derived_slos_reproduce_the_seed_example_and_stop_at_cycles() {
    let dir = tmp();
    write_spans(&spans_path(dir.path(), "s.parquet"), &seed_spans(), Ids::Hex);
    write(
        dir.path(),
        "catalog.yaml",
        "- name: a\n  team: front\n  slos:\n    - { name: a-latency, objective: 0.99, latency_ms: 5000 }\n- name: b\n  team: back\n- name: c\n  team: back\n- name: d\n  team: back\n",
    );
    let r = run(&config(dir.path(), "[catalog]\npath = \"catalog.yaml\"\n"));
    let derived = rows(table(&r, "derived_slos"));
    assert_eq!(derived.len(), 3, "{derived:?}");
    let b = one(&r, "derived_slos", &[("service", "b")]);
    assert_eq!((b["driven_by"].as_str(), b["depth"].as_str()), ("a/a-latency", "1"));
    assert!((f(&b, "quantile") - 0.995).abs() < 1e-12);
    assert!((f(&b, "threshold_ms") - 2500.0).abs() < 1e-9);
    // observed comes from the edge's sketch: within the §2.3 contract.
    assert!((f(&b, "observed_ms") / 250.0 - 1.0).abs() < 0.01);
    assert_eq!(b["fits"], "true");
    let c = one(&r, "derived_slos", &[("service", "c")]);
    assert!((f(&c, "quantile") - 0.99).abs() < 1e-12);
    assert!((f(&c, "threshold_ms") - 500.0).abs() < 1e-9);
    let d = one(&r, "derived_slos", &[("service", "d")]);
    assert_eq!(d["depth"], "2");
    assert!((f(&d, "quantile") - 0.995).abs() < 1e-12);
    assert!((f(&d, "threshold_ms") - 500.0).abs() < 1e-9);
    assert!((f(&d, "observed_ms") / 50.0 - 1.0).abs() < 0.01);

    // Attainment: all 4 A requests are valid and within 5 s.
    let s = one(&r, "slos", &[("slo", "a-latency")]);
    assert_eq!((s["valid"].as_str(), s["good"].as_str(), s["met"].as_str()), ("4", "4", "true"));
    assert!((f(&s, "error_budget") - 0.04).abs() < 1e-9);
    assert_eq!(f(&s, "budget_used"), 0.0);
}

const TEAMS: &str = "- name: front\n  timezone: Europe/Berlin\n  members: [a, b]\n- name: back\n  timezone: America/New_York\n  members: [c]\n";

#[test]
fn attribution_blames_the_deepest_error_and_flags_misrouted_pages() {
    let dir = tmp();
    let t = "cc000000000000000000000000000001";
    let spans = vec![
        // web → api → db: the error starts at api's database call.
        span(t, "0000000000000001", "", "web", "Server", 0, 100).err(),
        span(t, "0000000000000002", "0000000000000001", "web", "Client", 1, 90).err(),
        span(t, "0000000000000003", "0000000000000002", "api", "Server", 2, 80).err(),
        span(t, "0000000000000004", "0000000000000003", "api", "Client", 3, 70).err().attr("db.system", "postgresql"),
        // a later erroring child of web's server span loses the tie on time
        span(t, "0000000000000005", "0000000000000001", "web", "Internal", 50, 1).err(),
    ];
    write_spans(&spans_path(dir.path(), "s.parquet"), &spans, Ids::Hex);
    write(dir.path(), "catalog.yaml", "- name: web\n  team: front\n- name: api\n  team: back\n- name: postgresql\n  team: back\n");
    write(dir.path(), "teams.yaml", TEAMS);
    write(
        dir.path(),
        "incidents.csv",
        "id,title,service,team,severity,urgency,created_at,acknowledged_at,resolved_at,responders,users_impacted,trace_id,postmortem\n\
         P1,web down,web,,SEV1,high,2026-11-20T10:00:00Z,2026-11-20T10:04:00Z,2026-11-20T11:00:00Z,a;b,10,CC000000000000000000000000000001,\n\
         P2,api slow,api,,SEV2,high,2026-11-20T12:00:00Z,,,c,0,,\n",
    );
    let r = run(&config(dir.path(), FILES));
    let a = one(&r, "attribution", &[("signal_service", "web")]);
    assert_eq!((a["culprit_service"].as_str(), a["culprit_team"].as_str(), a["traces"].as_str()), ("postgresql", "back", "1"));
    let front = one(&r, "team_errors", &[("team", "front")]);
    assert_eq!((front["surfaced_elsewhere_caused"].as_str(), front["caused_elsewhere"].as_str()), ("1", "0"));
    let back = one(&r, "team_errors", &[("team", "back")]);
    assert_eq!((back["surfaced_elsewhere_caused"].as_str(), back["caused_elsewhere"].as_str()), ("0", "1"));
    // P1 went to front (catalog owner of web); the culprit belongs to back.
    let m = one(&r, "misrouted", &[("incident_id", "P1")]);
    assert_eq!((m["incident_team"].as_str(), m["culprit_team"].as_str()), ("front", "back"));
    assert_eq!(rows(table(&r, "misrouted")).len(), 1);

    // Load: Friday 10:00 UTC = 11:00 Berlin (business); 12:00 UTC = 07:00 New York (sleep).
    let fl = one(&r, "team_load", &[("team", "front"), ("week", "2026-W47")]);
    assert_eq!((fl["pages"].as_str(), fl["business_pages"].as_str()), ("1", "1"));
    assert!((f(&fl, "mtta_min") - 4.0).abs() < 1e-9);
    assert!((f(&fl, "mttr_min") - 60.0).abs() < 1e-9);
    assert!((f(&fl, "interruption_hours") - 1.0).abs() < 1e-9);
    assert_eq!(fl["mean_responders"], "2.0");
    let bl = one(&r, "team_load", &[("team", "back"), ("week", "2026-W47")]);
    assert_eq!(bl["sleep_pages"], "1");
    assert_eq!(bl["mtta_min"], "", "no acknowledgement: empty mean");
    // Every team in teams.yaml has a row per report week (4 weeks).
    assert_eq!(find(&r, "team_load", &[("team", "front")]).len(), 4);
    // Team graph: front → back.
    let tg = one(&r, "team_graph", &[("caller_team", "front")]);
    assert_eq!((tg["callee_team"].as_str(), tg["calls"].as_str(), tg["errors"].as_str()), ("back", "1", "1"));
}

#[test]
fn docs_checks_report_every_failure_kind() {
    let dir = tmp();
    let t = "dd000000000000000000000000000001";
    write_spans(
        &spans_path(dir.path(), "s.parquet"),
        &[
            span(t, "0000000000000001", "", "good", "Server", 0, 10),
            span(t, "0000000000000002", "0000000000000001", "good", "Client", 1, 5).attr("peer.service", "payments-api"),
            span(t, "0000000000000003", "", "stranger", "Server", 0, 10),
        ],
        Ids::Hex,
    );
    write(
        dir.path(),
        "catalog.yaml",
        r#"
- name: good
  team: front
  description: Fine.
  links: { runbook: "https://r", dashboard: "https://d", alerts: "https://a" }
  last_reviewed: 2026-08-24
  depends_on: [legacy]
- name: bare
  last_reviewed: 2026-08-23
- name: ghost-team
  team: nobody
  description: x
  links: { runbook: "r", dashboard: "d", alerts: "a" }
  last_reviewed: 2027-01-01
"#,
    );
    write(dir.path(), "teams.yaml", TEAMS);
    write(dir.path(), "incidents.csv", "id,title,service,team,severity,urgency,created_at,acknowledged_at,resolved_at,responders,users_impacted,trace_id,postmortem\n");
    let r = run(&config(dir.path(), FILES));
    // 2026-08-24 is exactly 90 days before 2026-11-22: passes; 08-23 (91) fails.
    let good = one(&r, "docs_health", &[("service", "good")]);
    assert_eq!(good["score"], "1.0", "{good:?}");
    let bare = one(&r, "docs_health", &[("service", "bare")]);
    assert_eq!(bare["team"], "(unowned)");
    for c in ["owner_set", "owner_known", "description", "runbook", "dashboard", "alerts", "reviewed", "telemetry"] {
        assert_eq!(bare[c], "false", "{c}");
    }
    assert_eq!(bare["score"], "0.0");
    let ghost = one(&r, "docs_health", &[("service", "ghost-team")]);
    assert_eq!((ghost["owner_set"].as_str(), ghost["owner_known"].as_str(), ghost["reviewed"].as_str()), ("true", "false", "true"));
    assert_eq!(ghost["telemetry"], "false");
    assert_eq!(f(&ghost, "score"), 6.0 / 8.0);
    let gaps = rows(table(&r, "ownership_gaps"));
    assert_eq!(gaps.len(), 1);
    assert_eq!((gaps[0]["service"].as_str(), gaps[0]["requests"].as_str()), ("stranger", "1"));
    let drift = rows(table(&r, "dependency_drift"));
    let d: Vec<(&str, &str, &str)> = drift.iter().map(|d| (d["service"].as_str(), d["dependency"].as_str(), d["drift"].as_str())).collect();
    assert_eq!(d, vec![("good", "payments-api", "undeclared"), ("good", "legacy", "unobserved")]);
}

#[test]
fn backstage_documents_are_read_with_groups() {
    let mut c = ownermap::input::catalog::Catalog::default();
    let text = r#"
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  description: Takes orders.
  links:
    - url: https://runbooks/checkout
      title: Runbook
    - url: https://grafana/checkout
      type: dashboard
  annotations:
    pagerduty.com/alerts: https://alerts/checkout
spec:
  owner: group:default/storefront
  dependsOn: [component:default/payments, resource:default/orders-db]
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: orders-db
spec:
  owner: storefront
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: storefront
spec:
  members: [user:ana, ben]
"#;
    ownermap::input::catalog::read_str(text, "catalog-info.yaml", &mut c).unwrap();
    assert_eq!(c.entries.len(), 2);
    let e = c.get("checkout").unwrap();
    assert_eq!(e.team.as_deref(), Some("storefront"));
    assert_eq!(e.depends_on, vec!["payments", "orders-db"]);
    assert_eq!(e.links.get("runbook").map(String::as_str), Some("https://runbooks/checkout"));
    assert_eq!(e.links.get("dashboard").map(String::as_str), Some("https://grafana/checkout"));
    assert_eq!(e.links.get("alerts").map(String::as_str), Some("https://alerts/checkout"));
    assert_eq!(c.groups[0].members, vec!["ana", "ben"]);
}

#[test]
fn history_reruns_replace_the_week_and_the_edge_diff_sees_last_week() {
    let dir = tmp();
    let t1 = "ee000000000000000000000000000001";
    let t2 = "ee000000000000000000000000000002";
    // Week 46 (ends 2026-11-15): x → y. Week 47: x → z.
    write_spans(
        &spans_path(dir.path(), "date=2026-11-14/s.parquet"),
        &[
            span(t1, "0000000000000001", "", "x", "Server", 0, 10).at_ns(DAY0 - 5 * DAY),
            span(t1, "0000000000000002", "0000000000000001", "y", "Server", 0, 5).at_ns(DAY0 - 5 * DAY + MS),
        ],
        Ids::Hex,
    );
    write_spans(
        &spans_path(dir.path(), "date=2026-11-20/s.parquet"),
        &[
            span(t2, "0000000000000001", "", "x", "Server", 0, 10),
            span(t2, "0000000000000002", "0000000000000001", "z", "Server", 1, 5),
        ],
        Ids::Hex,
    );
    let week = |end: &str| week_config(dir.path(), end);
    let publish = |cfg: &ownermap::config::Config| {
        let r = run(cfg);
        ownermap::pipeline::publish(cfg, &cfg.out_dir, &r).unwrap();
        r
    };
    publish(&week("2026-11-15"));
    publish(&week("2026-11-22"));
    let r = publish(&week("2026-11-22"));
    let weeks = ownermap::analysis::history::stored_weeks(&dir.path().join("state"));
    assert_eq!(weeks, vec!["2026-W46", "2026-W47"]);
    let diff = rows(table(&r, "edge_diff"));
    let d: Vec<(&str, &str, &str, &str)> =
        diff.iter().map(|d| (d["callee"].as_str(), d["change"].as_str(), d["calls_this_week"].as_str(), d["calls_last_week"].as_str())).collect();
    assert_eq!(d, vec![("z", "new", "1", "0"), ("y", "vanished", "0", "1")]);
    // The stored week holds one copy of this week's edges.
    let stored = ownermap::analysis::history::read_table(&dir.path().join("state/history/2026-W47/edges.parquet")).unwrap().unwrap();
    assert_eq!(stored.num_rows(), 1);
}

/// SPEC §2.8: the diff compares with the ISO week exactly one before. With
/// only week 45 stored, week 47's run shows no change (and says which week
/// it lacks), not week 45's edges as "last week".
#[test]
fn the_edge_diff_never_compares_with_an_older_week_than_the_one_before() {
    let dir = tmp();
    let t1 = "ee000000000000000000000000000011";
    let t2 = "ee000000000000000000000000000012";
    write_spans(
        &spans_path(dir.path(), "date=2026-11-07/s.parquet"),
        &[
            span(t1, "0000000000000001", "", "x", "Server", 0, 10).at_ns(DAY0 - 13 * DAY),
            span(t1, "0000000000000002", "0000000000000001", "y", "Server", 0, 5).at_ns(DAY0 - 13 * DAY + MS),
        ],
        Ids::Hex,
    );
    write_spans(
        &spans_path(dir.path(), "date=2026-11-20/s.parquet"),
        &[span(t2, "0000000000000001", "", "x", "Server", 0, 10), span(t2, "0000000000000002", "0000000000000001", "z", "Server", 1, 5)],
        Ids::Hex,
    );
    let week = |end: &str| week_config(dir.path(), end);
    let w45 = week("2026-11-08");
    ownermap::pipeline::publish(&w45, &w45.out_dir, &run(&w45)).unwrap();
    let r = run(&week("2026-11-22"));
    assert_eq!(r.week, "2026-W47");
    assert_eq!(r.compared_with, None);
    assert_eq!(table(&r, "edge_diff").num_rows(), 0);
    let cfg = week("2026-11-22");
    ownermap::pipeline::publish(&cfg, &cfg.out_dir, &r).unwrap();
    let index = std::fs::read_to_string(cfg.out_dir.join("index.html")).unwrap();
    assert!(index.contains("no run stored for 2026-W46 yet"), "the card says what it lacks");
}

/// SPEC §2.6, §2.7: a Backstage Group that teams.yaml does not list owns
/// services but gets no verdicts, and its services fail `owner_known`.
#[test]
fn backstage_groups_outside_teams_yaml_get_no_verdicts_and_are_not_known_owners() {
    let dir = tmp();
    let t = "ee000000000000000000000000000021";
    write_spans(&spans_path(dir.path(), "s.parquet"), &[span(t, "0000000000000001", "", "shop", "Server", 0, 10), span(t, "0000000000000002", "", "ledger", "Server", 0, 10)], Ids::Hex);
    write(
        dir.path(),
        "catalog.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: shop}\nspec: {owner: group:web}\n---\n\
         apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ledger}\nspec: {owner: group:finance}\n---\n\
         apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: web}\nspec: {members: [ana, ben]}\n",
    );
    write(dir.path(), "teams.yaml", "- name: finance\n  timezone: UTC\n  members: [cy]\n  rotation: {members: [cy]}\n");
    let r = run(&config(dir.path(), "[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n"));
    let teams: std::collections::BTreeSet<String> = rows(table(&r, "rotation_verdicts")).into_iter().map(|v| v["team"].clone()).collect();
    assert_eq!(teams.into_iter().collect::<Vec<_>>(), vec!["finance"]);
    assert_eq!(one(&r, "docs_health", &[("service", "shop")])["owner_known"], "false");
    assert_eq!(one(&r, "docs_health", &[("service", "ledger")])["owner_known"], "true");
}
