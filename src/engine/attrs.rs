//! Span attributes as the rules read them (SPEC §1.1, §2.2): from a
//! `map<string,string>` column (the exporter's map mode) or from JSON text
//! (its JSON mode, where ClickHouse splits dotted keys into nested
//! objects). One lookup serves both, so every rule reads an attribute the
//! same way whatever the export:
//!
//! - `om_vnode(attrs, kind TINYINT) -> VARCHAR` and `om_vtype(attrs, kind
//!   TINYINT) -> VARCHAR`: the virtual node a Client/Producer span calls
//!   and its type, each from one pass over its attributes. (JSON text is
//!   so parsed twice per call span. One function returning both as a
//!   struct was tried: DataFusion 55 pushes each `get_field` down and
//!   evaluates the function once per field all the same.)
//! - `om_json_attr(json VARCHAR, key VARCHAR) -> VARCHAR`: one attribute
//!   of JSON text (the environment, §1.1);
//! - `om_json_bad(json VARCHAR) -> BOOLEAN`: the text is not a JSON object
//!   (counted as `rows_skipped.spans.bad_attributes`; the span is kept,
//!   without attributes).
//!
//! In JSON, attribute `a.b.c` is a top-level key `"a.b.c"` when there is
//! one, else the value at the path a → b → c; a number or boolean leaf is
//! its JSON text (`200`, `true`); an object, array or null is no value.

use std::sync::Arc;

use std::borrow::Cow;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Int8Type};
use datafusion::common::{Result, exec_err};
use datafusion::prelude::SessionContext;
use serde_json::Value;

use super::udf::{Strs, array_fn};
use crate::canonical::kind;

/// The callee attributes of SPEC §2.2 in priority order: the first
/// non-empty one names the virtual node.
pub const VNODE_KEYS: [&str; 7] =
    ["peer.service", "db.system.name", "db.system", "messaging.system", "rpc.service", "server.address", "net.peer.name"];

/// Bits of [`VNODE_KEYS`] that make a node a database (`db.system.name`,
/// `db.system`), and a messaging system (`messaging.system`).
const DATABASE_BITS: u8 = 0b110;
const MESSAGING_BITS: u8 = 0b1000;

/// Parses JSON attribute text; `None` when it is not a JSON object.
pub fn parse_json(text: &str) -> Option<serde_json::Map<String, Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// Attribute `key` of a parsed JSON object: the flat key first, else the
/// dotted path; strings as they are, numbers and booleans as JSON text.
pub fn json_attr<'a>(obj: &'a serde_json::Map<String, Value>, key: &str) -> Option<Cow<'a, str>> {
    let leaf = match obj.get(key) {
        Some(v) => v,
        None => {
            let mut parts = key.split('.');
            let mut at = obj.get(parts.next()?)?;
            for p in parts {
                at = at.as_object()?.get(p)?;
            }
            at
        }
    };
    match leaf {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// Calls `each(row, values)` for every row of `attrs` (a map column or JSON
/// text): `values[k]` is attribute `keys[k]`, `None` when absent, NULL or
/// empty (of a key repeated in a map, the first entry counts, like a map
/// lookup). The one reading of attributes every rule shares. `index` finds a
/// map key's place in `keys` (a fast filter: every entry passes through
/// it); rows where `wanted` is false get `None` unread; JSON text is parsed
/// only where `may_hold` says it can hold one of the keys.
pub(super) fn lookup_rows<const N: usize>(
    attrs: &ArrayRef,
    what: &str,
    keys: &[&str; N],
    index: impl Fn(&str) -> Option<usize>,
    wanted: impl Fn(usize) -> bool,
    may_hold: impl Fn(&str) -> bool,
    mut each: impl FnMut(usize, Option<&[Option<&str>; N]>),
) -> Result<()> {
    if let Some(map) = attrs.as_map_opt() {
        // Keys or values of another type (dictionary-encoded, say) as strings.
        let strings = |a: &ArrayRef| -> Result<ArrayRef> {
            Ok(match a.data_type() {
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => a.clone(),
                _ => datafusion::arrow::compute::cast(a, &DataType::Utf8)?,
            })
        };
        let (map_keys, values) = (strings(map.keys())?, strings(map.values())?);
        let (map_keys, values) = (Strs::of(map_keys.as_ref(), what)?, Strs::of(values.as_ref(), what)?);
        let offsets = map.value_offsets();
        for i in 0..map.len() {
            if !wanted(i) {
                each(i, None);
                continue;
            }
            let (mut found, mut seen) = ([None; N], [false; N]);
            if map.is_valid(i) {
                for e in offsets[i] as usize..offsets[i + 1] as usize {
                    let Some(p) = map_keys.get(e).and_then(&index) else { continue };
                    if !seen[p] {
                        seen[p] = true;
                        found[p] = values.get(e).filter(|v| !v.is_empty());
                    }
                }
            }
            each(i, Some(&found));
        }
        return Ok(());
    }
    let texts = Strs::of(attrs.as_ref(), what)?;
    for i in 0..attrs.len() {
        if !wanted(i) {
            each(i, None);
            continue;
        }
        let obj = texts.get(i).filter(|t| may_hold(t)).and_then(parse_json);
        let owned: [Option<Cow<str>>; N] = std::array::from_fn(|k| obj.as_ref().and_then(|o| json_attr(o, keys[k])).filter(|v| !v.is_empty()));
        let found: [Option<&str>; N] = std::array::from_fn(|k| owned[k].as_deref());
        each(i, Some(&found));
    }
    Ok(())
}

/// For each Client/Producer row, the bit set of [`VNODE_KEYS`] present
/// with a non-empty value and the value of the highest-priority one;
/// other rows get `None`. `attrs` is a map column or JSON text.
fn callee_attrs(args: &[ArrayRef], what: &str, mut each: impl FnMut(Option<(u8, &str)>)) -> Result<()> {
    let Some(kinds) = args[1].as_primitive_opt::<Int8Type>() else { return exec_err!("{what}: expected a TINYINT kind") };
    let is_call = |i: usize| kinds.is_valid(i) && matches!(i64::from(kinds.value(i)), kind::CLIENT | kind::PRODUCER);
    let index = |k: &str| VNODE_KEYS.iter().position(|x| *x == k);
    lookup_rows(&args[0], what, &VNODE_KEYS, index, is_call, |_| true, |_, found| {
        each(found.map(|found| {
            let bits = found.iter().enumerate().fold(0u8, |b, (p, v)| if v.is_some() { b | 1 << p } else { b });
            (bits, found.iter().flatten().next().copied().unwrap_or_default())
        }))
    })
}

fn vnode_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    callee_attrs(args, "om_vnode", |c| out.append_option(c.and_then(|(found, v)| (found != 0).then_some(v))))?;
    Ok(Arc::new(out.finish()))
}

