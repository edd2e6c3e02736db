//! Importers on real traces (SPEC §1.6): each file is imported, analysed,
//! and compared with the services and edges worked out by reading the file
//! (the derivation is in the comments). Plus round-trips and bad input.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use ownermap::canonical::{CanonSpan, read_parquet};
use ownermap::import::{Format, Sink, import, read_into};


/// Imports `file`, then runs the analyses over the one day `end`.
fn import_and_run(format: Format, file: &Path, end: &str) -> (ownermap::run_result::RunResult, tempfile::TempDir) {
    let dir = tmp();
    let out = dir.path().join("spans/imported.parquet");
    let rep = import(format, &[file.to_path_buf()], &out).unwrap();
    assert!(rep.spans > 0);
    let text = format!("[spans]\npath = \"spans\"\n[window]\nend = \"{end}\"\ndays = 1\n");
    let raw: ownermap::config::RawConfig = toml::from_str(&text).unwrap();
    let cfg = ownermap::config::Config::from_raw(raw, dir.path(), &Default::default()).unwrap();
    (run(&cfg), dir)
}

fn edge_list(r: &ownermap::run_result::RunResult) -> Vec<(String, String, String, String, i64, i64)> {
    rows(table(r, "edges"))
        .into_iter()
        .map(|e| (e["caller"].clone(), e["callee"].clone(), e["callee_type"].clone(), e["kind"].clone(), e["calls"].parse().unwrap(), e["errors"].parse().unwrap()))
        .collect()
}

fn e(a: &str, b: &str, t: &str, k: &str, calls: i64, errors: i64) -> (String, String, String, String, i64, i64) {
    (a.into(), b.into(), t.into(), k.into(), calls, errors)
}

fn service_names(r: &ownermap::run_result::RunResult) -> Vec<String> {
    rows(table(r, "services")).into_iter().map(|s| s["service"].clone()).collect()
}

/// yelp.json, read by hand: four ids are shared between a CLIENT and a
/// SERVER half (`shared: true`): f5f2… (yelp-main → mobile_api), 668e…
/// ("unknown" → yelp_main/api_proxy), 7a77… (mobile_api → spectre), and
/// 2e8c… (routing's SERVER with no client half: keeps its id, the root).
/// mobile_api's four client spans name f5f2… as parent: they belong under
/// mobile_api's server half. yelp-main's txn span and memcache client name
/// 668e… as parent, whose server half is another service
/// (yelp_main/api_proxy), so they stay under the "unknown" client.
/// Uninstrumented callees come from remoteEndpoint → peer.service: blt,
/// memcache (2 from mobile_api, 3 from yelp-main), mysql (2).
#[test]
fn zipkin_yelp_shared_spans_become_proper_parent_child_pairs() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("yelp.json"), "2019-10-24");
    assert_eq!(
        edge_list(&r),
        vec![
            e("mobile_api", "blt", "external", "sync", 1, 0),
            e("mobile_api", "memcache", "external", "sync", 2, 0),
            e("mobile_api", "spectre", "service", "sync", 1, 0),
            e("routing", "unknown", "service", "sync", 1, 0),
            e("routing", "yelp-main", "service", "sync", 1, 0),
            e("unknown", "yelp-main", "service", "sync", 2, 0),
            e("unknown", "yelp_main/api_proxy", "service", "sync", 1, 0),
            e("yelp-main", "memcache", "external", "sync", 3, 0),
            e("yelp-main", "mobile_api", "service", "sync", 1, 0),
            e("yelp-main", "mysql", "external", "sync", 2, 0),
        ]
    );
    assert_eq!(service_names(&r), vec!["mobile_api", "routing", "spectre", "unknown", "yelp-main", "yelp_main/api_proxy"]);
    // routing's server span is the only root request.
    assert_eq!(one(&r, "services", &[("service", "routing")])["root_requests"], "1");
    assert_eq!(r.summary.duplicate_span_ids, 0, "shared ids were split");
}

/// messaging-kafka.json, read by hand: serviceb's three CONSUMER spans have
/// servicea PRODUCER parents (one async edge, 3 calls); six PRODUCER spans
/// have no consumer child in another service and name kafka as their remote
/// endpoint (virtual node, async). Consumers in servicea make no edge.
#[test]
fn zipkin_kafka_producers_and_consumers() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("messaging-kafka.json"), "2018-11-05");
    assert_eq!(
        edge_list(&r),
        vec![e("servicea", "kafka", "external", "async", 6, 0), e("servicea", "serviceb", "service", "async", 3, 0)]
    );
    assert_eq!(one(&r, "services", &[("service", "serviceb")])["requests"], "3");
}

