//! The analyses of SPEC §2, one module each.

pub mod alerts;
pub mod attribution;
pub mod changes;
pub mod critical;
pub mod trace_pass;
pub mod docs;
pub mod edges;
pub mod expertise;
pub mod graph;
pub mod history;
pub mod latency;
pub mod load;
pub mod maturity;
pub mod postmortems;
pub mod rotation;
pub mod slo;
pub mod window;
