//! Where a scatter chart prints each point's name so that no two names,
//! and no name and another point, overlap (SPEC §3.3: a reader must be
//! able to read every team on the rotation chart). Pure geometry in
//! pixels, so the choice is testable without drawing.

/// Pixel height of a 12 px label, and width per character (plotters'
/// naive text metrics for sans-serif at 12 px are a little under this).
const LABEL_H: i32 = 13;
const CHAR_W: i32 = 7;
/// Radius of a point, with a pixel to spare.
const POINT_R: i32 = 6;

/// A box as (left, top, right, bottom).
type Rect = (i32, i32, i32, i32);

fn overlap(a: Rect, b: Rect) -> i32 {
    let w = (a.2.min(b.2) - a.0.max(b.0)).max(0);
    let h = (a.3.min(b.3) - a.1.max(b.1)).max(0);
    w * h
}

/// The width a label of `chars` characters takes.
pub fn label_width(chars: usize) -> i32 {
    CHAR_W * chars as i32
}

/// For each point (pixel centre) and its label width, the offset of the
/// label's top-left corner from the point: the first of a fixed list of
/// places around the point (right, left, above, below, then farther out)
/// whose box stays inside `area` and overlaps no label placed before and
/// no point; failing that, the place with the least overlap.
pub fn place(points: &[(i32, i32)], widths: &[i32], area: Rect) -> Vec<(i32, i32)> {
    let dots: Vec<Rect> = points.iter().map(|&(x, y)| (x - POINT_R, y - POINT_R, x + POINT_R, y + POINT_R)).collect();
    let mut placed: Vec<Rect> = Vec::with_capacity(points.len());
    let mut out = Vec::with_capacity(points.len());
    for (k, (&(x, y), &w)) in points.iter().zip(widths).enumerate() {
        let h = LABEL_H;
        let candidates = [
            (8, -h / 2),
            (-8 - w, -h / 2),
            (6, -h - 4),
            (6, 4),
            (-6 - w, -h - 4),
            (-6 - w, 4),
            (-w / 2, -h - 8),
            (-w / 2, 8),
            (8, -2 * h - 4),
            (8, h + 4),
            (-8 - w, -2 * h - 4),
            (-8 - w, h + 4),
        ];
        let cost = |&(dx, dy): &(i32, i32)| -> i32 {
            let r = (x + dx, y + dy, x + dx + w, y + dy + h);
            let outside = if r.0 < area.0 || r.1 < area.1 || r.2 > area.2 || r.3 > area.3 { 1_000_000 } else { 0 };
            let labels: i32 = placed.iter().map(|p| overlap(r, *p)).sum();
            let others: i32 = dots.iter().enumerate().filter(|(j, _)| *j != k).map(|(_, d)| overlap(r, *d)).sum();
            outside + labels + others
        };
        let best = candidates.iter().find(|c| cost(c) == 0).copied().unwrap_or_else(|| *candidates.iter().min_by_key(|c| cost(c)).unwrap());
        placed.push((x + best.0, y + best.1, x + best.0 + w, y + best.1 + h));
        out.push(best);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_points_at_one_place_do_not_overlap() {
        // Four teams at the same size and nearly the same load, as on the
        // 150-service organisation's rotation chart (x = 4 people).
        let points = [(300, 400), (300, 402), (300, 405), (300, 398), (420, 400)];
        let widths: Vec<i32> = ["platform", "finance", "risk", "data", "trust-safety"].iter().map(|n| label_width(n.len())).collect();
        let area = (0, 0, 800, 600);
        let offsets = place(&points, &widths, area);
        let boxes: Vec<Rect> = points
            .iter()
            .zip(&offsets)
            .zip(&widths)
            .map(|((&(x, y), &(dx, dy)), &w)| (x + dx, y + dy, x + dx + w, y + dy + LABEL_H))
            .collect();
        for i in 0..boxes.len() {
            for j in i + 1..boxes.len() {
                assert_eq!(overlap(boxes[i], boxes[j]), 0, "{:?} and {:?}", boxes[i], boxes[j]);
            }
            assert!(boxes[i].0 >= area.0 && boxes[i].2 <= area.2);
        }
    }

    #[test]
    fn a_label_at_the_right_edge_goes_left() {
        let offsets = place(&[(795, 300)], &[label_width(10)], (0, 0, 800, 600));
        assert!(offsets[0].0 < 0, "{offsets:?}");
    }
}
