//! Building small result tables from Rust rows (the analyses that run on
//! collected subsets: attribution, SLOs, load, verdicts, docs, history).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::Result;

/// A small result table collected to the client.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Table {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// One typed column.
#[derive(Debug, Clone)]
pub enum Col {
    Str(Vec<Option<String>>),
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
}

/// A table under construction: named typed columns, filled row by row.
#[derive(Debug, Default)]
pub struct Rows {
    cols: Vec<(String, Col)>,
}

/// A cell value for [`Rows::push`].
#[derive(Debug, Clone)]
pub enum V {
    S(Option<String>),
    I(Option<i64>),
    F(Option<f64>),
    B(Option<bool>),
}

pub fn s(v: impl Into<String>) -> V {
    V::S(Some(v.into()))
}
pub fn so(v: Option<impl Into<String>>) -> V {
    V::S(v.map(Into::into))
}
pub fn i(v: impl TryInto<i64>) -> V {
    V::I(v.try_into().ok())
}
pub fn io(v: Option<i64>) -> V {
    V::I(v)
}
pub fn f(v: f64) -> V {
    V::F(v.is_finite().then_some(v))
}
pub fn fo(v: Option<f64>) -> V {
    V::F(v.filter(|x| x.is_finite()))
}
pub fn b(v: bool) -> V {
    V::B(Some(v))
}
pub fn bo(v: Option<bool>) -> V {
    V::B(v)
}

/// The type of a column built with [`Rows`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    Int,
    Float,
    Bool,
}

impl Rows {
    /// A table with these columns (name, type), in order.
    pub fn new(columns: &[(&str, ColType)]) -> Rows {
        let cols = columns
            .iter()
            .map(|&(n, t)| {
                let c = match t {
                    ColType::Text => Col::Str(vec![]),
                    ColType::Int => Col::I64(vec![]),
                    ColType::Float => Col::F64(vec![]),
                    ColType::Bool => Col::Bool(vec![]),
                };
                (n.to_string(), c)
            })
            .collect();
        Rows { cols }
    }

    pub fn push(&mut self, row: Vec<V>) {
        assert_eq!(row.len(), self.cols.len(), "row width");
        for ((name, col), v) in self.cols.iter_mut().zip(row) {
            match (col, v) {
                (Col::Str(c), V::S(x)) => c.push(x),
                (Col::I64(c), V::I(x)) => c.push(x),
                (Col::F64(c), V::F(x)) => c.push(x),
                (Col::F64(c), V::I(x)) => c.push(x.map(|x| x as f64)),
                (Col::Bool(c), V::B(x)) => c.push(x),
                (_, v) => panic!("column {name}: wrong value type {v:?}"),
            }
        }
    }

    pub fn finish(self) -> Result<Table> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        for (name, col) in self.cols {
            let (dt, a): (DataType, ArrayRef) = match col {
                Col::Str(v) => (DataType::Utf8, Arc::new(StringArray::from(v))),
                Col::I64(v) => (DataType::Int64, Arc::new(Int64Array::from(v))),
                Col::F64(v) => (DataType::Float64, Arc::new(Float64Array::from(v))),
                Col::Bool(v) => (DataType::Boolean, Arc::new(BooleanArray::from(v))),
            };
            fields.push(Field::new(name, dt, true));
            arrays.push(a);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        Ok(Table { schema, batches: vec![batch] })
    }
}

