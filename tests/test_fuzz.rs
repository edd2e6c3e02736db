//! Every reader fed thousands of mutated versions of real-shaped inputs
//! (issue #11): a seeded mutator flips, deletes, duplicates and truncates
//! bytes and splices in hostile tokens. No reader may panic, and every
//! error must name the file it read.

mod common;
/// Random span files through the reader and the per-trace pass.
#[path = "fuzz/spans.rs"]
mod spans;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use ownermap::import::{Format, Sink, read_into};

/// How many mutants each reader gets (seeded: the same every run).
const MUTANTS: usize = 400;

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
}

const TOKENS: &[&str] = &[
    "\0", "\"", "'", "{", "}", "[", "]", ":", ",", "\n", "\r\n", "-", "9", "1e400", "-1e18", "NaN", "inf", "null", "true",
    "é", "\u{feff}", "\u{202e}", "&", "*", "- ", ": ", "  ", "---\n", "\t", "\\", "\\u0000", "0x", "18446744073709551616",
    "9999-99-99T99:99:99Z", "2026-11-20T10:00:00Z", ";", "\"\"\"", "<script>", "%", "..", "/", "~", "!!binary ",
];

fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = b.len().max(1);
        let at = rng.below(len);
        match rng.below(6) {
            0 => {
                if !b.is_empty() {
                    let i = rng.below(b.len());
                    b[i] = rng.next() as u8;
                }
            }
            1 => {
                let end = (at + 1 + rng.below(40)).min(b.len());
                if at < end {
                    b.drain(at..end);
                }
            }
            2 => {
                let end = (at + 1 + rng.below(200)).min(b.len());
                if at < end {
                    let piece = b[at..end].to_vec();
                    let to = rng.below(b.len());
                    b.splice(to..to, piece);
                }
            }
            3 => b.truncate(at),
            _ => {
                let t = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let at = at.min(b.len());
                b.splice(at..at, t.iter().copied());
            }
        }
    }
    b
}

/// Runs `read` on every mutant of `seed` written as `name`; returns how
/// many were rejected with an error (each naming the file).
fn fuzz(name: &str, seed: &[u8], read: &dyn Fn(&Path) -> Result<(), String>) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ownermap::hash::fnv1a(name.as_bytes()));
    let mut rejected = 0;
    for i in 0..MUTANTS {
        let m = mutate(seed, &mut rng);
        std::fs::write(&path, &m).unwrap();
        match catch_unwind(AssertUnwindSafe(|| read(&path))) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                rejected += 1;
                assert!(e.contains(name), "{name} mutant {i}: the error does not name the file: {e}\n--- input:\n{}", String::from_utf8_lossy(&m));
            }
            Err(_) => panic!("{name} mutant {i} panicked; input:\n{}", String::from_utf8_lossy(&m)),
        }
    }
    rejected
}

fn repo_bytes(name: &str) -> Vec<u8> {
    std::fs::read(common::repo_file(name)).unwrap()
}

#[test]
fn catalog_yaml_never_panics_and_errors_name_the_file() {
    let seed = repo_bytes("sample-data/catalog.yaml");
    let backstage = b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\n  description: x\n  links:\n    - url: https://r\n      title: runbook\nspec:\n  owner: group:storefront\n  dependsOn: [component:payments]\n---\nkind: Group\nmetadata: {name: storefront}\nspec: {members: [ana]}\n";
    let read = |p: &Path| ownermap::input::catalog::read(&[p]).map(|_| ()).map_err(|e| e.to_string());
    let a = fuzz("fuzz-catalog.yaml", &seed, &read);
    let b = fuzz("fuzz-backstage.yaml", backstage, &read);
    assert!(a + b > 0, "some mutants must be rejected, or the fuzzer is not reaching the parser");
}

