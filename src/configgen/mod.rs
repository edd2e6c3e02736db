//! Generated configuration (SPEC §3 "Generated configuration"): what the
//! catalog, teams.yaml and the observed edges say, written in the formats
//! the on-call and observability tools read — Alertmanager routes,
//! PagerDuty Terraform, Backstage entities with the observed dependencies,
//! and a Grafana dashboard per team. Every name from input data is escaped
//! for each format; file names are slugged.

pub mod alertmanager;
pub mod backstage;
pub mod grafana;
pub mod pagerduty;

use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::graph::Edge;
use crate::error::{Error, Result};
use crate::model::Org;

/// Everything the generators read.
pub struct Inputs<'a> {
    pub org: &'a Org,
    pub edges: &'a [Edge],
    pub email_domain: &'a str,
}

impl Inputs<'_> {
    /// Teams in teams.yaml, sorted by name, with the catalog services each owns.
    pub fn teams(&self) -> Vec<(&crate::input::teams::Team, Vec<String>)> {
        let mut t: Vec<_> = self.org.teams.teams.iter().map(|t| (t, self.org.services_owned(&t.name))).collect();
        t.sort_by(|a, b| a.0.name.cmp(&b.0.name));
        t
    }
}

/// The files, by path under `generated/`, and the problems to report.
pub fn render(inp: &Inputs) -> Result<(BTreeMap<String, String>, Vec<String>)> {
    let mut files = BTreeMap::new();
    files.insert("alertmanager.yml".to_string(), alertmanager::render(inp)?);
    files.insert("pagerduty.tf.json".to_string(), pagerduty::render(inp)?);
    let (catalog, problems) = backstage::render(inp)?;
    files.insert("catalog-info.yaml".to_string(), catalog);
    for (team, _) in inp.teams() {
        let name = format!("grafana/{}.json", crate::names::slug(&team.name));
        files.insert(name, grafana::render(inp, &team.name)?);
    }
    Ok((files, problems))
}

/// Writes the generated files into `dir` (created when missing).
pub fn write(dir: &Path, inp: &Inputs) -> Result<Vec<String>> {
    let (files, problems) = render(inp)?;
    for (name, text) in files {
        let path = dir.join(&name);
        if let Some(p) = path.parent() {
            std::fs::create_dir_all(p).map_err(|e| Error::io(p, e))?;
        }
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
    }
    Ok(problems)
}

/// YAML text of a value (serde's emitter quotes whatever needs it).
pub(crate) fn yaml(v: &serde_json::Value) -> Result<String> {
    serde_yaml_ng::to_string(v).map_err(|e| Error::Other(format!("YAML: {e}")))
}
