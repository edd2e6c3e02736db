//! Writing outputs (SPEC §3): every table as `data/<name>.parquet` and
//! `data/<name>.csv`, `summary.json`, and atomic publication: the whole
//! directory is built in a temporary sibling and renamed into place, so a
//! failed run leaves the previous report whole.

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::csv::WriterBuilder;
use datafusion::parquet::arrow::ArrowWriter;

use crate::engine::Table;
use crate::error::{Error, Result};

/// Writes one table as Parquet and CSV into `dir`.
pub fn write_table(dir: &Path, name: &str, table: &Table) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let pq = dir.join(format!("{name}.parquet"));
    let f = File::create(&pq).map_err(|e| Error::io(&pq, e))?;
    let mut w = ArrowWriter::try_new(f, table.schema.clone(), None)?;
    for b in &table.batches {
        w.write(b)?;
    }
    w.close()?;
    let csv = dir.join(format!("{name}.csv"));
    let f = File::create(&csv).map_err(|e| Error::io(&csv, e))?;
    let mut w = WriterBuilder::new().with_header(true).build(f);
    if table.batches.is_empty() {
        // The header alone still names the columns.
        let empty = datafusion::arrow::array::RecordBatch::new_empty(table.schema.clone());
        w.write(&empty)?;
    }
    for b in &table.batches {
        w.write(b)?;
    }
    Ok(())
}

/// A directory being built next to its final place.
pub struct Staging {
    pub tmp: PathBuf,
    target: PathBuf,
}

impl Staging {
    /// Creates an empty temporary sibling of `target`.
    pub fn new(target: &Path) -> Result<Staging> {
        let parent = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Staging { tmp, target: target.to_path_buf() })
    }

    /// Swaps the built directory into place.
    pub fn publish(self) -> Result<()> {
        let old = self.tmp.with_extension("old");
        if self.target.exists() {
            std::fs::rename(&self.target, &old).map_err(|e| Error::io(&self.target, e))?;
        }
        std::fs::rename(&self.tmp, &self.target).map_err(|e| Error::io(&self.target, e))?;
        if old.exists() {
            let _ = std::fs::remove_dir_all(&old);
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        // A run that failed before publishing leaves nothing behind.
        if self.tmp.exists() {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

/// An exclusive lock on `<out>.lock` so two runs never write one output.
pub struct OutputLock {
    _file: File,
}

impl OutputLock {
    pub fn acquire(out: &Path) -> Result<OutputLock> {
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let name = out.file_name().and_then(|n| n.to_str()).unwrap_or("out");
        let path = parent.join(format!(".{name}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(OutputLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(path)),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }
}
