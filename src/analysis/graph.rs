//! The dependency graph as Rust values: edges read back from the `edges`
//! table, the team graph (SPEC §2.2), and the `graph` command's renderings
//! (DOT, Mermaid, JSON).

use std::collections::{BTreeMap, BTreeSet};

use crate::table::Table;
use crate::error::Result;
use crate::table::{ColType::*, Rows, i, read, s};

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Edge {
    pub caller: String,
    pub callee: String,
    pub callee_type: String,
    pub kind: String,
    pub calls: i64,
    pub errors: i64,
    pub caller_team: Option<String>,
    pub callee_team: Option<String>,
}

/// The text columns of an `edges` table, in [`Edge`]'s order.
const EDGE_TEXT: [&str; 6] = ["caller", "callee", "callee_type", "kind", "caller_team", "callee_team"];

/// Reads this run's `edges` table into values.
pub fn edges_from_table(t: &Table) -> Result<Vec<Edge>> {
    let mut text = vec![];
    for c in EDGE_TEXT {
        text.push(read::strs(t, c)?);
    }
    Ok(edges_from_columns(text, read::i64s(t, "calls")?, read::i64s(t, "errors")?))
}

/// Reads a stored week's `edges` table (§2.8), which an older build may
/// have written without some columns: those read as empty.
pub fn edges_from_stored(t: &Table) -> Vec<Edge> {
    let text = EDGE_TEXT.iter().map(|c| read::stored::strs(t, c)).collect();
    edges_from_columns(text, read::stored::i64s(t, "calls"), read::stored::i64s(t, "errors"))
}

fn edges_from_columns(text: Vec<Vec<Option<String>>>, calls: Vec<Option<i64>>, errors: Vec<Option<i64>>) -> Vec<Edge> {
    let col = |k: usize, r: usize| text[k][r].clone();
    (0..calls.len())
        .map(|r| Edge {
            caller: col(0, r).unwrap_or_default(),
            callee: col(1, r).unwrap_or_default(),
            callee_type: col(2, r).unwrap_or_default(),
            kind: col(3, r).unwrap_or_default(),
            calls: calls[r].unwrap_or(0),
            errors: errors[r].unwrap_or(0),
            caller_team: col(4, r),
            callee_team: col(5, r),
        })
        .collect()
}

/// A service's two-hop neighbourhood: the edges within two calls of it,
/// either way (each service page draws it).
pub fn two_hop<'a>(edges: &'a [Edge], service: &str) -> Vec<&'a Edge> {
    let near: BTreeSet<&str> = edges
        .iter()
        .filter(|e| e.caller == service || e.callee == service)
        .flat_map(|e| [e.caller.as_str(), e.callee.as_str()])
        .collect();
    edges.iter().filter(|e| near.contains(e.caller.as_str()) || near.contains(e.callee.as_str())).collect()
}

/// Team → team calls and errors: self-edges and edges with an empty team dropped.
pub fn team_edges(edges: &[Edge]) -> BTreeMap<(String, String), (i64, i64)> {
    let mut m = BTreeMap::new();
    for e in edges {
        let (Some(a), Some(b)) = (&e.caller_team, &e.callee_team) else { continue };
        if a.is_empty() || b.is_empty() || a == b {
            continue;
        }
        let v = m.entry((a.clone(), b.clone())).or_insert((0, 0));
        v.0 += e.calls;
        v.1 += e.errors;
    }
    m
}

/// The `team_graph` table (SPEC §3).
pub fn team_graph(edges: &[Edge]) -> Result<Table> {
    let mut rows = Rows::new(&[("caller_team", Text), ("callee_team", Text), ("calls", Int), ("errors", Int)]);
    for ((a, b), (c, e)) in team_edges(edges) {
        rows.push(vec![s(a), s(b), i(c), i(e)]);
    }
    rows.finish()
}

/// Edges touching `team` (as caller or callee team), or all.
pub fn filter_team<'a>(edges: &'a [Edge], team: Option<&str>) -> Vec<&'a Edge> {
    edges
        .iter()
        .filter(|e| match team {
            None => true,
            Some(t) => e.caller_team.as_deref() == Some(t) || e.callee_team.as_deref() == Some(t),
        })
        .collect()
}

fn dot_quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n"))
}

/// Graphviz DOT, services grouped into one cluster per team.
pub fn to_dot(edges: &[&Edge]) -> String {
    let mut nodes: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for e in edges {
        nodes.entry(e.caller.clone()).or_insert((e.caller_team.clone().unwrap_or_default(), false));
        nodes
            .entry(e.callee.clone())
            .or_insert((e.callee_team.clone().unwrap_or_default(), e.callee_type != "service"));
    }
    let mut by_team: BTreeMap<String, Vec<(&String, bool)>> = BTreeMap::new();
    for (n, (t, virt)) in &nodes {
        by_team.entry(t.clone()).or_default().push((n, *virt));
    }
    let mut out = String::from("digraph ownermap {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n");
    for (k, (team, ns)) in by_team.iter().enumerate() {
        if !team.is_empty() {
            out += &format!("  subgraph cluster_{k} {{\n    label={};\n", dot_quote(team));
        }
        for (n, virt) in ns {
            let style = if *virt { " [shape=cylinder, style=dashed]" } else { "" };
            out += &format!("    {}{style};\n", dot_quote(n));
        }
        if !team.is_empty() {
            out += "  }\n";
        }
    }
    for e in edges {
        let style = if e.kind == "async" { ", style=dashed" } else { "" };
        out += &format!(
            "  {} -> {} [label=\"{} calls, {} errors\"{style}];\n",
            dot_quote(&e.caller),
            dot_quote(&e.callee),
            e.calls,
            e.errors
        );
    }
    out + "}\n"
}

fn mermaid_id(names: &mut BTreeMap<String, String>, n: &str) -> String {
    let next = format!("n{}", names.len());
    names.entry(n.to_string()).or_insert(next).clone()
}

fn mermaid_label(s: &str) -> String {
    s.replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}

/// Mermaid flowchart, one subgraph per team.
pub fn to_mermaid(edges: &[&Edge]) -> String {
    let mut ids = BTreeMap::new();
    let mut teams: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in edges {
        for (n, t) in [(&e.caller, &e.caller_team), (&e.callee, &e.callee_team)] {
            let list = teams.entry(t.clone().unwrap_or_default()).or_default();
            if !list.contains(n) {
                list.push(n.clone());
            }
        }
    }
    let mut out = String::from("flowchart LR\n");
    for (k, (team, ns)) in teams.iter().enumerate() {
        if !team.is_empty() {
            out += &format!("  subgraph t{k}[\"{}\"]\n", mermaid_label(team));
        }
        for n in ns {
            let id = mermaid_id(&mut ids, n);
            out += &format!("    {id}[\"{}\"]\n", mermaid_label(n));
        }
        if !team.is_empty() {
            out += "  end\n";
        }
    }
    for e in edges {
        let (a, b) = (mermaid_id(&mut ids, &e.caller), mermaid_id(&mut ids, &e.callee));
        let arrow = if e.kind == "async" { "-.->" } else { "-->" };
        out += &format!("  {a} {arrow}|{} calls| {b}\n", e.calls);
    }
    out
}

pub fn to_json(edges: &[&Edge]) -> String {
    serde_json::to_string_pretty(edges).unwrap_or_default()
}
