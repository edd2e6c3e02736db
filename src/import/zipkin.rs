//! Zipkin v2 JSON (SPEC §1.6): a list of spans or a list of traces.
//!
//! In order:
//! 1. Fragments of one id without a timestamp (as reporters emit them) are
//!    merged into the fragment of that id that has one (of the same kind
//!    when both name a kind); a span with no timestamp at all is skipped and
//!    counted.
//! 2. Shared span ids: when an id has a client half and server halves, each
//!    server half gets a new id derived from (trace, id, its service, its
//!    position) with the client half as its parent. A shared span with no
//!    client half keeps its id and parent.
//! 3. A child whose `parentId` is a shared id goes under the server half of
//!    its own service when there is one, else stays under the client half.
//!
//! Kind CLIENT/SERVER/PRODUCER/CONSUMER, none → Internal; service is
//! `localEndpoint.serviceName` as written; `remoteEndpoint.serviceName` →
//! `SpanAttributes['peer.service']`; an `error` tag, even empty → Error;
//! missing duration → 0; times in µs.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::{Sink, hex_id, int, text};
use crate::canonical::{CanonSpan, KINDS, STATUSES, kind_name};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Default)]
struct ZSpan {
    trace_id: String,
    id: String,
    parent_id: String,
    kind: Option<String>,
    name: String,
    timestamp: Option<i64>,
    duration: Option<i64>,
    local: Option<String>,
    remote: Option<String>,
    tags: BTreeMap<String, String>,
    shared: bool,
    annotations: Option<Value>,
}

fn endpoint(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(|e| e.get("serviceName")).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string)
}

fn parse_span(v: &Value) -> ZSpan {
    let s = |k: &str| v.get(k).map(text).unwrap_or_default();
    ZSpan {
        trace_id: hex_id(&s("traceId"), 32),
        id: hex_id(&s("id"), 16),
        parent_id: hex_id(&s("parentId"), 16),
        kind: v.get("kind").and_then(Value::as_str).map(|k| k.to_ascii_uppercase()),
        name: s("name"),
        timestamp: int(v.get("timestamp")).filter(|t| *t > 0),
        duration: int(v.get("duration")),
        local: endpoint(v, "localEndpoint"),
        remote: endpoint(v, "remoteEndpoint"),
        tags: v.get("tags").and_then(Value::as_object).map(|m| m.iter().map(|(k, x)| (k.clone(), text(x))).collect()).unwrap_or_default(),
        shared: v.get("shared").and_then(Value::as_bool).unwrap_or(false),
        annotations: v.get("annotations").cloned(),
    }
}

fn absorb(into: &mut ZSpan, f: ZSpan) {
    if into.name.is_empty() {
        into.name = f.name;
    }
    if into.parent_id.is_empty() {
        into.parent_id = f.parent_id;
    }
    into.kind = into.kind.take().or(f.kind);
    into.duration = into.duration.or(f.duration);
    into.local = into.local.take().or(f.local);
    into.remote = into.remote.take().or(f.remote);
    for (k, v) in f.tags {
        into.tags.entry(k).or_insert(v);
    }
    into.shared |= f.shared;
    if into.annotations.is_none() {
        into.annotations = f.annotations;
    }
}

/// Step 1: merge timestamp-less fragments; returns spans and the number of
/// spans dropped for having no timestamp at all.
fn merge_fragments(spans: Vec<ZSpan>) -> (Vec<ZSpan>, u64) {
    let (mut with_ts, without): (Vec<ZSpan>, Vec<ZSpan>) = spans.into_iter().partition(|s| s.timestamp.is_some());
    let mut index: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, s) in with_ts.iter().enumerate() {
        index.entry((s.trace_id.clone(), s.id.clone())).or_default().push(i);
    }
    let mut orphans: Vec<ZSpan> = vec![];
    for f in without {
        let target = index.get(&(f.trace_id.clone(), f.id.clone())).and_then(|cands| {
            cands.iter().copied().find(|&i| match (&with_ts[i].kind, &f.kind) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            })
        });
        match target {
            Some(i) => absorb(&mut with_ts[i], f),
            None => orphans.push(f),
        }
    }
    // Fragments with no timestamped partner: merge among themselves, then
    // count each distinct id once as skipped.
    let mut ids: Vec<(String, String)> = orphans.into_iter().map(|f| (f.trace_id, f.id)).collect();
    ids.sort();
    ids.dedup();
    (with_ts, ids.len() as u64)
}

fn derived_id(trace: &str, id: &str, service: &str, k: usize) -> String {
    let key = format!("{trace}/{id}/{service}/{k}");
    let h = crate::hash::fnv1a(key.as_bytes());
    format!("{:016x}", h | 1)
}

