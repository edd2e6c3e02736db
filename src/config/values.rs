//! Values as `ownermap.toml` and the flags spell them: human sizes
//! (`4g`), durations (`90s`, `10m`, `1h`) and dates (`2026-11-22`), each
//! error naming the key.

use chrono::NaiveDate;

use crate::error::{Error, Result};

/// The smallest and largest memory limit that can mean anything.
const MIN_SIZE: f64 = (1u64 << 20) as f64;
const MAX_SIZE: f64 = (16u64 << 40) as f64;

/// Parses a human size like `4g`, `512m`, `100000` into bytes: from 1 MiB
/// to 16 TiB.
pub fn parse_size(s: &str) -> Result<usize> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1usize << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| Error::Config(format!("engine.memory_limit = {s:?}: expected a size like 4g or 512m, or \"none\" for no limit")))?;
    let bytes = v * mult as f64;
    if !(MIN_SIZE..=MAX_SIZE).contains(&bytes) {
        return Err(Error::Config(format!("engine.memory_limit = {s:?}: expected a size from 1m to 16t, or \"none\" for no limit")));
    }
    Ok(bytes as usize)
}

/// The memory limit of a local run that sets none (README, `[engine]`): an
/// eighth of the machine's memory (or of the cgroup's limit when lower),
/// at least 256 MiB and at most 1 GiB. Measured on a 10 M-span day under
/// 1 GiB: peak RSS 1.25 GiB (the pool bounds the operators; the day is cut
/// into buckets by [`crate::pipeline::trace_buckets`]).
pub fn default_memory_limit() -> usize {
    const MIB: usize = 1 << 20;
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        let line = t.lines().find(|l| l.starts_with("MemTotal:"))?;
        line.split_whitespace().nth(1)?.parse::<usize>().ok().map(|kb| kb * 1024)
    });
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|t| t.trim().parse::<usize>().ok());
    match meminfo.into_iter().chain(cgroup).min() {
        Some(total) => (total / 8).clamp(256 * MIB, 1024 * MIB),
        None => 1024 * MIB,
    }
}

/// A duration like `90s`, `10m`, `1h` or `30d` (a bare number is seconds).
pub(super) fn parse_duration(s: &str, key: &str) -> Result<std::time::Duration> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len()));
    let mult = match unit.trim() {
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => f64::NAN,
    };
    match num.parse::<f64>() {
        Ok(v) if v > 0.0 && (v * mult).is_finite() && v * mult < 1e9 => Ok(std::time::Duration::from_secs_f64(v * mult)),
        _ => Err(Error::Config(format!("{key} = {s:?}: expected a duration like 90s, 10m, 1h or 30d"))),
    }
}

pub(super) fn parse_date(s: &str, key: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::Config(format!("{key} = {s:?}: expected a date like 2026-11-22")))
}

