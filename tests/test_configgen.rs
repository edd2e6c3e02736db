//! The generated configuration (SPEC §3) is valid for the tool that reads
//! it: Alertmanager (checked with `amtool`), Terraform JSON for the
//! PagerDuty provider (structure and references), Backstage entities
//! (envelope and name rules, `dependsOn` = observed edges) and Grafana
//! dashboards (JSON model, PromQL on the right `service_name`) — on the
//! sample organisation and on hostile names; plus `lint --level` and
//! `export-config`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::*;
use ownermap::configgen::{Inputs, render};
use serde_json::Value;

fn amtool() -> bool {
    let have = Command::new("amtool").arg("--version").output().is_ok_and(|o| o.status.success());
    if !have {
        if std::env::var_os("CI").is_some() {
            panic!("CI must validate alertmanager.yml: install prometheus-alertmanager (see .ci/run)");
        }
        eprintln!("\n*** NOT RUN: amtool is missing (Debian package prometheus-alertmanager; .ci/run installs it) ***\n");
    }
    have
}

/// `amtool config routes test` for `service=<name>`: the receiver it names.
fn route_of(file: &Path, service: &str) -> String {
    let quoted = format!("service=\"{}\"", service.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"));
    let o = Command::new("amtool").args(["config", "routes", "test", "--config.file"]).arg(file).arg(&quoted).output().unwrap();
    assert!(o.status.success(), "{quoted}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

fn check_amtool(dir: &Path, owners: &BTreeMap<String, String>) {
    if !amtool() {
        return;
    }
    let file = dir.join("alertmanager.yml");
    let o = Command::new("amtool").arg("check-config").arg(&file).output().unwrap();
    assert!(o.status.success(), "{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    for (svc, team) in owners {
        assert_eq!(route_of(&file, svc), *team, "service {svc:?}");
    }
}

/// Every `${…}` in the Terraform JSON names a resource or data source it defines.
fn check_terraform(doc: &Value) {
    let mut defined = BTreeSet::new();
    for (kind, blocks) in doc["resource"].as_object().unwrap() {
        for name in blocks.as_object().unwrap().keys() {
            assert!(name.chars().next().unwrap().is_ascii_alphabetic() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "{name}");
            defined.insert(format!("{kind}.{name}"));
        }
    }
    for name in doc["data"]["pagerduty_user"].as_object().unwrap().keys() {
        defined.insert(format!("data.pagerduty_user.{name}"));
    }
    let text = doc.to_string();
    let mut refs = 0;
    let mut rest = text.as_str();
    while let Some(i) = rest.find("${") {
        // `$${` is a literal dollar-brace (escaped by the generator).
        let escaped = i > 0 && rest.as_bytes()[i - 1] == b'$';
        let end = rest[i..].find('}').unwrap() + i;
        if !escaped {
            let inner = &rest[i + 2..end];
            let target = inner.rsplit_once('.').unwrap().0;
            assert!(defined.contains(target), "reference {inner} to nothing");
            refs += 1;
        }
        rest = &rest[end..];
    }
    assert!(refs > 0);
    for (_, s) in doc["resource"]["pagerduty_schedule"].as_object().unwrap() {
        let layer = &s["layer"][0];
        assert!(layer["rotation_turn_length_seconds"].as_i64().unwrap() > 0);
        assert!(!layer["users"].as_array().unwrap().is_empty());
        assert!(s["time_zone"].is_string());
    }
    for (_, p) in doc["resource"]["pagerduty_escalation_policy"].as_object().unwrap() {
        assert_eq!(p["rule"][0]["target"][0]["type"], "schedule_reference");
    }
}

fn backstage_docs(text: &str) -> Vec<serde_yaml_ng::Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text).map(|d| serde_yaml_ng::Value::deserialize(d).unwrap()).filter(|v| !v.is_null()).collect()
}

fn grafana_exprs(text: &str) -> Vec<(String, String)> {
    let d: Value = serde_json::from_str(text).unwrap();
    assert!(d["schemaVersion"].as_i64().unwrap() >= 30);
    assert_eq!(d["templating"]["list"][0]["type"], "datasource");
    let mut out = vec![];
    let mut row = String::new();
    for p in d["panels"].as_array().unwrap() {
        let g = &p["gridPos"];
        assert!(g["w"].as_i64().unwrap() > 0 && g["h"].as_i64().unwrap() > 0);
        if p["type"] == "row" {
            row = p["title"].as_str().unwrap().to_string();
            continue;
        }
        for t in p["targets"].as_array().unwrap() {
            out.push((row.clone(), t["expr"].as_str().unwrap().to_string()));
        }
    }
    out
}

/// The `service_name` values a PromQL expression selects.
fn selected(expr: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = expr;
    while let Some(i) = rest.find("service_name=\"") {
        let s = &rest[i + 13..];
        // a JSON string literal is a PromQL string literal here
        let mut de = serde_json::Deserializer::from_str(s).into_iter::<String>();
        out.insert(de.next().unwrap().unwrap());
        rest = &s[de.byte_offset()..];
    }
    out
}

#[test]
fn the_sample_organisation_generates_valid_configuration() {
    let dir = tmp();
    let mut cfg = ownermap::config::Config::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data/ownermap.toml"), &Default::default()).unwrap();
    cfg.state_dir = dir.path().join("state");
    cfg.out_dir = dir.path().join("out");
    let r = run(&cfg);
    ownermap::pipeline::publish(&cfg, &cfg.out_dir, &r).unwrap();
    let g = cfg.out_dir.join("generated");
    let known: BTreeSet<String> = r.org.known_teams().into_iter().collect();
    let owners: BTreeMap<String, String> = r
        .org
        .catalog
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.team.clone().filter(|t| known.contains(t)).unwrap_or_else(|| "default".into())))
        .collect();
    check_amtool(&g, &owners);

    let tf: Value = serde_json::from_str(&std::fs::read_to_string(g.join("pagerduty.tf.json")).unwrap()).unwrap();
    check_terraform(&tf);
    let names = |kind: &str| -> BTreeSet<String> {
        tf["resource"][kind].as_object().unwrap().values().map(|v| v["name"].as_str().unwrap_or_default().to_string()).collect()
    };
    let owned: BTreeSet<String> = r.org.catalog.entries.iter().filter(|e| e.team.as_ref().is_some_and(|t| known.contains(t))).map(|e| e.name.clone()).collect();
    assert_eq!(names("pagerduty_service"), owned);
    assert_eq!(names("pagerduty_schedule"), known);
    let sync: BTreeSet<(&str, &str)> = r
        .edges
        .iter()
        .filter(|e| e.kind == "sync" && e.callee_type == "service" && owned.contains(&e.caller) && owned.contains(&e.callee))
        .map(|e| (e.caller.as_str(), e.callee.as_str()))
        .collect();
    assert_eq!(tf["resource"]["pagerduty_service_dependency"].as_object().unwrap().len(), sync.len());
    assert!(tf["data"]["pagerduty_user"].as_object().unwrap().values().all(|u| u["email"].as_str().unwrap().ends_with("@example.com")));

    let docs = backstage_docs(&std::fs::read_to_string(g.join("catalog-info.yaml")).unwrap());
    assert_eq!(docs.len(), r.org.catalog.entries.len());
    for d in &docs {
        assert_eq!(d["apiVersion"].as_str(), Some("backstage.io/v1alpha1"));
        assert_eq!(d["kind"].as_str(), Some("Component"));
        let name = d["metadata"]["name"].as_str().unwrap();
        let deps: BTreeSet<String> = d["spec"]["dependsOn"].as_sequence().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
        let want: BTreeSet<String> = r
            .edges
            .iter()
            .filter(|e| e.caller == name)
            .map(|e| format!("{}:{}", if e.callee_type == "service" { "component" } else { "resource" }, e.callee))
            .collect();
        assert_eq!(deps, want, "{name}");
    }

    for t in r.org.known_teams() {
        let text = std::fs::read_to_string(g.join("grafana").join(format!("{}.json", ownermap::names::slug(&t)))).unwrap();
        let exprs = grafana_exprs(&text);
        assert_eq!(exprs.len(), 3 * r.org.services_owned(&t).len(), "{t}");
        for (row, e) in exprs {
            assert_eq!(selected(&e), BTreeSet::from([row.clone()]), "{e}");
        }
    }
}

