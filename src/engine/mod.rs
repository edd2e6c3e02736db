//! The one place that builds the DataFusion session (datafusion-cli style):
//! target partitions, a fair spilling memory pool with the configured limit,
//! a temp/spill directory under the state dir, and the pipeline's functions.
//! Local runs, tests and the benchmark all get their session here.

pub mod udf;

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::MemTable;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::EngineConfig;
use crate::error::Result;

/// Builds the session for a run. `spill_dir` receives spill files.
pub fn session(cfg: &EngineConfig, spill_dir: Option<&Path>) -> Result<SessionContext> {
    let config = SessionConfig::new()
        .with_target_partitions(cfg.target_partitions.max(1))
        .with_information_schema(true)
        .set_bool("datafusion.execution.parquet.pushdown_filters", false)
        .set_bool("datafusion.sql_parser.enable_ident_normalization", true);
    let mut rt = RuntimeEnvBuilder::new();
    if let Some(limit) = cfg.memory_limit {
        rt = rt.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
    }
    if let Some(dir) = spill_dir {
        std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(dir, e))?;
        rt = rt.with_disk_manager_builder(
            DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![dir.to_path_buf()])),
        );
    }
    let ctx = SessionContext::new_with_config_rt(config, rt.build_arc()?);
    udf::register(&ctx);
    Ok(ctx)
}

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

/// Replaces `{{key}}` placeholders in a query template.
pub fn render(template: &str, params: &[(&str, String)]) -> String {
    let mut sql = template.to_string();
    for (k, v) in params {
        sql = sql.replace(&format!("{{{{{k}}}}}"), v);
    }
    sql
}

/// Runs a query and collects its result.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Table> {
    let df = ctx.sql(sql).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await?;
    Ok(Table { schema, batches })
}

/// Runs a query and registers its result in memory under `name`, so later
/// queries read it without recomputing. Returns the row count.
pub async fn materialize(ctx: &SessionContext, name: &str, sql: &str) -> Result<usize> {
    let df = ctx.sql(sql).await?;
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let partitions = df.collect_partitioned().await?;
    let rows = partitions.iter().flatten().map(|b| b.num_rows()).sum();
    // The physical batches may be stricter about nullability than the
    // logical schema; the table takes the batches' own schema.
    let schema = partitions.iter().flatten().next().map(|b| b.schema()).unwrap_or(schema);
    let table = MemTable::try_new(schema, partitions)?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(table))?;
    Ok(rows)
}

/// Registers `batches` in memory as `name`. Batches from different
/// queries or from the per-day cache may disagree on nullability; every
/// column is registered nullable.
pub fn register_batches(ctx: &SessionContext, name: &str, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
    use datafusion::arrow::datatypes::{Field, Schema};
    let first = batches.first().map(|b| b.schema()).unwrap_or_else(|| schema.clone());
    let relaxed: SchemaRef = Arc::new(Schema::new(
        first.fields().iter().map(|f| Field::new(f.name(), f.data_type().clone(), true)).collect::<Vec<_>>(),
    ));
    // ... and on string types (Parquet reads give views): cast to the first.
    let batches = batches
        .into_iter()
        .map(|b| {
            let cols = b
                .columns()
                .iter()
                .zip(relaxed.fields())
                .map(|(c, f)| {
                    if c.data_type() == f.data_type() {
                        Ok(c.clone())
                    } else {
                        datafusion::arrow::compute::cast(c, f.data_type())
                    }
                })
                .collect::<std::result::Result<Vec<_>, _>>()?;
            RecordBatch::try_new(relaxed.clone(), cols)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(relaxed, vec![batches])?))?;
    Ok(())
}

/// Registers a view `name` over a query.
pub async fn view(ctx: &SessionContext, name: &str, sql: &str) -> Result<()> {
    let df = ctx.sql(sql).await?;
    ctx.deregister_table(name)?;
    ctx.register_table(name, df.into_view())?;
    Ok(())
}

/// Reads a single BIGINT from the first row/column of a query.
pub async fn scalar_i64(ctx: &SessionContext, sql: &str) -> Result<i64> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::datatypes::Int64Type;
    let t = query(ctx, sql).await?;
    for b in &t.batches {
        if b.num_rows() > 0 {
            let col = b.column(0).as_primitive::<Int64Type>();
            return Ok(if col.is_null(0) { 0 } else { col.value(0) });
        }
    }
    Ok(0)
}
