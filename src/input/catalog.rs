//! Service catalog (SPEC §1.2): `catalog.yaml` lists, and Backstage
//! `catalog-info.yaml` documents (several per file, `---` separated).
//!
//! Entries that cannot be used are skipped with a warning naming the file
//! and entry, and counted; duplicate service names keep the first entry and
//! are reported (never silently merged).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::Deserialize;
use serde_yaml_ng::Value;

use crate::error::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Slo {
    pub name: String,
    pub objective: f64,
    pub latency_ms: Option<f64>,
    pub operation: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogEntry {
    pub name: String,
    pub team: Option<String>,
    pub description: Option<String>,
    pub tier: Option<i64>,
    pub links: BTreeMap<String, String>,
    pub last_reviewed: Option<NaiveDate>,
    pub depends_on: Vec<String>,
    pub environments: Vec<String>,
    pub slos: Vec<Slo>,
}

/// A Backstage `Group`: a team with its members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackstageGroup {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    pub entries: Vec<CatalogEntry>,
    pub groups: Vec<BackstageGroup>,
    /// Human-readable problems (skipped entries, duplicates).
    pub problems: Vec<String>,
    pub skipped: usize,
}

impl Catalog {
    pub fn get(&self, name: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// Owner of a catalog entry (`None` when the entry names no team).
    pub fn owner(&self, name: &str) -> Option<Option<&str>> {
        self.get(name).map(|e| e.team.as_deref())
    }

    fn push(&mut self, e: CatalogEntry, file: &str) {
        if self.get(&e.name).is_some() {
            self.problems.push(format!("{file}: duplicate service {:?}; the first entry is kept", e.name));
            self.skipped += 1;
        } else {
            self.entries.push(e);
        }
    }
}

/// Extra keys are allowed (catalogs carry their own); the known ones are checked.
#[derive(Debug, Deserialize)]
struct RawSlo {
    name: String,
    objective: f64,
    latency_ms: Option<f64>,
    operation: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawEntry {
    name: String,
    team: Option<String>,
    description: Option<String>,
    tier: Option<Value>,
    #[serde(default)]
    links: BTreeMap<String, Option<Value>>,
    last_reviewed: Option<Value>,
    #[serde(default)]
    depends_on: Vec<String>,
    #[serde(default)]
    environments: Vec<String>,
    #[serde(default)]
    slos: Vec<RawSlo>,
    #[serde(default)]
    #[allow(dead_code)]
    properties: Option<Value>,
}

fn parse_date_value(v: &Value) -> std::result::Result<NaiveDate, String> {
    let s = match v {
        Value::String(s) => s.clone(),
        other => serde_yaml_ng::to_string(other).unwrap_or_default().trim().to_string(),
    };
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| format!("last_reviewed {s:?} is not a date"))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn entry_from_raw(r: RawEntry) -> std::result::Result<CatalogEntry, String> {
    if r.name.trim().is_empty() {
        return Err("empty name".into());
    }
    let last_reviewed = match &r.last_reviewed {
        None | Some(Value::Null) => None,
        Some(v) => Some(parse_date_value(v)?),
    };
    let mut slos = Vec::new();
    for s in r.slos {
        if !(0.0..=1.0).contains(&s.objective) {
            return Err(format!("slo {:?}: objective {} is not in [0, 1]", s.name, s.objective));
        }
        slos.push(Slo { name: s.name, objective: s.objective, latency_ms: s.latency_ms, operation: s.operation });
    }
    Ok(CatalogEntry {
        name: r.name.trim().to_string(),
        team: non_empty(r.team),
        description: non_empty(r.description),
        tier: match &r.tier {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(t)) => t.trim().trim_start_matches(['t', 'T']).trim_start_matches("ier").trim().parse().ok(),
            Some(_) => None,
        },
        links: r
            .links
            .into_iter()
            .filter_map(|(k, v)| non_empty(v.and_then(|v| v.as_str().map(str::to_string))).map(|v| (k, v)))
            .collect(),
        last_reviewed,
        depends_on: r.depends_on,
        environments: r.environments,
        slos,
    })
}

/// Reads every catalog file into one catalog.
pub fn read(paths: &[impl AsRef<Path>]) -> Result<Catalog> {
    let mut cat = Catalog::default();
    for p in paths {
        let p = p.as_ref();
        let text = crate::input::read_input(p, "catalog.path")?;
        let before = (cat.entries.len(), cat.skipped);
        read_str(&text, &p.display().to_string(), &mut cat)?;
        if (cat.entries.len(), cat.skipped) == before {
            // An empty file (a truncated export, a failed checkout) would
            // make every service unowned and move every page to (unowned).
            return Err(Error::Config(format!("catalog.path = {}: the file lists no service", p.display())));
        }
    }
    Ok(cat)
}

/// Parses one catalog file's text (plain list or Backstage documents).
pub fn read_str(text: &str, file: &str, cat: &mut Catalog) -> Result<()> {
    let mut docs = Vec::new();
    for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let v = Value::deserialize(doc)
            .map_err(|e| Error::Input { path: file.to_string(), msg: format!("YAML document {}: {e}", i + 1) })?;
        docs.push(v);
    }
    for (di, doc) in docs.into_iter().enumerate() {
        match doc {
            Value::Null => {}
            Value::Sequence(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    let what = format!("{file}: entry {} ", i + 1);
                    match serde_yaml_ng::from_value::<RawEntry>(item).map_err(|e| e.to_string()).and_then(entry_from_raw) {
                        Ok(e) => cat.push(e, file),
                        Err(msg) => {
                            tracing::warn!("skipping catalog {what}: {msg}");
                            cat.problems.push(format!("{what}skipped: {msg}"));
                            cat.skipped += 1;
                        }
                    }
                }
            }
            Value::Mapping(_) if doc.get("kind").is_some() => {
                if let Err(msg) = backstage_doc(&doc, file, cat) {
                    tracing::warn!("skipping Backstage document {} in {file}: {msg}", di + 1);
                    cat.problems.push(format!("{file}: document {} skipped: {msg}", di + 1));
                    cat.skipped += 1;
                }
            }
            _ => {
                return Err(Error::Input {
                    path: file.to_string(),
                    msg: format!("document {}: expected a list of services or a Backstage entity", di + 1),
                });
            }
        }
    }
    Ok(())
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    cur.as_str()
}

