//! Apache DataFusion Ballista (cargo feature `ballista`, SPEC §5 "Many
//! machines"): the client session for `engine.url = "ballista://host:port"`
//! and the `ownermap scheduler` / `ownermap executor` processes, which carry
//! the pipeline's functions (`om_sketch`, `om_quantile`, …) in their
//! function registry so that the cluster can plan and run `queries/`.
//!
//! The pipeline's SQL runs on the cluster. Tables that the client builds
//! (catalog owners, SLO definitions, the per-day partials and seam spans it
//! merged or took from the cache) cannot be sent in a plan, so on a cluster
//! they are written as Parquet under `engine.work_dir`, which the client and
//! every executor must reach at the same path (a shared filesystem); the
//! intermediate tables the stages materialise are written there by the
//! executors (`COPY … TO`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use ballista::prelude::{SessionConfigExt, SessionContextExt};
use datafusion::execution::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use super::{ClusterWork, udf};
use crate::config::EngineConfig;
use crate::error::{Error, Result};

/// The scheduler's default port.
pub const SCHEDULER_PORT: u16 = 50050;

/// A client session on the cluster named by `cfg.url`
/// (`ballista://standalone`: a scheduler and an executor in this process).
pub async fn connect(cfg: &EngineConfig, spill_dir: Option<&Path>) -> Result<SessionContext> {
    let local = super::session(cfg, spill_dir)?;
    let mut state: SessionState = local.state();
    // Ballista 55's adaptive planner re-plans a stage whose input turned
    // out empty (e.g. an anti join over a seam day with no orphan spans) to
    // an EmptyExec; executors then report one operator's metrics fewer than
    // the scheduler's stage plan has, the scheduler rejects the task status
    // ("task metrics array size 7 does not equal … 8") and the job never
    // finishes (#17). The static distributed planner does not re-plan, so
    // every stage's plan is the one the executors run.
    let upgraded = state.config().clone().upgrade_for_ballista().with_ballista_adaptive_query_planner(false);
    *state.config_mut() = upgraded;
    let dir = cfg.work_dir.join(format!("run-{}-{}", std::process::id(), chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    state.config_mut().set_extension(Arc::new(ClusterWork::new(dir, &cfg.url, cfg.job_timeout)));
    // Ballista re-plans joins between stages (join selection), which
    // DataFusion 55 refuses once dynamic join filters exist: without this
    // the job fails on the scheduler and the client waits.
    state.config_mut().options_mut().optimizer.enable_dynamic_filter_pushdown = false;
    state.config_mut().options_mut().optimizer.enable_join_dynamic_filter_pushdown = false;
    let url = cfg.url.as_str();
    let ctx = if url == "ballista://standalone" {
        SessionContext::standalone_with_state(state).await
    } else {
        SessionContext::remote_with_state(url, state).await
    };
    let ctx = ctx.map_err(|e| Error::Config(format!("engine.url = {url:?}: cannot reach the Ballista scheduler: {e}")))?;
    // Ballista's session upgrade resets the function lists to its own.
    udf::register(&ctx);
    Ok(ctx)
}

/// A session state with the pipeline's functions, for the scheduler.
fn scheduler_state(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let state = ballista_core::utils::default_session_builder(config)?;
    let ctx = SessionContext::new_with_state(state);
    udf::register(&ctx);
    Ok(ctx.state())
}

/// Runs a Ballista scheduler on `bind` until the process is stopped.
pub async fn scheduler(bind: SocketAddr) -> Result<()> {
    use ballista_scheduler::cluster::BallistaCluster;
    use ballista_scheduler::config::SchedulerConfig;
    let config = SchedulerConfig {
        bind_host: bind.ip().to_string(),
        bind_port: bind.port(),
        external_host: bind.ip().to_string(),
        override_session_builder: Some(Arc::new(scheduler_state)),
        ..Default::default()
    };
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(|e| Error::Other(format!("scheduler: {e}")))?;
    ballista_scheduler::scheduler_process::start_server(cluster, bind, Arc::new(config))
        .await
        .map_err(|e| Error::Other(format!("scheduler on {bind}: {e}")))
}

/// What `ownermap executor` is told.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    pub scheduler_host: String,
    pub scheduler_port: u16,
    pub bind_host: String,
    /// Arrow Flight port (shuffle data); the gRPC port is the next one
    pub port: u16,
    pub work_dir: Option<String>,
    pub concurrent_tasks: usize,
    pub memory_limit: Option<u64>,
}

/// Runs a Ballista executor registered with the scheduler until stopped.
pub async fn executor(o: ExecutorOptions) -> Result<()> {
    use ballista_executor::executor_process::{ExecutorProcessConfig, start_executor_process};
    let ctx = SessionContext::new();
    udf::register(&ctx);
    let registry: ballista_core::registry::BallistaFunctionRegistry = (&ctx.state()).into();
    let config = ExecutorProcessConfig {
        scheduler_host: o.scheduler_host,
        scheduler_port: o.scheduler_port,
        scheduler_connect_timeout_seconds: 30,
        bind_host: o.bind_host.clone(),
        external_host: Some(o.bind_host),
        port: o.port,
        grpc_port: o.port + 1,
        work_dir: o.work_dir,
        vcores: o.concurrent_tasks.max(1),
        memory_pool_size: o.memory_limit,
        override_function_registry: Some(Arc::new(registry)),
        ..Default::default()
    };
    start_executor_process(Arc::new(config)).await.map_err(|e| Error::Other(format!("executor: {e}")))
}
