//! What a run writes never overlaps what it reads (§4): `output.dir`,
//! `output.state_dir` and every input must not be, or lie inside, one
//! another — an `--out` inside the span tree would be read back as input
//! next night, a state dir equal to the output would be replaced with the
//! report.

use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// `p` made absolute and free of `.`/`..`, with the longest part that
/// exists resolved through its links (so two spellings of one folder
/// compare equal).
fn resolved(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                clean.pop();
            }
            Component::CurDir => {}
            other => clean.push(other),
        }
    }
    let mut rest = vec![];
    let mut head = clean.as_path();
    loop {
        if let Ok(real) = head.canonicalize() {
            return rest.iter().rev().fold(real, |acc: PathBuf, part| acc.join(part));
        }
        match (head.parent(), head.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                head = parent;
            }
            _ => return clean,
        }
    }
}

/// The folder a span `path` (file, folder or glob) reads under.
pub fn span_root(path: &str) -> Option<PathBuf> {
    if path.contains("://") {
        return None;
    }
    let p = Path::new(path);
    let fixed: PathBuf = p.components().take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '['])).collect();
    Some(fixed)
}

fn overlap(a: &Path, b: &Path) -> bool {
    let (a, b) = (resolved(a), resolved(b));
    a.starts_with(&b) || b.starts_with(&a)
}

/// Refuses overlapping outputs and inputs, naming both keys.
pub fn check(writes: &[(&str, &Path)], reads: &[(&str, &Path)]) -> Result<()> {
    for (k, (wk, w)) in writes.iter().enumerate() {
        for (ok, o) in writes[k + 1..].iter().chain(reads) {
            if overlap(w, o) {
                return Err(Error::Config(format!(
                    "{wk} = {} and {ok} = {} overlap: ownermap never writes where it reads, and keeps its output and state apart",
                    w.display(),
                    o.display()
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_inside_an_input_or_the_state_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let spans = d.path().join("spans");
        std::fs::create_dir_all(&spans).unwrap();
        let (out, state) = (d.path().join("out"), d.path().join("state"));
        check(&[("output.dir", &out), ("output.state_dir", &state)], &[("spans.path", &spans)]).unwrap();
        for (w, r) in [(spans.join("out"), spans.clone()), (spans.clone(), spans.clone()), (d.path().join("x/../spans/./y"), spans.clone())] {
            let e = check(&[("output.dir", &w), ("output.state_dir", &state)], &[("spans.path", &r)]).unwrap_err().to_string();
            assert!(e.contains("output.dir") && e.contains("spans.path"), "{e}");
        }
        let e = check(&[("output.dir", &out), ("output.state_dir", &out)], &[]).unwrap_err().to_string();
        assert!(e.contains("output.state_dir"), "{e}");
        // A state dir holding the output is an overlap too.
        assert!(check(&[("output.dir", &state.join("out")), ("output.state_dir", &state)], &[]).is_err());
        assert_eq!(span_root("/data/spans/date=*/x.parquet"), Some(PathBuf::from("/data/spans")));
        assert_eq!(span_root("s3://bucket/spans/"), None);
    }
}
