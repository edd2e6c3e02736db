//! `ownermap import` through the command line (SPEC §1.6): a real Zipkin
//! file becomes canonical Parquet that `run` reads into the same edges the
//! library import gives (`tests/test_importers.rs` checks those by hand);
//! spans without ids are skipped, counted, and exit 3; a file that is not
//! JSON is an error naming it.

mod common;

use common::*;

#[test]
fn an_imported_zipkin_file_runs_into_its_hand_checked_edges() {
    let dir = tmp();
    let out = dir.path().join("spans/date=2019-10-24/yelp.parquet");
    let yelp = fixture("yelp.json");
    let o = ownermap(&["import", "--format", "zipkin-json", yelp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let p = dir.path().join("ownermap.toml");
    std::fs::write(&p, "[spans]\npath = \"spans\"\n[window]\nend = \"2019-10-24\"\ndays = 1\n").unwrap();
    let o = ownermap(&["run", "--config", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let edges = std::fs::read_to_string(dir.path().join("out/data/edges.csv")).unwrap();
    let pairs: Vec<String> = edges.lines().skip(1).map(|l| l.split(',').take(2).collect::<Vec<_>>().join(" -> ")).collect();
    // The ten edges of yelp.json (read by hand in tests/test_importers.rs).
    assert_eq!(pairs.len(), 10, "{edges}");
    for pair in ["yelp-main -> mobile_api", "mobile_api -> spectre", "routing -> yelp-main", "yelp-main -> mysql"] {
        assert!(pairs.iter().any(|p| p == pair), "{pair} missing from {pairs:?}");
    }
}

#[test]
fn spans_without_ids_are_skipped_counted_and_exit_3() {
    let dir = tmp();
    let input = dir.path().join("in.json");
    // Zipkin v2: one good span, one without an id.
    std::fs::write(
        &input,
        r#"[{"traceId":"0000000000000001","id":"0000000000000001","name":"get","kind":"SERVER","timestamp":1700000000000000,"duration":1000,"localEndpoint":{"serviceName":"a"}},
            {"traceId":"0000000000000001","name":"lost","kind":"CLIENT","timestamp":1700000000000100,"duration":10,"localEndpoint":{"serviceName":"a"}}]"#,
    )
    .unwrap();
    let out = dir.path().join("out.parquet");
    let o = ownermap(&["import", "--format", "zipkin-json", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("skipped 1 spans"), "{}", stderr(&o));
    assert_eq!(ownermap::canonical::read_parquet(&out).unwrap().len(), 1);
}

#[test]
fn a_file_that_is_not_json_is_an_error_naming_it() {
    let dir = tmp();
    let input = dir.path().join("broken.json");
    std::fs::write(&input, "this is not json").unwrap();
    let out = dir.path().join("out.parquet");
    let o = ownermap(&["import", "--format", "otlp-json", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("broken.json"), "{}", stderr(&o));
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn out_never_overwrites_an_input_or_a_file_import_did_not_write() {
    let dir = tmp();
    let yelp = dir.path().join("yelp.json");
    std::fs::copy(fixture("yelp.json"), &yelp).unwrap();
    let catalog = dir.path().join("catalog.yaml");
    std::fs::write(&catalog, "- name: a\n  team: t\n").unwrap();
    for (target, why) in [(&yelp, "also an input"), (&catalog, "not span Parquet")] {
        let before = std::fs::read(target).unwrap();
        let o = ownermap(&["import", "--format", "zipkin-json", yelp.to_str().unwrap(), "--out", target.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(why), "{}", stderr(&o));
        assert_eq!(std::fs::read(target).unwrap(), before, "{} was overwritten", target.display());
    }
    // An earlier import's output is replaced.
    let out = dir.path().join("spans.parquet");
    for _ in 0..2 {
        let o = ownermap(&["import", "--format", "zipkin-json", yelp.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    }
}
