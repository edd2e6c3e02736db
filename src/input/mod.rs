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

/// Reads CSV text with a header row (names trimmed and lower-cased): a
/// missing `required` column is an error naming the file and the column
/// (`what` says whose: "incident", "survey"); each record goes to `row`
/// with the header and the physical line it starts on (a quoted field may
/// span lines), as an editor shows it; a record the reader cannot parse is
/// skipped and named in `problems`. Returns (problems, records skipped).
pub fn read_csv_rows(
    text: &str,
    file: &str,
    what: &str,
    required: &[&str],
    mut row: impl FnMut(u64, &[String], &csv::StringRecord),
) -> Result<(Vec<String>, usize)> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::Input { path: file.into(), msg: format!("header: {e}") })?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    for r in required {
        if !headers.iter().any(|h| h == r) {
            return Err(Error::Schema { path: file.into(), msg: format!("missing required {what} column {r}") });
        }
    }
    let (mut problems, mut skipped) = (vec![], 0);
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(true) => row(rec.position().map(|p| p.line()).unwrap_or(0), &headers, &rec),
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map(|p| p.line().to_string()).unwrap_or_else(|| "?".into());
                problems.push(format!("{file}: line {line} skipped: {e}"));
                skipped += 1;
                if e.is_io_error() {
                    break;
                }
            }
        }
    }
    Ok((problems, skipped))
}
