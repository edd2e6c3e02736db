//! The analyses of SPEC §2, one module each.

pub mod attribution;
pub mod changes;
pub mod docs;
pub mod edges;
pub mod graph;
pub mod history;
pub mod latency;
pub mod load;
pub mod rotation;
pub mod slo;
pub mod window;
