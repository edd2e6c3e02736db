//! How one file's columns map onto the canonical ones (SPEC §1.1): names
//! and aliases, accepted types, units, the SpanKind/StatusCode spellings,
//! the callee attributes — turned into the SQL select list that normalises
//! that file, with the pseudo-column [`BAD`] saying why a row is unusable.

use std::collections::BTreeMap;

use datafusion::arrow::datatypes::{DataType, Schema, TimeUnit};

use crate::canonical::{CANONICAL_COLUMNS, column_aliases};
use crate::config::{Sampling, SpanFormat, SpansConfig};
use crate::error::{Error, Result};

/// How a file's columns map onto the canonical ones.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Resolved {
    /// canonical name → (actual column name, type)
    cols: BTreeMap<&'static str, (String, DataType)>,
}

pub(super) fn resolve_columns(schema: &Schema, cfg: &SpansConfig, file: &str) -> Result<Resolved> {
    let find = |name: &str| {
        schema
            .fields()
            .iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .map(|f| (f.name().clone(), f.data_type().clone()))
    };
    let mut cols = BTreeMap::new();
    for &canon in CANONICAL_COLUMNS {
        let mapped = cfg.columns.iter().find(|(k, _)| k.eq_ignore_ascii_case(canon)).map(|(_, v)| v);
        let found = match mapped {
            Some(user) => find(user),
            None => std::iter::once(canon).chain(column_aliases(canon).iter().copied()).find_map(find),
        };
        match found {
            Some(f) => {
                cols.insert(canon, f);
            }
            None if matches!(canon, "SpanAttributes" | "ResourceAttributes") => {}
            None if canon == "ServiceName" && cfg.service_from.is_some() => {}
            // Flat CSV dumps often carry no kind or status (SPEC §1.5, Nezha).
            None if matches!(canon, "SpanKind" | "StatusCode") && cfg.format == SpanFormat::Csv => {}
            None => {
                let want = mapped.cloned().unwrap_or_else(|| canon.to_string());
                return Err(Error::Schema {
                    path: file.to_string(),
                    msg: format!("missing required span column {want} (SPEC §1.1)"),
                });
            }
        }
    }
    // Optional: where the OpenTelemetry sampling threshold lives (§2.14).
    if let Some(f) = ["TraceState", "trace_state"].into_iter().find_map(find) {
        cols.insert("TraceState", f);
    }
    // Optional: span links (§2.2), as ClickHouse's parallel `Nested` lists
    // or one column of structs or JSON text.
    if let (Some(t), Some(sp)) = (find("Links.TraceId"), find("Links.SpanId")) {
        cols.insert("Links.TraceId", t);
        cols.insert("Links.SpanId", sp);
    } else if let Some(f) = find("Links") {
        cols.insert("Links", f);
    }
    if let Some(sf) = &cfg.service_from {
        let f = find(&sf.column).ok_or_else(|| Error::Schema {
            path: file.to_string(),
            msg: format!("missing column {} named by spans.service_from", sf.column),
        })?;
        cols.insert("ServiceFrom", f);
    }
    Ok(Resolved { cols })
}

fn q(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(super) fn sql_str(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn is_string(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_string(v),
        _ => false,
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_)
    )
}

fn is_int(t: &DataType) -> bool {
    t.is_integer()
}

fn wrong_type(file: &str, col: &str, t: &DataType, want: &str) -> Error {
    Error::Schema { path: file.to_string(), msg: format!("column {col} has type {t}, expected {want}") }
}

