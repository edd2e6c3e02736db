//! The expertise and happiness survey (SPEC §1.7): `survey.csv` with the
//! columns `person, service, expertise, happiness, answered_on`. Per
//! (person, service) the latest `answered_on` counts (ties: the later row);
//! a person's happiness is the one of their latest row that states one
//! (ties: the later row). A row with a value out of range, an unparseable
//! date or no person/service is skipped, named (file, line, field) and
//! counted; a missing column is an error naming the file and the column.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use crate::error::Result;

/// One usable row.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub person: String,
    pub service: String,
    pub expertise: i64,
    pub happiness: Option<i64>,
    pub answered_on: NaiveDate,
}

#[derive(Debug, Default, Clone)]
pub struct Survey {
    /// every usable row, in file order
    pub rows: Vec<Answer>,
    pub problems: Vec<String>,
    pub skipped: usize,
}

impl Survey {
    /// The answer that counts per (person, service).
    pub fn latest(&self) -> BTreeMap<(String, String), &Answer> {
        let mut out: BTreeMap<(String, String), &Answer> = BTreeMap::new();
        for a in &self.rows {
            let k = (a.person.clone(), a.service.clone());
            // `>=`: a later row wins a tie.
            if out.get(&k).is_none_or(|b| a.answered_on >= b.answered_on) {
                out.insert(k, a);
            }
        }
        out
    }

    /// Each person's latest happiness (rows without one are ignored).
    pub fn happiness(&self) -> BTreeMap<String, i64> {
        let mut out: BTreeMap<String, (NaiveDate, i64)> = BTreeMap::new();
        for a in &self.rows {
            if let Some(h) = a.happiness {
                if out.get(&a.person).is_none_or(|(d, _)| a.answered_on >= *d) {
                    out.insert(a.person.clone(), (a.answered_on, h));
                }
            }
        }
        out.into_iter().map(|(p, (_, h))| (p, h)).collect()
    }

    /// Whether `person` is an expert on `service` at `level`.
    pub fn experts(&self, level: i64) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for ((person, service), a) in self.latest() {
            if a.expertise >= level {
                out.entry(service).or_default().push(person);
            }
        }
        out
    }
}

const COLUMNS: [&str; 5] = ["person", "service", "expertise", "happiness", "answered_on"];

/// Reads `survey.csv`.
pub fn read(path: &Path) -> Result<Survey> {
    let text = crate::input::read_input(path, "survey.path")?;
    parse(&text, &path.display().to_string())
}

fn parse_row(get: &dyn Fn(&str) -> String) -> std::result::Result<Answer, String> {
    let person = get("person");
    let service = get("service");
    if person.is_empty() {
        return Err("person is empty".into());
    }
    if service.is_empty() {
        return Err("service is empty".into());
    }
    let level = get("expertise");
    let expertise = level
        .parse::<i64>()
        .ok()
        .filter(|e| (0..=3).contains(e))
        .ok_or_else(|| format!("expertise {level:?} is not 0, 1, 2 or 3"))?;
    let h = get("happiness");
    let happiness = match h.as_str() {
        "" => None,
        v => Some(v.parse::<i64>().ok().filter(|h| (1..=5).contains(h)).ok_or_else(|| format!("happiness {v:?} is not 1 to 5"))?),
    };
    let d = get("answered_on");
    // A date, or the date of an RFC 3339 time.
    let answered_on = NaiveDate::parse_from_str(&d, "%Y-%m-%d")
        .ok()
        .or_else(|| chrono::DateTime::parse_from_rfc3339(&d).ok().map(|t| t.date_naive()))
        .ok_or_else(|| format!("answered_on {d:?} is not a date like 2026-11-02"))?;
    Ok(Answer { person, service, expertise, happiness, answered_on })
}

/// Parses the survey text (`file` names it in messages).
pub fn parse(text: &str, file: &str) -> Result<Survey> {
    let mut out = Survey::default();
    // The columns' positions, found once from the header.
    let mut idx: [Option<usize>; 5] = [None; 5];
    let (problems, skipped) = crate::input::read_csv_rows(text, file, "survey", &COLUMNS, |line, headers, rec| {
        if idx[0].is_none() {
            idx = COLUMNS.map(|c| headers.iter().position(|h| h == c));
        }
        let get = |c: &str| {
            let i = COLUMNS.iter().position(|x| *x == c).and_then(|k| idx[k]);
            i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string()
        };
        match parse_row(&get) {
            Ok(a) => out.rows.push(a),
            Err(msg) => {
                tracing::warn!("skipping survey line {line} in {file}: {msg}");
                out.problems.push(format!("{file}: line {line} skipped: {msg}"));
                out.skipped += 1;
            }
        }
    })?;
    // Records the reader could not parse come after the rows' own problems.
    out.problems.extend(problems);
    out.skipped += skipped;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "person,service,expertise,happiness,answered_on\n";

    #[test]
    fn the_latest_answer_counts_and_a_tie_goes_to_the_later_row() {
        let text = format!(
            "{HEAD}ana,checkout,3,4,2026-10-01\n\
             ana,checkout,1,2,2026-11-01\n\
             ben,checkout,0,,2026-11-01\n\
             ben,checkout,2,5,2026-11-01\n\
             ben,cart,3,,2026-09-01\n"
        );
        let s = parse(&text, "survey.csv").unwrap();
        assert_eq!((s.rows.len(), s.skipped), (5, 0));
        let l = s.latest();
        assert_eq!(l[&("ana".into(), "checkout".into())].expertise, 1);
        assert_eq!(l[&("ben".into(), "checkout".into())].expertise, 2);
        assert_eq!(l[&("ben".into(), "cart".into())].expertise, 3);
        // Happiness: ana's latest row says 2; ben's only stated one is 5.
        let h = s.happiness();
        assert_eq!((h["ana"], h["ben"]), (2, 5));
        let e = s.experts(2);
        assert_eq!(e.get("checkout"), Some(&vec!["ben".to_string()]));
        assert_eq!(e.get("cart"), Some(&vec!["ben".to_string()]));
    }

    #[test]
    fn out_of_range_rows_are_skipped_and_named() {
        let text = format!(
            "{HEAD}ana,checkout,4,3,2026-11-01\n\
             ana,cart,2,6,2026-11-01\n\
             ana,db,2,0,2026-11-01\n\
             ana,x,-1,,2026-11-01\n\
             ,x,1,,2026-11-01\n\
             ana,y,1,,yesterday\n\
             ana,z,1,,2026-11-01\n"
        );
        let s = parse(&text, "survey.csv").unwrap();
        assert_eq!((s.rows.len(), s.skipped), (1, 6));
        assert!(s.problems[0].contains("survey.csv: line 2") && s.problems[0].contains("expertise"), "{:?}", s.problems);
        assert!(s.problems[1].contains("line 3") && s.problems[1].contains("happiness"), "{:?}", s.problems);
        assert!(s.problems[5].contains("answered_on"), "{:?}", s.problems);
    }

    #[test]
    fn a_missing_column_is_an_error_naming_it() {
        let e = parse("person,service,expertise,answered_on\n", "s.csv").unwrap_err();
        assert!(e.to_string().contains("happiness") && e.to_string().contains("s.csv"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }
}
