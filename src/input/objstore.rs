//! Spans on S3 (cargo feature `s3`, SPEC §1.1): `spans.path =
//! "s3://bucket/prefix/"`. Credentials, region and endpoint come from the
//! standard `AWS_*` environment variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//! `AWS_ENDPOINT_URL` for S3-compatible servers, `AWS_ALLOW_HTTP=true` for
//! a plain-HTTP endpoint). The listing prunes `date=` partitions exactly as
//! on local disk: files outside the window are listed, never opened.

use std::sync::Arc;

use datafusion::arrow::datatypes::Schema;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;

use crate::error::{Error, Result};

/// One object found under the prefix: its `s3://` URL, size and mtime (ns).
pub struct Object {
    pub url: String,
    pub size: u64,
    pub mtime_ns: i64,
}

/// Turns an object-store error into a message a user can act on.
fn explain(url: &str, e: object_store::Error) -> Error {
    let text = e.to_string();
    let lower = text.to_ascii_lowercase();
    if lower.contains("nosuchbucket") || (matches!(e, object_store::Error::NotFound { .. }) && lower.contains("bucket")) {
        Error::Config(format!("spans.path = {url:?}: the bucket does not exist (check the name, AWS_REGION and AWS_ENDPOINT_URL): {text}"))
    } else if lower.contains("invalidaccesskeyid")
        || lower.contains("signaturedoesnotmatch")
        || lower.contains("accessdenied")
        // the status, not any "403" (an endpoint on port 40321 is in
        // every message about it)
        || lower.contains("403 forbidden")
        || lower.contains("status 403")
        || lower.contains("status: 403")
        || matches!(e, object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. })
    {
        Error::Config(format!(
            "spans.path = {url:?}: access denied — check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN): {text}"
        ))
    } else if lower.contains("connect") || lower.contains("dns") || lower.contains("timed out") || lower.contains("error sending request") {
        Error::Other(format!(
            "spans.path = {url:?}: cannot reach the object store endpoint (AWS_ENDPOINT_URL = {:?}): {text}",
            std::env::var("AWS_ENDPOINT_URL").or_else(|_| std::env::var("AWS_ENDPOINT")).unwrap_or_else(|_| "AWS default".into())
        ))
    } else {
        Error::Other(format!("spans.path = {url:?}: {text}"))
    }
}

/// Builds the store for `url`'s bucket from the environment and registers
/// it with the session, so scans of `s3://bucket/...` go through it.
pub fn register(ctx: &SessionContext, url: &str) -> Result<(Arc<dyn ObjectStore>, String, String)> {
    let rest = url.strip_prefix("s3://").ok_or_else(|| Error::Config(format!("spans.path = {url:?}: expected s3://bucket/prefix")))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(Error::Config(format!("spans.path = {url:?}: no bucket named")));
    }
    let retry = object_store::RetryConfig {
        max_retries: 2,
        retry_timeout: std::time::Duration::from_secs(20),
        ..Default::default()
    };
    let client = object_store::ClientOptions::new().with_connect_timeout(std::time::Duration::from_secs(5));
    let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket).with_retry(retry).with_client_options(client);
    // AWS_ENDPOINT_URL is the AWS CLI/SDK spelling; object_store reads
    // AWS_ENDPOINT. An S3-compatible server is addressed by path.
    if let Ok(ep) = std::env::var("AWS_ENDPOINT_URL") {
        b = b.with_endpoint(ep.clone()).with_virtual_hosted_style_request(false);
        if ep.starts_with("http://") {
            b = b.with_allow_http(true);
        }
    }
    let store: Arc<dyn ObjectStore> = Arc::new(b.build().map_err(|e| Error::Config(format!("spans.path = {url:?}: {e}")))?);
    let base = url::Url::parse(&format!("s3://{bucket}")).map_err(|e| Error::Config(format!("spans.path = {url:?}: {e}")))?;
    ctx.register_object_store(&base, store.clone());
    Ok((store, bucket.to_string(), prefix.trim_end_matches('/').to_string()))
}

/// Lists the objects under `url` (a prefix; a single object is its own
/// prefix), sorted by key.
pub async fn list(ctx: &SessionContext, url: &str) -> Result<Vec<Object>> {
    let (store, bucket, prefix) = register(ctx, url)?;
    let p = if prefix.is_empty() { None } else { Some(ObjectPath::from(prefix.as_str())) };
    let metas: Vec<_> = store.list(p.as_ref()).try_collect().await.map_err(|e| explain(url, e))?;
    let mut out: Vec<Object> = metas
        .into_iter()
        .map(|m| Object {
            url: format!("s3://{bucket}/{}", m.location),
            size: m.size,
            mtime_ns: m.last_modified.timestamp_nanos_opt().unwrap_or(0),
        })
        .collect();
    out.sort_by(|a, b| a.url.cmp(&b.url));
    Ok(out)
}

/// A Parquet object's schema (its footer, read through the session).
pub async fn read_schema(ctx: &SessionContext, url: &str) -> std::result::Result<Schema, String> {
    let df = ctx.read_parquet(url, ParquetReadOptions::default()).await.map_err(|e| format!("not a readable Parquet file ({e})"))?;
    Ok(df.schema().as_arrow().clone())
}
