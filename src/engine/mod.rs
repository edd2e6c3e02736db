//! The one place that builds the DataFusion session (datafusion-cli style):
//! target partitions, a fair spilling memory pool with the configured limit,
//! a temp/spill directory under the state dir, and the pipeline's functions.
//! Local runs, tests and the benchmark all get their session here.

pub mod attrs;
pub mod links;
pub mod sampling;
pub mod udf;
#[cfg(feature = "ballista")]
pub mod cluster;

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
use crate::table::Table;

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

/// The session for a run: local DataFusion, or with `engine.url =
/// "ballista://host:port"` a Ballista cluster (`ballista://standalone`:
/// one started in this process).
pub async fn connect(cfg: &EngineConfig, spill_dir: Option<&Path>) -> Result<SessionContext> {
    if cfg.url.starts_with("ballista://") {
        #[cfg(feature = "ballista")]
        return cluster::connect(cfg, spill_dir).await;
        #[cfg(not(feature = "ballista"))]
        return Err(crate::error::Error::Config(format!("engine.url = {:?}: this build has no Ballista support", cfg.url)));
    }
    session(cfg, spill_dir)
}

/// On a cluster session: the folder intermediate tables are written to
/// (tables in the client's memory cannot be sent to the executors), the
/// engine URL and the deadline of one distributed query, and the stage
/// the run is in (for the message when a job does not finish).
#[derive(Debug)]
pub struct ClusterWork {
    pub dir: std::path::PathBuf,
    seq: std::sync::atomic::AtomicUsize,
    pub url: String,
    pub job_timeout: std::time::Duration,
    stage: std::sync::Mutex<String>,
}

impl ClusterWork {
    pub fn new(dir: std::path::PathBuf, url: &str, job_timeout: std::time::Duration) -> Self {
        ClusterWork { dir, seq: Default::default(), url: url.to_string(), job_timeout, stage: Default::default() }
    }
/// A fresh folder for one table.
    fn next(&self, name: &str) -> Result<std::path::PathBuf> {
        let n = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = self.dir.join(format!("{name}-{n}"));
        std::fs::create_dir_all(&d).map_err(|e| crate::error::Error::io(&d, e))?;
        Ok(d)
    }
}

impl Drop for ClusterWork {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether the session runs its queries on a cluster.
pub fn on_cluster(ctx: &SessionContext) -> bool {
    cluster_work(ctx).is_some()
}

fn cluster_work(ctx: &SessionContext) -> Option<Arc<ClusterWork>> {
    ctx.state().config().get_extension::<ClusterWork>()
}

/// Writes batches to one Parquet file at `path` (with no batches, an empty
/// file that keeps the schema).
pub fn write_parquet(path: &Path, schema: SchemaRef, batches: &[RecordBatch]) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| crate::error::Error::io(path, e))?;
    let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema, None)?;
    for b in batches {
        w.write(b)?;
    }
    w.close()?;
    Ok(())
}

/// Reads one whole Parquet file written by [`write_parquet`].
pub fn read_parquet(path: &Path) -> Result<Table> {
    let file = std::fs::File::open(path).map_err(|e| crate::error::Error::io(path, e))?;
    let builder = datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)?;
    let schema: SchemaRef = Arc::clone(builder.schema());
    let batches = builder.build()?.collect::<std::result::Result<Vec<RecordBatch>, _>>()?;
    Ok(Table { schema, batches })
}

async fn register_dir(ctx: &SessionContext, name: &str, dir: &Path) -> Result<()> {
    ctx.deregister_table(name)?;
    ctx.register_parquet(name, format!("{}/", dir.display()), datafusion::prelude::ParquetReadOptions::default()).await?;
    Ok(())
}

/// Replaces `{{key}}` placeholders in a query template.
pub fn render(template: &str, params: &[(&str, String)]) -> String {
    let mut sql = template.to_string();
    for (k, v) in params {
        sql = sql.replace(&format!("{{{{{k}}}}}"), v);
    }
    sql
}

