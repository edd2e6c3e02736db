//! Reading and normalising inputs: spans (§1.1) and the catalog (§1.2).

pub mod catalog;
pub mod incidents;
#[cfg(feature = "s3")]
pub mod objstore;
pub mod teams;
pub mod spans;