#[test]
fn hostile_names_stay_literal_in_every_format() {
    let long = "s".repeat(200);
    let hostile = ["x.*", "a\"b", "c\\d", "new\nline", "${evil}", "%{x}", long.as_str(), "plain"];
    let dir = tmp();
    let mut cat = String::new();
    for (k, n) in hostile.iter().enumerate() {
        let team = if k % 2 == 0 { "team \"q\" .*" } else { "ops" };
        cat.push_str(&format!("- name: {}\n  team: {}\n", serde_json::to_string(n).unwrap(), serde_json::to_string(team).unwrap()));
    }
    std::fs::write(dir.path().join("catalog.yaml"), &cat).unwrap();
    std::fs::write(
        dir.path().join("teams.yaml"),
        "- name: \"team \\\"q\\\" .*\"\n  members: [\"a\\\"x\", \"b${y}\"]\n- name: ops\n  members: [o]\n",
    )
    .unwrap();
    let cfg = config(dir.path(), "[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n");
    let mut summary = ownermap::run_result::Summary::default();
    let org = ownermap::pipeline::read_org(&cfg, &mut summary).unwrap();
    assert_eq!(org.catalog.entries.len(), hostile.len());
    let edge = |a: &str, b: &str| ownermap::analysis::graph::Edge {
        caller: a.into(), callee: b.into(), callee_type: "service".into(), kind: "sync".into(), calls: 5, errors: 0, caller_team: None, callee_team: None,
    };
    let edges = vec![edge("plain", "x.*"), edge("x.*", "plain"), edge("a\"b", "${evil}")];
    let (files, problems) = render(&Inputs { org: &org, edges: &edges, email_domain: "corp.example" }).unwrap();
    let out = dir.path().join("gen");
    std::fs::create_dir_all(out.join("grafana")).unwrap();
    for (name, text) in &files {
        std::fs::write(out.join(name), text).unwrap();
    }
    // Alertmanager: each name routes to its team and `x.*` matches nothing else.
    let mut owners: BTreeMap<String, String> = BTreeMap::new();
    for (k, n) in hostile.iter().enumerate() {
        owners.insert(n.to_string(), if k % 2 == 0 { "team \"q\" .*".into() } else { "ops".into() });
    }
    owners.insert("xyz".into(), "default".into());
    owners.insert("x.".into(), "default".into());
    owners.insert("ab".into(), "default".into());
    check_amtool(&out, &owners);
    // Terraform: parses, references resolve, names are literal.
    let tf: Value = serde_json::from_str(&files["pagerduty.tf.json"]).unwrap();
    check_terraform(&tf);
    let svc_names: BTreeSet<&str> = tf["resource"]["pagerduty_service"].as_object().unwrap().values().map(|v| v["name"].as_str().unwrap()).collect();
    assert!(svc_names.contains("$${evil}") && svc_names.contains("%%{x}") && svc_names.contains("a\"b"));
    assert!(tf["data"]["pagerduty_user"].as_object().unwrap().values().any(|u| u["email"] == "b$${y}@corp.example"));
    // Backstage: the names that do not fit are reported, not mangled.
    let docs = backstage_docs(&files["catalog-info.yaml"]);
    let kept: Vec<&str> = docs.iter().map(|d| d["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(kept, ["plain"]);
    for bad in ["x.*", "a\"b", "new\nline", "${evil}"] {
        assert!(problems.iter().any(|p| p.contains(&format!("{bad:?}"))), "{bad}: {problems:?}");
    }
    assert!(problems.iter().any(|p| p.contains(&long)));
    // plain's observed callee x.* is not a valid reference: left out and reported.
    assert_eq!(docs[0]["spec"]["dependsOn"].as_sequence().unwrap().len(), 0);
    // Grafana: each panel selects exactly its service, whatever its name.
    for (name, text) in files.iter().filter(|(n, _)| n.starts_with("grafana/")) {
        assert!(!name.contains('"') && !name.contains(".*"), "{name}");
        for (row, e) in grafana_exprs(text) {
            assert_eq!(selected(&e), BTreeSet::from([row.clone()]), "{e}");
        }
    }
}


#[test]
fn lint_level_exit_codes_and_export_config() {
    let dir = tmp();
    let d = dir.path();
    let silver = "  description: d\n  links: { runbook: r, dashboard: d }\n  last_reviewed: 2026-11-01\n  slos: [{ name: s, objective: 0.9 }]\n";
    std::fs::write(d.join("catalog.yaml"), format!("- name: a\n  team: t\n{silver}- name: b\n  team: t\n{silver}")).unwrap();
    std::fs::write(d.join("teams.yaml"), "- name: t\n  members: [x]\n").unwrap();
    let cfg = d.join("ownermap.toml");
    std::fs::write(&cfg, "[spans]\npath = \"spans\"\n[catalog]\npath = \"catalog.yaml\"\n[teams]\npath = \"teams.yaml\"\n[window]\nend = \"2026-11-22\"\n").unwrap();
    let c = cfg.to_str().unwrap();
    assert_eq!(ownermap(&["lint", "--config", c, "--level", "silver"]).status.code(), Some(0));
    let gold = ownermap(&["lint", "--config", c, "--level", "gold"]);
    assert_eq!(gold.status.code(), Some(1));
    let text = String::from_utf8_lossy(&gold.stdout);
    assert!(text.contains("a\tsilver\tlacks for gold: alerts") && text.contains("b\tsilver"), "{text}");
    // One entry loses its runbook: below silver.
    std::fs::write(d.join("catalog.yaml"), format!("- name: a\n  team: t\n{}- name: b\n  team: t\n{silver}", silver.replace("runbook: r, ", ""))).unwrap();
    let o = ownermap(&["lint", "--config", c, "--level", "silver"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "a\tbronze\tlacks for silver: runbook");
    assert_eq!(ownermap(&["lint", "--config", c, "--level", "bronze"]).status.code(), Some(0));
    assert_eq!(ownermap(&["lint", "--config", c, "--level", "platinum"]).status.code(), Some(2));

    // export-config: writes the four kinds, refuses a foreign folder.
    write_spans(&spans_path(d, "day.parquet"), &[span("t1", "s1", "", "a", "SERVER", 0, 10).at_ns(1_795_262_400_000_000_000), span("t1", "s2", "s1", "a", "CLIENT", 1, 5).attr("peer.service", "b").at_ns(1_795_262_400_001_000_000)], Ids::Hex);
    let out = d.join("exported");
    let o = ownermap(&["export-config", "--config", c, "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in ["alertmanager.yml", "pagerduty.tf.json", "catalog-info.yaml", "grafana/t-"] {
        let found = walk(&out).iter().any(|p| p.to_string_lossy().contains(f));
        assert!(found, "{f}");
    }
    assert!(ownermap(&["export-config", "--config", c, "--out", out.to_str().unwrap()]).status.success(), "an earlier export is replaced");
    let foreign = d.join("mine");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "keep").unwrap();
    let o = ownermap(&["export-config", "--config", c, "--out", foreign.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "keep");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}
