//! SPEC §1.1 object storage (cargo feature `s3`): spans read from
//! `s3://bucket/prefix/` on a local S3-compatible server (moto, from PyPI,
//! started by the test on loopback) give the local run's tables; date
//! partitions outside the window are never opened; a missing bucket, bad
//! credentials and an unreachable endpoint are clear errors.
#![cfg(feature = "s3")]

mod common;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use chrono::NaiveDate;
use common::ownermap_env;
use ownermap::generate::{GenOptions, generate};

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// moto's S3 server on a free loopback port (`auth`: check credentials).
fn start_moto(auth: bool) -> Server {
    let port = free_port();
    let mut cmd = Command::new("python3");
    cmd.args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()]).stdout(Stdio::null()).stderr(Stdio::null());
    if auth {
        cmd.env("INITIAL_NO_AUTH_ACTION_COUNT", "0");
    }
    let child = cmd.spawn().expect("python3 -m moto.server (pip install 'moto[server]'; .ci/run installs it)");
    let server = Server { child, port };
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("moto server did not start on port {port}");
}

/// Creates `bucket` and uploads every file under `dir` with keys relative
/// to it (boto3 comes with moto).
fn upload(port: u16, bucket: &str, dir: &Path, prefix: &str) {
    let script = r#"
import boto3, os, sys
port, bucket, root, prefix = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="test",
                  aws_secret_access_key="test", region_name="us-east-1")
s3.create_bucket(Bucket=bucket)
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, bucket, prefix + os.path.relpath(p, root))
"#;
    let o = Command::new("python3")
        .args(["-c", script, &port.to_string(), bucket, dir.to_str().unwrap(), prefix])
        .output()
        .unwrap();
    assert!(o.status.success(), "upload: {}", String::from_utf8_lossy(&o.stderr));
}

fn ownermap_s3(args: &[&str], port: u16, key: &str) -> Output {
    let endpoint = format!("http://127.0.0.1:{port}");
    ownermap_env(args, &[("AWS_ENDPOINT_URL", &endpoint), ("AWS_ACCESS_KEY_ID", key), ("AWS_SECRET_ACCESS_KEY", "test"), ("AWS_REGION", "us-east-1")])
}

/// The generated organisation's config with spans at `spans`.
fn config_at(dir: &Path, spans: &str, name: &str) -> String {
    let text = std::fs::read_to_string(dir.join("ownermap.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.trim_start().starts_with("path") && out.trim_end().ends_with("[spans]") {
            out.push_str(&format!("path = {spans:?}\n"));
        } else if line.trim_start().starts_with("state_dir") {
            out.push_str(&format!("state_dir = \"state-{name}\"\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, out).unwrap();
    p.display().to_string()
}

#[test]
fn spans_on_s3_give_the_local_tables_and_out_of_window_partitions_are_never_opened() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let end = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let opt = GenOptions { out: d.to_path_buf(), services: 12, days: 2, spans_per_day: 5_000, seed: 8, end, layout: Default::default(), sampling: None, links: false };
    generate(&opt, |_, _| {}).unwrap();
    // A corrupt file in a partition far outside the window: opening it
    // would skip it (exit 3); pruning never opens it.
    let stale = d.join("spans/date=2026-10-01");
    std::fs::create_dir_all(&stale).unwrap();
    std::fs::write(stale.join("part-0.parquet"), b"not parquet at all").unwrap();
    let moto = start_moto(false);
    upload(moto.port, "traces", &d.join("spans"), "prod/spans/");

    let local = config_at(d, "spans/", "local");
    let remote = config_at(d, "s3://traces/prod/spans/", "remote");
    let o = ownermap_s3(&["run", "--config", &local, "--out", d.join("out-local").to_str().unwrap(), "--days", "2"], moto.port, "test");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = ownermap_s3(&["run", "--config", &remote, "--out", d.join("out-s3").to_str().unwrap(), "--days", "2"], moto.port, "test");
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut n = 0;
    for e in std::fs::read_dir(d.join("out-local/data")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            let name = p.file_name().unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(d.join("out-s3/data").join(name)).unwrap(), "{name:?}");
            n += 1;
        }
    }
    assert!(n >= 15);
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(d.join("out-s3/summary.json")).unwrap()).unwrap();
    assert!(summary["files_pruned"].as_u64().unwrap() >= 1, "{summary}");
    assert_eq!(summary["files_skipped"].as_array().unwrap().len(), 0);
    assert!(summary["traces"].as_i64().unwrap() > 500);

    // A bucket that does not exist: a configuration error naming it.
    let missing = config_at(d, "s3://no-such-bucket/spans/", "missing");
    let o = ownermap_s3(&["run", "--config", &missing, "--out", d.join("out-x").to_str().unwrap()], moto.port, "test");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("no-such-bucket") && err.contains("bucket does not exist"), "{err}");

    // Nothing listening: a clear failure, quickly.
    let closed = free_port();
    let started = std::time::Instant::now();
    let o = ownermap_s3(&["run", "--config", &remote, "--out", d.join("out-y").to_str().unwrap()], closed, "test");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot reach the object store endpoint"), "{err}");
    assert!(started.elapsed().as_secs() < 60);
}

#[test]
fn bad_credentials_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("spans/date=2026-11-22")).unwrap();
    std::fs::write(d.join("spans/date=2026-11-22/a.parquet"), b"x").unwrap();
    std::fs::write(d.join("ownermap.toml"), "[spans]\npath = \"s3://locked/spans/\"\n[window]\nend = \"2026-11-22\"\ndays = 1\n").unwrap();
    let moto = start_moto(true);
    let o = ownermap_s3(&["run", "--config", d.join("ownermap.toml").to_str().unwrap(), "--out", d.join("out").to_str().unwrap()], moto.port, "AKIAWRONGKEY0000000");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("access denied") && err.contains("AWS_ACCESS_KEY_ID"), "{err}");
}