#[test]
fn teams_yaml_never_panics_and_errors_name_the_file() {
    let seed = repo_bytes("sample-data/teams.yaml");
    let n = fuzz("fuzz-teams.yaml", &seed, &|p| ownermap::input::teams::read(p).map(|_| ()).map_err(|e| e.to_string()));
    assert!(n > 0);
}

#[test]
fn incidents_csv_and_pagerduty_never_panic_and_errors_name_the_file() {
    use ownermap::config::IncidentFormat;
    let csv = repo_bytes("sample-data/incidents.csv");
    let csv = &csv[..csv.len().min(4000)];
    fuzz("fuzz-incidents.csv", csv, &|p| ownermap::input::incidents::read(p, &IncidentFormat::Csv).map(|_| ()).map_err(|e| e.to_string()));
    let pd = br#"{"data": [{"id": "Q1", "description": "db down", "urgency": "high", "created_at": "2026-11-20T10:00:00Z",
        "resolved_at": "2026-11-20T11:00:00Z", "service_name": "db", "team_name": "data", "priority_name": "P1",
        "seconds_to_first_ack": 120, "seconds_to_resolve": 3600, "engaged_user_count": 3, "assigned_user_names": ["a", "b"]}]}"#;
    let n = fuzz("fuzz-pd.json", pd, &|p| ownermap::input::incidents::read(p, &IncidentFormat::PagerDuty).map(|_| ()).map_err(|e| e.to_string()));
    assert!(n > 0);
    let pd_csv = b"id,created_at,resolved_at,service_name,team_name,urgency,seconds_to_first_ack,seconds_to_resolve,engaged_user_count\nQ1,2026-11-20T10:00:00Z,,db,data,high,60,600,2\n";
    fuzz("fuzz-pd.csv", pd_csv, &|p| ownermap::input::incidents::read(p, &IncidentFormat::PagerDuty).map(|_| ()).map_err(|e| e.to_string()));
}

fn import(format: Format) -> impl Fn(&Path) -> Result<(), String> {
    move |p: &Path| {
        let mut spans = Vec::new();
        let mut sink = Sink::new(&mut spans);
        read_into(format, p, &mut sink).map_err(|e| e.to_string())
    }
}

#[test]
fn importers_never_panic_and_errors_name_the_file() {
    let zipkin = repo_bytes("tests/fixtures/skew.json");
    let n = fuzz("fuzz-zipkin.json", &zipkin, &import(Format::ZipkinJson));
    assert!(n > 0);
    let jaeger = repo_bytes("tests/fixtures/jaeger_uimodel_fixture_ui_01.json");
    let n = fuzz("fuzz-jaeger.json", &jaeger, &import(Format::JaegerJson));
    assert!(n > 0);
    let otlp = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeSpans":[{"spans":[{"traceId":"QpC1h3qZMN55u0KDZTmOzA==","spanId":"1gZXnld4dYc=","parentSpanId":"","name":"a","kind":2,"startTimeUnixNano":"1000","endTimeUnixNano":1500,"status":{"code":2},"attributes":[{"key":"db.system","value":{"stringValue":"pg"}}]}]}]}]}"#;
    let n = fuzz("fuzz-otlp.json", otlp, &import(Format::OtlpJson));
    assert!(n > 0);
}

#[test]
fn config_toml_never_panics_and_errors_name_the_file() {
    let seed = b"[spans]\npath = \"spans\"\nformat = \"parquet\"\n[spans.columns]\nTraceId = \"trace\"\n[window]\nend = \"2026-11-22\"\ndays = 7\ntrace_slack_minutes = 10\n[engine]\nmemory_limit = \"2g\"\n[output]\ndir = \"out\"\n[load]\nmax_pages_per_12h = 2\n";
    let n = fuzz("fuzz-ownermap.toml", seed, &|p: &Path| {
        ownermap::config::Config::load(p, &Default::default()).map(|_| ()).map_err(|e| e.to_string())
    });
    assert!(n > 0);
}
