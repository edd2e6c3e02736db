//! Real traces from outside this project (SPEC §1.5/§1.6 inputs): the flat
//! CSV source on the Nezha TrainTicket dump (MIT, copied into
//! tests/fixtures with attribution); and span exports written by a real
//! ClickHouse ([`clickhouse_exports`]).

mod common;
/// Exports a real ClickHouse wrote (chdb), map and JSON mode.
#[path = "clickhouse/exports.rs"]
mod clickhouse_exports;

use common::*;

/// Every caller → callee pair in the file with its number of calls, all
/// synchronous (no kinds in the file). Derived independently of ownermap by
/// reading the CSV with Python's csv module: service = PodName without its
/// two hash suffixes; one call per row whose ParentID names a row of the
/// same TraceID in another service. The `ts-` prefix is left off here.
const TRAINTICKET_EDGES: &[(&str, &str, i64)] = &[
    ("auth-service", "verification-code-service", 15),
    ("basic-service", "price-service", 102),
    ("basic-service", "route-service", 102),
    ("basic-service", "station-service", 134),
    ("basic-service", "train-service", 102),
    ("cancel-service", "inside-payment-service", 5),
    ("cancel-service", "order-service", 10),
    ("cancel-service", "user-service", 5),
    ("execute-service", "order-other-service", 11),
    ("execute-service", "order-service", 13),
    ("food-service", "delivery-service", 16),
    ("food-service", "station-food-service", 11),
    ("food-service", "train-food-service", 11),
    ("food-service", "travel-service", 11),
    ("gateway-service", "auth-service", 15),
    ("gateway-service", "cancel-service", 5),
    ("gateway-service", "execute-service", 10),
    ("gateway-service", "food-service", 11),
    ("gateway-service", "inside-payment-service", 8),
    ("gateway-service", "preserve-other-service", 3),
    ("gateway-service", "preserve-service", 15),
    ("gateway-service", "travel-service", 43),
    ("gateway-service", "travel2-service", 27),
    ("inside-payment-service", "order-other-service", 8),
    ("inside-payment-service", "order-service", 8),
    ("inside-payment-service", "payment-service", 8),
    ("preserve-other-service", "assurance-service", 1),
    ("preserve-other-service", "basic-service", 3),
    ("preserve-other-service", "contacts-service", 3),
    ("preserve-other-service", "order-other-service", 3),
    ("preserve-other-service", "seat-service", 3),
    ("preserve-other-service", "security-service", 3),
    ("preserve-other-service", "travel2-service", 3),
    ("preserve-other-service", "user-service", 1),
    ("preserve-service", "assurance-service", 4),
    ("preserve-service", "basic-service", 12),
    ("preserve-service", "contacts-service", 14),
    ("preserve-service", "food-service", 8),
    ("preserve-service", "order-service", 12),
    ("preserve-service", "seat-service", 12),
    ("preserve-service", "security-service", 15),
    ("preserve-service", "travel-service", 14),
    ("preserve-service", "user-service", 12),
    ("seat-service", "config-service", 210),
    ("seat-service", "order-other-service", 43),
    ("seat-service", "order-service", 182),
    ("security-service", "order-other-service", 18),
    ("security-service", "order-service", 18),
    ("travel-service", "basic-service", 57),
    ("travel-service", "route-service", 11),
    ("travel-service", "seat-service", 170),
    ("travel2-service", "basic-service", 30),
    ("travel2-service", "seat-service", 40),
];

fn nezha_config(dir: &std::path::Path) -> ownermap::config::Config {
    let csv = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/trainticket_2023-01-29_08_52_trace.csv");
    let text = format!(
        r#"
[spans]
path = "{csv}"
format = "csv"
duration_unit = "us"
service_from = {{ column = "PodName", regex = '^(.+)-[a-z0-9]+-[a-z0-9]+$' }}
root_parent = "root"
[spans.columns]
ParentSpanId = "ParentID"
SpanName = "OperationName"
Timestamp = "StartTimeUnixNano"
[window]
end = "2023-01-29"
days = 1
"#
    );
    let raw: ownermap::config::RawConfig = toml::from_str(&text).unwrap();
    ownermap::config::Config::from_raw(raw, dir, &Default::default()).unwrap()
}

#[test]
fn nezha_trainticket_csv_gives_the_edges_a_reader_finds() {
    let dir = tmp();
    let r = run(&nezha_config(dir.path()));
    assert_eq!(r.summary.spans_in_window, 10_243);
    assert_eq!(r.summary.traces, 137);
    let services = rows(table(&r, "services"));
    assert_eq!(services.len(), 28);
    let gw = one(&r, "services", &[("service", "ts-gateway-service")]);
    assert_eq!((gw["requests"].as_str(), gw["root_requests"].as_str()), ("137", "137"));
    let edges = rows(table(&r, "edges"));
    let got: Vec<(String, String, i64)> = edges
        .iter()
        .map(|e| (e["caller"].clone(), e["callee"].clone(), e["calls"].parse().unwrap()))
        .collect();
    let want: Vec<(String, String, i64)> =
        TRAINTICKET_EDGES.iter().map(|(a, b, n)| (format!("ts-{a}"), format!("ts-{b}"), *n)).collect();
    assert_eq!(got, want);
    assert!(edges.iter().all(|e| e["kind"] == "sync" && e["callee_type"] == "service" && e["errors"] == "0"));
    // Durations are µs in the file: the gateway's slowest request is 1.571368 s.
    assert!((f(&gw, "max_ms") - 1571.368).abs() < 1e-6);
}
