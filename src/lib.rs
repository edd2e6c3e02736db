//! ownermap: weekly service-ownership reports from stored distributed traces.
//!
//! The pipeline reads inputs ([`input`]), computes the analyses of SPEC §2
//! ([`analysis`]) with SQL from `queries/` on one DataFusion session
//! ([`engine`]), and writes tables and pages ([`output`], [`report`]).

pub use datafusion;

pub mod analysis;
pub mod atomic;
pub mod canonical;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod daycache;
pub mod engine;
pub mod error;
pub mod generate;
pub mod hash;
pub mod import;
pub mod input;
pub mod logging;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod queries;
pub mod export;
pub mod report;
pub mod sketch;
pub mod table;
