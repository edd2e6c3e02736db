//! The organisation as the analyses see it: catalog, teams and incidents,
//! with the ownership rules of SPEC §1.4 and §2.2 in one place.

use std::collections::BTreeSet;

use crate::input::catalog::Catalog;
use crate::input::incidents::Incident;
use crate::input::teams::{Team, Teams};

pub const UNOWNED: &str = "(unowned)";

#[derive(Debug, Default)]
pub struct Org {
    pub catalog: Catalog,
    pub teams: Teams,
    pub incidents: Vec<Incident>,
    /// the expertise and happiness survey, when configured (SPEC §1.7)
    pub survey: Option<crate::input::survey::Survey>,
}

impl Org {
    /// A service's team: its catalog owner, or `(unowned)` (SPEC §2.2).
    pub fn service_team(&self, service: &str) -> String {
        match self.catalog.owner(service) {
            Some(Some(t)) => t.to_string(),
            _ => UNOWNED.to_string(),
        }
    }

    /// An incident's team (SPEC §1.4): its own team column when set, else
    /// the catalog owner of its service, else `(unowned)`.
    pub fn incident_team(&self, i: &Incident) -> String {
        match &i.team {
            Some(t) => t.clone(),
            None => self.service_team(&i.service),
        }
    }

    /// Team settings for a name (teams.yaml, or UTC defaults).
    pub fn team(&self, name: &str) -> Team {
        self.teams.get(name).cloned().unwrap_or_else(|| Team::default_named(name))
    }

    /// Catalog entries owned by a team (`(unowned)`: entries with no owner).
    pub fn services_owned(&self, team: &str) -> Vec<String> {
        self.catalog
            .entries
            .iter()
            .filter(|e| e.team.as_deref().unwrap_or(UNOWNED) == team)
            .map(|e| e.name.clone())
            .collect()
    }

    /// Names in teams.yaml, in file order.
    pub fn known_teams(&self) -> Vec<String> {
        self.teams.teams.iter().map(|t| t.name.clone()).collect()
    }

    /// Every team name mentioned anywhere, sorted.
    pub fn all_team_names(&self) -> BTreeSet<String> {
        let mut s: BTreeSet<String> = self.known_teams().into_iter().collect();
        s.extend(self.catalog.entries.iter().filter_map(|e| e.team.clone()));
        s
    }

    /// The team a user named: the exact name, else the one team whose name
    /// matches ignoring case; an unknown or ambiguous name is a usage error
    /// that lists the teams there are.
    pub fn resolve_team(&self, name: &str) -> crate::error::Result<String> {
        let all = self.all_team_names();
        if all.contains(name) {
            return Ok(name.to_string());
        }
        let like: Vec<&String> = all.iter().filter(|t| t.eq_ignore_ascii_case(name)).collect();
        if let [one] = like.as_slice() {
            return Ok((*one).clone());
        }
        let list = all.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
        Err(crate::error::Error::Refused(format!("unknown team {name:?}; the teams are: {list}")))
    }
}
