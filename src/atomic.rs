//! Atomic publication of directories (SPEC §4 "The nightly job's
//! guarantees"): the report, a history week and a cache entry are each
//! built in a hidden sibling folder and swapped into place in one step, so
//! at every instant a reader sees the old contents or the new, whole.
//!
//! One routine serves all three. On Linux the swap is
//! `renameat2(RENAME_EXCHANGE)`: the new folder takes the target's name and
//! the old one takes the staging name, atomically; the old one is then
//! deleted. Where the filesystem cannot exchange (or off Linux) two renames
//! are the fallback, and a run killed between them leaves the old folder
//! under a name the next run restores.
//!
//! Everything a run creates beside its target is named
//! `.<target name>.<tag>-<run id>` ([`run_id`]: unique per run, written
//! into the lock file it holds). Every writer holds the target's lock, so
//! a leftover of another run id is a dead run's: the next run removes it
//! ([`clean_leftovers`]) — whatever process ids the two runs had (in a
//! container every run may be pid 1). Nothing else is ever deleted.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The parent folder of `path` ("." for a bare name).
pub fn parent_of(path: &Path) -> &Path {
    path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into())
}

/// This run's id: its process id and start time, unique across runs and
/// containers (`r<pid>x<nanoseconds, hex>`; no `-`, so it ends a name).
pub fn run_id() -> &'static str {
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        format!("r{}x{nanos:x}", std::process::id())
    })
}

/// Whether a leftover named with `id` is another run's. Its owner is
/// gone: every writer holds the lock of what it writes, and this run does.
pub fn is_other_run(id: &str) -> bool {
    id != run_id()
}

/// The hidden sibling `.<name>.<tag>-<run id>` of `target`.
fn sibling(target: &Path, tag: &str) -> PathBuf {
    parent_of(target).join(format!(".{}.{tag}-{}", name_of(target), run_id()))
}

/// Test-only fault injection: when `OWNERMAP_TEST_FAULT` names `point`, the
/// operation there fails as a full disk would. The integration tests use it
/// to prove that a failure at any point of publishing leaves the previous
/// report and history whole.
pub fn fault(point: &str, path: &Path) -> Result<()> {
    match std::env::var("OWNERMAP_TEST_FAULT") {
        Ok(v) if v.split(',').any(|p| p == point) => Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::StorageFull, format!("injected fault at {point}")),
        )),
        _ => Ok(()),
    }
}

/// The staging and old folders of dead runs in `dir` whose names start
/// with `prefix`: (`tmp` or `old`, path).
fn dead_leftovers(dir: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    let Ok(rd) = std::fs::read_dir(dir) else { return vec![] };
    rd.flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let (head, id) = n.strip_prefix(prefix)?.rsplit_once('-')?;
            let tag = ["tmp", "old"].into_iter().find(|t| head == *t || head.ends_with(&format!(".{t}")))?;
            is_other_run(id).then(|| (tag.to_string(), e.path()))
        })
        .collect()
}

/// Removes what dead runs left beside `target` (staging folders and old
/// contents named `.<name>.tmp-<id>` / `.<name>.old-<id>`); call it holding
/// the target's lock. If a run died
/// between the two renames of the fallback swap, the target is missing and
/// its old contents are put back first.
pub fn clean_leftovers(target: &Path) {
    let prefix = format!(".{}.", name_of(target));
    // Only this target's own (`.<name>.<tag>-<pid>`, not `.<name>.x.<tag>-<pid>`).
    let dead: Vec<_> = dead_leftovers(parent_of(target), &prefix)
        .into_iter()
        .filter(|(t, p)| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with(&format!("{prefix}{t}-"))))
        .collect();
    if std::fs::symlink_metadata(target).is_err() {
        if let Some((_, old)) = dead.iter().find(|(t, _)| t == "old") {
            if std::fs::rename(old, target).is_ok() {
                tracing::info!("restored {} from a run that died while publishing", target.display());
            }
        }
    }
    for (_, p) in dead {
        if p.exists() {
            remove_path(&p);
        }
    }
}

/// Removes every staging or old folder (`.<name>.tmp-<id>`,
/// `.<name>.old-<id>`) of dead runs in `dir` (holding its lock).
pub fn clean_dead_in(dir: &Path) {
    for (_, p) in dead_leftovers(dir, ".") {
        remove_path(&p);
    }
}

fn remove_path(p: &Path) {
    let r = match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(_) => Ok(()),
    };
    if let Err(e) = r {
        tracing::warn!("could not remove {}: {e}", p.display());
    }
}

/// A folder being built beside its final place.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
}

