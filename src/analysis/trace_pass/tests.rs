//! The per-trace pass against the SQL it replaces on one machine, on a
//! hand-worked trace and on awkward generated ones.

use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::prelude::SessionContext;

use super::daily;
use crate::{engine, queries};

/// One span row of `window_spans` for the pass's tests.
struct Fx {
    trace: Vec<u8>,
    span: Option<Vec<u8>>,
    parent: Option<Vec<u8>>,
    dur: Option<i64>,
    service: Option<&'static str>,
    kind: i8,
    error: bool,
    vnode: Option<&'static str>,
}

/// Registers the rows as `window_spans` in batches of `per_batch`.
async fn register(ctx: &SessionContext, rows: &[Fx], per_batch: usize) {
    use datafusion::arrow::array::{BinaryArray, BooleanArray, Float64Array, Int8Array, Int32Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};
    let schema = Arc::new(Schema::new(vec![
        Field::new("trace_id", DataType::Binary, true),
        Field::new("span_id", DataType::Binary, true),
        Field::new("parent_id", DataType::Binary, true),
        Field::new("start_ns", DataType::Int64, true),
        Field::new("duration_ns", DataType::Int64, true),
        Field::new("service", DataType::Utf8, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("kind", DataType::Int8, true),
        Field::new("is_error", DataType::Boolean, true),
        Field::new("vnode", DataType::Utf8, true),
        Field::new("vtype", DataType::Utf8, true),
        Field::new("day", DataType::Int32, true),
        Field::new("weight", DataType::Float64, true),
    ]));
    let batches = rows
        .chunks(per_batch)
        .map(|rs| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(BinaryArray::from_iter(rs.iter().map(|r| Some(r.trace.clone())))),
                    Arc::new(BinaryArray::from_iter(rs.iter().map(|r| r.span.clone()))),
                    Arc::new(BinaryArray::from_iter(rs.iter().map(|r| r.parent.clone()))),
                    Arc::new(Int64Array::from_iter_values(rs.iter().enumerate().map(|(k, _)| 1_000 * k as i64))),
                    Arc::new(Int64Array::from_iter(rs.iter().map(|r| r.dur))),
                    Arc::new(StringArray::from_iter(rs.iter().map(|r| r.service))),
                    Arc::new(StringArray::from_iter_values(rs.iter().map(|r| format!("op{}", r.kind)))),
                    Arc::new(Int8Array::from_iter_values(rs.iter().map(|r| r.kind))),
                    Arc::new(BooleanArray::from_iter(rs.iter().map(|r| Some(r.error)))),
                    Arc::new(StringArray::from_iter(rs.iter().map(|r| r.vnode))),
                    Arc::new(StringArray::from_iter(rs.iter().map(|r| r.vnode.map(|_| "database")))),
                    Arc::new(Int32Array::from_iter_values(rs.iter().map(|r| 20_000 + r.kind as i32 % 2))),
                    // a weight per trace (SPEC §2.14), whole and fractional
                    Arc::new(Float64Array::from_iter_values(rs.iter().map(|r| [1.0, 2.5, 4.0][r.trace.iter().map(|b| *b as usize).sum::<usize>() % 3]))),
                ],
            )
            .unwrap()
        })
        .collect();
    engine::register_batches(ctx, "window_spans", &(schema as _), batches).await.unwrap();
}

/// A table's rows as sorted text (a multiset).
async fn rows_of(ctx: &SessionContext, table: &str) -> Vec<String> {
    use datafusion::arrow::util::display::array_value_to_string;
    let t = engine::query(ctx, &format!("SELECT * FROM {table}")).await.unwrap();
    let mut out = vec![];
    for b in &t.batches {
        for r in 0..b.num_rows() {
            let cells: Vec<String> = b.columns().iter().map(|c| if c.is_null(r) { "∅".into() } else { array_value_to_string(c, r).unwrap() }).collect();
            out.push(cells.join("|"));
        }
    }
    out.sort();
    out
}

const PASS_TABLES: [&str; 4] = ["cross_calls", "virtual_calls", "entry_spans", "slo_anchored"];

/// The pass's tables, then the SQL's (`queries/cross_calls.sql`, …,
/// the SQL anchor walk) on the same spans.
fn both(rows: &[Fx], per_batch: usize) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let engine = crate::config::EngineConfig {
            url: "local".into(),
            work_dir: std::env::temp_dir(),
            memory_limit: None,
            target_partitions: 2,
            trace_buckets: None,
            job_timeout: std::time::Duration::from_secs(600),
        };
        let ctx = engine::connect(&engine, None).await.unwrap();
        register(&ctx, rows, per_batch).await;
        let found = daily(&ctx, true).await.unwrap();
        assert!(found.found_calls);
        let mut pass = vec![];
        for t in PASS_TABLES {
            pass.push(rows_of(&ctx, t).await);
        }
        engine::materialize(&ctx, "cross_calls", queries::CROSS_CALLS).await.unwrap();
        engine::materialize(&ctx, "virtual_calls", queries::VIRTUAL_CALLS).await.unwrap();
        engine::materialize(&ctx, "entry_spans", queries::ENTRY_SPANS).await.unwrap();
        let sql_cut = crate::analysis::slo::anchor_calls(&ctx).await.unwrap();
        assert_eq!(found.anchor_walks_cut, sql_cut, "walks cut at the depth bound: pass and SQL");
        let mut sql = vec![];
        for t in PASS_TABLES {
            sql.push(rows_of(&ctx, t).await);
        }
        (pass, sql)
    })
}

