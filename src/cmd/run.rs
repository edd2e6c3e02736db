//! `ownermap run`: the nightly job.

use std::path::PathBuf;

use crate::config::{Config, Overrides};
use crate::engine;
use crate::error::{exit, Error, Result};
use crate::logging::StageProgress;
use crate::out_dir::{self, OutputLock};
use crate::pipeline;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub config: super::ConfigArg,
    /// Last day of the window (UTC, YYYY-MM-DD); default: the config's, else yesterday.
    #[arg(long)]
    pub end: Option<String>,
    /// Number of days in the window; default: the config's window.days, else 7.
    #[arg(long)]
    pub days: Option<u32>,
    /// Output directory (default: the config's output.dir).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Engine: "local" (default).
    #[arg(long)]
    pub engine: Option<String>,
    /// Recompute every day instead of reusing the per-day cache in the
    /// state dir (the cache is refreshed).
    #[arg(long)]
    pub full: bool,
}

pub fn run(args: Args) -> Result<u8> {
    let ov = Overrides { end: args.end, days: args.days, out: args.out, engine: args.engine };
    let mut cfg = Config::load(&args.config.config, &ov)?;
    cfg.full = args.full;
    cfg.evict_cache = true;
    let rt = super::runtime()?;
    let code = rt.block_on(run_config(&cfg));
    // A cluster job abandoned at its deadline may still hold tasks: do not
    // wait for them on the way out.
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    code
}

/// Runs the pipeline for `cfg` and publishes its outputs; returns the exit
/// code (0, or 3 when some input was skipped).
///
/// The order is what makes the nightly guarantees (SPEC §4): the output
/// path is resolved and checked before any work (exit 2 for a folder
/// ownermap did not write), both locks are held throughout, a window with
/// no spans stops before publishing (exit 4), and [`pipeline::publish`]
/// writes everything aside before swapping anything in.
pub async fn run_config(cfg: &Config) -> Result<u8> {
    let out = out_dir::resolve_out(&cfg.out_dir)?;
    out_dir::check_target(&out)?;
    let _lock = OutputLock::acquire(&out)?;
    let _state = out_dir::lock_state(&cfg.state_dir, true)?;
    pipeline::clean_state_leftovers(&cfg.state_dir);
    tracing::info!(
        "window {} .. {} ({} days), spans from {}",
        cfg.window.start(),
        cfg.window.end,
        cfg.window.days,
        cfg.spans.path
    );
    let ctx = engine::connect(&cfg.engine, Some(&cfg.state_dir.join("spill"))).await?;
    let progress = StageProgress::new();
    let mut result = pipeline::run(cfg, &ctx, &progress).await;
    if let Err(Error::Engine(e)) = &result {
        // Damaged data pages behind an intact footer fail a query, not the
        // file's check: find such files by decoding them, name and skip them
        // (exit 3), and run again without them.
        let bad = crate::input::spans::undecodable(&cfg.spans, &cfg.window);
        if !bad.is_empty() {
            for f in &bad {
                tracing::warn!("skipping span file {}: {}", f.path, f.reason);
            }
            tracing::warn!("the run failed ({e}); running again without {} damaged file(s)", bad.len());
            let mut again = cfg.clone();
            again.skip_files.extend(bad);
            let ctx = engine::connect(&again.engine, Some(&again.state_dir.join("spill"))).await?;
            result = pipeline::run(&again, &ctx, &progress).await;
        }
    }
    progress.finish();
    let result = result?;
    let s = &result.summary;
    for f in &s.files_skipped {
        eprintln!("ownermap: skipped {}: {}", f.path, f.reason);
    }
    for p in &s.problems {
        eprintln!("ownermap: {p}");
    }
    if s.spans_in_window == 0 {
        return Err(Error::NoSpans(format!(
            "no spans in the window {} .. {} under {} ({} files read, {} skipped): nothing published, history untouched",
            cfg.window.start(),
            cfg.window.end,
            cfg.spans.path,
            s.files_read,
            s.files_skipped.len()
        )));
    }
    let started = std::time::Instant::now();
    pipeline::publish(cfg, &out, &result)?;
    tracing::info!("published in {:.2} s", started.elapsed().as_secs_f64());
    tracing::info!(
        "wrote {}: {} spans in window, {} traces, {} files read ({} skipped)",
        out.join("index.html").display(),
        s.spans_in_window,
        s.traces,
        s.files_read,
        s.files_skipped.len()
    );
    Ok(if s.skipped_input() { exit::SKIPPED_INPUT } else { exit::OK })
}