/// SQL expressions producing the canonical normalised columns of one source.
pub(super) fn select_list(r: &Resolved, cfg: &SpansConfig, file: &str) -> Result<Vec<(String, &'static str)>> {
    let col = |c: &str| r.cols.get(c).cloned();
    let mut out = Vec::new();

    let (name, t) = col("Timestamp").unwrap();
    let ts = match &t {
        DataType::Timestamp(unit, _) => {
            let f = match unit {
                TimeUnit::Second => 1_000_000_000,
                TimeUnit::Millisecond => 1_000_000,
                TimeUnit::Microsecond => 1_000,
                TimeUnit::Nanosecond => 1,
            };
            format!("arrow_cast({}, 'Int64') * {f}", q(&name))
        }
        t if is_int(t) => format!("CAST({} AS BIGINT) * {}", q(&name), cfg.timestamp_unit.to_ns()),
        t if is_string(t) && cfg.format == SpanFormat::Csv => {
            format!("TRY_CAST({} AS BIGINT) * {}", q(&name), cfg.timestamp_unit.to_ns())
        }
        _ => return Err(wrong_type(file, &name, &t, "a timestamp or int64 nanoseconds")),
    };
    out.push((ts, "start_ns"));

    for (canon, alias) in [("TraceId", "trace_id"), ("SpanId", "span_id"), ("ParentSpanId", "parent_id")] {
        let (name, t) = col(canon).unwrap();
        let base = if is_string(&t) {
            format!("om_id(CAST({} AS VARCHAR))", q(&name))
        } else if is_binary(&t) {
            format!("om_bin_id(arrow_cast({}, 'Binary'))", q(&name))
        } else {
            // An integer id would be read as the hex spelling of its
            // decimal digits: some other id, joining spans of different
            // traces. Refused, naming the file and the column.
            return Err(wrong_type(file, &name, &t, "a hex string or binary id"));
        };
        let expr = match (&cfg.root_parent, canon) {
            (Some(root), "ParentSpanId") if is_string(&t) => format!(
                "CASE WHEN CAST({} AS VARCHAR) = {} THEN NULL ELSE {base} END",
                q(&name),
                sql_str(root)
            ),
            _ => base,
        };
        out.push((expr, alias));
    }

    let (name, t) = col("Duration").unwrap();
    let f = cfg.duration_unit.to_ns();
    let dur = if is_int(&t) {
        format!("CAST({} AS BIGINT) * {f}", q(&name))
    } else if matches!(t, DataType::Float32 | DataType::Float64) || (is_string(&t) && cfg.format == SpanFormat::Csv) {
        format!("CAST(round(TRY_CAST({} AS DOUBLE) * {f}) AS BIGINT)", q(&name))
    } else {
        return Err(wrong_type(file, &name, &t, "int64 nanoseconds"));
    };
    out.push((dur, "duration_ns"));

    let service = match (&cfg.service_from, col("ServiceFrom")) {
        (Some(sf), Some((name, _))) => format!(
            "COALESCE(regexp_match(CAST({c} AS VARCHAR), {re})[1], CAST({c} AS VARCHAR))",
            c = q(&name),
            re = sql_str(&sf.regex)
        ),
        _ => {
            let (name, t) = col("ServiceName").unwrap();
            if !is_string(&t) {
                return Err(wrong_type(file, &name, &t, "a string"));
            }
            format!("CAST({} AS VARCHAR)", q(&name))
        }
    };
    out.push((service, "service"));

    let (name, t) = col("SpanName").unwrap();
    if !is_string(&t) {
        return Err(wrong_type(file, &name, &t, "a string"));
    }
    out.push((format!("CAST({} AS VARCHAR)", q(&name)), "name"));

    let kind = match col("SpanKind") {
        None => "CAST(0 AS TINYINT)".to_string(),
        Some((name, t)) => kind_expr(&name, &t, file)?,
    };
    out.push((kind, "kind"));

    let err = match col("StatusCode") {
        None => "false".to_string(),
        Some((name, t)) => error_expr(&name, &t, file)?,
    };
    out.push((err, "is_error"));
    let kind = out.iter().find(|(_, a)| *a == "kind").map(|(e, _)| e.clone()).unwrap_or_default();
    attributes(&r.cols, &kind, cfg, &mut out);
    out.push((links_expr(r, cfg), "links"));
    out.push((bad_row_expr(r), BAD));
    Ok(out)
}

/// The pseudo-column of a select list that holds why a row cannot be
/// used (NULL when it can): filtered on, never selected.
pub(super) const BAD: &str = "bad";