/// smartthings-mobile-web-install.json: the file's README lists 16 services
/// in 1,041 spans of one trace; every edge joins two of them.
#[test]
fn zipkin_smartthings_production_trace() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("smartthings-mobile-web-install.json"), "2018-11-30");
    let services = service_names(&r);
    assert_eq!(services.len(), 16, "{services:?}");
    assert_eq!(r.summary.traces, 1);
    for (a, b, t, ..) in edge_list(&r) {
        assert!(services.contains(&a) && (t != "service" || services.contains(&b)));
    }
    let p = one(&r, "edges", &[("caller", "stLogin"), ("callee", "platformapi")]);
    assert_eq!(p["kind"], "sync");
}

/// The Jaeger UI test trace: load-generator's root span calls through an
/// HTTP GET client span (span.kind=client, 968.334 ms) into
/// ride-sharing-app's BikeHandler server span (967.066 ms).
#[test]
fn jaeger_ui_trace() {
    let (r, _d) = import_and_run(Format::JaegerJson, &fixture("jaeger-ui_TraceFlamegraph_testTrace.json"), "2022-08-09");
    assert_eq!(edge_list(&r), vec![e("load-generator", "ride-sharing-app", "service", "sync", 1, 0)]);
    let edge = one(&r, "edges", &[("caller", "load-generator")]);
    assert!((f(&edge, "p50_ms") / 968.334 - 1.0).abs() < 0.01);
    assert!((f(&edge, "server_p50_ms") / 967.066 - 1.0).abs() < 0.01);
    assert_eq!(one(&r, "services", &[("service", "load-generator")])["root_requests"], "1");
}

/// ui_01: span 2 of service-x appears twice (one copy tagged error=true);
/// spans 3 and 4 of service-y are its children (span 4's first CHILD_OF
/// points into another trace and is ignored); span 5 is under span 4. Each
/// child pairs with both copies of span 2: 4 calls, none an error (the
/// erroring parent is not a client span).
#[test]
fn jaeger_bare_trace_with_references_and_duplicates() {
    let (r, _d) = import_and_run(Format::JaegerJson, &fixture("jaeger_uimodel_fixture_ui_01.json"), "2017-01-26");
    assert_eq!(edge_list(&r), vec![e("service-x", "service-y", "service", "sync", 4, 0)]);
    assert_eq!(r.summary.duplicate_span_ids, 2);
    let x = one(&r, "services", &[("service", "service-x")]);
    assert_eq!((x["requests"].as_str(), x["errors"].as_str()), ("2", "1"));
    assert_eq!(one(&r, "services", &[("service", "service-y")])["requests"], "2");
}

/// A Grafana Tempo test file (AGPL-3.0, not committed here; see
/// tests/fixtures/README.md) from the folder `OWNERMAP_TEMPO_DATA` names.
fn tempo_file(name: &str) -> Option<PathBuf> {
    let Some(dir) = std::env::var_os("OWNERMAP_TEMPO_DATA") else {
        eprintln!("skipping: OWNERMAP_TEMPO_DATA is not set (Grafana Tempo's AGPL test blocks are not committed)");
        return None;
    };
    let p = Path::new(&dir).join(name);
    if p.exists() {
        Some(p)
    } else {
        eprintln!("skipping: {} is absent", p.display());
        None
    }
}

/// OTLP JSON with a queue and a database, read by hand: the requester's
/// CLIENT root calls mythical-server's SERVER (sync); its PRODUCER (rabbitmq)
/// has mythical-recorder's CONSUMER as child (async, direct); the server's
/// pg.query client names db.system=postgresql (database node) and its HTTP
/// POST client only net.peer.name=loki (external; its children are in the
/// same service). dns.lookup and two log_to_loki clients name nothing:
/// 3 unresolved calls.
#[test]
fn otlp_queue_and_database() {
    let Some(f) = tempo_file("servicegraphs_testdata_trace-with-queue-database.otlp-jsonpb.json") else { return };
    let (r, _d) = import_and_run(Format::OtlpJson, &f, "2022-07-20");
    assert_eq!(
        edge_list(&r),
        vec![
            e("mythical-requester", "mythical-recorder", "service", "async", 1, 0),
            e("mythical-requester", "mythical-server", "service", "sync", 1, 0),
            e("mythical-server", "loki", "external", "sync", 1, 0),
            e("mythical-server", "postgresql", "database", "sync", 1, 0),
        ]
    );
    assert_eq!(r.summary.unresolved_calls, 3);
    assert_eq!(one(&r, "services", &[("service", "mythical-requester")])["requests"], "0", "a client root is not a request");
}