/// Steps 2 and 3: split shared ids and re-parent their children.
fn split_shared(mut spans: Vec<ZSpan>) -> Vec<ZSpan> {
    let mut groups: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, s) in spans.iter().enumerate() {
        groups.entry((s.trace_id.clone(), s.id.clone())).or_default().push(i);
    }
    // (trace, shared id) → servers' (service, new id)
    let mut shared: HashMap<(String, String), Vec<(Option<String>, String)>> = HashMap::new();
    // Server halves are already placed under their client; everything else
    // (client halves included: a client half can be another id's child) is
    // re-parented below.
    let mut server_half: Vec<bool> = vec![false; spans.len()];
    for ((trace, id), members) in &groups {
        if members.len() < 2 {
            continue;
        }
        let is_client = |i: &usize| spans[*i].kind.as_deref() == Some("CLIENT") && !spans[*i].shared;
        let Some(&client) = members.iter().find(|i| is_client(i)) else { continue };
        let servers: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| i != client && (spans[i].shared || spans[i].kind.as_deref() == Some("SERVER")))
            .collect();
        let mut out = vec![];
        for (k, &i) in servers.iter().enumerate() {
            let new_id = derived_id(trace, id, spans[i].local.as_deref().unwrap_or(""), k);
            spans[i].id = new_id.clone();
            spans[i].parent_id = spans[client].id.clone();
            server_half[i] = true;
            out.push((spans[i].local.clone(), new_id));
        }
        if !out.is_empty() {
            shared.insert((trace.clone(), id.clone()), out);
        }
    }
    for (i, s) in spans.iter_mut().enumerate() {
        if server_half[i] {
            continue;
        }
        if let Some(servers) = shared.get(&(s.trace_id.clone(), s.parent_id.clone())) {
            if let Some((_, new_id)) = servers.iter().find(|(svc, _)| svc.is_some() && *svc == s.local) {
                s.parent_id = new_id.clone();
            }
        }
    }
    spans
}

fn flatten(doc: &Value, file: &str) -> Result<Vec<ZSpan>> {
    let Value::Array(items) = doc else {
        return Err(Error::Input { path: file.into(), msg: "expected a JSON list of Zipkin spans or traces".into() });
    };
    let mut out = vec![];
    for it in items {
        match it {
            Value::Array(trace) => out.extend(trace.iter().map(parse_span)),
            Value::Object(_) => out.push(parse_span(it)),
            _ => {}
        }
    }
    Ok(out)
}

/// Reads a whole parsed document.
pub fn read(doc: &Value, file: &str, sink: &mut Sink) -> Result<()> {
    process(flatten(doc, file)?, sink)
}

/// Spans of a flat list held in memory before they are spilled to buckets.
const IN_MEMORY_SPANS: usize = 1_000_000;
const BUCKETS: u64 = 64;

/// Reads a file element by element. A list of traces is processed trace by
/// trace; a flat list of spans is held in memory up to a million spans and
/// beyond that spilled to bucket files by trace id (each bucket then holds
/// whole traces), so files larger than memory convert.
pub fn read_file(path: &std::path::Path, sink: &mut Sink) -> Result<()> {
    read_file_with_limit(path, sink, IN_MEMORY_SPANS)
}

