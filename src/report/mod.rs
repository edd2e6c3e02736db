//! The static report (SPEC §3): `index.html`, `teams/<team>.html`,
//! `services/<service>.html`, `graph.html` (+ `graph.svg`, `graph.dot`,
//! `graph.mmd`) and `rotations.html`, rendered with Tera from `reports/`.
//! Pages are views over the result tables, not new computations.
//!
//! Safety: Tera autoescapes every `.html` template, SVG labels are escaped
//! in [`graph_svg`] and by plotters, file names come from [`slug`] (ASCII
//! letters, digits and `-`, plus a hash of the original so distinct names
//! never collide), and catalog links are links only when they are http(s).
//!
//! Pages only render what the analyses computed: [`site`] gathers what
//! every page shares (the tables as rows, the teams, the trend weeks), and
//! each page type has its own module — [`index`], [`team`], [`service`],
//! [`rotations`], [`maturity`]; [`text`] holds the template filters.

pub mod charts;
pub mod critical_svg;
pub mod graph_svg;
mod index;
mod labels;
mod maturity;
mod rotations;
mod service;
mod site;
mod team;
mod text;

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};
use tera::{Context, Tera};

use crate::analysis::graph::{Edge, to_dot, to_mermaid};
use crate::error::{Error, Result};
use crate::names::slug;
use crate::run_result::RunResult;
pub use site::json_rows;
use site::Site;
pub use text::verdict_label;

const TEMPLATES: &[(&str, &str)] = &[
    ("layout.html", include_str!("../../reports/layout.html")),
    ("macros.html", include_str!("../../reports/macros.html")),
    ("index.html", include_str!("../../reports/index.html")),
    ("team.html", include_str!("../../reports/team.html")),
    ("service.html", include_str!("../../reports/service.html")),
    ("graph.html", include_str!("../../reports/graph.html")),
    ("rotations.html", include_str!("../../reports/rotations.html")),
    ("maturity.html", include_str!("../../reports/maturity.html")),
];
const CSS: &str = include_str!("../../reports/style.css");


fn tera() -> Result<Tera> {
    let mut t = Tera::default();
    t.add_raw_templates(TEMPLATES.to_vec()).map_err(|e| Error::Other(format!("report templates: {e:?}")))?;
    t.autoescape_on(vec![".html"]);
    // Every value printed into a page is escaped and bounded in one place
    // (SPEC §3 untrusted names, §4 long names).
    t.set_escape_fn(|s| tera::escape_html(&crate::names::bounded(s)));
    t.register_filter("num", text::num_filter);
    t.register_filter("pct", text::pct_filter);
    t.register_filter("label", text::label_filter);
    t.register_filter("urgency", text::urgency_filter);
    Ok(t)
}

fn write(path: &Path, text: &str) -> Result<()> {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn render(t: &Tera, name: &str, ctx: &Context) -> Result<String> {
    t.render(name, ctx).map_err(|e| {
        let mut msg = format!("rendering {name}: {e}");
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            msg += &format!(": {s}");
            src = s.source();
        }
        Error::Other(msg)
    })
}


/// Where a page is written and what it renders with.
struct Page<'s, 'a> {
    dir: &'s Path,
    tera: &'s Tera,
    site: &'s Site<'a>,
}

impl<'a> Page<'_, 'a> {
    /// Drawings leave out edges below `report.min_edge_calls` (the tables
    /// and the .dot/.mmd files keep them).
    fn drawn(&self, edges: &[&'a Edge]) -> Vec<&'a Edge> {
        edges.iter().copied().filter(|e| e.calls >= self.site.r.min_edge_calls).collect()
    }
}

/// How many entries an index card shows; the rest are one click away.
const CARD_TOP: usize = 8;

/// Puts a card's first [`CARD_TOP`] `items` under `name` and how many more
/// there are under `name_more`.
fn top<T: serde::Serialize>(c: &mut tera::Context, name: &str, items: &[T]) {
    c.insert(name, &items[..items.len().min(CARD_TOP)]);
    c.insert(format!("{name}_more"), &items.len().saturating_sub(CARD_TOP));
}


/// Writes every page of the report into `dir`.
pub fn write_site(dir: &Path, r: &RunResult) -> Result<()> {
    let mut tera = tera()?;
    let site = Site::new(r);
    // Links are looked up by functions, not by indexing a map with an
    // untrusted name (which Tera would parse as a path).
    for (func, dir_name, names) in [("service_href", "services", &site.services), ("team_href", "teams", &site.teams.iter().cloned().collect())] {
        let names: BTreeSet<String> = names.clone();
        tera.register_function(func, move |args: &std::collections::HashMap<String, Value>| {
            Ok(match args.get("name").and_then(Value::as_str) {
                Some(n) if names.contains(n) => json!(format!("{dir_name}/{}.html", slug(n))),
                _ => Value::Null,
            })
        });
    }
    write(&dir.join("style.css"), CSS)?;
    let page = Page { dir, tera: &tera, site: &site };

    // graph files
    let all: Vec<&Edge> = r.edges.iter().collect();
    let svg = graph_svg::draw(&page.drawn(&all), &|s| Some(format!("services/{}.html", slug(s))), &site.teams);
    write(&dir.join("graph.svg"), &svg)?;
    write(&dir.join("graph.dot"), &to_dot(&all))?;
    write(&dir.join("graph.mmd"), &to_mermaid(&all))?;

    index::write(&page)?;

    // graph page
    let mut c = site.base("", "Dependency graph");
    c.insert("graph_svg", &svg);
    c.insert("min_edge_calls", &r.min_edge_calls);
    c.insert("edges", site.t("edges"));
    write(&dir.join("graph.html"), &render(&tera, "graph.html", &c)?)?;

    rotations::write(&page)?;
    maturity::write(&page)?;
    for team in &site.teams {
        team::write(&page, team)?;
    }
    for svc in &site.services {
        service::write(&page, svc)?;
    }
    Ok(())
}
