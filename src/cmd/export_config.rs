//! `ownermap export-config --out DIR`: only the generated configuration
//! (SPEC §3) — `alertmanager.yml`, `pagerduty.tf.json`, `catalog-info.yaml`
//! and `grafana/<team>.json` — from the catalog, teams.yaml and the edges
//! observed in the window. DIR is replaced whole and atomically, and only
//! when it is new or an earlier export (it carries `.ownermap-config`).

use std::path::Path;

use crate::config::{Config, Overrides};
use crate::error::{exit, Error, Result};

const MARKER: &str = ".ownermap-config";

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ownermap export-config --config ownermap.toml --out generated/\n  amtool check-config generated/alertmanager.yml\n\n\
Exit status: 0 on success, 2 when DIR exists and is not an earlier export, 1 on failure.")]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Folder to write (replaced whole; refused unless new or an earlier export).
    #[arg(long)]
    pub out: std::path::PathBuf,
    /// Last day of the window (UTC, YYYY-MM-DD); default: the config's window.end, else yesterday.
    #[arg(long)]
    pub end: Option<String>,
    /// Days in the window; default: the config's window.days, else 7.
    #[arg(long)]
    pub days: Option<u32>,
}

fn check(out: &Path) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() && (out.join(MARKER).exists() || std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_none())) => Ok(()),
        Ok(_) => Err(Error::Refused(format!(
            "refusing to write into {}: it exists and is not an earlier export-config folder (no {MARKER} in it)",
            out.display()
        ))),
    }
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end, days: a.days, ..Default::default() })?;
    let out = crate::out_dir::resolve_out(&a.out)?;
    check(&out)?;
    let _lock = crate::out_dir::OutputLock::acquire(&out)?;
    let (org, edges) = super::org_and_edges(&cfg)?;
    crate::atomic::clean_leftovers(&out);
    let staged = crate::atomic::Staged::new(&out)?;
    let inputs = crate::configgen::Inputs { org: &org, edges: &edges, email_domain: &cfg.generate.email_domain };
    let problems = crate::configgen::write(staged.path(), &inputs)?;
    let marker = staged.path().join(MARKER);
    std::fs::write(&marker, "written by ownermap export-config; the folder is replaced whole by the next export\n")
        .map_err(|e| Error::io(&marker, e))?;
    staged.swap()?.commit();
    for p in &problems {
        eprintln!("ownermap: {p}");
    }
    eprintln!("wrote {}", out.display());
    Ok(exit::OK)
}
