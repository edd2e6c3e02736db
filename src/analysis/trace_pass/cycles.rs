//! Parent references that loop (SPEC §4): a buggy SDK, or a span exported
//! twice with different parents, can make a trace's parent chain come back
//! to itself. No span of such a loop is under a root, so no walk of the
//! pass enters it (the loop is cut where it loops); this module only finds
//! the traces that have one, for `summary.json` `traces_with_cycles`.
//!
//! Bound: one pass over the trace's distinct span ids, each followed to its
//! parent at most once (three-colour marking), plus a binary search per id
//! to find its parent ([`IdGroups::find`]): O(n log n) for a trace of n
//! spans, whatever their shape.

use super::id_groups::IdGroups;
use crate::analysis::critical::Span;

/// Buffers reused from trace to trace.
#[derive(Default)]
pub(super) struct Scratch {
    /// each distinct id's parent id, as its group (or NONE)
    parent: Vec<u32>,
    /// 0 not seen, 1 on the chain being followed, 2 done
    state: Vec<u8>,
    chain: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// Whether following parent ids from some span of the trace comes back to
/// an id already on the way. `by_id` holds the span indices sorted by id,
/// `groups` their runs; an id that repeats takes the parent of its first
/// row (SPEC §4: repeated ids keep their first row).
pub(super) fn has_cycle(spans: &[Span], by_id: &[usize], groups: &IdGroups, sc: &mut Scratch) -> bool {
    let n = groups.len();
    sc.parent.clear();
    for g in 0..n {
        let first = by_id[groups.rows(g)].iter().copied().min().unwrap_or(0);
        let parent = spans[first].parent_id.and_then(|pid| groups.find(pid));
        sc.parent.push(parent.map_or(NONE, |p| p as u32));
    }
    sc.state.clear();
    sc.state.resize(n, 0);
    for g0 in 0..n as u32 {
        let mut g = g0;
        sc.chain.clear();
        while g != NONE && sc.state[g as usize] == 0 {
            sc.state[g as usize] = 1;
            sc.chain.push(g);
            g = sc.parent[g as usize];
        }
        let looped = g != NONE && sc.state[g as usize] == 1;
        for &c in &sc.chain {
            sc.state[c as usize] = 2;
        }
        if looped {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trace(links: &[(u128, Option<u128>)]) -> bool {
        let spans: Vec<Span> = links.iter().map(|&(id, parent)| Span { span_id: id, parent_id: parent, ..Default::default() }).collect();
        let mut by_id: Vec<usize> = (0..spans.len()).collect();
        by_id.sort_unstable_by_key(|&k| spans[k].span_id);
        let mut groups = IdGroups::default();
        groups.build(&spans, &by_id);
        has_cycle(&spans, &by_id, &groups, &mut Scratch::default())
    }

    #[test]
    fn loops_of_every_length_are_found_and_trees_are_not() {
        assert!(!trace(&[(1, None), (2, Some(1)), (3, Some(1)), (4, Some(3))]), "a tree");
        assert!(!trace(&[(2, Some(9)), (3, Some(2))]), "a missing parent is no loop");
        assert!(trace(&[(1, Some(1))]), "its own parent");
        assert!(trace(&[(1, None), (2, Some(3)), (3, Some(2))]), "two ids, beside a root");
        let long: Vec<(u128, Option<u128>)> = (0..1000u128).map(|i| (i, Some((i + 1) % 1000))).collect();
        assert!(trace(&long), "a loop of 1 000");
        // 10 000 rows of one id: the first row's parent decides.
        let same: Vec<(u128, Option<u128>)> = (0..10_000).map(|k| (7, if k == 0 { None } else { Some(7) })).collect();
        assert!(!trace(&same), "the first row is a root");
        let same: Vec<(u128, Option<u128>)> = (0..10_000).map(|_| (7, Some(7))).collect();
        assert!(trace(&same), "every row its own parent");
        // A chain hanging off a loop is found from any start.
        assert!(trace(&[(5, Some(4)), (4, Some(3)), (3, Some(2)), (2, Some(3))]));
    }
}
