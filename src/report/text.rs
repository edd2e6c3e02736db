//! How values read in the pages: the Tera filters `num`, `pct` and
//! `label`, and the verdicts in a manager's words.

use serde_json::{Value, json};

pub(super) fn num_filter(v: &Value, args: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    let digits = args.get("d").and_then(Value::as_u64).unwrap_or(2) as usize;
    Ok(match v {
        Value::Null => json!("—"),
        Value::Number(n) if n.is_i64() || n.is_u64() => json!(n.to_string()),
        Value::Number(n) => json!(format!("{:.*}", digits, n.as_f64().unwrap_or(0.0))),
        Value::Bool(b) => json!(if *b { "yes" } else { "no" }),
        other => other.clone(),
    })
}

pub(super) fn pct_filter(v: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    Ok(match v.as_f64() {
        Some(x) => json!(format!("{:.2}%", x * 100.0)),
        None => json!("—"),
    })
}

/// A verdict in words a manager reads (the tables keep the SPEC's names).
pub fn verdict_label(v: &str) -> &str {
    match v {
        "overloaded" => "overloaded",
        "understaffed" => "rotation too small",
        "spread_thin" => "too many services per person",
        "wide_incidents" => "many people per incident",
        "underloaded" => "few pages",
        "oversized" => "rotation too large",
        "expertise_gap" => "service without an expert on call",
        "unhappy" => "unhappy on call",
        "ok" => "ok",
        other => other,
    }
}

/// A verdict's urgency word (`act`, `plan`, `note`, or empty): the pages
/// colour a verdict's row only when it asks for action this week.
pub(super) fn urgency_filter(v: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    Ok(json!(v.as_str().map(|s| crate::analysis::rotation::Urgency::of(s).word()).unwrap_or_default()))
}

pub(super) fn label_filter(v: &Value, _: &std::collections::HashMap<String, Value>) -> tera::Result<Value> {
    Ok(match v.as_str() {
        Some(s) => json!(verdict_label(s)),
        None => v.clone(),
    })
}

