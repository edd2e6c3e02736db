//! Span ids as integers that compare as the ids' bytes do, so the walk and
//! the per-trace pass sort and search integers instead of byte strings.

use datafusion::arrow::array::BinaryArray;

use crate::hash::FastMap;

/// The longest id packed into an integer key (one byte holds the length).
const PACKED_ID_BYTES: usize = 15;

/// Span ids as integers that compare as the ids' bytes do, so the walk
/// sorts and searches integers: an id of up to 15 bytes is packed
/// big-endian with its length in the low byte (a prefix sorts first); if
/// the unit has a longer id (long textual ids, rare), every id is its rank
/// among all the unit's ids instead.
pub struct IdKeys<'a> {
    ranks: Option<FastMap<&'a [u8], u128>>,
}

impl<'a> IdKeys<'a> {
    /// Keys for units whose ids all fit [`PACKED_ID_BYTES`].
    #[cfg(test)]
    pub fn packed() -> Self {
        IdKeys { ranks: None }
    }

    pub fn new(arrays: &[&'a BinaryArray]) -> Self {
        let long = arrays.iter().any(|a| a.value_offsets().windows(2).any(|w| w[1] - w[0] > PACKED_ID_BYTES as i32));
        if !long {
            return IdKeys { ranks: None };
        }
        // (a NULL id reads as empty: it gets a rank too, the first; no id
        // is empty, a NULL parent is never looked up)
        let mut all: Vec<&[u8]> = arrays.iter().flat_map(|a| a.iter().flatten()).chain([&[][..]]).collect();
        all.sort_unstable();
        all.dedup();
        IdKeys { ranks: Some(all.into_iter().enumerate().map(|(i, id)| (id, i as u128)).collect()) }
    }

    pub fn key(&self, id: &[u8]) -> u128 {
        match &self.ranks {
            Some(r) => r[id],
            None => {
                let mut b = [0u8; 16];
                b[..id.len()].copy_from_slice(id);
                b[15] = id.len() as u8;
                u128::from_be_bytes(b)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_keys_compare_as_the_ids_bytes_do() {
        let ids: [&[u8]; 8] = [b"", b"\x00", b"a", b"a\x00", b"ab", b"b", &[0xff; 15], b"\x01\x02\x03\x04\x05\x06\x07\x08"];
        let long: &[u8] = b"a-very-long-textual-span-id";
        let bins: Vec<BinaryArray> = vec![ids.iter().copied().map(Some).collect(), vec![Some(long)].into_iter().collect()];
        let packed = IdKeys::packed();
        let ranked = IdKeys::new(&bins.iter().collect::<Vec<_>>());
        assert!(ranked.ranks.is_some(), "an id over 15 bytes switches to ranks");
        assert!(IdKeys::new(&[&bins[0]]).ranks.is_none());
        let mut all = ids.to_vec();
        all.push(long);
        for a in &all {
            for b in &all {
                assert_eq!(ranked.key(a).cmp(&ranked.key(b)), a.cmp(b), "{a:?} {b:?}");
                if a.len() <= 15 && b.len() <= 15 {
                    assert_eq!(packed.key(a).cmp(&packed.key(b)), a.cmp(b), "{a:?} {b:?}");
                }
            }
        }
    }

}
