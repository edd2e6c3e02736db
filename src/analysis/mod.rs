//! The analyses of SPEC §2, one module each.

pub mod edges;
pub mod latency;
pub mod window;
