//! On-call health beyond page counts (SPEC §1.7, §2.10–§2.12) on a
//! generated organisation, against a computation written here from the
//! input files alone (csv and YAML read directly, not through ownermap's
//! readers or analyses); and the survey reader's exit codes.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use common::*;

fn yaml(path: &std::path::Path) -> Vec<serde_yaml_ng::Value> {
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strs(v: &serde_yaml_ng::Value) -> Vec<String> {
    v.as_sequence().map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn close(a: &str, b: f64) -> bool {
    a.parse::<f64>().is_ok_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

#[test]
fn generated_organisation_matches_an_independent_computation() {
    let dir = generated(40, 2, 3000, 5);
    let d = dir.path();
    let cfg = ownermap::config::Config::load(&d.join("ownermap.toml"), &Default::default()).unwrap();
    let r = run(&cfg);

    // Inputs, read directly.
    let catalog = yaml(&d.join("catalog.yaml"));
    let owner: BTreeMap<String, Option<String>> = catalog
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e.get("team").and_then(|t| t.as_str()).map(str::to_string)))
        .collect();
    let teams = yaml(&d.join("teams.yaml"));
    let survey = csv_rows(&d.join("survey.csv"));
    let mut latest: BTreeMap<(String, String), (String, i64)> = BTreeMap::new();
    let mut mood: BTreeMap<String, (String, i64)> = BTreeMap::new();
    for row in &survey {
        let (p, s, day) = (row["person"].clone(), row["service"].clone(), row["answered_on"].clone());
        let e: i64 = row["expertise"].parse().unwrap();
        if latest.get(&(p.clone(), s.clone())).is_none_or(|(d0, _)| day >= *d0) {
            latest.insert((p.clone(), s), (day.clone(), e));
        }
        if let Ok(h) = row["happiness"].parse::<i64>() {
            if mood.get(&p).is_none_or(|(d0, _)| day >= *d0) {
                mood.insert(p, (day, h));
            }
        }
    }

    // §2.10 expertise, and the verdicts it gives.
    let got = rows(table(&r, "expertise"));
    assert_eq!(got.len(), teams.len());
    let verdicts = rows(table(&r, "rotation_verdicts"));
    let has = |team: &str, v: &str| verdicts.iter().any(|x| x["team"] == team && x["verdict"] == v);
    let mut gaps = 0;
    for (t, row) in teams.iter().zip(&got) {
        let name = t["name"].as_str().unwrap();
        assert_eq!(row["team"], name);
        let rotation = strs(&t["rotation"]["members"]);
        let owned: Vec<&String> = owner.iter().filter(|(_, o)| o.as_deref() == Some(name)).map(|(s, _)| s).collect();
        let experts = |svc: &String| rotation.iter().filter(|p| latest.get(&((*p).clone(), svc.clone())).is_some_and(|(_, e)| *e >= 2)).count();
        let mut uncovered: Vec<&str> = owned.iter().filter(|s| experts(s) == 0).map(|s| s.as_str()).collect();
        uncovered.sort();
        assert_eq!(row["services_owned"], owned.len().to_string(), "{name}");
        assert_eq!(row["services_covered"], (owned.len() - uncovered.len()).to_string(), "{name}");
        assert_eq!(row["uncovered"], uncovered.join(";"), "{name}");
        let bus = owned.iter().map(|s| experts(s)).min();
        assert_eq!(row["bus_factor"], bus.map(|b| b.to_string()).unwrap_or_default(), "{name}");
        let people: BTreeSet<&String> = rotation.iter().collect();
        let h: Vec<f64> = people.iter().filter_map(|p| mood.get(*p)).map(|(_, h)| *h as f64).collect();
        assert_eq!(row["respondents"], h.len().to_string(), "{name}");
        if !h.is_empty() {
            let mean = h.iter().sum::<f64>() / h.len() as f64;
            assert!(close(&row["happiness"], mean), "{name}: {} vs {mean}", row["happiness"]);
            assert_eq!(has(name, "unhappy"), h.len() >= 3 && mean < 3.0, "{name} unhappy");
        }
        assert_eq!(has(name, "expertise_gap"), !uncovered.is_empty(), "{name} expertise_gap");
        gaps += !uncovered.is_empty() as usize;
    }
    // The generator makes one team short of an expert and one unhappy.
    assert!(gaps >= 1, "{got:?}");
    assert!(verdicts.iter().any(|x| x["verdict"] == "unhappy"), "{verdicts:?}");

    // §2.11 alerts and §2.12 postmortems over the 4 verdict weeks
    // (2026-10-26 .. 2026-11-22, created before the window's end).
    let start: DateTime<Utc> = "2026-10-26T00:00:00Z".parse().unwrap();
    let end: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let incidents = csv_rows(&d.join("incidents.csv"));
    let t = |s: &str| s.parse::<DateTime<Utc>>().ok();
    let key = |title: &str| {
        let mut k = String::new();
        let mut in_digits = false;
        for c in title.to_lowercase().chars() {
            if c.is_ascii_digit() && !in_digits {
                k.push('#');
            } else if !c.is_ascii_digit() {
                k.push(c);
            }
            in_digits = c.is_ascii_digit();
        }
        k.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    #[derive(Default)]
    struct A {
        fires: usize,
        pages: usize,
        transient: usize,
        unacked: usize,
        noise: usize,
        ttr: Vec<f64>,
    }
    let mut alerts: BTreeMap<(String, String), A> = BTreeMap::new();
    #[derive(Default, Debug, PartialEq)]
    struct P {
        severe: usize,
        with: usize,
        pending: usize,
        missing: Vec<String>,
        users: i64,
    }
    let mut pm: BTreeMap<String, P> = BTreeMap::new();
    for i in &incidents {
        let created = t(&i["created_at"]).unwrap();
        if created < start || created >= end {
            continue;
        }
        let resolved = t(&i["resolved_at"]);
        let ttr = resolved.map(|r| (r - created).num_milliseconds() as f64 / 60_000.0);
        let a = alerts.entry((i["service"].clone(), key(&i["title"]))).or_default();
        a.fires += 1;
        a.pages += (i["urgency"] != "low") as usize;
        let tr = ttr.is_some_and(|m| m <= 5.0);
        let un = i["acknowledged_at"].is_empty();
        a.transient += tr as usize;
        a.unacked += un as usize;
        a.noise += (tr || un) as usize;
        a.ttr.extend(ttr);
        let rank: Option<i64> = {
            let s = &i["severity"];
            s.find(|c: char| c.is_ascii_digit()).map(|k| s[k..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap())
        };
        if rank.is_some_and(|r| r <= 2) {
            let team = if i["team"].is_empty() { owner.get(&i["service"]).cloned().flatten().unwrap_or("(unowned)".into()) } else { i["team"].clone() };
            let p = pm.entry(team).or_default();
            p.severe += 1;
            p.users += i["users_impacted"].parse::<i64>().unwrap_or(0);
            if !i["postmortem"].is_empty() {
                p.with += 1;
            } else if resolved.is_some_and(|r| end - r >= Duration::days(7)) {
                p.missing.push(i["id"].clone());
            } else {
                p.pending += 1;
            }
        }
    }
    let got = rows(table(&r, "alerts"));
    assert_eq!(got.len(), alerts.len());
    let mut noisy = 0;
    let mut last_fires = usize::MAX;
    for row in &got {
        let a = &alerts[&(row["service"].clone(), row["alert"].clone())];
        let fires: usize = row["fires"].parse().unwrap();
        assert!(fires <= last_fires, "ordered by fires descending");
        last_fires = fires;
        assert_eq!((fires, row["pages"].parse().unwrap(), row["transient"].parse().unwrap(), row["unacknowledged"].parse().unwrap()), (a.fires, a.pages, a.transient, a.unacked), "{row:?}");
        let is_noisy = a.fires >= 4 && a.noise as f64 >= 0.5 * a.fires as f64;
        assert_eq!(row["noisy"], is_noisy.to_string(), "{row:?}");
        noisy += is_noisy as usize;
        let mut ttr = a.ttr.clone();
        ttr.sort_by(f64::total_cmp);
        if !ttr.is_empty() {
            let pos = 0.5 * (ttr.len() - 1) as f64;
            let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
            let med = ttr[lo] + (ttr[hi] - ttr[lo]) * (pos - lo as f64);
            assert!(close(&row["median_ttr_min"], med), "{row:?} vs {med}");
        }
    }
    assert!(noisy >= 2, "the generator writes noisy alerts");

    let got = rows(table(&r, "postmortems"));
    let known: Vec<&str> = teams.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for row in &got {
        let mut want = pm.remove(&row["team"]).unwrap_or_default();
        want.missing.sort();
        assert!(known.contains(&row["team"].as_str()) || want.severe > 0, "{row:?}");
        assert_eq!(
            (row["severe_incidents"].clone(), row["with_postmortem"].clone(), row["pending"].clone(), row["missing_ids"].clone(), row["users_impacted"].clone()),
            (want.severe.to_string(), want.with.to_string(), want.pending.to_string(), want.missing.join(";"), want.users.to_string()),
            "{}",
            row["team"]
        );
        assert_eq!(row["missing"], want.missing.len().to_string());
        let d = want.with + want.missing.len();
        if d > 0 {
            assert!(close(&row["coverage"], want.with as f64 / d as f64));
        } else {
            assert_eq!(row["coverage"], "");
        }
    }
    assert!(pm.is_empty(), "teams missing from postmortems: {pm:?}");

    // The team pages show who the experts are and which alerts to delete.
    let out = d.join("out");
    ownermap::pipeline::publish(&cfg, &out, &r).unwrap();
    let gap = rows(table(&r, "expertise")).into_iter().find(|x| !x["uncovered"].is_empty()).unwrap();
    let slug = ownermap::names::slug(&gap["team"]);
    let page = std::fs::read_to_string(out.join("teams").join(format!("{slug}.html"))).unwrap();
    assert!(page.contains("Experts on the rotation") && page.contains("have no expert on the rotation"), "{slug}");
    let noisy_team = rows(table(&r, "alerts")).into_iter().find(|x| x["noisy"] == "true").unwrap()["team"].clone();
    let page = std::fs::read_to_string(out.join("teams").join(format!("{}.html", ownermap::names::slug(&noisy_team)))).unwrap();
    assert!(page.contains("Alerts to delete or demote") && page.contains("tag noisy"));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("Short of experts") && index.contains("Noisiest alerts") && index.contains("Postmortem coverage"));
}

#[test]
fn a_bad_survey_row_is_skipped_named_and_exits_3_and_a_missing_column_exits_2() {
    let dir = generated(8, 1, 500, 3);
    let d = dir.path();
    let mut text = std::fs::read_to_string(d.join("survey.csv")).unwrap();
    text.push_str("ana,checkout,7,3,2026-11-20\n");
    let line = text.lines().count();
    std::fs::write(d.join("survey.csv"), &text).unwrap();
    let cfg = d.join("ownermap.toml");
    let o = ownermap(&["run", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains(&format!("line {line}")) && err.contains("expertise \"7\""), "{err}");
    let summary: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("out/data/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows_skipped"]["survey"], 1);
    // `sql` sees the survey as read.
    let o = ownermap(&["sql", "--config", cfg.to_str().unwrap(), "SELECT count(*) AS n FROM survey WHERE expertise > 3"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains('0'), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(d.join("survey.csv"), "person,service,expertise,answered_on\n").unwrap();
    let o = ownermap(&["run", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("happiness"));
}
