//! FNV-1a, 64 bit: the one small stable hash of the code base, for cache
//! keys, file fingerprints, trace buckets and colours (not for security).
//! It must never change: cached days and bucket assignments depend on it.

/// The FNV-1a 64-bit hash of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(OFFSET, |a, b| (a ^ *b as u64).wrapping_mul(PRIME))
}

const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x100_0000_01b3;

/// FNV-1a over several fields, with a separator after each so that
/// ("ab","c") and ("a","bc") differ.
pub struct Fnv(u64);

impl Fnv {
    pub fn new() -> Self {
        Fnv(OFFSET)
    }
    pub fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(PRIME);
        }
        self.0 = (self.0 ^ 0xff).wrapping_mul(PRIME);
    }
    pub fn finish(&self) -> u64 {
        self.0
    }
}

impl Default for Fnv {
    fn default() -> Self {
        Self::new()
    }
}

/// A fast in-memory hasher for hash maps keyed by ids and names within one
/// process (8 bytes at a time, multiply-rotate; not stable across builds and
/// never stored): trace ids are random, so it spreads them well.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.mix(u64::from_le_bytes(c.try_into().unwrap()));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }
    fn finish(&self) -> u64 {
        // a final avalanche so the low bits (the bucket) depend on all input
        let mut x = self.0;
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^ (x >> 33)
    }
}

impl FastHasher {
    fn mix(&mut self, v: u64) {
        self.0 = (self.0 ^ v).rotate_left(26).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values_never_change() {
        // The reference FNV-1a 64 values.
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn fields_are_separated() {
        let h = |parts: &[&str]| {
            let mut f = Fnv::new();
            parts.iter().for_each(|p| f.write(p.as_bytes()));
            f.finish()
        };
        assert_ne!(h(&["ab", "c"]), h(&["a", "bc"]));
        assert_eq!(h(&["x"]), h(&["x"]));
    }
}
