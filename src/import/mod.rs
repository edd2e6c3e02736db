//! `ownermap import` (SPEC §1.6): OTLP, Jaeger and Zipkin JSON to canonical
//! Parquet. Every canonical column is filled; tags and attributes land in
//! `SpanAttributes` / `ResourceAttributes` as strings; events and links are
//! kept as JSON text. Spans without a trace id or span id are skipped and
//! counted; malformed JSON is an error naming the file, line and column.

pub mod jaeger;
pub mod otlp;
pub mod stream;
pub mod zipkin;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::canonical::{CanonSpan, SpanWriter};
use crate::error::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    OtlpJson,
    JaegerJson,
    ZipkinJson,
}

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ImportReport {
    pub files: usize,
    pub spans: u64,
    /// spans without a usable trace or span id (or, for Zipkin, any timestamp)
    pub skipped: u64,
}

/// Where imported spans go: a Parquet writer, or a Vec (tests, tools).
pub trait Put {
    fn put(&mut self, s: CanonSpan) -> Result<()>;
}

impl Put for SpanWriter {
    fn put(&mut self, s: CanonSpan) -> Result<()> {
        self.push(s)
    }
}

impl Put for Vec<CanonSpan> {
    fn put(&mut self, s: CanonSpan) -> Result<()> {
        self.push(s);
        Ok(())
    }
}

/// Collects spans from a source and counts the ones that cannot be used.
pub struct Sink<'a> {
    out: &'a mut dyn Put,
    pub skipped: u64,
}

impl<'a> Sink<'a> {
    pub fn new(out: &'a mut dyn Put) -> Self {
        Sink { out, skipped: 0 }
    }

    pub fn push(&mut self, s: CanonSpan) -> Result<()> {
        if s.trace_id.is_empty() || s.span_id.is_empty() {
            self.skipped += 1;
            return Ok(());
        }
        self.out.put(s)
    }
}

/// Reads one file of `format` into `sink`.
pub fn read_into(format: Format, f: &Path, sink: &mut Sink) -> Result<()> {
    match format {
        Format::OtlpJson => otlp::read_file(f, sink),
        Format::JaegerJson => jaeger::read_file(f, sink),
        Format::ZipkinJson => zipkin::read_file(f, sink),
    }
}

/// Imports `files` into one canonical Parquet file at `out`.
pub fn import(format: Format, files: &[PathBuf], out: &Path) -> Result<ImportReport> {
    let mut writer = SpanWriter::create(out)?;
    let mut skipped = 0;
    for f in files {
        let mut sink = Sink::new(&mut writer);
        read_into(format, f, &mut sink)?;
        skipped += sink.skipped;
    }
    let spans = writer.finish()?;
    Ok(ImportReport { files: files.len(), spans, skipped })
}

fn file_name(p: &Path) -> String {
    p.display().to_string()
}

/// Parses a whole JSON file; errors name the file, line and column.
pub fn parse_file(p: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
    parse_str(&text, &file_name(p), 0)
}

pub fn parse_str(text: &str, file: &str, line_offset: usize) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Input {
        path: file.to_string(),
        msg: format!("malformed JSON at line {}, column {}: {e}", e.line() + line_offset, e.column()),
    })
}

/// A JSON scalar as text (numbers without quotes, null as empty).
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A JSON number or numeric string as i64.
pub fn int(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.len() % 2 == 0 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

/// Decodes standard or URL-safe base64 (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// An id as lowercase hex: hex stays (lowercased); anything else is read
/// as base64 (the protobuf JSON mapping of bytes); all-zero ids are empty.
pub fn hex_id(s: &str, hex_len: usize) -> String {
    let t = s.trim();
    // Hex of the expected width (or half of it: 64-bit trace ids) is hex;
    // otherwise base64 that decodes to a plausible id width; else as written.
    let hex = if is_hex(t) && (t.len() == hex_len || t.len() == hex_len / 2) {
        t.to_ascii_lowercase()
    } else {
        match base64_decode(t) {
            Some(b) if b.len() == hex_len / 2 || b.len() == hex_len / 4 => b.iter().map(|x| format!("{x:02x}")).collect(),
            _ => t.to_ascii_lowercase(),
        }
    };
    if hex.bytes().all(|c| c == b'0') { String::new() } else { hex }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_hex_and_base64() {
        assert_eq!(hex_id("QpC1h3qZMN55u0KDZTmOzA==", 32), "4290b5877a9930de79bb428365398ecc");
        assert_eq!(hex_id("1gZXnld4dYc=", 16), "d606579e57787587");
        assert_eq!(hex_id("4290B5877A9930DE79BB428365398ECC", 32), "4290b5877a9930de79bb428365398ecc");
        assert_eq!(hex_id("0000000000000000", 16), "");
        assert_eq!(hex_id("", 16), "");
    }
}
