//! `ownermap plan` (SPEC §4): a team's verdicts over the 4 verdict weeks
//! at a what-if rotation size, and the best two-way split.

mod common;

use common::*;

#[test]
fn plan_prints_a_what_if_and_finds_teams_in_any_case() {
    let dir = tmp();
    let cfg = front_back_org(dir.path());
    let plan = ownermap(&["plan", "--config", &cfg, "--team", "front", "--rotation-size", "9"]);
    assert!(plan.status.success(), "{}", String::from_utf8_lossy(&plan.stderr));
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("rotation of 9 (what-if)") && text.contains("underloaded"), "{text}");
    assert_eq!(ownermap(&["plan", "--config", &cfg, "--team", "nobody"]).status.code(), Some(2));
    // A team named in another case is found; an unknown one lists the teams.
    let plan = ownermap(&["plan", "--config", &cfg, "--team", "FRONT"]);
    assert!(plan.status.success() && String::from_utf8_lossy(&plan.stdout).starts_with("Team front"), "{}", String::from_utf8_lossy(&plan.stderr));
}

#[test]
fn an_unknown_team_is_refused_listing_the_teams() {
    let dir = tmp();
    let cfg = front_back_org(dir.path());
    let o = ownermap(&["plan", "--config", &cfg, "--team", "nosuch"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("unknown team \"nosuch\"") && e.contains("back, front"), "{e}");
}
