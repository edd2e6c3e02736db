//! `ownermap sql` (SPEC §4): ad-hoc SQL over the window's tables printed as
//! a table; bad SQL exits 2 naming the SQL; anything but a query is refused
//! before it runs, so `sql` writes no file and opens none.

mod common;

use common::*;

#[test]
fn sql_queries_the_window_and_bad_sql_exits_2() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let o = ownermap(&["sql", "--config", &cfg, "SELECT caller, callee, calls FROM edges"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("| a      | b      | 1     |"), "{out}");
    let o = ownermap(&["sql", "--config", &cfg, "SELECT COUNT(*) AS n FROM spans WHERE service = 'b'"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| 1 |"));
    let bad = ownermap(&["sql", "--config", &cfg, "SELEC 1"]);
    assert_eq!(bad.status.code(), Some(2));
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(e.contains("SQL:") && !e.contains("configuration"), "{e}");
    // Floats print rounded, not as binary noise.
    let o = ownermap(&["sql", "--config", &cfg, "SELECT 0.1 + 0.2 AS x"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("| 0.3 |"), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn sql_sees_the_catalog_and_incidents_beside_the_spans() {
    let dir = tmp();
    let cfg = front_back_org(dir.path());
    let o = ownermap(&["sql", "--config", &cfg, "SELECT e.callee, c.team FROM edges e JOIN catalog c ON c.service = e.callee"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.lines().any(|l| l.contains("| b ") && l.contains("| back ")), "{out}");
}

#[test]
fn statements_that_write_or_open_files_or_change_settings_are_refused() {
    let dir = tmp();
    one_call_spans(dir.path());
    let cfg = write_config(dir.path(), "");
    let victim = dir.path().join("spans/date=2026-11-20/a.parquet");
    let before = std::fs::read(&victim).unwrap();
    let written = dir.path().join("copied.csv");
    let cases = [
        format!("COPY (SELECT * FROM edges) TO '{}' STORED AS CSV", written.display()),
        format!("COPY (SELECT 1 AS x) TO '{}' STORED AS PARQUET", victim.display()),
        format!("CREATE EXTERNAL TABLE stolen STORED AS CSV LOCATION '{}'", dir.path().join("ownermap.toml").display()),
        "INSERT INTO edges SELECT * FROM edges".to_string(),
        "SET datafusion.execution.target_partitions = 1".to_string(),
        "CREATE VIEW v AS SELECT * FROM edges".to_string(),
        "CREATE TABLE t AS SELECT * FROM edges".to_string(),
        "DROP TABLE edges".to_string(),
    ];
    for q in &cases {
        let o = ownermap(&["sql", "--config", &cfg, q]);
        assert_eq!(o.status.code(), Some(2), "{q}: {}", stderr(&o));
        assert!(stderr(&o).contains("read-only"), "{q}: {}", stderr(&o));
    }
    assert!(!written.exists(), "COPY wrote a file");
    assert_eq!(std::fs::read(&victim).unwrap(), before, "COPY overwrote an input");
    // Queries still run, EXPLAIN and SHOW too.
    for q in ["SELECT COUNT(*) AS n FROM edges", "EXPLAIN SELECT * FROM edges", "SHOW TABLES"] {
        let o = ownermap(&["sql", "--config", &cfg, q]);
        assert_eq!(o.status.code(), Some(0), "{q}: {}", stderr(&o));
    }
}
