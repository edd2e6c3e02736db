//! One module per verb, each with its own `Args` and `run`.

pub mod generate;
pub mod run;
