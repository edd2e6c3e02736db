//! The library's error type. The CLI edge maps it to an exit code (SPEC §4):
//! configuration and schema problems are "bad usage or configuration" (2),
//! everything else a failure (1).

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// The process exit codes (SPEC §4), one name each.
pub mod exit {
    /// Done; everything was read.
    pub const OK: u8 = 0;
    /// A failure: nothing was published (also `lint` finding problems).
    pub const FAILURE: u8 = 1;
    /// Bad usage or configuration, or a request refused.
    pub const USAGE: u8 = 2;
    /// Done, with some inputs skipped (each named in `summary.json`).
    pub const SKIPPED_INPUT: u8 = 3;
    /// No span in the window: nothing was published.
    pub const NO_SPANS: u8 = 4;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad config file, flag or value.
    #[error("configuration: {0}")]
    Config(String),
    /// An input file whose shape we cannot use (missing column, wrong type).
    #[error("{path}: {msg}")]
    Schema { path: String, msg: String },
    /// An input file we could not parse at all.
    #[error("{path}: {msg}")]
    Input { path: String, msg: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A request ownermap refuses (bad usage: exit 2), e.g. publishing
    /// over a folder it did not create.
    #[error("{0}")]
    Refused(String),
    /// No span in the window: nothing is published (exit 4).
    #[error("{0}")]
    NoSpans(String),
    #[error("another ownermap run holds the lock {0}; try again when it has finished")]
    Locked(PathBuf),
    #[error("query engine: {0}")]
    Engine(DataFusionError),
    /// The memory pool refused an allocation.
    #[error("the run needs more memory than engine.memory_limit allows ({0}); raise engine.memory_limit in the config")]
    Memory(String),
    #[error("{0}")]
    Other(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Exit code for this error (SPEC §4).
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Config(_) | Error::Schema { .. } | Error::Refused(_) => exit::USAGE,
            Error::NoSpans(_) => exit::NO_SPANS,
            _ => exit::FAILURE,
        }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

impl From<DataFusionError> for Error {
    fn from(e: DataFusionError) -> Self {
        match e.find_root() {
            DataFusionError::ResourcesExhausted(msg) => Error::Memory(msg.clone()),
            _ => Error::Engine(e),
        }
    }
}

impl From<datafusion::arrow::error::ArrowError> for Error {
    fn from(e: datafusion::arrow::error::ArrowError) -> Self {
        Error::Engine(DataFusionError::ArrowError(Box::new(e), None))
    }
}

impl From<datafusion::parquet::errors::ParquetError> for Error {
    fn from(e: datafusion::parquet::errors::ParquetError) -> Self {
        Error::Engine(DataFusionError::ParquetError(Box::new(e)))
    }
}
