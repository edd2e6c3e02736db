//! Teams and rotations (SPEC §1.3): `teams.yaml`. Time zones are IANA names
//! validated against the tz database; business hours are `HH:MM-HH:MM`
//! (default 08:00–18:00, Mon–Fri). A bad entry is skipped with a warning
//! naming the file and entry, and counted.

use std::path::Path;

use chrono::NaiveTime;
use chrono_tz::Tz;
use serde::Deserialize;

use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub name: String,
    pub timezone: Tz,
    pub business_start: NaiveTime,
    pub business_end: NaiveTime,
    pub members: Vec<String>,
    pub rotation_members: Vec<String>,
    pub shift_hours: f64,
    pub sites: u32,
    pub chat: Option<String>,
}

impl Team {
    /// A team known only from incidents or the catalog: UTC, default hours.
    pub fn default_named(name: &str) -> Team {
        Team {
            name: name.to_string(),
            timezone: Tz::UTC,
            business_start: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            business_end: NaiveTime::from_hms_opt(18, 0, 0).unwrap(),
            members: vec![],
            rotation_members: vec![],
            shift_hours: 168.0,
            sites: 1,
            chat: None,
        }
    }

    /// People who take primary shifts (the rotation, else all members).
    pub fn rotation(&self) -> &[String] {
        if self.rotation_members.is_empty() { &self.members } else { &self.rotation_members }
    }

    pub fn rotation_size(&self) -> usize {
        self.rotation().len()
    }
}

#[derive(Debug, Default)]
pub struct Teams {
    pub teams: Vec<Team>,
    pub problems: Vec<String>,
    pub skipped: usize,
}

impl Teams {
    pub fn get(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.name == name)
    }
}

// Extra keys (a manager, a pager policy…) are allowed and ignored.
#[derive(Debug, Deserialize)]
struct RawRotation {
    #[serde(default)]
    members: Vec<String>,
    shift_hours: Option<f64>,
    sites: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct RawTeam {
    name: String,
    timezone: Option<String>,
    business_hours: Option<String>,
    #[serde(default)]
    members: Vec<String>,
    rotation: Option<RawRotation>,
    chat: Option<String>,
}

/// Parses `HH:MM-HH:MM`.
pub fn parse_hours(s: &str) -> std::result::Result<(NaiveTime, NaiveTime), String> {
    let (a, b) = s.split_once('-').ok_or_else(|| format!("business_hours {s:?}: expected HH:MM-HH:MM"))?;
    let p = |x: &str| {
        NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| format!("business_hours {s:?}: {x:?} is not HH:MM"))
    };
    let (a, b) = (p(a)?, p(b)?);
    if b <= a {
        return Err(format!("business_hours {s:?}: the end must be after the start"));
    }
    Ok((a, b))
}

fn team_from_raw(r: RawTeam) -> std::result::Result<Team, String> {
    if r.name.trim().is_empty() {
        return Err("empty name".into());
    }
    let timezone = match r.timezone.as_deref() {
        None => Tz::UTC,
        Some(z) => z.parse::<Tz>().map_err(|_| format!("timezone {z:?} is not an IANA time zone"))?,
    };
    let (business_start, business_end) = parse_hours(r.business_hours.as_deref().unwrap_or("08:00-18:00"))?;
    let (rotation_members, shift_hours, sites) = match r.rotation {
        Some(rot) => (rot.members, rot.shift_hours.unwrap_or(168.0), rot.sites.unwrap_or(1)),
        None => (vec![], 168.0, 1),
    };
    if shift_hours <= 0.0 {
        return Err(format!("rotation.shift_hours {shift_hours} must be positive"));
    }
    Ok(Team {
        name: r.name.trim().to_string(),
        timezone,
        business_start,
        business_end,
        members: r.members,
        rotation_members,
        shift_hours,
        sites: sites.max(1),
        chat: r.chat,
    })
}

pub fn read(path: &Path) -> Result<Teams> {
    let text = crate::input::read_input(path, "teams.path")?;
    if text.trim().is_empty() {
        return Err(Error::Config(format!("teams.path = {}: the file is empty", path.display())));
    }
    let teams = read_str(&text, &path.display().to_string())?;
    if teams.teams.is_empty() && teams.skipped == 0 {
        return Err(Error::Config(format!("teams.path = {}: the file lists no team", path.display())));
    }
    Ok(teams)
}

pub fn read_str(text: &str, file: &str) -> Result<Teams> {
    let items: Vec<serde_yaml_ng::Value> = serde_yaml_ng::from_str(text)
        .map_err(|e| Error::Input { path: file.to_string(), msg: format!("expected a list of teams: {e}") })?;
    let mut out = Teams::default();
    for (i, item) in items.into_iter().enumerate() {
        let r = serde_yaml_ng::from_value::<RawTeam>(item).map_err(|e| e.to_string()).and_then(team_from_raw);
        match r {
            Ok(t) if out.get(&t.name).is_some() => {
                out.problems.push(format!("{file}: team {} ({:?}) is listed twice; the first is kept", i + 1, t.name));
                out.skipped += 1;
            }
            Ok(t) => out.teams.push(t),
            Err(msg) => {
                tracing::warn!("skipping team {} in {file}: {msg}", i + 1);
                out.problems.push(format!("{file}: team {} skipped: {msg}", i + 1));
                out.skipped += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teams_with_a_bad_zone_are_skipped() {
        let t = read_str(
            "- name: a\n  timezone: Europe/Berlin\n  members: [x, y]\n  rotation: { members: [x], shift_hours: 12, sites: 2 }\n\
             - name: b\n  timezone: Mars/Olympus\n- name: c\n  business_hours: \"09:30-17:00\"\n",
            "teams.yaml",
        )
        .unwrap();
        assert_eq!(t.teams.len(), 2);
        assert_eq!(t.skipped, 1);
        assert!(t.problems[0].contains("Mars/Olympus"));
        assert_eq!(t.teams[0].rotation_size(), 1);
        assert_eq!(t.teams[0].shift_hours, 12.0);
        assert_eq!(t.teams[1].business_start, NaiveTime::from_hms_opt(9, 30, 0).unwrap());
    }
}