impl Staged {
    /// Creates the empty hidden sibling of `target` (after removing what
    /// dead runs left there).
    pub fn new(target: &Path) -> Result<Staged> {
        let parent = parent_of(target);
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        clean_leftovers(target);
        let tmp = sibling(target, "tmp");
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        }
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        Ok(Staged { tmp, target: target.to_path_buf() })
    }

    /// Where to write the new contents.
    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Puts the new contents in place in one step. The previous contents
    /// are kept aside until [`Swapped::commit`] (or put back by
    /// [`Swapped::undo`]).
    pub fn swap(self) -> Result<Swapped> {
        let can_exchange = std::env::var_os("OWNERMAP_TEST_NO_EXCHANGE").is_none();
        self.swap_with(can_exchange)
    }

    fn swap_with(self, can_exchange: bool) -> Result<Swapped> {
        fault("swap", &self.target)?;
        let tmp = self.tmp.clone();
        let target = self.target.clone();
        // Disarm the drop: from here on the folder is the Swapped's.
        std::mem::forget(self);
        if std::fs::symlink_metadata(&target).is_err() {
            std::fs::rename(&tmp, &target).map_err(|e| {
                let _ = std::fs::remove_dir_all(&tmp);
                Error::io(&target, e)
            })?;
            return Ok(Swapped { target, old: None });
        }
        let exchanged = if can_exchange { exchange(&tmp, &target) } else { Err(std::io::ErrorKind::Unsupported.into()) };
        match exchanged {
            Ok(()) => Ok(Swapped { target, old: Some(tmp) }),
            Err(e) if exchange_unsupported(&e) => {
                let old = sibling(&target, "old");
                std::fs::rename(&target, &old).map_err(|e| {
                    let _ = std::fs::remove_dir_all(&tmp);
                    Error::io(&target, e)
                })?;
                if let Err(e) = std::fs::rename(&tmp, &target) {
                    let _ = std::fs::rename(&old, &target);
                    let _ = std::fs::remove_dir_all(&tmp);
                    return Err(Error::io(&target, e));
                }
                Ok(Swapped { target, old: Some(old) })
            }
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                Err(Error::io(&target, e))
            }
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Never published: the half-built folder goes.
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

/// New contents in place, the previous ones kept aside.
#[must_use = "commit() deletes the previous contents; undo() puts them back"]
#[derive(Debug)]
pub struct Swapped {
    target: PathBuf,
    old: Option<PathBuf>,
}

impl Swapped {
    /// Deletes the previous contents.
    pub fn commit(self) {
        if let Some(old) = &self.old {
            remove_path(old);
        }
    }

    /// Puts the previous contents back (the new ones are deleted).
    pub fn undo(self) -> Result<()> {
        match &self.old {
            None => std::fs::remove_dir_all(&self.target).map_err(|e| Error::io(&self.target, e)),
            Some(old) => {
                match exchange(old, &self.target) {
                    Ok(()) => {}
                    Err(e) if exchange_unsupported(&e) => {
                        let new = sibling(&self.target, "tmp");
                        std::fs::rename(&self.target, &new).map_err(|e| Error::io(&self.target, e))?;
                        std::fs::rename(old, &self.target).map_err(|e| Error::io(&self.target, e))?;
                        remove_path(&new);
                        return Ok(());
                    }
                    Err(e) => return Err(Error::io(&self.target, e)),
                }
                remove_path(old);
                Ok(())
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let ca = CString::new(a.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    let cb = CString::new(b.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them
    // relative to the working directory like std::fs::rename does.
    let r = unsafe { libc::renameat2(libc::AT_FDCWD, ca.as_ptr(), libc::AT_FDCWD, cb.as_ptr(), libc::RENAME_EXCHANGE) };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// The filesystem (or OS) cannot exchange two names: use two renames.
fn exchange_unsupported(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::Unsupported || e.raw_os_error().is_some_and(is_einval_or_enosys)
}

#[cfg(target_os = "linux")]
fn is_einval_or_enosys(code: i32) -> bool {
    code == libc::EINVAL || code == libc::ENOSYS || code == libc::EOPNOTSUPP
}

#[cfg(not(target_os = "linux"))]
fn is_einval_or_enosys(_: i32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(p: &Path) -> String {
        std::fs::read_to_string(p.join("f")).unwrap()
    }

    fn stage(target: &Path, text: &str) -> Staged {
        let s = Staged::new(target).unwrap();
        std::fs::write(s.path().join("f"), text).unwrap();
        s
    }

    #[test]
    fn swap_replaces_whole_and_commit_removes_old() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out");
        stage(&t, "one").swap().unwrap().commit();
        assert_eq!(read(&t), "one");
        stage(&t, "two").swap().unwrap().commit();
        assert_eq!(read(&t), "two");
        let names: Vec<_> = std::fs::read_dir(d.path()).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out")], "nothing left beside the target");
    }

    #[test]
    fn undo_puts_the_old_contents_back() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out");
        stage(&t, "one").swap().unwrap().commit();
        let s = stage(&t, "two").swap().unwrap();
        assert_eq!(read(&t), "two");
        s.undo().unwrap();
        assert_eq!(read(&t), "one");
        // A first publication undone leaves nothing.
        let t2 = d.path().join("fresh");
        stage(&t2, "x").swap().unwrap().undo().unwrap();
        assert!(!t2.exists());
    }

    #[test]
    fn the_two_rename_fallback_swaps_and_undoes_too() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out");
        stage(&t, "one").swap_with(false).unwrap().commit();
        stage(&t, "two").swap_with(false).unwrap().commit();
        assert_eq!(read(&t), "two");
        stage(&t, "three").swap_with(false).unwrap().undo().unwrap();
        assert_eq!(read(&t), "two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn dropped_staging_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out");
        drop(stage(&t, "one"));
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn leftovers_of_dead_runs_are_removed_and_a_lost_target_restored() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("out");
        // Another run's leftovers: a pid-named one (older builds) and one
        // of pid 1, alive in a container, which counted as running before.
        let dead = |tag: &str, id: &str| d.path().join(format!(".out.{tag}-{id}"));
        for (tag, id) in [("tmp", "0"), ("old", "r1x17a2b3c4d5e6f")] {
            let p = dead(tag, id);
            std::fs::create_dir_all(p.join("sub")).unwrap();
            std::fs::write(p.join("f"), tag).unwrap();
        }
        let other = d.path().join(".out.keep-0");
        std::fs::create_dir_all(&other).unwrap();
        clean_leftovers(&t);
        assert_eq!(read(&t), "old", "the target lost between two renames comes back");
        assert!(!dead("tmp", "0").exists());
        assert!(other.exists(), "names ownermap does not make are left alone");
    }
}
