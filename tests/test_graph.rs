//! `ownermap graph` (SPEC §4): the window's dependency graph on stdout as
//! DOT, Mermaid or JSON, one team's edges with `--team`, the same edges
//! as the run's `edges` table.

mod common;

use common::*;

#[test]
fn graph_prints_dot_mermaid_and_json() {
    let dir = tmp();
    let cfg = front_back_org(dir.path());
    let dot = ownermap(&["graph", "--config", &cfg, "--format", "dot"]);
    assert!(dot.status.success());
    assert!(String::from_utf8_lossy(&dot.stdout).contains("\"a\" -> \"b\""));
    let mmd = String::from_utf8_lossy(&ownermap(&["graph", "--config", &cfg, "--format", "mermaid", "--team", "back"]).stdout).to_string();
    assert!(mmd.starts_with("flowchart LR") && mmd.contains("-->|1 calls|"));
    let json: serde_json::Value = serde_json::from_slice(&ownermap(&["graph", "--config", &cfg, "--format", "json"]).stdout).unwrap();
    assert_eq!(json[0]["caller"], "a");
}

#[test]
fn an_unknown_team_is_refused_listing_the_teams() {
    let dir = tmp();
    let cfg = front_back_org(dir.path());
    let o = ownermap(&["graph", "--config", &cfg, "--team", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("unknown team \"nosuch\"") && e.contains("back, front"), "{e}");
}

#[test]
fn graph_json_lists_the_edges_the_run_reports() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let json: serde_json::Value = serde_json::from_slice(&ownermap(&["graph", "--config", &cfg, "--format", "json"]).stdout).unwrap();
    let o = ownermap(&["run", "--config", &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let edges = std::fs::read_to_string(dir.path().join("out/data/edges.csv")).unwrap();
    let rows: Vec<&str> = edges.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{edges}");
    let edge = json.as_array().unwrap();
    assert_eq!(edge.len(), 1, "{json}");
    assert_eq!((edge[0]["caller"].as_str(), edge[0]["callee"].as_str(), edge[0]["calls"].as_i64()), (Some("a"), Some("b"), Some(1)));
    assert!(rows[0].starts_with("a,b,"), "{edges}");
}
