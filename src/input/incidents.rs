//! Incidents (SPEC §1.4): `incidents.csv`, and PagerDuty Analytics raw
//! incidents (JSON, or CSV with those field names). Rows that cannot be
//! used (no id, unparseable `created_at`) are skipped with a warning naming
//! the file and row, and counted; a missing required column is an error
//! naming the file and the column.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use crate::config::IncidentFormat;
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub service: String,
    /// The team column as written (empty when absent).
    pub team: Option<String>,
    pub severity: String,
    /// `urgency` high (or empty) is a page.
    pub page: bool,
    pub created_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub responders: usize,
    pub trace_id: Option<String>,
    /// `users_impacted` (0 when empty)
    pub users_impacted: i64,
    /// the postmortem reference (a link or an id; None when empty)
    pub postmortem: Option<String>,
    /// open longer than `[incidents] max_duration`: still a page, but
    /// left out of MTTA, MTTR and interruption hours (§4)
    pub implausible: bool,
}

impl Incident {
    /// A page on `service` created at `created_at` (tests build on it).
    pub fn page(id: &str, service: &str, created_at: DateTime<Utc>) -> Incident {
        Incident {
            id: id.into(),
            title: String::new(),
            service: service.into(),
            team: None,
            severity: String::new(),
            page: true,
            created_at,
            acknowledged_at: None,
            resolved_at: None,
            responders: 0,
            trace_id: None,
            users_impacted: 0,
            postmortem: None,
            implausible: false,
        }
    }
}

#[derive(Debug, Default)]
pub struct Incidents {
    pub incidents: Vec<Incident>,
    pub problems: Vec<String>,
    /// rows skipped whole
    pub skipped: usize,
    /// fields ignored in rows that were kept (a time before `created_at`)
    pub fields_skipped: usize,
    /// incidents open longer than `[incidents] max_duration`
    pub implausible: usize,
}

impl Incidents {
    /// Flags the incidents resolved more than `max` after they were
    /// created (a forgotten page, a broken export): kept as pages, left out
    /// of the times (§4), each named once.
    pub fn flag_implausible(&mut self, max: Duration, file: &str) {
        for i in &mut self.incidents {
            if i.resolved_at.is_some_and(|r| r - i.created_at > max) {
                i.implausible = true;
                self.implausible += 1;
                let msg = format!("{file}: incident {}: open longer than incidents.max_duration ({} days); left out of MTTA, MTTR and interruption hours", i.id, max.num_days());
                tracing::warn!("{msg}");
                self.problems.push(msg);
            }
        }
    }
}

fn parse_time(s: &str) -> std::result::Result<Option<DateTime<Utc>>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| format!("{s:?} is not an RFC 3339 time"))
}

/// The longest duration a PagerDuty record may state (100 years).
const MAX_SECONDS: f64 = 100.0 * 366.0 * 86_400.0;

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// Reads incidents in the configured format.
pub fn read(path: &Path, format: &IncidentFormat) -> Result<Incidents> {
    let file = path.display().to_string();
    let text = crate::input::read_input(path, "incidents.path")?;
    match format {
        IncidentFormat::Csv => read_csv(&text, &file, false),
        IncidentFormat::PagerDuty if text.trim_start().starts_with(['{', '[']) => read_pagerduty_json(&text, &file),
        IncidentFormat::PagerDuty => read_csv(&text, &file, true),
    }
}

/// A row as field name → value, whatever the source.
type Row = HashMap<String, String>;

