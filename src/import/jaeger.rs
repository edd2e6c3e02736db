//! Jaeger JSON (SPEC §1.6): `{"data": [trace, ...]}` (the API and the UI's
//! "Download JSON"), `{"data": trace}`, or a bare trace with `spans` and
//! `processes`. Parent: the first `CHILD_OF` reference in the same trace,
//! else the first `FOLLOWS_FROM` in the same trace. `span.kind` → kind (else
//! Internal); `error=true` or `otel.status_code=ERROR` → Error; times in µs.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Sink, hex_id, int, text};
use crate::canonical::{CanonSpan, KINDS, STATUSES, kind_name};
use crate::error::{Error, Result};

fn tags(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for t in v.and_then(Value::as_array).into_iter().flatten() {
        if let Some(k) = t.get("key").and_then(Value::as_str) {
            m.insert(k.to_string(), t.get("value").map(text).unwrap_or_default());
        }
    }
    m
}

fn traces(doc: &Value) -> Vec<&Value> {
    match doc.get("data") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(t @ Value::Object(_)) => vec![t],
        _ if doc.get("spans").is_some() => vec![doc],
        _ => match doc {
            Value::Array(a) => a.iter().collect(),
            _ => vec![],
        },
    }
}

fn parent(span: &Value, trace_id: &str) -> String {
    let refs: Vec<&Value> = span.get("references").and_then(Value::as_array).into_iter().flatten().collect();
    let same = |r: &&&Value| r.get("traceID").map(text).is_none_or(|t| hex_id(&t, 32) == trace_id);
    for kind in ["CHILD_OF", "FOLLOWS_FROM"] {
        if let Some(r) = refs.iter().filter(same).find(|r| r.get("refType").and_then(Value::as_str) == Some(kind)) {
            return hex_id(&r.get("spanID").map(text).unwrap_or_default(), 16);
        }
    }
    span.get("parentSpanID").map(|p| hex_id(&text(p), 16)).unwrap_or_default()
}

/// Reads a whole parsed document.
pub fn read(doc: &Value, file: &str, sink: &mut Sink) -> Result<()> {
    let ts = traces(doc);
    if ts.is_empty() {
        return Err(Error::Input { path: file.into(), msg: "no Jaeger trace found (expected `data` or `spans`)".into() });
    }
    for t in ts {
        read_trace(t, sink)?;
    }
    Ok(())
}

/// Reads a file trace by trace (`{"data": [...]}` and lists stream).
pub fn read_file(path: &std::path::Path, sink: &mut Sink) -> Result<()> {
    let mut n = 0usize;
    let rest = super::stream::each_item(path, &mut |t| {
        n += 1;
        read_trace(&t, sink)
    })?;
    if let Some(obj) = rest.filter(|o| o.get("spans").is_some()) {
        n += 1;
        read_trace(&obj, sink)?;
    }
    if n == 0 {
        return Err(Error::Input { path: path.display().to_string(), msg: "no Jaeger trace found (expected `data` or `spans`)".into() });
    }
    Ok(())
}

/// Reads one trace object (`spans` + `processes`).
pub fn read_trace(t: &Value, sink: &mut Sink) -> Result<()> {
    {
        let processes = t.get("processes").and_then(Value::as_object);
        for sp in t.get("spans").and_then(Value::as_array).into_iter().flatten() {
            let trace_id = hex_id(&sp.get("traceID").or_else(|| t.get("traceID")).map(text).unwrap_or_default(), 32);
            let process = sp.get("process").or_else(|| {
                let pid = sp.get("processID").and_then(Value::as_str)?;
                processes?.get(pid)
            });
            let service = process.and_then(|p| p.get("serviceName")).map(text).unwrap_or_default();
            let mut resource = tags(process.and_then(|p| p.get("tags")));
            resource.insert("service.name".into(), service.clone());
            let mut span_attrs = tags(sp.get("tags"));
            let kind = span_attrs.remove("span.kind").map(|k| kind_name(&k)).filter(|k| *k != KINDS[0]).unwrap_or(KINDS[1]);
            let error = span_attrs.get("error").is_some_and(|e| e.eq_ignore_ascii_case("true"))
                || span_attrs.get("otel.status_code").is_some_and(|c| c.eq_ignore_ascii_case("ERROR"));
            let ok = span_attrs.get("otel.status_code").is_some_and(|c| c.eq_ignore_ascii_case("OK"));
            let start_us = int(sp.get("startTime")).unwrap_or(0);
            sink.push(CanonSpan {
                start_ns: start_us.saturating_mul(1000),
                parent_span_id: parent(sp, &trace_id),
                trace_id,
                span_id: hex_id(&sp.get("spanID").map(text).unwrap_or_default(), 16),
                name: sp.get("operationName").map(text).unwrap_or_default(),
                kind,
                service,
                resource_attrs: resource,
                status_message: span_attrs.get("otel.status_description").cloned().unwrap_or_default(),
                span_attrs,
                duration_ns: int(sp.get("duration")).unwrap_or(0).saturating_mul(1000),
                status: if error { STATUSES[2] } else if ok { STATUSES[1] } else { STATUSES[0] },
                events: sp.get("logs").map(Value::to_string).unwrap_or_else(|| "[]".into()),
                links: sp.get("references").map(Value::to_string).unwrap_or_else(|| "[]".into()),
                ..Default::default()
            })?;
        }
    }
    Ok(())
}
