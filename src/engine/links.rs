//! Span links (SPEC §2.2 "Links"): a batch consumer's span has no parent in
//! its producers' traces and a link to each message's producer span
//! instead. Links are read while the spans are normalised, whatever form
//! the file gives them, into one column of **link keys**; a producer span
//! gets the same key, so resolving a link is an equality join, on one day
//! or across days, with no re-reading of spans.
//!
//! - `om_links(...) -> LIST<BINARY>`: the link keys of each span, NULL
//!   when it has none. Accepts the forms SPEC §1.1 names:
//!   `om_links(trace_ids, span_ids)` for ClickHouse's parallel `Nested`
//!   list columns (`Links.TraceId`, `Links.SpanId`; hex strings or
//!   binary); `om_links(links)` for a list of structs with `TraceId` and
//!   `SpanId` fields (any case, or `trace_id`/`span_id`), or for JSON text
//!   (an array of objects with `traceId`/`spanId`, as OTLP JSON and the
//!   importers write); `om_links(NULL)` for a file with no links.
//! - `om_link_key(trace_id BINARY, span_id BINARY) -> BINARY`: the key of a
//!   span, from its canonical ids (`om_id`).
//!
//! A key is the trace id's length (one byte), the trace id, then the span
//! id, all canonical (hex decoded as `om_id` does), so the two ids cannot
//! run into each other. A link whose trace or span id is empty gives a key
//! no span has: it stays unresolved.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryBuilder, ListBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, exec_err};
use datafusion::prelude::SessionContext;

use super::udf::{Strs, array_fn, canonical_id_from_bytes, canonical_id_from_str, variadic_array_fn};

/// The key of the span (trace id, span id): see the module docs.
pub fn link_key(trace: Option<&[u8]>, span: Option<&[u8]>) -> Vec<u8> {
    match (trace, span) {
        (Some(t), Some(s)) if !t.is_empty() && t.len() < 256 && !s.is_empty() => {
            let mut k = Vec::with_capacity(1 + t.len() + s.len());
            k.push(t.len() as u8);
            k.extend_from_slice(t);
            k.extend_from_slice(s);
            k
        }
        // No span has an empty id (om_id makes it NULL): never matches.
        _ => vec![0],
    }
}

/// One id element of a link, canonical: hex text decoded, binary kept.
fn id_at(a: &dyn Array, i: usize) -> Option<Vec<u8>> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Utf8 => canonical_id_from_str(a.as_string::<i32>().value(i)),
        DataType::Binary => canonical_id_from_bytes(a.as_binary::<i32>().value(i)),
        _ => None,
    }
}

/// The type [`id_at`] reads ids of `t` as: `Binary` for any binary type,
/// else `Utf8` (text ids).
fn id_type(t: &DataType) -> DataType {
    match t {
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => DataType::Binary,
        _ => DataType::Utf8,
    }
}

/// A list column with its elements cast to [`id_type`].
fn list_of_ids(a: &ArrayRef, what: &str) -> Result<ArrayRef> {
    let (DataType::List(f) | DataType::LargeList(f)) = a.data_type() else {
        return exec_err!("om_links: {what} is {}, expected a list", a.data_type());
    };
    Ok(cast(a, &DataType::List(Arc::new(Field::new_list_field(id_type(f.data_type()), true))))?)
}

/// The keys of each row; a row is ended with `append(any)`: NULL when it
/// holds no link.
fn keys_builder() -> ListBuilder<BinaryBuilder> {
    ListBuilder::new(BinaryBuilder::new())
}

/// `Links.TraceId`, `Links.SpanId`: parallel lists.
fn from_parallel(traces: &ArrayRef, spans: &ArrayRef) -> Result<ArrayRef> {
    let (traces, spans) = (list_of_ids(traces, "Links.TraceId")?, list_of_ids(spans, "Links.SpanId")?);
    let (traces, spans) = (traces.as_list::<i32>(), spans.as_list::<i32>());
    let mut out = keys_builder();
    for i in 0..traces.len() {
        let mut any = false;
        if !traces.is_null(i) && !spans.is_null(i) {
            let (t, s) = (traces.value(i), spans.value(i));
            for j in 0..t.len().min(s.len()) {
                out.values().append_value(link_key(id_at(&t, j).as_deref(), id_at(&s, j).as_deref()));
                any = true;
            }
        }
        out.append(any);
    }
    Ok(Arc::new(out.finish()))
}

/// A list of structs with trace and span id fields.
fn from_structs(links: &ArrayRef) -> Result<ArrayRef> {
    let list = links.as_list::<i32>();
    let DataType::Struct(fields) = list.value_type() else {
        return exec_err!("om_links: expected a list of structs, got {}", links.data_type());
    };
    let find = |names: [&str; 2]| fields.iter().position(|f| names.iter().any(|n| f.name().eq_ignore_ascii_case(n)));
    let (Some(ti), Some(si)) = (find(["TraceId", "trace_id"]), find(["SpanId", "span_id"])) else {
        return exec_err!("om_links: the link structs have no TraceId/SpanId fields");
    };
    let to_ids = |a: &ArrayRef| -> Result<ArrayRef> { Ok(cast(a, &id_type(a.data_type()))?) };
    let mut out = keys_builder();
    for i in 0..list.len() {
        let mut any = false;
        if !list.is_null(i) {
            let row = list.value(i);
            let row = row.as_struct();
            let (t, s) = (to_ids(row.column(ti))?, to_ids(row.column(si))?);
            for j in 0..row.len() {
                out.values().append_value(link_key(id_at(&t, j).as_deref(), id_at(&s, j).as_deref()));
                any = true;
            }
        }
        out.append(any);
    }
    Ok(Arc::new(out.finish()))
}

