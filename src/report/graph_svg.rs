//! The dependency graph drawn by the program itself (no Graphviz at run
//! time): services in layers by call depth, grouped and coloured by team;
//! edge width by calls, red when the error rate is high; virtual nodes drawn
//! dashed. Every label is XML-escaped.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::analysis::graph::Edge;

/// The most columns of services a drawing has: a call chain deeper than
/// this draws its deeper services in the last one (every edge is still
/// drawn), so a pathological chain cannot make the drawing unboundedly wide.
const MAX_COLUMNS: usize = 12;

/// Bounded to [`crate::names::MAX_SHOWN_BYTES`] first: tooltips carry
/// names, and a name may be megabytes long.
pub fn xml(s: &str) -> String {
    crate::names::bounded(s).replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A stable colour per team: its position in the organisation's sorted
/// team list, in a palette of [`TEAM_PALETTE`]`.len()` colours — the same
/// team has the same colour on every page (colours repeat only beyond
/// that many teams). `(unowned)` is a neutral grey outside the palette.
/// The palette holds no red, orange or pink: those are the edges' error
/// colours ([`EDGE_ERRORS_HIGH`], [`EDGE_ERRORS_SOME`]), so an edge can
/// never be read as a team.
pub fn team_color(team: &str, teams: &[String]) -> &'static str {
    if team == crate::model::UNOWNED {
        return UNOWNED_COLOR;
    }
    let mut sorted: Vec<&String> = teams.iter().filter(|t| t.as_str() != crate::model::UNOWNED).collect();
    sorted.sort();
    sorted.dedup();
    match sorted.iter().position(|t| *t == team) {
        Some(i) => TEAM_PALETTE[i % TEAM_PALETTE.len()],
        None => "#c5ccda",
    }
}

/// Team colours: blues, greens, purples, yellows and browns, ordered so
/// that neighbours in the sorted team list differ in hue.
pub const TEAM_PALETTE: [&str; 24] = [
    "#4e79a7", "#59a14f", "#6a3d9a", "#edc948", "#17becf", "#8c564b", "#1b7837", "#9467bd", "#bcbd22", "#1f4e9c",
    "#66c2a5", "#b07aa1", "#9c755f", "#0b7285", "#a6d854", "#393b79", "#d9b365", "#6baed6", "#556b2f", "#cab2d6",
    "#2ca02c", "#80b1d3", "#7f6b3f", "#4d4d9f",
];

/// `(unowned)`'s colour: grey, not in the palette.
pub const UNOWNED_COLOR: &str = "#9aa3b5";
/// An edge with at least 5 % errors.
pub const EDGE_ERRORS_HIGH: &str = "#c82a2a";
/// An edge with 1–5 % errors.
pub const EDGE_ERRORS_SOME: &str = "#e07a1f";
/// An edge with fewer errors.
pub const EDGE_PLAIN: &str = "#8890a0";

struct Node {
    team: String,
    virt: bool,
}

/// Where each node sits: (column, row).
fn positions<'a>(columns: &BTreeMap<usize, Vec<&'a String>>) -> HashMap<&'a str, (usize, usize)> {
    columns.iter().flat_map(|(c, col)| col.iter().enumerate().map(move |(r, n)| (n.as_str(), (*c, r)))).collect()
}

/// Edge crossings between neighbouring columns (the edges the layered
/// drawing shows side by side).
fn crossings(columns: &BTreeMap<usize, Vec<&String>>, edges: &[&Edge]) -> usize {
    let pos = positions(columns);
    let mut by_pair: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    for e in edges {
        let (Some(&(ca, ra)), Some(&(cb, rb))) = (pos.get(e.caller.as_str()), pos.get(e.callee.as_str())) else { continue };
        match ca.cmp(&cb) {
            std::cmp::Ordering::Less if cb == ca + 1 => by_pair.entry(ca).or_default().push((ra, rb)),
            std::cmp::Ordering::Greater if ca == cb + 1 => by_pair.entry(cb).or_default().push((rb, ra)),
            _ => {}
        }
    }
    by_pair
        .values()
        .map(|v| {
            let mut n = 0;
            for (i, a) in v.iter().enumerate() {
                n += v[i + 1..].iter().filter(|b| (a.0 < b.0 && a.1 > b.1) || (a.0 > b.0 && a.1 < b.1)).count();
            }
            n
        })
        .sum()
}

