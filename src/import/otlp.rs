//! OTLP JSON (SPEC §1.6): one `ExportTraceServiceRequest` per line, as the
//! Collector's file exporter writes it (read line by line, so a file larger
//! than memory converts), or one pretty-printed document. Ids hex or base64;
//! kind and status as ints or `SPAN_KIND_*` / `STATUS_CODE_*`; 64-bit
//! numbers as strings or numbers.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use super::{Sink, hex_id, int, parse_str, text};
use crate::canonical::{CanonSpan, STATUSES, kind_name};
use crate::error::{Error, Result};

/// An OTLP `AnyValue` as text.
fn any_value(v: &Value) -> String {
    let Some(o) = v.as_object() else { return text(v) };
    if let Some(s) = o.get("stringValue") {
        return text(s);
    }
    for k in ["intValue", "boolValue", "doubleValue", "bytesValue"] {
        if let Some(x) = o.get(k) {
            return text(x);
        }
    }
    if let Some(a) = o.get("arrayValue").and_then(|a| a.get("values")).and_then(Value::as_array) {
        return Value::Array(a.iter().map(|x| Value::String(any_value(x))).collect()).to_string();
    }
    if let Some(kv) = o.get("kvlistValue") {
        return attrs(kv.get("values")).into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    }
    String::new()
}

/// A `[{key, value}]` attribute list as a map.
pub fn attrs(v: Option<&Value>) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for kv in v.and_then(Value::as_array).into_iter().flatten() {
        if let Some(k) = kv.get("key").and_then(Value::as_str) {
            m.insert(k.to_string(), kv.get("value").map(any_value).unwrap_or_default());
        }
    }
    m
}

fn status_name(v: Option<&Value>) -> &'static str {
    let code = v.and_then(|s| s.get("code")).map(text).unwrap_or_default().to_ascii_uppercase();
    match code.trim_start_matches("STATUS_CODE_") {
        "1" | "OK" => STATUSES[1],
        "2" | "ERROR" => STATUSES[2],
        _ => STATUSES[0],
    }
}

/// Reads one `ExportTraceServiceRequest` (or `TracesData`) value.
pub fn read_request(doc: &Value, sink: &mut Sink) -> Result<()> {
    for rs in doc.get("resourceSpans").and_then(Value::as_array).into_iter().flatten() {
        let resource = attrs(rs.get("resource").and_then(|r| r.get("attributes")));
        let service = resource.get("service.name").cloned().unwrap_or_default();
        let scopes = rs.get("scopeSpans").or_else(|| rs.get("instrumentationLibrarySpans"));
        for ss in scopes.and_then(Value::as_array).into_iter().flatten() {
            let scope = ss.get("scope").or_else(|| ss.get("instrumentationLibrary"));
            let scope_name = scope.and_then(|s| s.get("name")).map(text).unwrap_or_default();
            let scope_version = scope.and_then(|s| s.get("version")).map(text).unwrap_or_default();
            for sp in ss.get("spans").and_then(Value::as_array).into_iter().flatten() {
                let get = |k: &str| sp.get(k).map(text).unwrap_or_default();
                let start = int(sp.get("startTimeUnixNano")).unwrap_or(0);
                let end = int(sp.get("endTimeUnixNano")).unwrap_or(start);
                sink.push(CanonSpan {
                    start_ns: start,
                    trace_id: hex_id(&get("traceId"), 32),
                    span_id: hex_id(&get("spanId"), 16),
                    parent_span_id: hex_id(&get("parentSpanId"), 16),
                    trace_state: get("traceState"),
                    name: get("name"),
                    kind: kind_name(&get("kind")),
                    service: service.clone(),
                    resource_attrs: resource.clone(),
                    scope_name: scope_name.clone(),
                    scope_version: scope_version.clone(),
                    span_attrs: attrs(sp.get("attributes")),
                    duration_ns: (end - start).max(0),
                    status: status_name(sp.get("status")),
                    status_message: sp.get("status").and_then(|s| s.get("message")).map(text).unwrap_or_default(),
                    events: sp.get("events").map(Value::to_string).unwrap_or_else(|| "[]".into()),
                    links: sp.get("links").map(Value::to_string).unwrap_or_else(|| "[]".into()),
                })?;
            }
        }
    }
    Ok(())
}

/// Reads a file: JSON lines when the first line is a whole document, else
/// one (pretty-printed) document.
pub fn read_file(path: &Path, sink: &mut Sink) -> Result<()> {
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut lines = BufReader::new(f).lines();
    let first = loop {
        match lines.next() {
            None => return Ok(()),
            Some(l) => {
                let l = l.map_err(|e| Error::io(path, e))?;
                if !l.trim().is_empty() {
                    break l;
                }
            }
        }
    };
    if serde_json::from_str::<Value>(&first).is_err() {
        // Not one document per line: the whole file is one document.
        let doc = super::parse_file(path)?;
        return read_request(&doc, sink);
    }
    read_request(&parse_str(&first, &name, 0)?, sink)?;
    for (i, l) in lines.enumerate() {
        let l = l.map_err(|e| Error::io(path, e))?;
        if l.trim().is_empty() {
            continue;
        }
        // Line numbers are 1-based; the first document was line 1 (or later).
        let doc = serde_json::from_str::<Value>(&l).map_err(|e| Error::Input {
            path: name.clone(),
            msg: format!("malformed JSON on line {} (column {}): {e}", i + 2, e.column()),
        })?;
        read_request(&doc, sink)?;
    }
    Ok(())
}