/// Tells a cluster session which stage the run is in (named when a job
/// misses its deadline); nothing on a local session.
pub fn note_stage(ctx: &SessionContext, stage: &str) {
    if let Some(work) = cluster_work(ctx) {
        if let Ok(mut s) = work.stage.lock() {
            *s = stage.to_string();
        }
    }
}

/// Runs `job` (a query executing on the engine); on a cluster it must
/// finish within `engine.job_timeout`, else the run fails naming the
/// stage and the engine (SPEC §4: no engine state makes it hang).
pub async fn deadline<T>(ctx: &SessionContext, job: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let Some(work) = cluster_work(ctx) else { return job.await };
    match tokio::time::timeout(work.job_timeout, job).await {
        Ok(r) => r,
        Err(_) => {
            let stage = work.stage.lock().map(|s| s.clone()).unwrap_or_default();
            Err(crate::error::Error::Other(format!(
                "a cluster job did not finish within engine.job_timeout ({} s) during \"{stage}\" on {}; nothing was published",
                work.job_timeout.as_secs(),
                work.url
            )))
        }
    }
}

/// Runs a query and collects its result.
pub async fn query(ctx: &SessionContext, sql: &str) -> Result<Table> {
    deadline(ctx, async {
        let df = ctx.sql(sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok(Table { schema, batches })
    })
    .await
}

/// Runs a query and registers its result in memory under `name`, so later
/// queries read it without recomputing. Returns the row count.
pub async fn materialize(ctx: &SessionContext, name: &str, sql: &str) -> Result<usize> {
    let started = std::time::Instant::now();
    let rows = materialize_inner(ctx, name, sql).await?;
    tracing::debug!("materialised {name}: {rows} rows in {:.3} s", started.elapsed().as_secs_f64());
    Ok(rows)
}

async fn materialize_inner(ctx: &SessionContext, name: &str, sql: &str) -> Result<usize> {
    let df = ctx.sql(sql).await?;
    if let Some(work) = cluster_work(ctx) {
        // On a cluster the executors write the table as Parquet.
        let dir = work.next(name)?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let copy = format!("COPY ({sql}) TO '{}/' STORED AS PARQUET", dir.display().to_string().replace('\'', "''"));
        let t = query(ctx, &copy).await?;
        let rows = crate::table::read::first_i64(&t, "count")? as usize;
        if std::fs::read_dir(&dir).map(|mut d| d.next().is_none()).unwrap_or(true) {
            write_parquet(&dir.join("part-0.parquet"), schema, &[])?;
        }
        register_dir(ctx, name, &dir).await?;
        return Ok(rows);
    }
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
pub async fn register_batches(ctx: &SessionContext, name: &str, schema: &SchemaRef, batches: Vec<RecordBatch>) -> Result<()> {
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
    if let Some(work) = cluster_work(ctx) {
        let dir = work.next(name)?;
        write_parquet(&dir.join("part-0.parquet"), relaxed, &batches)?;
        return register_dir(ctx, name, &dir).await;
    }
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(relaxed, vec![batches])?))?;
    Ok(())
}

/// Registers `batches` (at least one, all of one schema) in memory as
/// `name` on this machine, cut into batches of the session's size dealt
/// round-robin to as many partitions as the session runs in parallel, so
/// queries over it use every core.
pub fn register_spread(ctx: &SessionContext, name: &str, batches: Vec<RecordBatch>) -> Result<()> {
    let config = ctx.copied_config();
    let (n, size) = (config.target_partitions().max(1), config.batch_size().max(1));
    let schema = batches.first().map(|b| b.schema()).ok_or_else(|| crate::error::Error::Other(format!("{name}: no batches")))?;
    let mut parts: Vec<Vec<RecordBatch>> = vec![vec![]; n];
    let mut k = 0;
    for b in &batches {
        for at in (0..b.num_rows()).step_by(size) {
            parts[k % n].push(b.slice(at, size.min(b.num_rows() - at)));
            k += 1;
        }
    }
    ctx.deregister_table(name)?;
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, parts)?))?;
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
