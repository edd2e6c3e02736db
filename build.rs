//! Build identifier for the per-day cache (src/daycache.rs `build_id`): a
//! hash of everything that decides what a cached partial holds — the
//! crate's Rust sources, its queries and its locked dependencies. Any
//! edit gives a new identifier, so an upgraded binary never merges days
//! computed by an older one.

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn main() {
    let mut all = Vec::new();
    for d in ["src", "queries"] {
        println!("cargo:rerun-if-changed={d}");
        files(Path::new(d), &mut all);
    }
    println!("cargo:rerun-if-changed=Cargo.lock");
    all.push(PathBuf::from("Cargo.lock"));
    all.sort();
    // FNV-1a 64 (the same as src/hash.rs) over each path and its bytes.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for b in bytes {
            h = (h ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
        h = (h ^ 0xff).wrapping_mul(0x100_0000_01b3);
    };
    for p in &all {
        feed(p.to_string_lossy().replace('\\', "/").as_bytes());
        feed(&std::fs::read(p).unwrap_or_default());
    }
    println!("cargo:rustc-env=OWNERMAP_BUILD_ID={}-{h:016x}", std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
}
