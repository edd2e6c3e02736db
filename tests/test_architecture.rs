//! The shape of the code (`docs/architecture.md`): modules form layers in
//! the order the data flows, an import goes only to the same layer or a
//! lower one, there is no import circle, and no file in `src/` is over 600
//! lines. Imports are read from the source text: `use crate::…` (with
//! brace groups), `crate::a::b` paths, `super::…`, and paths through a
//! module imported by name. Unit-test modules are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use regex::Regex;

/// The layers, lowest first (top-level module names).
const LAYERS: &[&[&str]] = &[
    &["error", "hash", "sketch", "names", "atomic", "table", "canonical"],
    &["config", "engine"],
    &["queries", "input", "import", "generate", "model"],
    &["analysis", "daycache"],
    &["run_result"],
    &["report", "configgen", "out_dir"],
    &["pipeline"],
    &["logging", "cmd"],
    &["cli"],
];

const MAX_LINES: usize = 600;

type Module = Vec<String>;

fn sources() -> BTreeMap<Module, (PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(&root).unwrap().with_extension("");
                let mut parts: Module = rel.iter().map(|c| c.to_string_lossy().into_owned()).collect();
                if parts.last().is_some_and(|l| l == "mod") {
                    parts.pop();
                }
                if parts == ["lib"] || parts == ["main"] {
                    parts.clear();
                }
                out.insert(parts, (p.clone(), std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(k) => &text[..k],
        None => text,
    };
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// `a::{b, c::{d}}` as the paths it names.
fn expand(prefix: &[String], s: &str, out: &mut Vec<Vec<String>>) {
    let s = s.trim();
    if let (Some(open), true) = (s.find('{'), s.ends_with('}')) {
        let mut pre = prefix.to_vec();
        pre.extend(s[..open].split("::").filter(|x| !x.trim().is_empty()).map(|x| x.trim().to_string()));
        let (mut depth, mut cur) = (0, String::new());
        for ch in s[open + 1..s.len() - 1].chars() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    expand(&pre, &cur, out);
                    cur.clear();
                    continue;
                }
                _ => {}
            }
            cur.push(ch);
        }
        if !cur.trim().is_empty() {
            expand(&pre, &cur, out);
        }
    } else {
        let s = s.split(" as ").next().unwrap().trim();
        let mut p = prefix.to_vec();
        p.extend(s.split("::").filter(|x| !x.is_empty()).map(str::to_string));
        out.push(p);
    }
}

/// The longest prefix of `path` that is a module.
fn resolve(mods: &BTreeSet<Module>, path: &[String]) -> Option<Module> {
    (1..=path.len()).rev().map(|k| path[..k].to_vec()).find(|m| mods.contains(m))
}

fn imports() -> (BTreeMap<Module, BTreeSet<Module>>, BTreeMap<Module, (PathBuf, String)>) {
    let files = sources();
    let mods: BTreeSet<Module> = files.keys().cloned().collect();
    let use_re = Regex::new(r"(?s)\buse\s+(crate|super)::(.*?);").unwrap();
    let path_re = Regex::new(r"\bcrate::((?:[a-z_0-9]+::)*[A-Za-z_0-9]+)").unwrap();
    let mut edges = BTreeMap::new();
    for (m, (_, text)) in &files {
        let text = code(text);
        // `super::` is the parent module (of `a/mod.rs` and of `a.rs` alike).
        let parent: Module = m[..m.len().saturating_sub(1)].to_vec();
        let mut paths = vec![];
        let mut aliases: BTreeMap<String, Module> = BTreeMap::new();
        for c in use_re.captures_iter(&text) {
            let base = if &c[1] == "crate" { vec![] } else { parent.clone() };
            let mut named = vec![];
            expand(&base, &c[2], &mut named);
            for p in &named {
                if mods.contains(p) && !p.is_empty() {
                    aliases.insert(p.last().unwrap().clone(), p.clone());
                }
            }
            paths.extend(named);
        }
        for c in path_re.captures_iter(&text) {
            paths.push(c[1].split("::").map(str::to_string).collect());
        }
        for (alias, full) in &aliases {
            let re = Regex::new(&format!(r"(?:^|[^:\w]){alias}::((?:[a-z_0-9]+::)*[A-Za-z_0-9]+)")).unwrap();
            for c in re.captures_iter(&text) {
                let mut p = full.clone();
                p.extend(c[1].split("::").map(str::to_string));
                paths.push(p);
            }
        }
        let targets: BTreeSet<Module> = paths.iter().filter_map(|p| resolve(&mods, p)).filter(|t| t != m && !t.is_empty()).collect();
        edges.insert(m.clone(), targets);
    }
    (edges, files)
}

fn name(m: &Module) -> String {
    if m.is_empty() { "crate".into() } else { m.join("::") }
}

fn layer(m: &Module) -> Option<usize> {
    LAYERS.iter().position(|l| m.first().is_some_and(|top| l.contains(&top.as_str())))
}

#[test]
fn every_module_has_a_layer() {
    let (edges, _) = imports();
    let missing: Vec<String> = edges.keys().filter(|m| !m.is_empty() && layer(m).is_none()).map(name).collect();
    assert!(missing.is_empty(), "modules with no layer in LAYERS: {missing:?}");
}

#[test]
fn imports_go_only_to_the_same_layer_or_a_lower_one() {
    let (edges, _) = imports();
    let mut upward = vec![];
    for (a, targets) in &edges {
        for b in targets {
            if let (Some(la), Some(lb)) = (layer(a), layer(b)) {
                if lb > la {
                    upward.push(format!("{} -> {}", name(a), name(b)));
                }
            }
        }
    }
    assert!(upward.is_empty(), "imports from a lower layer to a higher one: {upward:#?}");
}

#[test]
fn there_is_no_import_circle() {
    let (edges, _) = imports();
    // Tarjan's strongly connected components.
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<&'a Module, usize>,
        low: BTreeMap<&'a Module, usize>,
        stack: Vec<&'a Module>,
        on: BTreeSet<&'a Module>,
        circles: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a Module) {
        let k = s.index.len();
        s.index.insert(v, k);
        s.low.insert(v, k);
        s.stack.push(v);
        s.on.insert(v);
        for w in &s.edges[v] {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                s.low.insert(v, s.low[v].min(lw));
            } else if s.on.contains(w) {
                let iw = s.index[w];
                s.low.insert(v, s.low[v].min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = vec![];
            loop {
                let w = s.stack.pop().unwrap();
                s.on.remove(w);
                comp.push(name(w));
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                s.circles.push(comp);
            }
        }
    }
    let mut s = State { edges: &edges, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), circles: vec![] };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    assert!(s.circles.is_empty(), "import circles: {:?}", s.circles);
    let arrows: usize = edges.values().map(BTreeSet::len).sum();
    assert!(arrows > 200, "only {arrows} imports found: the reader of imports is broken");
}

#[test]
fn no_source_file_is_over_600_lines() {
    let (_, files) = imports();
    let long: Vec<String> = files.values().filter(|(_, t)| t.lines().count() > MAX_LINES).map(|(p, t)| format!("{} ({} lines)", p.display(), t.lines().count())).collect();
    assert!(long.is_empty(), "files over {MAX_LINES} lines: {long:?}");
}