fn vtype_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let mut out = StringBuilder::new();
    callee_attrs(args, "om_vtype", |c| {
        out.append_value(match c {
            Some((found, _)) if found & DATABASE_BITS != 0 => "database",
            Some((found, _)) if found & MESSAGING_BITS != 0 => "messaging",
            _ => "external",
        })
    })?;
    Ok(Arc::new(out.finish()))
}

/// `om_json_attr(json, key)`: the key is a constant of the query.
fn json_attr_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = Strs::of(args[0].as_ref(), "om_json_attr")?;
    let keys = Strs::of(args[1].as_ref(), "om_json_attr")?;
    let mut out = StringBuilder::new();
    for i in 0..args[0].len() {
        let v = match (texts.get(i), keys.get(i)) {
            (Some(t), Some(k)) => parse_json(t).and_then(|o| json_attr(&o, k).map(Cow::into_owned)).filter(|v| !v.is_empty()),
            _ => None,
        };
        out.append_option(v);
    }
    Ok(Arc::new(out.finish()))
}

/// `om_json_bad(json)`: non-empty text that is not a JSON object. NULL and
/// blank text are no attributes, not bad ones.
fn json_bad_fn(args: &[ArrayRef]) -> Result<ArrayRef> {
    let texts = Strs::of(args[0].as_ref(), "om_json_bad")?;
    let out: BooleanArray = (0..args[0].len())
        .map(|i| Some(texts.get(i).is_some_and(|t| !t.trim().is_empty() && parse_json(t).is_none())))
        .collect();
    Ok(Arc::new(out))
}

