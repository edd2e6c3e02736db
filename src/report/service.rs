//! `services/<service>.html`: a service's latency and errors, callers and
//! callees, SLOs, documentation, incidents and where its requests' time
//! goes.


use serde_json::{Map, Value, json};

use super::site::{Site, rows_where};
use super::{Page, charts, graph_svg, render};
use crate::error::Result;
use crate::names::slug;
use super::critical_svg;

/// Writes one service's page.
pub(super) fn write(page: &Page, svc: &String) -> Result<()> {
    let Page { dir, tera, site } = *page;
    let r = site.r;
    let mut c = site.base("../", &format!("Service {svc}"));
    c.insert("service", svc);
    c.insert("team", &site.team_of(svc));
    let daily = rows_where(site.t("service_daily"), "service", svc);
    let days: Vec<String> = daily.iter().filter_map(|d| d.get("date").and_then(Value::as_str).map(str::to_string)).collect();
    let p = |col: &str| daily.iter().map(|d| d.get(col).and_then(Value::as_f64).unwrap_or(0.0)).collect::<Vec<_>>();
    c.insert("trend_chart", &if days.is_empty() { String::new() } else { charts::latency_trend(&days, &p("p50_ms"), &p("p99_ms")) });
    c.insert("summary_row", &rows_where(site.t("services"), "service", svc).into_iter().next());
    c.insert("operations", &rows_where(site.t("operations"), "service", svc));
    c.insert("callers", &rows_where(site.t("edges"), "callee", svc));
    c.insert("callees", &rows_where(site.t("edges"), "caller", svc));
    c.insert("slos", &rows_where(site.t("slos"), "service", svc));
    c.insert("derived", &rows_where(site.t("derived_slos"), "service", svc));
    c.insert("docs", &rows_where(site.t("docs_health"), "service", svc).into_iter().next());
    let entry = r.org.catalog.get(svc);
    c.insert("description", &entry.and_then(|e| e.description.clone()));
    let links: Vec<Value> = entry
        .map(|e| e.links.iter().map(|(k, v)| json!({"kind": k, "url": v, "safe": v.starts_with("https://") || v.starts_with("http://")})).collect())
        .unwrap_or_default();
    c.insert("links", &links);
    // The 4 verdict weeks, newest first.
    let mut incidents: Vec<&crate::input::incidents::Incident> =
        crate::analysis::load::in_verdict_weeks(&r.org, &r.window).map(|(_, i)| i).filter(|i| i.service == *svc).collect();
    incidents.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
    let incidents: Vec<Value> = incidents
        .iter()
        .map(|i| {
            let ttr = i.resolved_at.map(|t| (t - i.created_at).num_minutes());
            json!({"id": i.id, "title": i.title, "created_at": i.created_at.format("%a %Y-%m-%d %H:%M").to_string(), "page": i.page, "severity": i.severity, "ttr_min": ttr})
        })
        .collect();
    c.insert("incidents", &incidents);
    c.insert("attribution", &rows_where(site.t("attribution"), "signal_service", svc));
    let weeks = site.trend_weeks();
    c.insert("trend_weeks", &weeks.len());
    if weeks.len() >= 2 {
        let entry = r.org.catalog.get(svc);
        let latency = entry.and_then(|e| e.slos.iter().find_map(|x| x.latency_ms.map(|ms| (ms, x.name.clone()))));
        let avail = entry.and_then(|e| e.slos.iter().find(|x| x.latency_ms.is_none()).map(|x| (1.0 - x.objective, x.name.clone())));
        let p99 = [charts::Series { label: "p99", values: site.service_trend(svc, "p99_ms") }];
        c.insert("p99_trend", &charts::weekly_trend("p99 latency per week", "ms", &weeks, &p99, latency.map(|(ms, n)| (ms, format!("SLO {n}: {ms} ms"))), false));
        // In percent, like the SLO line's label.
        let err_pct = site.service_trend(svc, "error_rate").into_iter().map(|v| v.map(|x| x * 100.0)).collect();
        let err = [charts::Series { label: "error rate", values: err_pct }];
        c.insert("err_trend", &charts::weekly_trend("Error rate per week (%)", "% of requests", &weeks, &err, avail.map(|(b, n)| (b * 100.0, format!("SLO {n}: at most {:.2} %", b * 100.0))), false));
        let req = [charts::Series { label: "requests", values: site.service_trend(svc, "requests") }];
        c.insert("req_trend", &charts::weekly_trend("Requests per week", "requests", &weeks, &req, None, true));
    }
    c.insert("critical", &critical_view(&site, svc));
    let hood = crate::analysis::graph::two_hop(&r.edges, svc);
    let hood = page.drawn(&hood);
    c.insert("hood_svg", &if hood.is_empty() { String::new() } else { graph_svg::draw(&hood, &|s| Some(format!("{}.html", slug(s))), &site.teams) });
    c.insert("maturity", &r.maturity.iter().find(|m| m.service == *svc).map(|m| json!({"level": m.level, "missing": m.missing_for_next})));
    super::write(&dir.join("services").join(format!("{}.html", slug(svc))), &render(tera, "service.html", &c)?)?;
    Ok(())
}

/// A node's team: a service's owner, a virtual node's catalog owner (empty
/// when the catalog does not list it).
pub(super) fn node_team(site: &Site, node: &str, virt: bool) -> String {
    if virt && site.r.org.catalog.get(node).is_none() { String::new() } else { site.team_of(node) }
}

pub(super) fn is_virtual(site: &Site, node: &str) -> bool {
    site.virtual_nodes.contains(node)
}


/// The service page's "Where a request's time goes": per root operation of
/// the service, the bar and the rows (largest share first).
fn critical_view(site: &Site, svc: &str) -> Vec<Value> {
    let rows = rows_where(site.t("critical_path"), "root_service", svc);
    let mut ops: Vec<String> = rows.iter().filter_map(|r| r.get("root_operation").and_then(Value::as_str).map(str::to_string)).collect();
    ops.dedup();
    ops.into_iter()
        .map(|op| {
            let mine: Vec<&Map<String, Value>> = rows.iter().filter(|r| r.get("root_operation").and_then(Value::as_str) == Some(&op)).collect();
            let segs: Vec<critical_svg::Segment> = mine
                .iter()
                .map(|r| {
                    let node = r.get("node").and_then(Value::as_str).unwrap_or_default().to_string();
                    let virt = is_virtual(site, &node);
                    critical_svg::Segment { team: node_team(site, &node, virt), share: r.get("share").and_then(Value::as_f64).unwrap_or(0.0), virt, node }
                })
                .collect();
            let table: Vec<Value> = mine
                .iter()
                .zip(&segs)
                .map(|(r, seg)| json!({"node": seg.node, "team": seg.team, "virtual": seg.virt, "on_path": r.get("on_path"), "mean_ms": r.get("mean_ms"), "share": r.get("share")}))
                .collect();
            let requests = mine.first().and_then(|r| r.get("requests")).cloned();
            json!({"operation": op, "requests": requests, "svg": critical_svg::bar(&segs, &site.teams), "rows": table})
        })
        .collect()
}

