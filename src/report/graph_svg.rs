//! The dependency graph drawn by the program itself (no Graphviz at run
//! time): services in layers by call depth, grouped and coloured by team;
//! edge width by calls, red when the error rate is high; virtual nodes drawn
//! dashed. Every label is XML-escaped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::analysis::graph::Edge;

pub fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A stable colour per team: its position in the organisation's sorted
/// team list, in a 20-colour palette — the same team has the same colour
/// on every page (colours repeat only beyond 20 teams).
pub fn team_color(team: &str, teams: &[String]) -> &'static str {
    const PALETTE: [&str; 20] = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79",
    ];
    let mut sorted: Vec<&String> = teams.iter().collect();
    sorted.sort();
    sorted.dedup();
    match sorted.iter().position(|t| *t == team) {
        Some(i) => PALETTE[i % PALETTE.len()],
        None => "#c5ccda",
    }
}

struct Node {
    team: String,
    virt: bool,
}

/// SVG of `edges`; `href` gives a link for a service node (None: no link);
/// `all_teams` fixes each team's colour across pages.
pub fn draw(edges: &[&Edge], href: &dyn Fn(&str) -> Option<String>, all_teams: &[String]) -> String {
    let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
    for e in edges {
        nodes.entry(e.caller.clone()).or_insert(Node { team: e.caller_team.clone().unwrap_or_default(), virt: false });
        nodes
            .entry(e.callee.clone())
            .or_insert(Node { team: e.callee_team.clone().unwrap_or_default(), virt: e.callee_type != "service" });
    }
    if nodes.is_empty() {
        return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"300\" height=\"40\"><text x=\"10\" y=\"25\" font-family=\"sans-serif\" font-size=\"13\">No dependencies in the window.</text></svg>".into();
    }
    // Layer = longest path from a root over sync+async edges (cycles cut).
    let mut layer: HashMap<&str, usize> = nodes.keys().map(|n| (n.as_str(), 0)).collect();
    for _ in 0..nodes.len().min(12) {
        let mut changed = false;
        for e in edges {
            if e.caller == e.callee {
                continue;
            }
            let l = layer[e.caller.as_str()] + 1;
            if l > layer[e.callee.as_str()] && l < 12 {
                layer.insert(e.callee.as_str(), l);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // Virtual nodes go to the last column.
    let max_l = layer.values().copied().max().unwrap_or(0);
    for (n, node) in &nodes {
        if node.virt {
            layer.insert(n.as_str(), max_l + 1);
        }
    }
    let mut columns: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
    for n in nodes.keys() {
        columns.entry(layer[n.as_str()]).or_default().push(n);
    }
    for col in columns.values_mut() {
        col.sort_by(|a, b| nodes[*a].team.cmp(&nodes[*b].team).then(a.cmp(b)));
    }
    let (bw, bh, gx, gy) = (150.0, 26.0, 90.0, 12.0);
    let width = (40.0 + columns.len() as f64 * (bw + gx) - gx).max(400.0);
    // The legend: every team of the drawing, wrapped onto as many rows as
    // the width needs (never clipped).
    let teams: BTreeSet<&str> = nodes.values().map(|n| n.team.as_str()).filter(|t| !t.is_empty()).collect();
    let mut legend: Vec<(f64, f64, &str)> = vec![];
    let (mut lx, mut ly) = (20.0, 12.0);
    for t in &teams {
        let w = 30.0 + 7.0 * crate::report::short(t, 20).chars().count() as f64;
        if lx + w > width - 10.0 && lx > 20.0 {
            lx = 20.0;
            ly += 18.0;
        }
        legend.push((lx, ly, t));
        lx += w;
    }
    let top = ly + 38.0;
    let mut pos: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut height: f64 = 0.0;
    for (ci, (_, col)) in columns.iter().enumerate() {
        for (ri, n) in col.iter().enumerate() {
            let p = (20.0 + ci as f64 * (bw + gx), top + ri as f64 * (bh + gy));
            height = height.max(p.1 + bh);
            pos.insert(n.as_str(), p);
        }
    }
    let max_calls = edges.iter().map(|e| e.calls).max().unwrap_or(1).max(1) as f64;
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {:.0}\" width=\"{width:.0}\" height=\"{:.0}\" font-family=\"sans-serif\" font-size=\"11\">",
        height + 30.0,
        height + 30.0
    );
    svg += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"#667\"/></marker></defs>";
    let team_color = |t: &str| team_color(t, all_teams);
    for (lx, ly, t) in &legend {
        let _ = write!(
            svg,
            "<rect x=\"{lx}\" y=\"{ly}\" width=\"12\" height=\"12\" fill=\"{}\"/><text x=\"{}\" y=\"{}\">{}</text>",
            team_color(t),
            lx + 16.0,
            ly + 10.0,
            xml(&crate::report::short(t, 20))
        );
    }
    for e in edges {
        let (Some(a), Some(b)) = (pos.get(e.caller.as_str()), pos.get(e.callee.as_str())) else { continue };
        let (x1, y1) = (a.0 + bw, a.1 + bh / 2.0);
        let (x2, y2) = (b.0, b.1 + bh / 2.0);
        let w = 0.8 + 5.0 * (e.calls as f64 / max_calls).sqrt();
        let rate = if e.calls > 0 { e.errors as f64 / e.calls as f64 } else { 0.0 };
        let color = if rate >= 0.05 { "#c82a2a" } else if rate >= 0.01 { "#e07a1f" } else { "#8890a0" };
        let dash = if e.kind == "async" { " stroke-dasharray=\"5 3\"" } else { "" };
        let mx = (x1 + x2) / 2.0;
        let _ = write!(
            svg,
            "<path d=\"M {x1:.1} {y1:.1} C {mx:.1} {y1:.1}, {mx:.1} {y2:.1}, {x2:.1} {y2:.1}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"{w:.1}\" stroke-opacity=\"0.75\"{dash} marker-end=\"url(#arrow)\"><title>{} → {}: {} calls, {:.2}% errors ({})</title></path>",
            xml(&e.caller),
            xml(&e.callee),
            e.calls,
            rate * 100.0,
            xml(&e.kind)
        );
    }
    for (n, node) in &nodes {
        let (x, y) = pos[n.as_str()];
        // One `fill` per element: a virtual node is white and dashed.
        let fill = if node.team.is_empty() || node.virt { "#ffffff" } else { team_color(&node.team) };
        let style = if node.virt { "stroke-dasharray=\"4 3\"" } else { "fill-opacity=\"0.25\"" };
        let stroke = if node.team.is_empty() { "#8890a0" } else { team_color(&node.team) };
        let label = xml(&crate::report::short(n, 22));
        let body = format!(
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{bw}\" height=\"{bh}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\" {style}/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text><title>{} ({})</title>",
            x + bw / 2.0,
            y + bh / 2.0 + 4.0,
            xml(n),
            xml(if node.team.is_empty() { "no team" } else { &node.team })
        );
        match (node.virt, href(n)) {
            (false, Some(h)) => {
                let _ = write!(svg, "<a href=\"{}\">{body}</a>", xml(&h));
            }
            _ => svg += &body,
        }
    }
    svg + "</svg>"
}