/// OTLP JSON with failed requests: the requester's erroring root calls the
/// erroring server, whose failed pg INSERT is the deepest error: the walk
/// blames the postgresql database node.
#[test]
fn otlp_failed_requests_are_attributed_to_the_database() {
    let Some(f) = tempo_file("servicegraphs_testdata_trace-with-failed-requests.otlp-jsonpb.json") else { return };
    let (r, _d) = import_and_run(Format::OtlpJson, &f, "2022-07-20");
    assert_eq!(one(&r, "edges", &[("caller", "mythical-requester")])["errors"], "1");
    assert_eq!(one(&r, "edges", &[("callee", "postgresql")])["errors"], "1");
    let a = one(&r, "attribution", &[("signal_service", "mythical-requester")]);
    assert_eq!((a["signal_operation"].as_str(), a["culprit_service"].as_str()), ("requester", "postgresql"));
}

#[test]
fn import_then_parquet_then_read_gives_the_same_spans() {
    for (format, name) in [
        (Format::ZipkinJson, "yelp.json"),
        (Format::ZipkinJson, "messaging-kafka.json"),
        (Format::JaegerJson, "jaeger_uimodel_fixture_ui_01.json"),
    ] {
        let mut direct: Vec<CanonSpan> = vec![];
        let mut sink = Sink::new(&mut direct);
        read_into(format, &fixture(name), &mut sink).unwrap();
        let dir = tmp();
        let out = dir.path().join("x.parquet");
        import(format, &[fixture(name)], &out).unwrap();
        assert_eq!(read_parquet(&out).unwrap(), direct, "{name}");
    }
}