/// [`read_file`] with the in-memory span limit as a parameter (tests).
pub fn read_file_with_limit(path: &std::path::Path, sink: &mut Sink, in_memory: usize) -> Result<()> {
    use std::io::{BufRead, Write};
    let mut buffered: Vec<ZSpan> = vec![];
    let mut spill: Option<(std::path::PathBuf, Vec<std::io::BufWriter<std::fs::File>>)> = None;
    let bucket = |z: &ZSpan| z.trace_id.bytes().fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(b as u64)) % BUCKETS;
    let write_spill = |z: &ZSpan, raw: &Value, files: &mut Vec<std::io::BufWriter<std::fs::File>>| -> Result<()> {
        let f = &mut files[bucket(z) as usize];
        writeln!(f, "{raw}").map_err(|e| Error::Other(format!("spill: {e}")))
    };
    let rest = super::stream::each_item(path, &mut |item| {
        match &item {
            Value::Array(trace) => process(trace.iter().map(parse_span).collect(), sink),
            Value::Object(_) => {
                let z = parse_span(&item);
                if let Some((_, files)) = spill.as_mut() {
                    return write_spill(&z, &item, files);
                }
                buffered.push(z);
                if buffered.len() >= in_memory {
                    let dir = std::env::temp_dir().join(format!("ownermap-zipkin-{}-{:?}", std::process::id(), std::thread::current().id()).replace(['(', ')'], ""));
                    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                    let mut files = (0..BUCKETS)
                        .map(|b| std::fs::File::create(dir.join(format!("{b}.jsonl"))).map(std::io::BufWriter::new))
                        .collect::<std::io::Result<Vec<_>>>()
                        .map_err(|e| Error::io(&dir, e))?;
                    for z in buffered.drain(..) {
                        let raw = to_value(&z);
                        write_spill(&z, &raw, &mut files)?;
                    }
                    spill = Some((dir, files));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    })?;
    if rest.is_some() {
        return Err(Error::Input { path: path.display().to_string(), msg: "expected a JSON list of Zipkin spans or traces".into() });
    }
    match spill {
        None => process(buffered, sink),
        Some((dir, files)) => {
            drop(files);
            for b in 0..BUCKETS {
                let p = dir.join(format!("{b}.jsonl"));
                let f = std::io::BufReader::new(std::fs::File::open(&p).map_err(|e| Error::io(&p, e))?);
                let mut spans = vec![];
                for line in f.lines() {
                    let line = line.map_err(|e| Error::io(&p, e))?;
                    let v: Value = serde_json::from_str(&line).map_err(|e| Error::Other(format!("spill {}: {e}", p.display())))?;
                    spans.push(parse_span(&v));
                }
                process(spans, sink)?;
            }
            let _ = std::fs::remove_dir_all(&dir);
            Ok(())
        }
    }
}

/// A parsed span back as Zipkin JSON (for spilling).
fn to_value(z: &ZSpan) -> Value {
    let mut m = serde_json::Map::new();
    m.insert("traceId".into(), Value::String(z.trace_id.clone()));
    m.insert("id".into(), Value::String(z.id.clone()));
    if !z.parent_id.is_empty() {
        m.insert("parentId".into(), Value::String(z.parent_id.clone()));
    }
    if let Some(k) = &z.kind {
        m.insert("kind".into(), Value::String(k.clone()));
    }
    m.insert("name".into(), Value::String(z.name.clone()));
    if let Some(t) = z.timestamp {
        m.insert("timestamp".into(), t.into());
    }
    if let Some(d) = z.duration {
        m.insert("duration".into(), d.into());
    }
    for (k, v) in [("localEndpoint", &z.local), ("remoteEndpoint", &z.remote)] {
        if let Some(s) = v {
            m.insert(k.into(), serde_json::json!({ "serviceName": s }));
        }
    }
    m.insert("tags".into(), serde_json::to_value(&z.tags).unwrap_or_default());
    if z.shared {
        m.insert("shared".into(), Value::Bool(true));
    }
    if let Some(a) = &z.annotations {
        m.insert("annotations".into(), a.clone());
    }
    Value::Object(m)
}

/// Fragments merged, shared ids split, spans written.
fn process(spans: Vec<ZSpan>, sink: &mut Sink) -> Result<()> {
    let (spans, no_timestamp) = merge_fragments(spans);
    sink.skipped += no_timestamp;
    for z in split_shared(spans) {
        let kind = z.kind.as_deref().map(kind_name).filter(|k| *k != KINDS[0]).unwrap_or(KINDS[1]);
        let mut attrs = z.tags.clone();
        if let Some(r) = &z.remote {
            attrs.insert("peer.service".into(), r.clone());
        }
        let service = z.local.clone().unwrap_or_default();
        sink.push(CanonSpan {
            start_ns: z.timestamp.unwrap_or(0).saturating_mul(1000),
            trace_id: z.trace_id,
            span_id: z.id,
            parent_span_id: z.parent_id,
            name: z.name,
            kind,
            resource_attrs: [("service.name".to_string(), service.clone())].into_iter().collect(),
            service,
            status: if z.tags.contains_key("error") { STATUSES[2] } else { STATUSES[0] },
            status_message: z.tags.get("error").cloned().unwrap_or_default(),
            span_attrs: attrs,
            duration_ns: z.duration.unwrap_or(0).saturating_mul(1000),
            events: z.annotations.map(|a| a.to_string()).unwrap_or_else(|| "[]".into()),
            links: "[]".into(),
            ..Default::default()
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn z(id: &str, parent: &str, kind: Option<&str>, svc: &str, ts: Option<i64>, shared: bool) -> ZSpan {
        ZSpan {
            trace_id: "t".into(),
            id: id.into(),
            parent_id: parent.into(),
            kind: kind.map(str::to_string),
            local: Some(svc.into()),
            timestamp: ts,
            shared,
            ..Default::default()
        }
    }

    #[test]
    fn shared_ids_split_and_children_follow_their_service() {
        let spans = vec![
            z("a", "", Some("SERVER"), "web", Some(1), false),
            z("b", "a", Some("CLIENT"), "web", Some(2), false),
            z("b", "a", Some("SERVER"), "api", Some(3), true),
            z("c", "b", Some("CLIENT"), "api", Some(4), false), // api's child of the shared id
            z("d", "b", None, "web", Some(5), false),           // web's child stays under the client
        ];
        let out = split_shared(spans);
        let server = out.iter().find(|s| s.local.as_deref() == Some("api") && s.kind.as_deref() == Some("SERVER")).unwrap();
        assert_ne!(server.id, "b");
        assert_eq!(server.parent_id, "b");
        assert_eq!(out[3].parent_id, server.id);
        assert_eq!(out[4].parent_id, "b");
        assert_eq!(out[1].id, "b");
    }

    #[test]
    fn shared_without_client_keeps_id_and_fragments_merge() {
        let out = split_shared(vec![z("x", "p", Some("SERVER"), "api", Some(1), true)]);
        assert_eq!((out[0].id.as_str(), out[0].parent_id.as_str()), ("x", "p"));
        let mut late = z("x", "", Some("SERVER"), "api", None, false);
        late.duration = Some(7);
        let (merged, skipped) = merge_fragments(vec![
            z("x", "p", Some("SERVER"), "api", Some(1), false),
            late,
            z("y", "p", None, "api", None, false),
        ]);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].duration, Some(7));
        assert_eq!(skipped, 1);
    }
}