/// Reading columns of collected tables back into Rust values, by name,
/// over all batches (casting where the engine chose another width). A
/// column the table lacks, or one that cannot be cast, is an error naming
/// it and the columns there are: a misspelt name fails where it is read,
/// not as NULLs in a figure.
pub mod read {
    use datafusion::arrow::array::{Array, ArrayRef, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::{DataType, Float64Type, Int64Type};

    use super::Table;
    use crate::error::{Error, Result};

    fn arrays(t: &Table, name: &str, dt: &DataType) -> Result<Vec<ArrayRef>> {
        let Ok(k) = t.schema.index_of(name) else {
            let have: Vec<&str> = t.schema.fields().iter().map(|f| f.name().as_str()).collect();
            return Err(Error::Other(format!("table has no column {name} (it has {})", have.join(", "))));
        };
        t.batches
            .iter()
            .map(|b| cast(b.column(k), dt).map_err(|e| Error::Other(format!("column {name} cannot be read as {dt}: {e}"))))
            .collect()
    }

    pub fn strs(t: &Table, name: &str) -> Result<Vec<Option<String>>> {
        let mut out = vec![];
        for a in arrays(t, name, &DataType::Utf8)? {
            let a = a.as_string::<i32>();
            out.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i).to_string())));
        }
        Ok(out)
    }

    /// The first row's value of an integer column (0 when the table is
    /// empty or the value NULL).
    pub fn first_i64(t: &Table, name: &str) -> Result<i64> {
        Ok(i64s(t, name)?.first().copied().flatten().unwrap_or(0))
    }

    pub fn i64s(t: &Table, name: &str) -> Result<Vec<Option<i64>>> {
        let mut out = vec![];
        for a in arrays(t, name, &DataType::Int64)? {
            let a = a.as_primitive::<Int64Type>();
            out.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))));
        }
        Ok(out)
    }

    pub fn f64s(t: &Table, name: &str) -> Result<Vec<Option<f64>>> {
        let mut out = vec![];
        for a in arrays(t, name, &DataType::Float64)? {
            let a = a.as_primitive::<Float64Type>();
            out.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i))));
        }
        Ok(out)
    }

    /// Booleans, NULL read as false.
    pub fn bools(t: &Table, name: &str) -> Result<Vec<bool>> {
        let mut out = vec![];
        for a in arrays(t, name, &DataType::Boolean)? {
            let a = a.as_boolean();
            out.extend((0..a.len()).map(|i| !a.is_null(i) && a.value(i)));
        }
        Ok(out)
    }

    pub fn bins(t: &Table, name: &str) -> Result<Vec<Option<Vec<u8>>>> {
        let mut out = vec![];
        for a in arrays(t, name, &DataType::Binary)? {
            let a = a.as_binary::<i32>();
            out.extend((0..a.len()).map(|i| (!a.is_null(i)).then(|| a.value(i).to_vec())));
        }
        Ok(out)
    }

    /// Columns of a table stored by another build of ownermap (a history
    /// week, §2.8): a column it lacks, or cannot be read as asked, reads as
    /// NULLs — an older week may predate the column, and a missing figure
    /// gives an empty change, never a guess.
    pub mod stored {
        use super::Table;

        pub fn strs(t: &Table, name: &str) -> Vec<Option<String>> {
            super::strs(t, name).unwrap_or_else(|_| vec![None; t.num_rows()])
        }

        pub fn f64s(t: &Table, name: &str) -> Vec<Option<f64>> {
            super::f64s(t, name).unwrap_or_else(|_| vec![None; t.num_rows()])
        }

        pub fn i64s(t: &Table, name: &str) -> Vec<Option<i64>> {
            super::i64s(t, name).unwrap_or_else(|_| vec![None; t.num_rows()])
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::table::{ColType::*, Rows, i};

        #[test]
        fn a_missing_column_is_an_error_naming_it_and_the_columns_there_are() {
            let mut r = Rows::new(&[("calls", Int)]);
            r.push(vec![i(3)]);
            let t = r.finish().unwrap();
            assert_eq!(i64s(&t, "calls").unwrap(), vec![Some(3)]);
            assert_eq!(f64s(&t, "calls").unwrap(), vec![Some(3.0)], "integers widen to floats");
            let e = i64s(&t, "cals").unwrap_err().to_string();
            assert!(e.contains("no column cals") && e.contains("it has calls"), "{e}");
            assert_eq!(stored::f64s(&t, "cals"), vec![None], "a stored week's missing column reads as NULLs");
        }
    }
}
