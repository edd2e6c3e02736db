//! `ownermap scheduler` and `ownermap executor` (cargo feature `ballista`):
//! a Ballista cluster whose processes know ownermap's SQL functions.

use std::net::SocketAddr;

use crate::engine::cluster::{self, ExecutorOptions};
use crate::error::{exit, Error, Result};

#[derive(Debug, clap::Args)]
pub struct SchedulerArgs {
    /// Address to listen on (clients and executors connect here).
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub bind: SocketAddr,
}

#[derive(Debug, clap::Args)]
pub struct ExecutorArgs {
    /// The scheduler, host:port.
    #[arg(long, default_value = "127.0.0.1:50050")]
    pub scheduler: String,
    /// Host to listen on and advertise to the scheduler.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Arrow Flight port for shuffle data (the gRPC port is the next one).
    #[arg(long, default_value_t = 50051)]
    pub port: u16,
    /// Folder for shuffle files (default: a temporary folder).
    #[arg(long)]
    pub work_dir: Option<String>,
    /// Tasks run at once (default: the cores).
    #[arg(long)]
    pub concurrent_tasks: Option<usize>,
    /// Memory pool of the executor, e.g. 8g (default: a fraction of RAM).
    #[arg(long)]
    pub memory_limit: Option<String>,
}

pub fn scheduler(a: SchedulerArgs) -> Result<u8> {
    super::runtime()?.block_on(cluster::scheduler(a.bind))?;
    Ok(exit::OK)
}

pub fn executor(a: ExecutorArgs) -> Result<u8> {
    let (host, port) = a
        .scheduler
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        .unwrap_or((a.scheduler.clone(), cluster::SCHEDULER_PORT));
    if host.is_empty() {
        return Err(Error::Config(format!("--scheduler {:?}: expected host:port", a.scheduler)));
    }
    let memory_limit = a.memory_limit.as_deref().map(crate::config::parse_size).transpose()?.map(|n| n as u64);
    let o = ExecutorOptions {
        scheduler_host: host,
        scheduler_port: port,
        bind_host: a.bind,
        port: a.port,
        work_dir: a.work_dir,
        concurrent_tasks: a.concurrent_tasks.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2)),
        memory_limit,
    };
    super::runtime()?.block_on(cluster::executor(o))?;
    Ok(exit::OK)
}
