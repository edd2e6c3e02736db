//! Names from input data are untrusted (SPEC §3): every file name made from
//! a service or team name goes through [`slug`], and every label drawn in a
//! box or chart through [`short`]. The report and the generated
//! configuration both take them from here, so one name has one file name.

/// A file-name-safe, collision-free slug for an untrusted name.
pub fn slug(name: &str) -> String {
    let mut s = String::new();
    for c in name.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            s.push(c);
        } else if !s.ends_with('-') {
            s.push('-');
        }
        if s.len() >= 48 {
            break;
        }
    }
    let s = s.trim_matches('-');
    let h = crate::hash::fnv1a(name.as_bytes());
    format!("{}-{:08x}", if s.is_empty() { "x" } else { s }, h as u32)
}

/// Shortens a label for charts and graph boxes (full name in tooltips).
pub fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).collect::<String>() + "…" }
}
