//! `grafana/<team>.json`: one dashboard per team in Grafana's JSON model —
//! a datasource template variable, and per owned service a row with
//! request rate, error rate and p99 panels on the OpenTelemetry
//! Collector's span-metrics series filtered by `service_name`.

use serde_json::{Value, json};

use super::Inputs;
use crate::error::{Error, Result};

/// A PromQL string literal (Go escaping: `\`, `"`, control characters).
pub fn promql_string(s: &str) -> String {
    // JSON's escapes (\" \\ \n \uXXXX) are a subset of PromQL's.
    serde_json::to_string(s).unwrap_or_default()
}

/// The three queries of a service's row.
pub fn queries(service: &str) -> [(&'static str, String, &'static str); 3] {
    let sel = format!("service_name={}", promql_string(service));
    [
        ("Requests", format!("sum(rate(traces_span_metrics_calls_total{{{sel}, span_kind=\"SPAN_KIND_SERVER\"}}[$__rate_interval]))"), "reqps"),
        (
            "Error rate",
            format!(
                "sum(rate(traces_span_metrics_calls_total{{{sel}, span_kind=\"SPAN_KIND_SERVER\", status_code=\"STATUS_CODE_ERROR\"}}[$__rate_interval])) / sum(rate(traces_span_metrics_calls_total{{{sel}, span_kind=\"SPAN_KIND_SERVER\"}}[$__rate_interval]))"
            ),
            "percentunit",
        ),
        (
            "p99 latency",
            format!("histogram_quantile(0.99, sum by (le) (rate(traces_span_metrics_duration_milliseconds_bucket{{{sel}, span_kind=\"SPAN_KIND_SERVER\"}}[$__rate_interval])))"),
            "ms",
        ),
    ]
}

pub fn render(inp: &Inputs, team: &str) -> Result<String> {
    let owned = inp.org.services_owned(team);
    let ds = json!({"type": "prometheus", "uid": "${datasource}"});
    let mut panels: Vec<Value> = vec![];
    let mut id = 1;
    let mut y = 0;
    for svc in &owned {
        panels.push(json!({"type": "row", "title": svc, "id": id, "collapsed": false, "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}));
        id += 1;
        y += 1;
        for (k, (title, expr, unit)) in queries(svc).into_iter().enumerate() {
            panels.push(json!({
                "type": "timeseries", "title": format!("{svc} — {title}"), "id": id, "datasource": ds,
                "gridPos": {"h": 8, "w": 8, "x": 8 * k, "y": y},
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "targets": [{"refId": "A", "datasource": ds, "expr": expr, "legendFormat": title}],
            }));
            id += 1;
        }
        y += 8;
    }
    // A stable uid of at most 40 characters from the team's name.
    let uid = format!("ownermap-{:016x}", crate::hash::fnv1a(team.as_bytes()));
    let dash = json!({
        "title": format!("{team} — services (ownermap)"),
        "uid": uid,
        "tags": ["ownermap", "generated"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": true,
        "time": {"from": "now-7d", "to": "now"},
        "templating": {"list": [{
            "name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus",
            "current": {}, "hide": 0, "refresh": 1, "options": [],
        }]},
        "panels": panels,
    });
    serde_json::to_string_pretty(&dash).map_err(|e| Error::Other(e.to_string()))
}