#[test]
fn otlp_lines_with_base64_ids_and_a_malformed_line() {
    let dir = tmp();
    let doc = |span: &str| format!(r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"svc"}}}}]}},"scopeSpans":[{{"spans":[{span}]}}]}}]}}"#);
    let ok = doc(r#"{"traceId":"QpC1h3qZMN55u0KDZTmOzA==","spanId":"1gZXnld4dYc=","name":"a","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":1500,"status":{"code":2}}"#);
    let no_id = doc(r#"{"traceId":"","spanId":"","name":"b","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1000"}"#);
    let f = dir.path().join("otlp.jsonl");
    std::fs::write(&f, format!("{ok}\n{no_id}\n")).unwrap();
    let out = dir.path().join("o.parquet");
    let rep = import(Format::OtlpJson, &[f.clone()], &out).unwrap();
    assert_eq!((rep.spans, rep.skipped), (1, 1));
    let spans = read_parquet(&out).unwrap();
    assert_eq!(spans[0].trace_id, "4290b5877a9930de79bb428365398ecc");
    assert_eq!((spans[0].kind, spans[0].status, spans[0].duration_ns), ("Server", "Error", 500));
    std::fs::write(&f, format!("{ok}\n{{\"resourceSpans\": [\n")).unwrap();
    let err = import(Format::OtlpJson, &[f], &dir.path().join("bad.parquet")).unwrap_err().to_string();
    assert!(err.contains("otlp.jsonl") && err.contains("line 2"), "{err}");
    assert!(!dir.path().join("bad.parquet").exists(), "nothing half-written");
}

/// Every caller → callee of the Tempo vParquet4 test block with its calls
/// and errors, all synchronous. Derived independently of ownermap by
/// flattening the block with pyarrow (Trace → rs → ss → Spans; service =
/// rs.Resource.ServiceName) and pairing each span with the span of the same
/// TraceID whose SpanID is its ParentSpanID; an error when the child's
/// StatusCode is 2 (or a client/producer parent's is).
const TEMPO_V4_EDGES: &[(&str, &str, i64, i64)] = &[
    ("checkoutservice", "cartservice", 4, 0),
    ("checkoutservice", "currencyservice", 4, 0),
    ("checkoutservice", "emailservice", 4, 1),
    ("checkoutservice", "paymentservice", 4, 0),
    ("checkoutservice", "shippingservice", 4, 0),
    ("frontend", "adservice", 21, 0),
    ("frontend", "cartservice", 103, 0),
    ("frontend", "checkoutservice", 4, 1),
    ("frontend", "currencyservice", 2, 0),
    ("frontend", "productcatalogservice", 21, 0),
    ("frontend", "recommendationservice", 124, 0),
    ("frontend", "shippingservice", 4, 0),
    ("recommendationservice", "productcatalogservice", 124, 0),
];

fn run_tempo(file: &Path) -> ownermap::run_result::RunResult {
    let dir = tmp();
    let text = format!("[spans]\npath = \"{}\"\nformat = \"tempo\"\n[window]\nend = \"2022-07-04\"\ndays = 1\n", file.display());
    let raw: ownermap::config::RawConfig = toml::from_str(&text).unwrap();
    run(&ownermap::config::Config::from_raw(raw, dir.path(), &Default::default()).unwrap())
}

#[test]
fn tempo_vparquet4_block_is_read_without_conversion() {
    let Some(f) = tempo_file("vparquet4_testblock_data.parquet") else { return };
    let r = run_tempo(&f);
    // The block's README: 134 traces, 570 spans.
    assert_eq!((r.summary.traces, r.summary.spans_in_window), (134, 570));
    let want: Vec<_> = TEMPO_V4_EDGES.iter().map(|(a, b, c, x)| e(a, b, "service", "sync", *c, *x)).collect();
    assert_eq!(edge_list(&r), want);
    assert_eq!(one(&r, "services", &[("service", "frontend")])["root_requests"], "134");
}

#[test]
fn tempo_vparquet5_block_has_the_same_shape() {
    let Some(f) = tempo_file("vparquet5_testblock_data.parquet") else { return };
    let r = run_tempo(&f);
    // 133 traces and 566 spans in this preview block (pyarrow count).
    assert_eq!((r.summary.traces, r.summary.spans_in_window), (133, 566));
    let got: Vec<(String, String)> = edge_list(&r).into_iter().map(|e| (e.0, e.1)).collect();
    let want: Vec<(String, String)> = TEMPO_V4_EDGES.iter().map(|(a, b, ..)| (a.to_string(), b.to_string())).collect();
    assert_eq!(got, want, "the same services call each other");
}

#[test]
fn zipkin_spilled_to_buckets_gives_the_same_spans_as_in_memory() {
    for name in ["yelp.json", "messaging-kafka.json", "smartthings-mobile-web-install.json"] {
        let sorted = |mut v: Vec<CanonSpan>| {
            v.sort_by(|a, b| (&a.trace_id, &a.span_id, &a.service, a.start_ns).cmp(&(&b.trace_id, &b.span_id, &b.service, b.start_ns)));
            v
        };
        let mut mem: Vec<CanonSpan> = vec![];
        ownermap::import::zipkin::read_file_with_limit(&fixture(name), &mut Sink::new(&mut mem), usize::MAX).unwrap();
        let mut spilled: Vec<CanonSpan> = vec![];
        ownermap::import::zipkin::read_file_with_limit(&fixture(name), &mut Sink::new(&mut spilled), 3).unwrap();
        assert_eq!(sorted(spilled), sorted(mem), "{name}");
    }
}

#[test]
fn jaeger_streams_data_lists_bare_traces_and_single_objects() {
    let dir = tmp();
    let trace = std::fs::read_to_string(fixture("jaeger_uimodel_fixture_ui_01.json")).unwrap();
    let count = |text: String| {
        let f = dir.path().join("j.json");
        std::fs::write(&f, text).unwrap();
        let mut v: Vec<CanonSpan> = vec![];
        ownermap::import::jaeger::read_file(&f, &mut Sink::new(&mut v)).unwrap();
        v.len()
    };
    assert_eq!(count(trace.clone()), 5);
    assert_eq!(count(format!("{{\"data\": [{trace}, {trace}], \"total\": 2}}")), 10);
    assert_eq!(count(format!("{{\"data\": {trace}}}")), 5);
    std::fs::write(dir.path().join("bad.json"), "{\"data\": [{\"spans\": [ }").unwrap();
    let mut v: Vec<CanonSpan> = vec![];
    let err = ownermap::import::jaeger::read_file(&dir.path().join("bad.json"), &mut Sink::new(&mut v)).unwrap_err().to_string();
    assert!(err.contains("bad.json") && err.contains("line 1"), "{err}");
}

/// ascend.json, read by hand: ids ecc0… (mobile-gateway client →
/// content-service server, shared) and 52b1… (mobile-gateway client →
/// auth-service server, shared). content-service's own client c21c… and its
/// hystrix span name ecc0… as parent: they go under content-service's server
/// half; auth-service's extend-token-life goes under auth-service's half.
/// c21c… names no callee: one unresolved call.
#[test]
fn zipkin_ascend() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("ascend.json"), "2018-07-11");
    assert_eq!(
        edge_list(&r),
        vec![e("mobile-gateway", "auth-service", "service", "sync", 1, 0), e("mobile-gateway", "content-service", "service", "sync", 1, 0)]
    );
    assert_eq!(r.summary.unresolved_calls, 1);
    assert_eq!(service_names(&r), vec!["auth-service", "content-service", "mobile-gateway"]);
    for s in ["auth-service", "content-service", "mobile-gateway"] {
        assert_eq!(one(&r, "services", &[("service", s)])["requests"], "1", "{s}");
    }
}

