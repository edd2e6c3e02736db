//! ownermap: weekly service-ownership reports from stored distributed traces.
//!
//! The modules in the order the data flows (each uses only those above it;
//! `tests/test_architecture.rs` checks it, and `docs/architecture.md`
//! draws it):
//!
//! 1. foundations: [`error`], [`hash`], [`sketch`] (the quantile sketch),
//!    [`names`] (slugs and labels for untrusted names), [`atomic`],
//!    [`table`], [`canonical`] (the canonical span table);
//! 2. [`config`] (the validated `ownermap.toml`) and [`engine`] (the one
//!    DataFusion session);
//! 3. reading: [`input`] (spans, catalog, teams, incidents, survey),
//!    [`import`] (trace JSON → canonical Parquet), [`generate`],
//!    [`queries`] (the SQL of `queries/`), [`model`] (the organisation);
//! 4. computing: [`analysis`] (one module per analysis; the per-trace pass
//!    in [`analysis::trace_pass`]), [`daycache`];
//! 5. [`run_result`]: what a run produced;
//! 6. writing: [`report`] (the pages), [`configgen`] (Alertmanager,
//!    PagerDuty, Backstage, Grafana), [`out_dir`] (tables, markers, locks);
//! 7. [`pipeline`]: the run, unit by unit, and publishing;
//! 8. [`logging`], [`cmd`] (one module per verb), [`cli`].

pub use datafusion;

pub mod error;
pub mod hash;
pub mod sketch;
pub mod names;
pub mod atomic;
pub mod table;
pub mod canonical;

pub mod config;
pub mod engine;

pub mod input;
pub mod import;
pub mod generate;
pub mod queries;
pub mod model;

pub mod analysis;
pub mod daycache;

pub mod run_result;

pub mod report;
pub mod configgen;
pub mod out_dir;

pub mod pipeline;

pub mod logging;
pub mod cmd;
pub mod cli;