/// Registers the attribute functions on a session.
pub fn register(ctx: &SessionContext) {
    ctx.register_udf(array_fn("om_vnode", 2, DataType::Utf8, vnode_fn));
    ctx.register_udf(array_fn("om_vtype", 2, DataType::Utf8, vtype_fn));
    ctx.register_udf(array_fn("om_json_attr", 2, DataType::Utf8, json_attr_fn));
    ctx.register_udf(array_fn("om_json_bad", 1, DataType::Boolean, json_bad_fn));
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Int8Array, StringArray};

    #[test]
    fn the_callee_is_the_first_non_empty_attribute_by_priority() {
        use datafusion::arrow::array::MapBuilder;
        let mut m = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
        let rows: [&[(&str, &str)]; 5] = [
            &[("db.system", "postgresql"), ("peer.service", ""), ("server.address", "db1")],
            &[("net.peer.name", "x"), ("messaging.system", "kafka")],
            &[("http.method", "GET")],
            &[("db.system", "redis")],
            &[("peer.service", "billing"), ("peer.service", "other")],
        ];
        for r in rows {
            for (k, v) in r {
                m.keys().append_value(k);
                m.values().append_value(v);
            }
            m.append(true).unwrap();
        }
        let map: ArrayRef = Arc::new(m.finish());
        let kinds: ArrayRef = Arc::new(Int8Array::from(vec![3, 4, 3, 2, 3]));
        let args = [map, kinds];
        let vnode = vnode_fn(&args).unwrap();
        let vtype = vtype_fn(&args).unwrap();
        let get = |a: &ArrayRef| (0..5).map(|i| a.as_string::<i32>().is_valid(i).then(|| a.as_string::<i32>().value(i).to_string())).collect::<Vec<_>>();
        let s = |x: &str| Some(x.to_string());
        let get1 = |a: &ArrayRef| a.as_string::<i32>().is_valid(0).then(|| a.as_string::<i32>().value(0).to_string());
        assert_eq!(get(&vnode), vec![s("postgresql"), s("kafka"), None, None, s("billing")]);
        assert_eq!(get(&vtype), vec![s("database"), s("messaging"), s("external"), s("external"), s("external")]);

        // Dictionary-encoded keys (as some writers store attribute maps).
        use datafusion::arrow::array::{DictionaryArray, MapArray, StringArray, StructArray};
        use datafusion::arrow::buffer::OffsetBuffer;
        use datafusion::arrow::datatypes::{Field, Fields, Int32Type};
        let keys: DictionaryArray<Int32Type> = vec!["http.method", "db.system"].into_iter().collect();
        let values = StringArray::from(vec!["GET", "mysql"]);
        let fields = Fields::from(vec![Field::new("key", keys.data_type().clone(), false), Field::new("value", DataType::Utf8, true)]);
        let entries = StructArray::new(fields.clone(), vec![Arc::new(keys) as ArrayRef, Arc::new(values)], None);
        let field = Arc::new(Field::new("entries", DataType::Struct(fields), false));
        let map = MapArray::try_new(field, OffsetBuffer::new(vec![0, 2].into()), entries, None, false).unwrap();
        let args = [Arc::new(map) as ArrayRef, Arc::new(Int8Array::from(vec![3])) as ArrayRef];
        assert_eq!(get1(&vnode_fn(&args).unwrap()), s("mysql"));
        assert_eq!(get1(&vtype_fn(&args).unwrap()), s("database"));
    }

    #[test]
    fn json_attributes_are_read_by_flat_key_then_by_nested_path() {
        // As ClickHouse writes the exporter's JSON mode: dotted keys split
        // into objects; numbers and booleans as JSON values.
        let rows = [
            Some(r#"{"db":{"system":{"name":"postgresql"}},"server":{"address":"db1"}}"#),
            Some(r#"{"messaging":{"system":"kafka"},"server.address":"b1"}"#),
            Some(r#"{"peer.service":"flat","peer":{"service":"nested"}}"#),
            Some(r#"{"http":{"status_code":200}}"#),
            Some("{not json"),
            None,
            Some(r#"{"rpc":{"service":"Pay"}}"#),
        ];
        let text: ArrayRef = Arc::new(StringArray::from(rows.to_vec()));
        let kinds: ArrayRef = Arc::new(Int8Array::from(vec![3, 4, 3, 3, 3, 3, 2]));
        let args = [text.clone(), kinds];
        let strs = |a: &ArrayRef| (0..a.len()).map(|i| a.as_string::<i32>().is_valid(i).then(|| a.as_string::<i32>().value(i).to_string())).collect::<Vec<_>>();
        let s = |x: &str| Some(x.to_string());
        // The server span (last row) is no call: no node.
        assert_eq!(strs(&vnode_fn(&args).unwrap()), vec![s("postgresql"), s("kafka"), s("flat"), None, None, None, None]);
        assert_eq!(strs(&vtype_fn(&args).unwrap()), vec![s("database"), s("messaging"), s("external"), s("external"), s("external"), s("external"), s("external")]);
        let key: ArrayRef = Arc::new(StringArray::from(vec!["http.status_code"; rows.len()]));
        assert_eq!(strs(&json_attr_fn(&[text.clone(), key]).unwrap())[3], s("200"));
        let bad = json_bad_fn(&[text]).unwrap();
        let bad: Vec<bool> = (0..rows.len()).map(|i| bad.as_boolean().value(i)).collect();
        assert_eq!(bad, vec![false, false, false, false, true, false, false]);
        let obj = parse_json(r#"{"ok":true,"n":1.5,"o":{"x":null}}"#).unwrap();
        let get = |k: &str| json_attr(&obj, k).map(Cow::into_owned);
        assert_eq!((get("ok"), get("n"), get("o"), get("o.x")), (s("true"), s("1.5"), None, None));
    }
}