fn fx(trace: &[u8], span: &str, parent: &str, dur: i64, service: &'static str, kind: i8, vnode: Option<&'static str>) -> Fx {
    let id = |s: &str| (!s.is_empty()).then(|| s.as_bytes().to_vec());
    Fx { trace: trace.to_vec(), span: id(span), parent: id(parent), dur: Some(dur), service: Some(service), kind, error: false, vnode }
}

#[test]
fn the_pass_finds_calls_entries_and_anchors_worked_out_by_hand() {
    // a (server root) → a's client c1 → b's server s1; s1 → b's client
    // c2 to the virtual node db; s1 → b's internal i1 (not an entry:
    // its parent is b's) and c's internal i2 (an entry: parent in b).
    let t = b"trace-one-000001";
    let rows = vec![
        fx(t, "r", "", 100, "a", 2, None),
        fx(t, "c1", "r", 80, "a", 3, None),
        fx(t, "s1", "c1", 70, "b", 2, None),
        fx(t, "c2", "s1", 20, "b", 3, Some("db")),
        fx(t, "i1", "s1", 5, "b", 1, None),
        fx(t, "i2", "s1", 6, "c", 1, None),
    ];
    let (pass, sql) = both(&rows, 4);
    let [cross, virt, entry, anchored] = [&pass[0], &pass[1], &pass[2], &pass[3]];
    // every row carries its trace's weight (as `register` gives it)
    let w = format!("{:?}", [1.0, 2.5, 4.0][t.iter().map(|b| *b as usize).sum::<usize>() % 3]);
    // (child s1, parent c1) and (child i2, parent s1)
    assert_eq!(cross.len(), 2);
    assert!(cross.iter().any(|r| r.contains("|a|b|3|2|false|false|80|70")), "{cross:?}");
    assert!(cross.iter().any(|r| r.contains("|b|c|2|1|false|false|70|6")), "{cross:?}");
    assert_eq!(virt.len(), 1);
    assert!(virt[0].ends_with(&format!("|b|db|database|3|false|20|{w}")), "{virt:?}");
    // r, s1, i2
    assert_eq!(entry.len(), 3);
    assert_eq!(entry.iter().filter(|r| r.ends_with(&format!("|true|{w}"))).count(), 1);
    // a→b tied to r (c1's parent; a Client parent's duration, 80);
    // b→c tied to s1 itself (a Server parent: the child's, 6)
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(anchored.len(), 2);
    assert!(anchored.iter().any(|r| r.ends_with(&format!("|a|b|80|{}", hex("r")))), "{anchored:?}");
    assert!(anchored.iter().any(|r| r.ends_with(&format!("|b|c|6|{}", hex("s1")))), "{anchored:?}");
    assert_eq!(pass, sql);
}

#[test]
fn the_pass_agrees_with_the_sql_on_awkward_traces() {
    // Two kinds of trace: trees whose ids repeat (duplicate rows; a
    // parent is an earlier span or missing), and traces of distinct
    // ids with parents at random (cycles, self-parents, missing
    // parents) — not both at once, where the anchor walk branches at
    // every round (in SQL as in the pass). NULL services and span ids,
    // NULL durations, virtual nodes named like their own service; rows
    // shuffled so a trace's spans are scattered over batches; once with
    // short ids and once with a 20-byte id among them (rank keys).
    let services = [Some("a"), Some("b"), Some("c"), None];
    let vnodes = [None, None, Some("db"), Some("a"), Some("b")];
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for long in [false, true] {
        let mut rows = vec![];
        for t in 0..400u32 {
            let trace = format!("trace-{t:010}").into_bytes();
            let n = 1 + next(12);
            let tree = t % 2 == 0;
            let id = |v: u64| if long && v == 7 { "a-twenty-byte-id-007".to_string() } else { format!("s{v}") };
            let mut made: Vec<(Option<String>, Option<String>)> = vec![];
            for k in 0..n {
                let (span, parent) = if tree && k > 0 && next(4) == 0 {
                    // a duplicate of an earlier row's ids
                    made[next(k) as usize].clone()
                } else {
                    let span = (next(25) != 0).then(|| id(k));
                    let parent = match next(5) {
                        0 => None,
                        _ if tree && k > 0 => Some(id(next(k) + if next(6) == 0 { n } else { 0 })),
                        _ if tree => None,
                        _ => Some(id(next(n + 2))),
                    };
                    (span, parent)
                };
                made.push((span.clone(), parent.clone()));
                rows.push(Fx {
                    trace: trace.clone(),
                    span: span.map(String::into_bytes),
                    parent: parent.map(String::into_bytes),
                    dur: (next(15) != 0).then(|| next(1000) as i64),
                    service: services[next(4) as usize],
                    kind: next(6) as i8,
                    error: next(5) == 0,
                    vnode: vnodes[next(5) as usize],
                });
            }
        }
        for k in (1..rows.len()).rev() {
            rows.swap(k, next(k as u64 + 1) as usize);
        }
        let (pass, sql) = both(&rows, 97);
        for (k, t) in PASS_TABLES.iter().enumerate() {
            assert!(!pass[k].is_empty(), "{t}: no rows, the case tests nothing");
            assert_eq!(pass[k], sql[k], "{t} (long ids: {long})");
        }
    }
}
