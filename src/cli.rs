//! The command line (SPEC §4): what the user typed. Each verb's `run` lives
//! in `cmd/<verb>.rs`; this module parses and dispatches, and maps errors to
//! exit codes: 0 success, 1 failure, 2 bad usage or configuration, 3 finished
//! with some inputs skipped.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::cmd;

#[derive(Debug, Parser)]
#[command(
    name = "ownermap",
    version,
    about = "Weekly service-ownership reports from stored distributed traces",
    after_help = "Examples:\n  ownermap generate --out /tmp/org --services 24 --days 7     # a sample organisation\n  ownermap run --config /tmp/org/ownermap.toml                # the nightly job: writes /tmp/org/out/index.html\n  ownermap plan --config /tmp/org/ownermap.toml --team storefront\n\nExit codes: 0 ok, 1 failure (nothing published), 2 bad usage or configuration,\n3 finished with some inputs skipped, 4 no spans in the window (nothing published)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read spans, catalog, teams and incidents; write the report and tables.
    #[command(after_help = "Example:\n  ownermap run --config sample-data/ownermap.toml --out out/")]
    Run(cmd::run::Args),
    /// Generate a realistic seeded organisation: spans (Hive layout), catalog, teams, incidents.
    #[command(after_help = "Example:\n  ownermap generate --out /tmp/org --services 40 --days 7 --spans-per-day 1000000 --seed 7")]
    Generate(cmd::generate::Args),
    /// Convert OTLP, Jaeger or Zipkin JSON into canonical span Parquet.
    Import(cmd::import::Args),
    /// Store the N ISO weeks before the window's week in the history (for trends and week over week).
    Backfill(cmd::backfill::Args),
    /// Check the catalog's documentation (all checks but telemetry), or with --level its maturity; exit 1 on any failure.
    Lint(cmd::lint::Args),
    /// Write only the generated configuration: Alertmanager routes, PagerDuty Terraform, Backstage entities, Grafana dashboards.
    ExportConfig(cmd::export_config::Args),
    /// Print the dependency graph as DOT, Mermaid or JSON.
    Graph(cmd::graph::Args),
    /// What-if for a team's rotation: verdicts and the best two-way split.
    Plan(cmd::plan::Args),
    /// Ad-hoc SQL over the window's spans, edges, services, catalog and incidents.
    Sql(cmd::sql::Args),
    /// Start a Ballista scheduler that knows ownermap's SQL functions.
    #[cfg(feature = "ballista")]
    #[command(after_help = "Example:\n  ownermap scheduler --bind 0.0.0.0:50050")]
    Scheduler(cmd::cluster::SchedulerArgs),
    /// Start a Ballista executor that knows ownermap's SQL functions.
    #[cfg(feature = "ballista")]
    #[command(after_help = "Example:\n  ownermap executor --scheduler 10.0.0.5:50050 --bind 0.0.0.0 --port 50051 --work-dir /var/lib/ownermap/executor")]
    Executor(cmd::cluster::ExecutorArgs),
}

/// Parses arguments, runs the verb, and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { crate::error::exit::USAGE } else { crate::error::exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    crate::logging::init();
    let result = match cli.command {
        Command::Run(a) => cmd::run::run(a),
        Command::Generate(a) => cmd::generate::run(a),
        Command::Lint(a) => cmd::lint::run(a),
        Command::Backfill(a) => cmd::backfill::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Graph(a) => cmd::graph::run(a),
        Command::ExportConfig(a) => cmd::export_config::run(a),
        Command::Plan(a) => cmd::plan::run(a),
        Command::Sql(a) => cmd::sql::run(a),
        #[cfg(feature = "ballista")]
        Command::Scheduler(a) => cmd::cluster::scheduler(a),
        #[cfg(feature = "ballista")]
        Command::Executor(a) => cmd::cluster::executor(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("ownermap: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
