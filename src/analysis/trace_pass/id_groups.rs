//! The rows of each distinct span id of one trace. A trace's span indices
//! sorted by id (`by_id`) put the rows of an id side by side; this is the
//! one index of those runs that every per-trace step asks "which rows have
//! this id?" of — the cross-service marks, the call pairing, the anchor
//! walk and the loop finder — so each asks with one binary search over the
//! distinct ids, and an id shared by 10 000 rows is one entry, not 10 000.

use std::ops::Range;

use crate::analysis::critical::Span;

#[derive(Default)]
pub(super) struct IdGroups {
    /// the distinct ids, ascending
    ids: Vec<u128>,
    /// where each id's rows start in `by_id`, and `by_id.len()` last
    starts: Vec<usize>,
    /// the service node of each id's first row in `by_id`
    nodes: Vec<u32>,
    /// each id's rows are in more than one node
    mixed: Vec<bool>,
}

impl IdGroups {
    /// Indexes one trace: `by_id` holds its span indices sorted by id.
    pub(super) fn build(&mut self, spans: &[Span], by_id: &[usize]) {
        self.ids.clear();
        self.starts.clear();
        self.nodes.clear();
        self.mixed.clear();
        for (k, &i) in by_id.iter().enumerate() {
            let s = &spans[i];
            if self.ids.last() == Some(&s.span_id) {
                let last = self.mixed.len() - 1;
                self.mixed[last] |= self.nodes[last] != s.node;
            } else {
                self.ids.push(s.span_id);
                self.starts.push(k);
                self.nodes.push(s.node);
                self.mixed.push(false);
            }
        }
        self.starts.push(by_id.len());
    }

    /// How many distinct ids the trace has.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The group of `id`, if a span of the trace has it.
    pub(super) fn find(&self, id: u128) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    /// Where group `g`'s rows lie in `by_id`.
    pub(super) fn rows(&self, g: usize) -> Range<usize> {
        self.starts[g]..self.starts[g + 1]
    }

    /// Where the rows of `id` lie in `by_id` (empty when none has it).
    pub(super) fn rows_of(&self, id: u128) -> Range<usize> {
        self.find(id).map_or(0..0, |g| self.rows(g))
    }

    /// Whether every row of group `g` runs in `node`.
    pub(super) fn all_in(&self, g: usize, node: u32) -> bool {
        !self.mixed[g] && self.nodes[g] == node
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_distinct_id_is_one_group_with_its_rows_and_nodes() {
        let spans: Vec<Span> = [(5, 1), (3, 1), (5, 2), (9, 4), (3, 1)]
            .iter()
            .map(|&(id, node)| Span { span_id: id, node, ..Default::default() })
            .collect();
        let mut by_id: Vec<usize> = (0..spans.len()).collect();
        by_id.sort_by_key(|&k| spans[k].span_id);
        let mut g = IdGroups::default();
        g.build(&spans, &by_id);
        assert_eq!(g.len(), 3);
        assert_eq!((g.rows_of(3), g.rows_of(5), g.rows_of(9), g.rows_of(7)), (0..2, 2..4, 4..5, 0..0));
        let (three, five) = (g.find(3).unwrap(), g.find(5).unwrap());
        assert!(g.all_in(three, 1) && !g.all_in(three, 2));
        assert!(!g.all_in(five, 1) && !g.all_in(five, 2), "id 5 runs in two nodes");
    }
}