/// Why a span row cannot be used (SPEC §1.1 lists what each column
/// accepts), as a reason code, or NULL: an empty or NULL `TraceId`, a NULL
/// `Timestamp`, a negative `Duration`, a `SpanKind` or `StatusCode` that is
/// none of the spellings the SPEC accepts. A NULL or empty kind or status
/// means Unspecified / Unset and is fine.
pub(super) fn bad_row_expr(r: &Resolved) -> String {
    let col = |c: &str| r.cols.get(c).cloned();
    let mut checks: Vec<(String, &str)> = vec![];
    if let Some((name, t)) = col("TraceId") {
        let c = q(&name);
        let empty = if is_string(&t) {
            format!("om_blank(CAST({c} AS VARCHAR))")
        } else if is_binary(&t) {
            format!("{c} IS NULL OR arrow_cast({c}, 'Binary') = X''")
        } else {
            format!("{c} IS NULL")
        };
        checks.push((empty, "empty_trace_id"));
    }
    if let Some((name, t)) = col("Timestamp") {
        let c = q(&name);
        let null = if is_string(&t) { format!("TRY_CAST({c} AS BIGINT) IS NULL") } else { format!("{c} IS NULL") };
        checks.push((null, "null_timestamp"));
    }
    if let Some((name, t)) = col("Duration") {
        let c = q(&name);
        let neg = if is_int(&t) { format!("{c} < 0") } else { format!("TRY_CAST({c} AS DOUBLE) < 0") };
        checks.push((neg, "negative_duration"));
        if t == DataType::UInt64 {
            // ClickHouse writes Duration as UInt64: a value past i64::MAX
            // (a broken clock) is a bad row, not a failed run.
            checks.push((format!("{c} > arrow_cast({}, 'UInt64')", i64::MAX), "duration_too_large"));
        }
    }
    // A string spelling none of the accepted words: the functions give NULL.
    let spelled = |name: &str, t: &DataType, f: &str, max: i32| -> String {
        let c = q(name);
        if is_int(t) { format!("{c} < 0 OR {c} > {max}") } else { format!("{f}(CAST({c} AS VARCHAR)) IS NULL") }
    };
    if let Some((name, t)) = col("SpanKind") {
        checks.push((spelled(&name, &t, "om_kind", 5), "unknown_span_kind"));
    }
    if let Some((name, t)) = col("StatusCode") {
        checks.push((spelled(&name, &t, "om_status", 2), "unknown_status_code"));
    }
    let whens: Vec<String> = checks.iter().map(|(cond, code)| format!("WHEN {cond} THEN '{code}'")).collect();
    format!("CASE {} END", whens.join(" "))
}

/// What a reason code of [`bad_row_expr`] means, for messages.
pub fn bad_row_reason(code: &str) -> &str {
    match code {
        "empty_trace_id" => "empty TraceId",
        "null_timestamp" => "no Timestamp",
        "negative_duration" => "negative Duration",
        "duration_too_large" => "Duration beyond int64",
        "unknown_span_kind" => "unknown SpanKind",
        "unknown_status_code" => "unknown StatusCode",
        BAD_ATTRIBUTES => "attributes that are not JSON (spans kept, without attributes)",
        other => other,
    }
}

fn kind_expr(name: &str, t: &DataType, file: &str) -> Result<String> {
    let kind = if is_string(t) {
        format!("COALESCE(om_kind(CAST({} AS VARCHAR)), 0)", q(name))
    } else if is_int(t) {
        format!("CAST(CASE WHEN {c} BETWEEN 0 AND 5 THEN {c} ELSE 0 END AS TINYINT)", c = q(name))
    } else {
        return Err(wrong_type(file, name, t, "a span kind string or int 0-5"));
    };
    Ok(kind)
}

fn error_expr(name: &str, t: &DataType, file: &str) -> Result<String> {
    let err = if is_string(t) {
        format!("COALESCE(om_status(CAST({} AS VARCHAR)) = 2, false)", q(name))
    } else if is_int(t) {
        format!("COALESCE({} = 2, false)", q(name))
    } else {
        return Err(wrong_type(file, name, t, "a status string or int 0-2"));
    };
    Ok(err)
}