/// JSON text: an array of objects with `traceId`/`spanId` (OTLP JSON) or
/// `TraceId`/`SpanId`/`trace_id`/`span_id`. Text that is not such an
/// array gives no links.
fn from_json(text: &ArrayRef) -> Result<ArrayRef> {
    let strs = Strs::of(text.as_ref(), "om_links")?;
    let mut out = keys_builder();
    for i in 0..text.len() {
        let mut any = false;
        // Cheap test first: most spans have `[]` or nothing.
        if let Some(s) = strs.get(i).filter(|s| s.len() > 2)
            && let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(s)
        {
            for item in items.iter().filter_map(|v| v.as_object()) {
                let id = |names: [&str; 3]| {
                    names.iter().find_map(|n| item.get(*n)).and_then(|v| v.as_str()).and_then(canonical_id_from_str)
                };
                let (t, sp) = (id(["traceId", "TraceId", "trace_id"]), id(["spanId", "SpanId", "span_id"]));
                out.values().append_value(link_key(t.as_deref(), sp.as_deref()));
                any = true;
            }
        }
        out.append(any);
    }
    Ok(Arc::new(out.finish()))
}

fn links_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    match args {
        [t, s] => from_parallel(t, s),
        [a] => match a.data_type() {
            DataType::Null => {
                let mut out = keys_builder();
                (0..a.len()).for_each(|_| out.append_null());
                Ok(Arc::new(out.finish()))
            }
            DataType::List(f) if matches!(f.data_type(), DataType::Struct(_)) => from_structs(a),
            DataType::LargeList(f) => from_structs(&cast(a, &DataType::List(f.clone()))?),
            _ => from_json(a),
        },
        _ => exec_err!("om_links takes (trace_ids, span_ids) or (links)"),
    }
}

fn key_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    // Ids read back from Parquet (the trace buckets) may be views.
    let (t, s) = (cast(&args[0], &DataType::Binary)?, cast(&args[1], &DataType::Binary)?);
    let (t, s) = (t.as_binary::<i32>(), s.as_binary::<i32>());
    let mut out = BinaryBuilder::with_capacity(t.len(), t.len() * 25);
    for i in 0..t.len() {
        out.append_value(link_key((!t.is_null(i)).then(|| t.value(i)), (!s.is_null(i)).then(|| s.value(i))));
    }
    Ok(Arc::new(out.finish()))
}

/// The type of the `links` column.
pub fn links_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Binary, true)))
}

pub fn register(ctx: &SessionContext) {
    ctx.register_udf(variadic_array_fn("om_links", links_type(), links_fn));
    ctx.register_udf(array_fn("om_link_key", 2, DataType::Binary, key_fn));
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{StringArray, StringBuilder};

    fn keys(a: &ArrayRef) -> Vec<Option<Vec<Vec<u8>>>> {
        let l = a.as_list::<i32>();
        (0..l.len())
            .map(|i| (!l.is_null(i)).then(|| l.value(i).as_binary::<i32>().iter().map(|k| k.unwrap().to_vec()).collect()))
            .collect()
    }

    fn str_lists(rows: &[&[&str]]) -> ArrayRef {
        let mut b = ListBuilder::new(StringBuilder::new());
        for r in rows {
            for v in *r {
                b.values().append_value(v);
            }
            b.append(true);
        }
        Arc::new(b.finish())
    }

    #[test]
    fn parallel_lists_give_one_key_per_link_and_null_for_none() {
        let t = str_lists(&[&["0af7651916cd43dd8448eb211c80319c", "0af7651916cd43dd8448eb211c80319d"], &[]]);
        let s = str_lists(&[&["b7ad6b7169203331", "00f067aa0ba902b7"], &[]]);
        let got = keys(&links_fn(&[t, s]).unwrap());
        let want = link_key(
            canonical_id_from_str("0af7651916cd43dd8448eb211c80319c").as_deref(),
            canonical_id_from_str("b7ad6b7169203331").as_deref(),
        );
        assert_eq!(got[0].as_ref().unwrap().len(), 2);
        assert_eq!(got[0].as_ref().unwrap()[0], want);
        assert_eq!(want.len(), 25);
        assert_eq!(got[1], None);
    }

    #[test]
    fn json_text_and_the_span_key_agree() {
        let text: ArrayRef = Arc::new(StringArray::from(vec![
            Some(r#"[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","attributes":[]}]"#),
            Some("[]"),
            None,
            Some("not json"),
        ]));
        let got = keys(&links_fn(&[text]).unwrap());
        let t = datafusion::arrow::array::BinaryArray::from(vec![canonical_id_from_str("0af7651916cd43dd8448eb211c80319c").as_deref()]);
        let s = datafusion::arrow::array::BinaryArray::from(vec![canonical_id_from_str("b7ad6b7169203331").as_deref()]);
        let span_key = key_fn(&[Arc::new(t), Arc::new(s)]).unwrap();
        assert_eq!(got[0].as_ref().unwrap()[0], span_key.as_binary::<i32>().value(0));
        assert_eq!(&got[1..], &[None, None, None]);
    }

    #[test]
    fn an_empty_id_gives_a_key_no_span_has() {
        let t = str_lists(&[&[""]]);
        let s = str_lists(&[&["b7ad6b7169203331"]]);
        let got = keys(&links_fn(&[t, s]).unwrap());
        assert_eq!(got[0].as_ref().unwrap()[0], vec![0]);
    }
}