/// Crossing reduction for the layered drawing (barycentre heuristic, kept
/// team-grouped): sweeps the columns left to right and back, ordering each
/// column's teams by their services' mean neighbour position and the
/// services within a team the same way; keeps the order with the fewest
/// crossings between neighbouring columns (the team-and-name order if no
/// sweep improves on it).
fn reduce_crossings<'a>(columns: &mut BTreeMap<usize, Vec<&'a String>>, edges: &[&Edge], team: &dyn Fn(&str) -> &'a str) {
    let mut best = (crossings(columns, edges), columns.clone());
    tracing::debug!("graph: {} crossings in team-and-name order", best.0);
    let keys: Vec<usize> = columns.keys().copied().collect();
    for sweep in 0..8 {
        let order: Vec<usize> = if sweep % 2 == 0 { keys.clone() } else { keys.iter().rev().copied().collect() };
        for c in order {
            let pos = positions(columns);
            let len = |c: usize| columns.get(&c).map_or(1, |v| v.len().max(1)) as f64;
            // A node's barycentre: the mean relative row of its neighbours
            // in other columns (its own relative row if it has none).
            let mut sum: HashMap<&str, (f64, f64)> = HashMap::new();
            for e in edges {
                for (a, b) in [(e.caller.as_str(), e.callee.as_str()), (e.callee.as_str(), e.caller.as_str())] {
                    let (Some(&(ca, _)), Some(&(cb, rb))) = (pos.get(a), pos.get(b)) else { continue };
                    if ca == c && cb != c {
                        let s = sum.entry(a).or_default();
                        s.0 += rb as f64 / len(cb);
                        s.1 += 1.0;
                    }
                }
            }
            let col = columns.get_mut(&c).unwrap();
            let n = col.len().max(1) as f64;
            let bary: HashMap<&str, f64> = col
                .iter()
                .enumerate()
                .map(|(r, x)| (x.as_str(), sum.get(x.as_str()).map_or(r as f64 / n, |(s, k)| s / k)))
                .collect();
            let mut team_bary: HashMap<&str, (f64, f64)> = HashMap::new();
            for x in col.iter() {
                let t = team_bary.entry(team(x)).or_default();
                t.0 += bary[x.as_str()];
                t.1 += 1.0;
            }
            let tb = |x: &str| team_bary[team(x)].0 / team_bary[team(x)].1;
            col.sort_by(|a, b| {
                tb(a).total_cmp(&tb(b)).then(team(a).cmp(team(b))).then(bary[a.as_str()].total_cmp(&bary[b.as_str()])).then(a.cmp(b))
            });
        }
        let k = crossings(columns, edges);
        if k < best.0 {
            best = (k, columns.clone());
        }
    }
    tracing::debug!("graph: {} crossings between neighbouring columns after reduction", best.0);
    *columns = best.1;
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
    // Layer = longest path from a root over sync+async edges (cycles cut;
    // services deeper than MAX_COLUMNS share the last service column).
    let mut layer: HashMap<&str, usize> = nodes.keys().map(|n| (n.as_str(), 0)).collect();
    for _ in 0..nodes.len().min(MAX_COLUMNS) {
        let mut changed = false;
        for e in edges {
            if e.caller == e.callee {
                continue;
            }
            let l = layer[e.caller.as_str()] + 1;
            if l > layer[e.callee.as_str()] && l < MAX_COLUMNS {
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
    reduce_crossings(&mut columns, edges, &|n| nodes[n].team.as_str());
    let (bw, bh, gx, gy) = (150.0, 26.0, 90.0, 12.0);
    let width = (40.0 + columns.len() as f64 * (bw + gx) - gx).max(400.0);
    // The legend: every team of the drawing, wrapped onto as many rows as
    // the width needs (never clipped).
    let teams: BTreeSet<&str> = nodes.values().map(|n| n.team.as_str()).filter(|t| !t.is_empty()).collect();
    let mut legend: Vec<(f64, f64, &str)> = vec![];
    let (mut lx, mut ly) = (20.0, 12.0);
    for t in &teams {
        let w = 30.0 + 7.0 * crate::names::short(t, 20).chars().count() as f64;
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
            xml(&crate::names::short(t, 20))
        );
    }
    for e in edges {
        let (Some(a), Some(b)) = (pos.get(e.caller.as_str()), pos.get(e.callee.as_str())) else { continue };
        let (x1, y1) = (a.0 + bw, a.1 + bh / 2.0);
        let (x2, y2) = (b.0, b.1 + bh / 2.0);
        let w = 0.8 + 5.0 * (e.calls as f64 / max_calls).sqrt();
        let rate = if e.calls > 0 { e.errors as f64 / e.calls as f64 } else { 0.0 };
        let color = if rate >= 0.05 { EDGE_ERRORS_HIGH } else if rate >= 0.01 { EDGE_ERRORS_SOME } else { EDGE_PLAIN };
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
        let label = xml(&crate::names::short(n, 22));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(caller: &str, callee: &str, team: &str) -> Edge {
        Edge {
            caller: caller.into(),
            callee: callee.into(),
            callee_type: "service".into(),
            kind: "sync".into(),
            calls: 10,
            errors: 0,
            caller_team: Some(team.into()),
            callee_team: Some(team.into()),
        }
    }

    #[test]
    fn crossing_reduction_untangles_what_name_order_crosses() {
        // a→z, b→y, c→x: in name order all three edges cross (3 crossings);
        // ordering the second column by its callers' rows removes them.
        let edges = [edge("a", "z", "t"), edge("b", "y", "t"), edge("c", "x", "t")];
        let refs: Vec<&Edge> = edges.iter().collect();
        let names: Vec<String> = ["a", "b", "c", "x", "y", "z"].map(String::from).to_vec();
        let mut columns: BTreeMap<usize, Vec<&String>> = BTreeMap::new();
        columns.insert(0, names[..3].iter().collect());
        columns.insert(1, names[3..].iter().collect());
        assert_eq!(crossings(&columns, &refs), 3);
        reduce_crossings(&mut columns, &refs, &|_| "t");
        assert_eq!(crossings(&columns, &refs), 0);
        // Either column may have moved: each callee now sits on its caller's row.
        let pos = positions(&columns);
        for e in &edges {
            assert_eq!(pos[e.caller.as_str()].1, pos[e.callee.as_str()].1, "{} -> {}", e.caller, e.callee);
        }
        // The drawing keeps every node and stays well-formed SVG text.
        let svg = draw(&refs, &|_| None, &["t".to_string()]);
        for n in ["a", "b", "c", "x", "y", "z"] {
            assert!(svg.contains(&format!(">{n}<")), "{n}");
        }
    }
}

#[cfg(test)]
mod palette_tests {
    use super::*;

    #[test]
    fn two_dozen_teams_get_distinct_colours_and_none_looks_like_an_error_edge() {
        let mut teams: Vec<String> = (0..TEAM_PALETTE.len()).map(|i| format!("team-{i:02}")).collect();
        teams.push(crate::model::UNOWNED.to_string());
        let mut colours: Vec<&str> = teams.iter().map(|t| team_color(t, &teams)).collect();
        colours.sort();
        colours.dedup();
        assert_eq!(colours.len(), teams.len(), "every team and (unowned) its own colour");
        for c in TEAM_PALETTE {
            assert!(![EDGE_ERRORS_HIGH, EDGE_ERRORS_SOME, EDGE_PLAIN, UNOWNED_COLOR].contains(&c), "{c}");
        }
    }
}
