//! Logs and progress: plain timestamped lines on stderr (what cron mails),
//! and a progress spinner when stderr is a terminal. `OWNERMAP_LOG` or
//! `RUST_LOG` set the filter (default `info`).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tracing_subscriber::EnvFilter;

use crate::run_result::Progress;

pub fn init() {
    let filter = std::env::var("OWNERMAP_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    // Ballista's own job-by-job lines (and its harmless "Fail to combine
    // stage metrics" errors) stay out of a nightly log unless asked for
    // with a target directive (e.g. OWNERMAP_LOG=info,ballista_scheduler=info).
    let filter = if filter.contains('=') {
        filter
    } else {
        format!(
            "{filter},ballista=warn,ballista_core=warn,ballista_scheduler=warn,ballista_executor=warn,ballista_scheduler::display=off"
        )
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

/// A spinner on a terminal, log lines otherwise.
pub struct StageProgress {
    bar: Option<ProgressBar>,
}

impl StageProgress {
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(ProgressStyle::with_template("{spinner} [{elapsed}] {msg}").unwrap());
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        StageProgress { bar }
    }
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Default for StageProgress {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for StageProgress {
    fn stage(&self, name: &str) {
        match &self.bar {
            Some(b) => b.set_message(name.to_string()),
            // Under cron one line per stage, not per day: the days are
            // summed up once the run has them (`days: …`).
            None if name.starts_with("spans of ") || name.starts_with("traces across midnight") => tracing::debug!("{name}"),
            None => tracing::info!("{name}"),
        }
    }
}