/// skew.json: servicea's server calls serviceb through the shared id 7428…;
/// serviceb's async span names 7428… as parent and goes under serviceb's half.
#[test]
fn zipkin_skew() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("skew.json"), "2016-08-02");
    assert_eq!(edge_list(&r), vec![e("servicea", "serviceb", "service", "sync", 1, 0)]);
    assert_eq!(one(&r, "services", &[("service", "serviceb")])["requests"], "1");
}

/// messaging2.json: auth-service's shared server half has no client half,
/// so it keeps its id and its parent (mobile-gateway's server): a direct
/// server→server edge. transfer-service's spans hang under an absent parent;
/// its PRODUCER has no consumer child (the notification-service consumer
/// names another, absent parent) and names rabbitmq: an async external
/// node. Four clients name no callee (mobile-gateway's post, two
/// transfer-service clients, notification-service's post).
#[test]
fn zipkin_messaging2() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("messaging2.json"), "2018-10-29");
    assert_eq!(
        edge_list(&r),
        vec![e("mobile-gateway", "auth-service", "service", "sync", 1, 0), e("transfer-service", "rabbitmq", "external", "async", 1, 0)]
    );
    assert_eq!(r.summary.unresolved_calls, 4);
    let t = one(&r, "services", &[("service", "transfer-service")]);
    assert_eq!((t["requests"].as_str(), t["root_requests"].as_str()), ("2", "0"), "two orphaned internal spans");
    assert_eq!(one(&r, "services", &[("service", "notification-service")])["requests"], "1");
}

/// smartthings-oauth-authorization.json: 175 spans of 8 services (the
/// distinct localEndpoint names, listed with Python).
#[test]
fn zipkin_smartthings_oauth() {
    let (r, _d) = import_and_run(Format::ZipkinJson, &fixture("smartthings-oauth-authorization.json"), "2018-11-27");
    assert_eq!(service_names(&r), vec!["account", "auth", "bouncer", "datamgmt", "dove", "paperboy", "pusher", "stlogin"]);
    assert!(edge_list(&r).iter().all(|(a, ..)| a != "unknown"));
}

/// Nezha OnlineBoutique dump (MIT, tests/fixtures/README.md). Expected pairs derived with Python's csv module as for
/// TrainTicket (tests/test_real_data.rs).
#[test]
fn nezha_onlineboutique_csv() {
    let csv = fixture("onlineboutique_2022-08-22_04_20_trace.csv");
    let dir = tmp();
    let text = format!(
        "[spans]\npath = \"{}\"\nformat = \"csv\"\nduration_unit = \"us\"\nservice_from = {{ column = \"PodName\", regex = '^(.+)-[a-z0-9]+-[a-z0-9]+$' }}\nroot_parent = \"root\"\n[spans.columns]\nParentSpanId = \"ParentID\"\nSpanName = \"OperationName\"\nTimestamp = \"StartTimeUnixNano\"\n[window]\nend = \"2022-08-22\"\ndays = 1\n",
        csv.display()
    );
    let raw: ownermap::config::RawConfig = toml::from_str(&text).unwrap();
    let r = run(&ownermap::config::Config::from_raw(raw, dir.path(), &Default::default()).unwrap());
    assert_eq!((r.summary.spans_in_window, r.summary.traces), (23_337, 533));
    let want: Vec<_> = [
        ("checkoutservice", "cartservice", 52),
        ("checkoutservice", "emailservice", 26),
        ("checkoutservice", "paymentservice", 26),
        ("checkoutservice", "productcatalogservice", 65),
        ("checkoutservice", "shippingservice", 52),
        ("frontend", "adservice", 306),
        ("frontend", "cartservice", 472),
        ("frontend", "checkoutservice", 26),
        ("frontend", "currencyservice", 1429),
        ("frontend", "productcatalogservice", 2334),
        ("frontend", "recommendationservice", 359),
        ("frontend", "shippingservice", 106),
        ("recommendationservice", "productcatalogservice", 359),
    ]
    .iter()
    .map(|(a, b, n)| e(a, b, "service", "sync", *n, 0))
    .collect();
    assert_eq!(edge_list(&r), want);
    assert_eq!(rows(table(&r, "services")).len(), 10);
}
