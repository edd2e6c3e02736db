//! Writing outputs (SPEC §3): every table as `data/<name>.parquet` and
//! `data/<name>.csv`, `summary.json`; the report marker, the checks made
//! before publishing (ownermap replaces only its own reports) and the
//! locks. The swap itself is [`crate::atomic`].

use std::fs::File;
use std::path::{Path, PathBuf};

use datafusion::arrow::csv::WriterBuilder;
use datafusion::parquet::arrow::ArrowWriter;

use crate::table::Table;
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

/// The file every report carries: ownermap publishes only into a path
/// that does not exist or that holds this marker, so it never deletes a
/// folder it did not create.
pub const REPORT_MARKER: &str = ".ownermap-report";

/// Writes the marker into a report being built.
pub fn write_marker(dir: &Path) -> Result<()> {
    let p = dir.join(REPORT_MARKER);
    let text = format!("This folder is an ownermap report; the next run replaces it whole.\nownermap {}\n", env!("CARGO_PKG_VERSION"));
    std::fs::write(&p, text).map_err(|e| Error::io(&p, e))
}

/// Whether `dir` is a report an earlier ownermap wrote: it has the marker,
/// or (reports from before the marker existed) exactly the shape of one:
/// `index.html`, `summary.json` and `data/summary.json`.
fn is_report(dir: &Path) -> bool {
    dir.join(REPORT_MARKER).is_file()
        || (dir.join("index.html").is_file() && dir.join("summary.json").is_file() && dir.join("data/summary.json").is_file())
}

/// Resolves the output path once: a symlink is followed (the report is
/// published at its target, so a served link stays current), a relative
/// path made absolute. The result is where the lock is taken.
pub fn resolve_out(out: &Path) -> Result<PathBuf> {
    let mut path = out.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&path).map_err(|e| Error::io(&path, e))?;
                path = crate::atomic::parent_of(&path).join(link);
            }
            _ => break,
        }
    }
    if path.exists() {
        return path.canonicalize().map_err(|e| Error::io(&path, e));
    }
    let parent = crate::atomic::parent_of(&path);
    std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    let parent = parent.canonicalize().map_err(|e| Error::io(parent, e))?;
    match path.file_name() {
        Some(n) if n != ".." => Ok(parent.join(n)),
        _ => Err(Error::Refused(format!("output path {}: not a folder name", out.display()))),
    }
}

/// Refuses (exit 2) to publish over anything that is not an ownermap
/// report: an existing file, or a folder without the marker.
pub fn check_target(target: &Path) -> Result<()> {
    match std::fs::symlink_metadata(target) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() && is_report(target) => Ok(()),
        Ok(m) => Err(Error::Refused(format!(
            "refusing to publish into {}: it exists and is not an ownermap report ({}); \
             name a new folder (or one an earlier run wrote) in --out or output.dir",
            target.display(),
            if m.is_dir() { format!("no {REPORT_MARKER} file in it") } else { "it is a file".to_string() }
        ))),
    }
}

/// An exclusive lock on `.<name>.lock` beside a path, so two runs never
/// write one output or one state dir. Taken on the resolved path: a run
/// through a symlink and one through its target exclude each other. A
/// killed run's lock is released by the kernel with its file handle.
pub struct OutputLock {
    _file: File,
}

impl OutputLock {
    /// Takes the exclusive lock, or fails at once naming the lock file.
    pub fn acquire(path: &Path) -> Result<OutputLock> {
        Self::take(path, true)
    }

    /// Takes a shared lock (readers that do not write).
    pub fn shared(path: &Path) -> Result<OutputLock> {
        Self::take(path, false)
    }

    fn take(path: &Path, exclusive: bool) -> Result<OutputLock> {
        let parent = crate::atomic::parent_of(path);
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        let lock = parent.join(format!(".{name}.lock"));
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock)
            .map_err(|e| Error::io(&lock, e))?;
        let r = if exclusive { file.try_lock() } else { file.try_lock_shared() };
        match r {
            Ok(()) => {
                // The holder's run id names what it leaves beside its
                // targets (crate::atomic): a run that finds one of another
                // id knows it is a dead run's.
                if exclusive {
                    let mut f = &file;
                    let _ = f.set_len(0).and_then(|()| std::io::Write::write_all(&mut f, format!("{}\n", crate::atomic::run_id()).as_bytes()));
                }
                Ok(OutputLock { _file: file })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(Error::Locked(lock)),
            Err(std::fs::TryLockError::Error(e)) => Err(Error::io(&lock, e)),
        }
    }
}

/// The lock of a state dir (its canonical path when it exists).
pub fn lock_state(state_dir: &Path, exclusive: bool) -> Result<OutputLock> {
    std::fs::create_dir_all(state_dir).map_err(|e| Error::io(state_dir, e))?;
    let canon = state_dir.canonicalize().map_err(|e| Error::io(state_dir, e))?;
    OutputLock::take(&canon, exclusive)
}
