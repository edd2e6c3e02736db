//! `ownermap graph`: the service dependency graph of the window on stdout,
//! as Graphviz DOT, Mermaid or JSON, optionally only the edges touching one
//! team.

use crate::analysis::graph::{filter_team, to_dot, to_json, to_mermaid};
use crate::config::{Config, Overrides};
use crate::error::{Result, exit};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Dot,
    Mermaid,
    Json,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  ownermap graph --config ownermap.toml --format mermaid --team payments > payments.mmd")]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Output format: Graphviz DOT, Mermaid or JSON.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: Format,
    /// Only edges whose caller or callee belongs to this team.
    #[arg(long)]
    pub team: Option<String>,
    /// Last day of the window (UTC, YYYY-MM-DD); default: the config's window.end, else yesterday.
    #[arg(long)]
    pub end: Option<String>,
    /// Days in the window; default: the config's window.days, else 7.
    #[arg(long)]
    pub days: Option<u32>,
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = Config::load(&a.config.config, &Overrides { end: a.end, days: a.days, ..Default::default() })?;
    let (org, edges) = super::org_and_edges(&cfg)?;
    let team = match &a.team {
        Some(t) => Some(org.resolve_team(t)?),
        None => None,
    };
    let sel = filter_team(&edges, team.as_deref());
    if let (Some(t), true) = (&team, sel.is_empty()) {
        tracing::warn!("team {t:?} has no edges in the window");
    }
    let text = match a.format {
        Format::Dot => to_dot(&sel),
        Format::Mermaid => to_mermaid(&sel),
        Format::Json => to_json(&sel),
    };
    super::print_stdout(&text);
    Ok(exit::OK)
}
