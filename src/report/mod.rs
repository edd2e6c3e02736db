//! HTML pages (SPEC §3), rendered with Tera from `reports/`. Autoescaping is
//! on for every `.html` template: every value from input data is escaped.

use std::path::Path;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use serde::Serialize;
use tera::{Context, Tera};

use crate::engine::Table;
use crate::error::{Error, Result};
use crate::pipeline::RunResult;

const INDEX: &str = include_str!("../../reports/index.html");
const CSS: &str = include_str!("../../reports/style.css");

/// A table as strings for templates: header and rows.
#[derive(Debug, Serialize)]
pub struct TextTable {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Formats a result table for display (floats to 2 decimals).
pub fn text_table(t: &Table) -> Result<TextTable> {
    let columns = t.schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Vec::new();
    let opts = FormatOptions::default().with_null("");
    for b in &t.batches {
        rows.extend(batch_rows(b, &opts)?);
    }
    Ok(TextTable { columns, rows })
}

fn batch_rows(b: &RecordBatch, opts: &FormatOptions) -> Result<Vec<Vec<String>>> {
    let fmts = b
        .columns()
        .iter()
        .map(|c| ArrayFormatter::try_new(c.as_ref(), opts))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut rows = Vec::with_capacity(b.num_rows());
    for i in 0..b.num_rows() {
        rows.push(
            fmts.iter()
                .zip(b.columns())
                .map(|(f, c)| {
                    let s = f.value(i).to_string();
                    match c.data_type() {
                        dt if dt.is_floating() && !c.is_null(i) => {
                            s.parse::<f64>().map(|v| format!("{v:.2}")).unwrap_or(s)
                        }
                        _ => s,
                    }
                })
                .collect(),
        );
    }
    Ok(rows)
}

fn tera() -> Result<Tera> {
    let mut t = Tera::default();
    t.add_raw_template("index.html", INDEX).map_err(|e| Error::Other(format!("template index.html: {e}")))?;
    t.autoescape_on(vec![".html"]);
    Ok(t)
}

/// Writes `index.html` and the stylesheet.
pub fn write_index(dir: &Path, result: &RunResult) -> Result<()> {
    let mut ctx = Context::new();
    ctx.insert("summary", &result.summary);
    for (name, table) in &result.tables {
        if matches!(*name, "services" | "edges") {
            ctx.insert(*name, &text_table(table)?);
        }
    }
    let html = tera()?.render("index.html", &ctx).map_err(|e| Error::Other(format!("rendering index.html: {e:?}")))?;
    let p = dir.join("index.html");
    std::fs::write(&p, html).map_err(|e| Error::io(&p, e))?;
    let p = dir.join("style.css");
    std::fs::write(&p, CSS).map_err(|e| Error::io(&p, e))?;
    Ok(())
}