/// Backstage entity refs look like `group:default/payments` or `component:x`.
fn entity_name(r: &str) -> String {
    let r = r.rsplit(':').next().unwrap_or(r);
    r.rsplit('/').next().unwrap_or(r).to_string()
}

fn backstage_doc(doc: &Value, file: &str, cat: &mut Catalog) -> std::result::Result<(), String> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let name = str_at(doc, &["metadata", "name"]).ok_or("metadata.name is missing")?.to_string();
    match kind {
        "Component" | "Resource" | "System" | "API" => {
            let mut links = BTreeMap::new();
            if let Some(Value::Sequence(ls)) = doc.get("metadata").and_then(|m| m.get("links")) {
                for l in ls {
                    let url = l.get("url").and_then(Value::as_str).unwrap_or("").to_string();
                    let key = l
                        .get("type")
                        .or_else(|| l.get("title"))
                        .and_then(Value::as_str)
                        .unwrap_or("docs")
                        .to_ascii_lowercase();
                    let key = ["runbook", "dashboard", "alerts", "docs"]
                        .into_iter()
                        .find(|k| key.contains(k) || (*k == "alerts" && key.contains("alert")))
                        .map(str::to_string)
                        .unwrap_or(key);
                    if !url.is_empty() {
                        links.entry(key).or_insert(url);
                    }
                }
            }
            if let Some(Value::Mapping(ann)) = doc.get("metadata").and_then(|m| m.get("annotations")) {
                for (k, v) in ann {
                    let (Some(k), Some(v)) = (k.as_str(), v.as_str()) else { continue };
                    for key in ["runbook", "dashboard", "alerts"] {
                        if k.to_ascii_lowercase().contains(key) && !v.is_empty() {
                            links.entry(key.to_string()).or_insert_with(|| v.to_string());
                        }
                    }
                }
            }
            let depends_on = match doc.get("spec").and_then(|s| s.get("dependsOn")) {
                Some(Value::Sequence(d)) => d.iter().filter_map(Value::as_str).map(entity_name).collect(),
                _ => vec![],
            };
            let last_reviewed = match str_at(doc, &["metadata", "annotations", "ownermap/last-reviewed"]) {
                Some(s) => Some(parse_date_value(&Value::String(s.to_string()))?),
                None => None,
            };
            cat.push(
                CatalogEntry {
                    name,
                    team: str_at(doc, &["spec", "owner"]).map(entity_name).filter(|s| !s.is_empty()),
                    description: str_at(doc, &["metadata", "description"]).map(str::to_string).filter(|s| !s.is_empty()),
                    links,
                    last_reviewed,
                    depends_on,
                    ..Default::default()
                },
                file,
            );
        }
        "Group" => {
            let members = match doc.get("spec").and_then(|s| s.get("members")) {
                Some(Value::Sequence(m)) => m.iter().filter_map(Value::as_str).map(entity_name).collect(),
                _ => vec![],
            };
            cat.groups.push(BackstageGroup { name, members });
        }
        "User" | "Location" | "Domain" => {}
        other => return Err(format!("unsupported kind {other:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_catalog_with_a_bad_entry_and_a_duplicate() {
        let text = r#"
- name: checkout
  team: storefront
  description: Takes orders.
  links: { runbook: "https://r", dashboard: "" }
  last_reviewed: 2026-09-14
  depends_on: [payments]
  slos:
    - { name: lat, objective: 0.99, latency_ms: 500 }
- name: broken
  last_reviewed: not-a-date
- name: checkout
  team: other
"#;
        let mut c = Catalog::default();
        read_str(text, "catalog.yaml", &mut c).unwrap();
        assert_eq!(c.entries.len(), 1);
        assert_eq!(c.skipped, 2);
        let e = &c.entries[0];
        assert_eq!(e.team.as_deref(), Some("storefront"));
        assert_eq!(e.links.len(), 1, "empty links are dropped");
        assert_eq!(e.slos[0].latency_ms, Some(500.0));
        assert!(c.problems.iter().any(|p| p.contains("entry 2")));
        assert!(c.problems.iter().any(|p| p.contains("duplicate service \"checkout\"")));
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    #[test]
    fn extra_keys_and_loose_types_do_not_drop_an_entry() {
        let text = "- name: a\n  team: t\n  tier: \"2\"\n  owner_email: x@y\n  links: { runbook: https://r, chat: null }\n  slos:\n    - { name: s, objective: 0.99, description: fast }\n";
        let mut c = Catalog::default();
        read_str(text, "c.yaml", &mut c).unwrap();
        assert_eq!(c.skipped, 0, "{:?}", c.problems);
        assert_eq!(c.entries[0].tier, Some(2));
        assert_eq!(c.entries[0].links.len(), 1);
    }
}