fn incident_from_row(row: &Row, pagerduty: bool) -> std::result::Result<Incident, String> {
    let get = |k: &str| row.get(k).map(String::as_str).unwrap_or("");
    let created = parse_time(get("created_at"))?.ok_or("created_at is empty")?;
    let id = non_empty(get("id")).ok_or("id is empty")?;
    // PagerDuty durations: finite, not negative, and no longer than a
    // century (anything else is a broken export, not a slow responder).
    let secs = |k: &str| -> std::result::Result<Option<DateTime<Utc>>, String> {
        let v = get(k).trim();
        if v.is_empty() {
            return Ok(None);
        }
        let s: f64 = v.parse().map_err(|_| format!("{k} {v:?} is not a number"))?;
        if !s.is_finite() || !(0.0..=MAX_SECONDS).contains(&s) {
            return Err(format!("{k} {v:?} is out of range (0 to {MAX_SECONDS} seconds)"));
        }
        Duration::try_milliseconds((s * 1000.0) as i64)
            .and_then(|d| created.checked_add_signed(d))
            .map(Some)
            .ok_or_else(|| format!("{k} {v:?} is out of range"))
    };
    if pagerduty {
        let responders = match non_empty(get("assigned_user_names")) {
            Some(names) => names.split([';', ',']).filter(|s| !s.trim().is_empty()).count(),
            None => get("engaged_user_count").trim().parse().unwrap_or(0),
        };
        let resolved = match parse_time(get("resolved_at"))? {
            Some(t) => Some(t),
            None => secs("seconds_to_resolve")?,
        };
        let service = non_empty(get("service_name")).ok_or("service_name is empty")?;
        return Ok(Incident {
            id,
            title: get("description").to_string(),
            service,
            team: non_empty(get("team_name")),
            severity: get("priority_name").to_string(),
            page: !get("urgency").trim().eq_ignore_ascii_case("low"),
            created_at: created,
            acknowledged_at: secs("seconds_to_first_ack")?,
            resolved_at: resolved,
            responders,
            trace_id: None,
            users_impacted: 0,
            postmortem: None,
            implausible: false,
        });
    }
    let service = non_empty(get("service")).ok_or("service is empty")?;
    Ok(Incident {
        id,
        title: get("title").to_string(),
        service,
        team: non_empty(get("team")),
        severity: get("severity").to_string(),
        page: !get("urgency").trim().eq_ignore_ascii_case("low"),
        created_at: created,
        acknowledged_at: parse_time(get("acknowledged_at"))?,
        resolved_at: parse_time(get("resolved_at"))?,
        responders: get("responders").split(';').filter(|s| !s.trim().is_empty()).count(),
        trace_id: non_empty(get("trace_id")),
        // Checked in `push_row`: a bad value drops the field, not the page.
        users_impacted: users_impacted(get("users_impacted")).unwrap_or(0),
        postmortem: non_empty(get("postmortem")),
        implausible: false,
    })
}

/// `users_impacted`: empty is 0; else a whole number ≥ 0 (None: unusable).
fn users_impacted(v: &str) -> Option<i64> {
    match v.trim() {
        "" => Some(0),
        v => v.parse::<i64>().ok().filter(|n| *n >= 0),
    }
}

fn push_row(out: &mut Incidents, row: &Row, pagerduty: bool, file: &str, what: String) {
    match incident_from_row(row, pagerduty) {
        Ok(mut i) => {
            if let Some(v) = row.get("users_impacted").filter(|v| users_impacted(v).is_none()) {
                let msg = format!("{file}: {what}: users_impacted {v:?} is not a whole number ≥ 0; field ignored");
                tracing::warn!("{msg}");
                out.problems.push(msg);
                out.fields_skipped += 1;
            }
            // A time before the page was created is a broken record: the
            // field is dropped (the incident still counts), and said so.
            for (field, t) in [("acknowledged_at", &mut i.acknowledged_at), ("resolved_at", &mut i.resolved_at)] {
                if t.is_some_and(|t| t < i.created_at) {
                    let msg = format!("{file}: {what}: {field} is before created_at; field ignored");
                    tracing::warn!("{msg}");
                    out.problems.push(msg);
                    out.fields_skipped += 1;
                    *t = None;
                }
            }
            out.incidents.push(i)
        }
        Err(msg) => {
            tracing::warn!("skipping incident {what} in {file}: {msg}");
            out.problems.push(format!("{file}: {what} skipped: {msg}"));
            out.skipped += 1;
        }
    }
}

fn read_csv(text: &str, file: &str, pagerduty: bool) -> Result<Incidents> {
    let required: &[&str] = if pagerduty { &["id", "created_at", "service_name"] } else { &["id", "service", "created_at"] };
    let mut out = Incidents::default();
    let (problems, skipped) = crate::input::read_csv_rows(text, file, "incident", required, |line, headers, rec| {
        let row: Row = headers.iter().cloned().zip(rec.iter().map(str::to_string)).collect();
        push_row(&mut out, &row, pagerduty, file, format!("line {line}"));
    })?;
    out.problems.extend(problems);
    out.skipped += skipped;
    Ok(out)
}

fn json_to_string(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(json_to_string).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}

