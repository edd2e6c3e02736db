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

/// The most bytes of one input value the report shows (SPEC §4): a longer
/// name is cut there with an ellipsis (the tables keep it whole), so the
/// report's size grows with the number of services, not with the length
/// of their names.
pub const MAX_SHOWN_BYTES: usize = 256;

/// `s` cut to at most [`MAX_SHOWN_BYTES`] bytes (on a character boundary)
/// plus an ellipsis when it is longer.
pub fn bounded(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_SHOWN_BYTES {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut end = MAX_SHOWN_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!("{}…", &s[..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_name_is_cut_on_a_character_boundary() {
        assert_eq!(bounded("checkout"), "checkout");
        let exact = "a".repeat(MAX_SHOWN_BYTES);
        assert_eq!(bounded(&exact), exact.as_str());
        let long = "é".repeat(MAX_SHOWN_BYTES); // two bytes each
        let cut = bounded(&long);
        assert!(cut.ends_with('…') && cut.len() <= MAX_SHOWN_BYTES + '…'.len_utf8(), "{}", cut.len());
        assert_eq!(cut.chars().filter(|&c| c == 'é').count(), MAX_SHOWN_BYTES / 2);
    }
}
