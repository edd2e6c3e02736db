//! "Where a request's time goes": one horizontal bar per root entry point,
//! split into each node's share of the critical path (SPEC §2.9), coloured
//! by the node's owning team (the same colour for a team on every page);
//! virtual nodes (databases, brokers, external APIs) hatched. Labels are
//! XML-escaped.

use std::fmt::Write as _;

use super::graph_svg::{team_color, xml};

/// One segment: node, its team (empty for none), share, virtual or not.
pub struct Segment {
    pub node: String,
    pub team: String,
    pub share: f64,
    pub virt: bool,
}

/// The bar's width: the content width of a page at 1280 px less the
/// chart's padding, so 100 % spans the box (it scales down on a narrower
/// window).
const BAR_WIDTH: f64 = 1100.0;

/// The bar with a legend under it.
pub fn bar(segments: &[Segment], teams: &[String]) -> String {
    let (w, bar_h, x0) = (BAR_WIDTH, 34.0, 10.0);
    let legend_rows = segments.len().div_ceil(3);
    let h = 50.0 + bar_h + 22.0 * legend_rows as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {tw} {h}" width="{tw}" height="{h}" style="width:100%;height:auto;max-width:{tw}px" font-family="sans-serif" font-size="13" role="img"><defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#e8ebf1"/><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7488" stroke-width="2"/></pattern></defs>"##,
        tw = w + 2.0 * x0
    );
    let _ = write!(s, r##"<text x="{x0}" y="16" fill="#3a4256">share of the request's time on the critical path (0 – 100 %)</text>"##);
    let mut x = x0;
    for seg in segments {
        let sw = (seg.share.clamp(0.0, 1.0) * w).max(0.0);
        let fill = if seg.virt { "url(#hatch)".to_string() } else { team_color(&seg.team, teams).to_string() };
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="26" width="{sw:.1}" height="{bar_h}" fill="{fill}" stroke="#fff" stroke-width="1"><title>{} ({}): {:.1} %</title></rect>"##,
            xml(&seg.node),
            xml(if seg.team.is_empty() { "no team" } else { &seg.team }),
            seg.share * 100.0
        );
        if sw > 60.0 {
            let label: String = seg.node.chars().take((sw / 8.0) as usize).collect();
            let _ = write!(s, r#"<text x="{:.1}" y="48" fill="{}">{}</text>"#, x + 4.0, if seg.virt { "#1d2433" } else { "#fff" }, xml(&label));
        }
        x += sw;
    }
    for (k, seg) in segments.iter().enumerate() {
        let (col, row) = (k % 3, k / 3);
        let (lx, ly) = (x0 + col as f64 * (w / 3.0), 26.0 + bar_h + 20.0 + row as f64 * 22.0);
        let fill = if seg.virt { "url(#hatch)".to_string() } else { team_color(&seg.team, teams).to_string() };
        let _ = write!(s, r##"<rect x="{lx}" y="{:.1}" width="14" height="14" fill="{fill}" stroke="#6b7488" stroke-width="0.5"/>"##, ly - 11.0);
        let name: String = seg.node.chars().take(24).collect();
        let _ = write!(s, r#"<text x="{:.1}" y="{ly:.1}">{} {:.1} %{}</text>"#, lx + 20.0, xml(&name), seg.share * 100.0, if seg.virt { " (virtual)" } else { "" });
    }
    s.push_str("</svg>");
    s
}