fn read_pagerduty_json(text: &str, file: &str) -> Result<Incidents> {
    let v: Value = serde_json::from_str(text).map_err(|e| Error::Input {
        path: file.into(),
        msg: format!("line {}, column {}: {e}", e.line(), e.column()),
    })?;
    let items = match &v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("data").or_else(|| o.get("incidents")) {
            Some(Value::Array(a)) => a.clone(),
            _ => return Err(Error::Input { path: file.into(), msg: "expected a list, or an object with `data`".into() }),
        },
        _ => return Err(Error::Input { path: file.into(), msg: "expected a list of incidents".into() }),
    };
    let mut out = Incidents::default();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(o) = item else {
            out.problems.push(format!("{file}: record {} skipped: not an object", i + 1));
            out.skipped += 1;
            continue;
        };
        let row: Row = o.iter().map(|(k, v)| (k.to_ascii_lowercase(), json_to_string(v))).collect();
        push_row(&mut out, &row, true, file, format!("record {}", i + 1));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_and_bad_rows() {
        let text = "id,title,service,team,severity,urgency,created_at,acknowledged_at,resolved_at,responders,users_impacted,trace_id,postmortem\n\
                    I1,t,checkout,,SEV1,,2026-11-20T10:00:00Z,2026-11-20T10:05:00Z,2026-11-20T11:00:00+01:00,a;b,3,ABC,\n\
                    I2,t,checkout,store,SEV2,low,yesterday,,,,,,\n";
        let r = read_csv(text, "incidents.csv", false).unwrap();
        assert_eq!(r.incidents.len(), 1);
        assert_eq!(r.skipped, 1);
        assert!(r.problems[0].contains("line 3"));
        let i = &r.incidents[0];
        assert!(i.page);
        assert_eq!(i.responders, 2);
        assert_eq!(i.resolved_at.unwrap().to_rfc3339(), "2026-11-20T10:00:00+00:00");
    }

    #[test]
    fn warnings_name_the_physical_line_after_a_multi_line_field() {
        let text = "id,title,service,created_at\n\
                    I1,\"two\nlines\",checkout,2026-11-20T10:00:00Z\n\
                    I2,t,checkout,not-a-time\n";
        let r = read_csv(text, "incidents.csv", false).unwrap();
        assert_eq!((r.incidents.len(), r.skipped), (1, 1));
        assert!(r.problems[0].contains("line 4"), "{:?}", r.problems);
    }

    #[test]
    fn pagerduty_durations_must_be_finite_and_in_range() {
        let rec = |v: &str| format!(r#"[{{"id": "Q", "created_at": "2026-11-20T10:00:00Z", "service_name": "db", "seconds_to_first_ack": {v}}}]"#);
        for bad in ["1e18", "-1e18", "-1", "\"inf\"", "\"NaN\""] {
            let r = read_pagerduty_json(&rec(bad), "pd.json").unwrap();
            assert_eq!((r.incidents.len(), r.skipped), (0, 1), "{bad}");
            assert!(r.problems[0].contains("record 1") && r.problems[0].contains("seconds_to_first_ack"), "{:?}", r.problems);
        }
        let r = read_pagerduty_json(&rec("0"), "pd.json").unwrap();
        assert_eq!(r.incidents[0].acknowledged_at, Some(r.incidents[0].created_at));
    }

    #[test]
    fn missing_required_column_names_it() {
        let err = read_csv("id,title\n", "x.csv", false).unwrap_err();
        assert!(err.to_string().contains("service"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn pagerduty_json_maps_fields() {
        let text = r#"{"data": [{"id": "Q1", "description": "db down", "urgency": "high",
            "created_at": "2026-11-20T10:00:00Z", "service_name": "db", "team_name": "data",
            "seconds_to_first_ack": 120, "seconds_to_resolve": 3600, "engaged_user_count": 3}]}"#;
        let r = read_pagerduty_json(text, "pd.json").unwrap();
        let i = &r.incidents[0];
        assert_eq!(i.acknowledged_at.unwrap().to_rfc3339(), "2026-11-20T10:02:00+00:00");
        assert_eq!(i.resolved_at.unwrap().to_rfc3339(), "2026-11-20T11:00:00+00:00");
        assert_eq!(i.responders, 3);
        assert_eq!(i.team.as_deref(), Some("data"));
    }
}
