//! Streaming over the top-level JSON list (or `{"data": [...]}` list) of a
//! file: each element is parsed and handed over on its own, so a file larger
//! than memory converts as long as one element (a trace) fits.

use std::fmt;
use std::io::BufReader;
use std::path::Path;

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::error::{Error, Result};

/// What to do with each element; an error stops the stream.
type OnItem<'a> = dyn FnMut(Value) -> Result<()> + 'a;

struct Items<'a, 'b> {
    on_item: &'b mut OnItem<'a>,
    failed: &'b mut Option<Error>,
    /// keys other than `data` of a top-level object (a bare trace)
    rest: serde_json::Map<String, Value>,
    top: bool,
}

impl<'de> Visitor<'de> for Items<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON list, or an object with a `data` list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Self::Value, A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            if let Err(e) = (self.on_item)(v) {
                *self.failed = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        while let Some(k) = map.next_key::<String>()? {
            if self.top && k == "data" {
                let inner = Items { on_item: &mut *self.on_item, failed: &mut *self.failed, rest: Default::default(), top: false };
                if let Some(obj) = map.next_value_seed(inner)? {
                    // `{"data": {trace}}`: one trace.
                    if let Err(e) = (self.on_item)(obj) {
                        *self.failed = Some(e);
                        return Err(serde::de::Error::custom("stopped"));
                    }
                }
            } else {
                self.rest.insert(k, map.next_value::<Value>()?);
            }
        }
        Ok(Some(Value::Object(self.rest)))
    }
}

impl<'de> DeserializeSeed<'de> for Items<'_, '_> {
    type Value = Option<Value>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// Streams the elements of a top-level list, or of a top-level object's
/// `data` list, to `on_item`. Returns the rest of a top-level object (its
/// other keys) when the file is one, so a bare object can be handled whole.
pub fn each_item(path: &Path, on_item: &mut OnItem) -> Result<Option<Value>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(1 << 20, file));
    let mut failed = None;
    let items = Items { on_item, failed: &mut failed, rest: Default::default(), top: true };
    let r = items.deserialize(&mut de).and_then(|v| de.end().map(|_| v));
    if let Some(e) = failed {
        return Err(e);
    }
    r.map_err(|e| Error::Input {
        path: path.display().to_string(),
        msg: format!("malformed JSON at line {}, column {}: {e}", e.line(), e.column()),
    })
}
