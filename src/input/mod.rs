//! Reading and normalising inputs: spans (§1.1) and the catalog (§1.2).

pub mod catalog;
pub mod incidents;
#[cfg(feature = "s3")]
pub mod objstore;
pub mod survey;
pub mod teams;
pub mod spans;

use std::path::Path;

use crate::error::{Error, Result};

/// Reads a whole input file named by the config key `key`. A missing file
/// is a configuration problem (exit 2, naming the key); other I/O errors
/// name the file.
pub fn read_input(path: &Path, key: &str) -> Result<String> {
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|e| Error::Input {
            path: path.display().to_string(),
            msg: format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::Config(format!("{key} = {}: no such file", path.display())))
        }
        Err(e) => Err(Error::io(path, e)),
    }
}