/// Virtual-node name and type, and the environment, from the attribute
/// columns: maps (the exporter's map mode) or JSON text (its JSON mode,
/// Parquet only: a CSV column is not taken for JSON). The callee
/// attributes are found in one pass over each Client/Producer span's
/// attributes (`om_vnode`, `om_vtype`); the environment is looked up only
/// when a run filters on it. JSON text that does not parse is flagged in
/// the pseudo-column [`BAD_ATTRIBUTES`] (the span is kept).
fn attributes(cols: &BTreeMap<&'static str, (String, DataType)>, kind: &str, cfg: &SpansConfig, out: &mut Vec<(String, &'static str)>) {
    let (need_env, json_ok) = (cfg.environment.is_some(), cfg.format == SpanFormat::Parquet);
    let form = |canon: &str| -> Option<(String, AttrForm)> {
        let (name, t) = cols.get(canon)?;
        match t {
            DataType::Map(_, _) => Some((q(name), AttrForm::Map)),
            t if json_ok && is_string(t) => Some((format!("CAST({} AS VARCHAR)", q(name)), AttrForm::Json)),
            _ => None,
        }
    };
    let attr = |canon: &str, key: &str| -> String {
        match form(canon) {
            Some((c, AttrForm::Map)) => format!("NULLIF(CAST({c}[{}] AS VARCHAR), '')", sql_str(key)),
            Some((c, AttrForm::Json)) => format!("om_json_attr({c}, {})", sql_str(key)),
            None => "CAST(NULL AS VARCHAR)".to_string(),
        }
    };
    match form("SpanAttributes") {
        Some((c, _)) => {
            let kind = format!("CAST({kind} AS TINYINT)");
            out.push((format!("om_vnode({c}, {kind})"), "vnode"));
            out.push((format!("om_vtype({c}, {kind})"), "vtype"));
        }
        None => {
            out.push(("CAST(NULL AS VARCHAR)".to_string(), "vnode"));
            out.push(("'external'".to_string(), "vtype"));
        }
    }
    // §2.14: each span's sampling evidence, from TraceState and the span
    // attributes (the trace's deciding span is chosen in trace_stats.sql).
    let state = cols.get("TraceState").filter(|(_, t)| is_string(t)).map(|(n, _)| format!("CAST({} AS VARCHAR)", q(n)));
    let span_attrs = form("SpanAttributes").map(|(c, _)| c);
    match (cfg.sampling, &state, &span_attrs) {
        (Sampling::Off, ..) | (_, None, None) => {
            out.push(("CAST(NULL AS DOUBLE)".to_string(), "sample_weight"));
            out.push(("CAST(NULL AS TINYINT)".to_string(), "sample_rule"));
        }
        _ => {
            let null = "CAST(NULL AS VARCHAR)".to_string();
            let args = format!("{}, {}", state.unwrap_or_else(|| null.clone()), span_attrs.unwrap_or(null));
            // The rule is read again only where a key was found (the
            // engine evaluates the weight once for both): unsampled spans
            // pay for one pass over their attributes, not two.
            out.push((format!("om_sample_weight({args})"), "sample_weight"));
            out.push((format!("CASE WHEN om_sample_weight({args}) IS NOT NULL THEN om_sample_rule({args}) END"), "sample_rule"));
        }
    }
    let env = if need_env {
        format!(
            "COALESCE({}, {})",
            attr("ResourceAttributes", "deployment.environment.name"),
            attr("ResourceAttributes", "deployment.environment")
        )
    } else {
        "CAST(NULL AS VARCHAR)".to_string()
    };
    out.push((env, "env"));
    let bad: Vec<String> = ["SpanAttributes", "ResourceAttributes"]
        .into_iter()
        .filter_map(|c| match form(c) {
            Some((c, AttrForm::Json)) => Some(format!("om_json_bad({c})")),
            _ => None,
        })
        .collect();
    if !bad.is_empty() {
        out.push((bad.join(" OR "), BAD_ATTRIBUTES));
    }
}

/// The span's link keys (§2.2, `om_links`), from whichever form the file
/// has; NULL for a file without links, a CSV file, or a column of another
/// type (links are optional: a column we cannot read is not an error).
fn links_expr(r: &Resolved, cfg: &SpansConfig) -> String {
    let is_list = |t: &DataType| matches!(t, DataType::List(_) | DataType::LargeList(_));
    let none = "om_links(NULL)".to_string();
    if cfg.format != SpanFormat::Parquet {
        return none;
    }
    match (r.cols.get("Links.TraceId"), r.cols.get("Links.SpanId"), r.cols.get("Links")) {
        (Some((t, tt)), Some((s, st)), _) if is_list(tt) && is_list(st) => format!("om_links({}, {})", q(t), q(s)),
        (_, _, Some((l, lt))) if is_list(lt) => match lt {
            DataType::List(f) | DataType::LargeList(f) if matches!(f.data_type(), DataType::Struct(_)) => format!("om_links({})", q(l)),
            _ => none,
        },
        (_, _, Some((l, lt))) if is_string(lt) => format!("om_links(CAST({} AS VARCHAR))", q(l)),
        _ => none,
    }
}

/// How an attribute column is stored.
enum AttrForm {
    Map,
    Json,
}

/// The pseudo-column of a select list that is true for a span whose JSON
/// attributes do not parse (counted, never selected; the span is kept).
/// Present only when a file has JSON attribute columns.
pub(super) const BAD_ATTRIBUTES: &str = "bad_attributes";

/// Whether a select-list entry is a pseudo-column (counted, not selected).
pub(super) fn is_pseudo(alias: &str) -> bool {
    alias == BAD || alias == BAD_ATTRIBUTES
}
