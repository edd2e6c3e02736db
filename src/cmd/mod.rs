//! One module per verb, each with its own `Args` and `run`.

pub mod backfill;
#[cfg(feature = "ballista")]
pub mod cluster;
pub mod export_config;
pub mod generate;
pub mod graph;
pub mod import;
pub mod lint;
pub mod plan;
pub mod run;
pub mod sql;

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The `--config` flag shared by verbs that read a config.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// Path to ownermap.toml.
    #[arg(long, short = 'c', default_value = "ownermap.toml")]
    pub config: PathBuf,
}

/// The async runtime for verbs that query.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Other(format!("cannot start the async runtime: {e}")))
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub fn print_stdout(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}

/// The organisation and the window's edges, for verbs that need only
/// those (`graph`, `plan`, `export-config`). It adds the days it computes
/// to the state dir's cache: a writer, so it takes the state lock like
/// `run`.
pub fn org_and_edges(cfg: &crate::config::Config) -> Result<(crate::model::Org, Vec<crate::analysis::graph::Edge>)> {
    let _state = crate::out_dir::lock_state(&cfg.state_dir, true)?;
    runtime()?.block_on(async {
        let ctx = crate::engine::connect(&cfg.engine, Some(&cfg.state_dir.join("spill"))).await?;
        crate::pipeline::org_and_edges(cfg, &ctx).await
    })
}
